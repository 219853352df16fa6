"""Mirror the account's numbers into the portal's cache (see services.owned_numbers_sync).

    python manage.py sync_numbers              # once; exits non-zero when the sync fails
    python manage.py sync_numbers --every 15m  # a worker: one sync per interval, until stopped

The worker:
- stops on SIGTERM or SIGINT: a wait ends at once, a sync in progress is abandoned before its
  next request (it changes nothing; at most one request's timeout is waited out) and the
  process exits 0. A second signal stops it on the spot.
- survives API and database outages: a failed sync is logged, the cache keeps the last good
  listing, and the next attempt backs off (`retry_delay`).
- never syncs twice at once, on any number of hosts: the services take a database lease;
  a worker that finds it held says so and tries again an interval later.
"""

import argparse
import logging
import os
import re
import signal
import socket
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import SyncRun
from inventory.services import sync

log = logging.getLogger("inventory.sync")

# No schedule or retry is tighter than this: a sync costs ⌈N/100⌉ calls of a small quota.
MINIMUM_SECONDS = 30
# The first retry after a failure; each further failure doubles it, up to the interval.
FIRST_RETRY_SECONDS = 30
# How often a wait looks at the stop flag: the longest a stop waits for a waiting worker.
POLL_SECONDS = 0.2

_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_interval(text: str) -> int:
    """Seconds in "90s", "15m" or "1h"; at least MINIMUM_SECONDS."""
    match = re.fullmatch(r"(\d{1,6})([smh])", text.strip().lower())
    if not match:
        raise ValueError(f"“{text}” is not an interval like 30s, 15m or 1h.")
    seconds = int(match[1]) * _UNITS[match[2]]
    if seconds < MINIMUM_SECONDS:
        raise ValueError(f"The interval must be at least {MINIMUM_SECONDS}s.")
    return seconds


def retry_delay(*, failures: int, interval: int) -> int:
    """Seconds to wait after `failures` failed syncs in a row (0: the normal interval).

    30 s, 1 m, 2 m, 4 m ... capped at the interval, so a short outage costs little staleness
    and a long one is asked no more often than the schedule asks a healthy API."""
    if failures <= 0:
        return interval
    backoff = FIRST_RETRY_SECONDS * 2 ** min(failures - 1, 16)
    return max(MINIMUM_SECONDS, min(backoff, interval))


def human(seconds: int) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class StopFlag:
    """Raised by SIGTERM or SIGINT. A signal handler may safely do little more than set a
    flag, so waits poll it instead of being woken."""

    def __init__(self):
        self.reason = ""

    def set(self, reason: str) -> None:
        self.reason = reason

    def is_set(self) -> bool:
        return bool(self.reason)

    def wait(self, seconds: float) -> bool:
        """Sleep for `seconds` unless stopped first; True when stopped."""
        deadline = time.monotonic() + seconds
        while not self.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(POLL_SECONDS, remaining))
        return True


class ShuttingDown(api.ApiError):
    """The worker was asked to stop: the sync in progress is abandoned (and changes nothing)."""


class StoppableClient(api.NumbersApiClient):
    """The worker's client: once stopped it sends no further list request and skips the
    rest of any wait (a retry's back-off, a quota window) by raising ShuttingDown."""

    def __init__(self, config: api.ApiConfig, *, stop: StopFlag):
        self._stop = stop
        super().__init__(config, sleep=self._pause)

    def _pause(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise ShuttingDown("The worker was asked to stop, so the sync was abandoned.")

    def list_owned(self, **kwargs) -> api.Page[api.OwnedNumber]:
        self._pause(0)
        return super().list_owned(**kwargs)


class SyncSchedule:
    """One sync per interval until stopped. `wait(seconds) -> stopped` is injectable, so tests
    can see every delay the schedule chooses without waiting for it."""

    def __init__(self, *, interval: int, stop: StopFlag, client=None, wait=None):
        self.interval = interval
        self.stop = stop
        self.client = client or StoppableClient(api.ApiConfig.from_settings(), stop=stop)
        self.wait = wait or stop.wait
        self.failures = 0

    def run(self) -> None:
        log.info(
            "Syncing every %s on %s (pid %d); SIGTERM or Ctrl-C stops.",
            human(self.interval),
            socket.gethostname(),
            os.getpid(),
        )
        while not self.stop.is_set():
            delay = self.attempt()
            if self.stop.is_set() or self.wait(delay):
                break

    def attempt(self) -> int:
        """One sync; returns the seconds until the next."""
        close_old_connections()  # a connection that broke or aged during the wait
        try:
            run = sync.owned_numbers_sync(client=self.client, actor=Actor.system("sync_numbers"))
        except sync.SyncAlreadyRunning as busy:
            # Another worker (or the Sync now button) is at it: its result serves us too.
            return self._report("sync_skipped", f"Skipped: {busy}")
        except Exception as error:  # the database is down, or a bug: the schedule goes on
            log.exception("The sync could not run: %s", error)
            return self._failed("The sync could not run (see the error above).")
        if run.status == SyncRun.Status.SUCCEEDED:
            self.failures = 0
            return self._report("sync_succeeded", f"Synced: {run.message}")
        if self.stop.is_set():
            log.info("Abandoned: %s", run.message, extra={"event": "sync_abandoned"})
            return 0
        return self._failed(run.message)

    def _failed(self, message: str) -> int:
        self.failures += 1
        delay = retry_delay(failures=self.failures, interval=self.interval)
        log.warning(
            "Sync failed (%d in a row): %s The cache keeps the last good sync. Next attempt in %s.",
            self.failures,
            message,
            human(delay),
            extra={"event": "sync_failed", "failures": self.failures, "next_in_seconds": delay},
        )
        return delay

    def _report(self, event: str, message: str) -> int:
        delay = self.interval
        log.info(
            "%s Next attempt in %s.",
            message,
            human(delay),
            extra={"event": event, "failures": self.failures, "next_in_seconds": delay},
        )
        return delay


def _interval(text: str) -> int:
    try:
        return parse_interval(text)
    except ValueError as problem:
        raise argparse.ArgumentTypeError(str(problem)) from problem


class Command(BaseCommand):
    help = (
        "Sync the owned-number cache with the account (one sync at a time, everywhere). "
        "With --every, keep syncing on a schedule until SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=_interval,
            metavar="INTERVAL",
            help=f"Sync every INTERVAL (30s, 15m, 1h; at least {MINIMUM_SECONDS}s) until stopped.",
        )

    def handle(self, *args, every=None, **options):
        if every is None:
            run = self.sync_once()
            if run.status != SyncRun.Status.SUCCEEDED:
                raise CommandError(run.message)
            return
        stop = StopFlag()

        def on_signal(signum, frame):
            stop.set(signal.Signals(signum).name)
            # A second signal interrupts whatever runs (a sync is recorded as interrupted).
            signal.signal(signal.SIGTERM, signal.default_int_handler)
            signal.signal(signal.SIGINT, signal.default_int_handler)

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            SyncSchedule(interval=every, stop=stop).run()
        except KeyboardInterrupt:
            raise CommandError("Stopped at once by a second signal.") from None
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("Stopped on %s.", stop.reason, extra={"event": "sync_worker_stopped"})

    def sync_once(self) -> SyncRun:
        try:
            run = sync.owned_numbers_sync(actor=Actor.system("sync_numbers"))
        except sync.SyncAlreadyRunning as busy:
            raise CommandError(str(busy)) from busy
        self.stdout.write(run.message)
        return run
