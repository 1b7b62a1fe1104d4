"""OneRoster 1.2 (decision 0033), mounted at /ims/oneroster/: the token endpoint, the
Rostering REST binding at rostering/v1p2/ (every path of the official document), and the CSV
bulk zip of one school at bulk/v1p2/<school sourcedId>.zip."""

from django.urls import path, re_path

from klaspoort.exchange import oneroster_views as views

app_name = "oneroster"
urlpatterns = [
    path("token", views.token, name="token"),
    path("bulk/v1p2/<str:school_id>.zip", views.bulk, name="bulk"),
    *[path(f"rostering/v1p2/{route.path}", views.rostering_view(route))
      for route in views.ROUTES],
    # Anything else under the binding is answered in its error shape, not with a page.
    re_path(r"^rostering/v1p2(?:/.*)?$", views.unknown_path),
]
