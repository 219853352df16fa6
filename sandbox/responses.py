"""The answers the provider and its gateway give, in their own shapes."""

from django.http import HttpResponse, JsonResponse


def api_json(body: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status)


def field_errors(errors: dict[str, str]) -> JsonResponse:
    """400, keyed by the offending parameter: {"country": "Is required."}."""
    return JsonResponse(errors, status=400)


def success() -> JsonResponse:
    return JsonResponse({"error-code": "200", "error-code-label": "success"})


def method_failed(label: str = "method failed") -> JsonResponse:
    """420, the provider's catch-all refusal of a buy, cancel or update."""
    body = {"error-code": "420", "error-code-label": label}
    # The status has no standard reason phrase; this is the one it is known by.
    return JsonResponse(body, status=420, reason="Method Failure")


def gateway_fault(status: int, faultstring: str, errorcode: str) -> JsonResponse:
    body = {"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}}
    return JsonResponse(body, status=status)


def invalid_token() -> JsonResponse:
    return gateway_fault(401, "Invalid Access Token", "keymanagement.service.invalid_access_token")


def expired_token() -> JsonResponse:
    return gateway_fault(401, "Access Token expired", "keymanagement.service.access_token_expired")


def throttled(retry_after: int) -> JsonResponse:
    response = gateway_fault(
        429,
        "Rate limit quota violation. Quota limit exceeded.",
        "policies.ratelimit.QuotaViolation",
    )
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
        content_type="application/json",
    )


class DroppedConnection(HttpResponse):
    """Not an answer: tells the server to drop the connection without a response.

    `action` is "close" (an orderly close after nothing was sent) or "reset" (a TCP RST).
    """

    def __init__(self, action: str):
        super().__init__(status=599)
        self.action = action
