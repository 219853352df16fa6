import time

import pytest
import requests

from sandbox.quota import QuotaBook

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


def test_strict_quota_counts_the_list_per_minute_in_kpns_units(sandbox):
    sandbox.reset(quota="strict")

    first = sandbox.get("/account/numbers")

    assert first.status_code == 200
    assert first.headers["quota-limit"] == "60"
    assert first.headers["quota-used"] == "1"
    assert first.headers["quota-interval"] == "1"
    assert first.headers["quota-time-unit"] == "minute"


def test_a_second_list_within_the_second_meets_the_spike_arrest(sandbox):
    sandbox.reset(quota="strict")
    sandbox.token  # noqa: B018 - fetched before the timed calls

    first = sandbox.get("/account/numbers")
    second = sandbox.get("/account/numbers")

    assert first.status_code == 200
    assert second.status_code == 429
    assert (
        second.json()["fault"]["detail"]["errorcode"] == "policies.ratelimit.SpikeArrestViolation"
    )
    assert "Retry-After" not in second.headers
    assert second.headers["quota-used"] == "1"  # a refused call counts nowhere
    assert_gateway_headers(second)


def test_a_list_a_second_later_is_allowed_again(sandbox):
    sandbox.reset(quota="strict")
    sandbox.get("/account/numbers")
    sandbox.get("/account/numbers")  # too soon

    time.sleep(1.05)

    assert sandbox.get("/account/numbers").status_code == 200


def test_strict_quota_windows_end_on_whole_minutes(sandbox):
    sandbox.reset(quota="strict")

    response = sandbox.get("/number/search", {"country": "GB"})

    reset_at = int(response.headers["quota-reset-UTC"])
    assert reset_at % 60_000 == 0
    assert 0 < reset_at - time.time() * 1000 <= 60_000


def test_other_operations_may_come_three_times_a_second(sandbox):
    sandbox.reset(quota="strict")
    sandbox.token  # noqa: B018
    sandbox.search(country="GB")  # the catalogue is generated outside the timed calls
    time.sleep(0.35)

    first = sandbox.get("/number/search", {"country": "GB"})
    too_soon = sandbox.get("/number/search", {"country": "GB"})
    time.sleep(0.35)
    later = sandbox.get("/number/search", {"country": "GB"})

    assert [first.status_code, too_soon.status_code, later.status_code] == [200, 429, 200]
    assert first.headers["quota-limit"] == "180"


def test_each_operation_has_its_own_spike_arrest(sandbox):
    sandbox.reset(quota="strict")
    sandbox.token  # noqa: B018
    sandbox.search(country="GB")
    time.sleep(0.35)

    statuses = [
        sandbox.get("/number/search", {"country": "GB"}).status_code,
        sandbox.get("/account/numbers").status_code,
    ]

    assert statuses == [200, 200]


def test_the_list_counts_against_the_api_wide_quota_too(sandbox):
    sandbox.reset(quota="strict")
    sandbox.token  # noqa: B018
    before = int(sandbox.get("/number/search", {"country": "GB"}).headers["quota-used"])
    sandbox.get("/account/numbers")
    time.sleep(0.35)

    after = int(sandbox.get("/number/search", {"country": "GB"}).headers["quota-used"])

    assert after == before + 2


def test_quota_spent_on_the_control_surface_is_what_the_next_answer_shows(sandbox):
    # Another user of the same app has made 150 calls this minute: the API-wide window is
    # then the tightest, and the one a listing's headers describe.
    sandbox.reset(quota="strict")
    sandbox.token  # noqa: B018

    used = sandbox.controller.spend_quota("api", 150)
    listing = sandbox.get("/account/numbers")

    assert used == 150
    assert listing.status_code == 200
    assert listing.headers["quota-limit"] == "180"
    assert listing.headers["quota-used"] == "151"


def test_spending_a_window_the_mode_does_not_have_spends_nothing(sandbox):
    assert sandbox.controller.spend_quota("list", 10) == 0  # the generous mode has no list window

    assert sandbox.get("/account/numbers").headers["quota-used"] == "1"


def test_a_quota_spend_with_bad_fields_is_refused(sandbox):
    response = requests.post(
        f"{sandbox.base_url}/_sandbox/quota",
        json={"bucket": "everything", "calls": -1, "when": "now"},
        timeout=TIMEOUT,
    )

    assert response.status_code == 400
    assert set(response.json()) == {"bucket", "calls", "when"}


def test_a_buy_refused_by_the_spike_arrest_buys_nothing(sandbox):
    sandbox.reset(quota="strict")
    first, second = sandbox.search(country="GB", type="mobile-lvn", size=2)["numbers"]
    time.sleep(0.35)

    assert sandbox.buy(first).status_code == 200
    assert sandbox.buy(second).status_code == 429
    assert sandbox.owned_number(second["msisdn"]) is None


def test_token_calls_have_their_own_strict_bucket_and_no_spike_arrest(sandbox):
    sandbox.reset(quota="strict")
    token = sandbox.token
    used = int(sandbox.get("/number/search", {"country": "GB"}).headers["quota-used"])

    fetched = [sandbox.fetch_token() for _ in range(4)]

    assert [response.status_code for response in fetched] == [200] * 4
    assert fetched[-1].headers["quota-limit"] == "180"
    time.sleep(0.35)
    search = sandbox.get("/number/search", {"country": "GB"}, headers=sandbox.bearer(token))
    assert int(search.headers["quota-used"]) == used + 1


def test_a_minutes_allowance_used_up_is_refused_until_the_next_minute():
    book = QuotaBook("strict")
    start = 6_000_000.0  # a whole minute, in epoch seconds
    # Two operations, each within its spike arrest, use up the API's 180 calls a minute.
    moments = [start + 0.34 * i for i in range(90)]
    allowed = [
        book.take("app", operation, now).allowed
        for now in moments
        for operation in ("GET /number/search", "POST /number/cancel")
    ]

    refused = book.take("app", "POST /number/update", start + 40)

    assert all(allowed)
    assert not refused.allowed
    assert refused.spike_rate is None
    assert refused.retry_after == 20
    assert book.take("app", "POST /number/update", start + 60.5).allowed


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
