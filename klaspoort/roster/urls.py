from django.urls import path

from klaspoort.roster import views

app_name = "roster"
urlpatterns = [
    path("gebruikersgegevens/", views.imports, name="imports"),
    path("gebruikersgegevens/spreadsheet/", views.spreadsheet_upload, name="spreadsheet_upload"),
    path("gebruikersgegevens/sjabloon.csv", views.spreadsheet_template,
         name="spreadsheet_template"),
    path("gebruikersgegevens/koppeling/", views.coupling, name="coupling"),
    path("gebruikersgegevens/koppeling/sleutel/", views.coupling_key, name="coupling_key"),
    path("gebruikersgegevens/koppeling/uitzetten/", views.coupling_off, name="coupling_off"),
    path("gebruikersgegevens/<int:import_id>/", views.import_detail, name="import"),
    path("gebruikersgegevens/<int:import_id>/verwerken/", views.process_now, name="process"),
    path("gebruikersgegevens/<int:import_id>/uitkomst/", views.upload_result,
         name="upload_result"),
    path("gebruikersgegevens/<int:import_id>/bevestigen/", views.confirm_import,
         name="confirm"),
    path("gebruikersgegevens/<int:import_id>/annuleren/", views.cancel_import, name="cancel"),
    path("groepen/", views.groups, name="groups"),
    path("groepen/<int:group_id>/", views.group_detail, name="group"),
    path("groepen/<int:group_id>/inloggen/", views.group_signin, name="group_signin"),
    path("ict-coordinatoren/", views.coordinators, name="coordinators"),
    path("leerkrachten/", views.teachers, name="teachers"),
    path("leerlingen/", views.pupils, name="pupils"),
    path("ict-coordinatoren/uitnodigen/", views.coordinator_invite, name="coordinator_invite"),
    path("ict-coordinatoren/<int:user_id>/opnieuw-versturen/", views.coordinator_resend,
         name="coordinator_resend"),
    path("ict-coordinatoren/<int:user_id>/verwijderen/", views.coordinator_remove,
         name="coordinator_remove"),
    path("leerkrachten/<int:teacher_id>/e-mailadres/", views.teacher_email,
         name="teacher_email"),
]
