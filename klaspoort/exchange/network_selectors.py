"""What a network provider (*netwerkbeheerder*) sees (issue 13, item 6; decision 0032).

A network provider runs a school's network, devices and its own sign-in portal. For each
school that consents to it now (*Netwerkbeheerder instellen* in *Beheer*) it reads which
methods each active pupil and teacher may open today, with the addresses its portal links
to. Which products a user may open is decided by the one access rule
(`licences.access.access_for_school`); this module only chooses the fields and the ids.

Ids are pairwise (`klaspoort.pseudonyms`, receiver NETWORK_PROVIDER): every provider gets its
own ids for schools and users, unrelated to another provider's and to a publisher's `sub`, so
they cannot join their data on them.
"""

from __future__ import annotations

import datetime
import hmac
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from klaspoort.addresses import public_url, pupil_page_url
from klaspoort.licences.access import Access, access_for_school
from klaspoort.pseudonyms import NETWORK_PROVIDER, pseudonym
from klaspoort.roster.models import Group, Pupil, PupilCluster, Teacher, TeacherGroup
from klaspoort.schools.models import NetworkProvider, NetworkProviderConsent, School
from klaspoort.signin.selectors import PUPIL_TYPES, launch_url, own_icon
from klaspoort.tenancy import for_school


def provider_by_slug(slug: str) -> NetworkProvider | None:
    """A catalogue network provider by its slug, whatever the capitals."""
    return NetworkProvider.objects.filter(slug__iexact=slug.strip()).first()


def school_id_for(provider: NetworkProvider, school: School) -> str:
    """The school's id at this network provider."""
    return pseudonym(provider.pk, "school", school.pk, receiver=NETWORK_PROVIDER)


def user_id_for(provider: NetworkProvider, user_id: int) -> str:
    """A pupil's or teacher's id at this network provider."""
    return pseudonym(provider.pk, "user", user_id, receiver=NETWORK_PROVIDER)


def consenting_schools(provider: NetworkProvider) -> QuerySet[School]:
    """RULE: a network provider sees a school only while the school's choice of it is open
    (given and not withdrawn); ordered by BRIN6, so pages are stable."""
    chosen = NetworkProviderConsent.objects.filter(
        school=OuterRef("pk"), provider=provider, withdrawn_at__isnull=True)
    return School.objects.filter(Exists(chosen)).order_by("brin", "dependancecode", "pk")


def consenting_school(provider: NetworkProvider, school_id: str) -> School | None:
    """The consenting school with this id at the provider; None for an unknown id and for a
    school that does not (or no longer) consent alike, so the answer says nothing about
    which schools use Klaspoort."""
    if len(school_id) != 64:
        return None
    for pk in consenting_schools(provider).values_list("pk", flat=True).iterator():
        if hmac.compare_digest(pseudonym(provider.pk, "school", pk, receiver=NETWORK_PROVIDER),
                               school_id):
            return consenting_schools(provider).filter(pk=pk).first()
    return None


@dataclass(frozen=True)
class ProductLink:
    code: str
    name: str
    publisher: str
    product_type: str
    icon_url: str  # absolute, on Klaspoort, or ""
    launch_url: str  # Klaspoort's tile address: starts single sign-on
    shortcut_url: str | None  # pupils: the school's pupil page, then the product
    on_portal: bool  # Klaspoort's own portal shows it as this user's tile


@dataclass(frozen=True)
class UserLinks:
    id: str
    role: str  # "pupil" | "teacher"
    given_name: str
    family_name_initial: str
    groups: list[str]
    products: list[ProductLink]


def _products(access: Access, school: School) -> list[ProductLink]:
    links = []
    for item in sorted(access.products, key=lambda a: (a.product.name.lower(), a.product.id)):
        product = item.product
        icon = own_icon(product.icon_url)
        pupil = access.role == "pupil"
        links.append(ProductLink(
            code=product.code, name=product.name, publisher=product.publisher_name,
            product_type=product.product_type, icon_url=public_url(icon) if icon else "",
            launch_url=public_url(launch_url(product.id)),
            shortcut_url=pupil_page_url(school, product.id) if pupil else None,
            # Decision 0023: pupils' tiles are only the products meant for pupils.
            on_portal=not pupil or product.product_type in PUPIL_TYPES))
    return links


def school_access(provider: NetworkProvider, school: School, *, offset: int, limit: int,
                  today: datetime.date | None = None) -> tuple[list[UserLinks], int]:
    """One page of the school's active pupils and teachers with the products each may open
    today (the access rule, `access_for_school`), and the number of them all.

    Ordered by the provider's id of the user: stable from page to page and telling nothing
    about the order in which people were added. Only names the provider needs to show a
    portal: given name, the initial of the family name, the names of the user's active groups.
    """
    everyone = access_for_school(school, today=today)
    ids = sorted((user_id_for(provider, user_id), user_id) for user_id in everyone)
    page = ids[offset:offset + limit]
    wanted = [user_id for _id, user_id in page]
    active_groups = dict(for_school(Group, school).filter(active=True)
                         .values_list("pk", "name"))
    people: dict[int, tuple[str, str, list[int]]] = {}
    pupils = for_school(Pupil, school).filter(active=True, user_id__in=wanted)
    clusters: dict[int, list[int]] = defaultdict(list)
    for pupil_id, group_id in PupilCluster.objects.filter(pupil__in=pupils).values_list(
            "pupil_id", "group_id"):
        clusters[pupil_id].append(group_id)
    for pupil_id, user_id, first, last, group_id in pupils.values_list(
            "pk", "user_id", "first_name", "last_name", "group_id"):
        people[user_id] = (first, last, [group_id, *clusters[pupil_id]])
    teachers = for_school(Teacher, school).filter(active=True, user_id__in=wanted)
    taught: dict[int, list[int]] = defaultdict(list)
    for teacher_id, group_id in TeacherGroup.objects.filter(teacher__in=teachers).values_list(
            "teacher_id", "group_id"):
        taught[teacher_id].append(group_id)
    for teacher_id, user_id, first, last in teachers.values_list(
            "pk", "user_id", "first_name", "last_name"):
        people[user_id] = (first, last, taught[teacher_id])
    items = []
    for provider_id, user_id in page:
        first, last, group_ids = people.get(user_id, ("", "", []))
        groups = sorted({active_groups[pk] for pk in group_ids if pk in active_groups})
        access = everyone[user_id]
        items.append(UserLinks(id=provider_id, role=access.role, given_name=first,
                               family_name_initial=last.strip()[:1].upper(), groups=groups,
                               products=_products(access, school)))
    return items, len(ids)
