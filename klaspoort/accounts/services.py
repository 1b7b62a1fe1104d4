"""Staff invitations, activation and e-mail addresses (issue 3, Staff accounts)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Collection
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from klaspoort.accounts.models import User
from klaspoort.accounts.second_factor import end_all_sessions
from klaspoort.accounts.tokens import activation_token
from klaspoort.audit.models import AuditEntry
from klaspoort.audit.services import record
from klaspoort.mail import send_mail_pair
from klaspoort.roster.models import Teacher
from klaspoort.schools.models import School, SchoolMembership
from klaspoort.tenancy import for_school


def is_pending(user: User) -> bool:
    """An invited account is pending until its owner has set a password."""
    return not user.has_usable_password()


def activation_url(user: User, request: HttpRequest | None = None) -> str:
    path = reverse("accounts:activate", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": activation_token.make_token(user)})
    return request.build_absolute_uri(path) if request is not None else settings.SITE_URL + path


def send_activation(user: User, school: School | None, request: HttpRequest | None = None) -> None:
    """Mail the activation link to a pending account.

    The link is signed and bound to the user's current password hash and to the time it was
    made: it works for 7 days (settings.ACTIVATION_TIMEOUT) and dies once a password is set.
    A new unusable password is stored first, so re-sending kills the earlier links too.
    """
    if not is_pending(user) or not user.email:
        return
    user.set_unusable_password()
    user.save(update_fields=["password"])
    send_mail_pair("activation", user.email, {
        "user": user, "school": school, "url": activation_url(user, request),
        "days": settings.ACTIVATION_TIMEOUT // 86400})


def email_in_use(email: str, *, except_teacher: Teacher | None = None,
                 except_user: User | None = None) -> bool:
    """An e-mail address is unique in the whole platform, whatever its capitals: users and
    roster teachers of every school count (two teachers sharing one address was a real problem)."""
    users = User.objects.filter(email__iexact=email)
    if except_user is not None:
        users = users.exclude(pk=except_user.pk)
    teachers = Teacher.objects.filter(email__iexact=email)
    if except_teacher is not None:
        teachers = teachers.exclude(pk=except_teacher.pk)
    return users.exists() or teachers.exists()


INVITATION_SALT = "klaspoort.accounts.coordinator-invitation"


def invitation_token(user: User, school: School) -> str:
    """A signed, dated invitation of this account to coordinate this school (no database row:
    the signature is the invitation)."""
    # "t": when it was made, so a removal after it wins (invitation_withdrawn).
    return signing.dumps({"u": user.pk, "s": school.pk, "t": int(time.time())},
                         salt=INVITATION_SALT, compress=True)


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
        action="accounts.coordinator.remove", school=school, before__email=user.email,
        created_at__gte=datetime.datetime.fromtimestamp(made, tz=datetime.UTC)).exists()


@transaction.atomic
def invite_coordinator(school: School, email: str, *, actor: Any = None,
                       request: HttpRequest | None = None) -> None:
    """Invite the address to become a coordinator of the school (issue 10, finding 6).

    RULES: nothing about an existing account changes before its owner accepts — no membership,
    no new password, no new activation token (a pending activation elsewhere keeps working).
    A new address gets a pending account and an activation link; setting the password accepts
    the invitation. A pending account gets a fresh activation link that accepts on activation
    (its earlier links stay valid). An active account gets a link to accept while signed in as
    itself. An address that cannot be staff gets nothing. The inviter sees and the audit log
    records the same in every case, so an invitation tells nobody whether an account exists.
    """
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, kind=User.Kind.STAFF)
    record(actor=actor, school=school, action="accounts.coordinator.invite", target=email,
           after={"email": email}, request=request)
    if user.kind != User.Kind.STAFF or not user.is_active:
        return
    token = invitation_token(user, school)
    days = settings.ACTIVATION_TIMEOUT // 86400
    if is_pending(user):
        url = f"{activation_url(user, request)}?{urlencode({'uitnodiging': token})}"
        send_mail_pair("activation", email, {"user": user, "school": school, "url": url,
                                             "days": days, "coordinator": True})
        return
    path = reverse("accounts:invitation", kwargs={"token": token})
    url = request.build_absolute_uri(path) if request is not None else settings.SITE_URL + path
    send_mail_pair("coordinator_invitation", email, {"user": user, "school": school,
                                                     "url": url, "days": days})


@transaction.atomic
def accept_invitation(user: User, token: str, *, request: HttpRequest | None = None
                      ) -> School | None:
    """The owner accepts: the signed-in (or just activated) account named in a valid invitation
    becomes a coordinator of its school. Anybody else's token does nothing. Audited."""
    found = invitation_from_token(token)
    if found is None or found[0].pk != user.pk:
        return None
    school = found[1]
    if invitation_withdrawn(token, user, school):
        return None
    _membership, created = SchoolMembership.objects.get_or_create(
        user=user, school=school, role=SchoolMembership.Role.COORDINATOR)
    if created:
        record(actor=user, school=school, action="accounts.coordinator.accept",
               target=user.email or "", after={"email": user.email}, request=request)
    return school


def resend_invitation(school: School, user_id: int, *, actor: Any,
                      request: HttpRequest | None = None) -> User:
    """Send a fresh activation link to a pending coordinator of this school (404 for anybody
    else); earlier links stop working. Audited."""
    membership = for_school(SchoolMembership, school).filter(
        user_id=user_id, role=SchoolMembership.Role.COORDINATOR).select_related("user").first()
    if membership is None or not is_pending(membership.user):
        raise Http404
    send_activation(membership.user, school, request)
    record(actor=actor, school=school, action="accounts.invitation.resend",
           target=membership.user.email or "", request=request)
    return membership.user


class LastCoordinator(Exception):
    """Removing this coordinator would leave the school without one who can sign in."""


def coordinator_membership(school: School, user_id: Any) -> SchoolMembership:
    """This school's coordinator membership of the user; Http404 for anybody else (another
    school's coordinator, a teacher, a made-up number)."""
    if not str(user_id).isdigit():
        raise Http404
    membership = for_school(SchoolMembership, school).filter(
        user_id=int(user_id), role=SchoolMembership.Role.COORDINATOR,
        user__is_active=True).select_related("user").first()
    if membership is None:
        raise Http404
    return membership


def returns_with_next_import(school: School, user: User) -> bool:
    """Whether the user data give this account the ICT coordinator role: the next import then
    makes it a coordinator again (sync_ict_coordinators), which the confirmation must say."""
    return any(teacher.is_ict_coordinator for teacher in for_school(Teacher, school).filter(
        user=user, active=True))


@transaction.atomic
def remove_coordinator(school: School, user_id: Any, *, actor: Any,
                       request: HttpRequest | None = None) -> User:
    """Take away a coordinator's right to manage this school (issue 11, item 9).

    RULES: never the last one: at least one other coordinator with an activated account (active,
    with a password) stays, so somebody can still sign in and manage the school. The school's
    coordinator rows are locked first, so two coordinators removing each other at the same
    moment cannot both succeed. Only the membership goes: the account keeps its other schools
    and, as a teacher, its own groups. Access ends at once (every Beheer page checks the
    membership). Audited.
    """
    memberships = list(for_school(SchoolMembership, school).select_for_update().filter(
        role=SchoolMembership.Role.COORDINATOR).select_related("user").order_by("pk"))
    membership = next((m for m in memberships if str(m.user_id) == str(user_id)
                       and m.user.is_active), None)
    if membership is None:
        raise Http404
    if not any(m.pk != membership.pk and m.user.is_active and not is_pending(m.user)
               for m in memberships):
        raise LastCoordinator
    user = membership.user
    membership.delete()
    record(actor=actor, school=school, action="accounts.coordinator.remove",
           target=user.email or "", before={"email": user.email}, request=request)
    return user


@transaction.atomic
def set_teacher_email(school: School, teacher_id: int, email: str, *, actor: Any,
                      request: HttpRequest | None = None) -> Teacher:
    """Give a teacher without an account address an address and a staff account.

    Only for a teacher of this school whose account has no address (404 otherwise): none came
    with the roster, or the roster's address is already used by someone else. The address must
    be unused in the whole platform. The teacher's account gets the address and the activation
    link; an address the LAS delivered stays on the roster record, so the next import sees no
    change. Audited.
    """
    teacher = for_school(Teacher, school).filter(pk=teacher_id).select_for_update().select_related(
        "user").first()
    if teacher is None or (teacher.user is not None and teacher.user.email):
        raise Http404
    email = email.strip().lower()
    if email_in_use(email, except_teacher=teacher, except_user=teacher.user):
        raise ValidationError(_("This e-mail address is already used by someone else in "
                                "Klaspoort. Every person needs their own address."))
    name = teacher.full_name
    if teacher.user is None:
        teacher.user = User.objects.create_user(email=email, password=None, display_name=name,
                                                kind=User.Kind.STAFF)
    else:
        teacher.user.email = email
        teacher.user.save(update_fields=["email"])
    before = teacher.email
    if not teacher.email:
        teacher.email = email
    teacher.save(update_fields=["email", "user"])
    record(actor=actor, school=school, action="accounts.teacher.email", target=name,
           before={"email": before}, after={"email": email}, request=request)
    send_activation(teacher.user, school, request)
    return teacher


def provision_teacher_accounts(school: School, *,
                               changed_email_ids: Collection[int] = ()) -> dict[str, Any]:
    """Give teachers their staff account address from the roster (EDEXML `emailadres`).

    RULES: every active teacher of the school with an address in the roster whose account has
    none gets that address and an activation link; a teacher whose address the roster changed
    (`changed_email_ids`, from the import) while the account is still pending gets the new
    address and a fresh link (earlier links stop working). An activated account keeps its
    sign-in address (decision 0010). An address that is already used in the whole platform (by
    any user, or by any other teacher of any school; email_in_use) is given to nobody: the
    teacher is reported so the coordinator can enter another on *Leerkrachten*.

    Costs one query to find the teachers that need it and two to check all their addresses,
    however many teachers the school has. Returns {"invited": n, "conflicts": [{"teacher":
    name, "email": address}, ...]}, empty when nothing was to be done.
    """
    needing = Q(user__email__isnull=True) | Q(user__email="")
    if changed_email_ids:
        needing |= Q(pk__in=list(changed_email_ids),
                     user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
    candidates = [
        teacher for teacher in for_school(Teacher, school).filter(
            needing, active=True, user__isnull=False, user__is_active=True,
            user__kind=User.Kind.STAFF).exclude(email="").select_related("user")
        if teacher.user.email != teacher.email.strip().lower()
    ]
    if not candidates:
        return {}
    wanted = {teacher.email.strip().lower() for teacher in candidates}
    users_with: dict[str, set[int]] = {}
    for pk, address in User.objects.filter(email__in=wanted).values_list("pk", "email"):
        users_with.setdefault(address or "", set()).add(pk)
    teachers_with: dict[str, set[int]] = {}
    for pk, address in Teacher.objects.annotate(address=Lower("email")).filter(
            address__in=wanted).values_list("pk", "address"):
        teachers_with.setdefault(address, set()).add(pk)
    invited = 0
    conflicts: list[dict[str, str]] = []
    for teacher in sorted(candidates, key=lambda t: (t.last_name, t.first_name, t.pk)):
        email = teacher.email.strip().lower()
        user = teacher.user
        taken = (users_with.get(email, set()) - {user.pk}
                 or teachers_with.get(email, set()) - {teacher.pk})
        if not taken:
            before = user.email or ""
            try:
                with transaction.atomic():
                    user.email = email
                    user.save(update_fields=["email"])
            except IntegrityError:
                # Taken a moment ago by another school's import or a coordinator.
                user.email = before or None
                taken = {0}
        if taken:
            conflicts.append({"teacher": teacher.full_name, "email": email})
            continue
        record(actor=None, school=school, action="accounts.teacher.email_from_roster",
               target=teacher.full_name, before={"email": before}, after={"email": email})
        send_activation(user, school)
        invited += 1
    return {"invited": invited, "conflicts": conflicts}


def sync_ict_coordinators(school: School) -> int:
    """Teachers with the roster role ICT become coordinators of their school once their account
    is activated (active, with a password). Memberships are only added, never removed: a
    coordinator is taken away by hand. Returns how many were added."""
    added = 0
    for teacher in for_school(Teacher, school).filter(
            active=True, user__isnull=False, user__is_active=True).select_related("user"):
        if not teacher.is_ict_coordinator or is_pending(teacher.user):
            continue
        _m, created = SchoolMembership.objects.get_or_create(
            user=teacher.user, school=school, role=SchoolMembership.Role.COORDINATOR)
        if created:
            added += 1
            record(actor=None, school=school, action="accounts.coordinator.from_roster",
                   target=teacher.user.email or "", after={"email": teacher.user.email})
    return added


def change_own_password(request: HttpRequest, password: str) -> None:
    """RULE: the signed-in user's new password (the form has checked the current one and the
    password rules) ends every other session of the account, on every device, and keeps this
    one: a password is changed because it may be known to somebody else. The owner gets an
    e-mail about it, with the way to reset it should it not have been them."""
    user = request.user
    assert isinstance(user, User)
    user.set_password(password)
    user.save(update_fields=["password"])
    # The session hash covers the password already; the generation makes it explicit.
    end_all_sessions(user)
    user.refresh_from_db(fields=["session_generation"])
    update_session_auth_hash(request, user)
    # Told by e-mail, so the owner hears of a change made on a screen left signed in.
    if user.email:
        url = request.build_absolute_uri(reverse("accounts:password_reset"))
        send_mail_pair("password_changed", user.email, {"user": user, "url": url})


def activate(user: User, password: str, *, invitation: str = "",
             request: HttpRequest | None = None) -> None:
    """Set the first password of an invited account (the form has checked the password
    rules). Changing the hash ends the link; ICT teachers become coordinators now, and so does
    the owner of a coordinator invitation that came with the link (accept_invitation)."""
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    if invitation:
        accept_invitation(user, invitation, request=request)
    for teacher in Teacher.objects.filter(user=user).select_related("school"):
        sync_ict_coordinators(teacher.school)
