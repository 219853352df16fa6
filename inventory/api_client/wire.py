"""The wire format stops here: bodies, headers and transport errors read into results, and
error bodies of every shape the gateway and the provider send read into plain words."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from inventory.api_client.errors import ApiBadResponse
from inventory.api_client.results import (
    AvailableNumber,
    Limitation,
    OwnedNumber,
    Page,
    Quota,
    T,
)

_MSISDN = re.compile(r"[0-9]{6,15}")
_NEEDED = ("country", "type")  # besides the msisdn: without them nothing can be done
_LONGEST_QUOTE = 200  # characters of a provider's own words worth showing a person


class UnreadableRecord(ApiBadResponse):
    """One record of a list that the portal cannot read; `name` says which, for people."""

    def __init__(self, name: str):
        super().__init__(f"The API sent {name} without the fields the portal needs.")
        self.name = name


# --- number records ---------------------------------------------------------------------------


def _decimal_or_none(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
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


def _limitations(value: Any) -> tuple[Limitation, ...]:
    """The API's `limitations`; entries without a feature say nothing and are left out."""
    if not isinstance(value, list):
        return ()
    return tuple(
        Limitation(
            feature=_word(item, "feature"),
            direction=_word(item, "type"),
            reach=_word(item, "reach"),
        )
        for item in value
        if isinstance(item, dict) and _word(item, "feature")
    )


def _word(item: dict, name: str) -> str:
    value = item.get(name)
    return value.strip().upper() if isinstance(value, str) else ""


def _msisdn_of(item: Any) -> str:
    value = item.get("msisdn") if isinstance(item, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and _MSISDN.fullmatch(value) else ""


def _require(item: Any, position: int) -> str:
    """The record's msisdn, or UnreadableRecord naming it (by msisdn when it has one)."""
    msisdn = _msisdn_of(item)
    if msisdn and all(isinstance(item.get(name), str) and item[name] for name in _NEEDED):
        return msisdn
    raise UnreadableRecord(
        f"the record for {msisdn}" if msisdn else f"record {position} of the page"
    )


def parse_available(item: Any, position: int = 1) -> AvailableNumber:
    msisdn = _require(item, position)
    return AvailableNumber(
        country=item["country"],
        msisdn=msisdn,
        type=item["type"],
        features=_features(item.get("features")),
        cost=_decimal_or_none(item.get("cost")),
        initial_price=_decimal_or_none(item.get("initialPrice")),
        limitations=_limitations(item.get("limitations")),
    )


def parse_owned(item: Any, position: int = 1) -> OwnedNumber:
    msisdn = _require(item, position)
    text = lambda name: str(item.get(name) or "")  # noqa: E731 - absent and null mean "not set"
    return OwnedNumber(
        country=item["country"],
        msisdn=msisdn,
        type=item["type"],
        features=_features(item.get("features")),
        mo_http_url=text("moHttpUrl"),
        mo_smpp_sys_type=text("moSmppSysType"),
        voice_callback_type=text("voiceCallbackType"),
        voice_callback_value=text("voiceCallbackValue"),
        voice_status_callback=text("voiceStatusCallback"),
        app_id=text("app_id"),
        messages_callback_type=text("messagesCallbackType"),
        messages_callback_value=text("messagesCallbackValue"),
        limitations=_limitations(item.get("limitations")),
        cost=_decimal_or_none(item.get("cost")),
        raw=dict(item),
    )


def _count_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and value >= 0 else None


def parse_page(body: Any, parse_item: Callable[[Any, int], T], *, index: int, size: int) -> Page[T]:
    """A list answer: `count` over all pages, `numbers` for this page. Empty lists come as
    `{}`, `{"count": 0}`, `{"numbers": []}` or both. A record that cannot be read is left
    out and named in `unreadable`."""
    unclear = ApiBadResponse("The API sent a list the portal does not understand.")
    if not isinstance(body, dict):
        raise unclear
    numbers = body.get("numbers")
    numbers = [] if numbers is None else numbers
    if not isinstance(numbers, list):
        raise unclear
    count = _count_of(body.get("count", None))
    if count is None:
        # Only a page that is not full tells where the list ends without `count`.
        if "count" in body or len(numbers) >= size:
            raise unclear
        count = (index - 1) * size + len(numbers) if numbers else 0
    items, unreadable = [], []
    for position, record in enumerate(numbers, start=1):
        try:
            items.append(parse_item(record, position))
        except UnreadableRecord as problem:
            unreadable.append(problem.name)
    return Page(
        count=count, index=index, size=size, items=tuple(items), unreadable=tuple(unreadable)
    )


# --- quota and retry headers ------------------------------------------------------------------


def int_or_none(value: str | None) -> int | None:
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
        try:
            return datetime.fromtimestamp(stamp / 1000 if stamp > 10**11 else stamp, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    for parse in (parsedate_to_datetime, datetime.fromisoformat):
        try:
            moment = parse(value)
        except (TypeError, ValueError, IndexError):
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def parse_quota(headers: Mapping[str, str]) -> Quota | None:
    if "quota-limit" not in headers:
        return None
    return Quota(
        limit=int_or_none(headers.get("quota-limit")),
        used=int_or_none(headers.get("quota-used")),
        interval=int_or_none(headers.get("quota-interval")),
        time_unit=headers.get("quota-time-unit", ""),
        reset_at=_reset_time(headers.get("quota-reset-UTC")),
        seen_at=datetime.now(tz=UTC),
    )


def retry_after_seconds(response: requests.Response) -> float | None:
    """Retry-After; failing that, the quota window's end when the answer says it is used up
    (Apigee sends no Retry-After with its quota faults)."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    reset = _reset_time(value)
    if reset is None:
        quota = parse_quota(response.headers)
        if quota is not None and quota.remaining == 0:
            reset = quota.reset_at
    return max((reset - datetime.now(tz=UTC)).total_seconds(), 0) if reset else None


def json_of(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def never_arrived(error: requests.RequestException) -> bool:
    """True only when the request cannot have reached the API."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        return isinstance(reason, NewConnectionError)
    return False


# --- error bodies -----------------------------------------------------------------------------


def _fault_code(body: Any) -> str:
    """The errorcode of an Apigee fault: {"fault": {"faultstring", "detail": {"errorcode"}}}."""
    fault = body.get("fault") if isinstance(body, dict) else None
    detail = fault.get("detail") if isinstance(fault, dict) else None
    code = detail.get("errorcode") if isinstance(detail, dict) else None
    return code if isinstance(code, str) else ""


def provider_code(body: Any) -> str:
    """The provider's `error-code` (a string on the wire; a number is tolerated)."""
    code = body.get("error-code") if isinstance(body, dict) else None
    if isinstance(code, bool) or code is None:
        return ""
    return str(code).strip()


def provider_label(body: Any) -> str:
    label = body.get("error-code-label") if isinstance(body, dict) else None
    return " ".join(label.split()) if isinstance(label, str) else ""


def is_rate_limited(response: requests.Response, body: Any) -> bool:
    """A 429, or an Apigee quota or spike-arrest fault whatever its status (Apigee answers
    them with 500 unless the organisation changed a setting): the gateway refused the call
    before the API saw it."""
    return response.status_code == 429 or _fault_code(body).startswith("policies.ratelimit.")


def is_spike_arrest(body: Any) -> bool:
    return _fault_code(body).endswith("SpikeArrestViolation")


def is_not_subscribed(body: Any) -> bool:
    """Apigee's "no API product matches": the token is fine, but the app that holds it is
    not subscribed to the product this path belongs to."""
    return _fault_code(body).endswith("InvalidAPICallAsNoApiProductMatchFound")


def is_token_refused(response: requests.Response, body: Any) -> bool:
    """A 401 that a fresh token may cure: the gateway's invalid or expired token faults, or a
    401 that says nothing else. Not the provider's own "authentication failed", nor an app
    without the product, nor refused client credentials."""
    if response.status_code != 401:
        return False
    return not (provider_code(body) or is_not_subscribed(body) or names_invalid_client(body))


_INVALID_CLIENT = ("invalidclient", "clientidisinvalid", "invalidapikey", "clientidentifier")


def names_invalid_client(body: Any) -> bool:
    """Whether an answer says the client id (or secret) is wrong, in any of the shapes seen:
    OAuth's `{"error": "invalid_client"}`, Apigee's `{"ErrorCode": "invalid_client", ...}`,
    KPN's envelope `{"error": {"message": "invalid_client-..."}}` (sent with HTTP 500) or an
    Apigee fault whose code names the client."""
    return any(
        any(marker in re.sub(r"[^a-z]", "", text.lower()) for marker in _INVALID_CLIENT)
        for text in _strings(body)
    )


def _strings(value: Any, depth: int = 0) -> list[str]:
    if isinstance(value, str):
        return [value]
    if depth > 4:
        return []
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item, depth + 1)]
    if isinstance(value, list):
        return [text for item in value[:20] for text in _strings(item, depth + 1)]
    return []


def field_errors(body: Any) -> dict[str, str]:
    """A 400's complaints by parameter: `{"country": "Is required."}`. Envelopes (faults,
    `Error`, `title`) are not field errors; nested values are flattened into words."""
    if not isinstance(body, dict) or _envelope_text(body):
        return {}
    errors = {}
    for name, value in body.items():
        words = "; ".join(" ".join(text.split()) for text in _strings(value) if text.strip())
        if words:
            errors[str(name)] = words[:_LONGEST_QUOTE]
    return errors


def _first_text(mapping: dict, *names: str) -> str:
    for name in names:
        value = mapping.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _envelope_text(body: dict) -> str:
    """The human part of the error envelopes the gateway, KPN and the provider use."""
    fault = body.get("fault")
    if isinstance(fault, dict):
        return _first_text(fault, "faultstring")
    error = body.get("error")
    if isinstance(error, dict):  # KPN: {"error": {"name", "message", "status", ...}}
        return _first_text(error, "message", "name", "status")
    if isinstance(error, str):  # OAuth: {"error": "...", "error_description": "..."}
        return _first_text(body, "error_description", "error")
    return (
        _first_text(body, "Error", "ErrorCode")  # Apigee's token endpoint
        or provider_label(body)
        or _first_text(body, "detail", "title", "message")  # problem details (RFC 7807)
    )


def describe_body(response: requests.Response, body: Any) -> str:
    """What the answer itself says, in one line of plain words ("" when it says nothing a
    person could use: an HTML page, an empty body, a bare code)."""
    if isinstance(body, dict):
        text = _envelope_text(body)
        if not text:
            text = "; ".join(f"{name}: {words}" for name, words in field_errors(body).items())
    elif body is None and "html" not in response.headers.get("Content-Type", "").lower():
        text = response.text if len(response.text) <= 4 * _LONGEST_QUOTE else ""
    else:
        text = ""
    text = " ".join(text.split())
    if len(text) > _LONGEST_QUOTE:
        text = text[: _LONGEST_QUOTE - 1].rstrip() + "…"
    return text


def sentence(text: str) -> str:
    """`text` ending in exactly one full stop (or its own ! or ?)."""
    text = text.strip()
    if not text:
        return ""
    return text if text[-1] in ".!?…" else text + "."
