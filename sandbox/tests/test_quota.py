import time

import pytest
import requests

from .helpers import CREDENTIALS, TIMEOUT

QUOTA_HEADERS = (
    "quota-limit",
    "quota-used",
    "quota-interval",
    "quota-time-unit",
    "quota-reset-UTC",
)
GATEWAY_HEADERS = {
    "sunset": "n/a",
    "strict-transport-security": "max-age=31536000; includeSubDomains; preload",
    "access-control-allow-origin": "*",
}


def assert_gateway_headers(response):
    for name in QUOTA_HEADERS:
        assert name in response.headers, name
    for name, value in GATEWAY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["api-version"]


def wait_for_a_fresh_second():
    """Strict windows are whole epoch seconds: start a test near the start of one."""
    time.sleep(1 - time.time() % 1 + 0.01)


def test_every_kind_of_response_carries_the_gateway_headers(sandbox):
    number = sandbox.available()
    responses = [
        sandbox.fetch_token(),  # 200 token
        sandbox.fetch_token(client_id="x", client_secret="y"),  # 401 token
        sandbox.get("/account/numbers"),  # 200
        sandbox.get("/account/numbers", headers={}),  # 401
        sandbox.get("/number/search"),  # 400
        sandbox.post("/number/cancel", {"country": "GB", "msisdn": number["msisdn"]}),  # 420
        sandbox.get("/number/buy"),  # 405
        sandbox.get("/no/such/thing"),  # 404
    ]

    assert [r.status_code for r in responses] == [200, 401, 200, 401, 400, 420, 405, 404]
    for response in responses:
        assert_gateway_headers(response)


def test_the_generous_quota_allows_100000_calls_a_minute(sandbox):
    before = time.time()
    first = sandbox.get("/account/numbers")
    second = sandbox.get("/account/numbers")

    assert first.headers["quota-limit"] == "100000"
    assert first.headers["quota-interval"] == "1"
    assert first.headers["quota-time-unit"] == "minute"
    assert int(second.headers["quota-used"]) == int(first.headers["quota-used"]) + 1
    reset_at = int(first.headers["quota-reset-UTC"]) / 1000
    assert before < reset_at <= before + 61
    assert reset_at % 60 == 0


def test_the_quota_is_counted_per_client(sandbox):
    sandbox.get("/account/numbers")
    used = int(sandbox.get("/account/numbers").headers["quota-used"])

    intruder = sandbox.fetch_token(client_id="intruder", client_secret="guess")

    assert intruder.headers["quota-used"] == "1"
    assert int(sandbox.get("/account/numbers").headers["quota-used"]) == used + 1


def test_a_refused_token_costs_no_api_quota(sandbox):
    used = int(sandbox.get("/account/numbers").headers["quota-used"])
    sandbox.get("/account/numbers", headers=sandbox.bearer("made-up"))

    assert int(sandbox.get("/account/numbers").headers["quota-used"]) == used + 1


def test_strict_quota_allows_one_owned_list_a_second(sandbox):
    sandbox.reset(quota="strict")
    sandbox.token  # noqa: B018 - fetch it before the window starts
    wait_for_a_fresh_second()

    first = sandbox.get("/account/numbers")
    second = sandbox.get("/account/numbers")

    assert first.status_code == 200
    assert first.headers["quota-limit"] == "1"
    assert first.headers["quota-used"] == "1"
    assert first.headers["quota-interval"] == "1"
    assert first.headers["quota-time-unit"] == "second"
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "1"
    assert "fault" in second.json()
    assert_gateway_headers(second)


def test_strict_quota_windows_end_on_whole_seconds(sandbox):
    sandbox.reset(quota="strict")
    sandbox.token  # noqa: B018
    wait_for_a_fresh_second()

    response = sandbox.get("/number/search", {"country": "GB"})

    reset_at = int(response.headers["quota-reset-UTC"])
    assert reset_at % 1000 == 0
    assert 0 < reset_at - time.time() * 1000 <= 1000


def test_strict_quota_allows_three_calls_a_second_across_the_api(sandbox):
    sandbox.reset(quota="strict")
    sandbox.token  # noqa: B018
    sandbox.search(country="GB")  # the catalogue is generated outside the timed window
    wait_for_a_fresh_second()

    statuses = []
    for _ in range(4):
        response = sandbox.get("/number/search", {"country": "GB"})
        statuses.append(response.status_code)

    assert statuses == [200, 200, 200, 429]
    assert response.headers["quota-limit"] == "3"
    assert response.headers["quota-used"] == "3"


def test_the_list_counts_against_the_api_wide_quota_too(sandbox):
    sandbox.reset(quota="strict")
    sandbox.token  # noqa: B018
    sandbox.search(country="GB")
    wait_for_a_fresh_second()

    statuses = [
        sandbox.get("/number/search", {"country": "GB"}).status_code,
        sandbox.get("/number/search", {"country": "GB"}).status_code,
        sandbox.get("/number/search", {"country": "GB"}).status_code,
        sandbox.get("/account/numbers").status_code,
    ]

    assert statuses == [200, 200, 200, 429]


def test_calls_are_allowed_again_once_the_window_has_passed(sandbox):
    sandbox.reset(quota="strict")
    sandbox.token  # noqa: B018
    sandbox.get("/account/numbers")
    refused = sandbox.get("/account/numbers")
    if refused.status_code == 429:
        time.sleep(int(refused.headers["Retry-After"]))

    assert sandbox.get("/account/numbers").status_code == 200


def test_a_throttled_buy_buys_nothing(sandbox):
    sandbox.reset(quota="strict")
    number = sandbox.available()
    wait_for_a_fresh_second()
    for _ in range(3):
        sandbox.get("/number/search", {"country": "GB"})

    response = sandbox.buy(number)

    assert response.status_code == 429
    assert sandbox.state()["owned_count"] == 0


def test_token_calls_have_their_own_strict_bucket(sandbox):
    sandbox.reset(quota="strict")
    token = sandbox.token
    wait_for_a_fresh_second()

    statuses = [sandbox.fetch_token().status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert sandbox.get("/account/numbers", headers=sandbox.bearer(token)).status_code == 200


@pytest.mark.parametrize("path", ["/_sandbox/state", "/_sandbox/faults"])
def test_the_control_surface_is_outside_the_quota(sandbox, path):
    sandbox.reset(quota="strict")
    for _ in range(5):
        assert requests.get(sandbox.base_url + path, timeout=TIMEOUT).status_code == 200


def test_a_basic_token_call_is_counted_against_its_client(sandbox):
    response = requests.post(
        sandbox.token_url,
        auth=(CREDENTIALS["client_id"], CREDENTIALS["client_secret"]),
        timeout=TIMEOUT,
    )

    assert response.headers["quota-used"] == "1"
