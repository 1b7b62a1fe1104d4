"""The pupil flow under load (issue 5, Speed): pupil page → group → name → pincode → portal →
tile → authorize → token → userinfo, as one locust task, by as many pupils at once as there are
locust users. Started by bench/pupil_flow.py, which also measures the server's CPU time.

The generator plays the publisher's part itself (the token and userinfo calls its server would
make), so every request of the flow reaches Klaspoort and nothing waits on a second application.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from locust import HttpUser, constant, events, task

DATA = json.loads(open(os.environ["BENCH_DATA"]).read())  # noqa: SIM115


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class Pupil(HttpUser):
    wait_time = constant(0)

    def _expect(self, response: object, status: int, what: str) -> None:
        code = getattr(response, "status_code", None)
        if code != status:
            raise AssertionError(f"{what}: HTTP {code}, expected {status}")

    @task
    def flow(self) -> None:
        pupil = random.choice(DATA["pupils"])
        ref, group = DATA["ref"], pupil["group"]
        client = self.client
        client.cookies.clear()
        started = time.perf_counter()
        try:
            self._expect(client.get(f"/leerling/{ref}/", name="1 pupil page"), 200, "page")
            self._expect(client.get(f"/leerling/{ref}/groep/{group}/", name="2 group"), 200,
                         "group")
            url = f"/leerling/{ref}/groep/{group}/{pupil['pupil']}/"
            self._expect(client.get(url, name="3 name"), 200, "name")
            response = client.post(url, name="4 pincode", allow_redirects=False, data={
                "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""),
                "code": pupil["code"], "key": "ok"})
            self._expect(response, 302, "pincode")
            self._expect(client.get("/lesmateriaal/", name="5 portal"), 200, "portal")
            response = client.get(f"/lesmateriaal/open/{pupil['product']}/", name="6 tile",
                                  allow_redirects=False)
            self._expect(response, 302, "tile")
            hint = _query(response.headers["Location"])["login_hint"]
            verifier = secrets.token_urlsafe(48)
            challenge = base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            response = client.get("/o/authorize/?" + urlencode({
                "response_type": "code", "client_id": DATA["client_id"],
                "redirect_uri": DATA["redirect_uri"], "scope": "openid profile klaspoort",
                "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8),
                "code_challenge": challenge, "code_challenge_method": "S256",
                "login_hint": hint}), name="7 authorize", allow_redirects=False)
            self._expect(response, 302, "authorize")
            code = _query(response.headers["Location"])["code"]
            response = client.post("/o/token/", name="8 token", auth=(
                DATA["client_id"], DATA["client_secret"]), data={
                "grant_type": "authorization_code", "code": code,
                "redirect_uri": DATA["redirect_uri"], "code_verifier": verifier})
            self._expect(response, 200, "token")
            token = response.json()["access_token"]
            response = client.get("/o/userinfo/", name="9 userinfo",
                                  headers={"Authorization": f"Bearer {token}"})
            self._expect(response, 200, "userinfo")
        except Exception as exc:
            events.request.fire(request_type="FLOW", name="complete flow",
                                response_time=(time.perf_counter() - started) * 1000,
                                response_length=0, exception=exc, context={})
            return
        events.request.fire(request_type="FLOW", name="complete flow",
                            response_time=(time.perf_counter() - started) * 1000,
                            response_length=0, exception=None, context={})
