"""The one way the portal talks to the Phone Numbers API (KPN gateway, or the sandbox).

- OAuth2 client credentials through authlib; the token is shared by every process through
  the Django cache and fetched once per expiry, and once more after a 401.
- Every call has (connect, read) timeouts, and all its retries fit in one deadline.
- GETs are retried on connection errors, 429 and 502/503/504. A POST is re-sent only when
  it provably never reached the API (connection refused, gateway 401 or 429); anything
  ambiguous raises `ApiOutcomeUnknown` and nothing more is sent (DESIGN §2.2).
- Results are frozen dataclasses built here, at the boundary; failures are one small
  exception hierarchy whose messages a person can read.
- Secrets and tokens never reach a log line or an exception message.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.core.cache import cache as default_cache
from urllib3.exceptions import NewConnectionError

log = logging.getLogger("inventory.api")

TOKEN_CACHE_KEY = "numbers-api:token"  # noqa: S105 - a cache key, not a secret
TOKEN_LOCK_KEY = "numbers-api:token-lock"  # noqa: S105 - a cache key
QUOTA_CACHE_KEY = "numbers-api:quota:"  # + the call, spaces as dashes: "GET-/account/numbers"
# Every kind of call whose quota figures the portal shows.
QUOTA_CALLS = (
    "POST token endpoint",
    "GET /account/numbers",
    "GET /number/search",
    "POST /number/buy",
    "POST /number/cancel",
    "POST /number/update",
)
RETRYABLE_GET_STATUSES = {429, 502, 503, 504}


# --- Errors ---------------------------------------------------------------------------------


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


# --- Results --------------------------------------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True)
class Quota:
    """The quota figures the gateway sent with its latest answer to one kind of call."""

    limit: int | None
    used: int | None
    interval: int | None
    time_unit: str
    reset_at: datetime | None
    seen_at: datetime

    @property
    def remaining(self) -> int | None:
        if self.limit is None or self.used is None:
            return None
        return max(self.limit - self.used, 0)


@dataclass(frozen=True)
class AvailableNumber:
    country: str
    msisdn: str
    type: str
    features: tuple[str, ...]
    cost: Decimal | None
    initial_price: Decimal | None


@dataclass(frozen=True)
class OwnedNumber:
    country: str
    msisdn: str
    type: str
    features: tuple[str, ...]
    mo_http_url: str = ""
    mo_smpp_sys_type: str = ""
    voice_callback_type: str = ""
    voice_callback_value: str = ""
    voice_status_callback: str = ""
    app_id: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class Page(Generic[T]):
    count: int
    index: int
    size: int
    items: tuple[T, ...]


@dataclass(frozen=True)
class Confirmation:
    """The API's answer to a successful buy, cancel or update."""

    code: str
    label: str
    http_status: int
    duration_ms: int


@dataclass(frozen=True)
class ApiConfig:
    base_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    deadline: float = 20.0

    @classmethod
    def from_settings(cls) -> ApiConfig:
        conf = settings.NUMBERS_API
        return cls(
            base_url=conf["BASE_URL"].rstrip("/"),
            token_url=conf["TOKEN_URL"],
            client_id=conf["CLIENT_ID"],
            client_secret=conf["CLIENT_SECRET"],
            connect_timeout=conf["CONNECT_TIMEOUT"],
            read_timeout=conf["READ_TIMEOUT"],
            deadline=conf["DEADLINE"],
        )


# --- Parsing (the wire format stops here) ---------------------------------------------------


def _decimal_or_none(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number >= 0 else None


def _features(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(item).strip().upper() for item in value if str(item).strip())


def _require(item: Any, *names: str) -> None:
    if not isinstance(item, dict) or any(not isinstance(item.get(n), str) for n in names):
        raise ApiBadResponse("The API sent a number record the portal does not understand.")


def parse_available(item: Any) -> AvailableNumber:
    _require(item, "country", "msisdn", "type")
    return AvailableNumber(
        country=item["country"],
        msisdn=item["msisdn"],
        type=item["type"],
        features=_features(item.get("features")),
        cost=_decimal_or_none(item.get("cost")),
        initial_price=_decimal_or_none(item.get("initialPrice")),
    )


def parse_owned(item: Any) -> OwnedNumber:
    _require(item, "country", "msisdn", "type")
    text = lambda name: str(item.get(name) or "")  # noqa: E731 - absent and null mean "not set"
    return OwnedNumber(
        country=item["country"],
        msisdn=item["msisdn"],
        type=item["type"],
        features=_features(item.get("features")),
        mo_http_url=text("moHttpUrl"),
        mo_smpp_sys_type=text("moSmppSysType"),
        voice_callback_type=text("voiceCallbackType"),
        voice_callback_value=text("voiceCallbackValue"),
        voice_status_callback=text("voiceStatusCallback"),
        app_id=text("app_id"),
        raw=dict(item),
    )


def parse_page(body: Any, parse_item: Callable[[Any], T], *, index: int, size: int) -> Page[T]:
    """A list answer: `count` over all pages, `numbers` for this page (absent when empty)."""
    if not isinstance(body, dict):
        raise ApiBadResponse("The API sent a list the portal does not understand.")
    count = body.get("count", 0)
    numbers = body.get("numbers", [])
    if not isinstance(count, int) or count < 0 or not isinstance(numbers, list):
        raise ApiBadResponse("The API sent a list the portal does not understand.")
    return Page(count=count, index=index, size=size, items=tuple(parse_item(n) for n in numbers))


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _reset_time(value: str | None) -> datetime | None:
    """quota-reset-UTC: epoch milliseconds or seconds, or an HTTP/ISO date."""
    if not value:
        return None
    if value.isdigit():
        stamp = int(value)
        return datetime.fromtimestamp(stamp / 1000 if stamp > 10**11 else stamp, tz=UTC)
    for parse in (parsedate_to_datetime, datetime.fromisoformat):
        try:
            moment = parse(value)
        except (TypeError, ValueError):
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def parse_quota(headers: Mapping[str, str]) -> Quota | None:
    if "quota-limit" not in headers:
        return None
    return Quota(
        limit=_int_or_none(headers.get("quota-limit")),
        used=_int_or_none(headers.get("quota-used")),
        interval=_int_or_none(headers.get("quota-interval")),
        time_unit=headers.get("quota-time-unit", ""),
        reset_at=_reset_time(headers.get("quota-reset-UTC")),
        seen_at=datetime.now(tz=UTC),
    )


def _quota_key(call: str) -> str:
    return QUOTA_CACHE_KEY + call.replace(" ", "-")


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    if value.isdigit():
        return float(value)
    reset = _reset_time(value)
    return max((reset - datetime.now(tz=UTC)).total_seconds(), 0) if reset else None


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _is_gateway_auth_fault(response: requests.Response) -> bool:
    return response.status_code == 401


def _never_arrived(error: requests.RequestException) -> bool:
    """True only when the request cannot have reached the API."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        return isinstance(reason, NewConnectionError)
    return False


# --- The client -----------------------------------------------------------------------------


class NumbersApiClient:
    """One client around one HTTP session. Build it with `from_settings()` in production code;
    tests build it with their own `ApiConfig` pointing at the sandbox."""

    def __init__(
        self, config: ApiConfig, *, cache=None, sleep: Callable[[float], None] = time.sleep
    ):
        self.config = config
        self._cache = cache if cache is not None else default_cache
        self._sleep = sleep
        self._session = OAuth2Session(
            config.client_id,
            config.client_secret,
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
        )
        self._session.register_compliance_hook("access_token_response", self._check_token_response)
        self._quotas: dict[str, Quota] = {}

    @classmethod
    def from_settings(cls) -> NumbersApiClient:
        return cls(ApiConfig.from_settings())

    # --- operations ---

    def search_available(
        self,
        *,
        country: str,
        type: str = "",  # the API's own name for it
        features: tuple[str, ...] = (),
        pattern: str = "",
        search_pattern: int = 0,
        index: int = 1,
        size: int = 10,
    ) -> Page[AvailableNumber]:
        params = {"country": country, "index": index, "size": size}
        if type:
            params["type"] = type
        if features:
            params["features"] = ",".join(features)
        if pattern:
            params.update(pattern=pattern, search_pattern=search_pattern)
        body = self._get("/number/search", params)
        return parse_page(body, parse_available, index=index, size=size)

    def list_owned(
        self, *, index: int = 1, size: int = 100, pattern: str = "", search_pattern: int = 0
    ) -> Page[OwnedNumber]:
        params = {"index": index, "size": size}
        if pattern:
            params.update(pattern=pattern, search_pattern=search_pattern)
        body = self._get("/account/numbers", params)
        return parse_page(body, parse_owned, index=index, size=size)

    def find_owned(self, *, msisdn: str) -> OwnedNumber | None:
        """The owned number with exactly this msisdn, or None: never a number that merely
        starts with or contains the digits."""
        index = 1
        while True:
            page = self.list_owned(index=index, size=100, pattern=msisdn, search_pattern=0)
            for number in page.items:
                if number.msisdn == msisdn:
                    return number
            if not page.items or index * page.size >= page.count:
                return None
            index += 1

    def buy(self, *, country: str, msisdn: str) -> Confirmation:
        return self._post("/number/buy", {"country": country, "msisdn": msisdn})

    def cancel(self, *, country: str, msisdn: str) -> Confirmation:
        return self._post("/number/cancel", {"country": country, "msisdn": msisdn})

    def update(self, *, country: str, msisdn: str, changes: Mapping[str, str]) -> Confirmation:
        return self._post("/number/update", {"country": country, "msisdn": msisdn, **changes})

    def check_token(self) -> bool:
        """Whether a token can be had right now (from the shared cache or the token endpoint)."""
        try:
            self._token()
        except ApiError as error:
            # The messages are written for people and never hold a secret (see above).
            log.warning("No API token: %s", error)
            return False
        return True

    def last_quotas(self) -> dict[str, Quota]:
        """The latest figures every process saw, by kind of call."""
        keys = {_quota_key(call): call for call in QUOTA_CALLS}
        found = self._cache.get_many(list(keys))
        return {keys[key]: quota for key, quota in found.items()}

    # --- tokens ---

    def _check_token_response(self, response: requests.Response) -> requests.Response:
        """Apigee's token endpoint speaks its own dialect; turn its refusals into our errors."""
        self._remember_quota("POST token endpoint", response)
        if response.status_code == 200:
            return response
        if response.status_code in (400, 401):
            raise ApiCredentialsRejected(
                "The API refused the portal's client id and secret. "
                "Check NUMBERS_API_CLIENT_ID and NUMBERS_API_CLIENT_SECRET.",
                status=response.status_code,
            )
        if response.status_code == 429:
            raise ApiThrottled(
                "The API's quota is used up; try again shortly.",
                status=429,
                retry_after=_retry_after(response),
            )
        raise ApiUnreachable(
            f"The API's token service answered with HTTP {response.status_code}.",
            status=response.status_code,
        )

    def _fetch_token(self) -> tuple[str, int]:
        started = time.monotonic()
        try:
            token = self._session.fetch_token(
                self.config.token_url,
                grant_type="client_credentials",
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )
        except requests.RequestException as error:
            raise ApiUnreachable("The API's token service could not be reached.") from error
        except (ValueError, AuthlibBaseError) as error:  # a body that is not a token
            raise ApiBadResponse("The API's token service sent an unreadable answer.") from error
        finally:
            elapsed = int((time.monotonic() - started) * 1000)
            log.info("POST token endpoint in %d ms", elapsed, extra={"duration_ms": elapsed})
        access_token = token.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise ApiBadResponse("The API's token service sent an answer without a token.")
        expires_in = _int_or_none(str(token.get("expires_in", ""))) or 300
        return access_token, expires_in

    def _token(self, *, stale: str | None = None) -> str:
        """The shared token. `stale` is one the API just refused: get a different one."""
        cached = self._cache.get(TOKEN_CACHE_KEY)
        if cached and cached != stale:
            return cached
        give_up_waiting = time.monotonic() + self.config.connect_timeout + self.config.read_timeout
        owner = uuid.uuid4().hex
        # Only one process fetches; the others wait for its token to appear in the cache.
        while not self._cache.add(TOKEN_LOCK_KEY, owner, timeout=30):
            if time.monotonic() > give_up_waiting:
                break
            self._sleep(0.05)
            cached = self._cache.get(TOKEN_CACHE_KEY)
            if cached and cached != stale:
                return cached
        try:
            cached = self._cache.get(TOKEN_CACHE_KEY)
            if cached and cached != stale:
                return cached
            access_token, expires_in = self._fetch_token()
            # Retire it a little before the gateway does, so no call races the expiry.
            margin = min(60, expires_in // 10)
            self._cache.set(TOKEN_CACHE_KEY, access_token, timeout=max(expires_in - margin, 1))
            return access_token
        finally:
            if self._cache.get(TOKEN_LOCK_KEY) == owner:
                self._cache.delete(TOKEN_LOCK_KEY)

    # --- transport ---

    def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        deadline = time.monotonic() + self.config.deadline
        attempt = 0
        refreshed = False
        token = self._token()
        while True:
            attempt += 1
            try:
                response = self._send("GET", path, token, params=params, deadline=deadline)
            except requests.RequestException as error:
                self._wait_or_raise(
                    attempt, None, deadline, ApiUnreachable("The API could not be reached.")
                )
                log.warning("GET %s failed (%s); retrying", path, type(error).__name__)
                continue
            if _is_gateway_auth_fault(response) and not refreshed:
                token, refreshed = self._token(stale=token), True
                continue
            if response.status_code in RETRYABLE_GET_STATUSES:
                self._wait_or_raise(
                    attempt, _retry_after(response), deadline, self._error_for(response)
                )
                continue
            return self._body_of(response)

    def _post(self, path: str, data: Mapping[str, str]) -> Confirmation:
        deadline = time.monotonic() + self.config.deadline
        attempt = 0
        refreshed = False
        token = self._token()
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self._send("POST", path, token, data=data, deadline=deadline)
            except requests.RequestException as error:
                if not _never_arrived(error):
                    raise ApiOutcomeUnknown(
                        "The request was sent but its answer was lost "
                        f"({type(error).__name__}); it may or may not have taken effect."
                    ) from error
                self._wait_or_raise(
                    attempt, None, deadline, ApiUnreachable("The API could not be reached.")
                )
                continue
            # The gateway refuses these before the API sees the request: safe to re-send.
            if _is_gateway_auth_fault(response) and not refreshed:
                token, refreshed = self._token(stale=token), True
                continue
            if response.status_code == 429:
                self._wait_or_raise(
                    attempt, _retry_after(response), deadline, self._error_for(response)
                )
                continue
            return self._confirmation(response, started)

    def _send(self, method, path, token, *, deadline, **kwargs) -> requests.Response:
        self._respect_quota(f"{method} {path}", deadline)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        started = time.monotonic()
        status = "error"
        try:
            response = self._session.request(
                method,
                self.config.base_url + path,
                headers=headers,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
                withhold_token=True,
                **kwargs,
            )
            status = response.status_code
        finally:
            elapsed = int((time.monotonic() - started) * 1000)
            log.info(
                "%s %s -> %s in %d ms",
                method,
                path,
                status,
                elapsed,
                extra={
                    "api_method": method,
                    "api_path": path,
                    "status": status,
                    "duration_ms": elapsed,
                },
            )
        self._remember_quota(f"{method} {path}", response)
        return response

    def _remember_quota(self, key: str, response: requests.Response) -> None:
        quota = parse_quota(response.headers)
        if quota is None:
            return
        self._quotas[key] = quota
        self._cache.set(_quota_key(key), quota, timeout=24 * 3600)

    def _respect_quota(self, key: str, deadline: float) -> None:
        """Wait for the next quota window rather than spend a call on a certain 429."""
        quota = self._quotas.get(key)
        if not quota or quota.remaining != 0 or quota.reset_at is None:
            return
        wait = (quota.reset_at - datetime.now(tz=UTC)).total_seconds() + 0.01
        if 0 < wait < deadline - time.monotonic():
            self._sleep(wait)

    def _wait_or_raise(
        self, attempt: int, retry_after: float | None, deadline: float, error: ApiError
    ) -> None:
        """Capped exponential backoff with jitter, never shorter than Retry-After,
        never past the deadline."""
        backoff = min(4.0, 0.25 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)  # noqa: S311
        wait = max(backoff, retry_after or 0)
        if time.monotonic() + wait >= deadline:
            raise error
        self._sleep(wait)

    def _error_for(self, response: requests.Response) -> ApiError:
        status = response.status_code
        if status == 429:
            return ApiThrottled(
                "The API's quota is used up; try again in a moment.",
                status=429,
                retry_after=_retry_after(response),
            )
        if status == 401:
            return ApiCredentialsRejected(
                "The API refused the portal's access token even after renewing it.", status=401
            )
        if status == 400:
            body = _json(response)
            errors = {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
            summary = "; ".join(f"{k}: {v}" for k, v in errors.items()) or "invalid request"
            return ApiRequestInvalid(
                f"The API refused the request ({summary}).", status=400, errors=errors
            )
        if status >= 500:
            return ApiBadResponse(
                f"The API reported a server error (HTTP {status}).", status=status
            )
        return ApiBadResponse(f"The API answered with an unexpected HTTP {status}.", status=status)

    def _body_of(self, response: requests.Response) -> Any:
        if response.status_code != 200:
            raise self._error_for(response)
        body = _json(response)
        if body is None:
            raise ApiBadResponse("The API sent an answer that is not valid JSON.", status=200)
        return body

    def _confirmation(self, response: requests.Response, started: float) -> Confirmation:
        status = response.status_code
        body = _json(response)
        code = str(body.get("error-code", "")) if isinstance(body, dict) else ""
        label = str(body.get("error-code-label", "")) if isinstance(body, dict) else ""
        if status in (400, 401):  # refused before any effect
            raise self._error_for(response)
        if status == 420 or (status == 200 and code and code != "200"):
            raise ApiMethodFailed(
                f"The API declined the request: {label or 'method failed'}.",
                status=status,
                code=code or str(status),
                label=label,
            )
        if status == 200 and code == "200":
            elapsed = int((time.monotonic() - started) * 1000)
            return Confirmation(code=code, label=label, http_status=status, duration_ms=elapsed)
        # A server error or an unreadable success: the request arrived, its effect is unknown.
        raise ApiOutcomeUnknown(
            f"The API's answer (HTTP {status}) does not say whether the request took effect.",
            status=status,
            code=code,
            label=label,
        )


_per_thread = threading.local()


def default_client() -> NumbersApiClient:
    """This thread's client for the configured API: one session (and its connection pool)
    per thread, rebuilt when the settings change."""
    config = ApiConfig.from_settings()
    client = getattr(_per_thread, "client", None)
    if client is None or client.config != config:
        client = _per_thread.client = NumbersApiClient(config)
    return client
