"""A rate limit per personal access token (per user for a signed-in browser), counted in the
cache. The portal's Redis cache never raises: without Redis nothing is counted, so nothing is
refused, and the API is slower to protect, never down."""

from axes.helpers import get_client_ip_address
from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from inventory.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str:
        return settings.API_RATE_LIMIT  # read when asked, so the setting can change

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            # The address the lockout and the audit trail use (AXES_CLIENT_IP_CALLABLE).
            ident = f"address-{get_client_ip_address(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
