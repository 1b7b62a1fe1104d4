"""*Waarom kan … niet openen?* (issue 16, item 2): the chain names the access rule's reason as
its first broken link, in Dutch, with the page that fixes it; the command and both pages."""

from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from klaspoort.licences import access as access_rule
from klaspoort.licences.models import ChildLicence, Contract, GroupLicence, PublisherMembership
from klaspoort.roster.models import TeacherGroup
from klaspoort.schools.models import NetworkProviderConsent, PublisherConsent, SchoolNetwork
from klaspoort.signin import session, why
from tests.factories import GroupFactory, PupilFactory, SchoolFactory, TeacherFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherMemberFactory

TODAY = timezone.localdate()
SCHOOL_IP = "145.10.20.30"


@pytest.fixture(autouse=True)
def _dutch():
    # The sentences are read as a Dutch coordinator reads them.
    with translation.override("nl"):
        yield


def consent(school, publisher):
    return PublisherConsent.objects.create(school=school, publisher=publisher,
                                           given_at=timezone.now())


@pytest.fixture
def world(school):
    """Groep 5 with Sam, linked to a running licence of Pluspunt whose publisher is ticked."""
    group = GroupFactory(school=school, name="Groep 5", jaargroep="5")
    sam = PupilFactory(school=school, group=group, first_name="Sam", last_name="Bakker",
                       key="L-SAM")
    product = ProductFactory(name="Pluspunt", code="PP")
    contract = ContractFactory(school=school, product=product, number="MB-1",
                               start=TODAY - datetime.timedelta(days=30),
                               end=TODAY + datetime.timedelta(days=200))
    GroupLicence.objects.create(contract=contract, group=group)
    consent(school, product.publisher)
    SchoolNetwork.objects.create(school=school, network="145.10.20.0/24")
    return type("World", (), {"school": school, "group": group, "sam": sam,
                              "product": product, "contract": contract})


def chain_of(world, person=None, **kwargs):
    with translation.override("nl"):
        return why.explain(world.school, person or world.sam, world.product, **kwargs)


def states(chain):
    return {link.key: link.state for link in chain.links}


def reason_of(world, person=None):
    access = access_rule.access_for_user((person or world.sam).user)
    if access.may_open(world.product.pk):
        return None
    return next(d.reason for d in access.denied if d.product.id == world.product.pk)


def test_all_links_ok_when_the_access_rule_grants_the_product(world):
    chain = chain_of(world)

    assert reason_of(world) is None
    assert chain.granted and chain.first_broken is None
    assert set(states(chain).values()) <= {why.OK, why.INFO}
    assert chain.summary == "Sam Bakker mag Pluspunt openen."


@pytest.mark.parametrize("reason", [access_rule.NOT_LINKED, access_rule.NO_CONSENT,
                                    access_rule.NOT_STARTED, access_rule.ENDED])
def test_the_first_broken_link_is_the_access_rules_reason(world, reason):
    if reason == access_rule.NOT_LINKED:
        GroupLicence.objects.all().delete()
    elif reason == access_rule.NO_CONSENT:
        PublisherConsent.objects.update(withdrawn_at=timezone.now())
    elif reason == access_rule.NOT_STARTED:
        Contract.objects.update(start=TODAY + datetime.timedelta(days=5))
    else:
        Contract.objects.update(cancelled_until=TODAY - datetime.timedelta(days=1))

    chain = chain_of(world)

    assert reason_of(world) == reason == chain.reason
    assert chain.first_broken.key in why.LINK_OF_REASON[reason]
    assert chain.first_broken.fix_url.startswith(f"/beheer/{world.school.brin6}/")
    # Every link before the broken one holds; the rule looked no further than it.
    keys = [link.key for link in chain.links]
    broken_at = keys.index(chain.first_broken.key)
    assert all(link.state == why.OK for link in chain.links[:broken_at])


def test_the_broken_links_speak_dutch(world):
    GroupLicence.objects.all().delete()
    chain = chain_of(world)
    assert chain.first_broken.title == "Licentie gekoppeld"
    assert "Geen licentie van Pluspunt" in chain.first_broken.facts[0]
    assert chain.summary == "Sam Bakker kan Pluspunt niet openen: “Licentie gekoppeld” klopt niet."

    GroupLicence.objects.create(contract=world.contract, group=world.group)
    PublisherConsent.objects.update(withdrawn_at=timezone.now())
    broken = chain_of(world).first_broken
    assert broken.title == "Uitgeverij aangevinkt"
    assert broken.fix_url == reverse("schools:publishers", args=[world.school.brin6])

    PublisherConsent.objects.update(withdrawn_at=None)
    Contract.objects.update(end=TODAY + datetime.timedelta(days=100),
                            cancelled_until=TODAY - datetime.timedelta(days=1))
    broken = chain_of(world).first_broken
    assert broken.title == "Licentie loopt"
    assert "opgezegd" in broken.facts[0]


def test_a_pupil_without_a_group_is_the_broken_link_in_a_group(world):
    world.sam.group = None
    world.sam.save()
    chain = chain_of(world)
    assert chain.reason == access_rule.NOT_LINKED
    assert chain.first_broken.key == why.GROUP
    assert states(chain)[why.LINKED] == why.NOT_REACHED


def test_a_child_licence_counts_without_a_group(world):
    world.sam.group = None
    world.sam.save()
    Contract.objects.update(contract_type=Contract.Type.CHILD, seats=3)
    ChildLicence.objects.create(contract=world.contract, pupil=world.sam)
    chain = chain_of(world)
    assert chain.granted and chain.first_broken is None
    assert "persoonlijk" in " ".join(chain.links[2].facts).lower()


def test_an_inactive_pupil_breaks_the_account_link(world):
    world.sam.active = False
    world.sam.save()
    chain = chain_of(world)
    assert chain.first_broken.key == why.ACCOUNT
    assert {link.state for link in chain.links[1:5]} == {why.NOT_REACHED}


def test_a_teacher_linked_to_the_group(world):
    teacher = TeacherFactory(school=world.school, key="T-MAR", first_name="Marieke",
                             last_name="Visser")
    assert chain_of(world, teacher).first_broken.key == why.GROUP
    TeacherGroup.objects.create(teacher=teacher, group=world.group)
    chain = chain_of(world, teacher)
    assert chain.granted and chain.first_broken is None
    assert states(chain)[why.SIGNIN] == why.OK  # staff open methods from anywhere


def test_a_product_the_school_has_no_licence_of(world):
    other = ProductFactory(name="Taallijn", code="TL")
    with translation.override("nl"):
        chain = why.explain(world.school, world.sam, other)
    assert not chain.granted and chain.reason is None
    assert chain.first_broken.key == why.LINKED


def sign_in_from(world, address, kind=session.AT_SCHOOL):
    request = RequestFactory().get("/", REMOTE_ADDR=address)
    request.session = {}
    request.user = world.sam.user
    session.remember_pupil_signin(request, world.school, kind)


def test_the_last_sign_in_address_of_a_pupil(world):
    assert states(chain_of(world))[why.SIGNIN] == why.INFO  # no sign-in known

    sign_in_from(world, SCHOOL_IP)
    link = chain_of(world).links[5]
    assert link.state == why.OK and SCHOOL_IP in link.facts[0]

    sign_in_from(world, "81.1.2.3")
    chain = chain_of(world)
    assert chain.granted  # the licence is fine; the IP rule stops the method
    assert chain.first_broken.key == why.SIGNIN
    assert chain.first_broken.fix_url == reverse("schools:networks",
                                                 args=[world.school.brin6])
    assert "81.1.2.3" in chain.first_broken.facts[0]
    # A publisher's helpdesk does not see the pupil's address.
    hidden = chain_of(world, for_publisher=True).first_broken
    assert "81.1.2.3" not in " ".join(hidden.facts) and hidden.fix_url == ""
    assert "IP-adres" in hidden.school_setting


def test_home_sign_in_switched_off(world):
    world.school.home_signin_enabled = False
    world.school.save()
    sign_in_from(world, "81.1.2.3", session.AT_HOME)
    assert chain_of(world).first_broken.key == why.SIGNIN
    world.school.home_signin_enabled = True
    world.school.save()
    assert chain_of(world).first_broken is None


def test_the_network_provider_is_information(world):
    from klaspoort.schools.models import NetworkProvider

    provider = NetworkProvider.objects.create(name="Netwerk BV", slug="netwerk-bv")
    NetworkProviderConsent.objects.create(school=world.school, provider=provider,
                                          given_at=timezone.now())
    link = chain_of(world).links[-1]
    assert link.state == why.INFO and "Netwerk BV" in link.facts[0]


def test_another_schools_user_is_not_found(world):
    other = SchoolFactory()
    stranger = PupilFactory(school=other, key="L-OTHER")
    assert why.find_person(world.school, "L-OTHER") is None
    assert why.find_person(other, "L-SAM") is None
    assert why.find_person(world.school, "L-\x00") is None
    with pytest.raises(ValueError):
        why.explain(world.school, stranger, world.product)


# --- The command -----------------------------------------------------------------------------

def run(*args):
    out = StringIO()
    call_command("why", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_command_prints_the_chain(world):
    PublisherConsent.objects.update(withdrawn_at=timezone.now())
    with translation.override("nl"):
        text = run(world.school.brin6, "L-SAM", "PP")
    assert "kan Pluspunt niet openen" in text
    assert "[X]  Uitgeverij aangevinkt" in text


def test_the_command_prints_one_json_document(world):
    document = json.loads(run(world.school.brin6, "L-SAM", "PP", "--json"))
    assert document["may_open"] is True and document["broken"] is None
    assert [link["link"] for link in document["links"]] == [
        why.ACCOUNT, why.GROUP, why.LINKED, why.CONSENT, why.CONTRACT, why.SIGNIN,
        why.NETWORK_PROVIDER]

    Contract.objects.update(start=TODAY + datetime.timedelta(days=3))
    document = json.loads(run(world.school.brin6, "L-SAM", "PP", "--json"))
    assert document["reason"] == access_rule.NOT_STARTED and document["broken"] == why.CONTRACT


@pytest.mark.parametrize("args", [("00XX00", "L-SAM", "PP"), ("BRIN6", "L-SAM", "PP"),
                                  ("SCHOOL", "nobody", "PP"), ("SCHOOL", "L-SAM", "NOPE")])
def test_the_command_refuses_unknown_values(world, args):
    args = tuple(world.school.brin6 if a == "SCHOOL" else a for a in args)
    with pytest.raises(CommandError):
        run(*args)
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("why", *args, "--json", stdout=out, stderr=StringIO())
    assert exit_.value.code == 1
    assert json.loads(out.getvalue())["status"] == "error"


# --- The coordinator's page ------------------------------------------------------------------

def why_url(school):
    return reverse("signin:why", args=[school.brin6])


def test_the_coordinator_searches_a_pupil_and_sees_the_broken_link(world, coordinator_client):
    PublisherConsent.objects.update(withdrawn_at=timezone.now())
    page = coordinator_client.get(why_url(world.school), {"zoek": "Bakker",
                                                          "product": world.product.pk})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Sam Bakker kan Pluspunt niet openen" in text
    assert reverse("schools:publishers", args=[world.school.brin6]) in text
    # Licentiebeheer links to the page.
    assert why_url(world.school) in coordinator_client.get(
        reverse("licences:contracts", args=[world.school.brin6])).content.decode()


def test_the_coordinator_picks_from_several_people(world, coordinator_client):
    PupilFactory(school=world.school, first_name="Sam", last_name="de Vries", group=world.group)
    page = coordinator_client.get(why_url(world.school), {"zoek": "Sam"})
    text = page.content.decode()
    assert "Sam Bakker (leerling, Groep 5)" in text and "Sam de Vries" in text
    page = coordinator_client.get(why_url(world.school), {"persoon": f"p{world.sam.pk}",
                                                          "product": world.product.pk})
    assert "Sam Bakker mag Pluspunt openen" in page.content.decode()
    # The form now holds Sam's key: checking another method finds Sam again.
    assert 'value="L-SAM"' in page.content.decode()
    page = coordinator_client.get(why_url(world.school), {"zoek": "L-SAM",
                                                          "product": world.product.pk})
    assert "Sam Bakker mag Pluspunt openen" in page.content.decode()


def test_the_coordinator_never_sees_another_schools_pupil(world, coordinator_client):
    stranger = PupilFactory(school=SchoolFactory(), first_name="Vreemd", last_name="Kind")
    page = coordinator_client.get(why_url(world.school), {"persoon": f"p{stranger.pk}",
                                                          "product": world.product.pk})
    assert page.status_code == 404
    assert "Vreemd" not in page.content.decode()
    page = coordinator_client.get(why_url(world.school), {"zoek": "Vreemd"})
    assert "Vreemd Kind" not in page.content.decode()
    other = SchoolFactory()
    assert coordinator_client.get(why_url(other)).status_code == 404


@pytest.mark.parametrize("params", [
    {"persoon": "p99999999999999999999999"}, {"persoon": "x1"}, {"product": "-1"},
    {"product": "abc", "persoon": "p1"}, {"zoek": "x" * 5000}, {"persoon": "p\u00e9"},
])
def test_odd_values_on_the_coordinators_page_are_a_message(world, coordinator_client, params):
    page = coordinator_client.get(why_url(world.school), params)
    assert page.status_code in (200, 404)
    assert "alert" in page.content.decode() or "zoek" in params


def test_a_nul_byte_is_refused_before_any_view(world, coordinator_client):
    page = coordinator_client.get(why_url(world.school), {"zoek": "Sam\x00"})
    assert page.status_code == 400


# --- The publisher's helpdesk page ------------------------------------------------------------

@pytest.fixture
def helpdesk(world):
    member = PublisherMemberFactory(publisher=world.product.publisher,
                                    role=PublisherMembership.Role.HELPDESK)
    client = Client()
    client.force_login(member.user)
    return client


def publisher_url(world):
    return reverse("signin:publisher_why", kwargs={"slug": world.product.publisher.slug})


def test_the_helpdesk_sees_the_chain_of_a_consenting_school(world, helpdesk):
    GroupLicence.objects.all().delete()
    page = helpdesk.get(publisher_url(world), {"brin6": world.school.brin6, "sleutel": "L-SAM",
                                               "product": world.product.pk})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Sam B. kan Pluspunt niet openen" in text
    assert "Bakker" not in text and "Groep 5" not in text
    assert f"/beheer/{world.school.brin6}" not in text  # no links into the school's Beheer
    assert "Wat de school aanpast" in text


def main(html):
    return html.split("<h1", 1)[1].split("</main>", 1)[0]


def test_the_helpdesk_learns_nothing_of_a_school_without_consent(world, helpdesk):
    PublisherConsent.objects.update(withdrawn_at=timezone.now())
    page = helpdesk.get(publisher_url(world), {"brin6": world.school.brin6, "sleutel": "L-SAM",
                                               "product": world.product.pk})
    text = page.content.decode()
    assert page.status_code == 404
    assert "Sam" not in text and world.school.name not in text
    unknown = helpdesk.get(publisher_url(world), {"brin6": "00XX00", "sleutel": "L-SAM",
                                                  "product": world.product.pk})
    # The same answer for a school that is not on the platform.
    assert unknown.status_code == 404
    assert main(unknown.content.decode()).replace("00XX00", world.school.brin6) == main(text)


def test_the_helpdesk_sees_only_its_own_products(world, helpdesk):
    other = ContractFactory(school=world.school, product=ProductFactory(name="Vreemde methode"))
    consent(world.school, other.publisher)
    page = helpdesk.get(publisher_url(world), {"brin6": world.school.brin6, "sleutel": "L-SAM",
                                               "product": other.product.pk})
    text = page.content.decode()
    assert page.status_code == 404
    assert "Vreemde methode" not in text
    assert "why-summary" not in text  # no chain shown


def test_another_publishers_staff_cannot_use_the_page(world):
    member = PublisherMemberFactory(role=PublisherMembership.Role.HELPDESK)
    client = Client()
    client.force_login(member.user)
    assert client.get(publisher_url(world)).status_code == 404
