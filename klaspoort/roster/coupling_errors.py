"""The last failure of an automatic coupling, in the reader's language.

A fetch stores its failure as an English msgid and its parameters
(RosterCoupling.last_error = {"message": …, "params": {…}}, roster.las_fetch), so the
coordinator page and the mails say it in the language of whoever reads it.
"""

from __future__ import annotations

from django.utils.translation import gettext

from klaspoort.roster.models import RosterCoupling


def error_text(coupling: RosterCoupling) -> str:
    """The coupling's last failure as a sentence ("" when the last fetch succeeded or there was
    none). A stored message that no longer fits its parameters is shown untranslated rather
    than breaking the page."""
    error = coupling.last_error or {}
    message = error.get("message") if isinstance(error, dict) else None
    if not message or not isinstance(message, str):
        return ""
    params = error.get("params")
    if not isinstance(params, dict):
        params = {}
    try:
        return gettext(message) % params
    except (KeyError, TypeError, ValueError):
        return message
