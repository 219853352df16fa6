"""The simulated API gateway every API and token call passes through.

In order: count the call, add the configured latency, identify the client (a 401 here costs
no quota), take quota (429 past it), check the method, then run the operation, unless a
queued fault fires instead. Every answer leaves with the gateway's headers.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

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
    client, refusal = operation.identify(sim, request, now)
    if refusal is not None:
        return _dress(refusal, sim.quota.peek(client, key, now))
    verdict = sim.quota.take(client, key, now)
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


def _inject(fault: Fault, act: Callable, pretend: Callable) -> HttpResponse:
    """What the fault makes of the call. `after_effect` runs the operation first, for real."""
    if fault.kind == "delay":
        time.sleep(fault.seconds)
        return act()
    if fault.kind == "throttle":
        return responses.throttled(max(1, math.ceil(fault.seconds)))
    if fault.kind == "ignore":
        return pretend()
    if fault.after_effect:
        act()
    if fault.kind == "error":
        return responses.provider_error_page(fault.status)
    if fault.kind == "malformed":
        return responses.garbled()
    if fault.kind == "timeout":
        time.sleep(fault.seconds)
        return responses.DroppedConnection("close")
    return responses.DroppedConnection("reset")


def _dress(response: HttpResponse, verdict: Verdict) -> HttpResponse:
    for name, value in {**verdict.headers(), **_STANDARD_HEADERS}.items():
        response[name] = value
    return response


def _outcome(response: HttpResponse) -> str:
    """The status the client saw, or what happened instead of an answer."""
    if isinstance(response, responses.DroppedConnection):
        return "timeout" if response.action == "close" else "reset"
    return str(response.status_code)
