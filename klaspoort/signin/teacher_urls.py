from django.urls import path

from klaspoort.signin import teacher_views as views

app_name = "teacher"
urlpatterns = [
    path("", views.home, name="home"),
    path("meldingen/<int:notice_id>/gedaan/", views.dismiss_notice, name="dismiss_notice"),
    path("groepen/<int:group_id>/", views.group, name="group"),
    path("groepen/<int:group_id>/inloggen/", views.group_signin, name="group_signin"),
    path("groepen/<int:group_id>/inloghulp/", views.pupil_help, name="pupil_help"),
    path("groepen/<int:group_id>/printversie/", views.print_cards_view, name="print_cards"),
]
