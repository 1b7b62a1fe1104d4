"""The JSON APIs, mounted at /api/ (namespace "api"); docs at /api/docs."""

from klaspoort.exchange.api import api

app_name = "api"
urlpatterns = api.urls[0]
