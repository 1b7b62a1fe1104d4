"""Writing the audit trail. Every change in *Beheer* calls `record` (issue 3, Audit)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any, TypeAlias

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Model
from django.http import HttpRequest

from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.network import client_ip

if TYPE_CHECKING:
    # django-stubs' name for settings.AUTH_USER_MODEL: mypy's Django plugin reads it as the
    # project's user model, so the trail is typed without importing the accounts app above it.
    from django.contrib.auth.models import AnonymousUser, _User


class SystemActor:
    """Who acted when no signed-in user did: an operator at the command line, a publisher's API
    client. Not a user, so nothing is stored in a user column, but the trail names it."""

    is_authenticated = False

    def __init__(self, label: str) -> None:
        self.label = label

    def __str__(self) -> str:
        return self.label


OPERATOR = SystemActor("operator (command line)")

# Who a write is done by: a user (the project's user model), the anonymous user of a request,
# an operator or API client, or nobody (Klaspoort itself).
Actor: TypeAlias = "_User | AnonymousUser | SystemActor | None"


def user_of(actor: Actor) -> _User | None:
    """The user to store in a "by" column: None for the system, an operator at the command line
    or an API client (they are named in the trail, but are no user to link)."""
    return actor if isinstance(actor, AbstractBaseUser) and actor.is_authenticated else None


def _actor_label(actor: Actor) -> str:
    if isinstance(actor, SystemActor):
        return actor.label
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ""
    return str(getattr(actor, "email", "") or actor)


def _request_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        # A test client or a broken proxy header: no address is better than a wrong one.
        return None


def record(*, actor: Actor, school: Model | None, action: AuditAction, target: str,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           request: HttpRequest | None = None) -> AuditEntry:
    """Write one audit entry: who (kept as a label too, should the account be deleted), which
    school, what, before and after, and the client address of the request. Entries are final."""
    user = user_of(actor)
    # By id: the trail sits below the schools app and knows its model only as a foreign key.
    return AuditEntry.objects.create(
        actor=user, actor_label=_actor_label(actor),
        school_id=school.pk if school is not None else None, action=action,
        target=target[:1000], before=before, after=after, ip_address=_request_ip(request),
    )
