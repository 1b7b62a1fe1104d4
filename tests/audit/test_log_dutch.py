"""The *Logboek* reads as Dutch: every action, every key and every value, not only the labels.

One entry of every action in ACTION_LABELS, with before/after as the code writes them, is
rendered with Dutch chosen; no English field name, no Python literal and no raw code may show.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse
from lxml import html

from klaspoort.audit import services
from klaspoort.audit.labels import ACTION_LABELS, FIELD_LABELS, format_value, readable
from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import OPERATOR

pytestmark = pytest.mark.django_db

PRODUCT = {"code": "PP-4", "name": "Pluspunt 4", "product_type": "oefensoftware",
           "year_groups": [4, 5], "launch_url": "https://pluspunt.example/start",
           "allows_group_licences": True, "allows_child_licences": False, "replaces": None}
CONTRACT = {"number": "C-1", "title": "Pluspunt", "product": "PP-4", "start": "2026-08-01",
            "end": "2027-07-31", "type": "child", "seats": 25, "school": "99ZZ00"}
CLIENT = {"name": "Rekenwonders web", "redirect_uris": ["https://rekenwonders.example/cb"],
          "post_logout_uris": [], "initiate_login_uri": "https://rekenwonders.example/login",
          "default_target_uri": "", "client_type": "confidential", "name_detail": "initial",
          "chain_partner": False}

# action: (before, after), as each app's services write them.
ENTRIES: dict[str, tuple[dict | None, dict | None]] = {
    "roster.upload": (None, {"status": "received", "file_sha256": "ab" * 32}),
    "roster.import.confirm": ({"status": "held"},
                              {"status": "waiting", "pupils": 40, "teachers": 3, "groups": 4}),
    "roster.import.cancel": ({"status": "held"}, {"status": "failed"}),
    "schools.ip.add": (None, {"network": "145.10.20.0/24", "label": "Gebouw A"}),
    "schools.ip.remove": ({"network": "145.10.20.0/24", "label": "Gebouw A"}, None),
    "schools.second_factor.require": ({"require_second_factor": False},
                                      {"require_second_factor": True}),
    "schools.reminders.set": ({"remind_cancellation": True}, {"remind_cancellation": False}),
    "schools.publisher.give": ({"consent": False}, {"consent": True}),
    "schools.publisher.withdraw": ({"consent": True}, {"consent": False}),
    "schools.network_provider.give": ({"consent": False}, {"consent": True}),
    "schools.network_provider.withdraw": ({"consent": True}, {"consent": False}),
    "accounts.coordinator.invite": (None, {"email": "nieuw@school.example"}),
    "accounts.coordinator.accept": (None, {"email": "nieuw@school.example"}),
    "accounts.coordinator.remove": ({"email": "oud@school.example"}, None),
    "accounts.invitation.resend": (None, None),
    "accounts.teacher.email": ({"email": ""}, {"email": "juf@school.example"}),
    "accounts.coordinator.from_roster": (None, {"email": "juf@school.example"}),
    "roster.coupling.on": ({"las": "ESIS", "enabled": False},
                           {"las": "ParnasSys", "enabled": True}),
    "roster.coupling.key": (None, None),
    "roster.coupling.off": ({"las": "ParnasSys", "enabled": True},
                            {"las": "ParnasSys", "enabled": False}),
    "results.coupling.add": (None, {"las": "ParnasSys", "send_grade_boundaries": True}),
    "results.coupling.key": (None, None),
    "results.coupling.settings": ({"send_grade_boundaries": True},
                                  {"send_grade_boundaries": False}),
    "results.coupling.remove": ({"las": "ParnasSys"}, {"waiting_deleted": 12}),
    "results.backfill": (None, {"queued": 340}),
    "results.grade_boundaries": ({"bands": "onvoldoende 1-5,4; goed 5,5-10"},
                                 {"bands": "onvoldoende 1-5,4; voldoende 5,5-7,4; goed 7,5-10"}),
    "roster.secret.change": (None, {"method": "pincode"}),
    "roster.secret.choose": (None, {"method": "pincode"}),
    "roster.secret.regenerate": (None, {"method": "plaatjes", "pupils": 27}),
    "roster.secret.method": ({"method": "plaatjes"}, {"method": "pincode", "pupils": 27}),
    "accounts.teacher.email_from_roster": ({"email": None}, {"email": "meester@school.example"}),
    "licences.group.link": (None, {"group": "Plusklas"}),
    "licences.group.unlink": ({"group": "Plusklas", "automatic": False}, None),
    "licences.child.link": (None, {"child": "Raphaël Dijkstra"}),
    "licences.child.unlink": ({"child": "Raphaël Dijkstra", "publisher": "Malmberg"}, None),
    "licences.contract.cancel": ({"end": "2028-07-31"}, {"end": "2027-07-31"}),
    "licences.auto_link": (None, {"added": 3, "removed": 1}),
    "licences.contract.create": (None, {**CONTRACT, "via": "upload"}),
    "licences.contract.update": ({**CONTRACT, "seats": 20}, {**CONTRACT, "via": "held"}),
    "licences.product.create": (None, PRODUCT),
    "licences.product.update": (PRODUCT, {**PRODUCT, "allows_child_licences": True}),
    "licences.product.icon": ({"icon": None},
                              {"icon": "cd" * 32, "type": "image/png", "size": "256x256"}),
    "exchange.token.create": (None, {"name": "Koppeling"}),
    "exchange.token.revoke": (None, None),
    "exchange.network_token.create": (None, {"name": "Portaal"}),
    "exchange.network_token.revoke": (None, None),
    "exchange.las_token.create": (None, {"name": "Productie"}),
    "exchange.las_token.revoke": (None, None),
    "exchange.oneroster.create": (None, {"name": "LMS"}),
    "exchange.oneroster.revoke": (None, None),
    "exchange.webhook.set": ({"url": "https://oud.zonnebloem.example/kp"},
                             {"url": "https://hooks.zonnebloem.example/kp"}),
    "exchange.webhook.secret": (None, None),
    "exchange.webhook.remove": ({"url": "https://hooks.zonnebloem.example/kp"}, None),
    "signin.pupil.unlock": (None, {"was_waiting": True}),
    "signin.card.issue": (None, {"cards": 25}),
    "signin.card.void": (None, {"cards": 1}),
    "signin.card.reissue": (None, None),
    "signin.home.set": ({"enabled": False}, {"enabled": True}),
    "sso.client.create": (None, {**CLIENT}),
    "sso.client.update": ({"redirect_uris": ["https://rekenwonders.example/cb"]},
                          {"redirect_uris": ["https://rekenwonders.example/cb",
                                             "https://rekenwonders.example/cb2"]}),
    "sso.client.disable": (None, None),
    "sso.client.enable": (None, None),
    "sso.client.delete": ({**CLIENT}, None),
    "sso.secret.rotate": (None, {"overlap_days": 7}),
    "sso.secret.end_overlap": (None, None),
    "results.erase": (None, {"school_year": "2026-2027", "erased": 1200, "archived": 310,
                             "kept": 42, "held_back": 0}),
}
# English words and codes that appeared on the Logboek before it was Dutch throughout.
ENGLISH = ["True", "False", "None", "received", "waiting", "held", "failed", "digibordsoftware",
           "operator", "command line", "upload", "child:", "group:", "automatic",
           "cards", "enabled", "publisher", "seats", "year_groups", "launch_url", "via",
           "confidential", "redirect_uris", "client_type", "name_detail", "initial"]


def test_every_action_has_a_realistic_entry_here():
    # A new action must be added to ENTRIES, so this test keeps covering every one.
    assert set(ENTRIES) == set(ACTION_LABELS)


def test_every_key_written_has_a_label():
    keys = {key for pair in ENTRIES.values() for side in pair if side for key in side}
    assert keys <= set(FIELD_LABELS)


def test_the_log_shows_every_action_in_dutch_words(coordinator_client, school, coordinator,
                                                   monkeypatch):
    # Every action on one page: this test is about the words, not about paging.
    monkeypatch.setattr("klaspoort.schools.views.LOG_PAGE_SIZE", 10_000)
    for action, (before, after) in ENTRIES.items():
        actor = {"roster.upload": OPERATOR, "licences.auto_link": None}.get(action, coordinator)
        services.record(actor=actor,
                        school=school, action=AuditAction(action), target="Plusklas",
                        before=before, after=after)
    response = coordinator_client.get(reverse("schools:log", kwargs={"brin6": school.brin6}))
    assert response.status_code == 200
    page = html.fromstring(response.content)
    # What the school sees unfolded; the folded technical details are checked separately.
    for details in page.xpath("//details"):
        details.getparent().remove(details)
    text = " ".join(page.xpath("//main")[0].text_content().split())
    for word in ENGLISH:
        assert not re.search(rf"(?<![\w@.-]){re.escape(word)}(?![\w@-])", text), word
    for action in ACTION_LABELS:
        assert action not in text
    for key, label in FIELD_LABELS.items():
        if str(label) != key:
            assert f"{key}:" not in text, key
    for expected in ["uitgeverij: Malmberg", "kind: Raphaël Dijkstra",
                     "automatisch gekoppeld: nee", "kaarten: 25", "toestemming: nee → ",
                     "soort: per kind", "status: wacht op bevestiging",
                     "einddatum: 31 juli 2027", "inlogmethode: twee plaatjes",
                     "beheerder (opdrachtregel)", "Klaspoort (automatisch)"]:
        assert expected in text, expected
    assert "checksum" not in text and "ab" * 32 not in text


def test_checksums_fold_away_under_technical_details(coordinator_client, school, coordinator):
    services.record(actor=coordinator, school=school, action=AuditAction.ROSTER_UPLOAD,
                    target="regenboog.xml", after={"status": "received", "file_sha256": "ab" * 32})
    page = html.fromstring(coordinator_client.get(
        reverse("schools:log", kwargs={"brin6": school.brin6})).content)
    (details,) = page.xpath("//details")
    assert details.xpath("summary")[0].text_content() == "Technische details"
    assert "controlegetal: " + "ab" * 32 in details.text_content()


def test_values_in_words():
    assert format_value("automatic", True) == "ja"
    assert format_value("consent", False) == "nee"
    assert format_value("email", None) == "\N{EN DASH}"
    assert format_value("year_groups", [4, 5]) == "4, 5"
    assert readable({"group": "Plusklas", "automatic": False}) == (
        "groep: Plusklas, automatisch gekoppeld: nee")


def test_every_action_has_a_label_of_its_own():
    for action in AuditAction:
        assert str(action.label).strip(), action
        assert str(action.label) != action.value, action
    assert {action.value: action.label for action in AuditAction} == ACTION_LABELS


def test_every_action_the_code_writes_is_an_audit_action():
    # record() takes an AuditAction, so every action has its label; a code written as a plain
    # string (a query, a wrapper's argument) must still be one of them.
    named, spelled = set(), set()
    for path in (Path(__file__).resolve().parents[2] / "klaspoort").rglob("*.py"):
        text = path.read_text("utf-8")
        named |= set(re.findall(r"\bAuditAction\.([A-Z][A-Z0-9_]*)\b", text))
        spelled |= set(re.findall(r'action="([a-z_]+\.[a-z_.]+)"', text))
    assert len(named) > 30
    assert named - set(AuditAction.names) == set()
    assert spelled - set(AuditAction.values) == set()
