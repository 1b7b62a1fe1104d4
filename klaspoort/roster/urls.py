from django.urls import path

from klaspoort.roster import views

app_name = "roster"
urlpatterns = [
    path("gebruikersgegevens/", views.imports, name="imports"),
]
