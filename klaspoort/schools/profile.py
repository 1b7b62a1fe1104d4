"""*Mijn profiel*: the signed-in user's details and the School ID of each school they administer."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from klaspoort.tenancy import administered_schools


@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    """Only the user's own details; the schools are the ones they administer, nothing else."""
    return render(request, "schools/profile.html", {
        "schools": list(administered_schools(request.user))})
