"""*Snelkoppelingen* (R3.6), mounted under /beheer/<brin6>/."""

from django.urls import path

from klaspoort.signin import shortcut_views
from klaspoort.signin.shortcut_views import PUPILS, TEACHERS

app_name = "shortcuts"

urlpatterns = [
    path("snelkoppelingen/", shortcut_views.index, name="index"),
    path("snelkoppelingen/leerlingen/", shortcut_views.download, {"who": PUPILS},
         name="pupils"),
    path("snelkoppelingen/leerkrachten/", shortcut_views.download, {"who": TEACHERS},
         name="teachers"),
]
