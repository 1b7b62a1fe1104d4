from django.urls import path

from klaspoort.schools import views

app_name = "schools"
urlpatterns = [
    path("", views.home, name="home"),
    path("wissel/", views.switch, name="switch"),
    path("<brin6:brin6>/gegevens/", views.school_data, name="data"),
    path("<brin6:brin6>/gegevens/tweestapsverificatie/", views.second_factor_policy,
         name="second_factor_policy"),
    path("<brin6:brin6>/schooljaar-checklist/", views.checklist, name="checklist"),
    path("<brin6:brin6>/gegevens/herinneringen/", views.reminders, name="reminders"),
    path("<brin6:brin6>/uitgeverijen/", views.publishers, name="publishers"),
    path("<brin6:brin6>/netwerkbeheerders/", views.network_providers, name="network_providers"),
    path("<brin6:brin6>/ip-adressen/", views.networks, name="networks"),
    path("<brin6:brin6>/ip-adressen/verwijderen/", views.remove_network,
         name="network_remove"),
    path("<brin6:brin6>/logboek/", views.log, name="log"),
]
