"""How the *Logboek* reads: action codes, the keys of before/after and their values in words.

Everything a school sees on the Logboek passes through this module, so a new key is added here
once and is Dutch everywhere (tests/audit/test_log_dutch.py renders every action). A new action
is a member of `AuditAction` (audit.models), which holds its label.
An unknown code is shown as it is rather than hidden.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from klaspoort.audit.models import AuditAction

# The Logboek's words for each action code, from the one list of actions (AuditAction).
ACTION_LABELS: dict[str, Promise] = {action.value: action.label for action in AuditAction}


def action_label(action: str) -> str:
    """The label for an action code; every app's codes are members of AuditAction."""
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
    "was_waiting": pgettext_lazy("logboek", "was waiting"),
    "cards": pgettext_lazy("logboek", "cards"),
    "enabled": pgettext_lazy("logboek", "switched on"),
    "require_second_factor": pgettext_lazy("logboek", "two-step verification required"),
    "remind_year_start": pgettext_lazy("logboek", "reminder before the school year"),
    "remind_cancellation": pgettext_lazy("logboek", "reminder to cancel licences"),
    "remind_results_erasure": pgettext_lazy("logboek", "reminder before the results erasure"),
    "group": pgettext_lazy("logboek", "group"),
    "automatic": pgettext_lazy("logboek", "linked automatically"),
    "child": pgettext_lazy("logboek", "child"),
    "publisher": pgettext_lazy("logboek", "publisher"),
    "start": pgettext_lazy("logboek", "start date"),
    "end": pgettext_lazy("logboek", "end date"),
    "added": pgettext_lazy("logboek", "added"),
    "removed": pgettext_lazy("logboek", "removed"),
    "groups": pgettext_lazy("logboek", "groups"),
    "teachers": pgettext_lazy("logboek", "teachers"),
    "code": pgettext_lazy("logboek", "code"),
    "name": pgettext_lazy("logboek", "name"),
    "title": pgettext_lazy("logboek", "title"),
    "number": pgettext_lazy("logboek", "contract number"),
    "product": pgettext_lazy("logboek", "product"),
    "product_type": pgettext_lazy("logboek", "kind of product"),
    "type": pgettext_lazy("logboek", "kind"),
    "seats": pgettext_lazy("logboek", "number of licences"),
    "school": pgettext_lazy("logboek", "school (BRIN)"),
    "via": pgettext_lazy("logboek", "delivered via"),
    "year_groups": pgettext_lazy("logboek", "year groups"),
    "launch_url": pgettext_lazy("logboek", "start address"),
    "url": _("address"),  # a publisher's webhook
    "allows_group_licences": pgettext_lazy("logboek", "licences per group"),
    "allows_child_licences": pgettext_lazy("logboek", "licences per child"),
    "replaces": pgettext_lazy("logboek", "replaces"),
    "icon": pgettext_lazy("logboek", "icon"),
    "size": pgettext_lazy("logboek", "size"),
    "redirect_uris": pgettext_lazy("logboek", "redirect addresses"),
    "post_logout_uris": pgettext_lazy("logboek", "addresses after signing out"),
    "initiate_login_uri": pgettext_lazy("logboek", "login address"),
    "default_target_uri": pgettext_lazy("logboek", "default target address"),
    "client_type": pgettext_lazy("logboek", "kind of client"),
    "name_detail": pgettext_lazy("logboek", "name in the claims"),
    "chain_partner": pgettext_lazy("logboek", "ECK iD chain partner"),
    "overlap_days": pgettext_lazy("logboek", "old secret still valid (days)"),
    "las": _("pupil administration (LAS)"),  # a school's automatic coupling
    # A school's results couplings (issue 15).
    "send_grade_boundaries": pgettext_lazy("logboek", "send school grade boundaries"),
    "waiting_deleted": pgettext_lazy("logboek", "waiting results not sent"),
    "queued": pgettext_lazy("logboek", "results queued"),
    # A publisher's school-grade boundaries (issue 15): the bands in words.
    "bands": pgettext_lazy("logboek", "grade boundaries"),
    # The summer erasure of results (counts only).
    "school_year": pgettext_lazy("logboek", "school year"),
    "erased": pgettext_lazy("logboek", "results erased"),
    "archived": pgettext_lazy("logboek", "final scores per learning goal archived"),
    "kept": pgettext_lazy("logboek", "kindergarten observations kept"),
    "held_back": pgettext_lazy("logboek", "held back until delivered to the LAS"),
}

# Keys that mean nothing to a school (fingerprints, file types): shown only under "Technical
# details", folded away, so an operator can still compare them.
TECHNICAL_KEYS = frozenset({"file_sha256", "icon"})


def field_label(key: str) -> str:
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else key


def _choices(*pairs: tuple[str, Promise]) -> Callable[[Any], str | None]:
    table = dict(pairs)

    def label(value: Any) -> str | None:
        found = table.get(value) if isinstance(value, str) else None
        return str(found) if found is not None else None
    return label


# The labels of codes that other apps' models define (an import status, a contract type): those
# apps register their choices here when they start (register_code_labels in their AppConfig), as
# the audit trail sits below them and imports none of them.
_REGISTERED: dict[str, Callable[[Any], str | None]] = {}


def register_code_labels(key: str, choices: Any) -> None:
    """Show the values of `key` in the Logboek by the labels of these model choices."""
    _REGISTERED[key] = _choices(*((value, label) for value, label in choices))


def _code_labels() -> dict[str, Callable[[Any], str | None]]:
    return {
        **_REGISTERED,
        "method": _choices(("plaatjes", pgettext_lazy("logboek", "two pictures")),
                           ("pincode", pgettext_lazy("logboek", "pincode"))),
        "via": _choices(("command", pgettext_lazy("logboek", "command line")),
                        ("portal", pgettext_lazy("logboek", "publisher portal")),
                        ("upload", pgettext_lazy("logboek", "CSV file in the portal")),
                        ("api", pgettext_lazy("logboek", "publisher API")),
                        ("held", pgettext_lazy("logboek", "held until the school arrived"))),
    }


def _date(value: str) -> str | None:
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return None
    return str(formats.date_format(day, "j F Y"))


def format_value(key: str, value: Any) -> str:
    """RULE: a value in words: yes/no for booleans, a dash for nothing, a code's Dutch label, a
    date as a date, a list as a list; anything else as it was stored (names, numbers)."""
    if value is None or value == "" or value == []:
        return "\N{EN DASH}"
    if isinstance(value, bool):
        return str(pgettext_lazy("logboek", "yes") if value else pgettext_lazy("logboek", "no"))
    if isinstance(value, list | tuple):
        return ", ".join(format_value(key, item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {format_value(k, v)}" for k, v in value.items())
    if isinstance(value, str):
        coded = _code_labels().get(key)
        label = coded(value) if coded is not None else None
        if label is not None:
            return label
        if key in {"start", "end"}:
            return _date(value) or value
    return str(value)


def readable(values: Any) -> str:
    """Before or after as short "label: value" text, technical keys left out."""
    if values is None or values == {}:
        return ""
    if not isinstance(values, dict):
        return format_value("", values)
    return ", ".join(f"{field_label(key)}: {format_value(key, value)}"
                     for key, value in values.items() if key not in TECHNICAL_KEYS)


def technical(before: Any, after: Any) -> str:
    """The technical keys of before/after (checksums, icon fingerprints), labelled, for the
    folded "Technical details"; empty when the entry has none."""
    parts = []
    for side in (before, after):
        if isinstance(side, dict):
            parts += [f"{field_label(key)}: {format_value(key, value)}"
                      for key, value in side.items() if key in TECHNICAL_KEYS]
    return ", ".join(parts)


def actor_label(label: str) -> str:
    """Who acted, with the system's own names in the user's language (they are stored in
    English, as written by klaspoort.audit.services)."""
    from klaspoort.audit.services import OPERATOR

    if label == OPERATOR.label:
        return str(pgettext_lazy("logboek", "operator (command line)"))
    if not label:
        # Nobody acted: Klaspoort itself did it (the nightly import, automatic linking).
        return str(pgettext_lazy("logboek", "Klaspoort (automatic)"))
    return label
