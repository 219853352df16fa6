"""What the client returns: frozen dataclasses built at the boundary, never dicts or
responses; and its configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.conf import settings

T = TypeVar("T")

_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


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

    @property
    def window_seconds(self) -> int | None:
        seconds = _UNIT_SECONDS.get(self.time_unit.strip().lower().rstrip("s"))
        return self.interval * seconds if seconds and self.interval else None

    @property
    def spacing(self) -> float:
        return spacing_for(self.limit, self.window_seconds)


def spacing_for(limit: int | None, window_seconds: int | None) -> float:
    """Seconds to leave between two calls counted by a window so as to spread its allowance
    evenly: an Apigee gateway puts a spike arrest of the same rate behind a per-minute quota,
    smoothing it to one call per slot. Only for windows of a minute or less (spreading a
    daily quota would stall the portal) and rates under 20 a second."""
    if not window_seconds or window_seconds > 60 or not limit:
        return 0.0
    spacing = window_seconds / limit
    return spacing if spacing >= 0.05 else 0.0


@dataclass(frozen=True)
class Limitation:
    """A restriction on one feature of a number: `direction` is INBOUND or OUTBOUND (the
    API calls it `type`), `reach` DOMESTIC or INTERNATIONAL (either may be empty when the
    API leaves it out)."""

    feature: str
    direction: str = ""
    reach: str = ""

    def as_api(self) -> dict[str, str]:
        """The API's own shape, for the cache's JSON column."""
        shape = {"feature": self.feature, "type": self.direction, "reach": self.reach}
        return {name: value for name, value in shape.items() if value}


@dataclass(frozen=True)
class AvailableNumber:
    country: str
    msisdn: str
    type: str
    features: tuple[str, ...]
    cost: Decimal | None
    initial_price: Decimal | None
    limitations: tuple[Limitation, ...] = ()

    def as_plain(self) -> dict[str, Any]:
        """JSON-safe, for signed forms and task arguments (money as decimal strings)."""
        return {
            "country": self.country,
            "msisdn": self.msisdn,
            "type": self.type,
            "features": list(self.features),
            "cost": None if self.cost is None else str(self.cost),
            "initial_price": None if self.initial_price is None else str(self.initial_price),
            "limitations": [limitation.as_api() for limitation in self.limitations],
        }

    @classmethod
    def from_plain(cls, fields: Mapping[str, Any]) -> AvailableNumber:
        return cls(
            country=fields["country"],
            msisdn=fields["msisdn"],
            type=fields["type"],
            features=tuple(fields.get("features", ())),
            cost=Decimal(fields["cost"]) if fields.get("cost") else None,
            initial_price=Decimal(fields["initial_price"]) if fields.get("initial_price") else None,
            limitations=tuple(
                Limitation(
                    feature=item["feature"],
                    direction=item.get("type", ""),
                    reach=item.get("reach", ""),
                )
                for item in fields.get("limitations", ())
            ),
        )


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
    messages_callback_type: str = ""
    messages_callback_value: str = ""
    limitations: tuple[Limitation, ...] = ()
    cost: Decimal | None = None  # the monthly rent, when the owned list shows it
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class Page(Generic[T]):
    count: int
    index: int
    size: int
    items: tuple[T, ...]
    # Records of this page the portal could not read, each named for people ("the record
    # for 447700900001", "the 3rd record"): left out of `items`.
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True)
class Confirmation:
    """The API's answer to a successful buy, cancel or update."""

    code: str
    label: str
    http_status: int
    duration_ms: int
    # True when the client sent the request more than once (after a token refresh or a
    # throttling answer); only the last copy's answer is this one.
    resent: bool = False


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
