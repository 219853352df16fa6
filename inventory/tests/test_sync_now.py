""" "Sync now": the sync is queued for the task worker, and the page follows its state."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from inventory.models import Action, Lease, Operation, Outcome, OwnedNumber, SyncRun
from inventory.services.leases import lease_acquire
from inventory.services.sync import SYNC_LEASE
from inventory.tests.base import BaseTestCase
from inventory.tests.tasks import run_queued_tasks

LIST = "GET /account/numbers"


class SyncNowTestCase(BaseTestCase):
    def test_it_queues_a_sync_that_only_the_task_worker_runs(self):
        self.sandbox.reset(owned=3)
        self.login(self.operator)

        response = self.client.post("/inventory/sync/", follow=True)

        self.assertContains(response, "Sync queued")
        run = SyncRun.objects.get()
        assert run.status == SyncRun.Status.QUEUED
        assert run.started_by == "olivia"
        assert self.sandbox.calls(LIST) == 0  # the web request sent nothing
        assert DBTaskResult.objects.get(id=run.task_id).status == TaskResultStatus.READY

        run_queued_tasks()

        run.refresh_from_db()
        assert run.status == SyncRun.Status.SUCCEEDED
        assert OwnedNumber.objects.count() == 3
        assert Operation.objects.get(action=Action.SYNC).actor_username == "olivia"

    def test_a_second_press_while_one_waits_says_so_and_queues_nothing(self):
        self.login(self.operator)
        self.client.post("/inventory/sync/")

        response = self.client.post("/inventory/sync/", follow=True)

        self.assertContains(response, "A sync is already waiting for the task worker")
        assert SyncRun.objects.count() == 1
        assert DBTaskResult.objects.count() == 1

    def test_the_state_endpoint_follows_the_run_from_queued_to_done(self):
        self.sandbox.reset(owned=250)
        self.login(self.operator)
        self.client.post("/inventory/sync/")

        queued = self.client.get("/inventory/sync/state.json").json()
        run_queued_tasks()
        done = self.client.get("/inventory/sync/state.json").json()

        assert queued["state"] == "queued"
        assert "Waiting for the task worker" in queued["message"]
        assert done == {
            "state": "done",
            "progress": 1.0,
            "message": "250 numbers in 3 list calls: 250 appeared, 0 disappeared, 0 changed, "
            "0 unknown outcomes settled.",
            "done_url": "/inventory/",
        }

    def test_a_queued_sync_that_finds_another_running_says_it_did_not_run(self):
        self.login(self.operator)
        self.client.post("/inventory/sync/")
        lease_acquire(name=SYNC_LEASE, holder="sync_numbers:abcd1234", seconds=60)

        run_queued_tasks()

        run = SyncRun.objects.get()
        assert run.status == SyncRun.Status.FAILED
        assert run.message.startswith("This sync did not run: A sync is already running")
        assert self.sandbox.calls(LIST) == 0

    def test_a_viewer_cannot_queue_a_sync(self):
        self.login(self.viewer)
        assert self.client.post("/inventory/sync/").status_code == 403
        assert not SyncRun.objects.exists()


class DeadSyncTestCase(BaseTestCase):
    """A sync whose process died leaves a run marked running and a lease nobody renews."""

    def leave_a_dead_sync(self, *, expired: bool) -> SyncRun:
        run = SyncRun.objects.create(
            status=SyncRun.Status.RUNNING, started_by="sync_numbers", holder="sync_numbers:dead"
        )
        expires = timezone.now() + timedelta(seconds=-1 if expired else 60)
        Lease.objects.create(name=SYNC_LEASE, holder="sync_numbers:dead", expires_at=expires)
        return run

    def test_the_next_sync_marks_the_dead_run_abandoned_and_syncs(self):
        self.sandbox.reset(owned=2)
        dead = self.leave_a_dead_sync(expired=True)
        self.login(self.operator)

        self.client.post("/inventory/sync/")
        run_queued_tasks()

        dead.refresh_from_db()
        assert dead.status == SyncRun.Status.ABANDONED
        assert "stopped before it finished" in dead.message
        assert not SyncRun.objects.filter(status=SyncRun.Status.RUNNING).exists()
        assert SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).count() == 1
        assert OwnedNumber.objects.count() == 2

    def test_a_live_holder_is_named(self):
        self.leave_a_dead_sync(expired=False)
        self.login(self.operator)

        response = self.client.post("/inventory/sync/", follow=True)

        self.assertContains(response, "A sync is already running (started by sync_numbers at")
        assert SyncRun.objects.count() == 1

    def test_the_abandoned_run_is_shown_as_a_failure_not_as_running(self):
        self.leave_a_dead_sync(expired=True)
        self.sandbox.fault(LIST, "error", status=500, count=10)
        self.login(self.operator)
        self.client.post("/inventory/sync/")
        run_queued_tasks()

        page = self.client.get("/inventory/")

        self.assertContains(page, "Last sync failed")
        self.assertNotContains(page, "Sync running")
        assert Operation.objects.filter(action=Action.SYNC, outcome=Outcome.FAILED).exists()
