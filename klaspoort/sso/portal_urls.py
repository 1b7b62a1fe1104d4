"""The portal's *Inloggen (OIDC)* pages, mounted at /uitgever/ (namespace "sso_portal")."""

from django.urls import path

from klaspoort.sso import portal_views as views

app_name = "sso_portal"
urlpatterns = [
    path("<slug:slug>/inloggen/", views.clients, name="clients"),
    path("<slug:slug>/inloggen/nieuw/", views.client_create, name="client_create"),
    path("<slug:slug>/inloggen/<int:client_id>/", views.client_edit, name="client_edit"),
    path("<slug:slug>/inloggen/<int:client_id>/nieuw-geheim/", views.secret_rotate,
         name="secret_rotate"),
    path("<slug:slug>/inloggen/<int:client_id>/oud-geheim-intrekken/",
         views.secret_end_overlap, name="secret_end_overlap"),
    path("<slug:slug>/inloggen/<int:client_id>/uitschakelen/", views.client_disable,
         name="client_disable"),
    path("<slug:slug>/inloggen/<int:client_id>/inschakelen/", views.client_enable,
         name="client_enable"),
    path("<slug:slug>/inloggen/<int:client_id>/verwijderen/", views.client_delete,
         name="client_delete"),
]
