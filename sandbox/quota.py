"""The gateway's quota: fixed windows per client, reported in headers on every response, and
(in the strict mode) a spike arrest behind it.

Windows are counted in the units KPN documents for `quota-time-unit` (minute, hour, day,
week, month) and aligned to whole epoch minutes, like a gateway's fixed windows.

"generous" lets a client make 100,000 calls a minute. "strict" imitates the upstream limits
as an Apigee gateway enforces them: a quota of 180 calls a minute per client for the whole
API (60 a minute for `GET /account/numbers`), and a spike arrest that smooths those rates to
one call per slot, per client and operation: `GET /account/numbers` at most once a second,
any other operation at most three times a second. A call that comes too soon after the
previous one of its kind gets Apigee's spike-arrest fault (429, no Retry-After) and counts
nowhere. Token calls have their own bucket and no spike arrest, so fetching a token never
eats into the API's allowance.
"""

import math
import threading
from dataclasses import dataclass

TOKEN_OPERATION = "POST /oauth/client_credential/accesstoken"  # noqa: S105 - not a secret
LIST_OPERATION = "GET /account/numbers"
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


@dataclass(frozen=True)
class Rule:
    bucket: str
    limit: int
    interval: int
    unit: str  # one of UNIT_SECONDS

    @property
    def seconds(self) -> int:
        return self.interval * UNIT_SECONDS[self.unit]


_GENEROUS = {"api": Rule("api", 100_000, 1, "minute"), "token": Rule("token", 100_000, 1, "minute")}
_STRICT = {"api": Rule("api", 180, 1, "minute"), "token": Rule("token", 180, 1, "minute")}
_STRICT_LIST = Rule("list", 60, 1, "minute")
# Calls a second the strict spike arrest allows, per client and operation.
_SPIKE_RATES = {LIST_OPERATION: 1.0}
_SPIKE_RATE = 3.0


def rules_for(mode: str, operation: str) -> tuple[Rule, ...]:
    table = _STRICT if mode == "strict" else _GENEROUS
    if operation == TOKEN_OPERATION:
        return (table["token"],)
    if mode == "strict" and operation == LIST_OPERATION:
        return (_STRICT_LIST, table["api"])
    return (table["api"],)


def spike_rate(mode: str, operation: str) -> float | None:
    """Calls a second the spike arrest allows for this operation; None: no spike arrest."""
    if mode != "strict" or operation == TOKEN_OPERATION:
        return None
    return _SPIKE_RATES.get(operation, _SPIKE_RATE)


@dataclass(frozen=True)
class Verdict:
    """Whether a call may go ahead, described by the tightest window that applies to it.
    `spike_rate` is set when the spike arrest refused it (a rate per second)."""

    allowed: bool
    rule: Rule
    used: int
    window_end: float  # epoch seconds
    now: float
    spike_rate: float | None = None

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.window_end - self.now))

    def headers(self) -> dict[str, str]:
        return {
            "quota-limit": str(self.rule.limit),
            "quota-used": str(self.used),
            "quota-interval": str(self.rule.interval),
            "quota-time-unit": self.rule.unit,
            "quota-reset-UTC": str(round(self.window_end * 1000)),
        }


class QuotaBook:
    def __init__(self, mode: str):
        self.mode = mode
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}  # -> (start, used)
        self._last_allowed: dict[tuple[str, str], float] = {}  # (client, operation) -> when

    def take(self, client: str, operation: str, now: float) -> Verdict:
        """Count one call if the spike arrest lets it through and every window has room
        left; a refused call counts nowhere."""
        rules = rules_for(self.mode, operation)
        rate = spike_rate(self.mode, operation)
        with self._lock:
            state = [(rule, *self._window(client, rule, now)) for rule in rules]
            last = self._last_allowed.get((client, operation))
            if rate is not None and last is not None and now - last < 1 / rate:
                refused = self._tightest(state, now)
                return Verdict(False, refused.rule, refused.used, refused.window_end, now, rate)
            full = [(rule, start, used) for rule, start, used in state if used >= rule.limit]
            if full:
                rule, start, used = full[0]
                return Verdict(False, rule, used, start + rule.seconds, now)
            for rule, start, used in state:
                self._windows[(client, rule.bucket)] = (start, used + 1)
            if rate is not None:
                self._last_allowed[(client, operation)] = now
            counted = [(rule, start, used + 1) for rule, start, used in state]
        return self._tightest(counted, now)

    def spend(self, client: str, bucket: str, calls: int, now: float) -> int:
        """Count `calls` more against the client's current window of `bucket` ("api",
        "list", "token"), as other users of the same app would; returns the window's count."""
        rules = {rule.bucket: rule for rule in rules_for(self.mode, LIST_OPERATION)}
        rules.update(token=rules_for(self.mode, TOKEN_OPERATION)[0])
        rule = rules.get(bucket)
        if rule is None:  # no such window in this mode: nothing to spend
            return 0
        with self._lock:
            start, used = self._window(client, rule, now)
            self._windows[(client, rule.bucket)] = (start, used + calls)
        return used + calls

    def peek(self, client: str, operation: str, now: float) -> Verdict:
        """The current windows of a call that is refused before the quota is consulted."""
        rules = rules_for(self.mode, operation)
        with self._lock:
            state = [(rule, *self._window(client, rule, now)) for rule in rules]
        return self._tightest(state, now)

    def _window(self, client: str, rule: Rule, now: float) -> tuple[float, int]:
        start = math.floor(now / rule.seconds) * rule.seconds
        stored_start, used = self._windows.get((client, rule.bucket), (start, 0))
        return (start, used) if stored_start == start else (start, 0)

    @staticmethod
    def _tightest(state: list[tuple[Rule, float, int]], now: float) -> Verdict:
        # Fewest calls left first; on a tie, the smaller limit is the one to describe.
        rule, start, used = min(state, key=lambda item: (item[0].limit - item[2], item[0].limit))
        return Verdict(True, rule, used, start + rule.seconds, now)
