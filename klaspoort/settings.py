"""All settings, read from environment variables with safe embedded defaults.

The embedded default (no variables set) is a single machine: SQLite under var/, Celery eager,
e-mail written to files under var/mail/, DEBUG off unless KLASPOORT_DEBUG=1. Standard output
belongs to the commands' own results (`--json` prints one JSON document and nothing else): mail
never goes there, and logs go to standard error.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(os.environ.get("KLASPOORT_VAR_DIR", PROJECT_DIR / "var"))


_TRUE_WORDS = {"1", "true", "yes", "on"}
_FALSE_WORDS = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool = False) -> bool:
    """A yes/no variable: 1/0, true/false, yes/no, on/off (any case). Anything else is refused,
    so a typo such as KLASPOORT_HTTPS=ture never silently means "off"."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if not word:  # KLASPOORT_X= in an env file: as if unset
        return default
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a yes/no value: use 1/0, true/false, yes/no or on/off.")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("KLASPOORT_DEBUG")
# The embedded default key is only for a machine on localhost; production must set its own
# (docs/operations.md): klaspoort.checks (E001) refuses to start with this one, or a short one,
# whenever a host is not local, DEBUG or not.
SECRET_KEY = os.environ.get("KLASPOORT_SECRET_KEY", "embedded-default-key-change-me-in-production")
ALLOWED_HOSTS = env_list("KLASPOORT_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("KLASPOORT_CSRF_TRUSTED_ORIGINS")
# Encrypts the pupils' sign-in secrets at rest (docs/decisions/0009): 32 random bytes, URL-safe
# base64. Unset, a development key is derived from SECRET_KEY, refused in production.
KLASPOORT_SECRETS_KEY = os.environ.get("KLASPOORT_SECRETS_KEY", "")
# Several keys for rotation (docs/operations.md): comma-separated, the first encrypts, all
# decrypt. Takes precedence over KLASPOORT_SECRETS_KEY, which is still read as an older key.
KLASPOORT_SECRETS_KEYS = env_list("KLASPOORT_SECRETS_KEYS")
# Reverse proxies (IPs or CIDRs) whose X-Forwarded-For is believed; empty: only the connection.
KLASPOORT_TRUSTED_PROXIES = env_list("KLASPOORT_TRUSTED_PROXIES")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # /api/docs serves Swagger UI from our own static files, not a CDN
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "klaspoort.accounts",
    "klaspoort.schools",
    "klaspoort.roster",
    "klaspoort.audit",
    "klaspoort.licences",
    "klaspoort.exchange",
    "klaspoort.signin",
    "klaspoort.results",
    "oauth2_provider",
    "klaspoort.sso",
    "klaspoort.core",  # system checks: production refuses to start unsafe (klaspoort.checks)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "klaspoort.security_headers.SecurityHeadersMiddleware",  # CSP; no-store when signed in
    "klaspoort.middleware.RefuseUnstorableTextMiddleware",  # NUL/lone surrogate → 400
    "django.contrib.sessions.middleware.SessionMiddleware",
    "klaspoort.i18n.DutchFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "klaspoort.signin.middleware.PupilSessionLimitMiddleware",  # a school day at most
    "django_otp.middleware.OTPMiddleware",
    "klaspoort.accounts.middleware.SecondFactorGateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "klaspoort.urls"
WSGI_APPLICATION = "klaspoort.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# Database: DATABASE_URL selects it; the default is an SQLite file under var/.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'klaspoort.sqlite3'}"),
        conn_max_age=int(os.environ.get("KLASPOORT_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite, but it makes the file's folder at the first connection: a fresh clone
    # has no var/ yet, and reading the settings creates no files.
    DATABASES["default"]["ENGINE"] = "klaspoort.core.sqlite3"
    # Tests on SQLite run in memory, as Django's default (pytest-django recognises that default
    # only by Django's own ENGINE name, and would otherwise put per-worker files under "test_").
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
    # IMMEDIATE makes every write transaction take SQLite's write lock at BEGIN, so two imports
    # of one school queue up instead of failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
        "KLASPOORT_PG_PREPARE", True):
    # Server-side binding lets psycopg prepare a statement it runs often (the access rule on
    # every page and sign-in): PostgreSQL then skips planning, which cost more than running
    # it (docs/benchmarks.md). KLASPOORT_PG_PREPARE=0 behind a pooler in transaction mode.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "schools:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Second factor (docs/decisions/0008): the name authenticator apps show above the code.
OTP_TOTP_ISSUER = "Klaspoort"

# The cache holds the sign-in throttling counters. One process: local memory is enough; several
# processes must share one Redis (REDIS_URL or KLASPOORT_CACHE_URL), or each counts alone.
_CACHE_URL = os.environ.get("KLASPOORT_CACHE_URL") or os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "klaspoort.redis_cache.RedisCache", "LOCATION": _CACHE_URL}
        if _CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
              "LOCATION": "klaspoort"}
    )
}

PASSWORD_HASHERS = [
    "klaspoort.accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # Publishers' machine-made client secrets only (OAUTH2_PROVIDER CLIENT_SECRET_HASHER).
    "klaspoort.sso.hashers.ClientSecretHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "klaspoort.accounts.validators.MinimumLengthValidator",
     "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "klaspoort.accounts.validators.LettersAndDigitsValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # a chosen language sticks on a shared school device
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the project's own CSS and JS
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Publisher API (issue 10): requests per token per minute (429 with Retry-After above it), and
# the largest JSON body (a batch of 1,000 contracts is about 400 kB); larger bodies get 413.
PUBLISHER_API_RATE_PER_MINUTE = int(os.environ.get("KLASPOORT_PUBLISHER_API_RATE", "600"))
PUBLISHER_API_MAX_BODY_BYTES = int(os.environ.get("KLASPOORT_PUBLISHER_API_MAX_BODY",
                                                  str(1024 * 1024)))

# Roster uploads never touch the disk: EDEXML files carry BSNs and other data Klaspoort must not
# keep, so they are held in memory up to this size and refused above it.
ROSTER_MAX_UPLOAD_BYTES = int(os.environ.get("KLASPOORT_ROSTER_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
FILE_UPLOAD_HANDLERS = ["klaspoort.roster.uploads.BoundedMemoryUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = ROSTER_MAX_UPLOAD_BYTES

# Automatic LAS couplings (issue 14): the nightly fetch tries a LAS that times out, cannot be
# reached or answers 5xx this many times in all, waiting BACKOFF, 2 x BACKOFF, … seconds in
# between; WORKERS couplings are fetched at the same time (the work is waiting on the network).
LAS_FETCH_ATTEMPTS = max(1, int(os.environ.get("KLASPOORT_LAS_FETCH_ATTEMPTS", "3")))
LAS_FETCH_BACKOFF_SECONDS = max(0.0, float(os.environ.get("KLASPOORT_LAS_FETCH_BACKOFF", "5")))
LAS_FETCH_WORKERS = max(1, int(os.environ.get("KLASPOORT_LAS_FETCH_WORKERS", "8")))

# Results to the pupil tracking system (issue 15, decision 0037): at most BATCH results per UWLR
# message; a failed delivery is tried again after BACKOFF, 2 x BACKOFF, … seconds (at most
# BACKOFF_MAX), and is *failed* GIVE_UP_HOURS after the result arrived; a worker holds a batch
# for LEASE seconds, after which a batch of a worker that died is taken again.
RESULTS_BATCH_SIZE = max(1, int(os.environ.get("KLASPOORT_RESULTS_BATCH", "500")))
RESULTS_BACKOFF_SECONDS = max(1.0, float(os.environ.get("KLASPOORT_RESULTS_BACKOFF", "30")))
RESULTS_BACKOFF_MAX_SECONDS = max(1.0, float(os.environ.get("KLASPOORT_RESULTS_BACKOFF_MAX",
                                                            "3600")))
RESULTS_GIVE_UP_HOURS = max(1, int(os.environ.get("KLASPOORT_RESULTS_GIVE_UP_HOURS", "72")))
RESULTS_LEASE_SECONDS = max(5, int(os.environ.get("KLASPOORT_RESULTS_LEASE", "120")))
# The summer erasure (seed 001): on this day (month-day) results are erased, except the final
# scores per learning goal and the observations of pupils still in the kindergarten groups;
# coordinators and teachers are reminded REMINDER_DAYS before.
RESULTS_ERASURE_DAY = os.environ.get("KLASPOORT_RESULTS_ERASURE_DAY", "07-21")
RESULTS_ERASURE_REMINDER_DAYS = int(os.environ.get("KLASPOORT_RESULTS_ERASURE_REMINDER_DAYS",
                                                   "28"))

# E-mail: SMTP when EMAIL_HOST is set; otherwise each message is written to a file under
# VAR_DIR/mail/ (open it with any text editor), never to the console, whose standard output
# belongs to the commands' results. The backend makes the folder when it first sends, so
# reading the settings creates nothing. (pytest-django replaces either with the locmem backend.)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
# Links in e-mails sent outside a request (the operator's commands) start with this.
SITE_URL = os.environ.get("KLASPOORT_SITE_URL", "http://localhost:8000").rstrip("/")
# The demo's LAS (examples/las_app, started by `make demo` on :8002): `klaspoort demo-data`
# makes it the endpoint of the catalogue's "Voorbeeld-LAS" and couples the demo school to it.
DEMO_LAS_URL = os.environ.get("KLASPOORT_DEMO_LAS_URL", "http://localhost:8002/leerlinggegevens")
# …and its UWLR Leerresultaten endpoint, where `demo-data` has the results sent.
DEMO_LAS_RESULTS_URL = os.environ.get("KLASPOORT_DEMO_LAS_RESULTS_URL",
                                      "http://localhost:8002/leerresultaten")
ACTIVATION_TIMEOUT = 7 * 24 * 3600  # invitation links (seconds)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Klaspoort <noreply@klaspoort.local>")

# Celery: eager in the embedded default; production sets CELERY_BROKER_URL=redis://…
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task leaves the task for another one
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# A worker keeps the LOGGING below (standard error) instead of replacing the root logger's
# handlers, and leaves standard output alone instead of turning prints into log lines.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_REDIRECT_STDOUTS = False
CELERY_BEAT_SCHEDULE = {
    "nightly-roster-run": {
        "task": "klaspoort.roster.tasks.nightly_run",
        "schedule": crontab(hour=int(os.environ.get("KLASPOORT_NIGHTLY_HOUR", "2")), minute=0),
    },
    # Contracts start and end by date without any write: the publishers' feeds are compared
    # again every school night, after the roster run and in time for 1 August.
    "nightly-publisher-feeds": {
        "task": "klaspoort.exchange.tasks.publish_feeds",
        "schedule": crontab(hour=int(os.environ.get("KLASPOORT_FEED_HOUR", "4")), minute=0),
    },
    # Expired sessions, grants, tokens and issued-code records of the day's sign-ins.
    "nightly-expired-sign-ins": {
        "task": "klaspoort.sso.tasks.clear_expired_sign_ins",
        "schedule": crontab(hour=int(os.environ.get("KLASPOORT_CLEANUP_HOUR", "3")), minute=30),
    },
    # Webhook notices whose next attempt is due but whose task was lost (decision 0034).
    "publisher-webhook-notices": {
        "task": "klaspoort.exchange.tasks.deliver_due_webhook_notices",
        "schedule": 60.0,
    },
    # Results for the LAS whose rows are due but whose task was lost (a worker killed
    # mid-batch: its lease ends) or whose backoff ended (results.delivery).
    "results-delivery": {
        "task": "klaspoort.results.tasks.deliver_due_results",
        "schedule": max(1.0, float(os.environ.get("KLASPOORT_RESULTS_SWEEP_SECONDS", "60"))),
    },
    # The summer erasure of results and its reminder four weeks before (results.erasure): the
    # task looks at the date every day and does nothing on the other days.
    "results-summer-erasure": {
        "task": "klaspoort.results.erasure_tasks.summer_erasure",
        "schedule": crontab(hour=int(os.environ.get("KLASPOORT_ERASURE_HOUR", "5")), minute=30),
    },
    # The coordinators' reminders by e-mail (issue 16): before the school year (25-31 July,
    # when the checklist has red items) and to cancel contracts (1-30 June). Each task looks
    # at the date every day; each reminder goes once a year per school (SentReminder).
    "schools-year-start-reminders": {
        "task": "klaspoort.schools.tasks.year_start_reminders",
        "schedule": crontab(hour=int(os.environ.get("KLASPOORT_REMINDER_HOUR", "7")), minute=0),
    },
    "licences-cancellation-reminders": {
        "task": "klaspoort.licences.tasks.cancellation_reminders",
        "schedule": crontab(hour=int(os.environ.get("KLASPOORT_REMINDER_HOUR", "7")),
                            minute=5),
    },
}
# Task modules Celery does not find by itself (it discovers only each app's `tasks`).
CELERY_IMPORTS = ("klaspoort.results.erasure_tasks",)

SESSION_COOKIE_HTTPONLY = True
# With a shared cache (Redis) sessions are read from it and written through to the database: one
# query less on every request of the Monday-morning peak. A per-process cache would let a
# session ended in one worker live on in another, so without Redis sessions stay in the database.
# Both are Django's engines written once per sign-in, not three times (klaspoort.sessions).
SESSION_ENGINE = "klaspoort.sessions.cached_db" if _CACHE_URL else "klaspoort.sessions.db"
SESSION_COOKIE_SAMESITE = "Lax"
# A sign-in decision taken at /o/authorize is reused by the token and userinfo requests while
# nothing behind it changed (klaspoort.epochs, decision 0039). The epoch that says so must be
# shared by every process, so without Redis nothing is reused.
KLASPOORT_REUSE_DECISIONS = env_bool("KLASPOORT_REUSE_DECISIONS", bool(_CACHE_URL))
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("KLASPOORT_HTTPS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs (Celery's task lines included) go to standard error, never to standard output.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KLASPOORT_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# ---------------------------------------------------------------------------------------------
# Single sign-on to publishers (app sso, docs/decisions/0014-single-sign-on.md): Klaspoort is an
# OpenID Connect provider (django-oauth-toolkit) for the publishers' software.
# ---------------------------------------------------------------------------------------------
from klaspoort.sso import keys as _sso_keys  # noqa: E402

# Keys the pairwise pseudonyms (`sub`, the school id) per publisher. Changing it changes every
# pseudonym a publisher knows, so it is set once and never rotated. Never derived from
# SECRET_KEY: unset, a single machine generates its own at first use (VAR_DIR/pseudonym-key,
# klaspoort.sso.keys); production refuses to start without it (klaspoort.checks).
KLASPOORT_PSEUDONYM_KEY = os.environ.get("KLASPOORT_PSEUDONYM_KEY", "")
# How long the login_hint of a tile stays valid (seconds): the publisher sends the browser
# straight back, so a short time is enough and a copied launch link soon stops working.
KLASPOORT_LOGIN_HINT_MAX_AGE = int(os.environ.get("KLASPOORT_LOGIN_HINT_MAX_AGE", "300"))
# After a publisher makes a new client secret in the portal, the previous one keeps working for
# this many days (so its servers can be switched over without a failed sign-in), then stops.
KLASPOORT_CLIENT_SECRET_OVERLAP_DAYS = int(
    os.environ.get("KLASPOORT_CLIENT_SECRET_OVERLAP_DAYS", "7"))
OIDC_ISSUER = SITE_URL + "/o"
# The toolkit's own models, not swapped (sso.PublisherClient sits beside Application); named here
# because migrations that point at Application resolve it through this setting.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": OIDC_ISSUER,
    # Lazy: the embedded default generates its key file when a token is first signed, not here.
    "OIDC_RSA_PRIVATE_KEY": _sso_keys.lazy_signing_key(VAR_DIR),
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": _sso_keys.inactive_keys(),
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_SUBJECT_TYPES_SUPPORTED": ["pairwise"],
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": [
        "client_secret_basic", "client_secret_post", "none"],
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # A logout with the ID token of the signed-in user needs no extra question (a pupil on a
    # shared tablet); without a matching token Klaspoort still asks.
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "OAUTH2_VALIDATOR_CLASS": "klaspoort.sso.validators.KlaspoortValidator",
    "OIDC_SERVER_CLASS": "klaspoort.sso.validators.NoRefreshTokenServer",
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Name",
        "klaspoort": "Role, school, groups and licences",
    },
    "DEFAULT_SCOPES": ["openid"],
    "PKCE_REQUIRED": True,
    # Client secrets are long random strings: a fast salted HMAC, not Argon2id (sso.hashers).
    "CLIENT_SECRET_HASHER": "klaspoort_client_secret",
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    # Short: the claims are asked again at userinfo, and a withdrawn consent must bite soon.
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "ID_TOKEN_EXPIRE_SECONDS": 600,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],  # http only for loopback (sso.services)
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}
