"""The client's one small exception hierarchy; `str(error)` is always for people.

A POST that raises anything but `ApiOutcomeUnknown` provably did not take effect."""

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
    """The gateway refused the call because the quota is used up (or calls came too fast)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ApiCredentialsRejected(ApiError):
    """The portal's client id/secret, or its token, were refused."""


class ApiRefused(ApiError):
    """The gateway or the provider refused the call before acting on it (HTTP 403 or 404, or
    an app not subscribed to the product): retrying will not help, someone must check the
    KPN app or the configured base URL. Nothing took effect."""


class ApiRequestInvalid(ApiError):
    """The API refused a parameter (HTTP 400); `errors` maps field names to its complaints."""

    def __init__(self, message: str, *, errors: Mapping[str, str], **kwargs):
        super().__init__(message, **kwargs)
        self.errors = dict(errors)


class ApiMethodFailed(ApiError):
    """The API understood the request and declined it (HTTP 420 'method failed').

    `resent` is True when the client sent the request more than once (after a token refresh
    or a throttling answer): an earlier copy may have taken effect, so a decline then
    proves nothing by itself."""

    def __init__(self, message: str, *, resent: bool = False, **kwargs):
        super().__init__(message, **kwargs)
        self.resent = resent


class ApiOutcomeUnknown(ApiError):
    """A POST was sent but its answer was lost or garbled: it may or may not have taken effect."""


class ApiBadResponse(ApiError):
    """The API answered something the portal does not understand, or reported a server error."""
