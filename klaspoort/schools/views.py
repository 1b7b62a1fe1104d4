from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from klaspoort.tenancy import SchoolRequest, administered_schools, school_admin_view


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """After sign-in: straight to the only school, or a choice when there are several (R1.4)."""
    schools = list(administered_schools(request.user))
    if len(schools) == 1:
        return redirect("schools:data", brin6=schools[0].brin6)
    return render(request, "schools/choose.html", {"schools": schools})


@school_admin_view
def school_data(request: SchoolRequest) -> HttpResponse:
    return render(request, "schools/data.html", {"school": request.school})
