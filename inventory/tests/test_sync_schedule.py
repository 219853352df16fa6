"""`sync_numbers --every`, in process: the schedule's choices (intervals, back-off, skips),
seen through an injected wait that records each delay instead of sleeping through it."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from inventory import api_client as api
from inventory.management.commands.sync_numbers import (
    ShuttingDown,
    StopFlag,
    StoppableClient,
    SyncSchedule,
    parse_interval,
    retry_delay,
)
from inventory.models import Lease, OwnedNumber, SyncRun
from inventory.services.leases import lease_acquire
from inventory.services.sync import SYNC_LEASE
from inventory.tests.transactional import TrailTransactionTestCase

LIST = "GET /account/numbers"
QUARTER_HOUR = 15 * 60


def test_intervals_are_read_in_seconds_minutes_or_hours():
    assert parse_interval("30s") == 30
    assert parse_interval("15m") == 900
    assert parse_interval(" 2H ") == 7200


@pytest.mark.parametrize("text", ["15", "m", "1d", "-5m", "1.5h", "", "10s", "0m"])
def test_an_interval_without_a_unit_or_under_thirty_seconds_is_refused(text):
    with pytest.raises(ValueError, match="interval"):
        parse_interval(text)


def test_the_command_refuses_a_schedule_tighter_than_thirty_seconds():
    with pytest.raises(CommandError, match="at least 30s"):
        call_command("sync_numbers", "--every", "5s", stdout=io.StringIO())


def test_failures_back_off_from_thirty_seconds_doubling_up_to_the_interval():
    delays = [retry_delay(failures=n, interval=QUARTER_HOUR) for n in range(8)]
    assert delays == [900, 30, 60, 120, 240, 480, 900, 900]


def test_a_retry_is_never_tighter_than_thirty_seconds_nor_looser_than_the_interval():
    assert [retry_delay(failures=n, interval=60) for n in range(4)] == [60, 30, 60, 60]
    assert [retry_delay(failures=n, interval=30) for n in range(3)] == [30, 30, 30]
    assert retry_delay(failures=10_000, interval=3600) == 3600


def test_a_stop_ends_a_wait_at_once_and_an_unstopped_wait_runs_out():
    stop = StopFlag()
    assert stop.wait(0.01) is False
    stop.set("SIGTERM")
    assert stop.wait(3600) is True


class SyncScheduleTestCase(TrailTransactionTestCase):
    """Real commits: the schedule refreshes its database connection before each sync."""

    @pytest.fixture(autouse=True)
    def _attach_sandbox(self, sandbox):
        self.sandbox = sandbox

    def schedule(self, wait, *, stop=None) -> SyncSchedule:
        stop = stop or StopFlag()
        client = StoppableClient(api.ApiConfig.from_settings(), stop=stop)
        return SyncSchedule(interval=QUARTER_HOUR, stop=stop, client=client, wait=wait)

    def test_an_outage_is_logged_keeps_the_last_good_cache_and_backs_off_until_it_ends(self):
        self.sandbox.reset(owned=3)
        delays, cached = [], []

        def wait(seconds):
            delays.append(seconds)
            cached.append(OwnedNumber.objects.count())
            if len(delays) == 1:  # after a good sync, the account changes and the API fails
                self.sandbox.change_account(add_random=2)
                self.sandbox.fault(LIST, "error", status=500, count=1000)
            if len(delays) == 4:  # after three failed attempts, the API is back
                self.sandbox.clear_faults()
            return len(delays) == 5  # stopped

        with self.assertLogs("inventory.sync", level="INFO") as logs:
            self.schedule(wait).run()

        assert delays == [900, 30, 60, 120, 900]
        assert cached == [3, 3, 3, 3, 5]
        events = [getattr(r, "event", None) for r in logs.records]
        assert events == [None, "sync_succeeded", *["sync_failed"] * 3, "sync_succeeded"]
        failures = [r.getMessage() for r in logs.records if r.levelname == "WARNING"]
        assert failures[0] == (
            "Sync failed (1 in a row): The sync stopped and changed nothing: The API reported "
            "a server error (HTTP 500). The cache keeps the last good sync. Next attempt in 30s."
        )
        assert "Sync failed (3 in a row)" in failures[2]
        assert failures[2].endswith("Next attempt in 2m.")
        statuses = list(SyncRun.objects.order_by("started_at").values_list("status", flat=True))
        assert statuses == ["succeeded", "failed", "failed", "failed", "succeeded"]

    def test_a_database_outage_is_survived_like_an_api_outage(self):
        real_name = connection.settings_dict["NAME"]
        delays = []

        def wait(seconds):
            delays.append(seconds)
            connection.close()
            if len(delays) == 1:  # the database goes away: connecting fails from now on
                connection.settings_dict["NAME"] = (
                    "/nonexistent/dir/db.sqlite3" if connection.vendor == "sqlite" else "no_db"
                )
            else:
                connection.settings_dict["NAME"] = real_name
            return len(delays) == 3

        try:
            with self.assertLogs("inventory.sync", level="INFO") as logs:
                self.schedule(wait).run()
        finally:
            connection.close()
            connection.settings_dict["NAME"] = real_name

        assert delays == [900, 30, 900]
        events = [getattr(r, "event", None) for r in logs.records]
        assert events == [None, "sync_succeeded", None, "sync_failed", "sync_succeeded"]
        assert logs.records[2].getMessage().startswith("The sync could not run: ")
        assert SyncRun.objects.filter(status="succeeded").count() == 2

    def test_a_held_lease_skips_the_round_says_so_and_waits_a_whole_interval(self):
        lease_acquire(name=SYNC_LEASE, holder="web-2:5678", seconds=600)
        delays = []

        def wait(seconds):
            delays.append(seconds)
            return True

        with self.assertLogs("inventory.sync", level="INFO") as logs:
            self.schedule(wait).run()

        assert delays == [900]
        assert logs.records[-1].event == "sync_skipped"
        assert logs.records[-1].getMessage() == (
            "Skipped: A sync is already running (started by web-2); it will finish on its own. "
            "Next attempt in 15m."
        )
        assert self.sandbox.calls(LIST) == 0
        assert not SyncRun.objects.exists()
        assert Lease.objects.get().holder == "web-2:5678"

    def test_a_stopped_worker_sends_no_further_list_request(self):
        stop = StopFlag()
        client = StoppableClient(api.ApiConfig.from_settings(), stop=stop)
        stop.set("SIGTERM")
        with pytest.raises(ShuttingDown):
            client.list_owned()
        assert self.sandbox.calls(LIST) == 0
