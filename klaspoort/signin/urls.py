from django.urls import path

from klaspoort.signin import views, why_views

app_name = "signin"
urlpatterns = [
    path("leerling/<str:ref>/", views.pupil_page, name="pupil_page"),
    path("leerling/<str:ref>/groep/<str:group_id>/", views.pupil_names, name="pupil_names"),
    path("leerling/<str:ref>/groep/<str:group_id>/<str:pupil_id>/", views.pupil_secret,
         name="pupil_secret"),
    path("leerling/<str:ref>/kaart/<str:token>/", views.card, name="card"),
    path("thuis/", views.home_school, name="home_school"),
    path("thuis/<str:public_id>/", views.home_page, name="home_page"),
    path("thuis/<str:public_id>/groep/<str:group_id>/", views.home_names, name="home_names"),
    path("thuis/<str:public_id>/groep/<str:group_id>/<str:pupil_id>/", views.home_secret,
         name="home_secret"),
    path("lesmateriaal/", views.portal, name="portal"),
    path("lesmateriaal/uitloggen/", views.pupil_logout, name="pupil_logout"),
    path("leraar/", views.teacher_shortcut, name="teacher_shortcut"),
    path("beheer/<brin6:brin6>/groepen/<int:group_id>/inloghulp/", views.coordinator_pupil_help,
         name="coordinator_pupil_help"),
    path("beheer/<brin6:brin6>/bekijk-als-groep/", views.group_view, name="group_view"),
    path("beheer/<brin6:brin6>/groepen/<int:group_id>/printversie/", views.print_cards_view,
         name="print_cards"),
    path("beheer/<brin6:brin6>/gegevens/thuisinloggen/", views.home_signin_setting,
         name="home_signin_setting"),
    path("beheer/<brin6:brin6>/licenties/waarom/", why_views.coordinator_why, name="why"),
    path("uitgever/<slug:slug>/helpdesk/waarom/", why_views.publisher_why,
         name="publisher_why"),
]
