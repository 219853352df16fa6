"""The OAuth2 client-credentials endpoint and the bearer check in front of every API call."""

import base64
import binascii
import hashlib
import hmac
import secrets
import time
import uuid
from urllib.parse import unquote_plus

from django.http import HttpRequest, JsonResponse

from . import responses
from .responses import json_answer

GRANT_TYPE = "client_credentials"
# The bucket (for quota) of a caller the gateway cannot identify.
ANONYMOUS = "anonymous"


def digest(token: str) -> str:
    """Tokens are stored hashed: a copied state file must not hand out working tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def claimed_client(sim, request: HttpRequest, now: float) -> tuple[str, None]:
    """Who a token request says it is: enough to count it against that client's quota."""
    credentials = _credentials(request)
    client_id = credentials[0] if credentials else request.POST.get("client_id")
    return (client_id or ANONYMOUS), None


def bearer_client(sim, request: HttpRequest, now: float) -> tuple[str, JsonResponse | None]:
    """The client behind the bearer token, and the 401 to send if the token is no good."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    found = sim.store.token(digest(token)) if scheme.lower() == "bearer" and token else None
    if found is None:
        return ANONYMOUS, responses.invalid_token()
    client_id, expires_at = found
    if expires_at <= now:
        return client_id, responses.expired_token()
    return client_id, None


def issue_token(sim, request: HttpRequest, client: str) -> JsonResponse:
    refusal = _refusal(sim, request)
    if refusal is not None:
        return refusal
    body = _token_body(sim, client)
    ttl = sim.options.token_ttl
    sim.store.save_token(digest(body["access_token"]), client, time.time() + ttl)
    return json_answer(body)


def pretend_token(sim, request: HttpRequest, client: str) -> JsonResponse:
    """A token response whose token was never stored (for the "ignore" fault)."""
    return _refusal(sim, request) or json_answer(_token_body(sim, client))


def _refusal(sim, request: HttpRequest) -> JsonResponse | None:
    grant_type = request.GET.get("grant_type") or request.POST.get("grant_type")
    if not grant_type:
        return _oauth_error(400, "invalid_request", "Required param : grant_type")
    if grant_type != GRANT_TYPE:
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant type : {grant_type}")
    credentials = _credentials(request)
    options = sim.options
    if credentials is None or not (
        hmac.compare_digest(credentials[0].encode(), options.client_id.encode())
        and hmac.compare_digest(credentials[1].encode(), options.client_secret.encode())
    ):
        return _oauth_error(401, "invalid_client", "Client identifier is required or invalid")
    return None


def _token_body(sim, client: str) -> dict[str, str]:
    # Apigee answers with strings only, numbers included; KPN adds what it knows of the app
    # (its products, organisation, developer and level) and an empty refresh token.
    return {
        "refresh_token_expires_in": "0",
        "api_product_list": "[phone-numbers-sandbox]",
        "organization_name": "sandbox",
        "developer_email": "developer@sandbox.invalid",
        "token_type": "Bearer",
        "issued_at": str(int(time.time() * 1000)),
        "client_id": client,
        "access_token": secrets.token_urlsafe(24),
        "application_name": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox:{client}")),
        "level": "sandbox",
        "scope": "",
        "expires_in": str(sim.options.token_ttl),
        "refresh_token": "",
        "refresh_count": "0",
        "status": "approved",
    }


def _credentials(request: HttpRequest) -> tuple[str, str] | None:
    """(client id, secret) from HTTP Basic or from the form body."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, separator, secret = decoded.partition(":")
        # RFC 6749 form-encodes both parts before joining them, so undo that.
        return (unquote_plus(client_id), unquote_plus(secret)) if separator else None
    client_id = request.POST.get("client_id") or ""
    secret = request.POST.get("client_secret") or ""
    return (client_id, secret) if client_id and secret else None


def _oauth_error(status: int, code: str, message: str) -> JsonResponse:
    return json_answer({"ErrorCode": code, "Error": message}, status)
