"""Product icons (issue 10, finding 10; decision 0021): publishers upload a PNG or JPEG in the
portal, Klaspoort stores it and serves it from its own address; nothing else is accepted."""

from __future__ import annotations

import json
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from klaspoort.audit.models import AuditEntry
from klaspoort.exchange.models import PublisherApiToken
from klaspoort.licences.icons import MAX_ICON_BYTES
from klaspoort.licences.models import Product, ProductIcon, PublisherMembership
from tests.factories import PASSWORD
from tests.licences.factories import ProductFactory, PublisherFactory, PublisherMemberFactory

pytestmark = pytest.mark.django_db


def chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body)))


def png(width: int = 64, height: int = 64, *, padding: int = 0) -> bytes:
    """A valid RGB PNG, red; `padding` bytes of a text chunk make it bigger."""
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    extra = chunk(b"tEXt", b"Comment\x00" + b"x" * padding) if padding else b""
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + extra + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def jpeg(width: int = 48, height: int = 48) -> bytes:
    """The markers of a baseline JPEG: start, frame header, scan, end."""
    def segment(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body
    frame = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    return (b"\xff\xd8" + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + segment(0xC0, frame) + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
            + b"\x12\x34\x56" + b"\xff\xd9")


def flipped(data: bytes, at: int) -> bytes:
    """The bytes with one of them changed, as a broken transfer would."""
    changed = bytearray(data)
    changed[at] ^= 0xFF
    return bytes(changed)


def upload(data: bytes, name: str = "icoon.png", content_type: str = "image/png"
           ) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def signed_in(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


@pytest.fixture
def publisher():
    return PublisherFactory(name="Uitgeverij Zonnebloem", slug="zonnebloem")


@pytest.fixture
def product(publisher):
    return ProductFactory(publisher=publisher, code="ZB5", name="Zonnebloem 5")


@pytest.fixture
def admin_client(publisher):
    return signed_in(PublisherMemberFactory(publisher=publisher,
                                            role=PublisherMembership.Role.ADMIN).user)


def edit_url(publisher, product) -> str:
    return reverse("publisher:product_edit",
                   kwargs={"slug": publisher.slug, "product_id": product.pk})


def post_icon(client, publisher, product, icon, **extra):
    return client.post(edit_url(publisher, product), {
        "code": product.code, "name": product.name, "product_type": product.product_type,
        "year_groups": ["5"], "icon": icon, **extra})


def icon_address(product) -> str:
    icon = ProductIcon.objects.get(product=product)
    extension = "png" if icon.content_type == "image/png" else "jpg"
    return f"/icoon/{product.pk}/{icon.sha256[:16]}.{extension}"


@pytest.mark.parametrize("data,content_type", [(png(), "image/png"), (jpeg(), "image/jpeg")])
def test_an_admin_uploads_an_icon_which_klaspoort_stores_and_serves(
        admin_client, publisher, product, data, content_type):
    response = post_icon(admin_client, publisher, product, upload(data))
    assert response.status_code == 302
    icon = ProductIcon.objects.get(product=product)
    assert bytes(icon.data) == data and icon.content_type == content_type
    assert AuditEntry.objects.filter(action="licences.product.icon",
                                     after__icon=icon.sha256).exists()
    # Served to anyone, with its own content type, as the bytes uploaded.
    served = Client().get(icon_address(product))
    assert served.status_code == 200 and served.content == data
    assert served["Content-Type"] == content_type
    # The product list and the form show it from Klaspoort.
    listing = admin_client.get(reverse("publisher:products", kwargs={"slug": publisher.slug}))
    assert f'src="{icon_address(product)}"' in listing.content.decode()


def test_the_served_icon_is_inert_and_cached_for_a_year_also_for_a_signed_in_user(
        admin_client, publisher, product):
    post_icon(admin_client, publisher, product, upload(png()))
    for client in (Client(), admin_client):
        response = client.get(icon_address(product))
        assert response.status_code == 200
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"] == "inline"
        assert response["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response["Content-Security-Policy"].startswith("default-src 'none'")


def test_an_unknown_product_a_stale_address_or_a_post_gets_no_icon(
        admin_client, publisher, product):
    post_icon(admin_client, publisher, product, upload(png(40, 40)))
    old = icon_address(product)
    post_icon(admin_client, publisher, product, upload(png(48, 48)))
    new = icon_address(product)
    assert old != new
    client = Client()
    assert client.get(old).status_code == 404  # a cached old address never gets new bytes
    assert client.get(new).status_code == 200
    assert client.get(f"/icoon/{product.pk + 999}/{new.rsplit('/', 1)[1]}").status_code == 404
    assert client.get(new.replace(".png", ".jpg")).status_code == 404
    assert client.post(new).status_code == 405


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
       b"<script>alert(1)</script></svg>")
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
NOT_AN_IMAGE = "Het icoon moet een PNG- of JPEG-afbeelding zijn"


@pytest.mark.parametrize("icon,message", [
    (upload(SVG, "icoon.svg", "image/svg+xml"), NOT_AN_IMAGE),
    (upload(HTML, "icoon.png", "image/png"), NOT_AN_IMAGE),
    (upload(b"GIF89a" + b"\x00" * 100, "icoon.gif", "image/gif"), NOT_AN_IMAGE),
    (upload(png(padding=MAX_ICON_BYTES), "icoon.png"), "Het icoon is te groot (maximaal 256 KB)"),
    (upload(png(2000, 40)), "dit icoon is 2000x40"),
    (upload(png(16, 16)), "dit icoon is 16x16"),
    (upload(jpeg(1025, 64), "icoon.jpg", "image/jpeg"), "dit icoon is 1025x64"),
    (upload(png()[:-20]), "Het icoonbestand is beschadigd"),
    (upload(flipped(png(), -20)), "Het icoonbestand is beschadigd"),
], ids=["svg", "html-named-png", "gif", "oversized", "too-wide", "too-small", "jpeg-too-wide",
        "truncated", "bad-crc"])
def test_anything_but_a_sound_png_or_jpeg_in_size_is_refused_in_dutch(
        admin_client, publisher, product, icon, message):
    response = post_icon(admin_client, publisher, product, icon, name="Nieuwe naam")
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert not ProductIcon.objects.filter(product=product).exists()
    product.refresh_from_db()
    assert product.name == "Zonnebloem 5"  # nothing of the refused form was saved


def test_another_publishers_staff_cannot_change_or_remove_the_icon(
        admin_client, publisher, product):
    post_icon(admin_client, publisher, product, upload(png()))
    stored = ProductIcon.objects.get(product=product).sha256
    other = PublisherFactory(slug="ander")
    outsider = signed_in(PublisherMemberFactory(publisher=other,
                                                role=PublisherMembership.Role.ADMIN).user)
    # Through the other publisher's own portal with this product's id, and through this
    # publisher's portal: both 404.
    own_portal = reverse("publisher:product_edit",
                         kwargs={"slug": other.slug, "product_id": product.pk})
    for address in (own_portal, edit_url(publisher, product)):
        response = outsider.post(address, {
            "code": "ZB5", "name": "Overgenomen", "product_type": "oefensoftware",
            "icon": upload(png(50, 50)), "remove_icon": "on"})
        assert response.status_code == 404
    assert ProductIcon.objects.get(product=product).sha256 == stored


def test_removing_the_icon_brings_the_letter_tile_back_and_the_old_address_is_gone(
        admin_client, publisher, product):
    post_icon(admin_client, publisher, product, upload(png()))
    address = icon_address(product)
    page = admin_client.get(edit_url(publisher, product)).content.decode()
    assert f'src="{address}"' in page and 'name="remove_icon"' in page
    response = admin_client.post(edit_url(publisher, product), {
        "code": "ZB5", "name": "Zonnebloem 5", "product_type": "oefensoftware",
        "remove_icon": "on"})
    assert response.status_code == 302
    assert not ProductIcon.objects.filter(product=product).exists()
    assert Client().get(address).status_code == 404


def test_the_api_ignores_an_icon_address_and_reports_klaspoorts_own(
        client, admin_client, publisher, product):
    _row, token = PublisherApiToken.issue(publisher, "crm")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = {"name": "Zonnebloem 6", "icon_url": "https://zonnebloem.example/icoon.png"}
    created = client.put("/api/publisher/v1/products/ZB6", json.dumps(body),
                         content_type="application/json", **auth)
    assert created.status_code == 201, created.content
    assert created.json()["icon_url"] == ""
    assert "zonnebloem.example" not in json.dumps(
        AuditEntry.objects.filter(action="licences.product.create").values_list(
            "after", flat=True).get())
    post_icon(admin_client, publisher, product, upload(png()))
    listed = {p["code"]: p["icon_url"] for p in
              client.get("/api/publisher/v1/products", **auth).json()}
    assert listed == {"ZB5": icon_address(product), "ZB6": ""}
    assert Product.objects.get(code="ZB6").name == "Zonnebloem 6"
