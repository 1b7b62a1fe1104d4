"""The claims a publisher receives about a user (R4.4): only what it needs, nothing to join on.

Pure functions over the selectors' values; the validator filters them by the granted scopes.
No e-mail address is ever a claim: pupils have none, and a teacher's address would be an id
that every publisher shares (docs/decisions/0014-single-sign-on.md).
"""

from __future__ import annotations

from typing import Any

from klaspoort.kept import Kept
from klaspoort.licences.publisher_view import family_name_shown, visible_group_ids_of_person
from klaspoort.pseudonyms import group_id_for, school_id_for, subject_for
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
    publisher's data agreement says (licences.publisher_view.family_name_shown)."""
    family = family_name_shown(person.prefix, person.last_name,
                               full=detail == PublisherClient.NameDetail.FULL)
    return {
        "given_name": person.first_name,
        "family_name": family,
        "name": " ".join(part for part in (person.first_name, family) if part),
    }


def claims_for(decision: Decision, user_id: int, kept: Kept | None = None) -> dict[str, Any]:
    """Every claim of an allowed decision (sub, name, role, school, groups, products). The ids
    and the groups are those of the publisher's roster feed (licences.publisher_view): the
    groups the publisher sees, by the ids it knows them by. With `kept` (/o/authorize), the
    school's visible groups as kept under the request's access epoch."""
    client, person = decision.client, decision.person
    assert client is not None and person is not None
    publisher_id = client.publisher_id
    visible = visible_group_ids_of_person(publisher_id, person.school,
                                          [g.pk for g in person.groups], kept=kept)
    claims: dict[str, Any] = {
        "sub": subject_for(publisher_id, user_id),
        **name_claims(person, client.name_detail),
        "role": person.role,
        "school_id": school_id_for(publisher_id, person.school.pk),
        "brin6": person.school.brin6,
        "groups": [{"id": group_id_for(publisher_id, g.pk), "name": g.name,
                    "jaargroep": g.jaargroep, "kind": g.kind}
                   for g in person.groups if g.pk in visible],
        "products": [p.product.code for p in decision.products],
    }
    if person.eckid and client.chain_partner and may_receive_eck_id(client, person.school):
        claims["eckid"] = person.eckid
    return claims
