from django.urls import path

from klaspoort.exchange import portal_views as views

app_name = "exchange"
urlpatterns = [
    path("<slug:slug>/api-sleutels/", views.tokens_page, name="tokens"),
    path("<slug:slug>/api-sleutels/<int:token_id>/intrekken/", views.token_revoke,
         name="token_revoke"),
    path("<slug:slug>/api-sleutels/oneroster/", views.oneroster_clients_page,
         name="oneroster_clients"),
    path("<slug:slug>/api-sleutels/oneroster/<int:client_id>/intrekken/",
         views.oneroster_client_revoke, name="oneroster_client_revoke"),
    path("<slug:slug>/webhook/", views.webhook_page, name="webhook"),
    path("<slug:slug>/webhook/nieuw-geheim/", views.webhook_new_secret,
         name="webhook_new_secret"),
    path("<slug:slug>/webhook/verwijderen/", views.webhook_remove, name="webhook_remove"),
]
