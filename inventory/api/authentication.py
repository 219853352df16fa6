"""Who is calling: a personal access token in `Authorization: Bearer <token>` (scripts), else
the browser's session (with CSRF, as Django REST framework's SessionAuthentication checks)."""

from rest_framework import authentication, exceptions

from inventory.services import tokens


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """A token acts as its user, with the user's role; `request.auth` is the token."""

    keyword = "bearer"

    def authenticate(self, request):
        scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != self.keyword:
            return None  # no token: the session may still say who it is
        try:
            token = tokens.api_token_authenticate(presented=credentials.strip())
        except tokens.TokenRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from refused
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="Numbers Portal API"'
