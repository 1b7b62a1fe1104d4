from django.urls import path

from klaspoort.schools import views

app_name = "schools"
urlpatterns = [
    path("", views.home, name="home"),
    path("wissel/", views.switch, name="switch"),
    path("<str:brin6>/gegevens/", views.school_data, name="data"),
]
