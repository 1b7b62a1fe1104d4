"""Single sign-on clients: the publishers' software that signs Klaspoort users in (R4.4).

A client is django-oauth-toolkit's own Application (not swapped, so the toolkit's admin,
migrations and upgrades stay as they are) plus this row, which says whose software it is and
what the publisher's data agreement allows it to receive.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import Application

from klaspoort.schools.models import Publisher


class PublisherClient(models.Model):
    class NameDetail(models.TextChoices):
        INITIAL = "initial", _("first name and initial of the family name")
        FULL = "full", _("full name")

    application = models.OneToOneField(Application, on_delete=models.CASCADE,
                                       related_name="publisher_client")
    publisher = models.ForeignKey(Publisher, on_delete=models.PROTECT,
                                  related_name="sso_clients", verbose_name=_("publisher"))
    # What the publisher's data agreement (verwerkersovereenkomst) allows of a user's name.
    name_detail = models.CharField(_("name in the claims"), max_length=8,
                                   choices=NameDetail.choices, default=NameDetail.INITIAL)
    # A registered chain partner (Edu-K) may receive the ECK iD; see selectors.may_receive_eck_id.
    chain_partner = models.BooleanField(_("ECK iD chain partner"), default=False)
    # Where the publisher's software goes after sign-in when a tile names no page of its own
    # (target_link_uri); empty: the product's launch address.
    default_target_uri = models.URLField(_("default target address"), blank=True)
    # The publisher's login initiation address (OIDC Core §4): a tile sends the browser there
    # with iss, login_hint and target_link_uri. Empty: the product's launch address, as before.
    initiate_login_uri = models.URLField(_("initiate login URI"), blank=True)
    # A disabled client signs nobody in (selectors.client_for answers None) but keeps its
    # settings, so the publisher can switch it on again.
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    # Secret rotation with overlap: the secret before the last "new secret", hashed exactly as
    # the toolkit hashed it on Application, accepted until previous_secret_expires_at.
    previous_secret = models.CharField(max_length=255, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("single sign-on client")
        verbose_name_plural = _("single sign-on clients")

    def __str__(self) -> str:
        return f"{self.application.name or self.application.client_id} ({self.publisher})"

    @property
    def is_confidential(self) -> bool:
        return bool(self.application.client_type == Application.CLIENT_CONFIDENTIAL)

    def overlap_running(self, now: datetime.datetime) -> bool:
        """Whether the previous secret is still accepted at `now`."""
        return bool(self.previous_secret and self.previous_secret_expires_at is not None
                    and self.previous_secret_expires_at > now)


class IssuedCode(models.Model):
    """No longer written (decision 0041: codes, how the user signed in and what a code gave
    live in the shared cache). The model stays for one release so that the release before,
    still serving while a deploy rolls out, finds its table; the next release drops it (and
    the rows the release before left, an hour's worth at most)."""

    code_hash = models.CharField(max_length=64, unique=True)
    amr = models.JSONField(default=list)
    acr = models.CharField(max_length=64, blank=True)
    auth_time = models.DateTimeField(null=True)
    # The toolkit's token rows by id, not by foreign key: its token models are swappable, and a
    # foreign key would tie this app's migrations to the toolkit's settings.
    access_token_id = models.BigIntegerField(null=True)
    id_token_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.code_hash[:12]}… ({self.acr})"
