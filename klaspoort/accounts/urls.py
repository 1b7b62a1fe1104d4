from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from klaspoort.accounts import security_views
from klaspoort.accounts import staff_views as views
from klaspoort.accounts.forms import QueuedPasswordResetForm
from klaspoort.accounts.password_forms import NewPasswordForm

app_name = "accounts"
urlpatterns = [
    path("inloggen/", security_views.SignInView.as_view(), name="login"),
    path("inloggen/code/", security_views.code, name="second_factor_code"),
    path("tweestapsverificatie/", security_views.setup, name="second_factor_setup"),
    path("overal-uitloggen/", security_views.sign_out_everywhere, name="sign_out_everywhere"),
    path("uitloggen/", auth_views.LogoutView.as_view(), name="logout"),
    path("activeren/<str:uidb64>/<str:token>/", views.activate, name="activate"),
    # Wachtwoord vergeten: Django's views answer the same whether or not the address exists.
    path("wachtwoord-vergeten/", security_views.ThrottledPasswordResetView.as_view(
        form_class=QueuedPasswordResetForm,
        template_name="accounts/password_reset.html",
        email_template_name="accounts/email/password_reset.txt",
        html_email_template_name="accounts/email/password_reset.html",
        subject_template_name="accounts/email/password_reset_subject.txt",
        success_url=reverse_lazy("accounts:password_reset_done"),
    ), name="password_reset"),
    path("wachtwoord-vergeten/verstuurd/", auth_views.PasswordResetDoneView.as_view(
        template_name="accounts/password_reset_done.html"), name="password_reset_done"),
    path("wachtwoord-herstellen/<str:uidb64>/<str:token>/",
         auth_views.PasswordResetConfirmView.as_view(
             template_name="accounts/password_reset_confirm.html",
             # The rules in our own words, with je (Django's Dutch says "Uw wachtwoord").
             form_class=NewPasswordForm,
             success_url=reverse_lazy("accounts:password_reset_complete"),
         ), name="password_reset_confirm"),
    path("wachtwoord-herstellen/klaar/", auth_views.PasswordResetCompleteView.as_view(
        template_name="accounts/password_reset_complete.html"), name="password_reset_complete"),
]
