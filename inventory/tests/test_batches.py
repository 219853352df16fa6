"""Batches: many numbers bought, configured or cancelled, each an ordinary operation."""

import dataclasses
from decimal import Decimal

import pytest
from django.core.cache import cache

from inventory import api_client as api
from inventory import selectors
from inventory.audit import Actor
from inventory.models import Action, Batch, BatchItem, Operation, Outcome, OwnedNumber
from inventory.services import batches
from inventory.services.batches import BatchRefused
from inventory.tests.base import BaseTestCase
from inventory.tests.tasks import run_queued_tasks

BUY = "POST /number/buy"
UPDATE = "POST /number/update"
CANCEL = "POST /number/cancel"
LIST = "GET /account/numbers"
SEARCH = "GET /number/search"
WEBHOOK = "https://hooks.example.com/fleet"


class BatchTestCase(BaseTestCase):
    def setUp(self):
        self.api = api.default_client()

    def pick(self, count: int, country: str = "GB") -> list[api.AvailableNumber]:
        offers = list(self.api.search_available(country=country, size=count).items)
        batches.selection_add(user=self.operator, offers=offers)
        return offers

    def prepared_purchase(self) -> Batch:
        batch = batches.purchase_batch_create(actor=self.actor(self.operator))
        return batches.batch_check(batch_id=batch.pk)  # what its queued task does

    def confirm(self, batch: Batch, **kwargs) -> Batch:
        return batches.batch_confirm(actor=self.actor(self.operator), batch_id=batch.pk, **kwargs)

    def run_batch(self, batch: Batch) -> Batch:
        run_queued_tasks()
        batch.refresh_from_db()
        return batch

    def states(self, batch: Batch) -> dict[str, str]:
        return dict(batch.items.values_list("msisdn", "state"))


class BulkPurchaseTestCase(BatchTestCase):
    def test_twenty_numbers_with_two_lost_answers_are_bought_once_each_and_settled(self):
        offers = self.pick(20)
        batch = self.prepared_purchase()
        assert batch.status == Batch.Status.REVIEW
        # The 5th buy's answer never comes (nothing bought); the 9th's is an error page
        # sent after the number was bought.
        self.sandbox.fault(BUY, "timeout", delay=3, skip=4)
        self.sandbox.fault(BUY, "error", status=502, after_effect=True, skip=8)

        batch = self.run_batch(self.confirm(batch))

        assert batch.status == Batch.Status.DONE
        assert self.sandbox.calls(BUY) == 20
        owned = self.sandbox.owned()
        timed_out, errored = offers[4].msisdn, offers[8].msisdn
        assert timed_out not in owned
        assert errored in owned
        items = {item.msisdn: item for item in batch.items.select_related("operation")}
        assert sum(item.state == BatchItem.State.DONE for item in items.values()) == 18
        assert items[timed_out].operation.outcome == Outcome.UNKNOWN
        assert items[timed_out].operation.final_outcome == Outcome.FAILED
        assert items[errored].operation.final_outcome == Outcome.SUCCEEDED
        assert OwnedNumber.objects.count() == 19
        assert batch.message.startswith("18 done")

    def test_the_confirmation_is_one_trail_entry_with_every_number_and_the_totals(self):
        offers = self.pick(3)
        batch = self.confirm(self.prepared_purchase())

        entry = batch.entry
        assert entry.action == Action.BATCH
        assert entry.request["numbers"] == [offer.msisdn for offer in offers]
        assert entry.monthly_cost == sum(offer.cost for offer in offers)
        assert entry.setup_cost == sum(offer.initial_price for offer in offers)
        self.run_batch(batch)
        item = batch.items.select_related("operation").first()
        assert item.operation.form_token == item.form_token
        assert item.operation.batch_items.get() == item  # the entry leads back to the batch

    def test_an_offer_that_got_dearer_or_sold_is_left_out_and_says_why(self):
        offers = list(self.api.search_available(country="GB", size=3).items)
        cheaper_than_now = dataclasses.replace(offers[0], cost=offers[0].cost - Decimal("0.5"))
        batches.selection_add(user=self.operator, offers=[cheaper_than_now, *offers[1:]])
        self.api.buy(country="GB", msisdn=offers[1].msisdn)  # someone else buys it

        batch = self.prepared_purchase()

        items = {item.msisdn: item for item in batch.items.all()}
        assert items[offers[0].msisdn].state == BatchItem.State.EXCLUDED
        assert "Dearer than when you picked it" in items[offers[0].msisdn].reason
        assert items[offers[1].msisdn].reason == "No longer on sale."
        totals = batches.batch_totals(batch)
        assert (totals.count, totals.monthly) == (1, offers[2].cost)
        bought_before = self.sandbox.calls(BUY)
        self.run_batch(self.confirm(batch))
        assert self.sandbox.calls(BUY) - bought_before == 1

    def test_confirming_twice_runs_it_once(self):
        self.pick(2)
        batch = self.prepared_purchase()

        self.confirm(batch)
        self.confirm(batch)
        self.run_batch(batch)

        assert self.sandbox.calls(BUY) == 2
        assert Operation.objects.filter(action=Action.BATCH).count() == 1

    def test_a_stop_leaves_the_items_not_yet_started_undone(self):
        self.pick(3)
        batch = self.confirm(self.prepared_purchase())

        batches.batch_stop(actor=self.actor(self.operator), batch_id=batch.pk)
        batch = self.run_batch(batch)

        assert batch.status == Batch.Status.STOPPED
        assert set(self.states(batch).values()) == {BatchItem.State.NOT_STARTED}
        assert self.sandbox.calls(BUY) == 0

    def test_refused_credentials_stop_the_batch_at_the_first_item(self):
        self.pick(4)
        batch = self.confirm(self.prepared_purchase())
        config = dataclasses.replace(api.ApiConfig.from_settings(), client_secret="wrong")
        cache.clear()  # no shared token: the next call asks for one with these credentials

        batches.batch_run(batch_id=batch.pk, client=api.NumbersApiClient(config))

        batch.refresh_from_db()
        assert batch.status == Batch.Status.HALTED
        assert "sent nothing more" in batch.message
        states = list(batch.items.order_by("position").values_list("state", flat=True))
        assert states == ["failed", "not_started", "not_started", "not_started"]
        assert self.sandbox.calls(BUY) == 0

    def test_two_batches_never_act_on_the_same_number_at_once(self):
        offers = self.pick(2)
        first = self.confirm(self.prepared_purchase())
        batches.selection_add(user=self.operator, offers=offers[:1])
        second = self.prepared_purchase()

        with pytest.raises(BatchRefused, match="every number was left out"):
            self.confirm(second)

        item = second.items.get(msisdn=offers[0].msisdn)
        assert item.state == BatchItem.State.EXCLUDED
        assert item.reason == f"Already in bulk operation #{first.pk}."

    def test_only_its_author_can_start_a_batch(self):
        self.pick(1)
        batch = self.prepared_purchase()
        with pytest.raises(BatchRefused, match="Only the person who prepared"):
            batches.batch_confirm(actor=self.actor(self.superuser), batch_id=batch.pk)


class BulkConfigureAndCancelTestCase(BatchTestCase):
    def setUp(self):
        super().setUp()
        self.sandbox.reset(owned=100)
        from inventory.services.sync import owned_numbers_sync

        owned_numbers_sync(actor=Actor.system("tests"))
        self.msisdns = sorted(self.sandbox.owned())

    def test_a_hundred_numbers_are_configured_and_every_one_is_read_back(self):
        batch = batches.configure_batch_create(
            actor=self.actor(self.operator), msisdns=self.msisdns, changes={"moHttpUrl": WEBHOOK}
        )
        list_calls_before = self.sandbox.calls(LIST)

        batch = self.run_batch(self.confirm(batch))

        assert batch.status == Batch.Status.DONE, batch.message
        assert self.sandbox.calls(UPDATE) == 100
        # Read back from one listing of the account (one page of 100) at the end, not 100
        # lookups nor a listing every few numbers.
        assert self.sandbox.calls(LIST) - list_calls_before == 1
        assert set(self.states(batch).values()) == {BatchItem.State.DONE}
        assert all(n["moHttpUrl"] == WEBHOOK for n in self.sandbox.owned().values())
        assert OwnedNumber.objects.filter(mo_http_url=WEBHOOK).count() == 100

    def test_numbers_sent_but_not_yet_read_back_are_shown_as_sent(self):
        batch = batches.configure_batch_create(
            actor=self.actor(self.operator),
            msisdns=self.msisdns[:3],
            changes={"moHttpUrl": WEBHOOK},
        )
        batch = self.confirm(batch)
        Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.RUNNING)
        batch.refresh_from_db()
        runner = batches.BatchRunner(batch)
        for item in batch.items.order_by("position")[:2]:
            runner.do(item)

        progress = selectors.batch_progress(batch=batch)
        assert sorted(progress["items"].values()) == ["queued", "sent", "sent"]
        assert progress["message"] == "0 of 3 done. 2 more sent, being checked against the account."
        assert progress["progress"] == pytest.approx(2 / 3)

        runner.verify_confirmed()
        progress = selectors.batch_progress(batch=batch)
        assert sorted(progress["items"].values()) == ["done", "done", "queued"]
        assert progress["message"] == "2 of 3 done."

    def test_a_bulk_cancellation_needs_the_count_typed(self):
        batch = batches.cancel_batch_create(
            actor=self.actor(self.operator), msisdns=self.msisdns[:12]
        )

        for typed in ("", "cancel 11", "12", "cancel twelve"):
            with pytest.raises(BatchRefused, match="Type “cancel 12”"):
                self.confirm(batch, typed=typed)
        assert self.sandbox.calls(CANCEL) == 0

        batch = self.run_batch(self.confirm(batch, typed="Cancel 12"))
        assert self.sandbox.calls(CANCEL) == 12
        assert OwnedNumber.objects.count() == 88
        assert batch.status == Batch.Status.DONE

    def test_more_than_a_thousand_numbers_are_refused(self):
        with pytest.raises(BatchRefused, match="at most 1,000"):
            batches.cancel_batch_create(
                actor=self.actor(self.operator), msisdns=[f"4477009{i:05d}" for i in range(1001)]
            )
