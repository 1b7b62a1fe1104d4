"""Production refuses to start unsafe (issue 10, finding 3; decision 0019).

The settings are read once per process, so each configuration runs in a real `klaspoort` (or
gunicorn, or python) process with its own environment variables, as an operator starts it.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from klaspoort.pseudonyms import PSEUDONYM_KEY_FILE, subject_for
from klaspoort.settings import env_bool

BIN = Path(sys.executable).parent
SAFE = {
    "KLASPOORT_ALLOWED_HOSTS": "klaspoort.example",
    "KLASPOORT_SITE_URL": "https://klaspoort.example",
    "KLASPOORT_CSRF_TRUSTED_ORIGINS": "https://klaspoort.example",
    "KLASPOORT_HTTPS": "1",
    "KLASPOORT_TRUSTED_PROXIES": "127.0.0.1",
    "KLASPOORT_SECRET_KEY": "Vx9-k2Qa7z" * 6,
    "KLASPOORT_PSEUDONYM_KEY": "Pq7-Zr2wXk" * 4,
    "KLASPOORT_SECRETS_KEYS": base64.urlsafe_b64encode(b"k" * 32).decode(),
    "KLASPOORT_CACHE_URL": "redis://127.0.0.1:6379/1",  # `check` does not connect
    "KLASPOORT_OIDC_PRIVATE_KEY": rsa.generate_private_key(
        public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode(),
}


def clean_env(var: Path, **variables: str) -> dict[str, str]:
    """The environment of a machine with none of Klaspoort's variables set, plus `variables`."""
    # DJANGO_* too: the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process, which a
    # production check rightly refuses (async.E001).
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("KLASPOORT_", "CELERY_", "EMAIL_", "DJANGO_"))
           and name not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(KLASPOORT_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="klaspoort.settings",
               **variables)
    return env


def run(var: Path, *command: str, **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=clean_env(var, **variables), cwd=var.parent,
                          capture_output=True, text=True, timeout=120, check=False)


def check_deploy(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    return run(tmp_path / "var", str(BIN / "klaspoort"), "check", "--deploy", **variables)


def without(name: str) -> dict[str, str]:
    return {key: value for key, value in SAFE.items() if key != name}


def test_the_safe_production_set_passes_check_deploy(tmp_path):
    done = check_deploy(tmp_path, **SAFE)
    assert done.returncode == 0, done.stderr
    assert "(klaspoort." not in done.stdout + done.stderr  # no check of ours, not even a warning


@pytest.mark.parametrize(("variables", "check_id"), [
    (without("KLASPOORT_SECRET_KEY"), "klaspoort.E001"),
    ({**SAFE, "KLASPOORT_SECRET_KEY": "embedded-default-key-change-me-in-production"},
     "klaspoort.E001"),
    ({**SAFE, "KLASPOORT_SECRET_KEY": "Vx9-k2Qa7z" * 4}, "klaspoort.E001"),  # 40 characters
    (without("KLASPOORT_PSEUDONYM_KEY"), "klaspoort.E002"),
    (without("KLASPOORT_SECRETS_KEYS"), "klaspoort.E003"),
    ({**SAFE, "KLASPOORT_SECRETS_KEYS": "not-a-key"}, "klaspoort.E003"),
    (without("KLASPOORT_CACHE_URL"), "klaspoort.E004"),
    # Each machine would sign with a key of its own: tokens fail at publishers across machines.
    (without("KLASPOORT_OIDC_PRIVATE_KEY"), "klaspoort.E008"),
    ({**SAFE, "KLASPOORT_OIDC_PRIVATE_KEY": "not a key"}, "klaspoort.E008"),
    ({**SAFE, "KLASPOORT_DEBUG": "1"}, "klaspoort.E005"),
    # A local host list, but e-mails link to a public site: production all the same.
    ({**without("KLASPOORT_PSEUDONYM_KEY"), "KLASPOORT_ALLOWED_HOSTS": "localhost"},
     "klaspoort.E002"),
    # The summer erasure would erase the schools' results on a day nobody was told of.
    ({**SAFE, "KLASPOORT_RESULTS_ERASURE_DAY": "21-07"}, "klaspoort.E006"),
    ({**SAFE, "KLASPOORT_RESULTS_ERASURE_REMINDER_DAYS": "0"}, "klaspoort.E007"),
], ids=["no-secret-key", "built-in-secret-key", "short-secret-key", "no-pseudonym-key",
        "no-secrets-key", "bad-secrets-key", "no-shared-cache", "no-oidc-key", "bad-oidc-key",
        "debug", "site-url-only",
        "bad-erasure-day", "bad-reminder-days"])
def test_each_unsafe_production_setting_fails_check_deploy(tmp_path, variables, check_id):
    done = check_deploy(tmp_path, **variables)
    assert done.returncode != 0
    assert check_id in done.stderr
    errors = {line.split(")")[0].split("(")[-1] for line in done.stderr.splitlines()
              if "(klaspoort.E" in line}
    assert errors == {check_id}


def test_without_a_trusted_proxy_behind_https_check_deploy_warns(tmp_path):
    done = check_deploy(tmp_path, **without("KLASPOORT_TRUSTED_PROXIES"))
    assert "klaspoort.W001" in done.stderr


def test_a_single_machine_needs_no_settings(tmp_path):
    done = check_deploy(tmp_path)
    assert "klaspoort.E" not in done.stderr
    done = run(tmp_path / "var", str(BIN / "klaspoort"), "check")
    assert done.returncode == 0, done.stderr


def test_gunicorn_does_not_start_unsafe(tmp_path):
    gunicorn = str(BIN / "gunicorn")
    unsafe = run(tmp_path / "var", gunicorn, "--check-config", "klaspoort.wsgi",
                 **without("KLASPOORT_PSEUDONYM_KEY"))
    assert unsafe.returncode != 0
    assert "klaspoort.E002" in unsafe.stdout + unsafe.stderr
    safe = run(tmp_path / "var", gunicorn, "--check-config", "klaspoort.wsgi", **SAFE)
    assert safe.returncode == 0, safe.stdout + safe.stderr


def test_runserver_does_not_start_unsafe(tmp_path):
    done = run(tmp_path / "var", str(BIN / "klaspoort"), "runserver", "--noreload",
               "127.0.0.1:0", **without("KLASPOORT_CACHE_URL"))
    assert done.returncode != 0
    assert "klaspoort.E004" in done.stderr


def test_importing_the_settings_and_the_application_writes_no_files(tmp_path):
    var = tmp_path / "var"
    done = run(var, sys.executable, "-c",
               "import django; django.setup(); from django.conf import settings; "
               "settings.OAUTH2_PROVIDER; import klaspoort.urls, klaspoort.wsgi")
    assert done.returncode == 0, done.stderr
    assert not var.exists()


def test_a_fresh_clone_migrates_its_sqlite_database_into_a_new_var_dir(tmp_path):
    var = tmp_path / "var"
    done = run(var, str(BIN / "klaspoort"), "migrate", "-v0")
    assert done.returncode == 0, done.stderr
    assert (var / "klaspoort.sqlite3").exists()


def test_env_bool_refuses_an_unknown_word(tmp_path, monkeypatch):
    for word, meaning in [("1", True), ("TRUE", True), (" yes ", True), ("On", True),
                          ("0", False), ("false", False), ("NO", False), ("off", False),
                          ("", True)]:
        monkeypatch.setenv("KLASPOORT_TEST_BOOL", word)
        assert env_bool("KLASPOORT_TEST_BOOL", default=True) is meaning
    monkeypatch.setenv("KLASPOORT_TEST_BOOL", "maybe")
    with pytest.raises(ImproperlyConfigured, match="KLASPOORT_TEST_BOOL"):
        env_bool("KLASPOORT_TEST_BOOL")
    done = run(tmp_path / "var", str(BIN / "klaspoort"), "check", KLASPOORT_HTTPS="maybe")
    assert done.returncode != 0
    assert "KLASPOORT_HTTPS='maybe'" in done.stderr
    assert "1/0, true/false, yes/no or on/off" in done.stderr


def test_the_pseudonym_key_is_never_derived_from_the_secret_key(tmp_path):
    with override_settings(KLASPOORT_PSEUDONYM_KEY="", VAR_DIR=tmp_path, SECRET_KEY="a" * 50):
        first = subject_for(1, 42)
    with override_settings(KLASPOORT_PSEUDONYM_KEY="", VAR_DIR=tmp_path, SECRET_KEY="b" * 50):
        assert subject_for(1, 42) == first  # the machine's own generated key
    stored = tmp_path / PSEUDONYM_KEY_FILE
    assert stored.stat().st_mode & 0o777 == 0o600
    assert len(stored.read_text().strip()) >= 43
    with override_settings(KLASPOORT_PSEUDONYM_KEY="", VAR_DIR=tmp_path / "other"):
        assert subject_for(1, 42) != first  # another installation, other pseudonyms


def test_production_without_a_pseudonym_key_signs_nobody_in(tmp_path):
    with override_settings(KLASPOORT_PSEUDONYM_KEY="", VAR_DIR=tmp_path,
                           ALLOWED_HOSTS=["klaspoort.example"]), \
            pytest.raises(ImproperlyConfigured, match="KLASPOORT_PSEUDONYM_KEY"):
        subject_for(1, 42)
    assert not (tmp_path / PSEUDONYM_KEY_FILE).exists()


def test_a_celery_worker_does_not_start_unsafe():
    from celery.signals import worker_init

    with override_settings(ALLOWED_HOSTS=["klaspoort.nl"], KLASPOORT_PSEUDONYM_KEY=""), \
            pytest.raises(SystemExit, match="E002"):
        worker_init.send(sender=None)
