"""reverse_ids gives exactly the addresses reverse() gives, one pattern reversed once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from klaspoort.reversing import reverse_ids


@pytest.mark.parametrize(("name", "args"), [
    ("signin:pupil_names", ["Ab-12_cdEFgh"]),
    ("signin:pupil_secret", ["Ab-12_cdEFgh", 7]),
    ("signin:home_names", ["K7QX2M"]),
    ("signin:home_secret", ["K7QX2M", 12]),
    ("sso:launch", []),
    ("signin:print_cards", ["12AB34"]),  # fixed text after the id
])
def test_the_same_addresses_as_reverse(name, args):
    ids = [1, 9, 10, 3141592653, 9081726354627181, 2**63 - 1]
    assert reverse_ids(name, args, ids) == [reverse(name, args=[*args, pk]) for pk in ids]


def test_no_ids_no_addresses():
    assert reverse_ids("sso:launch", [], []) == []
