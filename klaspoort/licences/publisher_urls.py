"""The publisher portal, mounted at /uitgever/ (namespace "publisher")."""

from django.urls import path

from klaspoort.licences import publisher_views as views

app_name = "publisher"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/", views.home, name="home"),
    path("<slug:slug>/producten/", views.products, name="products"),
    path("<slug:slug>/producten/nieuw/", views.product_create, name="product_create"),
    path("<slug:slug>/producten/<int:product_id>/", views.product_edit, name="product_edit"),
    path("<slug:slug>/contracten/", views.contracts, name="contracts"),
    path("<slug:slug>/contracten/nieuw/", views.contract_create, name="contract_create"),
    path("<slug:slug>/contracten/<int:contract_id>/", views.contract_edit,
         name="contract_edit"),
    path("<slug:slug>/contracten/upload/", views.contract_upload, name="contract_upload"),
    path("<slug:slug>/contracten/upload/toepassen/", views.contract_upload_confirm,
         name="contract_upload_confirm"),
    path("<slug:slug>/helpdesk/", views.helpdesk, name="helpdesk"),
    path("<slug:slug>/helpdesk/<int:licence_id>/ontkoppelen/", views.helpdesk_unlink,
         name="helpdesk_unlink"),
]
