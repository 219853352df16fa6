"""A sync on an account the portal is busy with: buying or cancelling while the listing is
read changes the count between pages; the sync finishes when its own work explains that."""

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import Action, Operation, Outcome, OwnedNumber, SyncRun
from inventory.services.cancel import number_cancel
from inventory.services.purchase import number_purchase
from inventory.services.sync import owned_numbers_sync
from inventory.tests.base import BaseTestCase

LIST = "GET /account/numbers"


class ClientThatWorksMeanwhile(api.NumbersApiClient):
    """The sync's client; after the first page of the listing, `meanwhile` runs, as another
    person's purchase or cancellation would between two of the sync's requests."""

    def __init__(self, meanwhile):
        super().__init__(api.ApiConfig.from_settings())
        self.meanwhile = meanwhile

    def list_owned(self, **kwargs):
        page = super().list_owned(**kwargs)
        if kwargs.get("index") == 1 and not kwargs.get("pattern") and self.meanwhile:
            work, self.meanwhile = self.meanwhile, None
            work()
        return page


class BusyAccountSyncTestCase(BaseTestCase):
    def setUp(self):
        self.sandbox.reset(owned=250)
        owned_numbers_sync(actor=Actor.system("tests"))  # the baseline
        self.first_owned = min(self.sandbox.owned())

    def sync_while(self, work) -> SyncRun:
        return owned_numbers_sync(
            actor=Actor.system("tests"), client=ClientThatWorksMeanwhile(work)
        )

    def buy_one(self):
        offer = api.default_client().search_available(country="GB", size=1).items[0]
        self.bought = number_purchase(
            actor=self.actor(self.operator), offer=offer, form_token="during-sync"
        )

    def cancel_first(self):
        self.cancelled = number_cancel(
            actor=self.actor(self.operator),
            msisdn=self.first_owned,
            typed_msisdn=self.first_owned,
            form_token="during-sync",
        )

    def test_a_purchase_during_a_multi_page_sync_lets_both_succeed(self):
        run = self.sync_while(self.buy_one)

        assert self.bought.outcome == Outcome.SUCCEEDED
        assert run.status == SyncRun.Status.SUCCEEDED, run.message
        assert OwnedNumber.objects.count() == 251
        assert not Operation.objects.filter(action__startswith="drift").exists()

    def test_a_cancellation_during_a_sync_loses_no_number_that_shifted_between_pages(self):
        run = self.sync_while(self.cancel_first)

        assert self.cancelled.outcome == Outcome.SUCCEEDED
        assert run.status == SyncRun.Status.SUCCEEDED, run.message
        assert OwnedNumber.objects.count() == 249
        assert set(OwnedNumber.objects.values_list("msisdn", flat=True)) == set(
            self.sandbox.owned()
        )
        assert not Operation.objects.filter(action=Action.DRIFT_DISAPPEARED).exists()

    def test_a_change_the_portal_did_not_make_still_stops_the_sync(self):
        run = self.sync_while(lambda: self.sandbox.change_account(add_random=1))

        assert run.status == SyncRun.Status.FAILED
        assert "does not explain" in run.message
        assert OwnedNumber.objects.count() == 250
