"""`sync_numbers --every` as a real process on the test database and the session sandbox:
it stops cleanly on a signal, and two of them never sync at once."""

import signal
import time

import pytest
from django.utils import timezone

from inventory.audit import Actor
from inventory.models import Lease, OwnedNumber, SyncRun
from inventory.services.sync import owned_numbers_sync
from inventory.tests.processes import PortalProcess, portal_environment
from inventory.tests.transactional import TrailTransactionTestCase

pytestmark = pytest.mark.processes

LIST = "GET /account/numbers"
WAITING = "Next attempt in 1h."


class SyncWorkerTestCase(TrailTransactionTestCase):
    @pytest.fixture(autouse=True)
    def _attach_sandbox(self, sandbox):
        self.sandbox = sandbox

    def worker(self, **environment) -> PortalProcess:
        process = PortalProcess.manage(
            "sync_numbers", "--every", "1h", env=portal_environment(**environment)
        )
        self.addCleanup(process.stop)
        return process

    def wait_until(self, condition, *, timeout: float = 60) -> None:
        give_up = time.monotonic() + timeout  # a safety net, not an assertion
        while not condition():
            assert time.monotonic() < give_up, "the condition never came true"
            time.sleep(0.05)

    def test_sigterm_while_it_waits_stops_it_with_exit_code_zero_and_it_says_so(self):
        self.sandbox.reset(owned=3)
        worker = self.worker()
        worker.wait_for(WAITING)

        worker.signal(signal.SIGTERM)

        assert worker.wait() == 0
        assert "Synced: 3 numbers in 1 list calls" in worker.output
        assert "Stopped on SIGTERM." in worker.output
        assert OwnedNumber.objects.count() == 3

    def test_ctrl_c_stops_it_the_same_way(self):
        worker = self.worker()
        worker.wait_for(WAITING)

        worker.signal(signal.SIGINT)

        assert worker.wait() == 0
        assert "Stopped on SIGINT." in worker.output

    def test_sigterm_during_a_sync_abandons_it_changes_nothing_and_frees_the_lease(self):
        self.sandbox.reset(owned=3)
        # Every page request hangs until the worker's read timeout: the sync is in progress.
        self.sandbox.fault(LIST, "timeout", delay=5, count=1000)
        worker = self.worker()
        self.wait_until(lambda: self.sandbox.calls(LIST) >= 1)

        worker.signal(signal.SIGTERM)

        assert worker.wait() == 0
        assert "Abandoned: The sync stopped and changed nothing" in worker.output
        assert "Stopped on SIGTERM." in worker.output
        run = SyncRun.objects.get()
        assert run.status == SyncRun.Status.FAILED
        assert not Lease.objects.exists()
        assert not OwnedNumber.objects.exists()

    def test_two_workers_never_sync_at_once_one_syncs_and_the_other_says_it_skipped(self):
        self.sandbox.reset(owned=3)
        # Whichever worker takes the lease first holds it through a slow first page, long
        # enough for the other, started at the same moment, to find it taken.
        self.sandbox.fault(LIST, "delay", delay=5)
        slow_api = {"NUMBERS_API_READ_TIMEOUT": "30", "NUMBERS_API_DEADLINE": "60"}
        workers = [self.worker(**slow_api), self.worker(**slow_api)]
        for worker in workers:
            worker.wait_for(WAITING)

        outputs = [worker.output for worker in workers]
        synced = [out for out in outputs if "Synced: 3 numbers in 1 list calls" in out]
        skipped = [
            out
            for out in outputs
            # "at HH:MM:SS" follows once the holder's run row is written; a claim caught
            # between taking the lease and writing that row names only the holder.
            if "Skipped: A sync is already running (started by sync_numbers" in out
        ]
        assert (len(synced), len(skipped)) == (1, 1), "\n---\n".join(outputs)
        assert synced != skipped
        assert self.sandbox.calls(LIST) == 1
        assert SyncRun.objects.get().status == SyncRun.Status.SUCCEEDED
        for worker in workers:
            worker.signal(signal.SIGTERM)
        assert [worker.wait() for worker in workers] == [0, 0]

    def test_a_sync_killed_mid_listing_leaves_nothing_running_and_the_next_one_starts(self):
        self.sandbox.reset(owned=250)
        # The second page hangs: the sync is killed while it waits for it.
        self.sandbox.fault(LIST, "delay", delay=30, skip=1)
        slow_api = {"NUMBERS_API_READ_TIMEOUT": "40", "NUMBERS_API_DEADLINE": "60"}
        worker = self.worker(LEASE_SECONDS="3", **slow_api)
        self.wait_until(lambda: SyncRun.objects.filter(list_calls=1).exists())

        worker.signal(signal.SIGKILL)
        worker.wait()
        self.sandbox.clear_faults()
        dead = SyncRun.objects.get()
        assert dead.status == SyncRun.Status.RUNNING  # nobody could record its end

        # Its lease expires within seconds; the next sync takes over and marks the run.
        self.wait_until(lambda: not Lease.objects.filter(expires_at__gte=timezone.now()).exists())
        run = owned_numbers_sync(actor=Actor.system("tests"))

        assert run.status == SyncRun.Status.SUCCEEDED
        dead.refresh_from_db()
        assert dead.status == SyncRun.Status.ABANDONED
        assert not SyncRun.objects.filter(status=SyncRun.Status.RUNNING).exists()
        assert OwnedNumber.objects.count() == 250
