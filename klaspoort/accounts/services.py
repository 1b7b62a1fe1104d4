"""Staff invitations, activation and e-mail addresses (issue 3, Staff accounts)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from klaspoort.accounts.models import User
from klaspoort.accounts.tokens import activation_token
from klaspoort.audit.services import record
from klaspoort.roster.models import Teacher
from klaspoort.schools.models import School, SchoolMembership
from klaspoort.tenancy import for_school


def send_mail_pair(template: str, to: str, context: dict[str, Any]) -> None:
    """Every message goes out in Dutch (whatever the sender's screen language), with a
    plain-text part and an HTML part from the same context."""
    with translation.override(settings.LANGUAGE_CODE):
        _send(template, to, context)


def _send(template: str, to: str, context: dict[str, Any]) -> None:
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
    text = render_to_string(f"accounts/email/{template}.txt", context)
    html = render_to_string(f"accounts/email/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send()


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


def _staff_user(email: str, display_name: str = "") -> User:
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, display_name=display_name,
                                        kind=User.Kind.STAFF)
    elif user.kind != User.Kind.STAFF:
        raise ValidationError(_("This e-mail address cannot be used for a staff account."))
    return user


@transaction.atomic
def invite_coordinator(school: School, email: str, *, actor: Any = None,
                       request: HttpRequest | None = None) -> User:
    """Make the address a coordinator of the school: the account is created when it does not
    exist yet (without a password) and receives the activation link while it is pending. An
    existing active account simply gains the membership. Audited."""
    user = _staff_user(email)
    _membership, created = SchoolMembership.objects.get_or_create(
        user=user, school=school, role=SchoolMembership.Role.COORDINATOR)
    if created:
        record(actor=actor, school=school, action="accounts.coordinator.invite",
               target=user.email or "", after={"email": user.email}, request=request)
    send_activation(user, school, request)
    return user


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


@transaction.atomic
def set_teacher_email(school: School, teacher_id: int, email: str, *, actor: Any,
                      request: HttpRequest | None = None) -> Teacher:
    """Give a teacher without an e-mail in the roster an address and a staff account.

    Only for a teacher of this school who has none (404 otherwise); the address must be unused in
    the whole platform. The teacher's account gets the address and the activation link. Audited.
    """
    teacher = for_school(Teacher, school).filter(pk=teacher_id).select_for_update().first()
    if teacher is None or teacher.email:
        raise Http404
    email = email.strip().lower()
    if email_in_use(email, except_teacher=teacher, except_user=teacher.user):
        raise ValidationError(_("This e-mail address is already used by someone else in "
                                "Klaspoort. Every person needs their own address."))
    name = " ".join(p for p in (teacher.first_name, teacher.prefix, teacher.last_name) if p)
    if teacher.user is None:
        teacher.user = User.objects.create_user(email=email, password=None, display_name=name,
                                                kind=User.Kind.STAFF)
    else:
        teacher.user.email = email
        teacher.user.save(update_fields=["email"])
    teacher.email = email
    teacher.save(update_fields=["email", "user"])
    record(actor=actor, school=school, action="accounts.teacher.email", target=name,
           before={"email": ""}, after={"email": email}, request=request)
    send_activation(teacher.user, school, request)
    return teacher


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


def activate(user: User, password: str) -> None:
    """Set the first password of an invited account (the form has checked the password
    rules). Changing the hash ends the link; ICT teachers become coordinators now."""
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    for teacher in Teacher.objects.filter(user=user).select_related("school"):
        sync_ict_coordinators(teacher.school)
