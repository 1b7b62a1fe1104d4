"""Readable names for action codes on the *Logboek*; an unknown code is shown as it is."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise] = {
    "roster.upload": _("User data file uploaded"),
    "roster.import.confirm": _("Import that deactivates many confirmed (process anyway)"),
    "roster.import.cancel": _("Import cancelled"),
    "schools.ip.add": _("IP address added"),
    "schools.ip.remove": _("IP address removed"),
    "schools.second_factor.require": _("Two-step verification requirement changed"),
    "schools.publisher.give": _("Consent given to a publisher"),
    "schools.publisher.withdraw": _("Consent withdrawn from a publisher"),
    "schools.network_provider.give": _("Network provider ticked"),
    "schools.network_provider.withdraw": _("Network provider unticked"),
    "accounts.coordinator.invite": _("ICT coordinator invited"),
    "accounts.invitation.resend": _("Invitation sent again"),
    "accounts.teacher.email": _("Teacher's e-mail address added"),
    "accounts.coordinator.from_roster": _("ICT coordinator added from the user data"),
    "roster.secret.change": _("Pupil's sign-in secret changed"),
    "roster.secret.regenerate": _("New sign-in secrets for a group"),
    "roster.secret.method": _("Group's sign-in method switched"),
    "accounts.teacher.email_from_roster": _("Teacher's e-mail address taken from the user data"),
    "licences.group.link": _("Group linked to a licence"),
    "licences.group.unlink": _("Group removed from a licence"),
    "licences.child.link": _("Child linked to a licence"),
    "licences.child.unlink": _("Child licence freed by the publisher's helpdesk"),
    "licences.contract.cancel": _("Contract cancelled (opzeggen)"),
    "licences.auto_link": _("Groups linked automatically by year group"),
    "licences.contract.create": _("Contract added by the publisher"),
    "licences.contract.update": _("Contract changed by the publisher"),
    "licences.product.create": _("Product added"),
    "licences.product.update": _("Product changed"),
    "exchange.token.create": _("Publisher API token created"),
    "exchange.token.revoke": _("Publisher API token revoked"),
    "signin.pupil.unlock": _("Pupil unlocked after wrong sign-in attempts"),
    "signin.card.issue": _("Sign-in cards issued"),
    "signin.card.void": _("Sign-in card voided"),
    "signin.card.reissue": _("New sign-in card made"),
    "signin.home.set": _("Home sign-in switched"),
}


def action_label(action: str) -> str:
    """The label for an action code; every app's codes are listed in ACTION_LABELS."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action

# Names for the keys of before/after, so the *Logboek* reads as Dutch rather than as JSON.
FIELD_LABELS: dict[str, Promise] = {
    "network": _("address"),
    "label": _("description"),
    "method": _("sign-in method"),
    "pupils": _("pupils"),
    "status": _("status"),
    "file_sha256": _("checksum"),
    "consent": _("consent"),
    "email": _("e-mail address"),
}


def field_label(key: str) -> str:
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else key
