import contextlib
import time

import pytest
import requests

SUCCESS = {"error-code": "200", "error-code-label": "success"}
TOKEN_OPERATION = "POST /oauth/client_credential/accesstoken"


def buy_form(number: dict) -> dict:
    return {"country": number["country"], "msisdn": number["msisdn"]}


def test_a_delay_fault_answers_normally_but_late(sandbox):
    sandbox.fault(operation="GET /account/numbers", kind="delay", delay=0.3)

    started = time.monotonic()
    response = sandbox.get("/account/numbers")

    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert response.json() == {"count": 0}


def test_a_timeout_fault_holds_the_line_then_closes_it_without_an_answer(sandbox):
    sandbox.fault(operation="GET /account/numbers", kind="timeout", delay=0.3)

    with pytest.raises(requests.ConnectionError):
        sandbox.get("/account/numbers")


def test_a_client_with_a_shorter_read_timeout_sees_a_timeout(sandbox):
    sandbox.fault(operation="GET /account/numbers", kind="timeout", delay=1)

    with pytest.raises(requests.ReadTimeout):
        requests.get(sandbox.api_url + "/account/numbers", headers=sandbox.bearer(), timeout=0.2)


def test_a_reset_fault_aborts_the_connection(sandbox):
    sandbox.fault(operation="GET /account/numbers", kind="reset")

    with pytest.raises(requests.ConnectionError) as raised:
        sandbox.get("/account/numbers")

    assert "reset" in str(raised.value).lower()


def test_an_error_fault_answers_its_status_with_an_html_page(sandbox):
    sandbox.fault(operation="GET /number/search", kind="error", status=503)

    response = sandbox.get("/number/search", {"country": "GB"})

    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert "quota-limit" in response.headers


def test_an_error_fault_defaults_to_500(sandbox):
    sandbox.fault(operation="POST /number/buy", kind="error")

    assert sandbox.buy(sandbox.available()).status_code == 500


def test_a_malformed_fault_answers_200_with_a_body_that_is_not_json(sandbox):
    sandbox.fault(operation="GET /account/numbers", kind="malformed")

    response = sandbox.get("/account/numbers")

    assert response.status_code == 200
    with pytest.raises(ValueError, match=r"\w"):
        response.json()


def test_a_throttle_fault_answers_429_with_retry_after_and_buys_nothing(sandbox):
    number = sandbox.available()
    sandbox.fault(operation="POST /number/buy", kind="throttle", delay=2)

    response = sandbox.buy(number)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert sandbox.state()["owned_count"] == 0


def test_an_ignore_fault_answers_success_but_changes_nothing(sandbox):
    number = sandbox.available()
    sandbox.fault(operation="POST /number/buy", kind="ignore")

    response = sandbox.buy(number)

    assert response.status_code == 200
    assert response.json() == SUCCESS
    assert sandbox.state()["owned_count"] == 0


def test_an_ignored_update_is_not_applied(sandbox):
    number = sandbox.available()
    sandbox.buy(number)
    sandbox.fault(operation="POST /number/update", kind="ignore")

    response = sandbox.post(
        "/number/update", {**buy_form(number), "moHttpUrl": "https://example.com/x"}
    )

    assert response.json() == SUCCESS
    assert "moHttpUrl" not in sandbox.owned_number(number["msisdn"])


@pytest.mark.parametrize("kind", ["timeout", "reset"])
def test_a_dropped_buy_with_after_effect_still_bought_the_number(sandbox, kind):
    number = sandbox.available()
    sandbox.fault(operation="POST /number/buy", kind=kind, delay=0.2, after_effect=True)

    with pytest.raises(requests.ConnectionError):
        sandbox.buy(number)

    assert sandbox.owned_number(number["msisdn"]) is not None


def test_an_error_after_effect_cancelled_the_number_all_the_same(sandbox):
    number = sandbox.available()
    sandbox.buy(number)
    sandbox.fault(operation="POST /number/cancel", kind="error", status=502, after_effect=True)

    response = sandbox.post("/number/cancel", buy_form(number))

    assert response.status_code == 502
    assert sandbox.state()["owned_count"] == 0


def test_a_garbled_update_with_after_effect_was_applied(sandbox):
    number = sandbox.available()
    sandbox.buy(number)
    sandbox.fault(operation="POST /number/update", kind="malformed", after_effect=True)

    response = sandbox.post(
        "/number/update", {**buy_form(number), "moHttpUrl": "https://example.com/x"}
    )

    with pytest.raises(ValueError, match=r"\w"):
        response.json()
    assert sandbox.owned_number(number["msisdn"])["moHttpUrl"] == "https://example.com/x"


@pytest.mark.parametrize("kind", ["error", "timeout", "reset", "malformed"])
def test_without_after_effect_a_failed_buy_bought_nothing(sandbox, kind):
    number = sandbox.available()
    sandbox.fault(operation="POST /number/buy", kind=kind, delay=0.2)

    with contextlib.suppress(requests.ConnectionError):
        sandbox.buy(number)

    assert sandbox.state()["owned_count"] == 0


def test_a_fault_fires_count_times_then_stops(sandbox):
    sandbox.fault(operation="GET /account/numbers", kind="error", count=2)

    statuses = [sandbox.get("/account/numbers").status_code for _ in range(3)]

    assert statuses == [500, 500, 200]


def test_a_fault_fires_only_for_its_operation(sandbox):
    sandbox.fault(operation="POST /number/buy", kind="error")

    assert sandbox.get("/account/numbers").status_code == 200
    assert sandbox.state()["faults"][0]["count"] == 1


def test_a_fault_for_any_operation_fires_on_the_next_call(sandbox):
    sandbox.token  # noqa: B018 - fetched before the fault is queued
    sandbox.fault(operation="*", kind="error", status=503)

    assert sandbox.get("/number/search", {"country": "GB"}).status_code == 503


def test_a_certain_rate_fires_every_time_until_cleared(sandbox):
    sandbox.fault(operation="GET /account/numbers", kind="error", rate=1.0)

    assert [sandbox.get("/account/numbers").status_code for _ in range(3)] == [500, 500, 500]

    assert sandbox.control("DELETE", "faults").status_code == 200
    assert sandbox.get("/account/numbers").status_code == 200


def test_a_partial_rate_fires_on_some_calls_only(sandbox):
    sandbox.fault(operation="GET /account/numbers", kind="error", rate=0.5)

    statuses = {sandbox.get("/account/numbers").status_code for _ in range(30)}

    assert statuses == {200, 500}


def test_a_fault_can_let_some_calls_through_first(sandbox):
    sandbox.fault(operation="GET /account/numbers", kind="error", status=503, skip=2)

    statuses = [sandbox.get("/account/numbers").status_code for _ in range(4)]

    assert statuses == [200, 200, 503, 200]


def test_queued_faults_fire_in_order(sandbox):
    sandbox.fault(operation="GET /account/numbers", kind="error", status=502)
    sandbox.fault(operation="GET /account/numbers", kind="error", status=503)

    statuses = [sandbox.get("/account/numbers").status_code for _ in range(3)]

    assert statuses == [502, 503, 200]


def test_faults_work_on_the_token_endpoint(sandbox):
    sandbox.fault(operation=TOKEN_OPERATION, kind="error", status=503)

    assert sandbox.fetch_token().status_code == 503
    assert sandbox.fetch_token().status_code == 200


def test_an_ignored_token_request_hands_out_a_token_that_does_not_work(sandbox):
    sandbox.fault(operation=TOKEN_OPERATION, kind="ignore")

    token = sandbox.fetch_token().json()["access_token"]

    assert sandbox.get("/account/numbers", headers=sandbox.bearer(token)).status_code == 401


def test_a_token_request_cut_off_by_a_reset_is_counted_as_reset(sandbox):
    sandbox.fault(operation=TOKEN_OPERATION, kind="reset", after_effect=True)

    with pytest.raises(requests.ConnectionError):
        sandbox.fetch_token()

    assert sandbox.state()["responses"][TOKEN_OPERATION] == {"reset": 1}


def test_pending_faults_are_listed_and_can_be_cleared(sandbox):
    created = sandbox.fault(operation="POST /number/buy", kind="delay", delay=0.5, count=3)

    assert sandbox.state()["faults"] == [created]
    assert created["count"] == 3
    sandbox.control("DELETE", "faults")
    assert sandbox.state()["faults"] == []


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"operation": "POST /number/buy", "kind": "explode"}, "kind"),
        ({"kind": "error"}, "operation"),
        ({"operation": "POST /number/buy", "kind": "error", "status": 9000}, "status"),
        ({"operation": "POST /number/buy", "kind": "delay", "delay": -1}, "delay"),
        ({"operation": "POST /number/buy", "kind": "error", "count": 0}, "count"),
        ({"operation": "POST /number/buy", "kind": "error", "rate": 2}, "rate"),
        ({"operation": "POST /number/buy", "kind": "error", "after_effect": "yes"}, "after_effect"),
        ({"operation": "POST /number/buy", "kind": "error", "colour": "red"}, "colour"),
    ],
)
def test_an_invalid_fault_is_refused(sandbox, spec, field):
    response = sandbox.control("POST", "faults", json=spec)

    assert response.status_code == 400
    assert field in response.json()


def test_dropped_connections_are_counted_by_what_happened(sandbox):
    sandbox.fault(operation="GET /account/numbers", kind="timeout", delay=0.1)
    sandbox.fault(operation="GET /account/numbers", kind="reset")
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            sandbox.get("/account/numbers")

    assert sandbox.state()["responses"]["GET /account/numbers"] == {"timeout": 1, "reset": 1}


# --- the gateway's, KPN's and the provider's other answers ----------------------------------


@pytest.mark.parametrize("status", [429, 500])
@pytest.mark.parametrize(
    ("kind", "errorcode"),
    [
        ("quota", "policies.ratelimit.QuotaViolation"),
        ("spike_arrest", "policies.ratelimit.SpikeArrestViolation"),
    ],
)
def test_apigee_rate_limit_faults_come_at_429_or_500_without_retry_after(
    sandbox, kind, errorcode, status
):
    number = sandbox.available()
    sandbox.fault(operation="POST /number/buy", kind=kind, status=status)

    response = sandbox.buy(number)

    assert response.status_code == status
    assert response.json()["fault"]["detail"]["errorcode"] == errorcode
    assert "Retry-After" not in response.headers
    assert "quota-limit" in response.headers
    assert sandbox.state()["owned_count"] == 0


def test_a_rate_limit_fault_defaults_to_429(sandbox):
    sandbox.fault(operation="GET /account/numbers", kind="quota")

    assert sandbox.get("/account/numbers").status_code == 429


def test_a_not_subscribed_fault_is_apigees_401_for_an_app_without_the_product(sandbox):
    sandbox.fault(operation="GET /number/search", kind="not_subscribed")

    response = sandbox.get("/number/search", {"country": "GB"})

    assert response.status_code == 401
    assert response.json()["fault"]["detail"]["errorcode"].endswith(
        "InvalidAPICallAsNoApiProductMatchFound"
    )


def test_a_forbidden_fault_is_kpns_403_envelope(sandbox):
    sandbox.fault(operation="GET /account/numbers", kind="forbidden")

    response = sandbox.get("/account/numbers")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["name"] == "Forbidden"
    assert "entitled" in error["message"]


def test_a_kpn_error_carries_its_message_in_kpns_envelope(sandbox):
    sandbox.fault(operation=TOKEN_OPERATION, kind="kpn_error", label="invalid_client-bad_id")

    response = sandbox.fetch_token()

    assert response.status_code == 500
    error = response.json()["error"]
    assert set(error) == {"transactionId", "status", "name", "message", "info"}
    assert error["status"] == "500 - Internal Server Error"
    assert error["message"] == "invalid_client-bad_id"


def test_a_provider_code_fault_answers_200_with_a_refusals_code(sandbox):
    number = sandbox.available()
    sandbox.fault(
        operation="POST /number/buy",
        kind="provider_code",
        code="401",
        label="authentication failed",
    )

    response = sandbox.buy(number)

    assert response.status_code == 200
    assert response.json() == {"error-code": "401", "error-code-label": "authentication failed"}
    assert sandbox.state()["owned_count"] == 0


def test_the_providers_own_401_can_be_sent_with_its_status(sandbox):
    sandbox.fault(operation="POST /number/cancel", kind="provider_code", status=401, code="401")

    response = sandbox.post("/number/cancel", {"country": "GB", "msisdn": "447700900123"})

    assert response.status_code == 401
    assert response.json()["error-code"] == "401"


@pytest.mark.parametrize(
    ("shape", "body"),
    [
        ("bare", {}),
        ("count", {"count": 0}),
        ("numbers", {"numbers": []}),
        ("count_and_numbers", {"count": 0, "numbers": []}),
    ],
)
def test_an_empty_list_comes_in_the_shape_asked_for(sandbox, shape, body):
    sandbox.reset(owned=3)
    sandbox.fault(operation="GET /account/numbers", kind="empty_list", shape=shape)

    assert sandbox.get("/account/numbers").json() == body


def test_a_broken_record_leaves_fields_out_of_the_first_number(sandbox):
    sandbox.reset(owned=3)
    sandbox.fault(operation="GET /account/numbers", kind="broken_record", drop=["msisdn"])

    first, second, _ = sandbox.get("/account/numbers").json()["numbers"]

    assert "msisdn" not in first
    assert "type" in first
    assert "msisdn" in second


@pytest.mark.parametrize(
    "kind", ["throttle", "quota", "spike_arrest", "forbidden", "kpn_error", "provider_code"]
)
def test_a_refusal_after_effect_bought_the_number_all_the_same(sandbox, kind):
    number = sandbox.available()
    sandbox.fault(operation="POST /number/buy", kind=kind, after_effect=True)

    response = sandbox.buy(number)

    assert response.status_code != 599
    assert sandbox.owned_number(number["msisdn"]) is not None


def test_a_throttle_without_after_effect_still_applies_nothing(sandbox):
    number = sandbox.available()
    sandbox.fault(operation="POST /number/buy", kind="throttle")

    assert sandbox.buy(number).status_code == 429
    assert sandbox.owned_number(number["msisdn"]) is None


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"operation": "POST /number/buy", "kind": "provider_code", "code": "abc"}, "code"),
        ({"operation": "GET /account/numbers", "kind": "empty_list", "shape": "[]"}, "shape"),
        ({"operation": "GET /account/numbers", "kind": "broken_record", "drop": "type"}, "drop"),
        ({"operation": "POST /number/buy", "kind": "kpn_error", "label": 5}, "label"),
    ],
)
def test_the_new_fault_fields_are_checked(sandbox, spec, field):
    response = sandbox.control("POST", "faults", json=spec)

    assert response.status_code == 400
    assert field in response.json()
