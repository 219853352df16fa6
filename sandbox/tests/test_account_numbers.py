import re

import pytest

APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
REQUIRED_FIELDS = {"country", "msisdn", "type", "features"}


def own(sandbox, *numbers: dict) -> None:
    sandbox.change_account(add=list(numbers))


def number(msisdn: str, country: str = "GB", **config) -> dict:
    return {
        "country": country,
        "msisdn": msisdn,
        "type": "mobile-lvn",
        "features": ["VOICE", "SMS"],
        **config,
    }


def test_an_empty_account_answers_count_zero_without_a_numbers_key(sandbox):
    assert sandbox.owned_page() == {"count": 0}


def test_an_owned_number_has_only_the_required_fields_until_configured(sandbox):
    own(sandbox, number("447700900001"), number("447700900002"))

    body = sandbox.owned_page()

    assert body["count"] == 2
    for owned in body["numbers"]:
        assert set(owned) == REQUIRED_FIELDS
        assert isinstance(owned["features"], list)
        assert owned["msisdn"].isdigit()


def test_some_starting_numbers_carry_a_messages_webhook_limitations_or_their_rent(sandbox):
    sandbox.reset(owned=40)

    numbers = sandbox.owned_page(size=40)["numbers"]

    routed = [n for n in numbers if "messagesCallbackValue" in n]
    limited = [n for n in numbers if "limitations" in n]
    priced = [n for n in numbers if "cost" in n]
    assert 0 < len(routed) < 40
    assert 0 < len(limited) < 40
    assert 0 < len(priced) < 40
    assert all(n["messagesCallbackType"] == "app" for n in routed)
    assert all(
        set(item) == {"feature", "type", "reach"} for n in limited for item in n["limitations"]
    )
    assert all(re.fullmatch(r"\d+\.\d{2}", n["cost"]) for n in priced)
    assert any(set(n) == REQUIRED_FIELDS for n in numbers)


def test_limitations_and_a_rent_can_be_given_to_an_added_number(sandbox):
    limitation = {"feature": "SMS", "type": "OUTBOUND", "reach": "INTERNATIONAL"}
    own(sandbox, number("447700900001", limitations=[limitation], cost="1.25"))

    [owned] = sandbox.owned_page()["numbers"]

    assert owned["limitations"] == [limitation]
    assert owned["cost"] == "1.25"


def test_configuration_fields_appear_only_when_set(sandbox):
    own(sandbox, number("447700900001", moHttpUrl="https://example.com/mo", app_id=APP_ID))

    [owned] = sandbox.owned_page()["numbers"]

    assert owned == {
        "country": "GB",
        "msisdn": "447700900001",
        "type": "mobile-lvn",
        "features": ["VOICE", "SMS"],
        "moHttpUrl": "https://example.com/mo",
        "app_id": APP_ID,
    }


def test_the_page_size_defaults_to_ten(sandbox):
    sandbox.reset(owned=25)

    body = sandbox.owned_page()

    assert body["count"] == 25
    assert len(body["numbers"]) == 10


def test_the_index_is_one_based(sandbox):
    sandbox.reset(owned=25)
    everything = sandbox.owned_page(size=100)["numbers"]

    first = sandbox.owned_page(index=1, size=5)["numbers"]
    second = sandbox.owned_page(index=2, size=5)["numbers"]

    assert first == everything[:5]
    assert second == everything[5:10]


def test_every_page_of_a_250_number_account_adds_up_to_the_whole_account(sandbox):
    sandbox.reset(owned=250)

    pages = [sandbox.owned_page(index=index, size=100) for index in (1, 2, 3)]

    assert [page["count"] for page in pages] == [250, 250, 250]
    assert [len(page["numbers"]) for page in pages] == [100, 100, 50]
    msisdns = [n["msisdn"] for page in pages for n in page["numbers"]]
    assert len(set(msisdns)) == 250
    assert msisdns == sorted(msisdns)  # a stable order: by msisdn
    assert set(msisdns) == {n["msisdn"] for n in sandbox.owned_numbers()}


def test_a_page_past_the_end_has_the_count_but_no_numbers(sandbox):
    sandbox.reset(owned=5)

    assert sandbox.owned_page(index=2, size=10) == {"count": 5}


def test_starts_with_is_the_default_and_includes_the_country_code(sandbox):
    own(sandbox, number("447700900001"), number("31612345678", "NL"), number("447712345678"))

    body = sandbox.owned_page(pattern="4477")

    assert [n["msisdn"] for n in body["numbers"]] == ["447700900001", "447712345678"]
    assert sandbox.owned_page(pattern="0612") == {"count": 0}


def test_contains_matches_anywhere(sandbox):
    own(sandbox, number("447700900001"), number("31612345678", "NL"), number("447712345678"))

    body = sandbox.owned_page(pattern="12345", search_pattern=1)

    assert {n["msisdn"] for n in body["numbers"]} == {"31612345678", "447712345678"}


def test_ends_with_matches_the_last_digits(sandbox):
    own(sandbox, number("447700900001"), number("31612345678", "NL"), number("447712345678"))

    body = sandbox.owned_page(pattern="5678", search_pattern=2)

    assert body["count"] == 2
    assert sandbox.owned_page(pattern="4477", search_pattern=2) == {"count": 0}


def test_the_count_is_the_total_of_matches_not_the_page(sandbox):
    own(sandbox, *(number(f"4477009000{i:02d}") for i in range(30)))

    body = sandbox.owned_page(pattern="447700", size=7)

    assert body["count"] == 30
    assert len(body["numbers"]) == 7


def test_it_filters_by_country(sandbox):
    own(sandbox, number("447700900001"), number("31612345678", "NL"))

    body = sandbox.owned_page(country="NL")

    assert [n["msisdn"] for n in body["numbers"]] == ["31612345678"]


@pytest.mark.parametrize(
    ("value", "expected"), [("true", 1), ("True", 1), ("FALSE", 1), ("false", 1)]
)
def test_it_filters_by_having_an_application_whatever_the_case(sandbox, value, expected):
    own(sandbox, number("447700900001", app_id=APP_ID), number("447700900002"))

    body = sandbox.owned_page(has_application=value)

    assert body["count"] == expected
    with_app = body["numbers"][0].get("app_id") == APP_ID
    assert with_app == (value.lower() == "true")


def test_it_filters_by_application_id(sandbox):
    other = "bbbbbbbb-bbbb-cccc-dddd-0123456789ab"
    own(sandbox, number("447700900001", app_id=APP_ID), number("447700900002", app_id=other))

    body = sandbox.owned_page(application_id=other)

    assert [n["msisdn"] for n in body["numbers"]] == ["447700900002"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"size": "101"}, "size"),
        ({"size": "0"}, "size"),
        ({"size": "ten"}, "size"),
        ({"index": "0"}, "index"),
        ({"index": "-1"}, "index"),
        ({"index": "1.5"}, "index"),
        ({"search_pattern": "3"}, "search_pattern"),
        ({"pattern": "+4477"}, "pattern"),
        ({"has_application": "yes"}, "has_application"),
        ({"country": "gb"}, "country"),
    ],
)
def test_a_malformed_parameter_gets_a_400_keyed_by_that_parameter(sandbox, params, field):
    response = sandbox.get("/account/numbers", params)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert isinstance(response.json()[field], str)


def test_a_size_of_one_hundred_is_allowed(sandbox):
    sandbox.reset(owned=120)

    assert len(sandbox.owned_page(size=100)["numbers"]) == 100


def test_it_only_answers_get(sandbox):
    assert sandbox.post("/account/numbers").status_code == 405
