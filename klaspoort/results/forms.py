"""Forms of the *Resultatenkoppelingen* page. They only carry what was typed: the rules (which
LAS, the key) live in results.coupling_services, which gives the one Dutch message."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy


def _key_field(label: Any) -> forms.CharField:
    # No max_length or stripping: roster.coupling_services.clean_key gives the message for
    # every rule, and the page never sends a key back to the browser.
    return forms.CharField(
        label=label, required=False, strip=False,
        help_text=gettext_lazy(
            "You get the key from your pupil tracking system: switch on the coupling with "
            "Klaspoort for results there. Ask its helpdesk if you cannot find the key."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                      "autocapitalize": "none"}))


class _WithoutKey:
    def without_key(self) -> Any:
        """The same form with the key emptied (the errors stay): a refused key is never sent
        back to the browser."""
        form: Any = self
        if form.is_bound:
            # A copy of the QueryDict, not {**data}: that would turn its values into lists.
            data = form.data.copy()
            data[form.add_prefix("key")] = ""
            form.data = data
        return form


class AddCouplingForm(_WithoutKey, forms.Form):
    """*Koppeling toevoegen*: the LAS (by id, any: the service decides), its key, and whether
    the school grade boundaries go along."""

    # Any text: converters.parse_id reads it, and the service gives the one Dutch message.
    las = forms.CharField(label=gettext_lazy("Pupil tracking system"), required=False)
    key = _key_field(gettext_lazy("Authorisation key"))
    send_grade_boundaries = forms.BooleanField(
        label=gettext_lazy("Send school grade boundaries"), required=False,
        help_text=gettext_lazy("The publishers' grade boundaries per test go along with the "
                               "results, so your pupil tracking system shows a school grade."))


class KeyForm(_WithoutKey, forms.Form):
    """*Sleutel wijzigen* of one coupling (prefixed per coupling: one page holds several)."""

    key = _key_field(gettext_lazy("New authorisation key"))

    def __init__(self, *args: Any, las_name: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if las_name:
            # Several couplings on one page: each field says whose key it is.
            self.fields["key"].label = gettext_lazy("New authorisation key for %(las)s") % {
                "las": las_name}
