"""The results app's pages: *Resultatenkoppelingen* in *Beheer*, the teacher's *Resultaten* and
the publisher portal's *Cijfergrenzen*.
Included at the root (klaspoort/urls.py) with the namespace "results", so each path is whole
here."""

from django.urls import path

from klaspoort.results import publisher_views, teacher_views, views

app_name = "results"

COUPLINGS = "beheer/<brin6:brin6>/resultatenkoppelingen/"

urlpatterns = [
    path(COUPLINGS, views.couplings, name="couplings"),
    path(f"{COUPLINGS}<int:coupling_id>/sleutel/", views.coupling_key, name="coupling_key"),
    path(f"{COUPLINGS}<int:coupling_id>/cijfergrenzen/", views.coupling_grade_boundaries,
         name="coupling_grade_boundaries"),
    path(f"{COUPLINGS}<int:coupling_id>/verwijderen/", views.coupling_remove,
         name="coupling_remove"),
    path(f"{COUPLINGS}<int:coupling_id>/eerdere-resultaten/", views.coupling_backfill,
         name="coupling_backfill"),
    path("leerkracht/resultaten/", teacher_views.index, name="teacher_index"),
    path("leerkracht/resultaten/<int:group_id>/", teacher_views.group_results,
         name="teacher_results"),
    path("leerkracht/resultaten/<int:group_id>/resultaten.csv", teacher_views.group_csv,
         name="teacher_results_csv"),
    path("leerkracht/resultaten/<int:group_id>/printversie/", teacher_views.group_print,
         name="teacher_results_print"),
    # A tab of the publisher portal (licences.publisher_views.TABS names it).
    path("uitgever/<slug:slug>/cijfergrenzen/", publisher_views.grade_boundaries,
         name="publisher_grade_boundaries"),
]
