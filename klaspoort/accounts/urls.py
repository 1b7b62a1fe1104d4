from django.contrib.auth import views as auth_views
from django.urls import path

from klaspoort.accounts.forms import EmailLoginForm

app_name = "accounts"
urlpatterns = [
    path("inloggen/", auth_views.LoginView.as_view(
        template_name="accounts/login.html",
        authentication_form=EmailLoginForm,
        redirect_authenticated_user=True,
    ), name="login"),
    path("uitloggen/", auth_views.LogoutView.as_view(), name="logout"),
]
