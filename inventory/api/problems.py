"""Errors in one shape: application/problem+json (RFC 9457) with `type`, `title`, `status`
and `detail`, plus `errors` for the fields at fault. The sentences are the ones the portal's
pages show: the services' refusals, the API's problems in words, the forms' messages."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from inventory.api.plain import CONTENT_TYPE, TYPE_PREFIX
from inventory.services.approvals import ApprovalRefused, ApprovalRequired
from inventory.services.batches import BatchRefused
from inventory.services.idempotency import IdempotencyKeyInProgress, IdempotencyKeyReused
from inventory.services.operations import ApiProblem, OperationRefused, ServiceError
from inventory.services.sync import SyncAlreadyRunning


class Problem(exceptions.APIException):
    """An answer that says what went wrong. `kind` names the problem's type; `errors` are
    [{"pointer": "#/field" or "parameter": "name", "detail": "..."}]; `extra` goes in as
    further members (RFC 9457 §3.2)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        kind: str = "",
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
        **extra,
    ):
        super().__init__(detail=detail)
        self.status_code = status
        self.title = title
        self.kind = kind
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra


class InvalidInput(Problem):
    def __init__(self, errors: list[dict], detail: str = ""):
        detail = detail or " ".join(error["detail"] for error in errors)
        super().__init__(
            400, "The request is not valid", detail, kind="invalid-input", errors=errors
        )


def operation_link(entry) -> dict:
    return {"id": entry.pk, "url": f"/api/v1/operations/{entry.pk}"}


def service_problem(error: ServiceError) -> Problem:
    """A service's refusal as the API answers it."""
    text = str(error)
    if isinstance(error, OperationRefused):
        if error.entry is not None:
            link = operation_link(error.entry)
            return Problem(409, "Refused", text, kind="operation-refused", operation=link)
        return Problem(409, "Refused", text, kind="operation-refused")
    if isinstance(error, ApiProblem):
        return Problem(502, "The Phone Numbers API could not do it", text, kind="api-problem")
    if isinstance(error, IdempotencyKeyReused):
        return Problem(422, "Idempotency-Key already used", text, kind="idempotency-key-reused")
    if isinstance(error, IdempotencyKeyInProgress):
        headers = {"Retry-After": "1"}
        return Problem(
            409, "Still in progress", text, kind="idempotency-key-in-progress", headers=headers
        )
    if isinstance(error, SyncAlreadyRunning):
        return Problem(409, "A sync is already under way", text, kind="sync-already-running")
    if isinstance(error, BatchRefused):
        return Problem(409, "Refused", text, kind="batch-refused")
    if isinstance(error, ApprovalRequired):
        detail = (
            f"{error.rule} Send it again with a `reason` (why it is needed) and it waits for "
            "an approver; nothing was sent."
        )
        return Problem(409, "Needs approval", detail, kind="approval-required")
    if isinstance(error, ApprovalRefused):
        return Problem(409, "Refused", text, kind="approval-refused")
    return Problem(409, "Refused", text, kind="refused")


# The problems Django REST framework raises itself, in the portal's words.
_STANDARD = {
    exceptions.NotAuthenticated: (
        "authentication-needed",
        "Authentication needed",
        "Send a personal access token as Authorization: Bearer <token>. Create one on your "
        "profile page.",
    ),
    exceptions.AuthenticationFailed: ("authentication-failed", "Authentication failed", ""),
    exceptions.PermissionDenied: ("not-allowed", "Not allowed", ""),
    exceptions.NotFound: ("not-found", "Not found", ""),
    exceptions.MethodNotAllowed: ("method-not-allowed", "Method not allowed", ""),
    exceptions.UnsupportedMediaType: (
        "unsupported-media-type",
        "Unsupported media type",
        "Send the body as JSON, with Content-Type: application/json.",
    ),
    exceptions.ParseError: ("invalid-json", "The body is not valid JSON", ""),
    exceptions.Throttled: ("too-many-requests", "Too many requests", ""),
}


def problem_response(exc: Exception, context: dict) -> Response | None:
    """The problem answer for `exc`, or None for an exception that is a bug (a 500)."""
    if isinstance(exc, ServiceError):
        exc = service_problem(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "There is nothing at this address.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        detail = f"The body is larger than the {limit} KiB the portal accepts."
        exc = Problem(413, "The body is too large", detail, kind="too-large")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)
    response.data = problem_body(exc, response.status_code, context)
    for name, value in getattr(exc, "headers", {}).items():
        response[name] = value
    response.content_type = CONTENT_TYPE
    return response


def exception_handler(exc: Exception, context: dict) -> Response | None:
    return problem_response(exc, context)


def problem_body(exc: exceptions.APIException, status: int, context: dict) -> dict:
    request = context.get("request")
    if isinstance(exc, Problem):
        kind, title, detail, errors = exc.kind, exc.title, str(exc.detail), exc.errors
        extra = exc.extra
    else:
        kind, title, detail = _standard(exc, request)
        errors, extra = _field_errors(exc), {}
    body = {
        "type": TYPE_PREFIX + kind if kind else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.path
    if errors:
        body["errors"] = errors
    return {**body, **extra}


def _standard(exc: exceptions.APIException, request) -> tuple[str, str, str]:
    kind, title, detail = next(
        (named for cls, named in _STANDARD.items() if isinstance(exc, cls)), ("", "Error", "")
    )
    if isinstance(exc, exceptions.MethodNotAllowed) and request is not None:
        detail = f"This address does not take {request.method}."
    elif isinstance(exc, exceptions.Throttled):
        wait = max(int(exc.wait or 1), 1)
        detail = f"Too many requests with this token. Try again in {wait} s."
    elif isinstance(exc, exceptions.ParseError):
        detail = "The body is not valid JSON: send a JSON object."
    elif isinstance(exc, exceptions.ValidationError):
        kind, title = "invalid-input", "The request is not valid"
        detail = " ".join(error["detail"] for error in _field_errors(exc))
    if not detail:
        detail = exc.detail if isinstance(exc.detail, str) else "The request was refused."
    return kind, title, str(detail)


def _field_errors(exc: exceptions.APIException) -> list[dict]:
    if not isinstance(exc, exceptions.ValidationError):
        return []
    detail = exc.detail
    if isinstance(detail, dict):
        return [
            {"pointer": f"#/{name}", "detail": str(message)}
            for name, messages in detail.items()
            for message in (messages if isinstance(messages, list) else [messages])
        ]
    messages = detail if isinstance(detail, list) else [detail]
    return [{"pointer": "#", "detail": str(message)} for message in messages]
