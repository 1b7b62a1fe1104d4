"""A refused field's input is tied to its error message, so a screen reader says why."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_a_refused_ip_address_field_is_described_by_its_error(coordinator_client, school):
    page = coordinator_client.post(reverse("schools:networks", kwargs={"brin6": school.brin6}),
                                   {"network": "geen adres", "label": "x"}).content.decode()
    field = re.search(r'<input[^>]*name="network"[^>]*>', page)
    assert field is not None
    described = re.search(r'aria-describedby="([^"]+)"', field.group(0))
    assert described is not None, field.group(0)
    ids = described.group(1).split()
    assert any(id_.endswith("_error") for id_ in ids)
    for id_ in ids:
        assert f'id="{id_}"' in page
