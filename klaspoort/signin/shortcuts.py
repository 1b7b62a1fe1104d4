"""Shortcut files (*Snelkoppelingen*, R3.6): pure builders, no database and no request.

A shortcut is a file on a desktop that opens one address. Schools put them on pupils' computers
for years, so the files must open on every platform a school has: Windows (`.url`), macOS
(`.webloc`) and, for Chromebooks and tablets that cannot hold such files, an HTML page of links
to bookmark. File names end up in Explorer, Finder and zip tools of every age, so they are kept
to safe ASCII.
"""

from __future__ import annotations

import io
import plistlib
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

# Characters Windows, macOS or a zip tool treat specially in a file name, and control codes.
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')
_SPACES = re.compile(r"\s+")
# Windows refuses these names whatever their extension.
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME = 80
FALLBACK_NAME = "snelkoppeling"

CONTENT_TYPES = {
    "url": "application/internet-shortcut",
    "webloc": "application/x-webloc",
    "html": "text/html; charset=utf-8",
    "zip": "application/zip",
}


@dataclass(frozen=True)
class Shortcut:
    """One shortcut: the title under the icon and the address it opens."""

    title: str
    url: str


def _clean(name: str) -> str:
    name = _UNSAFE.sub(" ", name)
    name = _SPACES.sub(" ", name).strip(" .")
    return name[:MAX_NAME].rstrip(" .")


def safe_filename(name: str) -> str:
    """A file name stem that is safe everywhere: no path or reserved characters, no leading
    or trailing dots, diacritics folded to ASCII ("Één" → "Een"), never empty."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    stem = _clean(ascii_name)
    if not stem or stem.upper() in _RESERVED:
        stem = f"{stem} {FALLBACK_NAME}".strip() if stem else FALLBACK_NAME
    return stem


def display_filename(name: str) -> str:
    """Like safe_filename but keeping the letters with diacritics, for browsers that take a
    UTF-8 name (Content-Disposition filename*)."""
    stem = _clean(unicodedata.normalize("NFC", name))
    return stem if stem and stem.upper() not in _RESERVED else safe_filename(name)


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII name for old clients and the UTF-8 name for the rest
    (RFC 6266): the extension is taken from `filename`."""
    stem, _dot, extension = filename.rpartition(".")
    ascii_name = f"{safe_filename(stem)}.{extension}"
    utf8_name = f"{display_filename(stem)}.{extension}"
    header = f'attachment; filename="{ascii_name}"'
    if utf8_name != ascii_name:
        header += f"; filename*=UTF-8''{quote(utf8_name, safe='')}"
    return header


def _check_url(url: str) -> str:
    # A line break would let a title or address add lines to the INI file; our addresses are
    # built by Klaspoort, so this is a bug, not bad input.
    if any(ch in url for ch in "\r\n\x00"):
        raise ValueError("a shortcut address cannot contain line breaks")
    return url


def url_file(shortcut: Shortcut) -> bytes:
    """A Windows Internet Shortcut (`.url`, INI format with CRLF)."""
    return f"[InternetShortcut]\r\nURL={_check_url(shortcut.url)}\r\n".encode("ascii")


def webloc_file(shortcut: Shortcut) -> bytes:
    """A macOS web location (`.webloc`): an XML property list; plistlib escapes `&` and `<`."""
    return plistlib.dumps({"URL": _check_url(shortcut.url)}, fmt=plistlib.FMT_XML)


def unique_names(titles: Iterable[str]) -> list[str]:
    """Safe file name stems for the titles, numbered where two would clash in one folder
    (case-insensitive, as on Windows and macOS)."""
    seen: set[str] = set()
    names = []
    for title in titles:
        stem = base = safe_filename(title)
        number = 2
        while stem.lower() in seen:
            stem = f"{base} ({number})"
            number += 1
        seen.add(stem.lower())
        names.append(stem)
    return names


def shortcuts_zip(folder: str, shortcuts: list[Shortcut], bookmarks_name: str,
                  bookmarks_html: str) -> bytes:
    """One zip, built in memory: a folder per platform with a shortcut per method, and the
    bookmarks page for Chromebooks and tablets."""
    root = safe_filename(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for stem, shortcut in zip(unique_names(s.title for s in shortcuts), shortcuts,
                                  strict=True):
            archive.writestr(f"{root}/Windows/{stem}.url", url_file(shortcut))
            archive.writestr(f"{root}/macOS/{stem}.webloc", webloc_file(shortcut))
        archive.writestr(f"{root}/{safe_filename(bookmarks_name)}.html",
                         bookmarks_html.encode("utf-8"))
    return buffer.getvalue()
