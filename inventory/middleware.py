"""Request ids and request logging: one id per request, in the response header and on every
log line written while the request runs (the API client's lines included), and one
structured line per request when it ends."""

import contextvars
import logging
import re
import time
import uuid

log = logging.getLogger("inventory.requests")

_request_id = contextvars.ContextVar("request_id", default="-")
_user = contextvars.ContextVar("user", default="-")
# An id sent with the request (by a proxy, or a client correlating its own logs) is kept when
# it is short and plain, anything else is replaced. It ties log lines and audit entries
# together; it proves nothing about who sent the request.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` and `user` to every log record, so formatters can always name them
    ("-" outside a request, or before the user is known)."""

    def filter(self, record):
        record.request_id = _request_id.get()
        record.user = _user.get()
        return True


def _username(request) -> str:
    try:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return "-"
        return user.get_username()
    except Exception:  # e.g. the session store is down: a log line must never break a request
        return "?"


class RequestIdMiddleware:
    """First in MIDDLEWARE, so its line covers the whole request, redirects and refusals
    by later middleware included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        id_token = _request_id.set(request_id)
        user_token = _user.set("-")
        started = time.monotonic()
        status = 500  # what the client sees if an exception escapes the handler
        try:
            response = self.get_response(request)
            status = response.status_code
            response["X-Request-ID"] = request_id
            return response
        finally:
            # Read again: the login and logout views change the user mid-request.
            _user.set(_username(request))
            self._log(request, status, started)
            _user.reset(user_token)
            _request_id.reset(id_token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Runs after the authentication middleware, before the view: from here on every
        # line (the API client's too) names the user.
        _user.set(_username(request))

    @staticmethod
    def _log(request, status: int, started: float) -> None:
        elapsed = int((time.monotonic() - started) * 1000)
        # The path only: query strings are the user's input and can be long.
        log.info(
            "%s %s -> %s in %d ms",
            request.method,
            request.path,
            status,
            elapsed,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": elapsed,
            },
        )
