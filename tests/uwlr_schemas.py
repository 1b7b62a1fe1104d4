"""The official UWLR 2.2 schemas from ../shared (tests skip when it is absent): a whole SOAP 1.1
message, envelope, autorisatie header and body, checked at once, since the envelope's strict
wildcards check header and body against their own schemas."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from lxml import etree

SCHEMAS = (Path(__file__).resolve().parents[1].parent / "shared" / "standards" / "xsd"
           / "uwlr-2.2" / "Schemas")
needs_schemas = pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"{SCHEMAS} is not there")

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
AUTORISATIE_NS = "http://www.edustandaard.nl/leerresultaten/2/autorisatie"
LEERLINGGEGEVENS = ("http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens",
                    "UWLR_Leerlinggegevens_v2p2.xsd")
LEERRESULTATEN = ("http://www.edustandaard.nl/leerresultaten/2/leerresultaten",
                  "UWLR_Leerresultaten_v2p2.xsd")


@cache
def message_schema(body: tuple[str, str]) -> etree.XMLSchema:
    """The envelope, the autorisatie header and `body` (namespace, schema file) as one schema."""
    imports = "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{(SCHEMAS / name).as_uri()}"/>'
        for ns, name in ((SOAP11_NS, "SOAP_Envelope.xsd"),
                         (AUTORISATIE_NS, "UWLR_Autorisatie_v2p2.xsd"), body))
    wrapper = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
    return etree.XMLSchema(etree.fromstring(wrapper.encode(), base_url=SCHEMAS.as_uri() + "/"))


def message_errors(data: bytes, body: tuple[str, str]) -> list[str]:
    """What the official schemas find wrong in a whole message, with line numbers."""
    checker = message_schema(body)
    if checker.validate(etree.fromstring(data)):
        return []
    return [f"line {e.line}: {e.message}" for e in checker.error_log]
