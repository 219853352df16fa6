"""The record says what the account shows: after the API says yes, a buy or cancel is
checked by an exact lookup; a number that comes back keeps what the portal knew of it."""

from decimal import Decimal

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import Action, Operation, Outcome, OwnedNumber, RetiredNumber
from inventory.services.cancel import number_cancel
from inventory.services.numbers import number_annotate
from inventory.services.purchase import number_purchase
from inventory.services.sync import owned_numbers_sync
from inventory.tests.base import BaseTestCase

BUY = "POST /number/buy"
CANCEL = "POST /number/cancel"
LIST = "GET /account/numbers"


class TrustThenVerifyTestCase(BaseTestCase):
    def setUp(self):
        self.api = api.default_client()
        self.offer = self.api.search_available(country="GB", type="mobile-lvn", size=1).items[0]

    def buy(self, token="buy"):
        return number_purchase(actor=self.actor(self.operator), offer=self.offer, form_token=token)

    def cancel(self, token="cancel"):
        msisdn = self.offer.msisdn
        return number_cancel(
            actor=self.actor(self.operator), msisdn=msisdn, typed_msisdn=msisdn, form_token=token
        )

    def sync(self):
        return owned_numbers_sync(actor=Actor.system("tests"))

    def test_a_confirmed_purchase_is_looked_up_before_it_counts(self):
        entry = self.buy()

        assert entry.outcome == Outcome.SUCCEEDED
        assert self.sandbox.calls(BUY) == 1
        assert self.sandbox.calls(LIST) == 1  # the exact lookup

    def test_a_purchase_the_account_does_not_show_is_not_recorded_as_bought(self):
        self.sandbox.fault(BUY, "ignore")  # "success", but nothing bought

        entry = self.buy()

        assert entry.outcome == Outcome.UNKNOWN
        assert "does not show the number" in entry.reason
        assert not OwnedNumber.objects.filter(msisdn=self.offer.msisdn).exists()
        self.sync()
        assert entry.final_outcome == Outcome.FAILED
        assert not OwnedNumber.objects.filter(msisdn=self.offer.msisdn).exists()
        assert self.sandbox.calls(BUY) == 1

    def test_a_cancellation_the_account_does_not_show_keeps_the_number_and_its_bill(self):
        self.buy()
        self.sandbox.fault(CANCEL, "ignore")  # "success", but the number stays owned

        entry = self.cancel()

        assert entry.outcome == Outcome.UNKNOWN
        assert "still shows the number" in entry.reason
        number = OwnedNumber.objects.get(msisdn=self.offer.msisdn)
        assert number.monthly_cost == self.offer.cost
        self.sync()
        assert entry.final_outcome == Outcome.FAILED
        number.refresh_from_db()
        assert number.purchased_by == self.operator
        assert not Operation.objects.filter(action__startswith="drift").exists()

    def test_a_number_that_comes_back_after_a_cancellation_keeps_its_local_fields(self):
        bought = self.buy()
        number = OwnedNumber.objects.get(msisdn=self.offer.msisdn)
        number_annotate(
            actor=self.actor(self.operator),
            number=number,
            values={"label": "Reception", "team": "Front desk", "notes": "Main line"},
        )
        self.sync()  # the first sync is the baseline; the next one reports drift
        self.cancel()
        assert RetiredNumber.objects.filter(msisdn=self.offer.msisdn).exists()
        # The provider puts the number back (the cancellation did not hold).
        offer = self.offer
        back_in_account = {"country": "GB", "msisdn": offer.msisdn, "type": offer.type}
        self.sandbox.change_account(add=[{**back_in_account, "features": list(offer.features)}])

        self.sync()

        back = OwnedNumber.objects.get(msisdn=self.offer.msisdn)
        assert (back.label, back.team, back.notes) == ("Reception", "Front desk", "Main line")
        assert back.monthly_cost == self.offer.cost
        assert back.purchased_by == self.operator
        assert back.purchased_at == bought.completed_at
        assert not RetiredNumber.objects.filter(msisdn=self.offer.msisdn).exists()
        assert Operation.objects.filter(action=Action.DRIFT_APPEARED).count() == 1

    def test_buying_a_number_again_starts_a_new_life_without_the_old_notes(self):
        self.buy()
        number = OwnedNumber.objects.get(msisdn=self.offer.msisdn)
        number_annotate(actor=self.actor(self.operator), number=number, values={"label": "Old"})
        self.cancel()

        self.buy(token="buy-again")

        again = OwnedNumber.objects.get(msisdn=self.offer.msisdn)
        assert again.label == ""
        assert not RetiredNumber.objects.exists()
        assert again.monthly_cost == Decimal(self.offer.cost)
