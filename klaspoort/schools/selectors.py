"""Reads about a school's settings: which publishers and network providers it has chosen.

Sign-in and data exchange ask `has_publisher_consent` at the moment of each request, never a
cached copy, so a withdrawal stops both at once.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import Q, QuerySet

from klaspoort.accounts.models import User
from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.kept import Kept
from klaspoort.network import parse_client_address
from klaspoort.schools.models import (
    NetworkProvider,
    NetworkProviderConsent,
    Publisher,
    PublisherConsent,
    School,
    SchoolMembership,
    SchoolNetwork,
)
from klaspoort.tenancy import for_school


def school_year_start(day: datetime.date) -> datetime.date:
    """RULE: a Dutch school year runs from 1 August to 31 July; this is the 1 August of the
    school year `day` falls in."""
    return datetime.date(day.year if day.month >= 8 else day.year - 1, 8, 1)


def current_school_year(today: datetime.date) -> str:
    """The school year `today` falls in, as schools write it: "2026-2027" from 1 August 2026
    to 31 July 2027. Always derived from the date, never from the latest roster file (which
    may be of last year until the new one arrives); every page that shows or needs the current
    school year asks this."""
    start = school_year_start(today).year
    return f"{start}-{start + 1}"


def consented_publishers(school: School) -> QuerySet[Publisher]:
    """Publishers that may receive this school's data now (an open consent)."""
    return Publisher.objects.filter(
        consents__school=school, consents__withdrawn_at__isnull=True).distinct()


def has_publisher_consent(school: School, publisher: Publisher) -> bool:
    """Whether the publisher may receive this school's data and let its users sign in."""
    return for_school(PublisherConsent, school).filter(
        publisher=publisher, withdrawn_at__isnull=True).exists()


def offered_publishers(school: School) -> QuerySet[Publisher]:
    """What the school can choose from: active publishers, plus any it still consents to."""
    return Publisher.objects.filter(
        Q(active=True) | Q(consents__school=school, consents__withdrawn_at__isnull=True)
    ).distinct().order_by("name")


def publisher_consent_history(school: School) -> QuerySet[PublisherConsent]:
    """Every consent the school gave, newest first, with who withdrew it and when."""
    return for_school(PublisherConsent, school).select_related(
        "publisher", "given_by", "withdrawn_by").order_by("-given_at", "-pk")


def has_network_provider_consent(school: School, provider: NetworkProvider) -> bool:
    """Whether the school has currently chosen this network provider."""
    return for_school(NetworkProviderConsent, school).filter(
        provider=provider, withdrawn_at__isnull=True).exists()


def offered_network_providers(school: School) -> QuerySet[NetworkProvider]:
    """Active network providers, plus any the school has chosen and may still untick."""
    return NetworkProvider.objects.filter(
        Q(active=True) | Q(consents__school=school, consents__withdrawn_at__isnull=True)
    ).distinct().order_by("name")


def network_provider_consent_history(school: School) -> QuerySet[NetworkProviderConsent]:
    """Every network provider choice of the school, newest first."""
    return for_school(NetworkProviderConsent, school).select_related(
        "provider", "given_by", "withdrawn_by").order_by("-given_at", "-pk")


def school_networks(school: School) -> QuerySet[SchoolNetwork]:
    """The school's public addresses and ranges (*IP-adres toevoegen*)."""
    return for_school(SchoolNetwork, school).select_related("created_by").order_by("network")


def address_allowed(school: School, ip: str) -> bool:
    """Whether a client address lies in one of the school's networks (an unreadable address
    never does). The school's list is small, so it is matched here rather than in SQL."""
    return address_in(for_school(SchoolNetwork, school).values_list("network", flat=True), ip)


def address_in(networks: Iterable[str], ip: str) -> bool:
    """address_allowed's rule on networks read before (SchoolFacts keeps them)."""
    address = parse_client_address(ip)
    if address is None:
        return False
    for entry in networks:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if network.version == address.version and address in network:
            return True
    return False


@dataclass(frozen=True)
class SchoolFacts:
    """A school with its networks: what every pupil page and every pupil's launch reads."""

    school: School
    networks: tuple[str, ...]

    def allows(self, ip: str) -> bool:
        """address_allowed for this school."""
        return address_in(self.networks, ip)


def _facts_of(school: School | None) -> SchoolFacts | None:
    if school is None:
        return None
    networks = for_school(SchoolNetwork, school).order_by("pk").values_list("network", flat=True)
    return SchoolFacts(school, tuple(networks))


def school_facts(school_id: int, kept: Kept) -> SchoolFacts | None:
    """The school with this id and its networks, kept under the access epoch (klaspoort.kept:
    a network added or removed, or any change to the school, is read at the next request)."""
    return kept.get(school_facts_key(school_id),
                    lambda: _facts_of(School.objects.filter(pk=school_id).first()))


def school_facts_key(school_id: int) -> str:
    """The name school_facts keeps a school under (for Kept.prefetch)."""
    return f"school:{school_id}"


def school_facts_where(name: str, kept: Kept, **lookup: Any) -> SchoolFacts | None:
    """The one school matching `lookup` (a unique field) and its networks, kept under the
    access epoch by `name`; an unknown value is read every time (and keeps nothing)."""
    return kept.get(name, lambda: _facts_of(School.objects.filter(**lookup).first()))


def school_by_brin6(brin6: str) -> School | None:
    """The school location with this BRIN6 (a bare 4-character BRIN means location 00)."""
    brin6 = brin6.strip().upper()
    if len(brin6) not in (4, 6):
        return None
    return School.objects.filter(brin=brin6[:4], dependancecode=brin6[4:6] or "00").first()


def publisher_by_name(name: str) -> Publisher | None:
    """A catalogue publisher by its slug or its name, whatever the capitals."""
    name = name.strip()
    return (Publisher.objects.filter(slug__iexact=name).first()
            or Publisher.objects.filter(name__iexact=name).first())


# ---------------------------------------------------------------------------------------------
# ICT coordinators: invitations and memberships
# ---------------------------------------------------------------------------------------------
INVITATION_SALT = "klaspoort.accounts.coordinator-invitation"


def invitation_from_token(token: str) -> tuple[User, School] | None:
    """The (account, school) of a valid invitation no older than ACTIVATION_TIMEOUT; else None."""
    try:
        data = signing.loads(str(token)[:500], salt=INVITATION_SALT,
                             max_age=settings.ACTIVATION_TIMEOUT)
        user = User.objects.get(pk=int(data["u"]), is_active=True, kind=User.Kind.STAFF)
        school = School.objects.get(pk=int(data["s"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError, User.DoesNotExist,
            School.DoesNotExist):
        return None
    return user, school


def invitation_withdrawn(token: str, user: User, school: School) -> bool:
    """RULE: removing a coordinator also withdraws every invitation of that account to that
    school made before the removal, so a link still in a mailbox cannot undo it. The removal is
    known from the (unchangeable) audit trail; a token without its date counts as older."""
    try:
        made = int(signing.loads(str(token)[:500], salt=INVITATION_SALT).get("t", 0))
    except (signing.BadSignature, AttributeError, TypeError, ValueError):
        return True
    return AuditEntry.objects.filter(
        action=AuditAction.ACCOUNTS_COORDINATOR_REMOVE, school=school, before__email=user.email,
        created_at__gte=datetime.datetime.fromtimestamp(made, tz=datetime.UTC)).exists()


def coordinator_memberships(school: School) -> QuerySet[SchoolMembership]:
    """This school's coordinators with an active account, with their users (a view fetches one
    of them by the user's id, and answers 404 for anybody else: another school's coordinator, a
    teacher, a made-up number)."""
    return for_school(SchoolMembership, school).filter(
        role=SchoolMembership.Role.COORDINATOR, user__is_active=True).select_related("user")
