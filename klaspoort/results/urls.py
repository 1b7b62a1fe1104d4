"""The results app's pages. Each list is included by klaspoort/urls.py under its area."""

from django.urls import path

from klaspoort.results import publisher_views

# Under /uitgever/ (the publisher portal), namespace "results_publisher".
publisher_urlpatterns = [
    path("<slug:slug>/cijfergrenzen/", publisher_views.grade_boundaries,
         name="grade_boundaries"),
]
