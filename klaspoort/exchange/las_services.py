"""A roster pushed by a pupil administration (LAS) through the push API (issue 14, item 3).

A pushed file takes the path of an upload in *Beheer*: the same reader and checks
(receive_roster_file), the same hold when it would empty the school, the same nightly run. What
is added here is the consent on the school's side: a push is taken only for a school whose
coordinator switched this very LAS on, and that is checked before anything is stored.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from klaspoort.exchange import las_selectors
from klaspoort.roster.coupling_push import record_push
from klaspoort.roster.edexml import RosterError, RosterFileError, parse_edexml
from klaspoort.roster.models import LasSystem, RosterCoupling, RosterImport
from klaspoort.roster.services import receive_roster_file


class PushRefused(Exception):
    """The file's school did not switch this LAS on (or is unknown: the same answer)."""


class PushInvalid(Exception):
    """The file is not a roster Klaspoort can take; nothing was stored. `errors` are
    {"line", "message", "message_en"} dicts, Dutch and English."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("invalid roster file")
        self.errors = errors


NO_SCHOOL = gettext_noop("The file does not name its school (it has no <brincode>): a pushed "
                         "file must name the school it is for.")


def _parse_in(language: str, data: bytes) -> tuple[Any, list[RosterError] | None]:
    """The reader's outcome with its messages in `language`: (roster, None) or (None,
    errors)."""
    with translation.override(language):
        try:
            return parse_edexml(data), None
        except RosterFileError as exc:
            return None, exc.errors


def _in_english(data: bytes, dutch: list[dict[str, Any]], *, errors: bool) -> list[
        dict[str, Any]]:
    """The reader's Dutch messages with their English alongside (message_en). The reader is
    deterministic, so reading the file again in English gives the same messages in the same
    order; read again only when there are messages. A message whose English cannot be paired
    keeps its Dutch."""
    if not dutch:
        return []
    roster, found = _parse_in("en", data)
    english = ([e.message for e in found or []] if errors else
               [w["message"] for w in (roster or {}).get("warnings", [])])
    if len(english) != len(dutch):
        english = [m["message"] for m in dutch]
    return [{**m, "message_en": en} for m, en in zip(dutch, english, strict=True)]


def receive_push(las: LasSystem, data: bytes) -> RosterImport:
    """Take a roster file (EDEXML, or a UWLR leerlinggegevens answer, bare or in a SOAP
    envelope) pushed by `las`.

    RULES: the file names its school (BRIN and dependancecode); it is taken only when that
    school's coordinator switched this LAS on (an active coupling with this LAS, which
    pushes) — otherwise PushRefused, the same for a school Klaspoort does not know, and
    nothing is stored. A file the reader refuses is PushInvalid with every error in Dutch
    and English, and nothing is stored either. An accepted file is received like an upload
    in *Beheer* (receive_roster_file with the school: it waits for the nightly run, or is
    held when it would empty the school), with its warnings in Dutch and English, and the
    coupling records it as its latest fetch. Stored messages are Dutch, like every import's.
    """
    roster, errors = _parse_in(settings.LANGUAGE_CODE, data)
    if errors is not None:
        raise PushInvalid(_in_english(data, [e.as_dict() for e in errors], errors=True))
    school = roster["school"]
    if not school["brin"]:
        with translation.override(settings.LANGUAGE_CODE):
            dutch = gettext(NO_SCHOOL)
        raise PushInvalid([{"line": None, "message": dutch, "message_en": NO_SCHOOL}])
    coupling = las_selectors.push_coupling(las, school["brin"], school["dependancecode"])
    if coupling is None:
        raise PushRefused
    roster["warnings"] = _in_english(data, list(roster.get("warnings", [])), errors=False)
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        # The coordinator may switch the coupling off while the file was read: checked again
        # under the coupling's lock, before anything is stored.
        if not RosterCoupling.objects.select_for_update().filter(
                pk=coupling.pk, las=las, active=True).exists():
            raise PushRefused
        record = receive_roster_file(data, source=RosterImport.Source.COUPLING,
                                     filename=f"{las.name} (push)", school=coupling.school,
                                     parse=lambda _data: roster)
        record_push(coupling, record)
    return record
