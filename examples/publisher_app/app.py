"""The example publisher application: an OpenID Connect relying party of Klaspoort.

What a publisher's software does, with a standard client library and nothing Klaspoort-specific:

- GET /login   third-party initiated login (OIDC Core §4): Klaspoort sends the user here with
               `iss`, `login_hint` and `target_link_uri` when a tile is opened; the publisher
               may also start here itself (no parameters). Starts the authorization code flow
               with PKCE S256, `state` and `nonce`.
- GET /callback exchanges the code, validates the ID token (signature against the provider's
               JWKS, iss, aud, nonce, exp), asks userinfo and remembers the user.
- GET /        the welcome page with the claims.
- GET /logout  forgets the user here and at Klaspoort (RP-initiated logout).
- POST /resultaat  *Resultaat versturen*: a signed-in teacher sends one result for a pupil of
               her groups through the documented results API (with the roster API's token).

Only the standard library serves HTTP (wsgiref); Authlib does OAuth 2.0 and joserfc (Authlib's
JOSE library) checks the ID token, so running the example needs no new dependency.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from examples.publisher_app.roster import RosterApiError, RosterReplica

log = logging.getLogger("publisher_app")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

COOKIE = "publisher_app_session"
SCOPES = "openid profile klaspoort"
HTTP_TIMEOUT = 10
LEEWAY = 60  # seconds of clock difference between Klaspoort and the publisher
PENDING_SECONDS = 600  # a sign-in must come back within this time
NONE = "<li>&ndash;</li>"


@dataclass(frozen=True)
class Config:
    """Everything comes from the environment (see README.md); the defaults match `make demo`."""

    issuer: str = "http://localhost:8000/o"
    client_id: str = "klaspoort-demo-malmberg"
    client_secret: str = ""  # empty: a public client, PKCE alone
    redirect_uri: str = "http://localhost:8001/callback"
    post_logout_redirect_uri: str = ""
    name: str = "Malmberg (demo)"
    host: str = "localhost"
    port: int = 8001
    # Where this publisher lives on the server: "" at the root, "/noordhoff" for a publisher
    # mounted beside it (several publishers on one port, see mount_from_env and `make demo`).
    path: str = ""
    # The roster API (docs/publishers.md) and a token made in the publisher portal: with both,
    # a teacher sees her groups' pupils before any of them has signed in. Empty: claims only.
    api_url: str = ""
    api_token: str = ""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            issuer=env.get("KLASPOORT_ISSUER", default.issuer).rstrip("/"),
            client_id=env.get("PUBLISHER_APP_CLIENT_ID", default.client_id),
            client_secret=env.get("PUBLISHER_APP_CLIENT_SECRET", default.client_secret),
            redirect_uri=env.get("PUBLISHER_APP_REDIRECT_URI", default.redirect_uri),
            post_logout_redirect_uri=env.get("PUBLISHER_APP_POST_LOGOUT_URI",
                                             default.post_logout_redirect_uri),
            name=env.get("PUBLISHER_APP_NAME", default.name),
            host=env.get("PUBLISHER_APP_HOST", default.host),
            port=int(env.get("PUBLISHER_APP_PORT", str(default.port))),
            api_url=env.get("PUBLISHER_APP_API_URL", default.api_url),
            api_token=env.get("PUBLISHER_APP_API_TOKEN", default.api_token),
        )

    @classmethod
    def mounted_from_env(cls, main: Config, environ: dict[str, str] | None = None
                         ) -> list[Config]:
        """More publishers on the same server, each under its own path: PUBLISHER_APP_MOUNTS
        names them ("noordhoff,thiememeulenhoff"); for each, PUBLISHER_APP_<NAME>_CLIENT_ID,
        _CLIENT_SECRET and _NAME (upper case). Its redirect URI is <origin>/<name>/callback and
        Klaspoort sends the user back to <origin>/<name>/ after logout."""
        env = os.environ if environ is None else environ
        configs = []
        for mount in filter(None, (m.strip() for m in env.get("PUBLISHER_APP_MOUNTS",
                                                                "").split(","))):
            prefix = f"PUBLISHER_APP_{mount.upper()}_"
            base = f"{main.origin}/{mount}"
            configs.append(replace(
                main, path=f"/{mount}", client_id=env.get(prefix + "CLIENT_ID", mount),
                client_secret=env.get(prefix + "CLIENT_SECRET", ""),
                name=env.get(prefix + "NAME", mount), redirect_uri=f"{base}/callback",
                post_logout_redirect_uri=f"{base}/", api_token=env.get(prefix + "API_TOKEN", "")))
        return configs

    @property
    def origin(self) -> str:
        parts = urlsplit(self.redirect_uri)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def cookie(self) -> str:
        """Each mounted publisher keeps its own session cookie, as separate sites would."""
        return COOKIE + self.path.replace("/", "_")


class SignInError(Exception):
    """A sign-in that cannot be completed; the message is shown to the user (Dutch)."""


# ---------------------------------------------------------------------------------------------
# The provider: discovery and keys, fetched once and kept (keys again when a new one appears)
# ---------------------------------------------------------------------------------------------
class Provider:
    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    @property
    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None:
                url = f"{self.issuer}/.well-known/openid-configuration"
                response = requests.get(url, timeout=HTTP_TIMEOUT)
                response.raise_for_status()
                metadata = response.json()
                # OIDC Discovery §4.3: the document must be of the issuer we asked.
                if metadata.get("issuer") != self.issuer:
                    raise SignInError(f"Discovery gaf issuer {metadata.get('issuer')!r}.")
                self._metadata = metadata
            return self._metadata

    def keys(self, *, refresh: bool = False) -> KeySet:
        jwks_uri = self.metadata["jwks_uri"]
        with self._lock:
            if self._keys is None or refresh:
                response = requests.get(jwks_uri, timeout=HTTP_TIMEOUT)
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
            return self._keys


def validate_id_token(id_token: str, provider: Provider, config: Config, nonce: str
                      ) -> dict[str, Any]:
    """The ID token checks of OIDC Core §3.1.3.7: RS256 signature by a key of the provider's
    JWKS (fetched again once, for a key rotated in since), iss, aud (and azp), nonce, exp, iat."""
    try:
        try:
            token = jwt.decode(id_token, provider.keys(), algorithms=["RS256"])
        except JoseError:
            token = jwt.decode(id_token, provider.keys(refresh=True), algorithms=["RS256"])
        jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={"essential": True, "value": config.issuer},
            aud={"essential": True, "value": config.client_id},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
            exp={"essential": True},
            iat={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError) as error:
        raise SignInError(f"Het ID-token is ongeldig ({error}).") from error
    claims = dict(token.claims)
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != config.client_id:
        raise SignInError("Het ID-token is voor een andere toepassing bedoeld.")
    return claims


# ---------------------------------------------------------------------------------------------
# Sessions: in memory, enough for an example (a real publisher keeps them in its own store)
# ---------------------------------------------------------------------------------------------
@dataclass
class Session:
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # state -> flow values
    user: dict[str, Any] | None = None
    # Sent along with every form of this session's pages: a POST without it is refused, so
    # another site cannot make a signed-in teacher's browser send a result.
    form_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))


class Sessions:
    def __init__(self, cookie_name: str = COOKIE) -> None:
        self._data: dict[str, Session] = {}
        self._lock = threading.Lock()
        self.cookie_name = cookie_name

    def get(self, environ: dict[str, Any]) -> tuple[str, Session]:
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        key = cookie[self.cookie_name].value if self.cookie_name in cookie else ""
        with self._lock:
            if key not in self._data:
                key = secrets.token_urlsafe(32)
                self._data[key] = Session()
            return key, self._data[key]

    def forget(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------
def page(config: Config, title: str, body: str) -> bytes:
    return f"""<!DOCTYPE html>
<html lang="nl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} - {html.escape(config.name)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem;
       color: #1a1a1a; }}
h1 {{ color: #b3261e; }}
dt {{ font-weight: 700; margin-top: .75rem; }} dd {{ margin-left: 0; }}
pre {{ background: #f4f4f4; padding: 1rem; overflow-x: auto; }}
.visually-hidden {{ position: absolute; width: 1px; height: 1px; overflow: hidden;
                    clip: rect(0 0 0 0); white-space: nowrap; }}
form.send-result {{ display: inline; margin-left: .5rem; }}
.button {{ display: inline-block; border: 0; font: inherit; cursor: pointer;
          padding: .6rem 1rem; background: #1d4e89; color: #fff;
          border-radius: .4rem; text-decoration: none; }}
</style></head>
<body>
{body}
</body></html>""".encode()


def _class_list(replica: RosterReplica | None, group: dict[str, Any], config: Config,
                form_token: str = "") -> str:
    """A teacher's group from the publisher's own copy of the roster: known before any pupil
    has signed in here. With a form token, each pupil has a *Resultaat versturen* button."""
    if replica is None or not group.get("id"):
        return ""
    pupils = replica.pupils_of(str(group["id"]))
    items = "".join(f"<li>{html.escape(p['given_name'])} {html.escape(p['family_name'])}"
                    f"{_send_button(config, p, form_token)}</li>" for p in pupils)
    return f'<ul class="pupils">{items or NONE}</ul>'


def _send_button(config: Config, pupil: dict[str, Any], form_token: str) -> str:
    if not form_token:
        return ""
    name = html.escape(f"{pupil['given_name']} {pupil['family_name']}")
    return (f'<form method="post" action="{config.path}/resultaat" class="send-result">'
            f'<input type="hidden" name="form_token" value="{html.escape(form_token)}">'
            f'<input type="hidden" name="pupil" value="{html.escape(pupil["id"])}">'
            f'<button type="submit" class="button">Resultaat versturen'
            f'<span class="visually-hidden"> voor {name}</span></button></form>')


def welcome(config: Config, user: dict[str, Any], replica: RosterReplica | None = None,
            form_token: str = "") -> bytes:
    claims = user["claims"]
    first = claims.get("given_name") or claims.get("name") or ""
    groups = claims.get("groups") or []
    teacher = claims.get("role") == "teacher"
    group_items = "".join(
        f"<li>{html.escape(str(g.get('name', '')))} (jaargroep "
        f"{html.escape(str(g.get('jaargroep', '')))})"
        f"{_class_list(replica, g, config, form_token) if teacher else ''}</li>"
        for g in groups if isinstance(g, dict))
    products = "".join(f"<li><code>{html.escape(str(p))}</code></li>"
                       for p in claims.get("products") or [])
    roles = {"pupil": "leerling", "teacher": "leerkracht"}
    role = roles.get(str(claims.get("role", "")), str(claims.get("role", "")))
    body = f"""
<h1>Welkom bij {html.escape(config.name)}</h1>
<p class="greeting">Hallo <strong class="given-name">{html.escape(first)}</strong>,
je bent ingelogd via Klaspoort.</p>
<dl>
  <dt>Naam</dt><dd class="name">{html.escape(str(claims.get("name", "")))}</dd>
  <dt>Rol</dt><dd class="role">{html.escape(role)}</dd>
  <dt>School</dt><dd class="school">{html.escape(str(claims.get("brin6", "")))}</dd>
  <dt>Groepen</dt><dd><ul class="groups">{group_items or NONE}</ul></dd>
  <dt>Methoden die je nu mag openen</dt>
  <dd><ul class="products">{products or NONE}</ul></dd>
</dl>
<h2>Alle gegevens van Klaspoort</h2>
<pre class="claims">{html.escape(json.dumps(claims, indent=2, ensure_ascii=False))}</pre>
<p><a class="button" href="{config.path}/logout">Uitloggen</a></p>"""
    return page(config, "Welkom", body)


class ResultRefused(Exception):
    """A result this app will not send; the message is shown to the teacher (Dutch)."""


def cannot_send(config: Config, message: str) -> bytes:
    return page(config, "Resultaat versturen lukt niet", f"""
<h1>Resultaat versturen lukt niet</h1>
<p class="problem">{html.escape(message)}</p>
<p><a class="button" href="{config.path}/">Terug</a></p>""")


MAX_SCORE = 20
RESULT_TEST = {"test_code": "DEMO-REKENEN-3", "test_name": "Demotoets rekenen blok 3",
               "test_type": "methodetoets", "kind": "toets", "max_score": MAX_SCORE}


def send_result(config: Config, replica: RosterReplica, claims: dict[str, Any],
                pupil_id: str) -> tuple[int, dict[str, Any]]:
    """One result for a pupil of the teacher's groups, through the documented results API
    (docs/publishers.md): POST /results with the app's token. The answer as Klaspoort gave it."""
    pupil = replica.people.get(pupil_id)
    group_ids = {str(g.get("id")) for g in claims.get("groups") or [] if isinstance(g, dict)}
    if pupil is None or pupil.get("role") != "pupil" or not group_ids & set(
            pupil.get("group_ids", [])):
        raise ResultRefused("Deze leerling zit niet in een van je groepen.")
    products = sorted(str(p) for p in claims.get("products") or [])
    if not products:
        raise ResultRefused("Je hebt geen product van deze uitgeverij om een resultaat voor "
                            "te versturen.")
    row = {"id": f"demo-{secrets.token_hex(8)}", "school_id": pupil["school_id"],
           "user_id": pupil_id, "product": products[0], **RESULT_TEST,
           "score": secrets.randbelow(MAX_SCORE + 1),
           "date": time.strftime("%Y-%m-%d")}
    response = requests.post(f"{config.api_url.rstrip('/')}/results", json={"results": [row]},
                             headers={"Authorization": f"Bearer {config.api_token}"},
                             timeout=HTTP_TIMEOUT)
    try:
        answer = response.json()
    except ValueError:
        answer = {"detail": response.text[:500]}
    return response.status_code, {"sent": row, "answer": answer}


def result_sent(config: Config, status: int, outcome: dict[str, Any]) -> bytes:
    answer = outcome["answer"]
    stored = status == 200 and not answer.get("errors")
    headline = "Resultaat verstuurd" if stored else "Resultaat niet opgeslagen"
    return page(config, headline, f"""
<h1>{headline}</h1>
<p class="result-status" role="status">Klaspoort antwoordde met status <strong>{status}</strong>.
</p>
<h2>Verstuurd</h2>
<pre class="result-sent">{html.escape(json.dumps(outcome["sent"], indent=2,
                                                  ensure_ascii=False))}</pre>
<h2>Antwoord van Klaspoort</h2>
<pre class="result-answer">{html.escape(json.dumps(answer, indent=2, ensure_ascii=False))}</pre>
<p><a class="button" href="{config.path}/">Terug</a></p>""")


def _form(environ: dict[str, Any]) -> dict[str, str]:
    """A small urlencoded form body (at most 4 kB)."""
    try:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), 4096)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length).decode("utf-8", "replace") if length else ""
    return {k: v[0] for k, v in parse_qs(body).items()}


def signed_out(config: Config) -> bytes:
    return page(config, "Inloggen", f"""
<h1>Welkom bij {html.escape(config.name)}</h1>
<p>Je bent nog niet ingelogd. Open deze methode vanuit Klaspoort, of log hier in.</p>
<p><a class="button" href="{config.path}/login">Inloggen via Klaspoort</a></p>""")


def problem(config: Config, message: str) -> bytes:
    return page(config, "Inloggen lukt niet", f"""
<h1>Inloggen lukt niet</h1>
<p class="problem">{html.escape(message)}</p>
<p><a class="button" href="{config.path}/login">Opnieuw proberen</a></p>""")


# ---------------------------------------------------------------------------------------------
# The application
# ---------------------------------------------------------------------------------------------
def make_app(config: Config) -> WSGIApp:
    """The WSGI application for `config`."""
    provider = Provider(config.issuer)
    sessions = Sessions(config.cookie)
    home = f"{config.path}/"
    replica = (RosterReplica(config.api_url, config.api_token)
               if config.api_url and config.api_token else None)
    replica_lock = threading.Lock()

    def roster() -> RosterReplica | None:
        """The roster copy, brought up to date (the feed tells only what changed)."""
        if replica is None:
            return None
        with replica_lock:
            try:
                replica.sync()
            except (RosterApiError, requests.RequestException) as error:
                log.warning("roster feed unavailable: %s", error)
        return replica

    def oauth_client(**kwargs: Any) -> OAuth2Session:
        return OAuth2Session(
            config.client_id, config.client_secret or None, scope=SCOPES,
            redirect_uri=config.redirect_uri, code_challenge_method="S256",
            token_endpoint_auth_method=("client_secret_basic" if config.client_secret
                                        else "none"), **kwargs)

    def login(query: dict[str, str], session: Session) -> tuple[str, list[tuple[str, str]],
                                                                   bytes]:
        # A third-party initiated login names its issuer: only Klaspoort's is accepted, so a
        # stranger cannot send users to a provider of their choice.
        if query.get("iss") and query["iss"].rstrip("/") != config.issuer:
            return "400 Bad Request", [], problem(config, "Onbekende inlogdienst.")
        target = query.get("target_link_uri", "")
        # Never an open redirect, and never back into the sign-in itself (Klaspoort sends the
        # launch address as target when the publisher named no other).
        if (not target.startswith(config.origin + home)
                or urlsplit(target).path in (f"{config.path}/login", f"{config.path}/callback",
                                             f"{config.path}/logout")):
            target = home
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(48)
        now = time.time()
        session.pending = {s: v for s, v in session.pending.items()
                           if now - v["at"] < PENDING_SECONDS}
        session.pending[state] = {"nonce": nonce, "verifier": verifier, "target": target,
                                  "at": now}
        extra = {"login_hint": query["login_hint"]} if query.get("login_hint") else {}
        url, _state = oauth_client().create_authorization_url(
            provider.metadata["authorization_endpoint"], state=state, nonce=nonce,
            code_verifier=verifier, **extra)
        return "302 Found", [("Location", url)], b""

    def callback(query: dict[str, str], session: Session) -> tuple[str, list[tuple[str, str]],
                                                                      bytes]:
        flow = session.pending.pop(query.get("state", ""), None)
        if flow is None or time.time() - flow["at"] >= PENDING_SECONDS:
            raise SignInError("Deze inlogpoging is verlopen of onbekend. "
                              "Open de methode opnieuw vanuit Klaspoort.")
        if "error" in query:
            raise SignInError("Klaspoort heeft het inloggen geweigerd "
                              f"({query.get('error_description') or query['error']}).")
        if query.get("iss") and query["iss"] != config.issuer:  # RFC 9207 mix-up defence
            raise SignInError("Het antwoord kwam van een onbekende inlogdienst.")
        client = oauth_client()
        try:
            token = client.fetch_token(
                provider.metadata["token_endpoint"], grant_type="authorization_code",
                code=query.get("code", ""), code_verifier=flow["verifier"])
        except Exception as error:  # Authlib raises its own and requests' errors
            raise SignInError(f"De code kon niet worden ingewisseld ({error}).") from error
        claims = validate_id_token(token.get("id_token", ""), provider, config, flow["nonce"])
        response = client.get(provider.metadata["userinfo_endpoint"], timeout=HTTP_TIMEOUT)
        if response.status_code != 200:
            raise SignInError(f"Userinfo gaf status {response.status_code}.")
        userinfo = response.json()
        if userinfo.get("sub") != claims["sub"]:  # OIDC Core §5.3.2
            raise SignInError("Userinfo hoort bij een andere gebruiker.")
        session.user = {"claims": {**claims, **userinfo}, "id_token": token["id_token"]}
        return "302 Found", [("Location", flow["target"])], b""

    def logout(key: str, session: Session) -> tuple[str, list[tuple[str, str]], bytes]:
        id_token = session.user["id_token"] if session.user else ""
        sessions.forget(key)
        end = provider.metadata.get("end_session_endpoint")
        if not (end and id_token):
            return "302 Found", [("Location", home)], b""
        params = {"id_token_hint": id_token, "client_id": config.client_id}
        if config.post_logout_redirect_uri:
            params["post_logout_redirect_uri"] = config.post_logout_redirect_uri
        return "302 Found", [("Location", f"{end}?{urlencode(params)}")], b""

    def post_result(form: dict[str, str], session: Session) -> tuple[str, bytes]:
        """The *Resultaat versturen* button: only for this session's signed-in teacher."""
        if (session.user is None or replica is None
                or not secrets.compare_digest(form.get("form_token", ""), session.form_token)):
            return "403 Forbidden", cannot_send(config, "Log opnieuw in om een resultaat te "
                                                        "versturen.")
        try:
            status, outcome = send_result(config, roster() or replica, session.user["claims"],
                                          form.get("pupil", ""))
        except ResultRefused as refused:
            return "400 Bad Request", cannot_send(config, str(refused))
        return "200 OK", result_sent(config, status, outcome)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        key, session = sessions.get(environ)
        headers: list[tuple[str, str]] = []
        status, body = "404 Not Found", page(config, "Niet gevonden",
                                             "<h1>Deze pagina bestaat niet.</h1>")
        try:
            method = environ.get("REQUEST_METHOD", "GET")
            if path == "/resultaat" and method == "POST":
                status, body = post_result(_form(environ), session)
            elif method not in ("GET", "HEAD"):
                status, body = "405 Method Not Allowed", b""
            elif path == "/":
                status = "200 OK"
                body = (welcome(config, session.user, roster(),
                                session.form_token if replica is not None else "")
                        if session.user else signed_out(config))
            elif path == "/login":
                status, headers, body = login(query, session)
            elif path == "/callback":
                status, headers, body = callback(query, session)
            elif path == "/logout":
                status, headers, body = logout(key, session)
                key = ""
        except SignInError as error:
            status, headers, body = "400 Bad Request", [], problem(config, str(error))
        except requests.RequestException as error:
            log.warning("Klaspoort unreachable: %s", error)
            status, headers, body = "502 Bad Gateway", [], problem(
                config, "Klaspoort is niet bereikbaar. Probeer het zo nog eens.")
        cookie = (f"{config.cookie}={key}; Path={home}; HttpOnly; SameSite=Lax" if key
                  else f"{config.cookie}=; Path={home}; Max-Age=0")
        if config.redirect_uri.startswith("https:"):
            cookie += "; Secure"
        start_response(status, [
            ("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"), ("Set-Cookie", cookie),
            ("X-Content-Type-Options", "nosniff"), *headers])
        return [body]

    return app


def mount(configs: list[Config]) -> WSGIApp:
    """One server for several publishers: each config's application under its own path (the
    one without a path at the root), as `make demo` serves every demo publisher on :8001."""
    apps = sorted(((c.path, make_app(c)) for c in configs), key=lambda pair: -len(pair[0]))

    def dispatch(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        for prefix, app in apps:
            if not prefix or path == prefix or path.startswith(prefix + "/"):
                return app({**environ, "PATH_INFO": path[len(prefix):] or "/",
                            "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + prefix},
                           start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Deze pagina bestaat niet."]

    return dispatch


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[publisher_app] %(message)s")
    config = Config.from_env()
    configs = [config, *Config.mounted_from_env(config)]
    with make_server(config.host, config.port, mount(configs),
                     handler_class=_QuietHandler) as server:
        for each in configs:
            log.info("%s op http://%s:%s%s/ (Klaspoort: %s, client %s)", each.name,
                     config.host, config.port, each.path, config.issuer, each.client_id)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
