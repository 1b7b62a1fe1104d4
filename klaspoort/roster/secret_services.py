"""Writes of pupils' sign-in secrets: a new secret for one pupil or a whole group, a pincode
chosen by hand, a group's method, every new pupil's first secret, and re-encryption under a new
key. The coordinator's and teacher's changes are audited, never with the value.

What a secret is (its forms, the pincode rule, generation) and how it is encrypted is
`roster.secrets`, which touches no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record
from klaspoort.roster.models import Group, Pupil
from klaspoort.roster.secrets import (
    PICTURES,
    PINCODE,
    TrivialPincode,
    check_chosen_pincode,
    current_token_prefix,
    decrypt,
    default_method,
    encrypt,
    method_of,
    new_secret,
)
from klaspoort.schools.models import School


def issue_for_new(school: School, pupils: list[Pupil]) -> None:
    """Give pupils that are about to be created their first secret (the import's new pupils).

    Runs before their bulk insert, so the import costs one extra query (the groups' methods)
    and no query per pupil.
    """
    if not pupils:
        return
    methods = {pk: signin_method or default_method(jaargroep)
               for pk, jaargroep, signin_method in Group.objects.filter(school=school)
               .values_list("pk", "jaargroep", "signin_method")}
    for pupil in pupils:
        method = methods.get(pupil.group_id) if pupil.group_id else None
        pupil.signin_secret = encrypt(new_secret(method or default_method(pupil.jaargroep)))


def _group_pupils(group: Group) -> list[Pupil]:
    return list(Pupil.objects.filter(school=group.school, group=group, active=True))


def _audit(*, actor: Actor, request: HttpRequest | None, group: Group, action: AuditAction,
           target: str, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None) -> None:
    record(actor=actor, school=group.school, action=action, target=target, before=before,
           after=after, request=request)


def change_pupil_secret(*, actor: Actor, pupil: Pupil, request: HttpRequest | None = None) -> None:
    """Give one pupil a new random secret in their group's method; audited without the value."""
    method = method_of(pupil.group, pupil.jaargroep)
    with transaction.atomic():
        pupil.signin_secret = encrypt(new_secret(method))
        pupil.save(update_fields=["signin_secret"])
        record(actor=actor, school=pupil.school, action=AuditAction.ROSTER_SECRET_CHANGE,
               target=pupil.full_name, after={"method": method}, request=request)


def choose_pincode(*, actor: Actor, pupil: Pupil, code: str,
                   request: HttpRequest | None = None) -> None:
    """Give one pupil a pincode typed by a coordinator or teacher (the seeds let a school keep a
    code a child already knows). Only in a pincode group; trivial codes are refused
    (check_chosen_pincode). Audited as "chosen by hand", never with the value."""
    if method_of(pupil.group, pupil.jaargroep) != PINCODE:
        raise TrivialPincode(_("This group signs in with pictures, not with a pincode."))
    code = check_chosen_pincode(code)
    with transaction.atomic():
        pupil.signin_secret = encrypt(f"{PINCODE}:{code}")
        pupil.save(update_fields=["signin_secret"])
        record(actor=actor, school=pupil.school, action=AuditAction.ROSTER_SECRET_CHOOSE,
               target=pupil.full_name, after={"method": PINCODE}, request=request)


def regenerate_group(*, actor: Actor, group: Group, request: HttpRequest | None = None) -> int:
    """New random secrets for every active pupil of the group; one audit entry for the group."""
    method = method_of(group)
    with transaction.atomic():
        pupils = _group_pupils(group)
        for pupil in pupils:
            pupil.signin_secret = encrypt(new_secret(method))
        Pupil.objects.bulk_update(pupils, ["signin_secret"], batch_size=500)
        _audit(actor=actor, request=request, group=group,
               action=AuditAction.ROSTER_SECRET_REGENERATE, target=group.name,
               after={"method": method, "pupils": len(pupils)})
    return len(pupils)


def switch_method(*, actor: Actor, group: Group, method: str,
                  request: HttpRequest | None = None) -> None:
    """Set the group's method; its pupils get new secrets in the new form at once (an old
    pincode cannot become pictures). Choosing the current method changes nothing."""
    if method not in (PICTURES, PINCODE):
        raise ValueError(method)
    before = method_of(group)
    if method == before:
        return
    with transaction.atomic():
        group.signin_method = method
        group.save(update_fields=["signin_method"])
        pupils = _group_pupils(group)
        for pupil in pupils:
            pupil.signin_secret = encrypt(new_secret(method))
        Pupil.objects.bulk_update(pupils, ["signin_secret"], batch_size=500)
        _audit(actor=actor, request=request, group=group, action=AuditAction.ROSTER_SECRET_METHOD,
               target=group.name, before={"method": before},
               after={"method": method, "pupils": len(pupils)})


@dataclass
class Rotation:
    """What rotate_all did: rows looked at, rewritten, already current, unreadable."""

    checked: int = 0
    rotated: int = 0
    current: int = 0
    unreadable: int = 0


def rotate_all(*, batch_size: int = 500) -> Rotation:
    """Re-encrypt every pupil's secret under the current key.

    RULES: the secret itself never changes (printed cards keep working); rows already under the
    current key are not read again, so a second run finds nothing to do (idempotent); rows are
    rewritten in batches, each in its own short transaction with its rows locked, so a
    coordinator's change in between is never overwritten with the older secret; a token no
    configured key reads is left as it is and counted (never logged), for the operator to look
    into before removing an old key.
    """
    outcome = Rotation()
    current = current_token_prefix()
    outcome.current = Pupil.objects.filter(signin_secret__startswith=current).count()
    outcome.checked = outcome.current
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                Pupil.objects.select_for_update().filter(pk__gt=last_pk)
                .exclude(signin_secret="").exclude(signin_secret__startswith=current)
                .order_by("pk").only("pk", "signin_secret")[:batch_size])
            if not batch:
                return outcome
            changed = []
            for pupil in batch:
                outcome.checked += 1
                try:
                    pupil.signin_secret = encrypt(decrypt(pupil.signin_secret))
                except ValueError:
                    outcome.unreadable += 1
                    continue
                changed.append(pupil)
            Pupil.objects.bulk_update(changed, ["signin_secret"], batch_size=batch_size)
            outcome.rotated += len(changed)
            last_pk = batch[-1].pk
