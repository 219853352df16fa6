import re

import pytest

from sandbox import catalogue

DECIMAL = re.compile(r"\d+\.\d{2}")
AVAILABLE_FIELDS = {"country", "msisdn", "type", "features", "cost", "initialPrice"}


def test_it_lists_numbers_on_sale_in_the_providers_shape(sandbox):
    body = sandbox.search(country="NL", type="mobile-lvn", size=5)

    assert body["count"] >= 1000
    assert len(body["numbers"]) == 5
    for number in body["numbers"]:
        assert set(number) - {"limitations"} == AVAILABLE_FIELDS
        assert number["country"] == "NL"
        assert number["type"] == "mobile-lvn"
        assert number["msisdn"].startswith("316")
        assert DECIMAL.fullmatch(number["cost"])
        assert DECIMAL.fullmatch(number["initialPrice"])
        assert number["features"] == ["VOICE", "SMS"]


def test_the_country_is_required(sandbox):
    response = sandbox.get("/number/search", {"type": "landline"})

    assert response.status_code == 400
    assert response.json() == {"country": "Is required."}


@pytest.mark.parametrize("country", ["nl", "NLD", "N1"])
def test_a_malformed_country_is_refused(sandbox, country):
    response = sandbox.get("/number/search", {"country": country})

    assert response.status_code == 400
    assert list(response.json()) == ["country"]


def test_a_country_without_a_catalogue_has_nothing_on_sale(sandbox):
    assert sandbox.search(country="KZ") == {"count": 0}


def test_landline_is_the_default_type(sandbox):
    body = sandbox.search(country="GB", size=100)

    assert {number["type"] for number in body["numbers"]} == {"landline"}


@pytest.mark.parametrize("number_type", ["mobile", "LANDLINE", "toll-free"])
def test_an_unknown_type_is_refused(sandbox, number_type):
    response = sandbox.get("/number/search", {"country": "GB", "type": number_type})

    assert response.status_code == 400
    assert list(response.json()) == ["type"]


@pytest.mark.parametrize("number_type", catalogue.NUMBER_TYPES)
def test_every_country_offers_each_of_its_types(sandbox, number_type):
    for country in catalogue.COUNTRIES:
        body = sandbox.search(country=country, type=number_type, size=1)
        assert body["count"] >= 1000, country
        assert body["numbers"][0]["type"] == number_type


def test_features_in_any_order_match_numbers_with_all_of_them(sandbox):
    in_order = sandbox.search(country="US", type="mobile-lvn", features="SMS,VOICE")
    shuffled = sandbox.search(country="US", type="mobile-lvn", features="VOICE,SMS")

    assert in_order == shuffled
    assert in_order["count"] >= 1000


def test_a_feature_filter_leaves_out_numbers_without_it(sandbox):
    everything = sandbox.search(country="GB", type="landline")["count"]
    with_sms = sandbox.search(country="GB", type="landline", features="SMS", size=100)

    assert 0 < with_sms["count"] < everything
    assert all("SMS" in number["features"] for number in with_sms["numbers"])
    assert sandbox.search(country="NL", type="mobile-lvn", features="MMS") == {"count": 0}


@pytest.mark.parametrize("features", ["FAX", "SMS,", "sms", "SMS;VOICE"])
def test_an_unknown_feature_is_refused(sandbox, features):
    response = sandbox.get("/number/search", {"country": "GB", "features": features})

    assert response.status_code == 400
    assert list(response.json()) == ["features"]


def test_starts_with_covers_the_country_code(sandbox):
    body = sandbox.search(country="GB", type="mobile-lvn", pattern="447", size=100)

    assert body["count"] >= 1000
    assert all(number["msisdn"].startswith("447") for number in body["numbers"])


def test_contains_and_ends_with_find_digits_elsewhere(sandbox):
    contains = sandbox.search(
        country="GB", type="mobile-lvn", pattern="123", search_pattern=1, size=100
    )
    ends = sandbox.search(country="GB", type="mobile-lvn", pattern="7", search_pattern=2, size=100)

    assert contains["count"] > 0
    assert all("123" in number["msisdn"] for number in contains["numbers"])
    assert ends["count"] > 0
    assert all(number["msisdn"].endswith("7") for number in ends["numbers"])


def test_a_pattern_nothing_matches_answers_count_zero_without_numbers(sandbox):
    assert sandbox.search(country="GB", type="mobile-lvn", pattern="99999") == {"count": 0}


def test_pages_cover_the_list_without_overlap(sandbox):
    first = sandbox.search(country="DE", type="landline", size=100, index=1)
    second = sandbox.search(country="DE", type="landline", size=100, index=2)

    msisdns = [n["msisdn"] for n in first["numbers"] + second["numbers"]]
    assert len(set(msisdns)) == 200
    assert msisdns == sorted(msisdns)
    assert first["count"] == second["count"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"size": "101"}, "size"),
        ({"size": "0"}, "size"),
        ({"index": "0"}, "index"),
        ({"index": "x"}, "index"),
        ({"search_pattern": "-1"}, "search_pattern"),
        ({"pattern": "44 77"}, "pattern"),
    ],
)
def test_a_malformed_paging_or_pattern_parameter_is_refused(sandbox, params, field):
    response = sandbox.get("/number/search", {"country": "GB", **params})

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_several_problems_are_reported_together(sandbox):
    response = sandbox.get("/number/search", {"type": "fax", "size": "500"})

    assert response.status_code == 400
    assert set(response.json()) == {"country", "type", "size"}


def test_a_bought_number_is_no_longer_on_sale(sandbox):
    number = sandbox.available("FR", "landline")
    before = sandbox.search(country="FR", type="landline")["count"]

    assert sandbox.buy(number).status_code == 200

    after = sandbox.search(country="FR", type="landline", pattern=number["msisdn"])
    assert after == {"count": 0}
    assert sandbox.search(country="FR", type="landline")["count"] == before - 1


def test_numbers_owned_from_the_start_are_never_on_sale(sandbox):
    sandbox.reset(owned=30)

    for owned in sandbox.owned_numbers():
        query = {"country": owned["country"], "type": owned["type"], "pattern": owned["msisdn"]}
        assert sandbox.search(**query) == {"count": 0}


def test_some_numbers_on_sale_come_with_limitations(sandbox):
    mobiles = sandbox.search(country="GB", type="mobile-lvn", size=100)["numbers"]
    toll_free = sandbox.search(country="GB", type="landline-toll-free", size=5)["numbers"]

    limited = [number for number in mobiles if "limitations" in number]
    assert 0 < len(limited) < len(mobiles)
    assert all(
        number["limitations"] == [{"feature": "SMS", "type": "OUTBOUND", "reach": "INTERNATIONAL"}]
        for number in limited
    )
    assert all(
        number["limitations"] == [{"feature": "VOICE", "type": "INBOUND", "reach": "DOMESTIC"}]
        for number in toll_free
    )


def test_a_bought_number_keeps_its_limitations_in_the_owned_list(sandbox):
    toll_free = sandbox.available("GB", "landline-toll-free")
    assert sandbox.buy(toll_free).status_code == 200

    assert sandbox.owned_number(toll_free["msisdn"])["limitations"] == toll_free["limitations"]
