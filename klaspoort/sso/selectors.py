"""Reads of single sign-on: who a client is, what a user is to a publisher, and whether the
user may be signed in at the publisher now (R4.4, R4.5).

The decision is asked three times in one sign-in — at the authorization request (with the
browser's request, so the IP rule applies), when the publisher redeems the code, and at every
userinfo call — and always computed afresh, so a consent withdrawn or a contract ended between
the tile and the token stops the sign-in at the next step.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core import signing
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from klaspoort import auth_methods
from klaspoort.kept import Kept
from klaspoort.kept import digest as kept_digest
from klaspoort.licences.access import (
    Access,
    ProductAccess,
    access_for_user,
    kept_access_for_user,
    kept_access_key,
)
from klaspoort.licences.models import Product
from klaspoort.pseudonyms import subject_for
from klaspoort.roster.models import Group, Pupil, Teacher
from klaspoort.schools.models import School
from klaspoort.schools.selectors import has_publisher_consent, school_facts_key
from klaspoort.signin.session import AT_HOME, SIGNIN_KIND, SIGNIN_SCHOOL, ip_rule_holds
from klaspoort.sso.models import PublisherClient

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from klaspoort.accounts.models import User

# Why a sign-in at a publisher is refused, from the first that applies.
UNKNOWN_CLIENT = "unknown_client"
NOT_ON_ROSTER = "not_on_roster"
NO_CONSENT = "no_consent"
NO_LICENCE = "no_licence"
IP_RULE = "ip_rule"
OTHER_USER = "other_user"
HINT_EXPIRED = "hint_expired"
REFUSALS = {
    UNKNOWN_CLIENT: _("This application is not registered as the software of a publisher."),
    NOT_ON_ROSTER: _("Your account is not a pupil or teacher of a school, so there are no "
                     "learning materials for you to open."),
    NO_CONSENT: _("Your school has not given this publisher permission to let you sign in "
                  "(Uitgeverijen). Ask your ICT coordinator."),
    NO_LICENCE: _("You have no licence for any product of this publisher today. Ask your "
                  "teacher or ICT coordinator to link a licence to your group."),
    IP_RULE: _("Pupils can open learning materials only from the school's own network. Are "
               "you at school? Ask your teacher."),
    OTHER_USER: _("This link was made for someone else. Open the tile again from your own "
                  "Lesmateriaal page."),
    HINT_EXPIRED: _("This link has expired. Open the tile again from your Lesmateriaal page."),
}
LOGIN_HINT_SALT = "klaspoort.sso.login_hint"


@dataclass(frozen=True)
class GroupInfo:
    pk: int
    name: str
    jaargroep: str
    kind: str  # "group" | "cluster"


@dataclass(frozen=True)
class PersonInfo:
    """What a publisher may learn of a pupil or teacher, read once per decision."""

    role: str  # "pupil" | "teacher"
    school: School
    first_name: str
    prefix: str
    last_name: str
    eckid: str | None
    groups: list[GroupInfo] = field(default_factory=list)


@dataclass
class Decision:
    """Whether `person` may be signed in at the client's publisher now, and with what."""

    client: PublisherClient | None
    person: PersonInfo | None
    access: Access | None
    refusal: str | None

    @property
    def products(self) -> list[ProductAccess]:
        """The products of this client's publisher the user may open now."""
        if self.access is None or self.client is None:
            return []
        return [p for p in self.access.products
                if p.product.publisher_id == self.client.publisher_id]

    @property
    def message(self) -> str:
        return str(REFUSALS[self.refusal]) if self.refusal else ""


def client_for(client_id: str, kept: Kept | None = None) -> PublisherClient | None:
    """The publisher client behind an OAuth client id, None for any other application and for
    a client its publisher switched off (it signs nobody in). With `kept` (a browser's
    request), as kept under the access epoch: every pupil of the morning asks for the same few
    clients, and a client switched off moves the epoch."""
    def read() -> PublisherClient | None:
        return (PublisherClient.objects.select_related("application", "publisher")
                .filter(application__client_id=client_id, disabled_at__isnull=True).first())

    if kept is None:
        return read()
    return kept.get(client_key(client_id), read)


def client_key(client_id: str) -> str:
    """The name client_for keeps a client under (for Kept.prefetch)."""
    return f"client:{kept_digest(client_id)}"


def application_key(client_id: str) -> str:
    """The name the toolkit's Application of a client id is kept under (sso.validators)."""
    return f"application:{kept_digest(client_id)}"


def person_key(user_id: int) -> str:
    """The name decide keeps a user's person under."""
    return f"person:{user_id}"


def prefetch_sign_in_facts(request: HttpRequest, *, client_id: str | None = None,
                           product_id: int | None = None) -> None:
    """Ask the cache in one round trip for the kept facts a tile's launch (`product_id`) or an
    authorization (`client_id`) reads first: the product, or the client's application,
    publisher client and the user's person; the user's access today; the school of a pupil's
    session. Each is still read, or read from the database, where it is used."""
    user_id = getattr(request.user, "pk", None)
    if user_id is None:
        return
    names = [kept_access_key(user_id, timezone.localdate())]
    school_id = request.session.get(SIGNIN_SCHOOL)
    if isinstance(school_id, int):
        names.append(school_facts_key(school_id))
    if client_id:
        names += [application_key(client_id), client_key(client_id), person_key(user_id)]
    if product_id is not None:
        names.append(product_key(product_id))
    Kept.of(request).prefetch(*names)


def client_of_application(application: Any) -> PublisherClient | None:
    """The publisher client of a toolkit Application (with its publisher, read in one go);
    None for a switched-off client."""
    if application is None:
        return None
    return (PublisherClient.objects.select_related("application", "publisher")
            .filter(application_id=application.pk, disabled_at__isnull=True).first())


def clients_of(publisher_id: int) -> QuerySet[PublisherClient]:
    """A publisher's clients, switched off or not, for its portal page (oldest first)."""
    return (PublisherClient.objects.select_related("application", "publisher")
            .filter(publisher_id=publisher_id).order_by("created_at", "pk"))


def previous_secret_accepted(application: Any, secret: str) -> bool:
    """Rule: during the overlap after a new secret was made, the previous secret still
    authenticates the client; after it (or once the publisher revoked it) it does not.
    Checked with the toolkit's hasher (constant time)."""
    if application is None or application.pk is None or not secret:
        return False
    stored = (PublisherClient.objects
              .filter(application_id=application.pk, previous_secret_expires_at__gt=timezone.now())
              .exclude(previous_secret="").values_list("previous_secret", flat=True).first())
    return bool(stored) and check_password(secret, str(stored))


@dataclass(frozen=True)
class Launch:
    """Where a tile sends the browser (OIDC Core §4) and the page it asks for."""

    initiate_login_uri: str
    target_link_uri: str


def launch_product(product_id: int, kept: Kept) -> Product | None:
    """The product a tile opens, with its publisher, kept under the access epoch
    (klaspoort.kept: a product or publisher changed is read at the next launch); None for an
    unknown id (not kept)."""
    return kept.get(product_key(product_id), lambda: Product.objects.select_related(
        "publisher").filter(pk=product_id).first())


def product_key(product_id: int) -> str:
    return f"product:{product_id}"


def launch_of(publisher_id: int, launch_url: str, kept: Kept | None = None) -> Launch:
    """Rule: a tile goes to the login address of the publisher's first client that has one
    (switched-off clients left out); without one, to the product's launch address, as before
    clients had login addresses. The target is the client's default target, else the
    product's launch address. With `kept`, the publisher's clients are kept under the access
    epoch (a client added, changed or switched off moves it)."""
    def read() -> list[tuple[str, str]]:
        return list(PublisherClient.objects
                    .filter(publisher_id=publisher_id, disabled_at__isnull=True).order_by("pk")
                    .values_list("initiate_login_uri", "default_target_uri"))

    rows = kept.get(f"launch:{publisher_id}", read) if kept is not None else read()
    with_login = next((row for row in rows if row[0]), None)
    if with_login is not None:
        return Launch(with_login[0], with_login[1] or launch_url)
    default_target = next((row[1] for row in rows if row[1]), "")
    return Launch(launch_url, default_target or launch_url)


def _group_info(group: Group) -> GroupInfo:
    return GroupInfo(group.pk, group.name, group.jaargroep, group.kind)


def person_for_user(user: User | AnonymousUser) -> PersonInfo | None:
    """The active pupil or teacher behind a user, with their active groups and clusters."""
    if user.pk is None:
        return None  # the anonymous user
    pupil = (Pupil.objects.select_related("school", "group").filter(user_id=user.pk, active=True)
             .first())
    if pupil is not None:
        group = pupil.group
        groups = [_group_info(group)] if group is not None and group.active else []
        groups += [_group_info(g) for g in pupil.clusters.filter(active=True).order_by("name")]
        return PersonInfo("pupil", pupil.school, pupil.first_name, pupil.prefix,
                          pupil.last_name, pupil.eckid, groups)
    teacher = Teacher.objects.select_related("school").filter(user_id=user.pk,
                                                              active=True).first()
    if teacher is not None:
        groups = [_group_info(g) for g in teacher.groups.filter(active=True)
                  .order_by("kind", "name")]
        return PersonInfo("teacher", teacher.school, teacher.first_name, teacher.prefix,
                          teacher.last_name, teacher.eckid, groups)
    return None


def decide(client: PublisherClient | None, user: User | AnonymousUser,
           request: HttpRequest | None = None) -> Decision:
    """Whether the user may be signed in at the client's publisher now.

    Rules (R4.5), the first that fails is the reason: the application must be a registered
    publisher client; the user must be an active pupil or teacher (staff who only coordinate
    have no methods); the school must consent to the publisher now; the user must have a licence
    for at least one of the publisher's products today (access_for_user); and, when the
    browser's request is given, the IP rule must hold for pupils (ip_rule_holds). Token and
    userinfo requests come from the publisher's server, not the pupil's device, so they check
    everything but the IP rule.
    """
    if client is None:
        return Decision(None, None, None, UNKNOWN_CLIENT)
    # In the browser, the person as kept under the access epoch: a pupil opens several methods
    # in a morning, and any change to the roster moves the epoch.
    person = (person_for_user(user) if request is None or user.pk is None
              else Kept.of(request).get(person_key(user.pk), lambda: person_for_user(user)))
    if person is None:
        return Decision(client, None, None, NOT_ON_ROSTER)
    if request is not None:
        # Every pupil of the school asks the same question: kept under the access epoch.
        consents = Kept.of(request).get(
            f"consent:{person.school.pk}:{client.publisher_id}",
            lambda: has_publisher_consent(person.school, client.publisher))
    else:
        consents = has_publisher_consent(person.school, client.publisher)
    if not consents:
        return Decision(client, person, None, NO_CONSENT)
    # In the browser (authorize) the access the tile just read is kept under the access epoch;
    # the publisher's server (token, userinfo) asks the rule itself.
    access = (kept_access_for_user(user, Kept.of(request)) if request is not None
              else access_for_user(user))
    decision = Decision(client, person, access, None)
    if not decision.products:
        decision.refusal = NO_LICENCE
    elif request is not None and not ip_rule_holds(request, user):
        decision.refusal = IP_RULE
    return decision


def may_receive_eck_id(client: PublisherClient, school: School) -> bool:
    """Rule: the ECK iD goes only to a publisher registered as chain partner (Edu-K) whose
    software the school consents to now; to everyone else the pairwise `sub` is the only id."""
    return client.chain_partner and has_publisher_consent(school, client.publisher)


# --- login_hint ------------------------------------------------------------------------------

def login_hint_for(user: Any, publisher_id: int) -> str:
    """A short-lived signed token naming the user by the publisher's own pseudonym, so the
    hint the publisher passes back tells it nothing it will not learn from the ID token."""
    return signing.dumps(subject_for(publisher_id, user.pk), salt=LOGIN_HINT_SALT)


def login_hint_refusal(hint: str, user: User | AnonymousUser, publisher_id: int) -> str | None:
    """None when the hint names this user for this publisher and is still fresh."""
    try:
        subject = signing.loads(hint, salt=LOGIN_HINT_SALT,
                                max_age=settings.KLASPOORT_LOGIN_HINT_MAX_AGE)
    except signing.SignatureExpired:
        return HINT_EXPIRED
    except signing.BadSignature:
        return OTHER_USER
    if user.pk is None or not hmac.compare_digest(str(subject),
                                                  subject_for(publisher_id, user.pk)):
        return OTHER_USER
    return None


# --- how the user signed in: amr, acr, auth_time ---------------------------------------------

# The `acr` values of ID tokens (docs/publishers-oidc.md). From strongest to weakest for staff,
# then pupils; "0" is OpenID Connect's value for "nothing known about how the user signed in".
ACR_STAFF_2FA = "urn:klaspoort:acr:staff-2fa"
ACR_STAFF_PASSWORD = "urn:klaspoort:acr:staff-password"  # noqa: S105 (a name, not a password)
ACR_PUPIL_SCHOOL = "urn:klaspoort:acr:pupil-school"
ACR_PUPIL_HOME = "urn:klaspoort:acr:pupil-home"
ACR_UNKNOWN = "0"
ACR_VALUES = [ACR_STAFF_2FA, ACR_STAFF_PASSWORD, ACR_PUPIL_SCHOOL, ACR_PUPIL_HOME]
PUPIL_METHODS = {auth_methods.PIN, auth_methods.PICTURES, auth_methods.CARD}


@dataclass(frozen=True)
class SignIn:
    """How the user of a browser session signed in, as /o/authorize finds it."""

    amr: list[str]
    acr: str
    auth_time: int | None  # Unix seconds; None when no sign-in step recorded it


def acr_for(methods: list[str], signin_kind: str | None) -> str:
    """Rule: password and code → staff-2fa; password alone → staff-password; a pupil's
    pincode, pictures or card → pupil-home after a home sign-in (thuisinlog), otherwise
    pupil-school; nothing recorded → "0"."""
    if auth_methods.PASSWORD in methods:
        return ACR_STAFF_2FA if auth_methods.ONE_TIME_CODE in methods else ACR_STAFF_PASSWORD
    if PUPIL_METHODS & set(methods):
        return ACR_PUPIL_HOME if signin_kind == AT_HOME else ACR_PUPIL_SCHOOL
    return ACR_UNKNOWN


def signin_of(request: HttpRequest) -> SignIn:
    """The session's sign-in: the methods it recorded (auth_methods), its acr and auth_time."""
    methods = auth_methods.methods_of(request)
    return SignIn(methods, acr_for(methods, request.session.get(SIGNIN_KIND)),
                  auth_methods.auth_time(request))


def must_sign_in_again(request: HttpRequest, prompt: set[str], max_age: str | None) -> bool:
    """Rule (OIDC Core §3.1.2.1): `prompt=login` always asks the user to sign in again;
    `max_age=N` does when the session's last sign-in step is more than N seconds ago or
    unknown. A max_age that is not a whole number of seconds is ignored (never a 500)."""
    if "login" in prompt:
        return True
    if max_age is None or not max_age.strip().isdigit() or len(max_age.strip()) > 12:
        return False
    signed_in_at = auth_methods.auth_time(request)
    return signed_in_at is None or time.time() - signed_in_at > int(max_age)


# --- authorization codes in the shared cache (decision 0041) ---------------------------------

CODE_KEY = "sso:code:{digest}"
REDEEMED_KEY = "sso:redeemed:{digest}"


@dataclass(frozen=True)
class CodeGrant:
    """What an authorization code stands for, as /o/authorize issued it: the toolkit's Grant
    (client, user, redirect URI, scope, PKCE challenge, nonce, claims and resource parameters),
    how the user had signed in (for the ID token's amr, acr and auth_time: the token request
    has no browser session), and the decision taken at authorize with the access epoch read
    before it (reused at the token request while that epoch holds)."""

    application_id: int
    user_id: int
    expires: datetime.datetime
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    nonce: str
    claims: str  # the request's claims parameter as JSON, as the toolkit keeps it
    resource: list[str]
    signin: SignIn | None
    epoch: str | None
    decided_claims: dict[str, Any] | None


def code_key(code: str) -> str:
    """Where a code is kept: under its digest, so the cache never holds a code itself."""
    return CODE_KEY.format(digest=secret_digest(code))


def redeemed_key(code: str) -> str:
    return REDEEMED_KEY.format(digest=secret_digest(code))


def code_grant(code: str) -> CodeGrant | None:
    """The grant a code stands for while it is neither redeemed nor long expired; None for
    a code Klaspoort never issued, one redeemed already and one whose time has run out."""
    if not code:
        return None
    from django.core.cache import cache

    grant = cache.get(code_key(code))
    return grant if isinstance(grant, CodeGrant) else None


def tokens_of_redeemed_code(code: str) -> tuple[int | None, int | None] | None:
    """(access token id, ID token id) issued when `code` was redeemed, for an hour after; None
    when the code was not redeemed in that hour."""
    from django.core.cache import cache

    issued = cache.get(redeemed_key(code))
    return issued if isinstance(issued, tuple) and len(issued) == 2 else None


# --- a decision kept with its access token (decision 0039; with a code: CodeGrant) ----------

KEPT_CLAIMS_KEY = "sso:claims:token:{digest}"


def secret_digest(secret: str) -> str:
    """How a code or an access token is named in the cache (and, for tokens, the toolkit's
    own token_checksum): the cache never holds a code or a token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def kept_claims_key(digest: str) -> str:
    """The cache key of the claims kept for an access token (by secret_digest)."""
    return KEPT_CLAIMS_KEY.format(digest=digest)


def kept_claims(digest: str, epoch: str | None) -> dict[str, Any] | None:
    """RULE: the claims of an allowed decision taken for the access token of this
    secret_digest, while nothing a decision reads has changed since it was taken: the epoch it
    was kept with is `epoch`, the request's epoch read before anything else
    (klaspoort.kept.Kept.epoch); otherwise None and the rules are asked again, so a consent
    withdrawn or a licence ended refuses at once."""
    if epoch is None or not digest:
        return None
    from django.core.cache import cache

    kept = cache.get(kept_claims_key(digest))
    if not isinstance(kept, dict) or kept.get("epoch") != epoch:
        return None
    claims = kept.get("claims")
    return claims if isinstance(claims, dict) else None
