from django.urls import path

from klaspoort.audit import views

app_name = "audit"
urlpatterns = [
    path("logboek/", views.log, name="log"),
]
