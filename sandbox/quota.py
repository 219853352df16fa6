"""The gateway's quota: fixed windows per client, reported in headers on every response.

"generous" lets a client make 100,000 calls a minute. "strict" imitates the upstream limits:
3 calls a second per client for the whole API, and 1 a second for `GET /account/numbers`.
Token calls have their own bucket, so fetching a token never eats into the API's allowance.
Windows are aligned to whole epoch seconds (or minutes), like a gateway's fixed windows.
"""

import math
import threading
from dataclasses import dataclass

TOKEN_OPERATION = "POST /oauth/client_credential/accesstoken"  # noqa: S105 - not a secret
LIST_OPERATION = "GET /account/numbers"


@dataclass(frozen=True)
class Rule:
    bucket: str
    limit: int
    interval: int
    unit: str  # "second" or "minute"

    @property
    def seconds(self) -> int:
        return self.interval * (60 if self.unit == "minute" else 1)


_GENEROUS = {"api": Rule("api", 100_000, 1, "minute"), "token": Rule("token", 100_000, 1, "minute")}
_STRICT = {"api": Rule("api", 3, 1, "second"), "token": Rule("token", 3, 1, "second")}
_STRICT_LIST = Rule("list", 1, 1, "second")


def rules_for(mode: str, operation: str) -> tuple[Rule, ...]:
    table = _STRICT if mode == "strict" else _GENEROUS
    if operation == TOKEN_OPERATION:
        return (table["token"],)
    if mode == "strict" and operation == LIST_OPERATION:
        return (_STRICT_LIST, table["api"])
    return (table["api"],)


@dataclass(frozen=True)
class Verdict:
    """Whether a call may go ahead, described by the tightest window that applies to it."""

    allowed: bool
    rule: Rule
    used: int
    window_end: float  # epoch seconds
    now: float

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

    def take(self, client: str, operation: str, now: float) -> Verdict:
        """Count one call if every window has room left; a refused call counts nowhere."""
        rules = rules_for(self.mode, operation)
        with self._lock:
            state = [(rule, *self._window(client, rule, now)) for rule in rules]
            full = [(rule, start, used) for rule, start, used in state if used >= rule.limit]
            if full:
                rule, start, used = full[0]
                return Verdict(False, rule, used, start + rule.seconds, now)
            for rule, start, used in state:
                self._windows[(client, rule.bucket)] = (start, used + 1)
            counted = [(rule, start, used + 1) for rule, start, used in state]
        return self._tightest(counted, now)

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
