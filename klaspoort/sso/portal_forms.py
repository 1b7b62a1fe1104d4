"""The portal's form for a publisher's single sign-on client (sso.portal_views).

The form only splits the text into addresses; the rules (https, exact redirect URIs, a name)
are sso.services', whose reasons come back per field."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from klaspoort.sso.services import ClientSettings

CONFIDENTIAL = "confidential"
PUBLIC = "public"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class ClientForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255,
                           help_text=_("So your schools' staff and you can tell your clients "
                                       "apart, e.g. “Rekenwonders web”."))
    redirect_uris = forms.CharField(
        label=_("Redirect URIs"), required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        help_text=_("One address per line, matched exactly. https only (plain http only for "
                    "localhost)."))
    initiate_login_uri = forms.CharField(
        label=_("Login address (initiate login URI)"), required=False, max_length=2000,
        widget=forms.TextInput(attrs={"size": 70}),
        help_text=_("Your page that a tile in Klaspoort opens, with iss, login_hint and "
                    "target_link_uri. Empty: the product's start address."))
    post_logout_uris = forms.CharField(
        label=_("Addresses after signing out"), required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 70}),
        help_text=_("One address per line: where Klaspoort may send the browser after "
                    "signing out (post_logout_redirect_uri)."))
    default_target_uri = forms.CharField(
        label=_("Default target address"), required=False, max_length=2000,
        widget=forms.TextInput(attrs={"size": 70}),
        help_text=_("The target_link_uri a tile sends. Empty: the product's start address."))

    def client_settings(self) -> ClientSettings:
        data = self.cleaned_data
        return ClientSettings(name=data["name"], redirect_uris=_lines(data["redirect_uris"]),
                              post_logout_uris=_lines(data["post_logout_uris"]),
                              initiate_login_uri=data["initiate_login_uri"],
                              default_target_uri=data["default_target_uri"])


class NewClientForm(ClientForm):
    client_type = forms.ChoiceField(
        label=_("Kind of client"), widget=forms.RadioSelect, initial=CONFIDENTIAL,
        choices=[(CONFIDENTIAL, _("Confidential: your server keeps a client secret")),
                 (PUBLIC, _("Public: an app without a server, PKCE only, no secret"))])
