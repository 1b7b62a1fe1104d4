"""*Waarom kan … niet openen?* (issue 16, item 2): the chain from a pupil's or teacher's account
to a method, link by link, with the broken link named and what fixes it.

RULE: the verdict is the one access rule's (`licences.access.access_for_user`), never a copy of
it: the links it decides (in a group, licence linked, publisher ticked, licence running) are ok
up to the link of the rule's reason, which is the broken one; links after it are "not reached".
This module only reads the facts behind each link for its sentences (which group, which
contract, which dates). The sign-in address (the IP rule of single sign-on,
`signin.session.ip_rule_holds`) and the network provider are not part of the access rule: the
first is checked on the pupil's last sign-in, the second is informational.

signin is the lowest app that knows every link: accounts, roster, licences, schools' consents
and networks, and the pupil's last sign-in.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from klaspoort.converters import parse_id
from klaspoort.licences import access as access_rule
from klaspoort.licences.models import ChildLicence, Contract, GroupLicence, Product
from klaspoort.roster.models import Group, Pupil, PupilCluster, Teacher, TeacherGroup
from klaspoort.schools.models import NetworkProviderConsent, PublisherConsent, School, SchoolNetwork
from klaspoort.schools.selectors import address_allowed, school_by_brin6
from klaspoort.signin.session import AT_HOME, last_signin
from klaspoort.tenancy import for_school

OK = "ok"
BROKEN = "broken"
NOT_REACHED = "not_reached"  # after a broken link of the access rule: not looked at by the rule
INFO = "info"  # a fact without a verdict (the network provider; a sign-in we do not know)

ACCOUNT = "account"
GROUP = "group"
LINKED = "linked"
CONSENT = "consent"
CONTRACT = "contract"
SIGNIN = "signin"
NETWORK_PROVIDER = "network_provider"

# Which of the access rule's reasons each link stands for (the order of the chain is the order
# in which the rule looks: linked before consent before dates).
LINK_OF_REASON = {
    access_rule.NOT_LINKED: (GROUP, LINKED),
    access_rule.NO_CONSENT: (CONSENT,),
    access_rule.NOT_STARTED: (CONTRACT,),
    access_rule.ENDED: (CONTRACT,),
}

TITLES = {
    ACCOUNT: gettext_lazy("Account active"),
    GROUP: gettext_lazy("In a group"),
    LINKED: gettext_lazy("Licence linked"),
    CONSENT: gettext_lazy("Publisher ticked"),
    CONTRACT: gettext_lazy("Licence running"),
    SIGNIN: gettext_lazy("Signed in from a school address"),
    NETWORK_PROVIDER: gettext_lazy("Network provider"),
}
MAX_KEY = 64  # roster keys are shorter; anything longer is not a key


@dataclass(frozen=True)
class Link:
    key: str
    state: str  # OK | BROKEN | NOT_REACHED | INFO
    facts: list[str]  # translated sentences
    fix_url: str = ""  # a page in the school's *Beheer*, "" when there is nothing to change there
    fix_label: str = ""
    school_setting: str = ""  # what the school must change, in words (for a publisher)

    @property
    def title(self) -> str:
        return str(TITLES[self.key])

    def as_json(self) -> dict[str, Any]:
        return {"link": self.key, "title": self.title, "state": self.state,
                "facts": self.facts, "fix_url": self.fix_url, "fix_label": self.fix_label,
                "school_setting": self.school_setting}


@dataclass
class Chain:
    school: School
    person: Pupil | Teacher
    role: str  # "pupil" | "teacher"
    product: Product
    granted: bool  # the access rule lets the person open the product
    reason: str | None  # the access rule's reason when it does not
    links: list[Link] = field(default_factory=list)
    for_publisher: bool = False

    @property
    def first_broken(self) -> Link | None:
        return next((link for link in self.links if link.state == BROKEN), None)

    @property
    def name(self) -> str:
        # A publisher's helpdesk sees a person as its helpdesk page does: the family name's
        # initial.
        if self.for_publisher:
            return f"{self.person.first_name} {self.person.last_name[:1]}.".strip()
        return f"{self.person.first_name} {self.person.last_name}".strip()

    @property
    def summary(self) -> str:
        names = {"name": self.name, "product": self.product.name}
        broken = self.first_broken
        if broken is None:
            return _("%(name)s may open %(product)s.") % names
        return _("%(name)s cannot open %(product)s: “%(link)s” is not in order.") % {
            **names, "link": broken.title}

    def as_json(self) -> dict[str, Any]:
        broken = self.first_broken
        return {
            "school": self.school.brin6, "user": self.person.key, "role": self.role,
            "product": self.product.code, "publisher": self.product.publisher.slug,
            "may_open": broken is None, "access": "granted" if self.granted else "denied",
            "reason": self.reason, "broken": broken.key if broken else None,
            "summary": self.summary, "links": [link.as_json() for link in self.links],
        }


def find_person(school: School, key: str) -> Pupil | Teacher | None:
    """The pupil, else the teacher, with this roster key at this school, active or not (an
    inactive one is the first broken link). Never another school's."""
    key = key.strip()
    if not key or len(key) > MAX_KEY or "\x00" in key:
        return None
    pupil = for_school(Pupil, school).filter(key=key).select_related("user", "group").first()
    if pupil is not None:
        return pupil
    return for_school(Teacher, school).filter(key=key).select_related("user").first()


def find_product(school: School, code: str, *, publisher_id: int | None = None
                 ) -> Product | None:
    """The product with this code: one the school has a contract for first, else any in the
    catalogue (to say the school has none). None when unknown or when the code is ambiguous."""
    code = code.strip()
    if not code or len(code) > 64 or "\x00" in code:
        return None
    products = Product.objects.filter(code=code).select_related("publisher")
    if publisher_id is not None:
        products = products.filter(publisher_id=publisher_id)
    at_school = list(products.filter(
        pk__in=for_school(Contract, school).values("product_id")).distinct()[:2])
    found = at_school or list(products[:2])
    return found[0] if len(found) == 1 else None


def _date(day: datetime.date) -> str:
    return formats.date_format(day, "j F Y")


def _fix(name: str, school: School, label: Any, **kwargs: Any) -> dict[str, str]:
    return {"fix_url": reverse(name, kwargs={"brin6": school.brin6, **kwargs}),
            "fix_label": str(label)}


def _verdict(key: str, granted: bool, broken_keys: tuple[str, ...], *, passed: bool) -> str:
    """The state of a link the access rule decides: `passed` says whether the rule got past it
    (the links before the broken one)."""
    if granted or passed:
        return OK
    return BROKEN if key in broken_keys else NOT_REACHED


def explain(school: School, person: Pupil | Teacher, product: Product,
            day: datetime.date | None = None, *, for_publisher: bool = False) -> Chain:
    """Why `person` (a pupil or teacher of `school`) can or cannot open `product` on `day`.

    RULE: the verdict comes from licences.access.access_for_user (see the module's docstring);
    the sentences from the facts. Raises ValueError for a person of another school.
    `for_publisher`: a publisher's helpdesk sees no pupil's address and no links into the
    school's *Beheer*, only which setting the school must change.
    """
    if person.school_id != school.pk:
        raise ValueError("person of another school")
    day = day or timezone.localdate()
    role = "pupil" if isinstance(person, Pupil) else "teacher"
    access = access_rule.access_for_user(person.user_id, today=day)
    granted = access is not None and access.may_open(product.pk)
    denied = next((d for d in access.denied if d.product.id == product.pk),
                  None) if access else None
    reason = denied.reason if denied else None
    chain = Chain(school=school, person=person, role=role, product=product, granted=granted,
                  reason=reason, for_publisher=for_publisher)
    contracts = list(for_school(Contract, school).filter(product=product)
                     .order_by("start", "number"))

    # 1. The account: the access rule answers only for an active pupil or teacher.
    account_ok = access is not None and person.user.is_active
    facts = []
    if not person.active:
        facts.append(_("%(name)s is no longer in the school's user data (not in the last "
                       "import).") % {"name": chain.name})
    elif not person.user.is_active:
        facts.append(_("The account of %(name)s has been switched off.") % {"name": chain.name})
    else:
        facts.append(_("%(name)s is in the school's user data.") % {"name": chain.name})
    chain.links.append(Link(ACCOUNT, OK if account_ok else BROKEN, facts,
                            **({} if account_ok else _fix("roster:imports", school,
                                                         gettext_lazy("Import user data"))),
                            school_setting="" if account_ok else str(_(
                                "The school imports its user data again (Beheer, Import user "
                                "data)."))))
    reached = access is not None

    # 2. In a group (the groups the access rule counts: active ones).
    groups = _active_groups(person)
    child_links = list(ChildLicence.objects.filter(
        pupil_id=person.pk, contract__in=contracts, removed_at__isnull=True)
        .select_related("contract")) if role == "pupil" else []
    not_linked = reason == access_rule.NOT_LINKED
    has_contract = bool(contracts)
    group_broken = not_linked and has_contract and not groups and not child_links
    if groups and for_publisher:
        # A publisher sees only the groups on its running licences (licences.publisher_view).
        facts = [_("In an active group.") if role == "pupil"
                 else _("Linked to an active group.")]
    elif groups:
        facts = [_("In group %(groups)s.") % {"groups": ", ".join(g.name for g in groups)}
                 if role == "pupil" else
                 _("Teaches %(groups)s.") % {"groups": ", ".join(g.name for g in groups)}]
    elif child_links:
        facts = [_("Not in an active group; the licence is linked to the pupil personally.")]
    else:
        facts = [_("Not in an active group.") if role == "pupil"
                 else _("Not linked to an active group.")]
    state = (NOT_REACHED if not reached else
             BROKEN if group_broken else OK)
    chain.links.append(Link(GROUP, state, facts,
                            **(_fix("roster:groups", school, gettext_lazy("Groups"))
                               if state == BROKEN else {}),
                            school_setting=str(_(
                                "The school puts the person in a group in its pupil "
                                "administration and imports again.")) if state == BROKEN
                            else ""))

    # 3. The licence linked to the group or the child.
    group_links = list(GroupLicence.objects.filter(
        contract__in=contracts, contract__contract_type=Contract.Type.GROUP,
        group__in=groups, removed_at__isnull=True).select_related("contract", "group"))
    facts = [_("Linked through %(group)s (licence %(number)s).") % {
        "group": _("a group") if for_publisher else link.group.name,
        "number": link.contract.number} for link in group_links]
    facts += [_("Linked to the pupil personally (licence %(number)s).") % {
        "number": link.contract.number} for link in child_links]
    if not has_contract:
        facts.append(_("The school has no licence of %(product)s: the publisher delivers the "
                       "contract.") % {"product": product.name})
    elif not facts:
        facts.append(_("No licence of %(product)s is linked to this person's groups or to the "
                       "person.") % {"product": product.name})
    if not reached:
        state = NOT_REACHED
    elif not has_contract:
        state = BROKEN
    elif not_linked:
        state = NOT_REACHED if group_broken else BROKEN
    else:
        state = OK
    fix: dict[str, str] = {}
    if state == BROKEN and has_contract:
        first = contracts[-1]
        fix = (_fix("licences:contract_children", school, gettext_lazy("Link children"),
                    contract_id=first.pk)
               if first.contract_type == Contract.Type.CHILD else
               _fix("licences:contract_groups", school, gettext_lazy("Link groups"),
                    contract_id=first.pk))
    elif state == BROKEN:
        fix = _fix("licences:contracts", school, gettext_lazy("Licence management"))
    chain.links.append(Link(LINKED, state, facts, **fix, school_setting=str(_(
        "The school links the licence to the group or child (Beheer, Licence management).")
        ) if state == BROKEN and has_contract else ""))

    # 4. The publisher ticked (*Uitgeverijen*).
    consent = (for_school(PublisherConsent, school)
               .filter(publisher_id=product.publisher_id, withdrawn_at__isnull=True).first())
    facts = ([_("The school gave %(publisher)s permission on %(day)s.") % {
        "publisher": product.publisher.name,
        "day": _date(timezone.localtime(consent.given_at).date())}] if consent else
        [_("The school has not ticked %(publisher)s under Publishers.") % {
            "publisher": product.publisher.name}])
    passed = reached and has_contract and reason in (access_rule.NOT_STARTED, access_rule.ENDED)
    state = (NOT_REACHED if not reached or not has_contract else
             _verdict(CONSENT, granted, LINK_OF_REASON.get(reason or "", ()), passed=passed))
    chain.links.append(Link(CONSENT, state, facts,
                            **(_fix("schools:publishers", school, gettext_lazy("Publishers"))
                               if state == BROKEN else {}),
                            school_setting=str(_(
                                "The school ticks %(publisher)s (Beheer, Publishers).") % {
                                "publisher": product.publisher.name})
                            if state == BROKEN else ""))

    # 5. The licence running (dates, cancellation).
    linked_ids = {link.contract_id for link in group_links} | {
        link.contract_id for link in child_links}
    shown = [c for c in contracts if c.pk in linked_ids] or contracts
    facts = [_contract_sentence(contract) for contract in shown]
    state = (NOT_REACHED if not reached or not has_contract else
             _verdict(CONTRACT, granted, LINK_OF_REASON.get(reason or "", ()), passed=False))
    setting = ""
    if state == BROKEN:
        setting = str(_("The licence has not started yet: nothing to change, it opens on its "
                        "start date.") if reason == access_rule.NOT_STARTED else
                      _("The licence has ended: the school orders a new licence from the "
                        "publisher."))
    chain.links.append(Link(CONTRACT, state, facts,
                            **(_fix("licences:contracts", school,
                                    gettext_lazy("Licence management"))
                               if state == BROKEN else {}),
                            school_setting=setting))

    # 6. The sign-in address: the IP rule single sign-on applies to pupils.
    chain.links.append(_signin_link(school, person, role, show_address=not for_publisher))

    # 7. The network provider: informational.
    providers = [c.provider.name for c in for_school(NetworkProviderConsent, school)
                 .filter(withdrawn_at__isnull=True).select_related("provider")
                 .order_by("provider__name")]
    facts = ([_("Network provider chosen by the school: %(names)s.") % {
        "names": ", ".join(providers)}] if providers else
        [_("The school has not chosen a network provider; that is only needed when pupils "
           "sign in through a provider's portal.")])
    chain.links.append(Link(NETWORK_PROVIDER, INFO, facts, **_fix(
        "schools:network_providers", school, gettext_lazy("Set network provider"))))
    if for_publisher:
        chain.links = [dataclasses.replace(link, fix_url="", fix_label="")
                       for link in chain.links]
    return chain


def _active_groups(person: Pupil | Teacher) -> list[Group]:
    """The active groups and clusters the access rule counts for this person."""
    if isinstance(person, Pupil):
        ids = set(PupilCluster.objects.filter(pupil_id=person.pk).values_list("group_id",
                                                                              flat=True))
        if person.group_id:
            ids.add(person.group_id)
    else:
        ids = set(TeacherGroup.objects.filter(teacher_id=person.pk).values_list("group_id",
                                                                               flat=True))
    return list(for_school(Group, person.school).filter(pk__in=ids, active=True)
                .order_by("kind", "name"))


def _contract_sentence(contract: Contract) -> str:
    values = {"number": contract.number, "start": _date(contract.start),
              "end": _date(contract.end)}
    if contract.cancelled_until is not None and contract.cancelled_until < contract.end:
        return _("Licence %(number)s runs from %(start)s to %(end)s, but was cancelled: it "
                 "counts until %(until)s.") % {**values,
                                               "until": _date(contract.cancelled_until)}
    return _("Licence %(number)s runs from %(start)s to %(end)s.") % values


def _signin_link(school: School, person: Pupil | Teacher, role: str, *,
                 show_address: bool) -> Link:
    """RULE (signin.session.ip_rule_holds, applied to the last sign-in): a pupil signed in at
    school opens methods only from the school's addresses; at home only while home sign-in is
    on. Staff open methods from anywhere."""
    if role != "pupil":
        return Link(SIGNIN, OK, [_("Teachers may open methods from anywhere.")])
    last = last_signin(person.user_id)
    if last is None:
        return Link(SIGNIN, INFO, [_("No sign-in of this pupil in the last two weeks is "
                                     "known.")])
    when = formats.date_format(timezone.localtime(last.at), "j F Y H:i")
    if last.kind == AT_HOME:
        if school.home_signin_enabled:
            return Link(SIGNIN, OK, [_("Last signed in at home on %(when)s; the school allows "
                                       "home sign-in.") % {"when": when}])
        return Link(SIGNIN, BROKEN, [_("Last signed in at home on %(when)s, but the school "
                                       "has switched home sign-in off.") % {"when": when}],
                    **_fix("schools:data", school, gettext_lazy("School details")),
                    school_setting=str(_("The school switches home sign-in on (Beheer, "
                                         "School details).")))
    address = last.address if show_address else _("an address")
    if address_allowed(school, last.address):
        return Link(SIGNIN, OK, [_("Last signed in on %(when)s from %(address)s, one of the "
                                   "school's IP addresses.") % {"when": when,
                                                                "address": address}])
    facts = [_("Last signed in on %(when)s from %(address)s, which is not one of the school's "
               "IP addresses: methods do not open from there.") % {
        "when": when, "address": address}]
    if not for_school(SchoolNetwork, school).exists():
        facts.append(_("The school has no IP addresses registered."))
    return Link(SIGNIN, BROKEN, facts,
                **_fix("schools:networks", school, gettext_lazy("IP addresses")),
                school_setting=str(_("The school adds its current IP address (Beheer, IP "
                                     "addresses).")))


# --- What the two pages choose from ----------------------------------------------------------
SEARCH_LIMIT = 25


def search_people(school: School, text: str) -> list[tuple[str, str]]:
    """Pupils and teachers of the school whose name contains `text` (or whose key it is),
    active ones first, as (reference "p<id>"/"t<id>", label), at most SEARCH_LIMIT."""
    text = text.strip()[:100]
    if not text:
        return []
    matches = (models.Q(first_name__icontains=text) | models.Q(last_name__icontains=text)
               | models.Q(key=text))
    order = ("-active", "last_name", "first_name")
    found: list[tuple[str, str]] = []
    for pupil in (for_school(Pupil, school).filter(matches).select_related("group")
                  .order_by(*order)[:SEARCH_LIMIT]):
        label = _("%(name)s (pupil, %(group)s)") % {
            "name": f"{pupil.first_name} {pupil.last_name}",
            "group": pupil.group.name if pupil.group else _("no group")}
        found.append((f"p{pupil.pk}", _inactive(label, pupil.active)))
    for teacher in for_school(Teacher, school).filter(matches).order_by(*order)[:SEARCH_LIMIT]:
        label = _("%(name)s (teacher)") % {"name": f"{teacher.first_name} {teacher.last_name}"}
        found.append((f"t{teacher.pk}", _inactive(label, teacher.active)))
    return found[:SEARCH_LIMIT]


def _inactive(label: str, active: bool) -> str:
    return label if active else _("%(label)s, no longer active") % {"label": label}


def person_by_ref(school: School, ref: str) -> Pupil | Teacher | None:
    """The pupil ("p<id>") or teacher ("t<id>") of this school a page's choice names."""
    pk = parse_id(ref[1:21])
    if pk is None:
        return None
    if ref[:1] == "p":
        return for_school(Pupil, school).filter(pk=pk).select_related("user", "group").first()
    if ref[:1] == "t":
        return for_school(Teacher, school).filter(pk=pk).select_related("user").first()
    return None


def products_of_school(school: School) -> list[Product]:
    """The products the school has a licence of, by name."""
    return list(Product.objects.filter(pk__in=for_school(Contract, school).values("product_id"))
                .select_related("publisher").order_by("name", "code"))


def consenting_school(publisher_id: int, brin6: str) -> School | None:
    """The school location with this BRIN6, only when it consents to the publisher now (a
    publisher's helpdesk learns nothing of other schools)."""
    school = school_by_brin6(brin6) if "\x00" not in brin6 else None
    if school is None or not for_school(PublisherConsent, school).filter(
            publisher_id=publisher_id, withdrawn_at__isnull=True).exists():
        return None
    return school
