"""`run_worker` as real processes on the test database and the session sandbox: a worker
killed mid-task is replaced and nothing is sent twice; several workers share a queue."""

import signal
import time

import pytest
from django.db import connection
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import Action, Batch, Operation, Outcome, OwnedNumber, SyncRun
from inventory.services import batches
from inventory.tasks import purchase_task, sync_numbers_task
from inventory.tests.base import make_user
from inventory.tests.processes import PortalProcess, portal_environment
from inventory.tests.transactional import TrailTransactionTestCase

pytestmark = pytest.mark.processes

BUY = "POST /number/buy"
LIST = "GET /account/numbers"
# Short leases, so a dead worker is noticed within seconds rather than half a minute.
QUICK = {
    "TASK_WORKER_HEARTBEAT_SECONDS": "0.5",
    "TASK_WORKER_LEASE_SECONDS": "3",
    "LEASE_SECONDS": "3",
}


def offer_fields(offer: api.AvailableNumber) -> dict:
    return {
        "country": offer.country,
        "msisdn": offer.msisdn,
        "type": offer.type,
        "features": list(offer.features),
        "cost": str(offer.cost),
        "initial_price": str(offer.initial_price),
    }


def task_ended(result_id) -> bool:
    status = DBTaskResult.objects.get(id=result_id).status
    return status in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)


class TaskWorkerTestCase(TrailTransactionTestCase):
    @pytest.fixture(autouse=True)
    def _attach_sandbox(self, sandbox):
        self.sandbox = sandbox

    def setUp(self):
        self.operator = make_user("olivia", "Operator")

    def worker(self, **environment) -> PortalProcess:
        process = PortalProcess.manage(
            "run_worker", "--interval", "0.1", env=portal_environment(**QUICK, **environment)
        )
        self.addCleanup(process.stop)
        return process

    def wait_until(self, condition, *, timeout: float = 90) -> None:
        give_up = time.monotonic() + timeout  # a safety net, not an assertion
        while not condition():
            assert time.monotonic() < give_up, "the condition never came true"
            time.sleep(0.1)

    def offers(self, count: int) -> list[api.AvailableNumber]:
        return list(api.default_client().search_available(country="GB", size=count).items)

    def test_a_worker_killed_while_buying_is_replaced_and_the_number_is_bought_once(self):
        offer = self.offers(1)[0]
        self.sandbox.fault(BUY, "delay", delay=4)  # the buy is in flight for a while
        result = purchase_task.enqueue(
            user_id=self.operator.pk, form_token="killed-worker", offer=offer_fields(offer)
        )
        first = self.worker()
        self.wait_until(lambda: self.sandbox.calls(BUY) == 1)

        first.signal(signal.SIGKILL)
        first.wait()
        # The provider completes the purchase though nobody hears its answer.
        self.wait_until(lambda: offer.msisdn in self.sandbox.owned())
        second = self.worker()
        self.wait_until(lambda: task_ended(result.id))

        task = DBTaskResult.objects.get(id=result.id)
        assert task.status == TaskResultStatus.SUCCESSFUL, task.traceback
        assert len(task.worker_ids) == 2  # run again by the second worker
        assert self.sandbox.calls(BUY) == 1  # never re-sent
        entry = Operation.objects.get(form_token="killed-worker")
        assert entry.outcome == Outcome.UNKNOWN  # interrupted: nobody heard the answer
        assert entry.final_outcome == Outcome.SUCCEEDED  # settled from the account
        assert OwnedNumber.objects.get(msisdn=offer.msisdn).purchased_by == self.operator
        second.signal(signal.SIGTERM)
        assert second.wait() == 0

    def test_several_workers_run_each_queued_task_exactly_once(self):
        if connection.vendor != "postgresql":
            pytest.skip("several workers claiming at once is the PostgreSQL deployment")
        offers = self.offers(30)
        results = [
            purchase_task.enqueue(
                user_id=self.operator.pk, form_token=f"bulk-{i}", offer=offer_fields(offer)
            )
            for i, offer in enumerate(offers)
        ]
        workers = [self.worker() for _ in range(3)]

        self.wait_until(lambda: all(task_ended(result.id) for result in results))

        assert self.sandbox.calls(BUY) == 30
        assert all(len(DBTaskResult.objects.get(id=r.id).worker_ids) == 1 for r in results)
        ran_by = {ids[0] for ids in DBTaskResult.objects.values_list("worker_ids", flat=True)}
        assert len(ran_by) >= 2  # the queue was shared
        purchases = Operation.objects.filter(action=Action.PURCHASE)
        assert purchases.filter(outcome=Outcome.SUCCEEDED).count() == 30
        for worker in workers:
            worker.signal(signal.SIGTERM)

    def test_a_sync_waits_in_the_queue_until_a_worker_starts(self):
        self.sandbox.reset(owned=5)
        run = SyncRun.objects.create(started_by="olivia", status=SyncRun.Status.QUEUED)
        sync_numbers_task.enqueue(run_id=run.pk, user_id=self.operator.pk)
        time.sleep(1)  # no worker: nothing happens
        run.refresh_from_db()
        assert run.status == SyncRun.Status.QUEUED
        assert self.sandbox.calls(LIST) == 0

        self.worker()
        self.wait_until(lambda: SyncRun.objects.get(pk=run.pk).status == SyncRun.Status.SUCCEEDED)

        assert OwnedNumber.objects.count() == 5

    def test_a_first_worker_on_a_never_synced_portal_syncs_by_itself(self):
        self.sandbox.reset(owned=4)

        self.worker()
        self.wait_until(lambda: SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists())

        assert OwnedNumber.objects.count() == 4
        assert SyncRun.objects.get().started_by == "first sync"

    def test_a_worker_killed_mid_batch_is_replaced_and_no_item_is_bought_twice(self):
        offers = self.offers(5)
        batches.selection_add(user=self.operator, offers=offers)
        actor = Actor(user=self.operator, username="olivia")
        batch = batches.purchase_batch_create(actor=actor)
        batches.batch_check(batch_id=batch.pk)
        self.sandbox.fault(BUY, "delay", delay=3, skip=2)  # the third buy is slow
        batches.batch_confirm(actor=actor, batch_id=batch.pk)
        first = self.worker()
        self.wait_until(lambda: self.sandbox.calls(BUY) == 3)

        first.signal(signal.SIGKILL)
        first.wait()
        self.wait_until(lambda: offers[2].msisdn in self.sandbox.owned())
        second = self.worker()
        self.wait_until(lambda: Batch.objects.get(pk=batch.pk).status == Batch.Status.DONE)

        assert self.sandbox.calls(BUY) == 5  # one each, the interrupted one never re-sent
        assert set(self.sandbox.owned()) >= {offer.msisdn for offer in offers}
        items = Batch.objects.get(pk=batch.pk).items.select_related("operation")
        assert all(item.operation.final_outcome == Outcome.SUCCEEDED for item in items)
        assert OwnedNumber.objects.count() == 5
        second.signal(signal.SIGTERM)
        assert second.wait() == 0
