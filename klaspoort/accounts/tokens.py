"""Invitation (activation) links: signed, time-limited, and single use."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    """Like the reset token (it hashes the user's current password hash, so setting a password
    kills every earlier link), with its own salt and the invitation's timeout of 7 days."""

    key_salt = "klaspoort.accounts.tokens.ActivationTokenGenerator"

    def check_token(self, user: Any, token: str | None) -> bool:
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - ts) <= settings.ACTIVATION_TIMEOUT


activation_token = ActivationTokenGenerator()
