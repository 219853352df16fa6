"""The client's one small exception hierarchy; `str(error)` is always for people."""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    """Something went wrong talking to the Phone Numbers API. `str(error)` is for people."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "", label: str = ""):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.label = label


class ApiUnreachable(ApiError):
    """The API could not be reached; for a POST, nothing reached it."""


class ApiThrottled(ApiError):
    """The gateway refused the call because the quota is used up."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ApiCredentialsRejected(ApiError):
    """The portal's client id/secret, or its token, were refused."""


class ApiRequestInvalid(ApiError):
    """The API refused a parameter (HTTP 400); `errors` maps field names to its complaints."""

    def __init__(self, message: str, *, errors: Mapping[str, str], **kwargs):
        super().__init__(message, **kwargs)
        self.errors = dict(errors)


class ApiMethodFailed(ApiError):
    """The API understood the request and declined it (HTTP 420 'method failed')."""


class ApiOutcomeUnknown(ApiError):
    """A POST was sent but its answer was lost or garbled: it may or may not have taken effect."""


class ApiBadResponse(ApiError):
    """The API answered something the portal does not understand, or reported a server error."""
