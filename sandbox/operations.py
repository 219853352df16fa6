"""The five Phone Numbers API operations: parameters in, provider-shaped answers out.

Each operation runs after the gateway (auth, quota, faults) let the call through, and
receives the simulator, the request and the calling client's id.
"""

import phonenumbers
from django.http import HttpRequest, HttpResponse, QueryDict

from . import params, responses
from .catalogue import LANDLINE
from .state import OwnedFilter, OwnedNumber

UPDATABLE = (
    "moHttpUrl",
    "moSmppSysType",
    "voiceCallbackType",
    "voiceCallbackValue",
    "voiceStatusCallback",
    "app_id",
)
URL_FIELDS = ("moHttpUrl", "voiceStatusCallback")
VOICE_TYPES = ("sip", "tel", "app")
# The provider GETs a new callback URL and wants a 200; hosts under this reserved TLD never
# answer, which is how tests make that check fail.
UNREACHABLE_SUFFIX = ".invalid"


def list_owned(sim, request: HttpRequest, client: str) -> HttpResponse:
    reader = params.Reader(request.GET)
    offset, size = reader.page()
    where = OwnedFilter(
        pattern=reader.pattern(),
        country=reader.country(required=False),
        has_application=reader.boolean("has_application"),
        application_id=reader.text("application_id"),
    )
    if reader.errors:
        return responses.field_errors(reader.errors)
    total, page = sim.store.owned_page(where, offset=offset, limit=size)
    return responses.api_json(number_list(total, [number.as_api() for number in page]))


def search(sim, request: HttpRequest, client: str) -> HttpResponse:
    reader = params.Reader(request.GET)
    country = reader.country()
    number_type = reader.number_type() or LANDLINE  # KPN documents landline as the default
    features = reader.features()
    pattern = reader.pattern()
    offset, size = reader.page()
    if reader.errors:
        return responses.field_errors(reader.errors)
    assert country is not None  # else the reader recorded an error
    listings = sim.catalogue.listings(country, number_type)
    owned = _owned_near(sim, country, number_type) if listings else set()
    matches = [
        listing
        for listing in listings
        if listing.msisdn not in owned
        and features.issubset(listing.features)
        and (pattern is None or pattern.matches(listing.msisdn))
    ]
    page = [sim.priced(listing).as_api() for listing in matches[offset : offset + size]]
    return responses.api_json(number_list(len(matches), page))


def buy(sim, request: HttpRequest, client: str) -> HttpResponse:
    country, msisdn, errors = _country_and_msisdn(request.POST)
    if errors:
        return responses.field_errors(errors)
    # Not on sale, on sale in another country, or owned already: the provider says only this.
    listing = sim.catalogue.lookup(country, msisdn)
    if listing is None:
        return responses.method_failed()
    number = OwnedNumber(
        country=country,
        msisdn=msisdn,
        type=listing.type,
        features=listing.features,
        limitations=listing.limitations,
    )
    if not sim.store.buy(number):
        return responses.method_failed()
    return responses.success()


def cancel(sim, request: HttpRequest, client: str) -> HttpResponse:
    country, msisdn, errors = _country_and_msisdn(request.POST)
    if errors:
        return responses.field_errors(errors)
    if not sim.store.cancel(msisdn, country):
        return responses.method_failed()
    return responses.success()


def update(sim, request: HttpRequest, client: str) -> HttpResponse:
    country, msisdn, errors = _country_and_msisdn(request.POST)
    changes = {name: request.POST[name] for name in UPDATABLE if name in request.POST}
    errors.update(_change_problems(changes))
    if errors:
        return responses.field_errors(errors)
    number = sim.store.owned(msisdn)
    if number is None or number.country != country:
        return responses.method_failed()
    for name in URL_FIELDS:
        if _unreachable(changes.get(name)):
            return responses.method_failed(
                f"{name} did not answer the provider's check with 200 OK"
            )
    if not sim.store.configure(msisdn, changes):
        return responses.method_failed()  # cancelled in the meantime
    return responses.success()


def pretend_success(sim, request: HttpRequest, client: str) -> HttpResponse:
    """The answer of a change the provider acknowledges and then loses ("ignore" fault)."""
    return responses.success()


def number_list(total: int, page: list[dict]) -> dict:
    """The list shape: `numbers` is left out altogether when the page is empty."""
    return {"count": total, "numbers": page} if page else {"count": total}


def _owned_near(sim, country: str, number_type: str) -> set[str]:
    """Owned numbers that could be in this part of the catalogue (same calling code and type)."""
    calling_code = str(phonenumbers.country_code_for_region(country))
    return sim.store.owned_msisdns(number_type, calling_code)


def _country_and_msisdn(form: QueryDict) -> tuple[str, str, dict[str, str]]:
    reader = params.Reader(form)
    country, msisdn = reader.country(), reader.msisdn()
    return country or "", msisdn or "", reader.errors  # empty only with an error recorded


def _change_problems(changes: dict[str, str]) -> dict[str, str]:
    problems = {}
    for name in URL_FIELDS:
        if changes.get(name):
            problem = params.url_problem(changes[name])
            if problem:
                problems[name] = problem
    if changes.get("app_id") and not params.is_uuid(changes["app_id"]):
        problems["app_id"] = "Must be an application id (a UUID)."
    problems.update(_voice_problems(changes))
    return problems


def _voice_problems(changes: dict[str, str]) -> dict[str, str]:
    """The voice callback type and value travel together; "" for both clears them."""
    has_kind, has_value = "voiceCallbackType" in changes, "voiceCallbackValue" in changes
    if has_value and not has_kind:
        return {"voiceCallbackType": "Is required with voiceCallbackValue."}
    if has_kind and not has_value:
        return {"voiceCallbackValue": "Is required with voiceCallbackType."}
    kind, value = changes.get("voiceCallbackType"), changes.get("voiceCallbackValue")
    if not kind and not value:  # both absent, or both empty to clear them
        return {}
    if not kind:
        return {"voiceCallbackType": "Must not be empty when voiceCallbackValue is set."}
    if not value:
        return {"voiceCallbackValue": "Must not be empty when voiceCallbackType is set."}
    if kind not in VOICE_TYPES:
        return {"voiceCallbackType": f"Must be one of {', '.join(VOICE_TYPES)}."}
    problem = params.voice_callback_problem(kind, value)
    return {"voiceCallbackValue": problem} if problem else {}


def _unreachable(url: str | None) -> bool:
    if not url:
        return False
    host = (params.hostname(url) or "").rstrip(".").lower()
    return host == UNREACHABLE_SUFFIX[1:] or host.endswith(UNREACHABLE_SUFFIX)
