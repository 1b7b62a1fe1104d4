"""Speed (issue 5): the nine requests of a pupil's flow — pupil page, group, name, pincode,
portal, tile, authorize, token, userinfo (as bench/locustfile.py sends them) — each make as
many database queries in a school of 5 pupils as in one of 70: the cost of 8:30 on a Monday
does not grow with the size of the school."""

from __future__ import annotations

import base64
import hashlib
import secrets as pysecrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from klaspoort.licences.models import Contract, GroupLicence
from klaspoort.roster import secrets
from klaspoort.roster.models import Pupil
from klaspoort.schools.models import PublisherConsent, SchoolNetwork
from klaspoort.sso.services import register_client
from tests.factories import GroupFactory, PupilFactory, SchoolFactory
from tests.licences.factories import (
    ChildLicenceFactory,
    ContractFactory,
    ProductFactory,
    PublisherFactory,
)

REDIRECT_URI = "http://127.0.0.1:9/callback"
STEPS = ("1 pupil page", "2 group", "3 name", "4 pincode", "5 portal", "6 tile",
         "7 authorize", "8 token", "9 userinfo")


# Steps 1-6 for the next pupil of a group on a warm server (tests run without Redis, so the
# session is read from the database at steps 5 and 6): 3 the pupil; 4 the pupil, the
# session's one INSERT (inside the test's transaction between a SAVEPOINT and its RELEASE,
# which production, in autocommit, does not send), the user's last_login; 5 the user, the
# session, the pupil's own access (two statements); 6 the user, the session.
# Steps 7-9 (decisions 0039, 0041): 7 the session, the user, the application (read again by
# the toolkit's view; its validation finds it kept), the pupil and their clusters (the groups
# the publisher sees are kept per school; the code itself goes to the cache); 8 the user, then
# the ID token and the access token in one transaction (SAVEPOINT/RELEASE pairs here, inside
# the test's transaction; the toolkit's empty one around the unsaved ID token sends nothing in
# production); 9 the access token (the decision kept from authorize answers).
WARM_BUDGETS = {"1 pupil page": 0, "2 group": 0, "3 name": 1, "4 pincode": 5, "5 portal": 4,
                "6 tile": 2, "7 authorize": 5, "8 token": 7, "9 userinfo": 1}


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _pupil(school: Any, group: Any, first_name: str, code: str) -> Any:
    pupil = PupilFactory(school=school, group=group, first_name=first_name,
                         jaargroep=group.jaargroep)
    pupil.signin_secret = secrets.encrypt(f"{secrets.PINCODE}:{code}")
    pupil.save()
    return pupil


def run_flow(ref: str, pupil: Any, code: str, product_id: int, client_id: str,
             client_secret: str) -> dict[str, int]:
    """One pupil's whole flow in a fresh browser; the number of queries of every request."""
    counts: dict[str, int] = {}
    client = Client(REMOTE_ADDR="127.0.0.1")

    def step(name: str, status: int, send: Any) -> Any:
        with CaptureQueriesContext(connection) as queries:
            response = send()
        assert response.status_code == status, (name, response.status_code,
                                                response.content[:300])
        counts[name] = len(queries)
        return response

    base = f"/leerling/{ref}/"
    step("1 pupil page", 200, lambda: client.get(base))
    step("2 group", 200, lambda: client.get(f"{base}groep/{pupil.group_id}/"))
    url = f"{base}groep/{pupil.group_id}/{pupil.pk}/"
    step("3 name", 200, lambda: client.get(url))
    step("4 pincode", 302, lambda: client.post(url, {"code": code, "key": "ok"}))
    step("5 portal", 200, lambda: client.get("/lesmateriaal/"))
    tile = step("6 tile", 302, lambda: client.get(f"/lesmateriaal/open/{product_id}/"))
    hint = _query(tile["Location"])["login_hint"]
    verifier = pysecrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    authorize = step("7 authorize", 302, lambda: client.get("/o/authorize/?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI,
        "scope": "openid profile klaspoort", "state": pysecrets.token_urlsafe(8),
        "nonce": pysecrets.token_urlsafe(8), "code_challenge": challenge,
        "code_challenge_method": "S256", "login_hint": hint})))
    code_given = _query(authorize["Location"])["code"]
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    token = step("8 token", 200, lambda: Client().post("/o/token/", {
        "grant_type": "authorization_code", "code": code_given, "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier}, HTTP_AUTHORIZATION=f"Basic {basic}"))
    access_token = token.json()["access_token"]
    step("9 userinfo", 200, lambda: Client().get(
        "/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access_token}"))
    assert list(counts) == list(STEPS)
    return counts


@pytest.mark.django_db
def test_the_queries_of_each_step_of_the_pupil_flow_do_not_grow_with_the_school():
    school = SchoolFactory(name="Basisschool De Groeiende Boom")
    SchoolNetwork.objects.create(school=school, network="127.0.0.0/8")
    groep5 = GroupFactory(school=school, name="Groep 5", jaargroep="5",
                          signin_method=secrets.PINCODE)
    groep7 = GroupFactory(school=school, name="Groep 7", jaargroep="7",
                          signin_method=secrets.PINCODE)
    pupil = _pupil(school, groep5, "Noor", "04217")
    for n, name in enumerate(("Bram", "Emma")):
        _pupil(school, groep5, name, f"1111{n}")
    for n, name in enumerate(("Finn", "Lotte")):
        _pupil(school, groep7, name, f"2222{n}")
    publisher = PublisherFactory(name="Uitgeverij Meten")
    PublisherConsent.objects.create(school=school, publisher=publisher, given_at=timezone.now())
    products = [ProductFactory(publisher=publisher, name=f"Methode {n}",
                               launch_url="http://127.0.0.1:9/login", year_groups=[5, 7])
                for n in range(3)]
    for product in products:
        contract = ContractFactory(school=school, product=product)
        GroupLicence.objects.create(contract=contract, group=groep5)
        GroupLicence.objects.create(contract=contract, group=groep7)
    registered = register_client(publisher, "Meetapp", [REDIRECT_URI])
    args = (school.pupil_page_ref, pupil, "04217", products[0].pk, registered.client_id,
            registered.client_secret)

    # Once to fill what a running server keeps for good (keys, translations, content types);
    # then from an empty cache, as the first pupil of the morning.
    run_flow(*args)
    cache.clear()
    small = run_flow(*args)

    # The school grows: 10 more groups, 60 more pupils (some in the pupil's own group), 20 more
    # contracts of two more consented publishers, linked to groups and to single pupils.
    new_groups = [GroupFactory(school=school, name=f"Groep {3 + n % 6}{'abcd'[n // 6]}",
                               jaargroep=str(3 + n % 6), signin_method=secrets.PINCODE)
                  for n in range(10)]
    many = [_pupil(school, groep5, f"Kind{n}", f"3{n:04d}") for n in range(15)]
    many += [_pupil(school, new_groups[n % 10], f"Leerling{n}", f"4{n:04d}") for n in range(45)]
    others = [PublisherFactory(name=f"Uitgeverij Erbij {n}") for n in range(2)]
    for other in others:
        PublisherConsent.objects.create(school=school, publisher=other, given_at=timezone.now())
    for n in range(20):
        product = ProductFactory(publisher=(publisher, *others)[n % 3], name=f"Extra {n}",
                                 launch_url="http://127.0.0.1:9/login", year_groups=[5])
        if n % 4 == 3:
            contract = ContractFactory(school=school, product=product,
                                       contract_type=Contract.Type.CHILD, seats=30)
            ChildLicenceFactory(contract=contract, pupil=pupil)
            for child in many[n: n + 5]:
                ChildLicenceFactory(contract=contract, pupil=child)
        else:
            contract = ContractFactory(school=school, product=product)
            for group in (groep5, groep7, *new_groups[n % 10: n % 10 + 3]):
                GroupLicence.objects.create(contract=contract, group=group)

    cache.clear()
    large = run_flow(*args)

    table = "\n".join(f"  {name:<13} {small[name]:>3} -> {large[name]:>3}" for name in STEPS)
    report = (f"queries per request, 5 pupils/2 groups/3 contracts -> 65 pupils/12 groups/"
              f"23 contracts:\n{table}\n  total         {sum(small.values()):>3} -> "
              f"{sum(large.values()):>3}")
    print(report)
    assert small == large, report

    # The next pupil of the same group, on a warm server: what the class's first pupil read of
    # the school, its groups and names, the product and the publisher is kept under the
    # access epoch (klaspoort.kept), so steps 1-6 read only what is this pupil's own.
    bram = Pupil.objects.get(school=school, first_name="Bram")
    warm = run_flow(school.pupil_page_ref, bram, "11110", *args[3:])
    print("warm, the next pupil:", {name: warm[name] for name in STEPS})
    over = {name: (warm[name], budget) for name, budget in WARM_BUDGETS.items()
            if warm[name] > budget}
    assert not over, over
    assert sum(warm.values()) <= sum(WARM_BUDGETS.values()) == 25
