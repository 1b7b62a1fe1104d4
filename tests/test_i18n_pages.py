"""The interface is Dutch unless the user chose English, and the catalogue covers every text.

The source texts are English; the Dutch comes from klaspoort/locale/nl. A text missing from the
catalogue, marked fuzzy or not compiled would silently show English to a Dutch coordinator, so
besides the pages the catalogue itself is checked: complete, translated and compiled.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize
from lxml import html
from playwright.sync_api import expect

from klaspoort.roster import services
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import Group, Pupil, RosterImport
from tests.browser_support import chromium_page, needs_chromium
from tests.factories import PASSWORD, CoordinatorFactory, SchoolFactory, TeacherFactory

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "klaspoort"
LOCALE = PACKAGE / "locale" / "nl" / "LC_MESSAGES"
BROWSER_ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en"}
# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the browser
# test are then refused as "async unsafe" although nothing here is concurrent.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# (URL name, Dutch heading, English heading) of every tab of Beheer.
BEHEER_PAGES = [
    ("schools:data", "Gegevens", "School details"),
    ("schools:checklist", "Schooljaar-checklist", "School year checklist"),
    ("roster:imports", "Gebruikersgegevens invoeren", "Import user data"),
    ("roster:groups", "Groepen", "Groups"),
    ("roster:coordinators", "ICT-coördinatoren", "ICT coordinators"),
    ("roster:teachers", "Leerkrachten", "Teachers"),
    ("roster:pupils", "Leerlingen", "Pupils"),
    ("schools:publishers", "Uitgeverijen", "Publishers"),
    ("licences:contracts", "Licentiebeheer", "Licence management"),
    ("results:couplings", "Resultatenkoppelingen", "Result couplings"),
    ("schools:network_providers", "Netwerkbeheerder instellen", "Set network provider"),
    ("schools:networks", "IP-adressen", "IP addresses"),
    ("shortcuts:index", "Snelkoppelingen", "Shortcuts"),
    ("schools:log", "Logboek", "Log"),
]
DUTCH_TABS = [dutch for _name, dutch, _english in BEHEER_PAGES]
ENGLISH_TABS = [english for _name, _dutch, english in BEHEER_PAGES]


@pytest.fixture(autouse=True)
def _language_of_the_test_process():
    # The middleware activates the chosen language for the thread that served the request;
    # the test client serves it in this thread, so English would stay on for the next test.
    language = translation.get_language()
    yield
    translation.activate(language)


@pytest.fixture
def imported(school, school_file):
    record = services.receive_roster_file(
        school_file(30), source=RosterImport.Source.UPLOAD, school=school)
    return services.process_import(record.pk)


def page_url(name: str, school: Any) -> str:
    return reverse(name, kwargs={"brin6": school.brin6})


def parse(response: Any) -> Any:
    return html.fromstring(response.content.decode())


def heading(doc: Any) -> str:
    return doc.findtext(".//h1").strip()


def tab_labels(doc: Any) -> list[str]:
    return [link.text_content().strip() for link in doc.findall(".//nav[@class='tabs']//a")]


def choose_language(client: Any, language: str, next_url: str) -> Any:
    return client.post(reverse("set_language"), {"language": language, "next": next_url},
                       follow=True, **BROWSER_ENGLISH)


# ---------------------------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "dutch", "english"), BEHEER_PAGES)
def test_a_beheer_page_is_dutch_although_the_browser_asks_for_english(
        coordinator_client, school, imported, name, dutch, english):
    response = coordinator_client.get(page_url(name, school), **BROWSER_ENGLISH)
    doc = parse(response)

    assert response.status_code == 200
    assert response["Content-Language"] == "nl"
    assert doc.get("lang") == "nl"
    assert heading(doc) == dutch
    assert doc.find(".//nav[@class='tabs']").get("aria-label") == "Beheer"
    assert tab_labels(doc) == DUTCH_TABS
    assert "toegang tot digitaal lesmateriaal voor het basisonderwijs" in response.content.decode()


def test_after_choosing_english_every_beheer_page_is_english_until_dutch_is_chosen(
        coordinator_client, school, imported):
    pupils = page_url("roster:pupils", school) + "?sort=-groep&q=groep"
    response = choose_language(coordinator_client, "en", pupils)

    # Back on the same page, with the same search and sort order, now in English.
    assert response.redirect_chain == [(pupils, 302)]
    assert heading(parse(response)) == "Pupils"
    assert "pupils found for \u2018groep\u2019." in response.content.decode()
    for name, _dutch, english in BEHEER_PAGES:
        response = coordinator_client.get(page_url(name, school), **BROWSER_ENGLISH)
        doc = parse(response)
        assert response["Content-Language"] == "en"
        assert doc.get("lang") == "en"
        assert heading(doc) == english, name
        assert tab_labels(doc) == ENGLISH_TABS
        assert doc.find(".//nav[@class='tabs']").get("aria-label") == "Administration"

    data = page_url("schools:data", school)
    response = choose_language(coordinator_client, "nl", data)
    assert heading(parse(response)) == "Gegevens"
    assert tab_labels(parse(response)) == DUTCH_TABS


def test_the_footer_of_every_page_and_the_login_page_offers_both_languages(
        client, coordinator_client, school, imported):
    pages = [page_url(name, school) + "?pagina=1" for name, _d, _e in BEHEER_PAGES]
    responses = [(address, coordinator_client.get(address)) for address in pages]
    client.logout()
    login = reverse("accounts:login") + "?next=/beheer/"
    responses.append((login, client.get(login)))

    for address, response in responses:
        doc = parse(response)
        switch = doc.find(".//footer//form[@class='language-switch']")
        assert switch is not None, address
        assert switch.get("method") == "post"
        assert switch.get("action") == reverse("set_language")
        assert switch.find(".//input[@name='next']").get("value") == address
        assert switch.find(".//input[@name='csrfmiddlewaretoken']") is not None
        # Named by a visible label; each language in its own words, the current one marked.
        label = doc.get_element_by_id(switch.get("aria-labelledby"))
        assert label.text_content() == "Taal"
        buttons = switch.findall(".//button[@name='language']")
        assert [(b.get("value"), b.get("lang"), b.text_content()) for b in buttons] == [
            ("nl", "nl", "Nederlands"), ("en", "en", "English")]
        assert [b.get("aria-current") for b in buttons] == ["true", None]


def test_the_login_page_switches_to_english_and_stays_on_the_login_page(client, db):
    login = reverse("accounts:login") + "?next=/beheer/"
    response = choose_language(client, "en", login)

    assert response.redirect_chain == [(login, 302)]
    doc = parse(response)
    assert heading(doc) == "Sign in"
    assert doc.find(".//label[@for='id_username']").text == "E-mail address"
    buttons = doc.findall(".//footer//button[@name='language']")
    assert [b.get("aria-current") for b in buttons] == [None, "true"]
    response = client.post(login, {"username": "ict@regenboog.example", "password": "fout"})
    assert "This e-mail address and password do not belong together." in \
        response.content.decode()


def test_a_page_shown_after_a_post_lets_the_switch_return_to_the_page_before(
        coordinator_client, school):
    response = coordinator_client.post(page_url("roster:imports", school), {})

    assert response.status_code == 400
    switch = parse(response).find(".//footer//form[@class='language-switch']")
    # Not back to the upload address itself; Django then returns to the referring page.
    assert switch.find(".//input[@name='next']") is None


@pytest.mark.parametrize(("count", "dutch", "english"), [
    (1, "1 actieve leerkracht van", "1 active teacher of"),
    (2, "2 actieve leerkrachten van", "2 active teachers of"),
])
def test_a_count_agrees_with_its_number_in_both_languages(
        coordinator_client, school, count, dutch, english):
    TeacherFactory.create_batch(count, school=school)
    address = page_url("roster:teachers", school)

    caption = parse(coordinator_client.get(address)).findtext(".//caption")
    assert caption.startswith(dutch)
    choose_language(coordinator_client, "en", address)
    caption = parse(coordinator_client.get(address)).findtext(".//caption")
    assert caption.startswith(english)


def test_a_clusters_panel_lists_its_pupils_with_their_own_group_in_both_languages(
        coordinator_client, school, imported):
    cluster = Group.objects.get(school=school, kind=Group.Kind.CLUSTER)
    cluster.cluster_pupils.add(*Pupil.objects.filter(school=school, jaargroep="5")[:3])
    members = cluster.cluster_pupils.filter(active=True).count()
    address = reverse("roster:group", kwargs={"brin6": school.brin6, "group_id": cluster.pk})

    def panel() -> tuple[str, str, list[str]]:
        doc = parse(coordinator_client.get(address))
        table = doc.get_element_by_id("group-detail").find(".//table")
        return (doc.get_element_by_id("group-detail").findtext(".//p").split(" · ")[0],
                table.findtext("caption"), [th.text for th in table.findall(".//thead//th")])

    assert members > 0
    assert panel() == ("Samengestelde groep", f"Leerlingen ({members})",
                       ["Naam", "Jaargroep", "Groep"])
    choose_language(coordinator_client, "en", address)
    assert panel() == ("Cluster", f"Pupils ({members})", ["Name", "Year group", "Group"])


def test_form_errors_and_messages_follow_the_chosen_language(client, school, school_file):
    operator = CoordinatorFactory(school=school, is_staff=True)
    client.force_login(operator)
    imports = page_url("roster:imports", school)

    response = client.post(imports, {"file": SimpleUploadedFile("leeg.xml", b"")})
    assert "Het gekozen bestand is leeg." in response.content.decode()
    choose_language(client, "en", imports)
    response = client.post(imports, {"file": SimpleUploadedFile("leeg.xml", b"")})
    assert "The chosen file is empty." in response.content.decode()

    waiting = services.receive_roster_file(
        school_file(20), source=RosterImport.Source.UPLOAD, school=school)
    process = reverse("roster:process", kwargs={"brin6": school.brin6, "import_id": waiting.pk})
    response = client.post(process, follow=True)
    assert parse(response).findtext(".//div[@class='messages']/p") == \
        "The file has been processed."


def test_the_upload_progress_words_come_from_the_page_in_the_chosen_language(
        coordinator_client, school):
    # beheer.js shows these while a file is sent; it has no words of its own.
    imports = page_url("roster:imports", school)

    def progress() -> tuple[str, str]:
        box = parse(coordinator_client.get(imports)).find(".//div[@class='upload__progress']")
        return box.get("data-uploading"), box.get("data-checking")

    assert progress() == ("Bezig met uploaden…", "Het bestand wordt gecontroleerd…")
    choose_language(coordinator_client, "en", imports)
    assert progress() == ("Uploading…", "Checking the file…")
    script = (PACKAGE / "static" / "klaspoort" / "beheer.js").read_text(encoding="utf-8")
    assert "dataset.uploading" in script and "uploaden" not in script


@pytest.mark.browser
@needs_chromium
def test_in_a_browser_the_keyboard_chooses_english_and_the_switch_keeps_a_search(
        live_server, transactional_db):
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    CoordinatorFactory(school=school, email="ict@regenboog.example")
    record = services.receive_roster_file(generate_school("99ZZ", "00", 40, seed=3),
                                          source=RosterImport.Source.UPLOAD, school=school)
    services.process_import(record.pk)

    with chromium_page() as page:  # a browser that asks for Dutch; English is chosen here
        page.goto(live_server.url + reverse("accounts:login"))
        page.get_by_role("button", name="English").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
        page.get_by_label("E-mail address").fill("ict@regenboog.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("School details")

        page.get_by_role("navigation", name="Administration").get_by_role(
            "link", name="Pupils").click()
        page.get_by_label("Find a pupil").fill("groep 5")
        expect(page.get_by_role("status")).to_contain_text("found for")
        expect(page).to_have_url(re.compile(r"q=groep(%20|\+)5"))
        # htmx changed the address without a page load; the switch follows it.
        page.get_by_role("button", name="Nederlands").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Leerlingen")
        expect(page.get_by_role("status")).to_contain_text("gevonden voor")
        expect(page.get_by_label("Zoek een leerling")).to_have_value("groep 5")


# ---------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------
def po_entries(path: Path) -> list[dict[str, Any]]:
    """The entries of a .po file: references, flags, msgid and msgstr(s), unquoted."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict[str, Any] = {"refs": "", "flags": set(), "context": None, "msgid": "",
                                 "plural": "", "msgstr": []}
        field = None
        for line in block.splitlines():
            if line.startswith("#:"):
                entry["refs"] += line[2:]
            elif line.startswith("#,"):
                entry["flags"] |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("msgctxt "):
                field, entry["context"] = "context", ast.literal_eval(line[8:])
            elif line.startswith("msgid "):
                field, entry["msgid"] = "msgid", ast.literal_eval(line[6:])
            elif line.startswith("msgid_plural "):
                field, entry["plural"] = "plural", ast.literal_eval(line[13:])
            elif line.startswith("msgstr"):
                field = "msgstr"
                entry["msgstr"].append(ast.literal_eval(line.split(" ", 1)[1]))
            elif line.startswith('"') and field == "msgid":
                entry["msgid"] += ast.literal_eval(line)
            elif line.startswith('"') and field == "plural":
                entry["plural"] += ast.literal_eval(line)
            elif line.startswith('"') and field == "msgstr":
                entry["msgstr"][-1] += ast.literal_eval(line)
        if entry["msgid"]:
            entries.append(entry)
    return entries


GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy"}
# What templatize makes of {% translate %} and {% blocktranslate %} (count or not).
_LITERAL = r"""(u'(?:[^'\\]|\\.)*'|u"(?:[^"\\]|\\.)*")"""
TEMPLATE_CALL = re.compile(rf"\bn?gettext\({_LITERAL}(?:, {_LITERAL})?")


def source_messages() -> set[tuple[str, str]]:
    """(msgid, plural) of every text marked for translation in the code and the templates."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in GETTEXT_NAMES and node.args
                    and all(isinstance(a, ast.Constant) and isinstance(a.value, str)
                            for a in node.args[:2 if node.func.id.startswith("n") else 1])):
                plural = node.args[1].value if node.func.id.startswith("n") else ""
                found.add((node.args[0].value, plural))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("pgettext", "pgettext_lazy") and len(node.args) > 1
                    and isinstance(node.args[1], ast.Constant)):
                # A text with a context (the same English word, another Dutch one).
                found.add((node.args[1].value, ""))
    # E-mail templates are .txt (plain-text part, subject) as well as .html.
    for path in [*(PACKAGE / "templates").rglob("*.html"),
                 *(PACKAGE / "templates").rglob("*.txt")]:
        code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        for msgid, plural in TEMPLATE_CALL.findall(code):
            found.add((ast.literal_eval(msgid[1:]),
                       ast.literal_eval(plural[1:]) if plural else ""))
    return found


def test_the_catalogue_holds_exactly_the_texts_of_the_code_and_templates():
    catalogue = {(e["msgid"], e["plural"]) for e in po_entries(LOCALE / "django.po")}
    sources = source_messages()

    assert len(sources) > 250  # the extraction found the texts at all
    # A text missing here shows English to Dutch users: run `make messages` and translate it.
    assert sorted(sources - catalogue) == []
    assert sorted(catalogue - sources) == []


def test_every_text_in_the_catalogue_is_translated_and_compiled():
    entries = po_entries(LOCALE / "django.po")
    with (LOCALE / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)

    untranslated = [e["msgid"] for e in entries
                    if "fuzzy" in e["flags"] or not all(e["msgstr"])]
    assert untranslated == []
    for entry in entries:
        if entry["plural"]:  # Dutch has two forms: one, and all other numbers
            assert [compiled.ngettext(entry["msgid"], entry["plural"], n) for n in (1, 2)] \
                == entry["msgstr"], entry["msgid"]
        elif entry["context"]:
            assert compiled.pgettext(entry["context"], entry["msgid"]) == entry["msgstr"][0], \
                entry["msgid"]
        else:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]

