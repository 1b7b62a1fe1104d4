from django.urls import path

from klaspoort.accounts import staff_views as views

app_name = "staff"
urlpatterns = [
    path("ict-coordinatoren/uitnodigen/", views.invite_coordinator, name="invite"),
    path("ict-coordinatoren/<int:user_id>/opnieuw-versturen/", views.resend_invitation,
         name="resend"),
    path("ict-coordinatoren/<int:user_id>/verwijderen/", views.remove_coordinator,
         name="remove"),
    path("leerkrachten/<int:teacher_id>/e-mailadres/", views.teacher_email,
         name="teacher_email"),
]
