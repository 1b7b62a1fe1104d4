from django.http import HttpResponse
from django.shortcuts import render

from klaspoort.roster import selectors
from klaspoort.tenancy import SchoolRequest, school_admin_view


@school_admin_view
def imports(request: SchoolRequest) -> HttpResponse:
    return render(request, "roster/imports.html",
                  {"school": request.school, "imports": selectors.imports_of(request.school)})
