"""Every kind of answer the real API, its Apigee gateway and KPN's proxy have been seen to
give, produced by the sandbox over loopback and read by the client: the exception, the
sentence a person sees, how many calls went out, and for a change what the record says."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory import api_client as api
from inventory.api_client.wire import (
    field_errors,
    names_invalid_client,
    parse_available,
    parse_owned,
    parse_page,
)
from inventory.errors import api_error_message
from inventory.models import Outcome, OwnedNumber
from inventory.services.cancel import number_cancel
from inventory.services.purchase import number_purchase
from inventory.tests.base import BaseTestCase

TOKEN_CALL = "POST /oauth/client_credential/accesstoken"
LIST_CALL = "GET /account/numbers"
SEARCH_CALL = "GET /number/search"
BUY_CALL = "POST /number/buy"
CANCEL_CALL = "POST /number/cancel"
APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"


class Sleeps(list):
    """Records the client's waits instead of waiting."""

    def __call__(self, seconds):
        self.append(seconds)


def make_client(**config_changes):
    sleeps = Sleeps()
    config = dataclasses.replace(api.ApiConfig.from_settings(), **config_changes)
    return api.NumbersApiClient(config, sleep=sleeps), sleeps


def on_sale(client, type="mobile-lvn"):
    return client.search_available(country="GB", type=type, size=1).items[0]


def readable(message: str) -> None:
    """What every message a person sees must be: a sentence, not a repr, one full stop."""
    assert message.endswith(".")
    assert ".." not in message
    assert "{" not in message
    assert "'" not in message.replace("portal's", "").replace("app's", "")


# --- refusals on reads --------------------------------------------------------------------------


def test_a_403_on_a_read_is_a_refusal_that_says_to_check_the_apps_entitlement(sandbox):
    client, _ = make_client()
    sandbox.fault(LIST_CALL, "forbidden")

    with pytest.raises(api.ApiRefused) as raised:
        client.list_owned()

    message = api_error_message(raised.value, doing="sync")
    assert "entitled to the Phone Numbers API product" in message
    assert "not entitled to use this API product" in message  # KPN's own words, quoted
    readable(message)
    assert sandbox.calls(LIST_CALL) == 1
    assert sandbox.calls(TOKEN_CALL) == 1


def test_a_404_is_a_refusal_that_says_to_check_the_base_url(sandbox, sandbox_server):
    client, _ = make_client(base_url=sandbox_server.api_url + "/v9")

    with pytest.raises(api.ApiRefused) as raised:
        client.search_available(country="GB")

    message = api_error_message(raised.value, doing="search")
    assert message.startswith("The search did not run.")
    assert "NUMBERS_API_BASE_URL" in message
    readable(message)
    assert sandbox.calls("GET /v9/number/search") == 1


def test_an_app_without_the_product_is_told_so_and_no_new_token_is_fetched(sandbox):
    client, _ = make_client()
    sandbox.fault(SEARCH_CALL, "not_subscribed")

    with pytest.raises(api.ApiRefused) as raised:
        client.search_available(country="GB")

    assert "not subscribed to the Phone Numbers API product" in str(raised.value)
    readable(api_error_message(raised.value, doing="search"))
    assert sandbox.calls(TOKEN_CALL) == 1
    assert sandbox.calls(SEARCH_CALL) == 1


def test_the_providers_own_401_is_not_cured_by_a_new_token(sandbox):
    client, _ = make_client()
    sandbox.fault(LIST_CALL, "provider_code", status=401, code="401", label="authentication failed")

    with pytest.raises(api.ApiCredentialsRejected) as raised:
        client.list_owned()

    assert "provider behind the KPN gateway" in str(raised.value)
    assert "authentication failed" in str(raised.value)
    readable(str(raised.value))
    assert sandbox.calls(TOKEN_CALL) == 1
    assert sandbox.calls(LIST_CALL) == 1


def test_a_200_carrying_a_refusals_code_is_not_read_as_a_list(sandbox):
    client, _ = make_client()
    sandbox.fault(LIST_CALL, "provider_code", code="401", label="authentication failed")

    with pytest.raises(api.ApiCredentialsRejected):
        client.list_owned()

    assert sandbox.calls(LIST_CALL) == 1


def test_a_kpn_server_error_envelope_is_described_in_its_own_words(sandbox):
    client, sleeps = make_client()
    sandbox.fault(LIST_CALL, "kpn_error", status=500, label="The backend timed out")

    with pytest.raises(api.ApiBadResponse) as raised:
        client.list_owned()

    assert str(raised.value) == "The API reported a server error (HTTP 500: The backend timed out)."
    assert sandbox.calls(LIST_CALL) == 1
    assert sleeps == []


# --- throttling, whatever its status -------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500])
@pytest.mark.parametrize("kind", ["quota", "spike_arrest"])
def test_an_apigee_rate_limit_fault_makes_a_read_wait_and_try_again(sandbox, kind, status):
    client, sleeps = make_client()
    sandbox.fault(LIST_CALL, kind, status=status)

    page = client.list_owned()

    assert page.count == 0
    assert sandbox.calls(LIST_CALL) == 2
    assert len(sleeps) == 1
    if kind == "spike_arrest":  # no Retry-After: about a second, the spike window
        assert sleeps[0] >= 1.0


def test_a_read_throttled_past_its_deadline_says_so_in_words(sandbox):
    client, _ = make_client(deadline=0.5)
    sandbox.fault(LIST_CALL, "quota", status=500, count=10)

    with pytest.raises(api.ApiThrottled) as raised:
        client.list_owned()

    message = api_error_message(raised.value, doing="sync")
    assert "busy" in message
    assert "server error" not in message
    readable(message)
    assert 1 <= sandbox.calls(LIST_CALL) <= 4


@pytest.mark.parametrize("kind", ["quota", "spike_arrest"])
def test_a_buy_refused_by_a_rate_limit_fault_at_500_is_sent_again(sandbox, kind):
    client, _ = make_client()
    number = on_sale(client)
    sandbox.fault(BUY_CALL, kind, status=500)

    confirmation = client.buy(country=number.country, msisdn=number.msisdn)

    assert confirmation.resent is True
    assert sandbox.calls(BUY_CALL) == 2
    assert sandbox.owned_number(number.msisdn) is not None


def test_a_buy_sent_once_says_it_was_not_resent(sandbox):
    client, _ = make_client()
    number = on_sale(client)

    assert client.buy(country=number.country, msisdn=number.msisdn).resent is False


def test_a_buy_sent_again_after_a_token_refresh_says_so(sandbox):
    client, _ = make_client()
    number = on_sale(client)
    sandbox.expire_tokens()

    confirmation = client.buy(country=number.country, msisdn=number.msisdn)

    assert confirmation.resent is True
    assert sandbox.calls(TOKEN_CALL) == 2


def test_a_decline_after_a_resend_says_an_earlier_copy_may_have_worked(sandbox):
    client, _ = make_client()
    number = on_sale(client)
    # The gateway throttled the first copy only after the provider had bought the number.
    sandbox.fault(BUY_CALL, "throttle", after_effect=True)

    with pytest.raises(api.ApiMethodFailed) as raised:
        client.buy(country=number.country, msisdn=number.msisdn)

    assert raised.value.resent is True
    assert sandbox.calls(BUY_CALL) == 2
    assert sandbox.owned_number(number.msisdn) is not None


# --- the token endpoint --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("kpn_error", {"status": 500, "label": "invalid_client-invalid_client_id"}),
        ("invalid_client", {"shape": "fault"}),
        ("invalid_client", {"shape": "oauth"}),
        ("invalid_client", {"shape": "oauth", "status": 400}),
    ],
)
def test_refused_client_credentials_are_read_as_such_in_every_shape(sandbox, kind, options):
    client, _ = make_client()
    sandbox.fault(TOKEN_CALL, kind, **options)

    with pytest.raises(api.ApiCredentialsRejected) as raised:
        client.list_owned()

    assert "NUMBERS_API_CLIENT_SECRET" in str(raised.value)
    readable(api_error_message(raised.value, doing="search"))
    assert sandbox.calls(TOKEN_CALL) == 1
    assert sandbox.calls(LIST_CALL) == 0


def test_a_kpn_token_answer_with_its_extra_fields_gives_a_working_token(sandbox):
    client, _ = make_client()

    assert client.check_token() is True
    assert client.list_owned().count == 0
    assert sandbox.responses(LIST_CALL) == {"200": 1}


@pytest.mark.parametrize("status", [429, 500])
def test_a_rate_limited_token_endpoint_is_throttling_not_a_failed_service(sandbox, status):
    client, _ = make_client()
    sandbox.fault(TOKEN_CALL, "quota", status=status)

    with pytest.raises(api.ApiThrottled):
        client.list_owned()


# --- reading records one by one ------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["bare", "count", "numbers", "count_and_numbers"])
def test_every_empty_list_shape_reads_as_an_empty_page(sandbox, shape):
    client, _ = make_client()
    sandbox.fault(SEARCH_CALL, "empty_list", shape=shape)
    sandbox.fault(LIST_CALL, "empty_list", shape=shape)

    found = client.search_available(country="GB")
    owned = client.list_owned()

    assert (found.count, found.items, found.unreadable) == (0, (), ())
    assert (owned.count, owned.items) == (0, ())


def test_a_search_result_without_a_type_is_named_by_its_msisdn_and_left_out(sandbox):
    client, _ = make_client()
    first = client.search_available(country="GB", type="mobile-lvn", size=3).items[0]
    sandbox.fault(SEARCH_CALL, "broken_record", drop=["type"])

    page = client.search_available(country="GB", type="mobile-lvn", size=3)

    assert len(page.items) == 2
    assert first.msisdn not in {item.msisdn for item in page.items}
    assert page.unreadable == (f"the record for {first.msisdn}",)


def test_a_record_without_an_msisdn_is_named_by_its_place(sandbox):
    client, _ = make_client()
    sandbox.fault(SEARCH_CALL, "broken_record", drop=["msisdn", "country"])

    page = client.search_available(country="GB", size=3)

    assert page.unreadable == ("record 1 of the page",)
    assert len(page.items) == 2


# --- the fields the portal used to drop ----------------------------------------------------------


def test_owned_numbers_carry_their_messages_webhook_limitations_and_rent(sandbox):
    limitation = {"feature": "SMS", "type": "OUTBOUND", "reach": "INTERNATIONAL"}
    sandbox.change_account(
        add=[
            {"country": "GB", "msisdn": "447700900123", "type": "mobile-lvn",
             "features": ["VOICE", "SMS"], "messagesCallbackType": "app",
             "messagesCallbackValue": APP_ID, "limitations": [limitation], "cost": "1.25"}
        ]
    )  # fmt: skip
    client, _ = make_client()

    [number] = client.list_owned().items

    assert number.messages_callback_type == "app"
    assert number.messages_callback_value == APP_ID
    assert number.limitations == (api.Limitation("SMS", "OUTBOUND", "INTERNATIONAL"),)
    assert str(number.cost) == "1.25"


def test_numbers_on_sale_keep_their_limitations(sandbox):
    client, _ = make_client()

    number = on_sale(client, type="landline-toll-free")

    assert number.limitations == (api.Limitation("VOICE", "INBOUND", "DOMESTIC"),)


# --- words ---------------------------------------------------------------------------------------


def test_a_decline_whose_label_ends_in_a_full_stop_gets_no_second_one(sandbox):
    client, _ = make_client()
    number = on_sale(client)
    label = "Numbers from this country need a local address on file."
    sandbox.fault(BUY_CALL, "provider_code", status=420, code="420", label=label)

    with pytest.raises(api.ApiMethodFailed) as raised:
        client.buy(country=number.country, msisdn=number.msisdn)

    assert str(raised.value) == f"The API declined the request: {label}"
    assert raised.value.resent is False
    assert raised.value.label == label


def test_a_nested_field_error_is_flattened_into_words_not_a_repr():
    body = {"country": {"reason": "Is required.", "hint": ["GB", "NL"]}, "size": "Too big."}

    assert field_errors(body) == {"country": "Is required.; GB; NL", "size": "Too big."}


def test_envelopes_are_not_mistaken_for_field_errors():
    assert field_errors({"fault": {"faultstring": "Invalid Access Token"}}) == {}
    assert field_errors({"Error": "Bad Request"}) == {}
    assert field_errors({"error": {"message": "Access denied"}}) == {}


# --- changes through the services: a refusal is recorded as failed, never unknown ----------------


class RefusedChangeTestCase(BaseTestCase):
    def setUp(self):
        self.api_client, self.sleeps = make_client(deadline=0.5)
        self.offer = on_sale(self.api_client)

    def buy(self, token="refused"):
        return number_purchase(
            client=self.api_client, actor=self.actor(self.operator), offer=self.offer,
            form_token=token,
        )  # fmt: skip

    def assert_failed_and_nothing_bought(self, entry, *words):
        entry.refresh_from_db()
        assert entry.outcome == Outcome.FAILED
        for word in words:
            assert word in entry.reason
        readable(entry.reason)
        assert self.sandbox.owned_number(self.offer.msisdn) is None
        assert not OwnedNumber.objects.filter(msisdn=self.offer.msisdn).exists()

    def test_a_purchase_refused_with_403_is_failed_and_says_what_to_check(self):
        self.sandbox.fault(BUY_CALL, "forbidden")

        entry = self.buy()

        self.assert_failed_and_nothing_bought(entry, "entitled to the Phone Numbers API product")
        assert self.sandbox.calls(BUY_CALL) == 1

    def test_a_purchase_sent_to_the_wrong_base_url_is_failed(self):
        self.sandbox.fault(BUY_CALL, "error", status=404)

        entry = self.buy()

        self.assert_failed_and_nothing_bought(entry, "NUMBERS_API_BASE_URL")
        assert self.sandbox.calls(BUY_CALL) == 1

    def test_a_purchase_by_an_app_without_the_product_is_failed(self):
        self.sandbox.fault(BUY_CALL, "not_subscribed")

        entry = self.buy()

        self.assert_failed_and_nothing_bought(entry, "not subscribed")
        assert self.sandbox.calls(BUY_CALL) == 1
        assert self.sandbox.calls(TOKEN_CALL) == 1

    def test_a_purchase_throttled_at_500_until_its_deadline_is_failed_not_unknown(self):
        self.sandbox.fault(BUY_CALL, "quota", status=500, count=10)

        entry = self.buy()

        self.assert_failed_and_nothing_bought(entry, "refusing calls for now")
        assert "server error" not in entry.reason
        assert 1 <= self.sandbox.calls(BUY_CALL) <= 4

    def test_a_purchase_refused_by_kpns_proxy_for_the_client_id_is_failed(self):
        self.sandbox.fault(
            BUY_CALL, "kpn_error", status=500, label="invalid_client-invalid_client_id"
        )

        entry = self.buy()

        self.assert_failed_and_nothing_bought(entry, "NUMBERS_API_CLIENT_ID")

    def test_a_purchase_answered_by_kpns_proxy_with_another_500_stays_unknown(self):
        self.sandbox.fault(BUY_CALL, "kpn_error", status=500, label="The backend timed out")

        entry = self.buy()

        entry.refresh_from_db()
        assert entry.outcome == Outcome.UNKNOWN
        assert entry.final_outcome == Outcome.FAILED  # settled by the exact lookup at once

    def test_a_purchase_throttled_at_500_once_is_sent_again_and_succeeds(self):
        self.api_client, _ = make_client()  # time enough to wait out the spike window
        self.sandbox.fault(BUY_CALL, "spike_arrest", status=500)

        entry = self.buy()

        entry.refresh_from_db()
        assert entry.outcome == Outcome.SUCCEEDED
        assert self.sandbox.calls(BUY_CALL) == 2

    def test_a_cancellation_answered_200_with_the_providers_401_is_failed(self):
        self.buy(token="first")
        number = OwnedNumber.objects.get(msisdn=self.offer.msisdn)
        self.sandbox.fault(CANCEL_CALL, "provider_code", code="401", label="authentication failed")

        entry = number_cancel(
            client=self.api_client,
            actor=self.actor(self.operator),
            msisdn=number.msisdn,
            typed_msisdn=number.msisdn,
            form_token="cancel",
        )

        entry.refresh_from_db()
        assert entry.outcome == Outcome.FAILED
        assert "authentication failed" in entry.reason
        assert self.sandbox.owned_number(self.offer.msisdn) is not None
        assert self.sandbox.calls(CANCEL_CALL) == 1


# --- no body, however odd, breaks the readers ----------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
RECORD_KEYS = st.sampled_from(
    ["country", "msisdn", "type", "features", "cost", "initialPrice", "limitations",
     "messagesCallbackType", "messagesCallbackValue", "moHttpUrl", "app_id"]
)  # fmt: skip
RECORDS = st.dictionaries(RECORD_KEYS, JSON_VALUES, max_size=8)
LISTS = st.fixed_dictionaries(
    {}, optional={"count": JSON_VALUES, "numbers": st.lists(RECORDS | JSON_VALUES, max_size=5)}
)


@settings(max_examples=300, deadline=None)
@given(body=LISTS | JSON_VALUES, index=st.integers(1, 5), size=st.integers(1, 100))
def test_any_list_body_is_read_or_refused_as_unreadable(body, index, size):
    for parse in (parse_available, parse_owned):
        try:
            page = parse_page(body, parse, index=index, size=size)
        except api.ApiBadResponse as error:
            readable(str(error))
            continue
        assert page.count >= 0
        assert len(page.items) + len(page.unreadable) == len(body.get("numbers") or [])
        for name in page.unreadable:
            assert name.startswith(("the record for ", "record "))


@settings(max_examples=300, deadline=None)
@given(body=JSON_VALUES)
def test_any_error_body_gives_words_or_nothing_never_a_repr(body):
    for name, words in field_errors(body).items():
        assert isinstance(name, str)
        assert "{" not in words or "{" in str(body)  # the provider's own braces only
    names_invalid_client(body)  # never raises
