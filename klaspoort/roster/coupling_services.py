"""A school's automatic coupling with its LAS (R2.3, *Automatische koppeling*): a coordinator
switches it on, changes its authorisation key, switches it off; and the rule for the operators'
LAS catalogue. The nightly fetch itself is `roster.las_fetch`.

The coupling is consent on the school's side: it runs only while it is on. The LAS's side is
the authorisation key the LAS gave the school (sealed at rest, purpose "las-key", never logged,
never in the audit trail) or, for a LAS that sends the roster itself, the LAS's own API token.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from klaspoort.audit import services as audit
from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor
from klaspoort.checks import is_production
from klaspoort.roster.models import LasSystem, RosterCoupling
from klaspoort.roster.secrets import seal_text
from klaspoort.schools.models import School
from klaspoort.tenancy import for_school

KEY_PURPOSE = "las-key"
# UWLR's autorisatiesleutel is a tpString64 (1 to 64 characters). At least 8: the page shows
# the last four, which must never be the whole key, nor most of it.
KEY_MIN_LENGTH = 8
KEY_MAX_LENGTH = 64
# Every field of UWLR's autorisatie header is a tpString64.
UWLR_STRING_LENGTH = 64
MAX_TIMEOUT_SECONDS = 300


class CouplingRefused(Exception):
    """Input for the coupling that is refused; nothing was changed. `message` is shown to the
    coordinator, next to `field` ("las", "key") or above the form ("")."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class CouplingNotOn(Exception):
    """The school has no coupling that is switched on (a colleague switched it off, or it never
    was on)."""


def key_needed(las: LasSystem) -> bool:
    """RULE: a school enters an authorisation key only for a LAS that Klaspoort fetches from
    and that asks for one; a LAS that sends the roster itself uses its own API token."""
    return las.method == LasSystem.Method.PULL and las.needs_key


def clean_key(las: LasSystem, key: str) -> str:
    """RULE: an authorisation key is what the LAS handed out, copied: spaces around it are
    dropped; 8 to 64 characters (UWLR allows at most 64); letters, digits and punctuation only,
    no spaces or control characters inside. Raises CouplingRefused (field "key"), never quoting
    the key."""
    key = (key or "").strip()
    if not key:
        raise CouplingRefused(_("Enter the authorisation key that %(las)s gave you.")
                              % {"las": las.name}, field="key")
    if len(key) > KEY_MAX_LENGTH:
        raise CouplingRefused(_("The authorisation key is too long (at most %(max)s "
                                "characters). Copy only the key itself.")
                              % {"max": KEY_MAX_LENGTH}, field="key")
    if any(not 33 <= ord(char) <= 126 for char in key):
        raise CouplingRefused(_("The authorisation key may only contain letters, digits and "
                                "punctuation, without spaces. Copy it again from %(las)s.")
                              % {"las": las.name}, field="key")
    if len(key) < KEY_MIN_LENGTH:
        raise CouplingRefused(_("The authorisation key is too short (at least %(min)s "
                                "characters). Copy the whole key from %(las)s.")
                              % {"min": KEY_MIN_LENGTH, "las": las.name}, field="key")
    return key


def _key_for(las: LasSystem, key: str | None) -> str:
    """The checked key for this LAS, or "" for a LAS that takes none (a key given anyway is
    refused: the coordinator may have chosen the wrong LAS)."""
    if key_needed(las):
        return clean_key(las, key or "")
    if (key or "").strip():
        raise CouplingRefused(_("%(las)s does not use an authorisation key in Klaspoort: leave "
                                "the key empty.") % {"las": las.name}, field="key")
    return ""


def _locked_coupling(school: School) -> RosterCoupling | None:
    # The school row first, so two coordinators switching on at once queue instead of both
    # creating the school's one coupling.
    School.objects.select_for_update().filter(pk=school.pk).exists()
    return for_school(RosterCoupling, school).select_for_update().select_related("las").first()


class HoldsKey(Protocol):
    """A coupling that keeps a LAS's authorisation key: this one, and the results coupling."""

    sealed_key: str
    key_last4: str


def store_key(coupling: HoldsKey, key: str, *, purpose: str = KEY_PURPOSE) -> None:
    """Keep a checked key sealed (under `purpose`, so a key of one coupling never opens as
    another's) with its last four characters apart to show it masked; "" wipes it."""
    coupling.sealed_key = seal_text(purpose, key) if key else ""
    coupling.key_last4 = key[-4:] if key else ""


def switch_on(*, school: School, las: LasSystem, key: str | None, actor: Actor,
              request: HttpRequest | None = None) -> RosterCoupling:
    """*Koppeling aanzetten*: the school's consent to receive its roster from `las`.

    Rules: only an active LAS of the catalogue; an authorisation key is required when the LAS
    needs one (clean_key) and refused when it does not; the key is stored sealed, with its last
    four characters apart to show it masked. A school has one coupling: switching on again
    (with the same or another LAS) replaces it, and its status starts afresh (no fetch, no
    error, no failures counted). Audited without the key.
    """
    if not las.active or not LasSystem.objects.filter(pk=las.pk, active=True).exists():
        raise CouplingRefused(_("Choose a pupil administration (LAS) from the list."),
                              field="las")
    plain = _key_for(las, key)
    with transaction.atomic():
        coupling = _locked_coupling(school)
        before: dict[str, Any] | None = None
        if coupling is None:
            coupling = RosterCoupling(school=school, las=las)
        else:
            before = {"las": coupling.las.name, "enabled": coupling.active}
        coupling.las = las
        store_key(coupling, plain)
        coupling.active = True
        coupling.switched_at = timezone.now()
        coupling.switched_by = audit.user_of(actor)
        coupling.last_fetch_at = None
        coupling.last_result = ""
        coupling.last_error = {}
        coupling.last_import = None
        coupling.failures_in_a_row = 0
        coupling.save()
        audit.record(actor=actor, school=school, action=AuditAction.ROSTER_COUPLING_ON,
                     target=las.name, before=before, after={"las": las.name, "enabled": True},
                     request=request)
    return coupling


def change_key(*, school: School, key: str | None, actor: Actor,
               request: HttpRequest | None = None) -> RosterCoupling:
    """*Sleutel wijzigen*: a new authorisation key for the coupling that is on.

    Rules: only for a coupling that is on and whose LAS needs a key; the key passes clean_key
    and is stored sealed. The last error and the failures counted so far belonged to the old
    key, so they are cleared: the next night tries the new one afresh. Audited without the
    key (neither old nor new)."""
    with transaction.atomic():
        coupling = _locked_coupling(school)
        if coupling is None or not coupling.active:
            raise CouplingNotOn
        las = coupling.las
        if not key_needed(las):
            raise CouplingRefused(_("%(las)s does not use an authorisation key in Klaspoort.")
                                  % {"las": las.name}, field="key")
        plain = clean_key(las, key or "")
        store_key(coupling, plain)
        coupling.last_result = ""
        coupling.last_error = {}
        coupling.failures_in_a_row = 0
        coupling.save(update_fields=["sealed_key", "key_last4", "last_result", "last_error",
                                     "failures_in_a_row"])
        audit.record(actor=actor, school=school, action=AuditAction.ROSTER_COUPLING_KEY,
                     target=las.name, request=request)
    return coupling


def switch_off(*, school: School, actor: Actor,
               request: HttpRequest | None = None) -> RosterCoupling:
    """*Koppeling uitzetten*: the school withdraws its consent.

    Rules: only a coupling that is on; from now on nothing is fetched or accepted from the LAS.
    Consent withdrawn means Klaspoort keeps no key: the sealed key and its last four characters
    are wiped (switching on again asks for the key again). The LAS and the last fetch stay, so
    the page can say what the coupling was. Audited."""
    with transaction.atomic():
        coupling = _locked_coupling(school)
        if coupling is None or not coupling.active:
            raise CouplingNotOn
        coupling.active = False
        store_key(coupling, "")
        coupling.switched_at = timezone.now()
        coupling.switched_by = audit.user_of(actor)
        coupling.save(update_fields=["active", "sealed_key", "key_last4", "switched_at",
                                     "switched_by"])
        audit.record(actor=actor, school=school, action=AuditAction.ROSTER_COUPLING_OFF,
                     target=coupling.las.name, before={"las": coupling.las.name, "enabled": True},
                     after={"las": coupling.las.name, "enabled": False}, request=request)
    return coupling


# ---------------------------------------------------------------------------------------------
# The operators' catalogue
# ---------------------------------------------------------------------------------------------
def check_las_system(*, method: str, endpoint: str, needs_key: bool, client_code: str = "",
                     client_name: str = "", timeout_seconds: int | None = None,
                     results_endpoint: str = "") -> None:
    """RULE for the LAS catalogue (operators only; no school ever sets an address, so no school
    can make Klaspoort call a URL of its choosing): a LAS that Klaspoort fetches from (pull)
    has its UWLR endpoint and Klaspoort's customer code and name there (the autorisatie
    header's klantcode and klantnaam, 1 to 64 characters each); a LAS that sends the roster
    itself (push) has no endpoint and takes no school key. An endpoint is a plain http(s)
    address without a user name or password (the UWLR header carries those) and without a #
    part; https only in production. The timeout is 1 to 300 seconds. A LAS that takes results
    (issue 15) has its UWLR Leerresultaten endpoint by the same address rule, and Klaspoort's
    customer code and name for the autorisatie header whichever way its roster comes. Raises
    ValidationError per field."""
    errors: dict[str, str] = {}
    endpoint = (endpoint or "").strip()
    results_endpoint = (results_endpoint or "").strip()
    if results_endpoint:
        problem = _endpoint_problem(results_endpoint)
        if problem:
            errors["results_endpoint"] = problem
    if method == LasSystem.Method.PULL:
        if not endpoint:
            errors["endpoint"] = _("A LAS that Klaspoort fetches from needs its UWLR endpoint.")
        else:
            problem = _endpoint_problem(endpoint)
            if problem:
                errors["endpoint"] = problem
    elif method == LasSystem.Method.PUSH:
        if endpoint:
            errors["endpoint"] = _("A LAS that sends the roster itself has no endpoint: leave "
                                   "it empty.")
        if needs_key:
            errors["needs_key"] = _("A LAS that sends the roster itself uses its own API "
                                    "token; schools enter no authorisation key for it.")
    if method == LasSystem.Method.PULL or results_endpoint:
        for field, value in (("client_code", client_code), ("client_name", client_name)):
            if not (value or "").strip():
                errors[field] = _("Klaspoort's customer code and name at this LAS are needed "
                                  "to call it (UWLR klantcode and klantnaam).")
            elif len(value) > UWLR_STRING_LENGTH:
                errors[field] = _("UWLR allows at most %(max)s characters here.") % {
                    "max": UWLR_STRING_LENGTH}
    if timeout_seconds is not None and not 1 <= timeout_seconds <= MAX_TIMEOUT_SECONDS:
        errors["timeout_seconds"] = _("Choose a timeout of 1 to %(max)s seconds.") % {
            "max": MAX_TIMEOUT_SECONDS}
    if errors:
        raise ValidationError(errors)


def _endpoint_problem(endpoint: str) -> str:
    if any(ord(char) < 33 or ord(char) == 127 for char in endpoint):
        return _("The address may not contain spaces or control characters.")
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 — a port that is not a number raises here
    except ValueError:
        return _("This is not a valid web address.")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return _("Enter a full address that begins with https://.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return _("The endpoint may not contain a user name or password: the UWLR header "
                 "carries the customer code and the school's key.")
    if parts.fragment:
        return _("The address may not contain a # part.")
    if scheme != "https" and is_production():
        return _("In production the endpoint must begin with https://: the school's key "
                 "travels with every request.")
    return ""
