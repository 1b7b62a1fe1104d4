"""The OpenID Connect endpoints under /o/, in the toolkit's namespace so its views find each
other. Deliberately not the toolkit's own urls: those also serve application registration
(any signed-in user could register a client), device flow and dynamic client registration."""

from django.urls import path, re_path
from oauth2_provider import views as oauth_views

from klaspoort.sso import views

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", views.AuthorizeView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    re_path(r"^\.well-known/openid-configuration/?$", views.DiscoveryView.as_view(),
            name="oidc-connect-discovery-info"),
    path(".well-known/jwks.json", oauth_views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", views.UserInfo.as_view(), name="user-info"),
    path("logout/", oauth_views.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
]
