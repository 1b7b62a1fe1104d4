from django.urls import path

from klaspoort.sso import views

app_name = "sso"

urlpatterns = [
    path("lesmateriaal/open/<int:product_id>/", views.launch, name="launch"),
]
