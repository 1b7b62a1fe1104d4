"""Changes to a school's settings: publishers, network providers and IP addresses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from klaspoort.audit.services import record, user_of
from klaspoort.mail import queue_mail
from klaspoort.network import (
    MAX_LABEL_LENGTH,
    NetworkInputError,
    is_wide,
    parse_school_network,
)
from klaspoort.schools.models import (
    CatalogueEntry,
    Consent,
    NetworkProvider,
    NetworkProviderConsent,
    Publisher,
    PublisherConsent,
    School,
    SchoolMembership,
    SchoolNetwork,
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
    action: str  # audit action prefix
    subject: str | Promise  # the receipt's subject, translated when sending


PUBLISHERS = _Kind(Publisher, PublisherConsent, "publisher", "schools.publisher",
                   gettext_lazy("Receipt: consent for publishers changed"))
NETWORK_PROVIDERS = _Kind(NetworkProvider, NetworkProviderConsent, "provider",
                          "schools.network_provider",
                          gettext_lazy("Receipt: network providers changed"))


def _ids(wanted_ids: Iterable[Any]) -> set[int]:
    try:
        return {int(value) for value in wanted_ids}
    except (TypeError, ValueError):
        raise ConsentError(_("The choice contains an unknown value. Nothing has been changed.")
                           ) from None


def _set_consents(kind: _Kind, school: School, wanted_ids: Iterable[Any], actor: Any,
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
            record(actor=actor, school=school, action=f"{kind.action}.give",
                   target=entries[pk].name, before={"consent": False}, after={"consent": True},
                   request=request)
            change.given.append(entries[pk].name)
        gone = [consent for pk, consent in open_consents.items() if pk not in wanted]
        for consent in sorted(gone, key=lambda c: getattr(c, kind.field).name):
            consent.withdrawn_by = user_of(actor)
            consent.withdrawn_at = now
            consent.save(update_fields=["withdrawn_by", "withdrawn_at"])
            name = getattr(consent, kind.field).name
            record(actor=actor, school=school, action=f"{kind.action}.withdraw", target=name,
                   before={"consent": True}, after={"consent": False}, request=request)
            change.withdrawn.append(name)
    if change.changed:
        _send_receipt(kind, school, change, actor)
    return change


def _send_receipt(kind: _Kind, school: School, change: ConsentChange, actor: Any) -> None:
    """E-mail every coordinator of the school what changed, by whom and when (in Dutch)."""
    addresses = sorted({
        email for email in SchoolMembership.objects.filter(
            school=school, role=SchoolMembership.Role.COORDINATOR, user__is_active=True,
        ).values_list("user__email", flat=True) if email
    })
    actor_name = getattr(actor, "display_name", "") or getattr(actor, "email", "") or str(actor)
    context = {"school": school, "change": change, "actor": actor_name,
               "kind": kind.action, "at": timezone.localtime(change.at)}
    with translation.override("nl"):
        subject = str(kind.subject)
        text = render_to_string("schools/email/consent_receipt.txt", context)
        html = render_to_string("schools/email/consent_receipt.html", context)
    for address in addresses:
        # One message per coordinator: colleagues' addresses are not shared in a To line.
        # Sent after commit: a save that is rolled back sends no receipt.
        queue_mail(subject, text, html, [address])


def set_publisher_consents(school: School, wanted_ids: Iterable[Any], actor: Any,
                           request: HttpRequest | None = None) -> ConsentChange:
    """Make the school's consents exactly `wanted_ids`: give the new ones, withdraw the rest.

    All or nothing: an unknown id, or an inactive publisher the school did not already consent
    to, raises ConsentError and changes nothing. Each change is audited, withdrawn consents stay
    in the history, and the school's coordinators get a receipt by e-mail.
    """
    return _set_consents(PUBLISHERS, school, wanted_ids, actor, request)


def set_network_provider_consents(school: School, wanted_ids: Iterable[Any], actor: Any,
                                  request: HttpRequest | None = None) -> ConsentChange:
    """Make the school's network providers exactly `wanted_ids`; same rules as for publishers."""
    return _set_consents(NETWORK_PROVIDERS, school, wanted_ids, actor, request)

# --- School networks (*IP-adres toevoegen*) -------------------------------------------------------


def add_network(school: School, raw: str, label: str, actor: Any, confirm_wide: bool = False,
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
            record(actor=actor, school=school, action="schools.ip.add", target=normalised,
                         after={"network": normalised, "label": label}, request=request)
    except IntegrityError:
        # Two coordinators adding the same range at the same moment.
        raise NetworkInputError(
            _("%(network)s is already in the list.") % {"network": normalised}) from None
    return entry


@transaction.atomic
def remove_network(school: School, network_id: int, actor: Any,
                   request: HttpRequest | None = None) -> SchoolNetwork:
    """Remove one of this school's networks (another school's: DoesNotExist); audited."""
    entry = for_school(SchoolNetwork, school).select_for_update().get(pk=network_id)
    before = {"network": entry.network, "label": entry.label}
    SchoolNetwork.objects.filter(pk=entry.pk).delete()
    record(actor=actor, school=school, action="schools.ip.remove", target=entry.network,
                 before=before, request=request)
    return entry


def set_publisher_consent(school: School, publisher: Publisher, on: bool, *, actor: Any,
                          request: HttpRequest | None = None) -> ConsentChange:
    """Give or withdraw one publisher's consent, leaving the others as they are (the operator's
    `klaspoort consent` command); same rules, audit and receipt as the *Uitgeverijen* page."""
    current = set(for_school(PublisherConsent, school).filter(
        withdrawn_at__isnull=True).values_list("publisher_id", flat=True))
    wanted = current | {publisher.pk} if on else current - {publisher.pk}
    return set_publisher_consents(school, wanted, actor, request)
