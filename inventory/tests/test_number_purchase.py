"""number_purchase: every way a purchase can end, checked against the sandbox's account."""

from inventory import api_client as api
from inventory.audit import audit_append, verify_chain
from inventory.models import Action, Operation, Outcome, OwnedNumber
from inventory.services.operations import OperationRefused, unsettled_unknown
from inventory.services.purchase import number_purchase
from inventory.tests.base import BaseTestCase

BUY = "POST /number/buy"
LIST = "GET /account/numbers"


class NumberPurchaseTestCase(BaseTestCase):
    def setUp(self):
        self.client_api = api.default_client()
        self.offer = self.client_api.search_available(
            country="GB", type="mobile-lvn", size=1
        ).items[0]

    def buy(self, token="form-1", offer=None):
        return number_purchase(
            client=self.client_api,
            actor=self.actor(self.operator),
            offer=offer or self.offer,
            form_token=token,
        )

    def test_it_buys_and_caches_the_number_with_its_price_and_buyer(self):
        entry = self.buy()

        assert entry.outcome == Outcome.SUCCEEDED
        assert (entry.http_status, entry.provider_code) == (200, "200")
        cached = OwnedNumber.objects.get(msisdn=self.offer.msisdn)
        assert cached.monthly_cost == self.offer.cost
        assert cached.setup_cost == self.offer.initial_price
        assert cached.purchased_by == self.operator
        assert cached.purchased_at == entry.completed_at
        assert self.offer.msisdn in self.sandbox.owned()
        assert self.sandbox.calls(BUY) == 1

    def test_it_records_who_what_and_the_price_shown(self):
        entry = self.buy()

        assert entry.action == Action.PURCHASE
        assert entry.actor_username == "olivia"
        assert entry.ip == "127.0.0.1"
        assert entry.request == {"country": "GB", "msisdn": self.offer.msisdn}
        assert (entry.monthly_cost, entry.setup_cost) == (self.offer.cost, self.offer.initial_price)
        assert verify_chain()[1] is None

    def test_a_resubmitted_form_shows_the_first_outcome_and_sends_nothing(self):
        first = self.buy(token="same-form")
        second = self.buy(token="same-form")

        assert second.pk == first.pk
        assert self.sandbox.calls(BUY) == 1

    def test_a_number_the_cache_already_holds_is_refused_without_a_call(self):
        self.buy(token="first")

        with self.assertRaisesMessage(OperationRefused, "already owns"):
            self.buy(token="second")

        assert self.sandbox.calls(BUY) == 1
        refusal = Operation.objects.get(form_token="second")
        assert refusal.outcome == Outcome.FAILED

    def test_a_number_someone_is_already_buying_is_refused_without_a_call(self):
        audit_append(
            action=Action.PURCHASE,
            actor=self.actor(self.viewer),
            country="GB",
            msisdn=self.offer.msisdn,
        )

        with self.assertRaisesMessage(OperationRefused, "Someone else"):
            self.buy()

        assert self.sandbox.calls(BUY) == 0

    def test_a_number_bought_elsewhere_is_explained_as_already_owned(self):
        self.sandbox.change_account(
            add=[{"country": "GB", "msisdn": self.offer.msisdn, "type": "mobile-lvn",
                  "features": ["SMS", "VOICE"]}]
        )  # fmt: skip

        entry = self.buy()

        assert entry.outcome == Outcome.FAILED
        assert (entry.http_status, entry.provider_code) == (420, "420")
        assert entry.provider_label
        assert "already owns" in entry.reason
        assert not OwnedNumber.objects.exists()

    def test_a_number_no_longer_on_sale_is_explained_as_such(self):
        gone = api.AvailableNumber(
            country="GB", msisdn="447700900999", type="mobile-lvn", features=("SMS",),
            cost=self.offer.cost, initial_price=self.offer.initial_price,
        )  # fmt: skip

        entry = self.buy(offer=gone)

        assert entry.outcome == Outcome.FAILED
        assert "no longer available" in entry.reason

    def test_a_lost_answer_after_the_purchase_took_effect_is_settled_as_bought(self):
        self.sandbox.fault(BUY, "reset", after_effect=True)

        entry = self.buy()

        entry.refresh_from_db()
        assert entry.outcome == Outcome.UNKNOWN
        assert entry.settlement.outcome == Outcome.SUCCEEDED
        assert entry.final_outcome == Outcome.SUCCEEDED
        assert OwnedNumber.objects.get(msisdn=self.offer.msisdn).monthly_cost == self.offer.cost
        assert self.sandbox.calls(BUY) == 1

    def test_a_server_error_before_the_purchase_took_effect_is_settled_as_not_bought(self):
        self.sandbox.fault(BUY, "error", status=502)

        entry = self.buy()

        assert entry.outcome == Outcome.UNKNOWN
        assert entry.final_outcome == Outcome.FAILED
        assert not OwnedNumber.objects.exists()
        assert self.offer.msisdn not in self.sandbox.owned()
        assert self.sandbox.calls(BUY) == 1

    def test_a_timeout_after_the_purchase_took_effect_is_settled_as_bought(self):
        self.sandbox.fault(BUY, "timeout", after_effect=True, delay=3)

        entry = self.buy()

        assert entry.final_outcome == Outcome.SUCCEEDED
        assert OwnedNumber.objects.filter(msisdn=self.offer.msisdn).exists()
        assert self.sandbox.calls(BUY) == 1

    def test_an_outcome_that_cannot_be_looked_up_stays_unknown_and_blocks_the_number(self):
        self.sandbox.fault(BUY, "malformed", after_effect=True)
        self.sandbox.fault(LIST, "error", status=500, count=50)

        entry = self.buy()

        assert entry.final_outcome == Outcome.UNKNOWN
        assert unsettled_unknown(self.offer.msisdn) == entry
        with self.assertRaisesMessage(OperationRefused, "still unknown"):
            self.buy(token="another-try")
        assert self.sandbox.calls(BUY) == 1

    def test_a_purchase_the_gateway_keeps_throttling_fails_and_says_nothing_changed(self):
        self.sandbox.fault(BUY, "throttle", delay=30)  # longer than the client's deadline

        entry = self.buy()

        assert entry.outcome == Outcome.FAILED
        assert "Nothing was changed" in entry.reason
        assert not OwnedNumber.objects.exists()
