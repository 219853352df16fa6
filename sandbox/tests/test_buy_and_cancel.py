import json

import pytest
import requests

SUCCESS = {"error-code": "200", "error-code-label": "success"}
METHOD_FAILED = {"error-code": "420", "error-code-label": "method failed"}


def form(number: dict, **overrides) -> dict:
    return {"country": number["country"], "msisdn": number["msisdn"], **overrides}


def test_buying_a_number_on_sale_makes_it_owned(sandbox):
    number = sandbox.available("NL", "mobile-lvn")

    response = sandbox.buy(number)

    assert response.status_code == 200
    assert response.json() == SUCCESS
    assert sandbox.owned_page()["numbers"] == [
        {
            "country": "NL",
            "msisdn": number["msisdn"],
            "type": "mobile-lvn",
            "features": number["features"],
        }
    ]


def test_buying_a_number_already_owned_fails_with_420(sandbox):
    number = sandbox.available()
    sandbox.buy(number)

    response = sandbox.buy(number)

    assert response.status_code == 420
    assert response.json() == METHOD_FAILED
    assert sandbox.state()["owned_count"] == 1


def test_buying_a_number_under_another_country_fails(sandbox):
    number = sandbox.available("GB")

    response = sandbox.post("/number/buy", form(number, country="NL"))

    assert response.status_code == 420
    assert response.json() == METHOD_FAILED
    assert sandbox.state()["owned_count"] == 0


def test_buying_a_number_that_is_not_on_sale_fails(sandbox):
    response = sandbox.post("/number/buy", {"country": "GB", "msisdn": "447700900123"})

    assert response.status_code == 420
    assert response.json() == METHOD_FAILED


def test_buying_a_number_the_account_started_with_fails(sandbox):
    sandbox.reset(owned=1)
    [owned] = sandbox.owned_numbers()

    assert sandbox.buy(owned).status_code == 420


@pytest.mark.parametrize("path", ["/number/buy", "/number/cancel"])
def test_a_json_body_is_not_accepted(sandbox, path):
    number = sandbox.available()

    response = sandbox.post(
        path,
        data=json.dumps(form(number)),
        headers={**sandbox.bearer(), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json() == {"country": "Is required.", "msisdn": "Is required."}
    assert sandbox.state()["owned_count"] == 0


@pytest.mark.parametrize("path", ["/number/buy", "/number/cancel"])
def test_query_parameters_are_not_accepted(sandbox, path):
    number = sandbox.available()

    response = sandbox.post(path, params=form(number))

    assert response.status_code == 400
    assert set(response.json()) == {"country", "msisdn"}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"msisdn": "447700900123"}, {"country"}),
        ({"country": "GB"}, {"msisdn"}),
        ({"country": "GB", "msisdn": "+447700900123"}, {"msisdn"}),
        ({"country": "GB", "msisdn": "07700900123"}, {"msisdn"}),
        ({"country": "GB", "msisdn": "12345"}, {"msisdn"}),
        ({"country": "uk", "msisdn": "447700900123"}, {"country"}),
    ],
)
def test_missing_or_malformed_fields_get_400_field_errors(sandbox, fields, expected):
    for path in ("/number/buy", "/number/cancel"):
        response = sandbox.post(path, fields)

        assert response.status_code == 400
        assert set(response.json()) == expected


def test_cancelling_an_owned_number_releases_it(sandbox):
    number = sandbox.available("SE", "landline")
    sandbox.buy(number)

    response = sandbox.post("/number/cancel", form(number))

    assert response.status_code == 200
    assert response.json() == SUCCESS
    assert sandbox.owned_page() == {"count": 0}


def test_a_cancelled_number_goes_back_on_sale(sandbox):
    number = sandbox.available("SE", "landline")
    sandbox.buy(number)
    sandbox.post("/number/cancel", form(number))

    found = sandbox.search(country="SE", type="landline", pattern=number["msisdn"])

    assert found == {"count": 1, "numbers": [number]}
    assert sandbox.buy(number).status_code == 200


def test_cancelling_a_number_not_owned_fails_with_420(sandbox):
    number = sandbox.available()

    response = sandbox.post("/number/cancel", form(number))

    assert response.status_code == 420
    assert response.json() == METHOD_FAILED


def test_cancelling_under_the_wrong_country_fails_and_keeps_the_number(sandbox):
    number = sandbox.available("GB")
    sandbox.buy(number)

    response = sandbox.post("/number/cancel", form(number, country="IE"))

    assert response.status_code == 420
    assert sandbox.state()["owned_count"] == 1


def test_a_started_number_can_be_cancelled_but_does_not_go_on_sale(sandbox):
    sandbox.reset(owned=1)
    [owned] = sandbox.owned_numbers()

    assert sandbox.post("/number/cancel", form(owned)).status_code == 200
    assert sandbox.search(
        country=owned["country"], type=owned["type"], pattern=owned["msisdn"]
    ) == {"count": 0}


@pytest.mark.parametrize("path", ["/number/buy", "/number/cancel", "/number/update"])
def test_changes_only_answer_post(sandbox, path):
    assert sandbox.get(path, {"country": "GB", "msisdn": "447700900123"}).status_code == 405


@pytest.mark.parametrize("path", ["/number/buy", "/number/cancel", "/number/update"])
def test_a_multipart_body_without_its_boundary_is_a_400_not_a_server_error(sandbox, path):
    response = sandbox.post(
        path,
        data=b"country=GB",
        headers={**sandbox.bearer(), "Content-Type": "multipart/form-data"},
    )

    assert response.status_code == 400
    assert "fault" in response.json()
    assert "quota-limit" in response.headers


def test_a_token_request_with_a_broken_multipart_body_is_a_400(sandbox):
    response = requests.post(
        sandbox.token_url,
        data=b"client_id=x",
        headers={"Content-Type": "multipart/form-data; boundary="},
        timeout=10,
    )

    assert response.status_code == 400


def test_a_json_body_is_not_read_as_a_form(sandbox):
    number = sandbox.available()

    response = sandbox.post("/number/buy", data=None, json=form(number))

    assert response.status_code == 400
    assert response.json() == {"country": "Is required.", "msisdn": "Is required."}


def test_answers_are_labelled_as_the_gateway_labels_them(sandbox):
    number = sandbox.available()

    for response in (sandbox.buy(number), sandbox.get("/account/numbers")):
        assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
