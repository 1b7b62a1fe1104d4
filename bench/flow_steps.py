"""The nine requests of one pupil flow (issue 5): pupil page → group → name → pincode → portal →
tile → authorize → token → userinfo, the publisher's token and userinfo calls included.

Shared by the load test (bench/locustfile.py, with locust's client) and by bench/nodes.py, which
sends the same steps to different nodes in turn: `client` is anything with requests' get/post
that also accepts locust's `name=` (the step's label) and keeps cookies.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def expect(response: object, status: int, what: str) -> None:
    code = getattr(response, "status_code", None)
    if code != status:
        raise AssertionError(f"{what}: HTTP {code}, expected {status}")


def run_flow(client: Any, data: dict[str, Any], pupil: dict[str, Any]) -> dict[str, Any]:
    """One pupil's whole flow; the token response (access and ID token). AssertionError on the
    first step that does not answer as a working sign-in should."""
    ref, group = data["ref"], pupil["group"]
    expect(client.get(f"/leerling/{ref}/", name="1 pupil page"), 200, "page")
    expect(client.get(f"/leerling/{ref}/groep/{group}/", name="2 group"), 200, "group")
    url = f"/leerling/{ref}/groep/{group}/{pupil['pupil']}/"
    expect(client.get(url, name="3 name"), 200, "name")
    response = client.post(url, name="4 pincode", allow_redirects=False, data={
        "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""),
        "code": pupil["code"], "key": "ok"})
    expect(response, 302, "pincode")
    expect(client.get("/lesmateriaal/", name="5 portal"), 200, "portal")
    response = client.get(f"/lesmateriaal/open/{pupil['product']}/", name="6 tile",
                          allow_redirects=False)
    expect(response, 302, "tile")
    hint = _query(response.headers["Location"])["login_hint"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    response = client.get("/o/authorize/?" + urlencode({
        "response_type": "code", "client_id": data["client_id"],
        "redirect_uri": data["redirect_uri"], "scope": "openid profile klaspoort",
        "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge, "code_challenge_method": "S256",
        "login_hint": hint}), name="7 authorize", allow_redirects=False)
    expect(response, 302, "authorize")
    code = _query(response.headers["Location"])["code"]
    response = client.post("/o/token/", name="8 token", auth=(
        data["client_id"], data["client_secret"]), data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": data["redirect_uri"], "code_verifier": verifier})
    expect(response, 200, "token")
    tokens: dict[str, Any] = response.json()
    response = client.get("/o/userinfo/", name="9 userinfo",
                          headers={"Authorization": f"Bearer {tokens['access_token']}"})
    expect(response, 200, "userinfo")
    return tokens
