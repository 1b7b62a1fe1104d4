"""The operator's licence commands: consent, licences, access (names and fields of issue 4)."""

import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command

from klaspoort.audit.models import AuditEntry
from klaspoort.licences import services
from klaspoort.licences.models import Contract, GroupLicence
from klaspoort.schools.models import PublisherConsent
from tests.factories import GroupFactory, PupilFactory, TeacherFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory


def run(*args):
    from io import StringIO
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_consent_on_and_off_is_audited_as_an_operator(school):
    publisher = PublisherFactory(name="Malmberg Test", slug="malmberg-test")
    run("consent", "99zz00", "malmberg-test", "on")
    assert PublisherConsent.objects.filter(school=school, publisher=publisher,
                                           withdrawn_at__isnull=True).exists()
    run("consent", "99ZZ00", "Malmberg Test", "off")
    assert not PublisherConsent.objects.filter(school=school, withdrawn_at__isnull=True).exists()
    labels = set(AuditEntry.objects.filter(school=school).values_list("actor_label", flat=True))
    assert labels == {"operator (command line)"}


def test_consent_with_an_unknown_school_or_publisher_fails_clearly(school):
    with pytest.raises(CommandError, match="BRIN6"):
        run("consent", "00XX00", "malmberg", "on")
    with pytest.raises(CommandError, match="publisher"):
        run("consent", "99ZZ00", "no such publisher", "on")


def test_licences_json_lists_contracts_with_groups_children_and_automatic_ones(school,
                                                                             coordinator):
    GroupFactory(school=school, jaargroep="5", key="G5")
    group3 = GroupFactory(school=school, jaargroep="3", key="G3")
    pupil = PupilFactory(school=school, group=group3, key="L77", jaargroep="3")
    contract = ContractFactory(school=school, product=ProductFactory(code="PP4", year_groups=[5]),
                               number="MB-1", start=datetime.date(2026, 8, 1),
                               end=datetime.date(2027, 7, 31))
    services.auto_link(school, today=datetime.date(2026, 11, 23))
    services.link_group(school=school, contract=contract, group=group3, actor=coordinator)
    services.link_child(school=school, contract=contract, pupil=pupil, actor=coordinator)
    data = json.loads(run("licences", "99ZZ00", "--json"))
    assert data == {"contracts": [{
        "number": "MB-1", "title": contract.title, "publisher": contract.publisher.name,
        "product": "PP4", "start": "2026-08-01", "end": "2027-07-31", "type": "group",
        "seats": None, "groups": ["G3", "G5"], "children": ["L77"], "auto_groups": ["G5"]}]}


def test_access_json_for_a_pupil_and_a_teacher(school):
    group = GroupFactory(school=school)
    pupil = PupilFactory(school=school, group=group, key="L1")
    teacher = TeacherFactory(school=school, key="T1")
    teacher.groups.add(group)
    linked = ContractFactory(school=school, number="N-1", product=ProductFactory(code="TA"))
    unlinked = ContractFactory(school=school, number="N-2", product=ProductFactory(code="KP"))
    PublisherConsent.objects.create(school=school, publisher=linked.publisher,
                                    given_at=datetime.datetime.now(datetime.UTC))
    GroupLicence.objects.create(contract=linked, group=group)
    assert unlinked.contract_type == Contract.Type.GROUP
    data = json.loads(run("access", "99ZZ00", "L1", "--json"))
    assert data == {"user": "L1", "role": "pupil",
                    "products": [{"product": "TA", "publisher": linked.publisher.slug,
                                  "via": ["N-1"]}],
                    "denied": [{"product": "KP", "reason": "not_linked"}]}
    assert json.loads(run("access", "99ZZ00", "T1", "--json"))["role"] == "teacher"
    assert pupil.key == "L1"


def test_access_for_an_unknown_key_fails_clearly(school):
    with pytest.raises(CommandError, match="L404"):
        run("access", "99ZZ00", "L404")
    # With --json a script reads the refusal as a JSON document, and the exit status says it.
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("access", "99ZZ00", "L404", "--json", stdout=out, stderr=io.StringIO())
    assert exit_.value.code == 1
    result = json.loads(out.getvalue())
    assert result["status"] == "error" and "L404" in result["error"]
