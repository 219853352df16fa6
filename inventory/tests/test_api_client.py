"""The API client against the sandbox, over loopback: tokens, retries, faults, parsing."""

import dataclasses
import logging
import socket

import pytest
from django.core.cache import cache

from inventory.api_client import (
    TOKEN_CACHE_KEY,
    ApiBadResponse,
    ApiConfig,
    ApiCredentialsRejected,
    ApiError,
    ApiMethodFailed,
    ApiOutcomeUnknown,
    ApiRequestInvalid,
    ApiThrottled,
    ApiUnreachable,
    NumbersApiClient,
)

TOKEN_CALL = "POST /oauth/client_credential/accesstoken"
LIST_CALL = "GET /account/numbers"
BUY_CALL = "POST /number/buy"


class Sleeps(list):
    """Records the client's waits instead of waiting: tests stay fast and can check them."""

    def __call__(self, seconds):
        self.append(seconds)


def make_client(**config_changes):
    sleeps = Sleeps()
    config = dataclasses.replace(ApiConfig.from_settings(), **config_changes)
    return NumbersApiClient(config, sleep=sleeps), sleeps


def an_available_number(client, country="GB", type="mobile-lvn"):
    return client.search_available(country=country, type=type, size=1).items[0]


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- tokens -----------------------------------------------------------------------------------


def test_it_fetches_a_token_once_and_shares_it_through_the_cache(sandbox):
    first, _ = make_client()
    second, _ = make_client()  # another worker process, sharing the cache

    first.list_owned()
    second.list_owned()

    assert sandbox.calls(TOKEN_CALL) == 1
    assert sandbox.calls(LIST_CALL) == 2


def test_it_renews_the_token_after_the_cached_one_expires(sandbox):
    client, _ = make_client()
    client.list_owned()
    cache.delete(TOKEN_CACHE_KEY)  # what the cache does when the token's time is up

    client.list_owned()

    assert sandbox.calls(TOKEN_CALL) == 2


def test_it_fetches_a_new_token_once_when_the_api_refuses_an_expired_one(sandbox):
    client, _ = make_client()
    client.list_owned()
    sandbox.expire_tokens()

    page = client.list_owned()

    assert page.count == 0
    assert sandbox.calls(TOKEN_CALL) == 2
    assert sandbox.responses(LIST_CALL) == {"200": 2, "401": 1}


def test_it_gives_up_after_one_refetch_when_the_api_keeps_refusing(sandbox):
    client, _ = make_client()
    sandbox.fault(LIST_CALL, "error", status=401, count=5)

    with pytest.raises(ApiCredentialsRejected):
        client.list_owned()

    assert sandbox.calls(TOKEN_CALL) == 2
    assert sandbox.calls(LIST_CALL) == 2


def test_it_explains_refused_credentials_without_revealing_the_secret(sandbox):
    client, _ = make_client(client_secret="wrong-secret-value")

    with pytest.raises(ApiCredentialsRejected) as raised:
        client.list_owned()

    assert "NUMBERS_API_CLIENT_SECRET" in str(raised.value)
    assert "wrong-secret-value" not in str(raised.value)
    assert client.check_token() is False


def test_a_token_is_reported_when_one_can_be_had(sandbox):
    client, _ = make_client()
    assert client.check_token() is True
    assert client.check_token() is True
    assert sandbox.calls(TOKEN_CALL) == 1


# --- reads ------------------------------------------------------------------------------------


def test_an_empty_account_lists_as_an_empty_page(sandbox):
    client, _ = make_client()
    page = client.list_owned()
    assert (page.count, page.items) == (0, ())


def test_it_reads_every_page_of_a_250_number_account(sandbox):
    sandbox.reset(owned=250)
    client, _ = make_client()

    pages = [client.list_owned(index=index, size=100) for index in (1, 2, 3)]

    msisdns = {number.msisdn for page in pages for number in page.items}
    assert [len(page.items) for page in pages] == [100, 100, 50]
    assert all(page.count == 250 for page in pages)
    assert len(msisdns) == 250
    assert msisdns == set(sandbox.owned())


def test_search_results_carry_prices_as_decimals(sandbox):
    client, _ = make_client()
    page = client.search_available(country="NL", type="mobile-lvn", size=5)

    assert page.count >= 1000
    assert len(page.items) == 5
    for number in page.items:
        assert number.country == "NL"
        assert number.msisdn.startswith("316")
        assert number.cost is not None
        assert number.cost > 0
        assert number.initial_price is not None


def test_a_get_is_retried_after_a_503(sandbox):
    client, sleeps = make_client()
    sandbox.fault(LIST_CALL, "error", status=503, count=2)

    assert client.list_owned().count == 0
    assert sandbox.calls(LIST_CALL) == 3
    assert len(sleeps) == 2


def test_a_get_waits_as_long_as_retry_after_says(sandbox):
    client, sleeps = make_client()
    sandbox.fault(LIST_CALL, "throttle", delay=2, count=1)

    assert client.list_owned().count == 0
    assert sandbox.responses(LIST_CALL) == {"429": 1, "200": 1}
    assert sleeps
    assert sleeps[0] >= 2


def test_a_get_gives_up_when_throttling_outlasts_the_deadline(sandbox):
    client, _ = make_client(deadline=1.0)
    sandbox.fault(LIST_CALL, "throttle", delay=5, count=3)

    with pytest.raises(ApiThrottled) as raised:
        client.list_owned()
    assert raised.value.retry_after == 5


def test_a_malformed_list_is_reported_as_such(sandbox):
    client, _ = make_client()
    sandbox.fault(LIST_CALL, "malformed")

    with pytest.raises(ApiBadResponse):
        client.list_owned()


def test_an_unreachable_api_is_reported_as_such():
    client, sleeps = make_client(base_url=f"http://127.0.0.1:{closed_port()}/api", deadline=1)
    cache.set(TOKEN_CACHE_KEY, "a-token-from-earlier")

    with pytest.raises(ApiUnreachable):
        client.list_owned()
    assert sleeps  # it retried before giving up


def test_a_refused_search_names_the_field(sandbox):
    client, _ = make_client()
    with pytest.raises(ApiRequestInvalid) as raised:
        client.search_available(country="GB", type="satellite")
    assert "type" in raised.value.errors


def test_find_owned_matches_the_whole_number_only(sandbox):
    client, _ = make_client()
    shorter = an_available_number(client)
    client.buy(country=shorter.country, msisdn=shorter.msisdn)

    assert client.find_owned(msisdn=shorter.msisdn).msisdn == shorter.msisdn
    assert client.find_owned(msisdn=shorter.msisdn[:-1]) is None


# --- writes -----------------------------------------------------------------------------------


def test_a_purchase_is_confirmed(sandbox):
    client, _ = make_client()
    number = an_available_number(client)

    confirmation = client.buy(country=number.country, msisdn=number.msisdn)

    assert (confirmation.code, confirmation.http_status) == ("200", 200)
    assert number.msisdn in sandbox.owned()


def test_a_declined_purchase_keeps_the_providers_code_and_label(sandbox):
    client, _ = make_client()
    number = an_available_number(client)
    client.buy(country=number.country, msisdn=number.msisdn)

    with pytest.raises(ApiMethodFailed) as raised:
        client.buy(country=number.country, msisdn=number.msisdn)

    assert raised.value.status == 420
    assert raised.value.code == "420"
    assert raised.value.label


@pytest.mark.parametrize("kind", ["reset", "timeout", "error", "malformed"])
def test_a_purchase_whose_answer_is_lost_is_unknown_and_never_resent(sandbox, kind):
    client, _ = make_client()
    number = an_available_number(client)
    sandbox.fault(BUY_CALL, kind, after_effect=True, delay=3)

    with pytest.raises(ApiOutcomeUnknown):
        client.buy(country=number.country, msisdn=number.msisdn)

    assert sandbox.calls(BUY_CALL) == 1
    assert number.msisdn in sandbox.owned()


def test_a_purchase_refused_by_the_gateway_quota_is_sent_again(sandbox):
    client, sleeps = make_client()
    number = an_available_number(client)
    sandbox.fault(BUY_CALL, "throttle", delay=1)

    client.buy(country=number.country, msisdn=number.msisdn)

    assert sandbox.responses(BUY_CALL) == {"429": 1, "200": 1}
    assert sleeps
    assert sleeps[0] >= 1


def test_a_purchase_is_sent_again_after_one_token_refusal(sandbox):
    client, _ = make_client()
    number = an_available_number(client)
    sandbox.expire_tokens()

    client.buy(country=number.country, msisdn=number.msisdn)

    assert sandbox.responses(BUY_CALL) == {"401": 1, "200": 1}
    assert number.msisdn in sandbox.owned()


def test_a_purchase_that_cannot_connect_is_unreachable_not_unknown():
    client, sleeps = make_client(base_url=f"http://127.0.0.1:{closed_port()}/api", deadline=1)
    cache.set(TOKEN_CACHE_KEY, "a-token-from-earlier")

    with pytest.raises(ApiUnreachable):
        client.buy(country="GB", msisdn="447700900123")
    assert sleeps


def test_an_update_the_api_rejects_names_the_field(sandbox):
    client, _ = make_client()
    number = an_available_number(client)
    client.buy(country=number.country, msisdn=number.msisdn)

    with pytest.raises(ApiRequestInvalid) as raised:
        client.update(
            country=number.country, msisdn=number.msisdn, changes={"voiceCallbackType": "sip"}
        )
    assert raised.value.errors


# --- quota and logs ---------------------------------------------------------------------------


def test_it_remembers_the_last_quota_figures_per_call(sandbox):
    client, _ = make_client()
    client.list_owned()

    quota = client.last_quotas()[LIST_CALL]

    assert quota.limit
    assert quota.limit > 0
    assert quota.used >= 1
    assert quota.time_unit


def test_under_the_strict_quota_it_paces_itself_instead_of_being_throttled(sandbox):
    sandbox.reset(owned=300, quota="strict")
    client = NumbersApiClient(ApiConfig.from_settings())  # real sleeps: it must really wait

    for index in (1, 2, 3):
        client.list_owned(index=index, size=100)

    assert sandbox.responses(LIST_CALL) == {"200": 3}


def test_under_the_strict_quota_changes_wait_for_their_spike_arrest_slot(sandbox):
    sandbox.reset(quota="strict")
    client = NumbersApiClient(ApiConfig.from_settings())  # real sleeps: it must really wait
    first, second = client.search_available(country="GB", type="mobile-lvn", size=2).items

    client.buy(country=first.country, msisdn=first.msisdn)
    client.buy(country=second.country, msisdn=second.msisdn)

    assert sandbox.responses(BUY_CALL) == {"200": 2}
    assert client.last_quotas()[BUY_CALL].time_unit == "minute"


def test_a_listing_after_a_burst_of_changes_keeps_to_its_own_spike_arrest(sandbox):
    # With most of the API-wide allowance spent, a listing's headers describe that window
    # (180 a minute, a third of a second apart), not the listing's own once a second.
    sandbox.reset(owned=300, quota="strict")
    sandbox.spend_quota("api", 150)
    client = NumbersApiClient(ApiConfig.from_settings())  # real sleeps: it must really wait

    for index in (1, 2, 3):
        client.list_owned(index=index, size=100)

    assert client.last_quotas()[LIST_CALL].limit == 180
    assert sandbox.responses(LIST_CALL) == {"200": 3}


def test_a_listing_paced_by_a_window_it_saw_before_even_when_the_latest_answer_hides_it(
    sandbox,
):
    sandbox.reset(owned=300, quota="strict")
    client = NumbersApiClient(ApiConfig.from_settings())  # real sleeps: it must really wait
    client.list_owned(index=1, size=100)  # described by the listing's own 60 a minute
    sandbox.spend_quota("api", 150)

    client.list_owned(index=2, size=100)
    client.list_owned(index=3, size=100)

    assert sandbox.responses(LIST_CALL) == {"200": 3}


def test_on_the_generous_quota_listings_follow_each_other_without_waiting(sandbox):
    sandbox.reset(owned=300)
    client, sleeps = make_client()

    for index in (1, 2, 3):
        client.list_owned(index=index, size=100)

    assert sleeps == []
    assert sandbox.responses(LIST_CALL) == {"200": 3}


def test_a_pace_learned_under_the_strict_quota_ends_once_an_answer_shows_more_room(sandbox):
    sandbox.reset(owned=300, quota="strict")
    client, sleeps = make_client()
    client.list_owned(index=1, size=100)
    sandbox.reset(owned=300)  # the generous quota: 100,000 calls a minute

    client.list_owned(index=1, size=100)  # may still keep the strict pace: nothing said more
    waits_before = len(sleeps)
    client.list_owned(index=2, size=100)
    client.list_owned(index=3, size=100)

    assert len(sleeps) == waits_before
    assert client.last_quotas()[LIST_CALL].limit == 100_000


def test_after_a_spike_arrest_that_kind_of_call_keeps_a_seconds_gap(sandbox):
    client, sleeps = make_client()
    sandbox.fault(LIST_CALL, "spike_arrest")
    client.list_owned()  # refused, waited for, sent again
    assert len(sleeps) == 1

    client.list_owned()

    assert sandbox.responses(LIST_CALL) == {"429": 1, "200": 2}
    assert len(sleeps) == 2
    assert sleeps[1] > 0.9  # the next listing waited for its slot


def test_no_secret_or_token_reaches_the_logs(sandbox, caplog):
    client, _ = make_client()
    number = an_available_number(client)
    with caplog.at_level(logging.DEBUG):
        client.buy(country=number.country, msisdn=number.msisdn)
        client.list_owned()

    token = cache.get(TOKEN_CACHE_KEY)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "POST /number/buy -> 200" in logged
    assert client.config.client_secret not in logged
    assert token
    assert token not in logged


@pytest.mark.parametrize(("kind", "status"), [("malformed", None), ("error", 200), ("error", 500)])
def test_a_garbled_token_answer_is_an_api_error_not_a_crash(sandbox, kind, status):
    client, _ = make_client()
    sandbox.fault(TOKEN_CALL, kind, **({"status": status} if status else {}))

    with pytest.raises(ApiError):
        client.list_owned()
    assert client.check_token() is True  # the next fetch works again
