"""The pupils' sign-in pages (school and home), QR cards, the portal and the teacher shortcut.

Pupil pages are plain links and forms: every step works without JavaScript, with big tiles a
four-year-old can tap. The school's page is reached only through its shortcut's reference and
only from the school's addresses; anywhere else, and for a reference that does not exist, the
same kind page answers, naming no school (no way to learn which references exist).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.signing import BadSignature
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from klaspoort import auth_methods
from klaspoort.addresses import pupil_page_url
from klaspoort.admin_area import render_admin_page
from klaspoort.converters import parse_id
from klaspoort.kept import Kept
from klaspoort.network import client_ip
from klaspoort.reversing import reverse_ids
from klaspoort.roster import secrets
from klaspoort.roster import selectors as roster_selectors
from klaspoort.roster.models import Group, Pupil
from klaspoort.schools.guards import SchoolRequest, school_admin_view
from klaspoort.schools.models import School
from klaspoort.signin import devices, selectors, services, throttling
from klaspoort.signin.session import AT_HOME, AT_SCHOOL, SIGNIN_KIND, SIGNIN_SCHOOL, WITH_CARD
from klaspoort.tenancy import for_school

HOME_COOKIE = "klaspoort_school"
HOME_COOKIE_SALT = "klaspoort.signin.home-school"
HOME_COOKIE_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie
MAX_FIELD = 64  # longer form input is cut before it is looked at


@dataclass(frozen=True)
class Place:
    """Where the pupil signs in: the school's page (by its reference) or at home (School ID)."""

    school: School
    home: bool
    key: str  # the reference or the School ID, as in the URL
    next_id: int | None

    def url(self, step: str, *args: Any) -> str:
        name = f"signin:{'home' if self.home else 'pupil'}_{step}"
        address = reverse(name, args=[self.key, *args])
        return f"{address}?{urlencode({'next': self.next_id})}" if self.next_id else address

    def urls(self, step: str, args: Sequence[Any], ids: Iterable[int]) -> list[str]:
        """`url(step, *args, pk)` for each id, reversed once for the page (reverse_ids)."""
        name = f"signin:{'home' if self.home else 'pupil'}_{step}"
        query = f"?{urlencode({'next': self.next_id})}" if self.next_id else ""
        return [address + query for address in reverse_ids(name, [self.key, *args], ids)]

    @property
    def kind(self) -> str:
        return AT_HOME if self.home else AT_SCHOOL

    @property
    def budget(self) -> str:
        """Which counters an attempt here uses: home never touches the school's (0016)."""
        return throttling.OUTSIDE if self.home else throttling.INSIDE


def _next_id(request: HttpRequest) -> int | None:
    """?next=<product id> from a method's shortcut: carried through, used after sign-in."""
    raw = request.POST.get("next") or request.GET.get("next") or ""
    return parse_id(raw[:12])


def _after_signin(next_id: int | None) -> str:
    return selectors.launch_url(next_id) if next_id else reverse("signin:portal")


def _pupil_render(request: HttpRequest, template: str, context: dict[str, Any],
                  status: int = 200) -> HttpResponse:
    context.setdefault("notices", selectors.current_notices(kept=Kept.of(request)))
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


def _not_here(request: HttpRequest) -> HttpResponse:
    """The one answer for a wrong address and an unknown reference alike: no school named."""
    return _pupil_render(request, "signin/not_here.html", {}, status=403)


def _home_off(request: HttpRequest) -> HttpResponse:
    """The one answer for an unknown School ID and a school without home sign-in."""
    return _pupil_render(request, "signin/home_off.html", {}, status=404)


def _school_place(request: HttpRequest, ref: str) -> Place | None:
    facts = selectors.page_school(ref[:MAX_FIELD], Kept.of(request))
    if facts is None or not facts.allows(client_ip(request)):
        return None
    return Place(facts.school, False, ref, _next_id(request))


def _home_place(request: HttpRequest, public_id: str) -> Place | None:
    school = selectors.school_for_home(public_id[:MAX_FIELD])
    if school is None:
        return None
    return Place(school, True, school.public_id, _next_id(request))


def _tile_items(tiles: Sequence[selectors.GroupTile | selectors.NameTile], urls: list[str]
                ) -> SafeString:
    """The list items of the group or name tiles, byte for byte as the template's loop over
    them wrote them: built here, because that loop was the largest part of the pupil pages'
    own time for a school of 40 groups or a group of 30 (issue 17)."""
    items = []
    for tile, url in zip(tiles, urls, strict=True):
        size, face = tile.face
        items.append(f'\n      <li><a class="kid-tile kid-tile--name{" " + size if size else ""}"'
                     f' href="{escape(url)}"><span class="kid-tile__text">{face}</span></a>'
                     f"</li>\n    ")
    return mark_safe("".join(items))  # noqa: S308 - the address escaped, the face built so


def _page_context(place: Place, **extra: Any) -> dict[str, Any]:
    return {"place": place, "school": place.school, "next_id": place.next_id,
            "start_url": place.url("page"), **extra}


# ---------------------------------------------------------------------------------------------
# The three steps, shared by the school's page and home sign-in
# ---------------------------------------------------------------------------------------------
def _not_enrolled(request: HttpRequest, place: Place) -> HttpResponse:
    """At home on a device that never signed this pupil in at school: no names, nothing
    compared (decision 0016)."""
    return _pupil_render(request, "signin/home_enrol.html", _page_context(place), status=403)


def _groups(request: HttpRequest, place: Place) -> HttpResponse:
    kept = Kept.of(request)
    kept.prefetch(f"groups:{place.school.pk}", selectors.NOTICES)
    groups = selectors.signin_groups(place.school, kept)
    if place.home:
        groups = selectors.enrolled_groups(place.school, groups,
                                           devices.device_of(request).pupils)
        if not groups:
            return _not_enrolled(request, place)
    tiles = _tile_items(groups, place.urls("names", [], [tile.id for tile in groups]))
    return _pupil_render(request, "signin/groups.html", _page_context(
        place, tiles=tiles, scan=not place.home))


def _group_names(request: HttpRequest, place: Place, group_id: Any
                 ) -> tuple[Group, list[selectors.NameTile]] | None:
    """The group and its name tiles (kept under the access epoch), the notices fetched in the
    same round trip to the cache."""
    kept = Kept.of(request)
    pk = parse_id(group_id)
    kept.prefetch(selectors.names_key(place.school.pk, pk), selectors.NOTICES)
    return selectors.group_with_names(place.school, pk, kept)


def _names(request: HttpRequest, place: Place, group_id: Any) -> HttpResponse:
    found = _group_names(request, place, group_id)
    if found is None:
        return _gone(request, place)
    group, names = found
    if place.home:
        enrolled = devices.device_of(request)
        names = [tile for tile in names if enrolled.enrolled(tile.id)]
        if not names:
            return _not_enrolled(request, place)
    tiles = _tile_items(names, place.urls("secret", [group.pk], [tile.id for tile in names]))
    return _pupil_render(request, "signin/names.html", _page_context(
        place, group=group, tiles=tiles))


def _gone(request: HttpRequest, place: Place) -> HttpResponse:
    """A group or pupil that is not (or no longer) there: back to the start, kindly."""
    return _pupil_render(request, "signin/gone.html", _page_context(place), status=404)


def _given(request: HttpRequest, method: str) -> tuple[str, list[int] | str, bool]:
    """Read the form: for pictures the picks so far (a tile per request, so it works without
    JavaScript), for a pincode the digits so far (typed or tapped on the keypad). The last
    value says whether the answer is complete and should be checked."""
    post = request.POST
    if method == secrets.PICTURES:
        count = len(secrets.PICTURE_NAMES)
        picks = [int(part) for part in post.get("picked", "")[:MAX_FIELD].split("-")
                 if part.isdigit() and len(part) <= 2 and int(part) < count]
        pick = post.get("pick", "")[:3]
        if pick.isdigit() and int(pick) < count:
            picks.append(int(pick))
        chosen = picks[:secrets.PICTURES_PER_SECRET]
        complete = len(chosen) == secrets.PICTURES_PER_SECRET
        return f"{secrets.PICTURES}:" + "-".join(map(str, chosen)), chosen, complete
    code = "".join(ch for ch in post.get("code", "")[:MAX_FIELD] if ch.isdigit())
    key = post.get("key", "")[:8]
    if key.isdigit() and len(key) == 1:
        code += key
    elif key == "back":
        code = code[:-1]
    code = code[:secrets.PINCODE_DIGITS]
    complete = len(code) == secrets.PINCODE_DIGITS and key != "back"
    return f"{secrets.PINCODE}:{code}", code, complete


def _secret(request: HttpRequest, place: Place, group_id: Any, pupil_id: Any) -> HttpResponse:
    found = _group_names(request, place, group_id)
    group, tiles = found if found is not None else (None, [])
    # Only a sign-in (a POST) uses the pupil's user; a page merely shows the keypad.
    pupil = (selectors.signin_pupil(place.school, group, parse_id(pupil_id),
                                    with_user=request.method == "POST") if group else None)
    if group is None or pupil is None:
        return _gone(request, place)
    if place.home and not devices.device_of(request).enrolled(pupil.pk):
        return _not_enrolled(request, place)
    method = services.stored_method(pupil)
    address = client_ip(request)
    context = _page_context(place, group=group, pupil=pupil, method=method,
                            names_url=place.url("names", group.pk),
                            action=place.url("secret", group.pk, pupil.pk))
    if method is None:
        context["label"] = selectors.name_label(place.school, group, pupil, tiles)
        return _pupil_render(request, "signin/secret.html", context)
    wait = throttling.current_wait(pupil_id=pupil.pk, address=address,
                                   school_id=place.school.pk, place=place.budget)
    progress: list[int] | str = [] if method == secrets.PICTURES else ""
    wrong = False
    if request.method == "POST" and wait is None:
        given, progress, complete = _given(request, method)
        if complete:
            attempt = services.check_secret(school=place.school, pupil=pupil, given=given,
                                            address=address, place=place.budget)
            if attempt.ok:
                services.sign_in(request, place.school, pupil, place.kind,
                                 auth_methods.PICTURES if method == secrets.PICTURES
                                 else auth_methods.PIN)
                response = redirect(_after_signin(place.next_id))
                if not place.home:
                    devices.enrol(request, response, pupil.pk)
                return response
            wait, wrong = attempt.wait, attempt.wait is None
            progress = [] if method == secrets.PICTURES else ""
    context.update(wait=wait, wrong=wrong, progress=progress)
    if method == secrets.PICTURES:
        chosen = progress if isinstance(progress, list) else []
        context.update(
            pictures=[(index, name, secrets.PICTURE_LABELS[name])
                      for index, name in enumerate(secrets.PICTURE_NAMES)],
            chosen=[(secrets.PICTURE_NAMES[n], secrets.PICTURE_LABELS[secrets.PICTURE_NAMES[n]])
                    for n in chosen],
            picked="-".join(map(str, chosen)),
            slots=range(secrets.PICTURES_PER_SECRET - len(chosen)))
    else:
        context.update(code=progress if isinstance(progress, str) else "")
    status = 429 if wait else 200
    # The name as the tile showed it; read only for a page, never on the sign-in itself.
    context["label"] = selectors.name_label(place.school, group, pupil, tiles)
    return _pupil_render(request, "signin/secret.html", context, status=status)


# --- The school's pupil page ---------------------------------------------------------------
@never_cache
@require_GET
def pupil_page(request: HttpRequest, ref: str) -> HttpResponse:
    place = _school_place(request, ref)
    return _groups(request, place) if place else _not_here(request)


@never_cache
@require_GET
def pupil_names(request: HttpRequest, ref: str, group_id: str) -> HttpResponse:
    place = _school_place(request, ref)
    return _names(request, place, group_id) if place else _not_here(request)


@never_cache
@require_http_methods(["GET", "POST"])
def pupil_secret(request: HttpRequest, ref: str, group_id: str, pupil_id: str) -> HttpResponse:
    place = _school_place(request, ref)
    return _secret(request, place, group_id, pupil_id) if place else _not_here(request)


@never_cache
@require_GET
def card(request: HttpRequest, ref: str, token: str) -> HttpResponse:
    """A QR card opened (camera app or the page's scan button): signs the pupil in at once,
    only from the school's addresses."""
    place = _school_place(request, ref)
    if place is None:
        return _not_here(request)
    pupil, wait = services.check_card(school=place.school, token=token[:MAX_FIELD],
                                      address=client_ip(request))
    if pupil is None:
        return _pupil_render(request, "signin/card_failed.html",
                             _page_context(place, wait=wait), status=429 if wait else 404)
    services.sign_in(request, place.school, pupil, WITH_CARD, auth_methods.CARD)
    response = redirect(_after_signin(place.next_id))
    devices.enrol(request, response, pupil.pk)
    return response


# --- Home sign-in (thuisinlog) -----------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "POST"])
def home_school(request: HttpRequest) -> HttpResponse:
    """Enter the School ID once; the device remembers it (a signed cookie) for next time."""
    next_id = _next_id(request)
    query = f"?{urlencode({'next': next_id})}" if next_id else ""
    if request.method == "POST":
        school = selectors.school_for_home(request.POST.get("school_id", ""))
        if school is None:
            return _pupil_render(request, "signin/home_school.html", {
                "unknown": True, "next_id": next_id,
                "value": request.POST.get("school_id", "")[:20]}, status=404)
        response = HttpResponseRedirect(
            reverse("signin:home_page", args=[school.public_id]) + query)
        response.set_signed_cookie(HOME_COOKIE, school.public_id, salt=HOME_COOKIE_SALT,
                                   max_age=HOME_COOKIE_AGE, httponly=True, samesite="Lax",
                                   secure=request.is_secure())
        return response
    try:
        remembered = request.get_signed_cookie(HOME_COOKIE, default="", salt=HOME_COOKIE_SALT)
    except BadSignature:
        remembered = ""
    if remembered and "wissel" not in request.GET:
        return redirect(reverse("signin:home_page", args=[remembered]) + query)
    return _pupil_render(request, "signin/home_school.html", {"next_id": next_id})


@never_cache
@require_GET
def home_page(request: HttpRequest, public_id: str) -> HttpResponse:
    place = _home_place(request, public_id)
    return _groups(request, place) if place else _home_off(request)


@never_cache
@require_GET
def home_names(request: HttpRequest, public_id: str, group_id: str) -> HttpResponse:
    place = _home_place(request, public_id)
    return _names(request, place, group_id) if place else _home_off(request)


@never_cache
@require_http_methods(["GET", "POST"])
def home_secret(request: HttpRequest, public_id: str, group_id: str,
                pupil_id: str) -> HttpResponse:
    place = _home_place(request, public_id)
    return _secret(request, place, group_id, pupil_id) if place else _home_off(request)


# ---------------------------------------------------------------------------------------------
# Portal, sign-out, teacher shortcut
# ---------------------------------------------------------------------------------------------
@never_cache
@login_required
@require_GET
def portal(request: HttpRequest) -> HttpResponse:
    """*Lesmateriaal*: the tiles of what the user may open now (kept under the access epoch,
    so a change shows at the next load)."""
    portal = selectors.portal_for(request.user, Kept.of(request))
    pupil = getattr(request.user, "kind", "") == "pupil"
    return render(request, "signin/portal.html", {
        "portal": portal, "notices": selectors.current_notices(kept=Kept.of(request)),
        "is_pupil": pupil,
        "pupil_name": request.session.get(services.PUPIL_NAME, "") if pupil else "",
        "base_template": "signin/pupil_base.html" if pupil else "base.html"})


@require_POST
def pupil_logout(request: HttpRequest) -> HttpResponse:
    """*Uitloggen*: back to the page the pupil signed in on (the school's or home)."""
    kind = request.session.get(SIGNIN_KIND)
    school_id = request.session.get(SIGNIN_SCHOOL)
    school = School.objects.filter(pk=school_id).first() if school_id else None
    logout(request)
    if school is None:
        return redirect("accounts:login")
    if kind == AT_HOME:
        return redirect("signin:home_page", public_id=school.public_id)
    return redirect("signin:pupil_page", ref=school.pupil_page_ref)


@require_GET
def teacher_shortcut(request: HttpRequest) -> HttpResponse:
    """The teacher's shortcut: sign in (e-mail, password and code, from anywhere), then the
    portal, or straight to a method with ?next=<product id>."""
    target = _after_signin(_next_id(request))
    if request.user.is_authenticated and getattr(request.user, "kind", "") == "staff":
        return redirect(target)
    return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': target})}")


# ---------------------------------------------------------------------------------------------
# Helping a pupil: unlock, new card (teacher area and Beheer call this)
# ---------------------------------------------------------------------------------------------
def help_pupil(request: HttpRequest, group: Group) -> None:
    """The sign-in help form's one action for a pupil of a group the caller may manage."""
    pupil = (for_school(Pupil, group.school).filter(
        pk=parse_id(request.POST.get("pupil", "")[:12]) or 0, group=group,
        active=True).first())
    action = request.POST.get("action", "")
    if pupil is None:
        messages.error(request, _("This pupil is not in this group."))
    elif action == "unlock":
        services.unlock_pupil(actor=request.user, pupil=pupil, request=request)
        messages.success(request, _("%(name)s can try to sign in again now.")
                         % {"name": pupil.full_name})
    elif action == "card":
        services.reissue_card(actor=request.user, pupil=pupil, request=request)
        messages.success(request, _("%(name)s has a new sign-in card; the old card no longer "
                                    "works. Print the new one from the print version.")
                         % {"name": pupil.full_name})
    else:
        messages.error(request, _("Choose what to change."))


@school_admin_view
@require_POST
def coordinator_pupil_help(request: SchoolRequest, group_id: int) -> HttpResponse:
    """The coordinator's unlock / new card for a pupil of one of the school's groups."""
    group = selectors.signin_group(request.school, group_id)
    if group is None:
        raise Http404
    help_pupil(request, group)
    return redirect("roster:group", brin6=request.school.brin6, group_id=group.pk)


@school_admin_view
@require_GET
def group_view(request: SchoolRequest) -> HttpResponse:
    """*Bekijk als groep …*: the coordinator chooses a group and sees the tiles its pupils see,
    read-only, to check the set-up (issue 11, item 1; selectors.group_view)."""
    chosen = request.GET.get("groep", "")[:12]
    result = selectors.group_view(request.school, parse_id(chosen)) if chosen else None
    return render_admin_page(request, "signin/group_view.html", {
        "groups": selectors.view_groups(request.school),
        "group": result[0] if result else None,
        "sections": result[1] if result else [],
        "unknown": bool(chosen) and result is None,
    }, status=404 if chosen and result is None else 200)


@school_admin_view
@require_POST
def home_signin_setting(request: SchoolRequest) -> HttpResponse:
    """The home sign-in card on *Gegevens* (thuisinlog, R4.2): switch it, back to *Gegevens*."""
    enabled = request.POST.get("home_signin_enabled") == "on"
    services.set_home_signin(actor=request.user, school=request.school, enabled=enabled,
                             request=request)
    messages.success(request, _("Pupils can now sign in at home.") if enabled
                     else _("Pupils can no longer sign in at home."))
    return redirect("schools:data", brin6=request.school.brin6)


# ---------------------------------------------------------------------------------------------
# *Printversie*: the group's sign-in cards, for the coordinator and the group's teachers
# ---------------------------------------------------------------------------------------------
def print_cards(request: HttpRequest, school: School, group: Group, back_url: str
                ) -> HttpResponse:
    """One card per active pupil of a group the caller may see, to print on A4 and cut; each
    card gets its QR sign-in (services.attach_cards, audited)."""
    _group, _teachers, pupils = roster_selectors.group_members(school, group.pk)
    pupils = services.attach_cards(actor=request.user, school=school,
                                   pupils=secrets.attach_revealed(pupils), request=request)
    return render(request, "signin/print_cards.html", {
        "school": school, "group": group, "pupils": pupils,
        "signin_url": pupil_page_url(school), "back_url": back_url})


@school_admin_view
@require_GET
def print_cards_view(request: SchoolRequest, group_id: int) -> HttpResponse:
    """The coordinator's *Printversie* of a (main) group of the school."""
    try:
        group = roster_selectors.group_of(request.school, group_id)
    except Group.DoesNotExist as exc:
        raise Http404 from exc
    return print_cards(request, request.school, group, reverse(
        "roster:group", kwargs={"brin6": request.school.brin6, "group_id": group.pk}))
