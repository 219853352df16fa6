"""The sandbox's own URLconf, set per request by its WSGI handler (never the portal's)."""

from django.urls import path, re_path

from . import control, views
from .gateway import API_BASE, TOKEN_PATH

_API = API_BASE.lstrip("/")

urlpatterns = [
    path(TOKEN_PATH.lstrip("/"), views.access_token),
    path(f"{_API}/account/numbers", views.account_numbers),
    path(f"{_API}/number/search", views.number_search),
    path(f"{_API}/number/buy", views.number_buy),
    path(f"{_API}/number/cancel", views.number_cancel),
    path(f"{_API}/number/update", views.number_update),
    re_path(rf"^{_API}/", views.unknown_api_path),
    path("_sandbox/state", control.state),
    path("_sandbox/faults", control.faults),
    path("_sandbox/reset", control.reset),
    path("_sandbox/owned", control.owned),
    path("_sandbox/prices", control.prices),
    path("_sandbox/expire-tokens", control.expire_tokens),
    path("_sandbox/quota", control.quota),
    path("_sandbox/openapi.json", control.openapi_description),
    re_path(r"", control.not_found),
]

handler404 = control.not_found
handler500 = control.server_error
