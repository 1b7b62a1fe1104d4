"""Product icons: publishers upload them in the publisher portal, Klaspoort stores and serves
them (issue 10, finding 10; decision 0021).

A pupil's browser never loads anything from a publisher's server: that would tell the publisher
(and anyone on its servers) which school's pupils open the portal and when, and would let a
publisher's hacked server put any image in front of children. So an icon is accepted only as
bytes that are checked here, stored in the database (ProductIcon) and served from Klaspoort's
own address, which changes with the file.

Pillow is not a dependency, so the checks read the formats themselves: a PNG's signature,
chunks (every CRC), IHDR and a complete compressed image stream; a JPEG's markers up to its
frame header (SOF) and a scan that ends. Only PNG and JPEG: SVG can carry script, and every other
format is refused whatever its name or the browser's content type say.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record
from klaspoort.licences.errors import NotFound
from klaspoort.licences.models import Product, ProductIcon
from klaspoort.schools.models import Publisher

MAX_ICON_BYTES = 256 * 1024
MIN_SIDE = 32
MAX_SIDE = 1024
PNG = "image/png"
JPEG = "image/jpeg"
EXTENSION = {PNG: "png", JPEG: "jpg"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The name in the address: this many hex characters of the SHA-256 (64 bits: a stale or guessed
# address never matches another version of the icon).
DIGEST_CHARS = 16
# A year, the longest HTTP caches honour: the address changes whenever the icon does.
CACHE_CONTROL = "public, max-age=31536000, immutable"
# PNG colour types and the bit depths each allows (PNG specification, table 11.1), with the
# number of samples per pixel.
PNG_COLOUR_TYPES = {0: ((1, 2, 4, 8, 16), 1), 2: ((8, 16), 3), 3: ((1, 2, 4, 8), 1),
                    4: ((8, 16), 2), 6: ((8, 16), 4)}
# JPEG start-of-frame markers (baseline, progressive, lossless, ...): not C4 (DHT), C8 (JPG) or
# CC (DAC), which share the range.
JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass(frozen=True)
class IconImage:
    content_type: str
    width: int
    height: int


class _Damaged(Exception):
    """The bytes start like a PNG or JPEG but are not a whole, readable image."""


def _not_an_image() -> ValidationError:
    return ValidationError(_("The icon must be a PNG or JPEG image (SVG and other formats are "
                             "not accepted)."), code="format")


def _png(data: bytes) -> IconImage:
    pos = len(PNG_SIGNATURE)
    header: tuple[int, ...] | None = None
    compressed = []
    ended = False
    while pos < len(data) and not ended:
        if pos + 8 > len(data):
            raise _Damaged
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(body) != length or len(crc) != 4:
            raise _Damaged
        if zlib.crc32(kind + body) != struct.unpack(">I", crc)[0]:
            raise _Damaged
        if header is None:
            if kind != b"IHDR" or length != 13:
                raise _Damaged
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed.append(body)
        elif kind == b"IEND":
            ended = True
        pos += 12 + length
    if header is None or not ended or not compressed:
        raise _Damaged
    width, height, depth, colour, compression, filtering, interlace = header
    allowed = PNG_COLOUR_TYPES.get(colour)
    if allowed is None or depth not in allowed[0] or (compression, filtering) != (0, 0) or (
            interlace not in (0, 1)):
        raise _Damaged
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        return IconImage(PNG, width, height)  # the size is refused by the caller, by name
    # The image stream must inflate completely; bounded, so a compression bomb stops early.
    bits_per_row = width * depth * allowed[1]
    limit = 2 * height * (1 + (bits_per_row + 7) // 8)  # interlacing adds a little per pass
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(b"".join(compressed), limit)
    except zlib.error as exc:
        raise _Damaged from exc
    if not inflater.eof or not inflated:
        raise _Damaged
    return IconImage(PNG, width, height)


def _jpeg(data: bytes) -> IconImage:
    pos = 2
    size: tuple[int, int] | None = None
    while True:
        # Markers are 0xFF followed by a code; extra 0xFF bytes before the code are padding.
        if pos >= len(data) or data[pos] != 0xFF:
            raise _Damaged
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        if pos >= len(data):
            raise _Damaged
        marker = data[pos]
        pos += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue  # markers without a length
        if marker in (0xD8, 0xD9):
            raise _Damaged  # a second start, or the end before any image
        if pos + 2 > len(data):
            raise _Damaged
        length = struct.unpack(">H", data[pos:pos + 2])[0]
        if length < 2 or pos + length > len(data):
            raise _Damaged
        if marker in JPEG_SOF:
            if length < 8:
                raise _Damaged
            height, width = struct.unpack(">HH", data[pos + 3:pos + 7])
            size = (width, height)
        if marker == 0xDA:  # start of scan: the image data follows, up to the end marker
            if size is None or b"\xff\xd9" not in data[pos + length:]:
                raise _Damaged
            return IconImage(JPEG, *size)
        pos += length


def inspect_icon(data: bytes) -> IconImage:
    """RULE: an icon is a PNG or a JPEG, judged by its bytes (never its name or the content
    type the browser sent), whole and readable, at most 256 KB, from 32x32 to 1024x1024
    pixels. Raises ValidationError with the reason the publisher sees."""
    if len(data) > MAX_ICON_BYTES:
        raise ValidationError(_("The icon is too large (at most 256 KB)."), code="size")
    try:
        if data.startswith(PNG_SIGNATURE):
            image = _png(data)
        elif data.startswith(b"\xff\xd8\xff"):
            image = _jpeg(data)
        else:
            raise _not_an_image()
    except (_Damaged, struct.error) as exc:
        raise ValidationError(_("The icon file is damaged or incomplete; please save it again "
                                "as PNG or JPEG."), code="damaged") from exc
    if not (MIN_SIDE <= image.width <= MAX_SIDE and MIN_SIDE <= image.height <= MAX_SIDE):
        raise ValidationError(
            _("The icon must be from 32x32 to 1024x1024 pixels; this one is "
              "%(width)sx%(height)s.") % {"width": image.width, "height": image.height},
            code="dimensions")
    return image


def icon_name(sha256: str, content_type: str) -> str:
    """The last part of an icon's address: part of its hash, and the extension of its type."""
    return f"{sha256[:DIGEST_CHARS]}.{EXTENSION.get(content_type, 'bin')}"


def icon_url(product_id: int, sha256: str | None, content_type: str | None) -> str:
    """The Klaspoort address of a product's stored icon, or "" when it has none."""
    if not sha256 or not content_type:
        return ""
    return reverse("product_icon", args=[product_id, icon_name(sha256, content_type)])


def url_of(product: Product) -> str:
    """The address of this product's icon, or "" (read with select_related("icon") and
    defer("icon__data") to avoid a query and the bytes per product)."""
    try:
        icon = product.icon
    except ProductIcon.DoesNotExist:
        return ""
    return icon_url(product.pk, icon.sha256, icon.content_type)


@transaction.atomic
def store_icon(publisher: Publisher, product: Product, data: bytes, *, actor: Actor,
               request: HttpRequest | None = None) -> ProductIcon:
    """RULES: only the product's own publisher replaces its icon (NotFound otherwise); the bytes
    pass inspect_icon; the change is audited (no school) with the old and new hash."""
    if product.publisher_id != publisher.pk:
        raise NotFound
    image = inspect_icon(data)
    digest = hashlib.sha256(data).hexdigest()
    old = ProductIcon.objects.filter(product=product).values_list("sha256", flat=True).first()
    icon, _created = ProductIcon.objects.update_or_create(product=product, defaults={
        "content_type": image.content_type, "data": data, "sha256": digest,
        "width": image.width, "height": image.height})
    if old != digest:
        record(actor=actor, school=None, action=AuditAction.LICENCES_PRODUCT_ICON,
               target=f"{publisher.name} {product.code}", before={"icon": old},
               after={"icon": digest, "type": image.content_type,
                      "size": f"{image.width}x{image.height}"}, request=request)
    return icon


@transaction.atomic
def remove_icon(publisher: Publisher, product: Product, *, actor: Actor,
                request: HttpRequest | None = None) -> bool:
    """The product shows its letter tile again. Only its own publisher (NotFound otherwise);
    audited. False when it had no icon."""
    if product.publisher_id != publisher.pk:
        raise NotFound
    old = ProductIcon.objects.filter(product=product).values_list("sha256", flat=True).first()
    if old is None:
        return False
    ProductIcon.objects.filter(product=product).delete()
    record(actor=actor, school=None, action=AuditAction.LICENCES_PRODUCT_ICON,
           target=f"{publisher.name} {product.code}", before={"icon": old},
           after={"icon": None}, request=request)
    return True


@require_safe
def product_icon(request: HttpRequest, product_id: int, name: str) -> HttpResponse:
    """/icoon/<product>/<hash>.<ext>: the stored icon, to anyone (it is shown on the tiles and
    reveals nothing a signed-in user could not see; decision 0021). 404 for an unknown
    product or an address of an older version, so a stale address is never served new bytes
    under a year-long cache."""
    icon = ProductIcon.objects.filter(product_id=product_id).first()
    if icon is None or name != icon_name(icon.sha256, icon.content_type):
        raise Http404
    response = HttpResponse(bytes(icon.data), content_type=icon.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = CACHE_CONTROL
    response["ETag"] = f'"{icon.sha256}"'
    # An image needs no script, style or frame: should the bytes ever be opened as a page,
    # nothing in them runs.
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
