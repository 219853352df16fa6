import time

import pytest
import requests

APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"


def test_the_state_shows_the_account_counters_faults_and_options(sandbox):
    sandbox.reset(owned=2)

    state = sandbox.state()

    assert state["owned_count"] == 2
    assert len(state["owned"]) == 2
    assert state["calls"] == {}
    assert state["responses"] == {}
    assert state["faults"] == []
    assert state["options"]["owned"] == 2
    assert "client_secret" not in state["options"]


def test_the_state_can_leave_out_the_numbers(sandbox):
    sandbox.reset(owned=2)

    state = sandbox.state(numbers=0)

    assert "owned" not in state
    assert state["owned_count"] == 2


def test_the_state_can_show_a_single_number(sandbox):
    sandbox.reset(owned=3)
    target = sandbox.owned_numbers()[1]

    assert sandbox.state(msisdn=target["msisdn"])["owned"] == [target]
    assert sandbox.state(msisdn="447700900999")["owned"] == []


def test_calls_are_counted_per_operation_including_refused_ones(sandbox):
    sandbox.fetch_token()
    sandbox.get("/account/numbers")
    sandbox.get("/account/numbers", headers={})
    sandbox.get("/number/search")
    sandbox.post("/number/buy", {"country": "GB", "msisdn": "447700900123"})

    state = sandbox.state()

    assert state["calls"] == {
        "POST /oauth/client_credential/accesstoken": 2,  # one explicit, one for the helper's token
        "GET /account/numbers": 2,
        "GET /number/search": 1,
        "POST /number/buy": 1,
    }
    assert state["responses"] == {
        "POST /oauth/client_credential/accesstoken": {"200": 2},
        "GET /account/numbers": {"200": 1, "401": 1},
        "GET /number/search": {"400": 1},
        "POST /number/buy": {"420": 1},
    }


def test_control_calls_are_not_counted(sandbox):
    sandbox.state()
    sandbox.control("GET", "faults")

    assert sandbox.state()["calls"] == {}


def test_unknown_api_paths_are_counted_too(sandbox):
    sandbox.get("/number/sell")

    assert sandbox.state()["calls"] == {
        "POST /oauth/client_credential/accesstoken": 1,
        "GET /number/sell": 1,
    }


def test_a_reset_starts_over_with_the_given_options(sandbox):
    sandbox.get("/account/numbers")
    sandbox.fault(operation="POST /number/buy", kind="error")

    result = sandbox.reset(owned=7, seed=42, token_ttl=60, quota="strict", latency_ms=5)

    assert result["owned_count"] == 7
    state = sandbox.state()
    assert state["calls"] == {}
    assert state["faults"] == []
    assert state["options"] == {
        "seed": 42,
        "owned": 7,
        "token_ttl": 60,
        "quota": "strict",
        "client_id": "numbers-portal-demo",
        "latency_ms": 5,
    }


def test_overrides_last_only_until_the_next_reset(sandbox):
    sandbox.reset(owned=4, quota="strict")

    sandbox.reset()

    state = sandbox.state()
    assert state["owned_count"] == 0
    assert state["options"]["quota"] == "generous"


@pytest.mark.parametrize(
    "overrides",
    [{"owned": -1}, {"quota": "lavish"}, {"seed": "one"}, {"colour": "red"}, {"owned": True}],
)
def test_a_reset_with_invalid_options_changes_nothing(sandbox, overrides):
    sandbox.reset(owned=1)

    response = sandbox.control("POST", "reset", json=overrides)

    assert response.status_code == 400
    assert sandbox.state()["owned_count"] == 1


def test_a_body_that_is_not_a_json_object_is_refused(sandbox):
    response = sandbox.control("POST", "reset", data="[1, 2]")

    assert response.status_code == 400


def test_numbers_can_be_added_behind_the_portals_back(sandbox):
    added = {
        "country": "GB",
        "msisdn": "447700900123",
        "type": "mobile-lvn",
        "features": ["VOICE", "SMS"],
        "moHttpUrl": "https://example.com/mo",
    }

    result = sandbox.change_account(add=[added])

    assert result == {"added": 1, "removed": 0, "changed": 0, "owned_count": 1}
    assert sandbox.owned_page()["numbers"] == [added]


def test_random_numbers_can_be_added(sandbox):
    sandbox.reset(owned=10)

    result = sandbox.change_account(add_random=15)

    assert result["added"] == 15
    assert result["owned_count"] == 25
    assert len({n["msisdn"] for n in sandbox.owned_numbers()}) == 25


def test_numbers_can_be_removed_behind_the_portals_back(sandbox):
    sandbox.reset(owned=3)
    first = sandbox.owned_numbers()[0]["msisdn"]

    result = sandbox.change_account(remove=[first, "447700900999"])

    assert result["removed"] == 1
    assert sandbox.owned_number(first) is None


def test_configuration_can_be_changed_behind_the_portals_back(sandbox):
    sandbox.reset(owned=1)
    [number] = sandbox.owned_numbers()
    sandbox.change_account(
        change=[
            {
                "msisdn": number["msisdn"],
                "app_id": APP_ID,
                "messagesCallbackType": "app",
                "messagesCallbackValue": APP_ID,
            }
        ]
    )

    changed = sandbox.owned_number(number["msisdn"])

    assert changed["app_id"] == APP_ID
    assert changed["messagesCallbackType"] == "app"
    sandbox.change_account(
        change=[
            {
                "msisdn": number["msisdn"],
                "app_id": None,
                "messagesCallbackType": "",
                "messagesCallbackValue": "",
            }
        ]
    )
    cleared = {k: v for k, v in number.items() if not k.startswith("messagesCallback")}
    assert sandbox.owned_number(number["msisdn"]) == cleared


@pytest.mark.parametrize(
    "changes",
    [
        {"add": [{"country": "GB", "msisdn": "447700900123", "type": "fax"}]},
        {"add": [{"country": "GB", "msisdn": "+447700900123", "type": "landline"}]},
        {"add": "447700900123"},
        {"add_random": -1},
        {"remove": [447700900123]},
        {"change": [{"msisdn": "447700900123", "app_id": APP_ID}]},  # not owned
        {"change": [{"msisdn": "447700900123", "colour": "red"}]},
        {"rename": []},
    ],
)
def test_an_invalid_account_change_is_refused_whole(sandbox, changes):
    response = sandbox.control("POST", "owned", json=changes)

    assert response.status_code == 400
    assert sandbox.state()["owned_count"] == 0


def test_control_endpoints_check_their_methods(sandbox):
    assert sandbox.control("POST", "state").status_code == 405
    assert sandbox.control("GET", "reset").status_code == 405
    assert sandbox.control("GET", "expire-tokens").status_code == 405


def test_an_unknown_path_is_a_json_404(sandbox):
    response = sandbox.control("GET", "nothing-here")

    assert response.status_code == 404
    assert response.json()


def test_a_call_still_waiting_when_the_sandbox_is_reset_never_happens(sandbox):
    number = sandbox.available()
    sandbox.fault(operation="POST /number/buy", kind="delay", delay=0.5)
    with pytest.raises(requests.ReadTimeout):
        sandbox.post("/number/buy", {"country": "GB", "msisdn": number["msisdn"]}, timeout=0.1)

    sandbox.reset()
    time.sleep(0.6)

    state = sandbox.state()
    assert state["owned_count"] == 0
    assert state["responses"] == {}


def test_a_price_changed_on_the_control_surface_is_what_searches_show_until_a_reset(sandbox):
    number = sandbox.available()
    sandbox.controller.set_price(
        country="GB", msisdn=number["msisdn"], cost="7.50", initial_price="3.00"
    )

    again = sandbox.search(country="GB", type="mobile-lvn", pattern=number["msisdn"])["numbers"]

    assert (again[0]["cost"], again[0]["initialPrice"]) == ("7.50", "3.00")
    sandbox.reset()
    assert sandbox.available()["cost"] == number["cost"]


def test_a_price_change_for_a_number_not_on_sale_is_refused(sandbox):
    response = sandbox.control(
        "POST",
        "prices",
        json={"country": "NL", "msisdn": "447700900123", "cost": "x", "initial_price": "1"},
    )

    assert response.status_code == 400
    assert set(response.json()) == {"msisdn", "cost"}
