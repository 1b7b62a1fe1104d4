from django.contrib import admin
from django.urls import include, path, register_converter
from django.views.generic import RedirectView

from klaspoort.converters import Brin6Converter
from klaspoort.licences.icons import product_icon
from klaspoort.schools import profile
from klaspoort.schools import views as school_views

# Registered before the apps' URL modules are included: they use it too.
register_converter(Brin6Converter, "brin6")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="schools:home", permanent=False)),
    path("accounts/profiel/", profile.profile, name="profile"),
    # An invitation to coordinate a school: accepted at the schools app, under the account pages.
    path("accounts/uitnodiging/<str:token>/", school_views.invitation, name="invitation"),
    path("accounts/", include("klaspoort.accounts.urls")),
    path("beheer/", include("klaspoort.schools.urls")),
    path("beheer/<brin6:brin6>/", include("klaspoort.roster.urls")),
    path("beheer/<brin6:brin6>/licenties/", include("klaspoort.licences.urls")),
    path("beheer/<brin6:brin6>/", include("klaspoort.signin.shortcut_urls")),
    path("uitgever/", include("klaspoort.licences.publisher_urls")),
    path("uitgever/", include("klaspoort.exchange.portal_urls")),
    path("uitgever/", include("klaspoort.sso.portal_urls")),
    path("icoon/<int:product_id>/<str:name>", product_icon, name="product_icon"),
    path("api/", include("klaspoort.exchange.api_urls")),
    path("ims/oneroster/", include("klaspoort.exchange.oneroster_urls")),
    path("leerkracht/", include("klaspoort.signin.teacher_urls")),
    # Resultatenkoppelingen (Beheer) and the teacher's Resultaten: whole paths in the module.
    path("", include("klaspoort.results.urls")),
    path("", include("klaspoort.signin.urls")),
    path("o/", include("klaspoort.sso.oauth_urls")),
    path("", include("klaspoort.sso.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("operator/", admin.site.urls),
]

# A refused request's body is never read for the "not found" page (klaspoort/error_views.py).
handler404 = "klaspoort.error_views.page_not_found"
