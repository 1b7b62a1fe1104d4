"""*Snelkoppelingen* (R3.6): the coordinator downloads shortcuts that open the school's pupil
page (or the teacher sign-in) and then one licensed method directly."""

from __future__ import annotations

import configparser
import datetime
import io
import plistlib
import zipfile
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from lxml import html

from klaspoort.licences.models import Product
from klaspoort.schools.models import PublisherConsent
from klaspoort.signin import shortcuts
from tests.factories import CoordinatorFactory, SchoolFactory
from tests.licences.factories import ContractFactory, ProductFactory

TODAY = timezone.localdate


def licensed(school: Any, name: str, *, consent: bool = True, **contract: Any) -> Product:
    product = ProductFactory(name=name, **contract.pop("product", {}))
    ContractFactory(school=school, product=product, **contract)
    if consent:
        PublisherConsent.objects.get_or_create(
            school=school, publisher=product.publisher, defaults={"given_at": timezone.now()})
    return product


def url(name: str, school: Any) -> str:
    return reverse(name, kwargs={"brin6": school.brin6})


def archive(response: Any) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(response.content))


def ini(data: bytes) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(data.decode("ascii"))
    return parser


def opens(address: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


def pupil_page(school: Any) -> str:
    return f"{settings.SITE_URL}/leerling/{school.pupil_page_ref}/"


@pytest.fixture
def methods(school):
    return {
        "plain": licensed(school, "Pluspunt 4"),
        "odd": licensed(school, 'Één/twee: "Rekenen" <plus> & co?'),
        "teacher": licensed(school, "Lijn 3 leerkrachtomgeving",
                            product={"product_type": Product.Type.TEACHER}),
    }


def test_the_pupil_zip_has_a_windows_mac_and_bookmark_shortcut_per_pupil_method(
        coordinator_client, school, methods):
    response = coordinator_client.get(url("shortcuts:pupils", school))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert '.zip"' in response["Content-Disposition"]
    zipped = archive(response)
    names = sorted(zipped.namelist())
    # The teacher environment is no pupil's method; the odd name became a safe ASCII name.
    root = names[0].split("/")[0]
    assert names == sorted([
        f"{root}/Chromebook en tablet.html",
        f"{root}/Windows/Pluspunt 4.url", f"{root}/Windows/Een twee Rekenen plus & co.url",
        f"{root}/macOS/Pluspunt 4.webloc", f"{root}/macOS/Een twee Rekenen plus & co.webloc",
    ])
    windows = ini(zipped.read(f"{root}/Windows/Pluspunt 4.url"))
    assert opens(windows["InternetShortcut"]["URL"]) == (
        pupil_page(school), {"next": [str(methods["plain"].pk)]})
    mac = plistlib.loads(zipped.read(f"{root}/macOS/Een twee Rekenen plus & co.webloc"))
    assert opens(mac["URL"]) == (pupil_page(school), {"next": [str(methods["odd"].pk)]})
    page = html.fromstring(zipped.read(f"{root}/Chromebook en tablet.html").decode("utf-8"))
    links = {a.text_content(): a.get("href") for a in page.iter("a")}
    assert set(links) == {"Pluspunt 4", 'Één/twee: "Rekenen" <plus> & co?'}
    assert opens(links['Één/twee: "Rekenen" <plus> & co?']) == (
        pupil_page(school), {"next": [str(methods["odd"].pk)]})
    assert page.get("lang") == "nl"


def test_the_teacher_zip_opens_the_teacher_sign_in_for_every_method(
        coordinator_client, school, methods):
    zipped = archive(coordinator_client.get(url("shortcuts:teachers", school)))

    urls = {name.rsplit("/", 1)[1]: ini(zipped.read(name))["InternetShortcut"]["URL"]
            for name in zipped.namelist() if name.endswith(".url")}
    assert set(urls) == {"Pluspunt 4 (leerkracht).url",
                         "Een twee Rekenen plus & co (leerkracht).url",
                         "Lijn 3 leerkrachtomgeving (leerkracht).url"}
    assert opens(urls["Lijn 3 leerkrachtomgeving (leerkracht).url"]) == (
        f"{settings.SITE_URL}/leraar/", {"next": [str(methods["teacher"].pk)]})


def test_only_methods_the_school_may_use_today_get_a_shortcut(coordinator_client, school):
    licensed(school, "Geldig")
    licensed(school, "Zonder toestemming", consent=False)
    licensed(school, "Gisteren afgelopen", end=TODAY() - datetime.timedelta(days=1))
    licensed(school, "Nog niet begonnen", start=TODAY() + datetime.timedelta(days=1))
    licensed(school, "Opgezegd", cancelled_until=TODAY() - datetime.timedelta(days=1))
    withdrawn = licensed(school, "Toestemming ingetrokken")
    PublisherConsent.objects.filter(publisher=withdrawn.publisher).update(
        withdrawn_at=timezone.now())
    licensed(SchoolFactory(brin="99YY"), "Van een andere school")

    zipped = archive(coordinator_client.get(url("shortcuts:pupils", school)))
    page = coordinator_client.get(url("shortcuts:index", school))

    assert [n.rsplit("/", 1)[1] for n in zipped.namelist() if n.endswith(".url")] == [
        "Geldig.url"]
    rows = html.fromstring(page.content.decode()).xpath("//tbody/tr/th")
    assert [row.text_content() for row in rows] == ["Geldig"]


def test_one_methods_shortcut_in_each_format(coordinator_client, school, methods):
    base = url("shortcuts:pupils", school)
    odd = methods["odd"].pk

    windows = coordinator_client.get(f"{base}?methode={odd}&formaat=url")
    mac = coordinator_client.get(f"{base}?methode={odd}&formaat=webloc")
    bookmark = coordinator_client.get(f"{base}?methode={odd}&formaat=html")

    assert windows["Content-Type"] == "application/internet-shortcut"
    disposition = windows["Content-Disposition"]
    assert 'filename="Een twee Rekenen plus & co.url"' in disposition
    utf8_name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert utf8_name == "Één twee Rekenen plus & co.url"
    assert "/" not in utf8_name and '"' not in utf8_name
    assert opens(ini(windows.content)["InternetShortcut"]["URL"])[1] == {"next": [str(odd)]}
    assert mac["Content-Type"] == "application/x-webloc"
    assert opens(plistlib.loads(mac.content)["URL"])[1] == {"next": [str(odd)]}
    assert bookmark["Content-Type"] == "text/html; charset=utf-8"
    assert bookmark["Content-Disposition"].startswith("attachment;")
    assert [a.get("href") for a in html.fromstring(bookmark.content).iter("a")] == [
        f"{pupil_page(school)}?next={odd}"]


def test_the_page_links_every_download(coordinator_client, school, methods):
    response = coordinator_client.get(url("shortcuts:index", school))
    doc = html.fromstring(response.content.decode())

    assert response.status_code == 200
    hrefs = [a.get("href") for a in doc.iter("a") if a.get("download") is not None]
    for href in hrefs:
        assert coordinator_client.get(href).status_code == 200, href
    assert url("shortcuts:pupils", school) in hrefs
    assert url("shortcuts:teachers", school) in hrefs
    # Two pupil methods and three teacher methods, three formats each, and the two zips.
    assert len(hrefs) == 2 * 3 + 3 * 3 + 2
    assert pupil_page(school) in response.content.decode()
    assert "alert--warning" in response.content.decode()  # no IP addresses yet


@pytest.mark.parametrize("query", [
    "?methode=999999&formaat=url", "?methode=abc", "?methode={teacher}&formaat=url",
    "?methode={plain}&formaat=exe"])
def test_a_method_the_pupils_cannot_open_or_a_bad_format_is_not_found(
        coordinator_client, school, methods, query):
    query = query.format(teacher=methods["teacher"].pk, plain=methods["plain"].pk)
    response = coordinator_client.get(url("shortcuts:pupils", school) + query)
    assert response.status_code == 404


def test_another_schools_shortcuts_are_not_found(client, school, methods):
    other = SchoolFactory(brin="99YY")
    stranger = CoordinatorFactory(school=other)
    client.force_login(stranger)
    for name in ("shortcuts:index", "shortcuts:pupils", "shortcuts:teachers"):
        assert client.get(url(name, school)).status_code == 404
        assert client.get(url(name, other)).status_code == 200
    plain = methods["plain"].pk
    response = client.get(url("shortcuts:pupils", other) + f"?methode={plain}&formaat=url")
    assert response.status_code == 404


@pytest.mark.parametrize(("name", "safe"), [
    ("Wereld in getallen 5", "Wereld in getallen 5"),
    ("../../etc/passwd", "etc passwd"),
    ("C:\\Windows\\win.ini", "C Windows win.ini"),
    ("Café Ü\u0308ber\tline\nbreak", "Cafe Uber line break"),
    ("con", "con snelkoppeling"),
    ("...", "snelkoppeling"),
    ("中文", "snelkoppeling"),
    ("x" * 200, "x" * shortcuts.MAX_NAME),
])
def test_file_names_are_safe_everywhere(name, safe):
    assert shortcuts.safe_filename(name) == safe


def test_clashing_names_in_one_folder_are_numbered():
    assert shortcuts.unique_names(["Staal/Taal", "Staal Taal", "staal taal"]) == [
        "Staal Taal", "Staal Taal (2)", "staal taal (3)"]


def test_a_shortcut_address_cannot_add_lines():
    with pytest.raises(ValueError):
        shortcuts.url_file(shortcuts.Shortcut("x", "https://a.example/\r\nIconFile=evil"))


def test_the_webloc_escapes_the_address():
    data = shortcuts.webloc_file(shortcuts.Shortcut("x", "https://a.example/?a=1&b=<2>"))
    assert b"&amp;b=&lt;2&gt;" in data
    assert plistlib.loads(data)["URL"] == "https://a.example/?a=1&b=<2>"
