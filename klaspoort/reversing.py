"""Many addresses of one URL pattern that differ only in their last id, for one reverse().

A project-level module: it imports no app.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.urls import reverse

# Stands in for the id while the pattern is reversed once; any digits the id converter accepts
# would do, these are long enough never to be part of the rest of an address.
_SLOT = "9081726354627181"


def reverse_ids(viewname: str, args: Sequence[Any], ids: Iterable[int]) -> list[str]:
    """`[reverse(viewname, args=[*args, pk]) for pk in ids]`, the same addresses, with a single
    reverse(): a school's pupil page of 40 group tiles paid 40 of them, the biggest part of its
    time after the template (issue 17). The id must be the pattern's last argument, with only
    fixed text after it (as in "…/groep/<group_id>/"); ids are whole numbers, which a URL never
    quotes."""
    address = reverse(viewname, args=[*args, _SLOT])
    head, slot, tail = address.rpartition(_SLOT)
    if not slot or _SLOT in tail:
        raise ValueError(f"{viewname}: the id is not the last part of {address}")
    return [f"{head}{int(pk)}{tail}" for pk in ids]
