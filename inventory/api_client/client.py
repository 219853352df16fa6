"""The one way the portal talks to the Phone Numbers API (KPN gateway, or the sandbox).

- OAuth2 client credentials through authlib; the token is shared by every process through
  the Django cache and fetched once per expiry, and once more after a 401.
- Every call has (connect, read) timeouts, and all its retries fit in one deadline.
- GETs are retried on connection errors, throttling (429, or an Apigee quota or spike-arrest
  fault at any status) and 502/503/504. A POST is re-sent only when it provably never
  reached the API (connection refused, gateway 401, throttling); anything ambiguous raises
  `ApiOutcomeUnknown` and nothing more is sent (DESIGN §2.2). Every other exception a POST
  raises means it did not take effect.
- 403, 404 and an app without the product are refusals (`ApiRefused`) that say what to check.
- Results are frozen dataclasses built here, at the boundary; failures are one small
  exception hierarchy whose messages a person can read.
- Secrets and tokens never reach a log line or an exception message.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from django.core.cache import cache as default_cache

from inventory.api_client.errors import (
    ApiBadResponse,
    ApiCredentialsRejected,
    ApiError,
    ApiMethodFailed,
    ApiOutcomeUnknown,
    ApiRefused,
    ApiRequestInvalid,
    ApiThrottled,
    ApiUnreachable,
)
from inventory.api_client.pacing import SPIKE_ARREST_SECONDS, UPSTREAM_WINDOWS, Pace
from inventory.api_client.results import (
    ApiConfig,
    AvailableNumber,
    Confirmation,
    OwnedNumber,
    Page,
    Quota,
)
from inventory.api_client.wire import (
    describe_body,
    field_errors,
    int_or_none,
    is_not_subscribed,
    is_rate_limited,
    is_spike_arrest,
    is_token_refused,
    json_of,
    names_invalid_client,
    never_arrived,
    parse_available,
    parse_owned,
    parse_page,
    parse_quota,
    provider_code,
    provider_label,
    retry_after_seconds,
    sentence,
)

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
RETRYABLE_GET_STATUSES = {502, 503, 504}
SLOT_MARGIN = 0.01  # past the slot, so the gateway sees the gap however the clocks differ
CREDENTIALS_HINT = "Check NUMBERS_API_CLIENT_ID and NUMBERS_API_CLIENT_SECRET."


def _quota_key(call: str) -> str:
    return QUOTA_CACHE_KEY + call.replace(" ", "-")


class NumbersApiClient:
    """One client around one HTTP session. Production code takes `default_client()`; tests
    build one with their own `ApiConfig` pointing at the sandbox."""

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
        self._answered_at: dict[str, float] = {}  # kind of call -> when its last answer came
        self._paces: dict[str, Pace] = {}  # kind of call -> the windows known to apply
        self._awake_at = 0.0  # when the client's latest wait ends

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
        params: dict[str, str | int] = {"index": index, "size": size}
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
        """Apigee's token endpoint speaks its own dialect, and KPN's proxy another; turn
        their refusals into our errors. The body is never quoted: it may echo the client id."""
        self._remember_quota("POST token endpoint", response)
        status = response.status_code
        if status == 200:
            return response
        body = json_of(response)
        if names_invalid_client(body) or status in (400, 401):
            raise ApiCredentialsRejected(
                f"The API refused the portal's client id and secret. {CREDENTIALS_HINT}",
                status=status,
            )
        if is_rate_limited(response, body):
            raise ApiThrottled(
                "The API's quota is used up; try again shortly.",
                status=status,
                retry_after=retry_after_seconds(response),
            )
        if status in (403, 404):
            raise ApiRefused(
                f"The API's token service refused the request (HTTP {status}). "
                "Check NUMBERS_API_TOKEN_URL and that the KPN app is approved.",
                status=status,
            )
        raise ApiUnreachable(f"The API's token service answered with HTTP {status}.", status=status)

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
        expires_in = int_or_none(str(token.get("expires_in", ""))) or 300
        return access_token, expires_in

    def _token(self, *, stale: str | None = None) -> str:
        """The shared token. `stale` is one the API just refused: get a different one.
        While the shared cache cannot be reached, this process keeps its own copy."""
        _process_tokens.discard(self.config, stale)
        cached = self._cache.get(TOKEN_CACHE_KEY) or _process_tokens.get(self.config)
        if cached and cached != stale:
            return cached
        give_up_waiting = time.monotonic() + self.config.connect_timeout + self.config.read_timeout
        owner = uuid.uuid4().hex
        # Only one process fetches; the others wait for its token to appear in the cache.
        # A lock nobody holds yet cannot be taken: the cache is down, so nobody is waited for.
        while not self._cache.add(TOKEN_LOCK_KEY, owner, timeout=30):
            if time.monotonic() > give_up_waiting or not self._cache.has_key(TOKEN_LOCK_KEY):
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
            lifetime = max(expires_in - min(60, expires_in // 10), 1)
            self._cache.set(TOKEN_CACHE_KEY, access_token, timeout=lifetime)
            if self._cache.get(TOKEN_CACHE_KEY) != access_token:  # the cache did not keep it
                _process_tokens.put(self.config, access_token, lifetime)
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
            body = json_of(response)
            if is_token_refused(response, body) and not refreshed:
                token, refreshed = self._token(stale=token), True
                continue
            if is_rate_limited(response, body) or response.status_code in RETRYABLE_GET_STATUSES:
                refusal = self._error_for(response, body)
                self._wait_or_raise(attempt, self._retry_after(response, body), deadline, refusal)
                continue
            return self._body_of(response, body)

    def _post(self, path: str, data: Mapping[str, str]) -> Confirmation:
        deadline = time.monotonic() + self.config.deadline
        attempt = 0
        refreshed = False
        answered = 0  # answers received so far: more than one means the POST was re-sent
        token = self._token()
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self._send("POST", path, token, data=data, deadline=deadline)
            except requests.RequestException as error:
                if not never_arrived(error):
                    log.warning("POST %s: answer lost (%s)", path, type(error).__name__)
                    raise ApiOutcomeUnknown(
                        f"The request was sent but its answer was lost ({_lost_how(error)}); "
                        "it may or may not have taken effect."
                    ) from error
                self._wait_or_raise(
                    attempt, None, deadline, ApiUnreachable("The API could not be reached.")
                )
                continue
            answered += 1
            body = json_of(response)
            # The gateway refuses these before the API sees the request: safe to re-send.
            if is_token_refused(response, body) and not refreshed:
                token, refreshed = self._token(stale=token), True
                continue
            if is_rate_limited(response, body):
                refusal = self._error_for(response, body)
                self._wait_or_raise(attempt, self._retry_after(response, body), deadline, refusal)
                continue
            return self._confirmation(response, body, started, resent=answered > 1)

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
        key = f"{method} {path}"
        self._answered_at[key] = self._clock()
        self._remember_quota(key, response)
        if response.status_code in (429, 500) and is_spike_arrest(json_of(response)):
            self._pace(key).arrested()
        return response

    def _remember_quota(self, key: str, response: requests.Response) -> None:
        quota = parse_quota(response.headers)
        if quota is None:
            return
        self._quotas[key] = quota
        self._pace(key).learn(quota)
        self._cache.set(_quota_key(key), quota, timeout=24 * 3600)

    def _pace(self, key: str) -> Pace:
        if key not in self._paces:
            self._paces[key] = Pace(UPSTREAM_WINDOWS.get(key, ()))
        return self._paces[key]

    def _respect_quota(self, key: str, deadline: float) -> None:
        """Wait rather than spend a call on a certain refusal: for the next window when the
        quota is used up, and for the next slot of the slowest window known to apply to
        this kind of call (measured from the last answer, so the gateway sees the gap
        however long the call took to arrive)."""
        wait = 0.0
        quota = self._quotas.get(key)
        if quota and quota.remaining == 0 and quota.reset_at is not None:
            wait = (quota.reset_at - datetime.now(tz=UTC)).total_seconds() + SLOT_MARGIN
        spacing = self._pace(key).spacing()
        if spacing and key in self._answered_at:
            next_slot = self._answered_at[key] + spacing + SLOT_MARGIN
            wait = max(wait, next_slot - self._clock())
        if 0 < wait < deadline - time.monotonic():
            self._pause(wait)

    def _wait_or_raise(
        self, attempt: int, retry_after: float | None, deadline: float, error: ApiError
    ) -> None:
        """Capped exponential backoff with jitter, never shorter than Retry-After,
        never past the deadline."""
        backoff = min(4.0, 0.25 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)  # noqa: S311
        wait = max(backoff, retry_after or 0)
        if time.monotonic() + wait >= deadline:
            raise error
        self._pause(wait)

    def _pause(self, seconds: float) -> None:
        self._awake_at = self._clock() + seconds
        self._sleep(seconds)

    def _clock(self) -> float:
        """time.monotonic(), or the end of the latest wait if that is later: the same
        after a real sleep, and what keeps the slots apart with a sleep that only records
        the wait (so a slot a retry's backoff already waited for is not waited for again)."""
        return max(time.monotonic(), self._awake_at)

    @staticmethod
    def _retry_after(response: requests.Response, body: Any) -> float | None:
        wait = retry_after_seconds(response)
        # A spike arrest announces no wait; its window is about a second.
        if wait is None and is_spike_arrest(body):
            return SPIKE_ARREST_SECONDS + SLOT_MARGIN
        return wait

    def _error_for(self, response: requests.Response, body: Any) -> ApiError:
        """The error an answer that is not a success stands for, with words for people."""
        status = response.status_code
        # The provider's words go in parentheses, without a full stop of their own.
        said = describe_body(response, body).rstrip(". ")
        quoted = f": {said}" if said else ""
        if is_rate_limited(response, body):
            why = "calls came too fast" if is_spike_arrest(body) else "its quota is used up"
            return ApiThrottled(
                f"The API is refusing calls for now ({why}); try again in a moment.",
                status=status,
                retry_after=self._retry_after(response, body),
            )
        if is_not_subscribed(body):
            return ApiRefused(
                "The API refused the call: the portal's KPN app is not subscribed to the "
                "Phone Numbers API product. Add the product to the app in its KPN Developer "
                "project.",
                status=status,
            )
        if names_invalid_client(body):
            return ApiCredentialsRejected(
                f"The API refused the portal's client id. {CREDENTIALS_HINT}", status=status
            )
        code = provider_code(body)
        if code == "401" or status == 401:
            return self._unauthenticated(status, code, body)
        if status == 403 or code == "403":
            return ApiRefused(
                f"The API refused access (HTTP {status}{quoted}). Check that the portal's KPN "
                "app is entitled to the Phone Numbers API product.",
                status=status,
                code=code,
                label=provider_label(body),
            )
        if status in (404, 405):
            return ApiRefused(
                f"The API has no such operation (HTTP {status}{quoted}). Check "
                "NUMBERS_API_BASE_URL: it should end in /communication/nexmo/phone-numbers.",
                status=status,
            )
        if status == 400:
            errors = field_errors(body)
            summary = "; ".join(f"{k}: {v.rstrip('. ')}" for k, v in errors.items()) or said
            return ApiRequestInvalid(
                sentence(f"The API refused the request ({summary or 'invalid request'})"),
                status=400,
                errors=errors,
            )
        if status >= 500:
            return ApiBadResponse(
                sentence(f"The API reported a server error (HTTP {status}{quoted})"),
                status=status,
            )
        if code and code != "200":
            return ApiMethodFailed(
                sentence(f"The API declined the request: {provider_label(body) or code}"),
                status=status,
                code=code,
                label=provider_label(body),
            )
        return ApiBadResponse(
            sentence(f"The API answered with an unexpected HTTP {status}{quoted}"), status=status
        )

    @staticmethod
    def _unauthenticated(status: int, code: str, body: Any) -> ApiCredentialsRejected:
        if code == "401":  # the provider's own answer, behind a gateway that let us through
            return ApiCredentialsRejected(
                "The provider behind the KPN gateway refused the request as unauthenticated "
                f"(“{provider_label(body) or 'authentication failed'}”). The token was "
                "accepted: KPN support must check the account linked to the portal's app.",
                status=status,
                code=code,
                label=provider_label(body),
            )
        return ApiCredentialsRejected(
            "The API refused the portal's access token even after renewing it.", status=status
        )

    def _body_of(self, response: requests.Response, body: Any) -> Any:
        if response.status_code != 200:
            raise self._error_for(response, body)
        if body is None:
            raise ApiBadResponse("The API sent an answer that is not valid JSON.", status=200)
        code = provider_code(body)
        if code and code != "200":  # a refusal dressed as a success
            raise self._error_for(response, body)
        return body

    def _confirmation(
        self, response: requests.Response, body: Any, started: float, *, resent: bool
    ) -> Confirmation:
        status = response.status_code
        code, label = provider_code(body), provider_label(body)
        if status == 200 and code == "200":
            elapsed = int((time.monotonic() - started) * 1000)
            return Confirmation(
                code=code, label=label, http_status=status, duration_ms=elapsed, resent=resent
            )
        if status == 420 or (code and code not in ("200", "401", "403") and status < 500):
            raise ApiMethodFailed(
                sentence(f"The API declined the request: {label or 'method failed'}"),
                status=status,
                code=code or str(status),
                label=label,
                resent=resent,
            )
        # Refused before any effect: bad parameters, credentials, access, no such path.
        refused = status in (400, 401, 403, 404, 405) or code in ("401", "403")
        if refused or is_not_subscribed(body) or names_invalid_client(body):
            raise self._error_for(response, body)
        # A server error or an unreadable success: the request arrived, its effect is unknown.
        raise ApiOutcomeUnknown(
            f"The API's answer (HTTP {status}) does not say whether the request took effect.",
            status=status,
            code=code,
            label=label,
        )


class _ProcessTokens:
    """Tokens this process fetched while the shared cache could not keep them, by API and
    client id, each until it is retired: one fetch per expiry per process, not per call."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    @staticmethod
    def _key(config: ApiConfig) -> tuple[str, str]:
        return config.token_url, config.client_id

    def get(self, config: ApiConfig) -> str | None:
        with self._lock:
            token, retire_at = self._tokens.get(self._key(config), ("", 0.0))
        return token if time.monotonic() < retire_at else None

    def put(self, config: ApiConfig, token: str, lifetime: float) -> None:
        with self._lock:
            self._tokens[self._key(config)] = (token, time.monotonic() + lifetime)

    def discard(self, config: ApiConfig, token: str | None) -> None:
        with self._lock:
            if token and self._tokens.get(self._key(config), ("",))[0] == token:
                del self._tokens[self._key(config)]


_process_tokens = _ProcessTokens()


def _lost_how(error: requests.RequestException) -> str:
    """How an answer was lost, in words (the exception's class goes to the log only)."""
    if isinstance(error, requests.Timeout):
        return "no answer within the time allowed"
    return "the connection broke"


_per_thread = threading.local()


def default_client(
    *, connect_timeout: float | None = None, read_timeout: float | None = None
) -> NumbersApiClient:
    """This thread's client for the configured API: one session (and its connection pool)
    per thread and per set of timeouts (a probe may ask for shorter ones than the
    settings'), rebuilt when the settings change. Every client shares the token cache."""
    config = ApiConfig.from_settings()
    shorter = {
        name: min(getattr(config, name), value)
        for name, value in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout))
        if value is not None
    }
    config = dataclasses.replace(config, **shorter)
    clients = getattr(_per_thread, "clients", None)
    if clients is None:
        clients = _per_thread.clients = {}
    client = clients.get(config)
    if client is None:
        if len(clients) > 4:  # the settings changed (tests do): start afresh
            clients.clear()
        client = clients[config] = NumbersApiClient(config)
    return client
