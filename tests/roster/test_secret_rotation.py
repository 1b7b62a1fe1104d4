"""Rotating the key of the pupils' secrets: several keys, a key id in every token, a command."""

from __future__ import annotations

import base64
import io
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings

from klaspoort.roster import secrets
from klaspoort.roster.models import Pupil
from tests.factories import PupilFactory


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


OLD, NEW = new_key(), new_key()


def raw(key: str) -> bytes:
    return base64.urlsafe_b64decode(key)


def v1_token(plain: str, key: bytes) -> str:
    """A token as written before key ids existed."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plain.encode(), b"klaspoort:pupil-secret:v1")
    return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def column(pupil: Pupil) -> str:
    return Pupil.objects.values_list("signin_secret", flat=True).get(pk=pupil.pk)


def test_a_token_names_its_key_and_the_first_key_encrypts():
    with override_settings(KLASPOORT_SECRETS_KEYS=[NEW, OLD], KLASPOORT_SECRETS_KEY=""):
        token = secrets.encrypt("pincode:04217")
        assert token.startswith(f"v2:{secrets.key_id(raw(NEW))}:")
        assert secrets.decrypt(token) == "pincode:04217"


def test_an_old_key_still_decrypts_and_only_that_key_is_tried(monkeypatch):
    with override_settings(KLASPOORT_SECRETS_KEYS=[OLD], KLASPOORT_SECRETS_KEY=""):
        token = secrets.encrypt("plaatjes:3-11")
    tried = []
    cipher = secrets._cipher
    monkeypatch.setattr(secrets, "_cipher", lambda key: tried.append(key) or cipher(key))
    with override_settings(KLASPOORT_SECRETS_KEYS=[NEW, OLD], KLASPOORT_SECRETS_KEY=""):
        assert secrets.decrypt(token) == "plaatjes:3-11"
    assert tried == [raw(OLD)]
    with override_settings(KLASPOORT_SECRETS_KEYS=[NEW], KLASPOORT_SECRETS_KEY=""), \
            pytest.raises(ValueError):
        secrets.decrypt(token)  # the old key removed: unreadable, never a crash
    with override_settings(KLASPOORT_SECRETS_KEYS=[NEW], KLASPOORT_SECRETS_KEY=""):
        assert secrets.reveal(token) is None


def test_a_token_cannot_be_relabelled_to_another_key():
    with override_settings(KLASPOORT_SECRETS_KEYS=[NEW, OLD], KLASPOORT_SECRETS_KEY=""):
        token = secrets.encrypt("pincode:12345")
        relabelled = token.replace(secrets.key_id(raw(NEW)), secrets.key_id(raw(OLD)), 1)
        with pytest.raises(ValueError):
            secrets.decrypt(relabelled)


def test_tokens_written_before_key_ids_stay_readable():
    legacy = v1_token("pincode:55555", raw(OLD))
    with override_settings(KLASPOORT_SECRETS_KEYS=[], KLASPOORT_SECRETS_KEY=OLD):
        assert secrets.decrypt(legacy) == "pincode:55555"
    # After moving to the list with a new key first, the old single key still reads them.
    with override_settings(KLASPOORT_SECRETS_KEYS=[NEW], KLASPOORT_SECRETS_KEY=OLD):
        assert secrets.decrypt(legacy) == "pincode:55555"
        assert secrets.reveal(legacy).code == "55555"


@pytest.mark.parametrize("bad", ["kort", "A" * 40, "!" * 43])
def test_a_wrong_key_is_refused_with_a_clear_error(bad):
    with override_settings(KLASPOORT_SECRETS_KEYS=[bad], KLASPOORT_SECRETS_KEY=""), \
            pytest.raises(ImproperlyConfigured):
        secrets.encrypt("pincode:12345")


@override_settings(KLASPOORT_SECRETS_KEYS=[], KLASPOORT_SECRETS_KEY="", DEBUG=False,
                   ALLOWED_HOSTS=["klaspoort.nl"])
def test_production_refuses_to_run_without_keys():
    with pytest.raises(ImproperlyConfigured):
        secrets.encrypt("pincode:12345")


@pytest.mark.django_db
def test_the_command_re_encrypts_every_secret_in_batches_and_is_idempotent(school):
    with override_settings(KLASPOORT_SECRETS_KEYS=[OLD], KLASPOORT_SECRETS_KEY=""):
        pupils = [PupilFactory(school=school) for _n in range(5)]
        for pupil in pupils:
            pupil.signin_secret = secrets.encrypt(secrets.new_secret(secrets.PINCODE))
            pupil.save(update_fields=["signin_secret"])
        plain = {p.pk: secrets.decrypt(column(p)) for p in pupils}
    legacy = PupilFactory(school=school, signin_secret=v1_token("plaatjes:1-2", raw(OLD)))
    lost = PupilFactory(school=school, signin_secret=v1_token("pincode:00000", raw(new_key())))
    without = PupilFactory(school=school, signin_secret="")

    with override_settings(KLASPOORT_SECRETS_KEYS=[NEW, OLD], KLASPOORT_SECRETS_KEY=""):
        out, err = io.StringIO(), io.StringIO()
        call_command("rotate-pupil-secrets", "--batch-size", "2", stdout=out, stderr=err)
        kid = secrets.key_id(raw(NEW))
        assert out.getvalue().strip() == (f"key {kid}: 7 secret(s) checked, 6 re-encrypted, "
                                          "0 already current, 1 unreadable")
        assert "1 secret(s) could not be read" in err.getvalue()
        for pupil in [*pupils, legacy]:
            assert column(pupil).startswith(f"v2:{kid}:")
        assert column(lost).startswith("v1:")  # left as it was, for the operator to decide
        assert column(without) == ""

        again = io.StringIO()
        call_command("rotate-pupil-secrets", stdout=again, stderr=io.StringIO())
        assert again.getvalue().strip() == (f"key {kid}: 7 secret(s) checked, 0 re-encrypted, "
                                            "6 already current, 1 unreadable")

    # The old key can go now: every secret reads with the new key alone, and has not changed.
    with override_settings(KLASPOORT_SECRETS_KEYS=[NEW], KLASPOORT_SECRETS_KEY=""):
        assert {p.pk: secrets.decrypt(column(p)) for p in pupils} == plain
        assert secrets.decrypt(column(legacy)) == "plaatjes:1-2"


@pytest.mark.django_db
def test_a_bad_batch_size_is_refused():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("rotate-pupil-secrets", "--batch-size", "0")
