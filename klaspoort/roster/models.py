"""The school's roster as its administration (LAS) delivers it, the log of its changes, and the
record of each import.

What the LAS delivers is not edited by hand (R2.1): people, groups and their links are written by
an import (services.apply_roster). Only what the LAS does not know is set here: a group's sign-in
method (by the coordinator) and a pupil's sign-in secret (roster.secrets). People and groups are
identified per school by their LAS key, so licences and results stay attached when a pupil moves
group; people and groups are deactivated, never deleted (only the link rows of a person whose
links changed, clusters or a teacher's groups, are replaced).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from klaspoort.schools.models import School

KEY_MAX = 256


class Group(models.Model):
    class Kind(models.TextChoices):
        GROUP = "group", _("group")
        CLUSTER = "cluster", _("cluster")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="groups")
    key = models.CharField(max_length=KEY_MAX)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.GROUP)
    name = models.CharField(_("name"), max_length=64)
    # EDEXML value set: 0-8, 11-16 or a letter (C = combination group); empty for clusters.
    jaargroep = models.CharField(_("year group"), max_length=2, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # How its pupils sign in: "plaatjes" or "pincode"; empty = the year group's default
    # (roster.secrets.default_method). Set by the coordinator, never by an import.
    signin_method = models.CharField(_("sign-in method"), max_length=8, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        constraints = [
            models.UniqueConstraint(fields=["school", "key"], name="group_school_key_unique")
        ]
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """What pupils and teachers share: identity by LAS key (and ECK iD), names, active flag."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=KEY_MAX)
    # The chain pseudonym; stays the same across schools and LAS changes. Never logged.
    # NULL, not "", when absent: the unique constraint must let many people have none.
    eckid = models.CharField(max_length=256, null=True, blank=True)  # noqa: DJ001
    first_name = models.CharField(_("first name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=10, blank=True)
    last_name = models.CharField(_("last name"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.prefix, self.last_name) if part)

    @property
    def sort_name(self) -> str:
        return sort_name(self.first_name, self.prefix, self.last_name)


def sort_name(first_name: str, prefix: str, last_name: str) -> str:
    """'Vries, Jan de': how Dutch school lists sort and show names."""
    if not last_name:
        return first_name
    given = " ".join(part for part in (first_name, prefix) if part)
    return f"{last_name}, {given}"


class Pupil(Person):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="pupils")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pupil"
    )
    jaargroep = models.CharField(_("year group"), max_length=2, blank=True)
    group = models.ForeignKey(
        Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="pupils"
    )
    clusters: models.ManyToManyField[Group, PupilCluster] = models.ManyToManyField(
        Group, through="PupilCluster", related_name="cluster_pupils", blank=True
    )
    # The sign-in secret, AES-GCM encrypted (roster.secrets); never in a log or the change log.
    signin_secret = models.TextField(blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("pupil")
        verbose_name_plural = _("pupils")
        constraints = [
            models.UniqueConstraint(fields=["school", "key"], name="pupil_school_key_unique"),
            models.UniqueConstraint(
                fields=["school", "eckid"],
                condition=models.Q(eckid__isnull=False),
                name="pupil_school_eckid_unique",
            ),
        ]
        indexes = [models.Index(fields=["school", "active", "last_name"])]


class PupilCluster(models.Model):
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE)
    group = models.ForeignKey(Group, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pupil", "group"], name="pupil_cluster_unique")
        ]

    def __str__(self) -> str:
        return f"{self.pupil_id} in {self.group_id}"


class Teacher(Person):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="teachers")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="teacher"
    )
    # The address the LAS delivered (or the coordinator entered, R1.5); empty when unknown.
    email = models.EmailField(_("e-mail address"), blank=True)
    # EDEXML role codes at school level, e.g. ["LRK", "ICT"]; ICT marks an ICT coordinator.
    roles = models.JSONField(default=list, blank=True)
    groups: models.ManyToManyField[Group, TeacherGroup] = models.ManyToManyField(
        Group, through="TeacherGroup", related_name="teachers", blank=True
    )

    class Meta:
        verbose_name = _("teacher")
        verbose_name_plural = _("teachers")
        constraints = [
            models.UniqueConstraint(fields=["school", "key"], name="teacher_school_key_unique"),
            models.UniqueConstraint(
                fields=["school", "eckid"],
                condition=models.Q(eckid__isnull=False),
                name="teacher_school_eckid_unique",
            ),
        ]

    @property
    def is_ict_coordinator(self) -> bool:
        return "ICT" in self.roles


class TeacherGroup(models.Model):
    teacher = models.ForeignKey(Teacher, on_delete=models.CASCADE)
    group = models.ForeignKey(Group, on_delete=models.CASCADE)
    roles = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["teacher", "group"], name="teacher_group_unique")
        ]

    def __str__(self) -> str:
        return f"{self.teacher_id} in {self.group_id}"


class RosterEvent(models.Model):
    """One add, change or deactivation of a group, pupil or teacher.

    `id` is the feed's sequence number. services.apply_roster writes events last in its
    transaction under a lock, so sequence numbers become visible in increasing order and a
    reader that remembers the last number it saw misses nothing and sees nothing twice.
    """

    class Entity(models.TextChoices):
        GROUP = "group", _("group")
        PUPIL = "pupil", _("pupil")
        TEACHER = "teacher", _("teacher")

    class Action(models.TextChoices):
        ADDED = "added", _("added")
        CHANGED = "changed", _("changed")
        DEACTIVATED = "deactivated", _("deactivated")
        REACTIVATED = "reactivated", _("reactivated")

    id = models.BigAutoField(primary_key=True)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="roster_events")
    entity = models.CharField(max_length=8, choices=Entity.choices)
    entity_id = models.BigIntegerField()
    action = models.CharField(max_length=12, choices=Action.choices)
    # Names of the fields that changed, never their values: the feed reads current state.
    fields = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["school", "id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.entity} {self.entity_id} {self.action}"


class RosterImport(models.Model):
    class Source(models.TextChoices):
        UPLOAD = "upload", _("manual import")
        COUPLING = "coupling", _("automatic coupling")
        COMMAND = "command", _("command line")
        SPREADSHEET = "spreadsheet", _("spreadsheet (XML maker)")

    class Status(models.TextChoices):
        # Uploaded in Beheer; a background task checks it in a moment (roster.tasks).
        RECEIVED = "received", _("being checked")
        WAITING = "waiting", _("waiting for the nightly run")
        # Would deactivate a large part of the school (services.mass_removals): applied only
        # once a coordinator chooses to go ahead anyway.
        HELD = "held", _("waiting for confirmation")
        PROCESSED = "processed", _("processed")
        FAILED = "failed", _("failed")
        # A contract's "cancelled" is *opgezegd*; an import's is *geannuleerd*.
        CANCELLED = "cancelled", pgettext_lazy("roster import", "cancelled")

    # NULL only for a file that was rejected before its school could be known (command line).
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, null=True, blank=True, related_name="imports"
    )
    source = models.CharField(max_length=12, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    filename = models.CharField(max_length=255, blank=True)
    file_sha256 = models.CharField(max_length=64)
    file_size = models.BigIntegerField()
    edexml_version = models.CharField(max_length=8, blank=True)
    # The file as uploaded in Beheer, encrypted (roster.secrets.seal_file), only until the
    # background check has read it: a file can carry BSNs, which Klaspoort never keeps.
    received_file = models.BinaryField(null=True, blank=True, editable=False)
    # The validated roster, without the fields Klaspoort never keeps (BSN, postcode, …);
    # kept only while the import waits, cleared once it is processed.
    payload = models.JSONField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    # What was accepted but dropped or corrected ({"line", "message"} each); never stops it.
    warnings = models.JSONField(default=list, blank=True)
    # A coordinator's "go ahead anyway" for a held import: the deactivations per kind they saw.
    # A night that finds more than these holds the import again.
    removals_confirmed = models.JSONField(default=dict, blank=True)
    removals_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.get_status_display()})"


class LasSystem(models.Model):
    """A pupil administration (LAS: ParnasSys, ESIS, Dotcomschool, …) in the operators'
    catalogue, and how its roster reaches Klaspoort (issue 14, decision 0036). Only operators
    set the endpoint: a school chooses a LAS, never an address, so no school can make Klaspoort
    call a URL of its choosing."""

    class Method(models.TextChoices):
        # Klaspoort calls the LAS's UWLR Leerlinggegevens service (HaalLeerlinggegevens).
        PULL = "pull", _("Klaspoort fetches the roster (UWLR)")
        # The LAS sends the roster to Klaspoort's API with its own token.
        PUSH = "push", _("the LAS sends the roster")

    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(max_length=40, unique=True)
    method = models.CharField(_("coupling method"), max_length=4, choices=Method.choices)
    # The UWLR Leerlinggegevens endpoint (pull only); https in production.
    endpoint = models.URLField(_("UWLR endpoint"), max_length=300, blank=True)
    # Whether a school must enter the authorisation key (autorisatiesleutel) its LAS gave it.
    needs_key = models.BooleanField(_("school enters an authorisation key"), default=True)
    # Klaspoort's own customer code and name at this LAS: the UWLR autorisatie header's
    # klantcode and klantnaam.
    client_code = models.CharField(_("customer code (klantcode)"), max_length=64, blank=True)
    client_name = models.CharField(_("customer name (klantnaam)"), max_length=128, blank=True)
    timeout_seconds = models.PositiveSmallIntegerField(_("timeout in seconds"), default=60)
    active = models.BooleanField(_("active"), default=True)
    # Its UWLR Leerresultaten endpoint (issue 15): blank when it takes no results. Some take
    # practice results too (Momento); the others only tests and observations.
    results_endpoint = models.URLField(_("UWLR results endpoint"), max_length=300, blank=True)
    takes_practice_results = models.BooleanField(_("takes practice results"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("pupil administration (LAS)")
        verbose_name_plural = _("pupil administrations (LAS)")

    def __str__(self) -> str:
        return self.name


class RosterCoupling(models.Model):
    """A school's automatic coupling with its LAS (R2.3, *Automatische koppeling*). It runs only
    while a coordinator has switched it on (consent on the school's side); the LAS's side is
    the authorisation key it gave the school, or its own push token."""

    class Result(models.TextChoices):
        OK = "ok", _("succeeded")
        FAILED = "failed", _("failed")

    school = models.OneToOneField(School, on_delete=models.CASCADE,
                                  related_name="roster_coupling")
    las = models.ForeignKey(LasSystem, on_delete=models.PROTECT, related_name="couplings")
    # The authorisation key, sealed (roster.secrets.seal_text, purpose "las-key"); the last
    # four characters apart, to show it masked. Never logged.
    sealed_key = models.TextField(blank=True)
    key_last4 = models.CharField(max_length=4, blank=True)
    active = models.BooleanField(default=False)
    switched_at = models.DateTimeField(null=True, blank=True)
    switched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    last_fetch_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=6, choices=Result.choices, blank=True)
    # The last failure in plain Dutch/English (a translatable message and its parameters).
    last_error = models.JSONField(default=dict, blank=True)
    last_import = models.ForeignKey(RosterImport, on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="+")
    failures_in_a_row = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("automatic coupling")
        verbose_name_plural = _("automatic couplings")

    def __str__(self) -> str:
        return f"{self.school}: {self.las} ({'on' if self.active else 'off'})"
