"""The simulated API gateway every API and token call passes through.

In order: count the call, add the configured latency, identify the client (a 401 here costs
no quota), pass the spike arrest and take quota (429 past either), check the method, then
run the operation, unless a queued fault fires instead. Every answer leaves with the
gateway's headers.
"""

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from . import auth, responses
from .faults import Fault
from .quota import Verdict
from .simulator import ENVIRON_KEY

API_BASE = "/communication/nexmo/phone-numbers"
TOKEN_PATH = "/oauth/client_credential/accesstoken"  # noqa: S105 - a path, not a secret

_STANDARD_HEADERS = {
    "sunset": "n/a",
    "api-version": "v1.1.1",
    "strict-transport-security": "max-age=31536000; includeSubDomains; preload",
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "Authorization, Content-Type",
    "access-control-max-age": "3628800",
}

Action = Callable[..., HttpResponse]  # (simulator, request, client id) -> response


@dataclass(frozen=True)
class Operation:
    method: str | None  # None: any method will do
    run: Action
    pretend: Action | None = None  # the answer when an "ignore" fault fires; None: run as usual
    identify: Callable = auth.bearer_client


def operation_key(request: HttpRequest) -> str:
    """How calls are counted and faults addressed: "POST /number/buy" (relative to the API)."""
    path = request.path
    if path.startswith(API_BASE + "/"):
        path = path[len(API_BASE) :]
    return f"{request.method} {path}"


def endpoint(operation: Operation):
    """A Django view serving `operation` behind the gateway."""

    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        sim = request.META[ENVIRON_KEY]
        generation = sim.generation
        key = operation_key(request)
        sim.store.record_call(key)
        sim.pause()
        response = _pass(sim, request, key, operation, generation)
        if sim.generation == generation:
            sim.store.record_outcome(key, _outcome(response))
        return response

    return view


def _pass(
    sim, request: HttpRequest, key: str, operation: Operation, generation: int
) -> HttpResponse:
    now = time.time()
    unreadable = _unreadable_form(request)
    if unreadable is not None:  # refused at the door: nothing to identify, nothing to count
        return _dress(unreadable, sim.quota.peek(auth.ANONYMOUS, key, now))
    client, refusal = operation.identify(sim, request, now)
    if refusal is not None:
        return _dress(refusal, sim.quota.peek(client, key, now))
    verdict = sim.quota.take(client, key, now)
    if not verdict.allowed and verdict.spike_rate is not None:
        return _dress(responses.spike_arrest(429, per_second=verdict.spike_rate), verdict)
    if not verdict.allowed:
        return _dress(responses.throttled(verdict.retry_after), verdict)
    if operation.method and request.method != operation.method:
        return _dress(responses.method_not_allowed(operation.method), verdict)
    fault = sim.faults.take(key)

    def act() -> HttpResponse:
        if sim.generation != generation:  # reset while this call waited: it never happened
            return responses.DroppedConnection("close")
        return operation.run(sim, request, client)

    def pretend() -> HttpResponse:
        return (operation.pretend or operation.run)(sim, request, client)

    return _dress(_inject(fault, act, pretend) if fault else act(), verdict)


def _unreadable_form(request: HttpRequest) -> HttpResponse | None:
    """A 400 for a POST body that cannot be parsed as its Content-Type says (a multipart
    without its boundary, say), a 415 for one in a format the gateway does not take."""
    if request.method != "POST":
        return None
    try:
        request.POST  # noqa: B018 - parsing it is the test
    except (MultiPartParserError, SuspiciousOperation, UnicodeDecodeError, ValueError):
        return responses.unreadable_body(request.content_type or "")
    return None


def _inject(fault: Fault, act: Callable, pretend: Callable) -> HttpResponse:
    """What the fault makes of the call. `after_effect` runs the operation first, for real,
    for every kind that answers in place of the call (a throttle included: a gateway that
    refuses only after the API acted is the worst case a client must survive)."""
    if fault.kind == "delay":
        time.sleep(fault.seconds)
        return act()
    if fault.kind == "ignore":
        return pretend()
    if fault.kind == "empty_list":
        return responses.empty_list(fault.shape)
    if fault.kind == "broken_record":
        return _broken(act(), fault.drop)
    if fault.after_effect:
        act()
    if fault.kind == "timeout":
        time.sleep(fault.seconds)
        return responses.DroppedConnection("close")
    if fault.kind == "reset":
        return responses.DroppedConnection("reset")
    return _ANSWERS[fault.kind](fault)


_ANSWERS: dict[str, Callable[[Fault], HttpResponse]] = {
    "error": lambda fault: responses.provider_error_page(fault.status),
    "malformed": lambda fault: responses.garbled(),
    "throttle": lambda fault: responses.throttled(max(1, math.ceil(fault.seconds))),
    "quota": lambda fault: responses.quota_violation(fault.status),
    "spike_arrest": lambda fault: responses.spike_arrest(fault.status),
    "not_subscribed": lambda fault: responses.not_subscribed(),
    "forbidden": lambda fault: responses.not_entitled(),
    "kpn_error": lambda fault: responses.kpn_error(
        fault.status, fault.label or "The request could not be completed."
    ),
    "invalid_client": lambda fault: responses.invalid_client(fault.status, fault.shape),
    "provider_code": lambda fault: responses.provider_answer(
        fault.status, fault.code, fault.label or "method failed"
    ),
}


def _broken(answer: HttpResponse, drop: tuple[str, ...]) -> HttpResponse:
    """The list answer with some fields left out of its first record."""
    try:
        body = json.loads(answer.content)
    except ValueError:
        return answer
    numbers = body.get("numbers") if isinstance(body, dict) else None
    if not numbers:
        return answer
    numbers[0] = {name: value for name, value in numbers[0].items() if name not in drop}
    return responses.json_answer(body, answer.status_code)


def _dress(response: HttpResponse, verdict: Verdict) -> HttpResponse:
    for name, value in {**verdict.headers(), **_STANDARD_HEADERS}.items():
        response[name] = value
    return response


def _outcome(response: HttpResponse) -> str:
    """The status the client saw, or what happened instead of an answer."""
    if isinstance(response, responses.DroppedConnection):
        return "timeout" if response.action == "close" else "reset"
    return str(response.status_code)
