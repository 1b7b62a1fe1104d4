"""Credentials of the machines that talk to Klaspoort's APIs (publishers, later network
providers and pupil tracking systems)."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from klaspoort.schools.models import NetworkProvider, Publisher


def hash_token(token: str) -> str:
    """Tokens are stored as a SHA-256 digest: they are long random strings, so a fast hash is
    enough, and a leaked table does not let anybody call the API."""
    return hashlib.sha256(token.encode()).hexdigest()


class PublisherApiToken(models.Model):
    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    # First characters of the token, shown so its owner can tell tokens apart.
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("publisher API token")
        verbose_name_plural = _("publisher API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.publisher}: {self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, publisher: Publisher, name: str, created_by: object = None) -> tuple[
            PublisherApiToken, str]:
        """A new token; the plain value is returned once and never stored."""
        token = "kp_" + secrets.token_urlsafe(32)
        row = cls.objects.create(publisher=publisher, name=name, prefix=token[:10],
                                 digest=hash_token(token), created_by=created_by)
        return row, token


class NetworkProviderApiToken(models.Model):
    """A network provider's key to the network provider API (decision 0032). Made and revoked
    by an operator (`klaspoort network-token`, the admin); kept as a digest like a publisher's
    token, and told apart from one by its `kpn_` start."""

    provider = models.ForeignKey(NetworkProvider, on_delete=models.CASCADE,
                                 related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    # First characters of the token, shown so its owner can tell tokens apart.
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("network provider API token")
        verbose_name_plural = _("network provider API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.provider}: {self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, provider: NetworkProvider, name: str, created_by: object = None) -> tuple[
            NetworkProviderApiToken, str]:
        """A new token; the plain value is returned once and never stored."""
        token = "kpn_" + secrets.token_urlsafe(32)
        row = cls.objects.create(provider=provider, name=name, prefix=token[:10],
                                 digest=hash_token(token), created_by=created_by)
        return row, token
