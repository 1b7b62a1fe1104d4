"""The portal's tiles as list items, for signin/_tiles.html."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from klaspoort.signin.selectors import Tile

register = template.Library()


@register.filter(is_safe=True)
def tile_links(tiles: Iterable[Tile]) -> SafeString:
    """Every tile's <li>, a link to open it: byte for byte what a loop over the tiles in the
    template wrote, which was half of a pupil's portal page (issue 17)."""
    return _items(tiles, preview=False)


@register.filter(is_safe=True)
def tile_previews(tiles: Iterable[Tile]) -> SafeString:
    """tile_links without the links, for *Bekijk als groep*."""
    return _items(tiles, preview=True)


def _items(tiles: Iterable[Tile], *, preview: bool) -> SafeString:
    items = []
    for tile in tiles:
        opening = ('<div class="portal-tile portal-tile--preview">' if preview
                   else f'<a class="portal-tile" href="{escape(tile.url)}">')
        icon = (f'<img class="portal-tile__icon" src="{escape(tile.icon_url)}" alt="" width="64"'
                f' height="64" loading="lazy">' if tile.icon_url else
                f'<span class="portal-tile__icon portal-tile__letter" aria-hidden="true">'
                f"{escape(tile.letter)}</span>")
        items.append(
            f"\n      <li>{opening}\n        {icon}\n"
            f'        <span class="portal-tile__name">{escape(tile.name)}</span>\n'
            f'        <span class="portal-tile__publisher">{escape(tile.publisher)}</span>\n'
            f"      {'</div>' if preview else '</a>'}</li>\n    ")
    return mark_safe("".join(items))  # noqa: S308 - every value escaped above
