"""Test and observation results that publishers' software sends, the grade boundaries they
set, and the school's couplings that deliver results to its pupil tracking system (R7,
issue 15, decision 0037).

A result reaches a LAS only through an outbox row (`Delivery`) written in the same transaction
as the result, so a result is never lost between the database and the broker; the UWLR
`resultaat` key is the result's stable `uid`, so the receiver drops a repeated delivery.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from klaspoort.licences.models import Product
from klaspoort.roster.models import LasSystem, Pupil
from klaspoort.schools.models import Publisher, School


class Result(models.Model):
    """One result of one pupil in one test (or observation, or practice), as the publisher's
    software sent it. Sent again with the same `external_id`, it is updated in place."""

    class Kind(models.TextChoices):
        TEST = "toets", _("test")
        OBSERVATION = "observatie", _("observation")
        PRACTICE = "oefening", _("practice")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="results")
    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    # The publisher's own id of this result: idempotency per publisher.
    external_id = models.CharField(max_length=128)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    test_code = models.CharField(_("test code"), max_length=128)
    test_name = models.CharField(_("test"), max_length=128)
    # The kind of test the grade boundaries belong to (e.g. "methodetoets", "toets"); blank
    # for observations, which carry none.
    test_type = models.CharField(_("test type"), max_length=64, blank=True)
    # UWLR scores are whole non-negative numbers; `max_score` is the scale's top.
    score = models.PositiveIntegerField(_("score"))
    max_score = models.PositiveIntegerField(_("maximum score"), null=True, blank=True)
    taken_on = models.DateField(_("date"))
    learning_goal_code = models.CharField(_("learning goal code"), max_length=128, blank=True)
    learning_goal = models.CharField(_("learning goal"), max_length=256, blank=True)
    # The publisher's note with the result (erased in the summer with the result).
    note = models.CharField(_("note"), max_length=500, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped on every change, so a delivery knows which version it carried.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["publisher", "external_id"],
                                    name="result_publisher_external_id_unique"),
        ]
        indexes = [
            models.Index(fields=["school", "pupil", "taken_on"]),
            models.Index(fields=["school", "received_at"]),
        ]
        ordering = ["taken_on", "pk"]
        verbose_name = _("result")
        verbose_name_plural = _("results")

    def __str__(self) -> str:
        return f"{self.test_name}: {self.score}"


class LearningGoalScore(models.Model):
    """The archive the summer erasure keeps: a pupil's final score per learning goal of a
    product (seed 001: "in het archief worden de eindscores van de aangeboden leerdoelen wél
    bewaard")."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="goal_scores")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    learning_goal_code = models.CharField(max_length=128)
    learning_goal = models.CharField(max_length=256, blank=True)
    score = models.PositiveIntegerField()
    max_score = models.PositiveIntegerField(null=True, blank=True)
    taken_on = models.DateField()
    school_year = models.CharField(max_length=9)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "product", "learning_goal_code", "school_year"],
                name="goal_score_unique"),
        ]
        verbose_name = _("final score per learning goal")
        verbose_name_plural = _("final scores per learning goal")

    def __str__(self) -> str:
        return f"{self.learning_goal_code}: {self.score}"


class GradeBoundary(models.Model):
    """A publisher's school-grade boundaries (*schoolcijfergrenzen*) for one product and test
    type: fixed parts of its tests, not editable by the school (seed 000). `bands` is a list of
    {"term", "grade_from", "grade_to"} with grades from 1.0 to 10.0, in order."""

    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="grade_boundaries")
    test_type = models.CharField(_("test type"), max_length=64)
    bands = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "test_type"],
                                    name="grade_boundary_product_test_type_unique"),
        ]
        verbose_name = _("grade boundaries")
        verbose_name_plural = _("grade boundaries")

    def __str__(self) -> str:
        return f"{self.product_id} {self.test_type}"


class ResultCoupling(models.Model):
    """A school's *Resultatenkoppeling*: results go to this LAS only while it exists (the
    school's explicit consent, seed 000). The LAS's side is the authorisation key it gave the
    school, sealed at rest (purpose "results-key"), never logged."""

    class State(models.TextChoices):
        OK = "ok", _("delivering")
        REFUSED = "refused", _("refused by the pupil administration")
        FAILING = "failing", _("not reachable")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="result_couplings")
    las = models.ForeignKey(LasSystem, on_delete=models.PROTECT, related_name="result_couplings")
    sealed_key = models.TextField(blank=True)
    key_last4 = models.CharField(max_length=4, blank=True)
    send_grade_boundaries = models.BooleanField(_("send school grade boundaries"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    # Results received before this moment are sent only when the coordinator asks.
    since = models.DateTimeField()
    backfilled_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OK)
    # The last failure, as a translatable message and its parameters (shown in Dutch).
    last_error = models.JSONField(default=dict, blank=True)
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    delivered_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "las"],
                                    name="result_coupling_school_las_unique"),
        ]
        verbose_name = _("results coupling")
        verbose_name_plural = _("results couplings")

    def __str__(self) -> str:
        return f"{self.school}: {self.las}"


class Delivery(models.Model):
    """The outbox: one result (one version of it) to one coupling. Written with the result;
    sent at least once; the receiver drops repeats by the result's uid."""

    class State(models.TextChoices):
        WAITING = "waiting", _("waiting")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    coupling = models.ForeignKey(ResultCoupling, on_delete=models.CASCADE,
                                 related_name="deliveries")
    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="deliveries")
    result_version = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=8, choices=State.choices, default=State.WAITING)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Not before this moment: the backoff after a failure, or the lease of a worker that took
    # the row (a worker killed mid-batch leaves it to be taken again when the lease ends).
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["coupling", "state", "next_attempt_at"]),
        ]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.result_id} → {self.coupling_id} ({self.state})"


class SummerErasure(models.Model):
    """A school's summer erasure of one school year (seed 001): when its coordinators and
    teachers were reminded and when its results were erased, with what was done, so each
    happens once a year. Results held back because they were still on their way to the LAS
    (`held_back`) are erased by a later run once they are delivered or given up."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    school_year = models.CharField(max_length=9)
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminder_mails = models.PositiveIntegerField(default=0)
    erased_at = models.DateTimeField(null=True, blank=True)
    erased = models.PositiveIntegerField(default=0)
    archived = models.PositiveIntegerField(default=0)
    kept = models.PositiveIntegerField(default=0)
    held_back = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "school_year"],
                                    name="summer_erasure_school_year_unique"),
        ]
        verbose_name = _("summer erasure")
        verbose_name_plural = _("summer erasures")

    def __str__(self) -> str:
        return f"{self.school_id} {self.school_year}"
