"""Pupils' sign-in: checking a secret or a card, throttling, cards, unlocking, home sign-in.

Decisions: docs/decisions/0009 (secrets), 0013 (throttling and cards). A plain secret or card
token never goes into a log or the audit trail.
"""

from __future__ import annotations

import hmac
import secrets as random
from collections.abc import Iterable
from dataclasses import dataclass

import segno
from django.contrib.auth import login
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from klaspoort import auth_methods
from klaspoort.addresses import public_url
from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record, user_of
from klaspoort.roster import secrets
from klaspoort.roster.models import Pupil
from klaspoort.schools.models import School
from klaspoort.signin import selectors, throttling
from klaspoort.signin.models import PupilCard, SchoolSigninFacts
from klaspoort.signin.session import AT_SCHOOL, remember_pupil_signin
from klaspoort.tenancy import for_school

BACKEND = "django.contrib.auth.backends.ModelBackend"


@dataclass(frozen=True)
class Attempt:
    """The outcome of a sign-in attempt: ok, or wrong, and the wait that applies now."""

    ok: bool
    wait: throttling.Wait | None = None


def stored_method(pupil: Pupil) -> str | None:
    """The form of the pupil's stored secret (pictures or pincode), or None without a readable
    one. The stored form wins over the group's: a pupil who moved keeps their card working."""
    revealed = secrets.reveal(pupil.signin_secret)
    return revealed.method if revealed else None


def check_secret(*, school: School, pupil: Pupil, given: str, address: str,
                 place: str = throttling.INSIDE) -> Attempt:
    """Whether `given` ("plaatjes:3-11" or "pincode:04217") is the pupil's secret.

    RULES: the attempt first reserves its place in the pupil's, the address's and the school's
    counters of its place (at school or at home, decision 0016), atomically; nothing is
    compared while one of them must wait (decision 0013); a wrong secret stays counted at all
    three; a right one clears the pupil's failures at that place and gives the address's and
    the school's reservation back. The comparison takes the same time for every wrong answer.
    """
    slot = throttling.begin(pupil_id=pupil.pk, address=address, school_id=school.pk,
                            place=place)
    if isinstance(slot, throttling.Wait):
        return Attempt(False, slot)
    try:
        stored = secrets.decrypt(pupil.signin_secret) if pupil.signin_secret else ""
    except ValueError:
        stored = ""
    if stored and hmac.compare_digest(stored.encode(), given.encode()):
        slot.succeeded()
        return Attempt(True)
    return Attempt(False, slot.failed())


PUPIL_NAME = "klaspoort_pupil_name"


def sign_in(request: HttpRequest, school: School, pupil: Pupil, kind: str,
            method: str) -> None:
    """Log the pupil's user in (a new session key) and record where (decision 0013) and how
    (`method`: auth_methods.PIN, PICTURES or CARD, read into the ID token's `amr`).

    RULES: the session ends when the browser closes (no lasting cookie on a shared school
    device) and at the latest PUPIL_SESSION_HOURS after this sign-in (signin.middleware). The
    name on the pupil's own tile ("Sam B.") goes into the session, so the portal greets the
    child without reading the roster again."""
    login(request, pupil.user, backend=BACKEND)
    auth_methods.record_method(request, method)
    request.session.set_expiry(0)
    remember_pupil_signin(request, school, kind)
    if kind == AT_SCHOOL:
        note_school_signin(school)
    request.session[PUPIL_NAME] = selectors.tile_label(pupil.first_name, pupil.last_name)


# The checklist asks "did pupils sign in at school during the last days": an hour is precise
# enough, and the Monday peak then costs one cache check per sign-in, not a write.
SCHOOL_SIGNIN_NOTE_SECONDS = 3600


def note_school_signin(school: School) -> None:
    """RULE: a pupil's sign-in on the pupil page at school (which opens only from the school's
    addresses) tells the checklist that the school's addresses are in use: the school's
    `last_school_signin_at`, brought up to date at most once an hour per school."""
    if not cache.add(f"signin:school-noted:{school.pk}", 1, SCHOOL_SIGNIN_NOTE_SECONDS):
        return
    now = timezone.now()
    # One UPDATE; the row is made only at the school's very first sign-in.
    if not SchoolSigninFacts.objects.filter(school=school).update(last_school_signin_at=now):
        SchoolSigninFacts.objects.update_or_create(
            school=school, defaults={"last_school_signin_at": now})


def note_shortcuts_downloaded(school: School) -> None:
    """RULE: the checklist shows when a coordinator last downloaded the school's shortcuts."""
    SchoolSigninFacts.objects.update_or_create(
        school=school, defaults={"shortcuts_downloaded_at": timezone.now()})


def check_card(*, school: School, token: str, address: str) -> tuple[Pupil | None,
                                                                       throttling.Wait | None]:
    """The pupil a card signs in, or None (and a wait, if one now applies).

    RULES: only a card of this school that is not voided, of an active pupil; every failure
    counts for the address and the school, and while they must wait a failure says so. A valid
    card works even then: its token is 192 random bits, so it cannot be guessed, and the cards
    are how a class keeps signing in when somebody's script has used up the address's limit.
    Which of these failed is never told.
    """
    card = selectors.valid_card(school, token)
    if card is not None:
        return card.pupil, None
    slot = throttling.begin(pupil_id=None, address=address, school_id=school.pk)
    if isinstance(slot, throttling.Wait):
        return None, slot
    return None, slot.failed()


def unlock_pupil(*, actor: Actor, pupil: Pupil, request: HttpRequest | None = None) -> bool:
    """The teacher or coordinator lets a pupil who must wait try again at once: their failures
    are forgotten. Audited (also when the pupil was not waiting: the teacher pressed it)."""
    waiting = throttling.clear_pupil(pupil.pk)
    record(actor=actor, school=pupil.school, action=AuditAction.SIGNIN_PUPIL_UNLOCK,
           target=pupil.full_name, after={"was_waiting": waiting}, request=request)
    return waiting


# ---------------------------------------------------------------------------------------------
# Cards
# ---------------------------------------------------------------------------------------------
_CARD_PREFIX = "kaart:"


def card_url(school: School, token: str) -> str:
    """The address in the card's QR code (absolute: a camera app opens it), under the pupil
    page the card's text names (`klaspoort.addresses.public_url`: the same host)."""
    return public_url(reverse("signin:card", args=[school.pupil_page_ref, token]))


def _new_card(school: School, pupil: Pupil, actor: Actor) -> tuple[PupilCard, str]:
    token = random.token_urlsafe(24)
    card = PupilCard(school=school, pupil=pupil, token_digest=selectors.token_digest(token),
                     token_sealed=secrets.encrypt(_CARD_PREFIX + token),
                     issued_by=user_of(actor))
    return card, token


def _token_of(card: PupilCard) -> str | None:
    try:
        plain = secrets.decrypt(card.token_sealed)
    except ValueError:
        return None
    return plain[len(_CARD_PREFIX):] if plain.startswith(_CARD_PREFIX) else None


def qr_svg(url: str, label: str) -> SafeString:
    """The QR code as inline SVG; its only content is our own URL, so it is safe markup."""
    svg = segno.make(url, error="m").svg_inline(scale=3, border=2, title=label)
    return mark_safe(svg)  # noqa: S308 - generated by segno from a URL we built


@transaction.atomic
def attach_cards(*, actor: Actor, school: School, pupils: Iterable[Pupil],
                 request: HttpRequest | None = None) -> list[Pupil]:
    """Give each pupil `card_url` and `card_qr` for the *Printversie*.

    RULES: a pupil's valid card is shown again (reprinting does not void anything); a pupil
    without one (or whose card can no longer be read back) gets a new card, issued by whoever
    prints; one audit entry for the cards this print really issued. Safe when several people
    print the same group at once: new cards are inserted with ON CONFLICT DO NOTHING (the
    one-valid-card constraint decides who wins) and every print then shows the cards that
    are stored, so all of them print the same, working cards. A handful of queries whatever
    the group.
    """
    pupils = list(pupils)
    existing = _valid_cards(school, pupils)
    fresh: list[PupilCard] = []
    unreadable: list[int] = []
    for pupil in pupils:
        card = existing.get(pupil.pk)
        if card is not None and _token_of(card) is None:
            unreadable.append(card.pk)
            card = None
        if card is None:
            fresh.append(_new_card(school, pupil, actor)[0])
    if unreadable:
        for_school(PupilCard, school).filter(pk__in=unreadable).update(voided_at=timezone.now())
    if fresh:
        PupilCard.objects.bulk_create(fresh, ignore_conflicts=True)
        existing = _valid_cards(school, pupils)
        mine = {card.token_digest for card in fresh}
        issued = sum(1 for card in existing.values() if card.token_digest in mine)
        if issued:
            record(actor=actor, school=school, action=AuditAction.SIGNIN_CARD_ISSUE,
                   target=str(issued), after={"cards": issued}, request=request)
    for pupil in pupils:
        card = existing.get(pupil.pk)
        token = _token_of(card) if card is not None else None
        url = card_url(school, token) if token else ""
        pupil.card_url = url  # type: ignore[attr-defined]
        pupil.card_qr = qr_svg(url, pupil.full_name) if url else ""  # type: ignore[attr-defined]
    return pupils


def _valid_cards(school: School, pupils: list[Pupil]) -> dict[int, PupilCard]:
    return {card.pupil_id: card for card in for_school(PupilCard, school).filter(
        pupil__in=pupils, voided_at__isnull=True)}


@transaction.atomic
def void_card(*, actor: Actor, pupil: Pupil, request: HttpRequest | None = None) -> int:
    """Void the pupil's card(s): the QR code signs nobody in any more. Audited with the pupil's
    name, never the token. Returns how many cards were voided."""
    voided = for_school(PupilCard, pupil.school).filter(
        pupil=pupil, voided_at__isnull=True).update(
        voided_at=timezone.now(), voided_by=actor if getattr(actor, "pk", None) else None)
    if voided:
        record(actor=actor, school=pupil.school, action=AuditAction.SIGNIN_CARD_VOID,
               target=pupil.full_name, after={"cards": voided}, request=request)
    return voided


@transaction.atomic
def reissue_card(*, actor: Actor, pupil: Pupil, request: HttpRequest | None = None) -> str:
    """Void the pupil's card and issue a new one (a lost card): the old QR code stops working
    at once, the new one prints with the next *Printversie*. Audited. Returns the new URL."""
    void_card(actor=actor, pupil=pupil, request=request)
    card, token = _new_card(pupil.school, pupil, actor)
    card.save()
    record(actor=actor, school=pupil.school, action=AuditAction.SIGNIN_CARD_REISSUE,
           target=pupil.full_name, request=request)
    return card_url(pupil.school, token)


# ---------------------------------------------------------------------------------------------
# Home sign-in (thuisinlog)
# ---------------------------------------------------------------------------------------------
@transaction.atomic
def set_home_signin(*, actor: Actor, school: School, enabled: bool,
                    request: HttpRequest | None = None) -> bool:
    """Switch home sign-in for the school (R4.2; off by default). Audited when it changes.
    Pupils already signed in at home lose access to methods at once when it goes off (the
    IP rule in signin.session reads the setting on every launch). True when it changed."""
    if school.home_signin_enabled == enabled:
        return False
    before = school.home_signin_enabled
    school.home_signin_enabled = enabled
    school.save(update_fields=["home_signin_enabled"])
    record(actor=actor, school=school, action=AuditAction.SIGNIN_HOME_SET,
           target=school.display_name, before={"enabled": before}, after={"enabled": enabled},
           request=request)
    return True
