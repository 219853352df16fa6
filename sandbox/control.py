"""The control surface under /_sandbox/: inspect and steer the simulation.

No auth, no quota, not counted: these endpoints stand outside the simulated API, for tests,
demos and benchmarks.
"""

import functools
import json
import time

from django.http import HttpRequest, JsonResponse

from . import catalogue, openapi, params
from .faults import fault_problems
from .options import option_problems
from .params import FEATURES
from .simulator import ENVIRON_KEY, starters
from .state import CONFIG_FIELDS, OwnedFilter, OwnedNumber


class BadRequest(Exception):
    """A control request that cannot be carried out; `errors` is keyed by field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def _control(*methods: str):
    """A control view taking (request, simulator): other methods get a 405, and a
    BadRequest raised by the view becomes a 400 with its field errors. (Django's own
    require_http_methods would log a warning for every 405.)"""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request: HttpRequest) -> JsonResponse:
            if request.method not in methods:
                response = JsonResponse({"error": f"Use {', '.join(methods)}."}, status=405)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, request.META[ENVIRON_KEY])
            except BadRequest as problem:
                return JsonResponse(problem.errors, status=400)

        return wrapper

    return decorate


@_control("GET")
def state(request: HttpRequest, sim) -> JsonResponse:
    """Owned numbers (all, one, or none with ?numbers=0), counters, faults and options."""
    calls, outcomes = sim.store.counters()
    body: dict = {"owned_count": sim.store.owned_count()}
    msisdn = request.GET.get("msisdn")
    if msisdn:
        number = sim.store.owned(msisdn)
        body["owned"] = [number.as_api(write_only=True)] if number else []
    elif request.GET.get("numbers") != "0":
        _, every = sim.store.owned_page(OwnedFilter(), offset=0, limit=-1)
        body["owned"] = [number.as_api(write_only=True) for number in every]
    body.update(
        calls=calls, responses=outcomes, faults=sim.faults.pending(), options=sim.options.public()
    )
    return JsonResponse(body)


@_control("GET", "POST", "DELETE")
def faults(request: HttpRequest, sim) -> JsonResponse:
    if request.method == "DELETE":
        sim.faults.clear()
        return JsonResponse({"faults": []})
    if request.method == "GET":
        return JsonResponse({"faults": sim.faults.pending()})
    spec = _json_body(request)
    problems = fault_problems(spec)
    if problems:
        raise BadRequest(problems)
    return JsonResponse(sim.faults.add(spec).as_dict(), status=201)


@_control("POST")
def reset(request: HttpRequest, sim) -> JsonResponse:
    """Start over; options in the body override the server's until the next reset."""
    overrides = _json_body(request)
    problems = option_problems(overrides)
    if problems:
        raise BadRequest(problems)
    sim.reset(overrides)
    return JsonResponse({"owned_count": sim.store.owned_count(), "options": sim.options.public()})


@_control("POST")
def owned(request: HttpRequest, sim) -> JsonResponse:
    """Change the account behind the portal's back, as another tool would."""
    body = _json_body(request)
    unknown = set(body) - {"add", "add_random", "remove", "change"}
    if unknown:
        raise BadRequest(dict.fromkeys(unknown, "Unknown field."))
    additions = [_number_from(item) for item in _list(body, "add")]
    extra = body.get("add_random", 0)
    if not isinstance(extra, int) or isinstance(extra, bool) or extra < 0:
        raise BadRequest({"add_random": "Must be a whole number."})
    removals = [_msisdn_from(item, "remove") for item in _list(body, "remove")]
    changes = [_change_from(item, sim) for item in _list(body, "change")]

    added = sim.store.add(additions, replace=True)
    added += _add_random(sim, extra)
    removed = sim.store.remove(removals)
    changed = sum(sim.store.configure(msisdn, fields) for msisdn, fields in changes)
    counts = {"added": added, "removed": removed, "changed": changed}
    return JsonResponse({**counts, "owned_count": sim.store.owned_count()})


@_control("POST")
def prices(request: HttpRequest, sim) -> JsonResponse:
    """Change what a number on sale costs, as the provider may between two searches:
    {"country": "GB", "msisdn": "...", "cost": "2.50", "initial_price": "0.00"}."""
    body = _json_body(request)
    unknown = set(body) - {"country", "msisdn", "cost", "initial_price"}
    problems = dict.fromkeys(unknown, "Unknown field.")
    for name in ("cost", "initial_price"):
        value = body.get(name)
        if not isinstance(value, str) or not params.DECIMAL.fullmatch(value):
            problems[name] = 'Must be a decimal string such as "1.25".'
    msisdn = _msisdn_from(body.get("msisdn"), "msisdn")
    country = body.get("country")
    if not isinstance(country, str) or sim.catalogue.lookup(country, msisdn) is None:
        problems["msisdn"] = "Not on sale in that country."
    if problems:
        raise BadRequest(problems)
    sim.prices[msisdn] = (body["cost"], body["initial_price"])
    return JsonResponse(
        {"msisdn": msisdn, "cost": body["cost"], "initialPrice": body["initial_price"]}
    )


@_control("POST")
def quota(request: HttpRequest, sim) -> JsonResponse:
    """Spend part of the portal's current quota window, as another user of the same app
    would: {"bucket": "api", "calls": 150} (buckets: "api", "list" in the strict mode,
    "token")."""
    body = _json_body(request)
    problems = dict.fromkeys(set(body) - {"bucket", "calls"}, "Unknown field.")
    if body.get("bucket") not in ("api", "list", "token"):
        problems["bucket"] = 'Must be "api", "list" or "token".'
    calls = body.get("calls")
    if not isinstance(calls, int) or isinstance(calls, bool) or calls < 0:
        problems["calls"] = "Must be a whole number."
    if problems:
        raise BadRequest(problems)
    used = sim.quota.spend(sim.options.client_id, body["bucket"], calls, time.time())
    return JsonResponse({"bucket": body["bucket"], "used": used})


@_control("GET")
def openapi_description(request: HttpRequest, sim) -> JsonResponse:
    """What the sandbox claims to answer, for tools that check it (schemathesis)."""
    return JsonResponse(openapi.description())


@_control("POST")
def expire_tokens(request: HttpRequest, sim) -> JsonResponse:
    return JsonResponse({"expired": sim.store.expire_tokens(time.time())})


def not_found(request: HttpRequest, exception=None) -> JsonResponse:
    return JsonResponse({"error": f"Nothing at {request.path}."}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"error": "The sandbox failed; see its log."}, status=500)


def _json_body(request: HttpRequest) -> dict:
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise BadRequest({"body": "Must be a JSON object."})
    return body


def _list(body: dict, name: str) -> list:
    value = body.get(name, [])
    if not isinstance(value, list):
        raise BadRequest({name: "Must be a list."})
    return value


def _msisdn_from(value, field: str) -> str:
    if not isinstance(value, str) or not params.MSISDN.fullmatch(value):
        raise BadRequest({field: f"Not an msisdn: {value!r}."})
    return value


def _number_from(item) -> OwnedNumber:
    """An owned number from {"country", "msisdn", "type", "features", config fields...}."""
    if not isinstance(item, dict):
        raise BadRequest({"add": "Each item must be an object."})
    known = {"country", "msisdn", "type", "features", "limitations", "cost", *CONFIG_FIELDS}
    unknown = set(item) - known
    country, number_type = item.get("country"), item.get("type")
    features = item.get("features", ["VOICE"])
    problems = {f"add.{name}": "Unknown field." for name in unknown}
    if not isinstance(country, str) or not params.COUNTRY.fullmatch(country):
        problems["add.country"] = "Must be an ISO 3166-1 alpha-2 code in upper case."
    if number_type not in catalogue.NUMBER_TYPES:
        problems["add.type"] = f"Must be one of {', '.join(catalogue.NUMBER_TYPES)}."
    if not isinstance(features, list) or not set(features) <= set(FEATURES):
        problems["add.features"] = f"Must be a list drawn from {', '.join(FEATURES)}."
    limitations = _limitations_from(item.get("limitations", []), problems)
    cost = item.get("cost", "")
    if not isinstance(cost, str) or (cost and not params.DECIMAL.fullmatch(cost)):
        problems["add.cost"] = 'Must be a decimal string such as "1.25".'
    config = _config_from(item, "add")
    if problems:
        raise BadRequest(problems)
    assert isinstance(country, str)  # checked above
    assert isinstance(number_type, str)
    msisdn = _msisdn_from(item.get("msisdn"), "add.msisdn")
    return OwnedNumber(
        country, msisdn, number_type, tuple(features), config, limitations=limitations, cost=cost
    )


def _limitations_from(value, problems: dict) -> tuple[tuple[str, str, str], ...]:
    """[{"feature": "SMS", "type": "OUTBOUND", "reach": "INTERNATIONAL"}, ...]"""
    words = ("feature", "type", "reach")
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and set(item) == set(words) for item in value
    ):
        problems["add.limitations"] = "Must be a list of {feature, type, reach} objects."
        return ()
    return tuple((str(item["feature"]), str(item["type"]), str(item["reach"])) for item in value)


def _change_from(item, sim) -> tuple[str, dict[str, str | None]]:
    if not isinstance(item, dict):
        raise BadRequest({"change": "Each item must be an object."})
    msisdn = _msisdn_from(item.get("msisdn"), "change.msisdn")
    unknown = set(item) - {"msisdn", *CONFIG_FIELDS}
    if unknown:
        raise BadRequest({f"change.{name}": "Unknown field." for name in unknown})
    if sim.store.owned(msisdn) is None:
        raise BadRequest({"change.msisdn": f"The account does not own {msisdn}."})
    fields = {name: item[name] or None for name in CONFIG_FIELDS if name in item}
    if not all(value is None or isinstance(value, str) for value in fields.values()):
        raise BadRequest({"change": "Configuration values must be strings, or null to clear."})
    return msisdn, fields


def _config_from(item: dict, field: str) -> dict[str, str]:
    config = {name: item[name] for name in CONFIG_FIELDS if item.get(name)}
    if not all(isinstance(value, str) for value in config.values()):
        raise BadRequest({field: "Configuration values must be strings."})
    return config


def _add_random(sim, count: int) -> int:
    if not count:
        return 0
    owned = sim.store.msisdns()
    # A label of its own per batch, so the next batch draws different numbers.
    fresh = starters(sim.options.seed, count, label=f"extra:{len(owned)}", avoid=owned)
    return sim.store.add(fresh)
