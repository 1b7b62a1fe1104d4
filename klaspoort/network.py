"""Where a request comes from: the connection's address, or the forwarded one behind our own proxy.

X-Forwarded-For is written by whoever sent the request, so it is only believed when the direct
peer is a proxy we configured (settings.KLASPOORT_TRUSTED_PROXIES); otherwise anyone could claim
the school's address and pass an IP restriction.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _parse_hop(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """One address of a forwarding chain or the connection, as a proxy may write it: bare, with
    a port (`145.10.20.30:4711`, `[2a01::1]:4711`), bracketed; an IPv4-mapped IPv6 address (a
    server listening on `[::]`) counts as its IPv4 form, so a proxy listed as 127.0.0.1 is
    recognised however the connection reports it."""
    value = value.strip().strip('"')
    ip = _parse_ip(value)
    if ip is None and value.startswith("["):
        ip = _parse_ip(value[1:].split("]", 1)[0])
    if ip is None and value.count(":") == 1:
        ip = _parse_ip(value.split(":", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def trusted_proxies() -> list[IPNetwork]:
    """The configured proxies as networks; an unreadable entry is skipped rather than trusted."""
    networks: list[IPNetwork] = []
    for entry in getattr(settings, "KLASPOORT_TRUSTED_PROXIES", []):
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            continue
    return networks


def _is_trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
                proxies: list[IPNetwork]) -> bool:
    return ip is not None and any(ip.version == net.version and ip in net for net in proxies)


def client_ip(request: HttpRequest) -> str:
    """Rule: the client's address is REMOTE_ADDR; when that is a trusted proxy, it is the
    right-most address of X-Forwarded-For that is not a trusted proxy (entries to its left
    could be forged by the client; each of our proxies appends the peer it saw). Garbage in
    the chain stops the walk at the last address a trusted proxy vouched for."""
    remote = str(request.META.get("REMOTE_ADDR", "") or "")
    proxies = trusted_proxies()
    current = _parse_hop(remote)
    if not proxies or not _is_trusted(current, proxies):
        return str(current) if current is not None else remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", "") or "")
    for part in reversed([part for part in forwarded.split(",") if part.strip()]):
        hop = _parse_hop(part)
        if hop is None:
            break
        current = hop
        if not _is_trusted(hop, proxies):
            break
    return str(current)


# --- The school's own addresses (*IP-adres toevoegen*) -------------------------------------------

MAX_INPUT_LENGTH = 100
MAX_LABEL_LENGTH = 100  # SchoolNetwork.label
# Wider than this is unusual for one school and needs an explicit confirmation.
WIDE_PREFIX = {4: 16, 6: 48}

# Ranges that never identify a school on the internet: private, shared, loopback, link-local,
# documentation, benchmarking, multicast, reserved. A range touching any of them is refused.
_NOT_PUBLIC = [
    ipaddress.ip_network(net) for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b:1::/48", "100::/64", "fc00::/7",
        "fe80::/10", "fec0::/10", "ff00::/8",
    )
]
_DOCUMENTATION = [
    ipaddress.ip_network(net) for net in (
        "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20",
    )
]


class NetworkInputError(ValueError):
    """Input for a school network that is refused; `message` is shown to the coordinator."""

    def __init__(self, message: str, *, needs_confirmation: bool = False,
                 field: str = "network") -> None:
        super().__init__(message)
        self.message = message
        self.needs_confirmation = needs_confirmation
        self.field = field


def _not_public(network: IPNetwork) -> bool:
    for address in (network.network_address, network.broadcast_address):
        if (address.is_private or address.is_loopback or address.is_link_local
                or address.is_multicast or address.is_reserved or address.is_unspecified):
            return True
    return any(network.version == other.version and network.overlaps(other)  # type: ignore[arg-type]
               for other in _NOT_PUBLIC)


def parse_school_network(raw: str) -> IPNetwork:
    """A public IPv4/IPv6 address or CIDR range, normalised (host bits cleared, /32 or /128 for
    a single address). Private, loopback, link-local, multicast, reserved, unspecified and
    documentation ranges and /0 are refused, since they can never be a school's address."""
    value = (raw or "").strip()
    if not value:
        raise NetworkInputError(_("Enter an IP address or range."))
    if len(value) > MAX_INPUT_LENGTH:
        raise NetworkInputError(
            _("That is too long for an IP address or range (at most 100 characters)."))
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise NetworkInputError(_(
            "This is not a valid IP address or range. Enter for example 145.10.20.30, "
            "145.10.20.0/24 or 2a01:1234::/48.")) from None
    if network.prefixlen == 0:
        raise NetworkInputError(_("A range covering the whole internet cannot be added."))
    if any(network.version == doc.version and network.overlaps(doc)  # type: ignore[arg-type]
           for doc in _DOCUMENTATION):
        raise NetworkInputError(_(
            "This range is reserved for examples in documentation. Enter the school's own "
            "public address."))
    if _not_public(network):
        raise NetworkInputError(_(
            "This is a private, local or reserved address that is not visible on the internet. "
            "Enter the school's public address."))
    return network


def is_wide(network: IPNetwork) -> bool:
    """Wider than /16 (IPv4) or /48 (IPv6): many more addresses than one school uses."""
    return network.prefixlen < WIDE_PREFIX[network.version]


def parse_client_address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A client address for matching; an IPv4-mapped IPv6 address counts as its IPv4 form."""
    ip = _parse_ip(value or "")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip
