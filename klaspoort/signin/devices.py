"""Devices enrolled for home sign-in (decision 0016).

A pupil signs in at home only on a device on which that pupil once signed in at school (with
pictures, pincode or card, from the school's addresses). The sign-in at school leaves a device
cookie: a random device id (128 bits) and the pupils enrolled on the device, signed with the
project's secret key (HMAC-SHA256) so nobody can write one. Without it, home sign-in shows no
names and compares nothing: an outsider has no secret to guess, only a signature to forge.
"""

from __future__ import annotations

import secrets as random
from dataclasses import dataclass, field

from django.core import signing
from django.http import HttpRequest, HttpResponse

DEVICE_COOKIE = "klaspoort_device"
DEVICE_SALT = "klaspoort.signin.device"
DEVICE_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie; a school year and a summer
MAX_PUPILS = 6  # a family's children; a shared school device keeps the latest few


@dataclass(frozen=True)
class Device:
    """What the device cookie says: the device's id and who is enrolled (latest last)."""

    id: str = ""
    pupils: tuple[int, ...] = field(default_factory=tuple)

    def enrolled(self, pupil_id: int) -> bool:
        return pupil_id in self.pupils


def device_of(request: HttpRequest) -> Device:
    """The device's enrolment, or an empty one for a missing, forged or expired cookie."""
    raw = request.COOKIES.get(DEVICE_COOKIE, "")
    if not raw or len(raw) > 1000:
        return Device()
    try:
        data = signing.loads(raw, salt=DEVICE_SALT, max_age=DEVICE_AGE)
    except signing.BadSignature:
        return Device()
    if not isinstance(data, dict) or not isinstance(data.get("d"), str):
        return Device()
    pupils = tuple(p for p in data.get("p", []) if isinstance(p, int))[-MAX_PUPILS:]
    return Device(data["d"], pupils)


def enrol(request: HttpRequest, response: HttpResponse, pupil_id: int) -> None:
    """After a sign-in at school: this device may be used for the pupil's home sign-in.

    RULE: only a sign-in from the school's addresses calls this; the pupil moves to the end of
    the list and the oldest drop off after MAX_PUPILS.
    """
    device = device_of(request)
    pupils = [p for p in device.pupils if p != pupil_id] + [pupil_id]
    value = signing.dumps({"d": device.id or random.token_urlsafe(16),
                           "p": pupils[-MAX_PUPILS:]}, salt=DEVICE_SALT)
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_AGE, httponly=True,
                        samesite="Lax", secure=request.is_secure())
