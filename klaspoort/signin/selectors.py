"""Reads for pupils' sign-in and the portal (*Lesmateriaal*).

Every read takes a constant number of queries whatever the size of the school: the 8:30 rush
of a whole school must not cost more per child in a big school than in a small one.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from klaspoort.kept import Kept, digest
from klaspoort.licences import access as licence_rule
from klaspoort.licences.access import (
    ProductAccess,
    access_for_user,
    kept_access_for_user,
    kept_access_key,
)
from klaspoort.licences.models import GroupLicence, Product
from klaspoort.reversing import reverse_ids
from klaspoort.roster.guards import teacher_of
from klaspoort.roster.models import Group, Pupil
from klaspoort.schools.models import School, SchoolMembership
from klaspoort.schools.selectors import SchoolFacts, school_facts_where
from klaspoort.signin.models import MaintenanceNotice, PupilCard
from klaspoort.tenancy import for_school

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from klaspoort.accounts.models import User

NOTICE_AHEAD = datetime.timedelta(days=7)
_REF = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def school_for_ref(ref: str) -> School | None:
    """The school whose pupil page this reference is (the shortcut's unguessable part)."""
    if not _REF.match(ref or ""):
        return None
    return School.objects.filter(pupil_page_ref=ref).first()


def page_school(ref: str, kept: Kept) -> SchoolFacts | None:
    """school_for_ref with the school's networks, kept under the access epoch (klaspoort.kept):
    the first pupil of the morning reads them, the class after them reads none. The key names
    the reference by its digest only."""
    if not _REF.match(ref or ""):
        return None
    return school_facts_where(f"school-ref:{digest(ref)}", kept, pupil_page_ref=ref)


def normalise_public_id(raw: str) -> str:
    """A School ID as typed: case, spaces and dashes do not matter."""
    return re.sub(r"[\s-]", "", (raw or "")[:64]).upper()


def school_for_home(public_id: str) -> School | None:
    """The school with this School ID, only while it allows home sign-in."""
    public_id = normalise_public_id(public_id)
    if not public_id or len(public_id) > 16:
        return None
    return School.objects.filter(public_id=public_id, home_signin_enabled=True).first()


def words(text: str) -> list[str]:
    """A name as a tile shows it, word by word: a word with a hyphen is kept on one line
    (klaspoort.css .kid-word), so a line breaks only between words, never after a hyphen
    ("Groep 1-" / "2A"); .kid-tile never breaks inside a word ("Mohamme" / "d")."""
    return text.split()


def words_html(text: str) -> SafeString:
    """A tile's text as its markup: the words of `words`, a word with a hyphen in a
    span.kid-word. Built here rather than by a loop in the template, which cost more than the
    rest of the pupil page for a school of 25 groups (issue 17)."""
    return mark_safe(" ".join(  # noqa: S308 - every word is escaped
        f'<span class="kid-word">{escape(word)}</span>' if "-" in word else str(escape(word))
        for word in words(text)))


def size_class(text: str) -> str:
    """Long names get a smaller font instead of a break inside a word (klaspoort.css)."""
    longest = max((len(word) for word in text.split()), default=0)
    if len(text) > 22 or longest > 13:
        return "kid-tile--xlong"
    return "kid-tile--long" if len(text) > 14 or longest > 9 else ""


@functools.lru_cache(maxsize=8192)
def tile_face(text: str) -> tuple[str, SafeString]:
    """A tile's size_class and words_html. Remembered per process: they follow from the text
    alone, and the same names are shown to a whole class within minutes."""
    return size_class(text), words_html(text)


@dataclass(frozen=True)
class GroupTile:
    id: int
    name: str
    jaargroep: str

    @property
    def words(self) -> list[str]:
        return words(self.name)

    @property
    def words_html(self) -> SafeString:
        return self.face[1]

    @property
    def size(self) -> str:
        return self.face[0]

    @property
    def face(self) -> tuple[str, SafeString]:
        return tile_face(self.name)


def signin_groups(school: School, kept: Kept | None = None) -> list[GroupTile]:
    """The active main groups (a pupil signs in through their main group, never a cluster);
    kept under the access epoch when `kept` is given (a group renamed, added or ended shows at
    the next page)."""
    def read() -> list[GroupTile]:
        rows = (for_school(Group, school).filter(kind=Group.Kind.GROUP, active=True)
                .order_by("name").values_list("pk", "name", "jaargroep"))
        return [GroupTile(*row) for row in rows]

    return kept.get(f"groups:{school.pk}", read) if kept is not None else read()


def signin_group(school: School, group_id: int | None) -> Group | None:
    """One active main group of this school, or None (also for another school's group)."""
    pk = group_id
    if pk is None:
        return None
    return (for_school(Group, school).filter(pk=pk, kind=Group.Kind.GROUP, active=True)
            .only("pk", "name", "jaargroep", "signin_method", "kind", "school_id").first())


@dataclass(frozen=True)
class NameTile:
    id: int
    label: str  # first name and as much of the last name as tells the group apart: "Zoë J."

    @property
    def words(self) -> list[str]:
        return words(self.label)

    @property
    def words_html(self) -> SafeString:
        return self.face[1]

    @property
    def size(self) -> str:
        return self.face[0]

    @property
    def face(self) -> tuple[str, SafeString]:
        return tile_face(self.label)


def tile_label(first_name: str, last_name: str) -> str:
    initial = last_name.strip()[:1].upper()
    return f"{first_name} {initial}." if initial else first_name


def _shared_start(one: str, other: str) -> int:
    count = 0
    for a, b in zip(one, other, strict=False):
        if a != b:
            break
        count += 1
    return count


def unique_labels(people: list[tuple[int, str, str]]) -> dict[int, str]:
    """The name tiles' labels of one group, each different from every other on the screen.

    Rule (issue 11, item 4; decision 0023): first name and the initial of the last name
    ("Zoë J."); pupils who share a first name get more letters of the last name until their
    labels differ ("Raphaël Da.", "Raphaël De."), the whole last name when that is all that
    tells them apart. Klaspoort keeps nothing else to tell two identical names apart (no birth
    dates), so identical labels get a number in roster order: "Sam Bakker", "Sam Bakker (2)".
    `people` is (id, first name, last name) in the order the tiles are shown."""
    clusters: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for pk, first, last in people:
        clusters[first.strip().casefold()].append((pk, first.strip(), last.strip()))
    labels: dict[int, str] = {}
    for cluster in clusters.values():
        for pk, first, last in cluster:
            key = last.casefold()
            need = 1 + max((_shared_start(key, other.casefold())
                            for other_pk, _first, other in cluster if other_pk != pk), default=0)
            if not last:
                labels[pk] = first
            elif need >= len(last):
                labels[pk] = f"{first} {last}"
            else:
                labels[pk] = f"{first} {last[:1].upper()}{last[1:need]}."
    seen: dict[str, int] = defaultdict(int)
    for pk, _first, _last in sorted(people):  # the number follows the roster's order
        label = labels[pk]
        seen[label.casefold()] += 1
        if seen[label.casefold()] > 1:
            labels[pk] = f"{label} ({seen[label.casefold()]})"
    return labels


def name_tiles(school: School, group: Group) -> list[NameTile]:
    """The group's name tiles, each label unique in the group (unique_labels)."""
    rows = list(for_school(Pupil, school).filter(group=group, active=True)
                .order_by("first_name", "last_name", "pk")
                .values_list("pk", "first_name", "last_name"))
    labels = unique_labels(rows)
    return [NameTile(pk, labels[pk]) for pk, _first, _last in rows]


def name_label(school: School, group: Group, pupil: Pupil,
               tiles: list[NameTile] | None = None) -> str:
    """The label of the tile this pupil chose, as the names page showed it (`tiles`: the
    group's name tiles when read already)."""
    tiles = name_tiles(school, group) if tiles is None else tiles
    tile = next((t for t in tiles if t.id == pupil.pk), None)
    return tile.label if tile else tile_label(pupil.first_name, pupil.last_name)


def names_key(school_id: int, group_id: int | None) -> str:
    return f"names:{school_id}:{group_id}"


def group_with_names(school: School, group_id: int | None, kept: Kept
                     ) -> tuple[Group, list[NameTile]] | None:
    """signin_group and its name_tiles, kept under the access epoch (klaspoort.kept): a pupil
    added, renamed, moved or deactivated, or the group renamed or ended, shows at the next
    page. None for what is not an active main group of the school (not kept)."""
    def read() -> tuple[Group, list[NameTile]] | None:
        group = signin_group(school, group_id)
        return (group, name_tiles(school, group)) if group is not None else None

    if group_id is None:
        return None
    return kept.get(names_key(school.pk, group_id), read)


def signin_pupil(school: School, group: Group, pupil_id: int | None, *,
                 with_user: bool = True) -> Pupil | None:
    """An active pupil of this group of this school whose account is active, or None; with
    their user unless `with_user` is False (a page that only shows the keypad or the pictures
    never touches it, and reading it too cost a sixth of the read)."""
    pk = pupil_id
    if pk is None:
        return None
    pupils = for_school(Pupil, school).filter(pk=pk, group=group, active=True,
                                              user__is_active=True)
    # [:1], not first(): the id is unique, and the ORDER BY that first() adds cost a fifth of
    # this read's CPU on every names page and sign-in (issue 17).
    found = list((pupils.select_related("user") if with_user else pupils)[:1])
    return found[0] if found else None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def valid_card(school: School, token: str) -> PupilCard | None:
    """The card with this token at this school if it still signs in: not voided, its pupil
    active. None for anything else, without saying which."""
    if not _TOKEN.match(token or ""):
        return None
    return (for_school(PupilCard, school)
            .filter(token_digest=token_digest(token), voided_at__isnull=True,
                    pupil__active=True, pupil__user__is_active=True)
            .select_related("pupil__user").first())


NOTICES = "notices"


def current_notices(now: datetime.datetime | None = None, kept: Kept | None = None
                    ) -> list[MaintenanceNotice]:
    """Maintenance going on now or starting within a week, soonest first. With `kept`, the
    notices that had not ended are kept under the access epoch and the window is applied at
    every page, so a notice still appears a week ahead and disappears when it ends."""
    now = now or timezone.now()
    if kept is None:
        return list(MaintenanceNotice.objects.filter(ends_at__gt=now,
                                                     starts_at__lte=now + NOTICE_AHEAD))
    unended = kept.get(NOTICES, lambda: list(MaintenanceNotice.objects.filter(ends_at__gt=now)))
    return [notice for notice in unended
            if notice.ends_at > now and notice.starts_at <= now + NOTICE_AHEAD]


# ---------------------------------------------------------------------------------------------
# The portal
# ---------------------------------------------------------------------------------------------
def launch_url(product_id: int) -> str:
    """Where a tile goes: the single sign-on start for the product."""
    try:
        return reverse("sso:launch", args=[product_id])
    except NoReverseMatch:  # the sso app's URLs are not installed (yet)
        return f"/lesmateriaal/open/{product_id}/"


def launch_urls(product_ids: list[int]) -> list[str]:
    """launch_url of each product, reversed once for all of a portal's tiles."""
    try:
        return reverse_ids("sso:launch", [], product_ids)
    except NoReverseMatch:
        return [f"/lesmateriaal/open/{product_id}/" for product_id in product_ids]


@dataclass(frozen=True)
class Tile:
    product_id: int
    name: str
    publisher: str
    icon_url: str
    letter: str
    url: str


@dataclass
class TypeSection:
    label: str
    tiles: list[Tile]


@dataclass
class GroupSection:
    id: int
    name: str
    print_url: str
    sections: list[TypeSection]


@dataclass
class Portal:
    role: str  # "pupil" | "teacher" | "staff"
    sections: list[TypeSection] = field(default_factory=list)
    groups: list[GroupSection] = field(default_factory=list)
    beheer: bool = False
    # A coordinator's "Bekijk als groep …" per school they administer: (school name, address).
    view_as: list[tuple[str, str]] = field(default_factory=list)


def own_icon(url: str) -> str:
    """The tile's icon: the publisher's uploaded icon as Klaspoort stores and serves it
    (/icoon/…, licences.icons), never an address on a publisher's server, which a pupil's
    browser must not load (issue 10, finding 10; decision 0021; the Content-Security-Policy
    would refuse it anyway). A product without a stored icon shows its letter."""
    return url if url.startswith("/icoon/") else ""


def _sections(products: list[ProductAccess]) -> list[TypeSection]:
    """Tiles grouped by product type, types in the catalogue's order, names alphabetical."""
    by_type: dict[str, list[Tile]] = defaultdict(list)
    urls = launch_urls([access.product.id for access in products])
    for access, url in zip(products, urls, strict=True):
        p = access.product
        by_type[p.product_type].append(Tile(p.id, p.name, p.publisher_name,
                                            own_icon(p.icon_url),
                                            (p.name[:1] or "?").upper(), url))
    order = [value for value, _label in Product.Type.choices]
    sections = []
    for value in sorted(by_type, key=lambda v: order.index(v) if v in order else len(order)):
        label = Product.Type(value).label if value in order else value
        sections.append(TypeSection(str(label), sorted(by_type[value],
                                                       key=lambda t: t.name.lower())))
    return sections


# What a pupil opens themselves (decision 0023): practice software, tests, reference works and
# "other" (a publisher's games and extras). Whiteboard software and the teacher environment are
# the teacher's, shown on the class's board or used to prepare; teachers see every type.
PUPIL_TYPES = frozenset({Product.Type.PRACTICE, Product.Type.TESTS, Product.Type.REFERENCE,
                         Product.Type.OTHER})


def for_pupils(products: list[ProductAccess]) -> list[ProductAccess]:
    """Rule: a pupil's tiles show only the products meant for pupils (PUPIL_TYPES). Access
    itself is unchanged (licences.access.access_for_user), so a link a teacher shares
    still opens."""
    return [p for p in products if p.product.product_type in PUPIL_TYPES]


def portal_for(user: User | AnonymousUser, kept: Kept | None = None) -> Portal:
    """What the portal shows: a pupil's tiles by type; a teacher's tiles per group they teach
    (with the group's sign-in cards); *Beheer* for a coordinator. The access rule's answer is
    kept under the access epoch when `kept` is given (licences.access.kept_access_for_user),
    so a licence linked a moment ago still shows at once."""
    if kept is not None and user.pk is not None:
        # The notices the page shows too, in the same round trip to the cache.
        kept.prefetch(kept_access_key(user.pk, timezone.localdate()), NOTICES)
    # Once per request: it is the expensive read.
    access = (kept_access_for_user(user, kept) if kept is not None
              else access_for_user(user))
    if access is not None and access.role == "pupil":
        return Portal(role="pupil", sections=_sections(for_pupils(access.products)))
    schools = (list(School.objects.filter(
        memberships__user=user.pk, memberships__role=SchoolMembership.Role.COORDINATOR)
        .distinct().order_by("brin", "dependancecode")) if getattr(user, "kind", "") == "staff"
        else [])
    view_as = [(school.display_name, reverse("signin:group_view", args=[school.brin6]))
               for school in schools]
    if access is None:
        return Portal(role="staff", beheer=bool(schools), view_as=view_as)
    portal = Portal(role="teacher", beheer=bool(schools), view_as=view_as)
    teacher = teacher_of(user)
    if teacher is None:
        return portal
    groups = list(for_school(Group, teacher.school).filter(active=True, teachers=teacher)
                  .order_by("kind", "name").values_list("pk", "name", "kind"))
    linked: dict[int, set[int]] = defaultdict(set)
    for group_id, product_id in (
            GroupLicence.objects.filter(group_id__in=[g[0] for g in groups],
                                        removed_at__isnull=True)
            .values_list("group_id", "contract__product_id")):
        linked[group_id].add(product_id)
    for pk, name, kind in groups:
        mine = [p for p in access.products if p.product.id in linked[pk]]
        print_url = (reverse("teacher:print_cards", kwargs={"group_id": pk})
                     if kind == Group.Kind.GROUP else "")
        portal.groups.append(GroupSection(pk, name, print_url, _sections(mine)))
    return portal


def view_groups(school: School) -> list[tuple[int, str]]:
    """The groups a coordinator may look at as a pupil: the school's active groups and
    clusters, main groups first."""
    return list(for_school(Group, school).filter(active=True).order_by("kind", "name")
                .values_list("pk", "name"))


def group_view(school: School, group_id: int | None) -> tuple[Group, list[TypeSection]] | None:
    """*Bekijk als groep*: the tiles every pupil of this group sees through the group's
    licences, to check the set-up; None for an id that is not an active group of the school.

    Not a rule of its own: licences.access.access_for_group (the one licence rule, with the
    contracts linked to this group), then the pupils' product types (for_pupils), exactly as
    the pupil's own portal. A pupil may see more than this: their clusters' and their own
    per-child licences."""
    group = (for_school(Group, school).filter(pk=group_id, active=True).first()
             if group_id is not None else None)
    if group is None:
        return None
    access = licence_rule.access_for_group(group)
    return group, _sections(for_pupils(access.products))


def enrolled_groups(school: School, groups: list[GroupTile],
                    pupil_ids: tuple[int, ...]) -> list[GroupTile]:
    """At home: only the groups of the pupils enrolled on this device (decision 0016), so a
    School ID alone shows nobody's name."""
    if not pupil_ids:
        return []
    wanted = set(for_school(Pupil, school).filter(pk__in=pupil_ids, active=True)
                 .values_list("group_id", flat=True))
    return [tile for tile in groups if tile.id in wanted]
