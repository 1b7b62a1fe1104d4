"""Teachers' staff accounts from the roster: addresses, activation links, and the ICT role.

The roster knows who teaches and with which address and roles; accounts keeps the accounts.
These services give a teacher an account address (from the LAS, or typed by a coordinator on
*Leerkrachten*) and make a teacher with the LAS role ICT a coordinator of the school.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext as _

from klaspoort.accounts.models import User
from klaspoort.accounts.services import is_pending, send_activation
from klaspoort.accounts.signals import account_activated
from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record
from klaspoort.roster.models import Teacher
from klaspoort.schools.models import School, SchoolMembership
from klaspoort.tenancy import for_school


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


class HasAddress(Exception):
    """The teacher's account has an address already: it is changed by its owner, not here."""


@transaction.atomic
def set_teacher_email(*, school: School, teacher: Teacher, email: str, actor: Actor,
                      request: HttpRequest | None = None) -> Teacher:
    """Give a teacher without an account address an address and a staff account.

    Only for a teacher of this school whose account has no address (HasAddress otherwise): none came
    with the roster, or the roster's address is already used by someone else. The address must
    be unused in the whole platform. The teacher's account gets the address and the activation
    link; an address the LAS delivered stays on the roster record, so the next import sees no
    change. Audited.
    """
    # Locked and read again: two coordinators may type an address at the same moment.
    teacher = for_school(Teacher, school).select_for_update().select_related("user").get(
        pk=teacher.pk)
    if teacher.user is not None and teacher.user.email:
        raise HasAddress
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
    record(actor=actor, school=school, action=AuditAction.ACCOUNTS_TEACHER_EMAIL, target=name,
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
        record(actor=None, school=school, action=AuditAction.ACCOUNTS_TEACHER_EMAIL_FROM_ROSTER,
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
            record(actor=None, school=school, action=AuditAction.ACCOUNTS_COORDINATOR_FROM_ROSTER,
                   target=teacher.user.email or "", after={"email": teacher.user.email})
    return added


def returns_with_next_import(school: School, user: User) -> bool:
    """Whether the user data give this account the ICT coordinator role: the next import then
    makes it a coordinator again (sync_ict_coordinators), which the confirmation must say."""
    return any(teacher.is_ict_coordinator for teacher in for_school(Teacher, school).filter(
        user=user, active=True))


@receiver(account_activated)
def _ict_teachers_become_coordinators(sender: Any, user: User, **_kwargs: Any) -> None:
    """A teacher with the LAS role ICT becomes a coordinator once the account is activated."""
    for teacher in Teacher.objects.filter(user=user).select_related("school"):
        sync_ict_coordinators(teacher.school)
