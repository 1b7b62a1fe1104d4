"""The claims a publisher receives about a user (R4.4): only what it needs, nothing to join on.

Pure functions over the selectors' values; the validator filters them by the granted scopes.
No e-mail address is ever a claim: pupils have none, and a teacher's address would be an id
that every publisher shares (docs/decisions/0014-single-sign-on.md).
"""

from __future__ import annotations

from typing import Any

from klaspoort.pseudonyms import school_id_for, subject_for
from klaspoort.sso.models import PublisherClient
from klaspoort.sso.selectors import Decision, PersonInfo, may_receive_eck_id

# Which scope releases which claim; `sub` comes with `openid`.
CLAIM_SCOPES = {
    "sub": "openid",
    "given_name": "profile",
    "family_name": "profile",
    "name": "profile",
    "role": "klaspoort",
    "school_id": "klaspoort",
    "brin6": "klaspoort",
    "groups": "klaspoort",
    "products": "klaspoort",
    "eckid": "klaspoort",
}


def name_claims(person: PersonInfo, detail: str) -> dict[str, str]:
    """Given name plus the family name's initial ("Zoë J."), or the full name, as the
    publisher's data agreement says."""
    family = " ".join(part for part in (person.prefix, person.last_name) if part)
    if detail != PublisherClient.NameDetail.FULL:
        family = f"{person.last_name[:1].upper()}." if person.last_name else ""
    return {
        "given_name": person.first_name,
        "family_name": family,
        "name": " ".join(part for part in (person.first_name, family) if part),
    }


def claims_for(decision: Decision, user_id: int) -> dict[str, Any]:
    """Every claim of an allowed decision (sub, name, role, school, groups, products)."""
    client, person = decision.client, decision.person
    assert client is not None and person is not None
    claims: dict[str, Any] = {
        "sub": subject_for(client.publisher_id, user_id),
        **name_claims(person, client.name_detail),
        "role": person.role,
        "school_id": school_id_for(client.publisher_id, person.school.pk),
        "brin6": person.school.brin6,
        "groups": [{"name": g.name, "jaargroep": g.jaargroep, "kind": g.kind}
                   for g in person.groups],
        "products": [p.product.code for p in decision.products],
    }
    if person.eckid and client.chain_partner and may_receive_eck_id(client, person.school):
        claims["eckid"] = person.eckid
    return claims
