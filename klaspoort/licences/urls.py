"""*Licentiebeheer*, mounted under /beheer/<brin6>/licenties/."""

from django.urls import path

from klaspoort.licences import views

app_name = "licences"
urlpatterns = [
    path("", views.contracts, name="contracts"),
    path("per-kind/", views.child_contracts, name="child_contracts"),
    path("<int:contract_id>/", views.contract_groups, name="contract_groups"),
    path("<int:contract_id>/kinderen/", views.contract_children, name="contract_children"),
    path("<int:contract_id>/groepen/toevoegen/", views.link_groups, name="link_groups"),
    path("<int:contract_id>/groepen/verwijderen/", views.unlink_group, name="unlink_group"),
    path("<int:contract_id>/kinderen/toevoegen/", views.link_child, name="link_child"),
    path("<int:contract_id>/opzeggen/", views.cancel, name="cancel"),
]
