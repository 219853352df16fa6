"""Middleware and request helpers: request ids and request logging (one id per request, in
the response header and on every log line written while the request runs, the API client's
lines included, and one structured line per request when it ends); limits on input; private
responses for signed-in users; the client's address behind proxies."""

import contextvars
import ipaddress
import logging
import re
import time
import uuid

from django.conf import settings
from django.core.exceptions import BadRequest
from django.utils.cache import patch_cache_control

from inventory.api.plain import is_api, plain_problem

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


# --- input no form accepts ------------------------------------------------------------------

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RequestLimitsMiddleware:
    """Refuses, with a 400, what no page of the portal accepts, before anything reads it:

    - a NUL character in the path, a header, the query string or a form field (names too).
      No form accepts one, PostgreSQL cannot store one, and a lookup with one fails there;
      values read without a form (the admin's filters, a form's one-time token) are covered
      here;
    - a query string longer than MAX_QUERY_STRING_LENGTH (gunicorn refuses longer request
      lines anyway, so the development server and tests behave as production does).

    Bodies larger than DATA_UPLOAD_MAX_MEMORY_SIZE are refused by Django itself when the
    form is read here. Each form still limits and cleans its own fields."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = _input_problem(request)
        if problem and is_api(request):  # the JSON API's one shape for errors
            log.warning("Bad request: %s", problem)
            detail = f"The request was refused: {problem[0].lower()}{problem[1:]}."
            title = "The request is not valid"
            return plain_problem(
                request, status=400, title=title, detail=detail, kind="invalid-input"
            )
        if problem:  # the 400 page (templates/400.html); the log line says why
            raise BadRequest(problem)
        return self.get_response(request)


def _input_problem(request) -> str:
    if len(request.META.get("QUERY_STRING", "")) > settings.MAX_QUERY_STRING_LENGTH:
        return f"Query string longer than {settings.MAX_QUERY_STRING_LENGTH} characters"
    if "\x00" in request.path_info:
        return "NUL character in the address"
    if any("\x00" in value for name, value in request.META.items() if name.startswith("HTTP_")):
        return "NUL character in a request header"
    if _holds_nul(request.GET):
        return "NUL character in the query string"
    if (
        request.method == "POST"
        and request.content_type in _FORM_TYPES
        and _holds_nul(request.POST)
    ):
        return "NUL character in the form"
    return ""


def _holds_nul(data) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in data.lists()
    )


# --- responses for one person only ----------------------------------------------------------


class PrivateResponsesMiddleware:
    """Every response to a signed-in user (pages, exports, redirects, errors) says
    `Cache-Control: no-store, private`: no browser history, proxy or shared cache keeps
    what a user was shown after they log out. Responses that already say no-store (the
    admin's, /healthz) are left as they are; static files never come this far."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "no-store" in response.get("Cache-Control", ""):
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response


# --- where a request came from --------------------------------------------------------------


def client_ip(request) -> str | None:
    """The client's address, for the lockout and the audit trail.

    With no proxy (DJANGO_PROXY_COUNT=0) it is the connection's peer. Behind N proxies that
    each append the address they received from to X-Forwarded-For, it is the N-th entry
    from the end: the one the outermost proxy wrote. Entries before it were sent by the
    client and prove nothing. A request with fewer entries did not come through the
    proxies, so its peer is all that is known, and so it is when that entry is not an
    address."""
    peer = request.META.get("REMOTE_ADDR") or None
    proxies = settings.PROXY_COUNT
    if proxies <= 0:
        return peer
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return peer
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:  # not an address: DJANGO_PROXY_COUNT is more than the proxies there are
        return peer
