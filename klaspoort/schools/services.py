"""Changes to a school's settings: publishers, network providers and IP addresses."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, models, transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from klaspoort.accounts.models import User
from klaspoort.accounts.services import activation_url, is_pending, send_activation
from klaspoort.accounts.signals import account_activated
from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record, user_of
from klaspoort.mail import queue_mail, send_mail_pair
from klaspoort.network import (
    MAX_LABEL_LENGTH,
    NetworkInputError,
    is_wide,
    parse_school_network,
)
from klaspoort.schools import models as school_models
from klaspoort.schools.models import (
    CatalogueEntry,
    Consent,
    Publisher,
    PublisherConsent,
    School,
    SchoolMembership,
    SchoolNetwork,
)
from klaspoort.schools.selectors import (
    INVITATION_SALT,
    invitation_from_token,
    invitation_withdrawn,
)
from klaspoort.tenancy import for_school


class ConsentError(ValueError):
    """The request names something the school cannot choose; nothing has been changed."""


@dataclass
class ConsentChange:
    """What one save changed, for the confirmation message and the receipt."""

    given: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    at: datetime | None = None

    @property
    def changed(self) -> bool:
        return bool(self.given or self.withdrawn)


@dataclass(frozen=True)
class _Kind:
    catalogue: type[CatalogueEntry]
    consent: type[Consent]
    field: str  # the consent's foreign key to the catalogue
    receipt_kind: str  # how the receipt's templates tell the kinds apart
    given: AuditAction  # audited as
    withdrawn: AuditAction
    subject: str | Promise  # the receipt's subject, translated when sending


PUBLISHERS = _Kind(Publisher, PublisherConsent, "publisher", "schools.publisher",
                   AuditAction.SCHOOLS_PUBLISHER_GIVE,
                   AuditAction.SCHOOLS_PUBLISHER_WITHDRAW,
                   gettext_lazy("Receipt: consent for publishers changed"))
NETWORK_PROVIDERS = _Kind(school_models.NetworkProvider, school_models.NetworkProviderConsent,
                          "provider",
                          "schools.network_provider",
                          AuditAction.SCHOOLS_NETWORK_PROVIDER_GIVE,
                          AuditAction.SCHOOLS_NETWORK_PROVIDER_WITHDRAW,
                          gettext_lazy("Receipt: network providers changed"))


def _ids(wanted_ids: Iterable[Any]) -> set[int]:
    try:
        return {int(value) for value in wanted_ids}
    except (TypeError, ValueError):
        raise ConsentError(_("The choice contains an unknown value. Nothing has been changed.")
                           ) from None


def _set_consents(kind: _Kind, school: School, wanted_ids: Iterable[Any], actor: Actor,
                  request: HttpRequest | None) -> ConsentChange:
    wanted = _ids(wanted_ids)
    now = timezone.now()
    change = ConsentChange(at=now)
    with transaction.atomic():
        # One save at a time per school, so two coordinators cannot both give the same consent.
        School.objects.select_for_update().filter(pk=school.pk).first()
        manager: models.Manager[Any] = kind.catalogue._default_manager
        entries = {entry.pk: entry for entry in manager.filter(pk__in=wanted)}
        open_consents = {
            getattr(consent, f"{kind.field}_id"): consent
            for consent in for_school(kind.consent._default_manager.all(), school).filter(
                withdrawn_at__isnull=True).select_related(kind.field)
        }
        new = wanted - set(open_consents)
        if set(entries) != wanted or any(not entries[pk].active for pk in new):
            raise ConsentError(_("The choice contains an unknown or unavailable entry. "
                                 "Nothing has been changed."))
        for pk in sorted(new, key=lambda pk: entries[pk].name):
            kind.consent._default_manager.create(
                school=school, given_by=user_of(actor), given_at=now, **{kind.field: entries[pk]})
            record(actor=actor, school=school, action=kind.given,
                   target=entries[pk].name, before={"consent": False}, after={"consent": True},
                   request=request)
            change.given.append(entries[pk].name)
        gone = [consent for pk, consent in open_consents.items() if pk not in wanted]
        for consent in sorted(gone, key=lambda c: getattr(c, kind.field).name):
            consent.withdrawn_by = user_of(actor)
            consent.withdrawn_at = now
            consent.save(update_fields=["withdrawn_by", "withdrawn_at"])
            name = getattr(consent, kind.field).name
            record(actor=actor, school=school, action=kind.withdrawn, target=name,
                   before={"consent": True}, after={"consent": False}, request=request)
            change.withdrawn.append(name)
    if change.changed:
        _send_receipt(kind, school, change, actor)
    return change


def _send_receipt(kind: _Kind, school: School, change: ConsentChange, actor: Actor) -> None:
    """E-mail every coordinator of the school what changed, by whom and when (in Dutch)."""
    addresses = sorted({
        email for email in SchoolMembership.objects.filter(
            school=school, role=SchoolMembership.Role.COORDINATOR, user__is_active=True,
        ).values_list("user__email", flat=True) if email
    })
    actor_name = getattr(actor, "display_name", "") or getattr(actor, "email", "") or str(actor)
    context = {"school": school, "change": change, "actor": actor_name,
               "kind": kind.receipt_kind, "at": timezone.localtime(change.at)}
    with translation.override("nl"):
        subject = str(kind.subject)
        text = render_to_string("schools/email/consent_receipt.txt", context)
        html = render_to_string("schools/email/consent_receipt.html", context)
    for address in addresses:
        # One message per coordinator: colleagues' addresses are not shared in a To line.
        # Sent after commit: a save that is rolled back sends no receipt.
        queue_mail(subject, text, html, [address])


def set_publisher_consents(school: School, wanted_ids: Iterable[Any], actor: Actor,
                           request: HttpRequest | None = None) -> ConsentChange:
    """Make the school's consents exactly `wanted_ids`: give the new ones, withdraw the rest.

    All or nothing: an unknown id, or an inactive publisher the school did not already consent
    to, raises ConsentError and changes nothing. Each change is audited, withdrawn consents stay
    in the history, and the school's coordinators get a receipt by e-mail.
    """
    return _set_consents(PUBLISHERS, school, wanted_ids, actor, request)


def set_network_provider_consents(school: School, wanted_ids: Iterable[Any], actor: Actor,
                                  request: HttpRequest | None = None) -> ConsentChange:
    """Make the school's network providers exactly `wanted_ids`; same rules as for publishers."""
    return _set_consents(NETWORK_PROVIDERS, school, wanted_ids, actor, request)

# --- School networks (*IP-adres toevoegen*) -------------------------------------------------------


def add_network(school: School, raw: str, label: str, actor: Actor, confirm_wide: bool = False,
                request: HttpRequest | None = None) -> SchoolNetwork:
    """Add a public address or range of the school. Refused (NetworkInputError, nothing written)
    when invalid or not public, when already listed, when the label is too long, or when the
    range is wider than /16 or /48 without `confirm_wide`."""
    network = parse_school_network(raw)
    label = (label or "").strip()
    if len(label) > MAX_LABEL_LENGTH:
        raise NetworkInputError(_("The description can be at most 100 characters."),
                                field="label")
    if is_wide(network) and not confirm_wide:
        raise NetworkInputError(
            _("This range contains %(count)s addresses, more than one school normally uses. "
              "Tick the box to confirm that you want to add it.")
            % {"count": f"{network.num_addresses:,}".replace(",", ".")},
            needs_confirmation=True)
    normalised = str(network)
    if for_school(SchoolNetwork, school).filter(network=normalised).exists():
        raise NetworkInputError(
            _("%(network)s is already in the list.") % {"network": normalised})
    try:
        with transaction.atomic():
            entry = SchoolNetwork.objects.create(
                school=school, network=normalised, label=label,
                created_by=user_of(actor))
            record(actor=actor, school=school, action=AuditAction.SCHOOLS_IP_ADD, target=normalised,
                         after={"network": normalised, "label": label}, request=request)
    except IntegrityError:
        # Two coordinators adding the same range at the same moment.
        raise NetworkInputError(
            _("%(network)s is already in the list.") % {"network": normalised}) from None
    return entry


@transaction.atomic
def remove_network(*, school: School, network: SchoolNetwork, actor: Actor,
                   request: HttpRequest | None = None) -> SchoolNetwork:
    """Remove one of this school's networks (another school's, or one removed a moment ago:
    DoesNotExist); audited."""
    entry = for_school(SchoolNetwork, school).select_for_update().get(pk=network.pk)
    before = {"network": entry.network, "label": entry.label}
    SchoolNetwork.objects.filter(pk=entry.pk).delete()
    record(actor=actor, school=school, action=AuditAction.SCHOOLS_IP_REMOVE, target=entry.network,
                 before=before, request=request)
    return entry


def set_publisher_consent(school: School, publisher: Publisher, on: bool, *, actor: Actor,
                          request: HttpRequest | None = None) -> ConsentChange:
    """Give or withdraw one publisher's consent, leaving the others as they are (the operator's
    `klaspoort consent` command); same rules, audit and receipt as the *Uitgeverijen* page."""
    current = set(for_school(PublisherConsent, school).filter(
        withdrawn_at__isnull=True).values_list("publisher_id", flat=True))
    wanted = current | {publisher.pk} if on else current - {publisher.pk}
    return set_publisher_consents(school, wanted, actor, request)


# ---------------------------------------------------------------------------------------------
# ICT coordinators: inviting, accepting, removing (the membership is the school's)
# ---------------------------------------------------------------------------------------------
def invitation_token(user: User, school: School) -> str:
    """A signed, dated invitation of this account to coordinate this school (no database row:
    the signature is the invitation)."""
    # "t": when it was made, so a removal after it wins (invitation_withdrawn).
    return signing.dumps({"u": user.pk, "s": school.pk, "t": int(time.time())},
                         salt=INVITATION_SALT, compress=True)


@transaction.atomic
def invite_coordinator(school: School, email: str, *, actor: Actor = None,
                       request: HttpRequest | None = None) -> None:
    """Invite the address to become a coordinator of the school (issue 10, finding 6).

    RULES: nothing about an existing account changes before its owner accepts — no membership,
    no new password, no new activation token (a pending activation elsewhere keeps working).
    A new address gets a pending account and an activation link; setting the password accepts
    the invitation. A pending account gets a fresh activation link that accepts on activation
    (its earlier links stay valid). An active account gets a link to accept while signed in as
    itself. An address that cannot be staff gets nothing. The inviter sees and the audit log
    records the same in every case, so an invitation tells nobody whether an account exists.
    """
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, kind=User.Kind.STAFF)
    record(actor=actor, school=school, action=AuditAction.ACCOUNTS_COORDINATOR_INVITE, target=email,
           after={"email": email}, request=request)
    if user.kind != User.Kind.STAFF or not user.is_active:
        return
    token = invitation_token(user, school)
    days = settings.ACTIVATION_TIMEOUT // 86400
    if is_pending(user):
        url = f"{activation_url(user, request)}?{urlencode({'uitnodiging': token})}"
        send_mail_pair("activation", email, {"user": user, "school": school, "url": url,
                                             "days": days, "coordinator": True})
        return
    path = reverse("invitation", kwargs={"token": token})
    url = request.build_absolute_uri(path) if request is not None else settings.SITE_URL + path
    send_mail_pair("coordinator_invitation", email, {"user": user, "school": school,
                                                     "url": url, "days": days})


@transaction.atomic
def accept_invitation(user: User, token: str, *, request: HttpRequest | None = None
                      ) -> School | None:
    """The owner accepts: the signed-in (or just activated) account named in a valid invitation
    becomes a coordinator of its school. Anybody else's token does nothing. Audited."""
    found = invitation_from_token(token)
    if found is None or found[0].pk != user.pk:
        return None
    school = found[1]
    if invitation_withdrawn(token, user, school):
        return None
    _membership, created = SchoolMembership.objects.get_or_create(
        user=user, school=school, role=SchoolMembership.Role.COORDINATOR)
    if created:
        record(actor=user, school=school, action=AuditAction.ACCOUNTS_COORDINATOR_ACCEPT,
               target=user.email or "", after={"email": user.email}, request=request)
    return school


class NotPending(Exception):
    """The account has set its password already: there is no invitation to send again."""


def resend_invitation(*, school: School, membership: SchoolMembership, actor: Actor,
                      request: HttpRequest | None = None) -> User:
    """Send a fresh activation link to a pending coordinator of this school; earlier links stop
    working (NotPending for an activated account). Audited."""
    if membership.school_id != school.pk or not is_pending(membership.user):
        raise NotPending
    send_activation(membership.user, school, request)
    record(actor=actor, school=school, action=AuditAction.ACCOUNTS_INVITATION_RESEND,
           target=membership.user.email or "", request=request)
    return membership.user


class LastCoordinator(Exception):
    """Removing this coordinator would leave the school without one who can sign in."""


class NotACoordinator(Exception):
    """The account is no (longer a) coordinator of this school, e.g. removed a moment ago."""


@transaction.atomic
def remove_coordinator(*, school: School, user: User, actor: Actor,
                       request: HttpRequest | None = None) -> User:
    """Take away a coordinator's right to manage this school (issue 11, item 9).

    RULES: never the last one: at least one other coordinator with an activated account (active,
    with a password) stays, so somebody can still sign in and manage the school. The school's
    coordinator rows are locked first, so two coordinators removing each other at the same
    moment cannot both succeed. Only the membership goes: the account keeps its other schools
    and, as a teacher, its own groups. Access ends at once (every Beheer page checks the
    membership). Audited.
    """
    memberships = list(for_school(SchoolMembership, school).select_for_update().filter(
        role=SchoolMembership.Role.COORDINATOR).select_related("user").order_by("pk"))
    membership = next((m for m in memberships if m.user_id == user.pk and m.user.is_active),
                      None)
    if membership is None:
        raise NotACoordinator
    if not any(m.pk != membership.pk and m.user.is_active and not is_pending(m.user)
               for m in memberships):
        raise LastCoordinator
    user = membership.user
    membership.delete()
    record(actor=actor, school=school, action=AuditAction.ACCOUNTS_COORDINATOR_REMOVE,
           target=user.email or "", before={"email": user.email}, request=request)
    return user


@receiver(account_activated)
def _accept_invitation_on_activation(sender: Any, user: User, invitation: str = "",
                                     request: HttpRequest | None = None, **_kwargs: Any) -> None:
    """An invitation that came with the activation link is accepted as the password is set."""
    if invitation:
        accept_invitation(user, invitation, request=request)


def set_second_factor_requirement(school: School, required: bool, *, request: HttpRequest
                                  ) -> None:
    """Require (or stop requiring) a second factor of all staff of the school; staff without
    one are walked through setting it up at their next step in *Beheer*. Audited."""
    before = school.require_second_factor
    if before == required:
        return
    school.require_second_factor = required
    school.save(update_fields=["require_second_factor"])
    record(actor=request.user, school=school, action=AuditAction.SCHOOLS_SECOND_FACTOR_REQUIRE,
           target=school.brin6, before={"require_second_factor": before},
           after={"require_second_factor": required}, request=request)


REMINDER_FIELDS = ("remind_year_start", "remind_cancellation", "remind_results_erasure")


def set_reminders(school: School, *, year_start: bool, cancellation: bool,
                  results_erasure: bool, request: HttpRequest | None = None,
                  actor: Any = None) -> list[str]:
    """RULE: each reminder by e-mail to the school's coordinators (before the school year,
    to cancel contracts, before the results erasure) is switched on or off for the whole
    school; a change is audited. Returns the names of the switches that changed."""
    wanted = dict(zip(REMINDER_FIELDS, (year_start, cancellation, results_erasure),
                      strict=True))
    changed = [name for name, value in wanted.items() if getattr(school, name) != value]
    if not changed:
        return changed
    before = {name: getattr(school, name) for name in changed}
    for name in changed:
        setattr(school, name, wanted[name])
    school.save(update_fields=changed)
    record(actor=actor if actor is not None else (request.user if request else None),
           school=school, action=AuditAction.SCHOOLS_REMINDERS_SET, target=school.brin6,
           before=before, after={name: wanted[name] for name in changed}, request=request)
    return changed
