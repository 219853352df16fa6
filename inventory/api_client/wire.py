"""The wire format stops here: bodies, headers and transport errors read into results."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from inventory.api_client.errors import ApiBadResponse
from inventory.api_client.results import AvailableNumber, OwnedNumber, Page, Quota, T


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
        limit=int_or_none(headers.get("quota-limit")),
        used=int_or_none(headers.get("quota-used")),
        interval=int_or_none(headers.get("quota-interval")),
        time_unit=headers.get("quota-time-unit", ""),
        reset_at=_reset_time(headers.get("quota-reset-UTC")),
        seen_at=datetime.now(tz=UTC),
    )


def retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    if value.isdigit():
        return float(value)
    reset = _reset_time(value)
    return max((reset - datetime.now(tz=UTC)).total_seconds(), 0) if reset else None


def json_of(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def is_gateway_auth_fault(response: requests.Response) -> bool:
    return response.status_code == 401


def never_arrived(error: requests.RequestException) -> bool:
    """True only when the request cannot have reached the API."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        return isinstance(reason, NewConnectionError)
    return False
