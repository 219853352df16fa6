"""The answers the provider and its gateway give, in their own shapes.

Three voices answer through the gateway: the provider (Vonage: `error-code` bodies and
field-keyed 400s), the Apigee gateway (`fault` bodies) and KPN's own proxy (an `error`
envelope). Every JSON answer says `application/json;charset=UTF-8`, as the gateway does.
"""

import uuid
from http import HTTPStatus

from django.http import HttpResponse, JsonResponse

JSON_TYPE = "application/json;charset=UTF-8"
KPN_SUPPORT = "https://developer.kpn.com/support"


def json_answer(body: dict, status: int = 200, **kwargs) -> JsonResponse:
    return JsonResponse(body, status=status, content_type=JSON_TYPE, **kwargs)


def api_json(body: dict, status: int = 200) -> JsonResponse:
    return json_answer(body, status)


def field_errors(errors: dict[str, str]) -> JsonResponse:
    """400, keyed by the offending parameter: {"country": "Is required."}."""
    return json_answer(errors, 400)


def success() -> JsonResponse:
    return provider_answer(200, "200", "success")


def method_failed(label: str = "method failed") -> JsonResponse:
    """420, the provider's catch-all refusal of a buy, cancel or update."""
    return provider_answer(420, "420", label)


def provider_answer(status: int, code: str, label: str) -> JsonResponse:
    """The provider's own shape: {"error-code": "420", "error-code-label": "..."}. Its codes
    are strings; some answers carry a refusal's code under HTTP 200."""
    body = {"error-code": code, "error-code-label": label}
    # 420 has no standard reason phrase; this is the one it is known by.
    reason = "Method Failure" if status == 420 else None
    return json_answer(body, status, reason=reason)


def gateway_fault(status: int, faultstring: str, errorcode: str) -> JsonResponse:
    body = {"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}}
    return json_answer(body, status)


def quota_violation(status: int = 429) -> JsonResponse:
    """Apigee's quota policy refusing a call. Without the organisation's setting for it,
    Apigee answers 500; it never adds a Retry-After of its own."""
    return gateway_fault(
        status,
        "Rate limit quota violation. Quota limit exceeded.",
        "policies.ratelimit.QuotaViolation",
    )


def spike_arrest(status: int = 429, *, per_second: float = 1) -> JsonResponse:
    """Apigee's spike arrest refusing a call that came too soon after the previous one."""
    return gateway_fault(
        status,
        f"Spike arrest violation. Allowed rate : {per_second:g} per second",
        "policies.ratelimit.SpikeArrestViolation",
    )


def not_subscribed() -> JsonResponse:
    """Apigee: the token is valid, but its app has no API product covering this path."""
    return gateway_fault(
        401,
        "Invalid API call as no apiproduct match found",
        "keymanagement.service.InvalidAPICallAsNoApiProductMatchFound",
    )


def kpn_error(status: int, message: str) -> JsonResponse:
    """KPN's proxy speaking for itself: {"error": {transactionId, status, name, message,
    info}}. It uses this shape for refusals and failures alike, even at the token endpoint."""
    name = _reason(status)
    body = {
        "error": {
            "transactionId": str(uuid.uuid4()),
            "status": f"{status} - {name}",
            "name": name,
            "message": message,
            "info": KPN_SUPPORT,
        }
    }
    return json_answer(body, status)


def invalid_client(status: int, shape: str) -> JsonResponse:
    """Client credentials refused, as an Apigee fault or in OAuth's own words (RFC 6749)."""
    if shape == "oauth":
        body = {"error": "invalid_client", "error_description": "The client is not known."}
        return json_answer(body, status)
    return gateway_fault(
        status, "The client identifier is not known.", "oauth.v2.InvalidClientIdentifier"
    )


def not_entitled() -> JsonResponse:
    """403 from KPN's proxy: the developer project is not entitled to the API product."""
    return kpn_error(403, "The project is not entitled to use this API product.")


def unreadable_body(content_type: str) -> JsonResponse:
    """400 for a form body that cannot be read as the type it claims."""
    return gateway_fault(
        400,
        f"The body could not be read as {content_type or 'the type it claims'}: send "
        "application/x-www-form-urlencoded.",
        "messaging.adaptors.http.flow.UnreadableBody",
    )


def empty_list(shape: str) -> JsonResponse:
    """An empty list in one of the shapes the provider has been seen to use."""
    bodies: dict[str, dict] = {
        "bare": {},
        "count": {"count": 0},
        "numbers": {"numbers": []},
        "count_and_numbers": {"count": 0, "numbers": []},
    }
    return json_answer(bodies[shape])


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def invalid_token() -> JsonResponse:
    return gateway_fault(401, "Invalid Access Token", "keymanagement.service.invalid_access_token")


def expired_token() -> JsonResponse:
    return gateway_fault(401, "Access Token expired", "keymanagement.service.access_token_expired")


def throttled(retry_after: int) -> JsonResponse:
    """The sandbox's own quota refusal: Apigee's fault, with a Retry-After added."""
    response = quota_violation(429)
    response["Retry-After"] = str(retry_after)
    return response


def not_found() -> JsonResponse:
    return gateway_fault(
        404, "No resource matches this path.", "messaging.adaptors.http.flow.NotFound"
    )


def method_not_allowed(allowed: str) -> JsonResponse:
    response = gateway_fault(
        405, f"Only {allowed} is allowed here.", "messaging.adaptors.http.flow.MethodNotAllowed"
    )
    response["Allow"] = allowed
    return response


def provider_error_page(status: int) -> HttpResponse:
    """What an upstream in trouble sends: an HTML page, not JSON."""
    html = (
        f"<!DOCTYPE html><html><head><title>{status} Error</title></head>"
        f"<body><h1>{status} Error</h1><p>The upstream service failed.</p></body></html>"
    )
    return HttpResponse(html, status=status, content_type="text/html; charset=utf-8")


def garbled() -> HttpResponse:
    """A 200 that claims to be JSON but is cut off half-way."""
    return HttpResponse(
        '{"count": 2, "numbers": [{"country": "GB", "msisdn": "4477',
        content_type=JSON_TYPE,
    )


class DroppedConnection(HttpResponse):
    """Not an answer: tells the server to drop the connection without a response.

    `action` is "close" (an orderly close after nothing was sent) or "reset" (a TCP RST).
    """

    def __init__(self, action: str):
        super().__init__(status=599)
        self.action = action
