"""Faults injected on demand: the trouble a real provider and network can cause.

A fault names an operation ("POST /number/buy", or "*" for any) and a kind. Queued faults
are consulted in order; the first that matches fires and uses up one of its `count`. A fault
with `skip` lets that many matching calls through untouched first ("page 3 fails"). A fault
with a `rate` fires on that fraction of matching calls (rolled with a seeded generator).
"""

import random
import threading
from dataclasses import asdict, dataclass

KINDS = (
    "delay",
    "timeout",
    "reset",
    "error",
    "throttle",
    "malformed",
    "ignore",
    # The gateway's and KPN's own refusals, and the provider's odder answers:
    "quota",  # Apigee's quota fault, without Retry-After (status 429, or 500 as Apigee's default)
    "spike_arrest",  # Apigee's spike-arrest fault (429 or 500), without Retry-After
    "not_subscribed",  # 401: the app has no API product for this path
    "forbidden",  # 403 in KPN's envelope: the project is not entitled to the product
    "kpn_error",  # KPN's error envelope at `status`, its message in `label`
    "invalid_client",  # refused client credentials: an Apigee fault, or OAuth's shape (`shape`)
    "provider_code",  # the provider's {"error-code": code, "error-code-label": label} at `status`
    "empty_list",  # a list answer with nothing in it, in the `shape` asked for
    "broken_record",  # the real list answer with `drop` removed from its first record
)
# Kinds that answer in place of the call: with `after_effect` the call is carried out first.
AFTER_EFFECT_KINDS = frozenset(KINDS) - {"delay", "ignore", "empty_list", "broken_record"}
# Seconds: how long `delay` waits, how long `timeout` holds the line, and the Retry-After
# a `throttle` announces, when the fault does not say.
DEFAULT_DELAY = {"delay": 1.0, "timeout": 30.0, "throttle": 1.0}
DEFAULT_STATUS = {
    "quota": 429,
    "spike_arrest": 429,
    "not_subscribed": 401,
    "forbidden": 403,
    "invalid_client": 401,
    "provider_code": 200,
}
EMPTY_SHAPES = ("bare", "count", "numbers", "count_and_numbers")
CLIENT_SHAPES = ("fault", "oauth")  # invalid_client: Apigee's fault, or RFC 6749's error
ANY_OPERATION = "*"


@dataclass
class Fault:
    id: int
    operation: str
    kind: str
    status: int = 500
    delay: float | None = None
    after_effect: bool = False
    count: int | None = 1  # firings left; None means unlimited (a `rate` fault without count)
    rate: float | None = None
    skip: int = 0  # matching calls still to let through before firing
    code: str = "420"  # provider_code: the error-code to send
    label: str = ""  # provider_code: its label; kpn_error: the envelope's message
    shape: str = ""  # empty_list: one of EMPTY_SHAPES ("bare"); invalid_client: CLIENT_SHAPES
    drop: tuple[str, ...] = ("type", "features")  # broken_record: the fields to leave out

    @property
    def seconds(self) -> float:
        return self.delay if self.delay is not None else DEFAULT_DELAY.get(self.kind, 0.0)

    def as_dict(self) -> dict:
        return asdict(self)


def fault_problems(spec: dict) -> dict[str, str]:
    """Field-keyed complaints about a fault specification (empty when it is fine)."""
    problems = {}
    operation = spec.get("operation")
    if not isinstance(operation, str) or not (operation == ANY_OPERATION or " /" in operation):
        problems["operation"] = 'Must look like "POST /number/buy", or be "*".'
    if spec.get("kind") not in KINDS:
        problems["kind"] = f"Must be one of {', '.join(KINDS)}."
    checks = {
        "status": lambda v: _is_int(v) and 100 <= v <= 599,
        "delay": lambda v: _is_number(v) and v >= 0,
        "after_effect": lambda v: isinstance(v, bool),
        "count": lambda v: _is_int(v) and v >= 1,
        "rate": lambda v: _is_number(v) and 0 < v <= 1,
        "skip": lambda v: _is_int(v) and v >= 0,
        "code": lambda v: isinstance(v, str) and v.isdigit() and len(v) <= 4,
        "label": lambda v: isinstance(v, str) and len(v) <= 500,
        "shape": lambda v: v in _shapes_of(spec.get("kind")),
        "drop": lambda v: isinstance(v, list) and all(isinstance(n, str) for n in v),
    }
    for name, valid in checks.items():
        if name in spec and not valid(spec[name]):
            problems[name] = "Invalid value."
    unknown = set(spec) - set(checks) - {"operation", "kind"}
    problems.update(dict.fromkeys(unknown, "Unknown field."))
    return problems


def _shapes_of(kind) -> tuple[str, ...]:
    return CLIENT_SHAPES if kind == "invalid_client" else EMPTY_SHAPES


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class FaultBook:
    def __init__(self, seed: int):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1
        self._dice = random.Random(f"faults:{seed}")

    def add(self, spec: dict) -> Fault:
        """Queue a fault from a specification that `fault_problems` found valid."""
        count = spec.get("count", None if "rate" in spec else 1)
        with self._lock:
            fault = Fault(
                id=self._next_id,
                operation=spec["operation"],
                kind=spec["kind"],
                status=spec.get("status", DEFAULT_STATUS.get(spec["kind"], 500)),
                delay=spec.get("delay"),
                after_effect=spec.get("after_effect", False),
                count=count,
                rate=spec.get("rate"),
                skip=spec.get("skip", 0),
                code=spec.get("code", "420"),
                label=spec.get("label", ""),
                shape=spec.get("shape", _shapes_of(spec["kind"])[0]),
                drop=tuple(spec.get("drop", ("type", "features"))),
            )
            self._next_id += 1
            self._faults.append(fault)
        return fault

    def take(self, operation: str) -> Fault | None:
        """The fault that fires for this call, if any, with its count used up by one."""
        with self._lock:
            for fault in self._faults:
                if fault.operation not in (operation, ANY_OPERATION):
                    continue
                if fault.skip:
                    fault.skip -= 1
                    continue
                if fault.rate is not None and self._dice.random() >= fault.rate:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                return fault
        return None

    def pending(self) -> list[dict]:
        with self._lock:
            return [fault.as_dict() for fault in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
