"""Mirroring the account into the cache: a complete, paced listing, then drift and
settlements recorded. One sync at a time, across processes and hosts: a database lease its
holder renews after every page, so a holder that dies frees it within LEASE_SECONDS."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from inventory import api_client as api
from inventory.audit import Actor, audit_append, audit_append_many
from inventory.models import Action, Operation, Outcome, OwnedNumber, RetiredNumber, SyncRun
from inventory.selectors import (
    SYNC_STATUS_CACHE_KEY,
    sync_status_cache_seconds,
    sync_status_from_database,
)
from inventory.services import background, notifications, pricing
from inventory.services.cache import (
    CACHE_COLUMNS,
    cache_fields,
    cache_snapshot,
    cache_statistics_refresh,
    inventory_changed,
    restored_fields,
)
from inventory.services.leases import lease_acquire, lease_holder, lease_release, lease_renew
from inventory.services.operations import (
    OPERATION_ACTIONS,
    ServiceError,
    stale_operations_interrupt,
)
from inventory.services.settlement import operation_settle_from_listing

log = logging.getLogger(__name__)


class SyncAlreadyRunning(ServiceError):
    pass


class SyncIncomplete(ServiceError):
    pass


SYNC_LEASE = "sync_numbers"
# When the account changed while it was being listed, a number missing from the listing
# may only have shifted across a page boundary: each is looked up before it is removed.
MAX_ABSENCE_LOOKUPS = 20


def _holder_name(actor: Actor) -> str:
    return f"{actor.username or 'portal'}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Listing:
    numbers: dict[str, api.OwnedNumber]
    calls: int
    # The account's count changed during the listing (explained by the portal's own work).
    shifted: bool = False


class AccountListing:
    """Every owned number, 100 a page, or SyncIncomplete: a partial listing proves nothing.
    The count may change during the listing only by what the portal itself did meanwhile."""

    def __init__(self, client: api.NumbersApiClient, *, since: datetime, on_page: Callable):
        self.client = client
        self.since = since
        self.on_page = on_page  # told (numbers seen, list calls made, count) after each page

    def read(self) -> Listing:
        numbers: dict[str, api.OwnedNumber] = {}
        index, expected, shifted = 1, None, False
        while True:
            page = self.client.list_owned(index=index, size=100)
            if expected is None:
                expected = page.count
            elif page.count != expected:
                self.check_explained(first=expected, now=page.count)
                shifted = True
            if page.unreadable:  # a listing with a hole in it proves nothing about that number
                more = len(page.unreadable) - 3
                named = ", ".join(page.unreadable[:3]) + (f" and {more} more" if more > 0 else "")
                raise SyncIncomplete(
                    f"The API sent {named} on page {index} without the fields the portal "
                    "needs (msisdn, country, type); the whole listing is refused."
                )
            numbers.update((number.msisdn, number) for number in page.items)
            self.on_page(len(numbers), index, page.count)
            if not page.items or index * 100 >= page.count:
                break
            index += 1
        if not shifted and len(numbers) != expected:
            raise SyncIncomplete(
                f"The API said the account has {expected} numbers but listed {len(numbers)} "
                "distinct ones."
            )
        return Listing(numbers=numbers, calls=index, shifted=shifted)

    def check_explained(self, *, first: int, now: int) -> None:
        """A count change is explained when the portal bought (or cancelled) at least that
        many numbers since the listing began; anything else means someone else is changing
        the account, and the listing proves nothing."""
        work = Operation.objects.filter(
            Q(outcome=Outcome.PENDING) | Q(created_at__gte=self.since),
            action__in=(Action.PURCHASE, Action.CANCEL),
        )
        bought = work.filter(action=Action.PURCHASE).values("msisdn").distinct().count()
        cancelled = work.filter(action=Action.CANCEL).values("msisdn").distinct().count()
        if not -cancelled <= now - first <= bought:
            raise SyncIncomplete(
                f"The account changed during the sync ({first} numbers, then {now}) in a way "
                "the portal's own work does not explain."
            )


def owned_numbers_sync(
    *,
    actor: Actor,
    run: SyncRun | None = None,
    client: api.NumbersApiClient | None = None,
) -> SyncRun:
    """Mirror the account into the cache. One sync at a time across processes and hosts;
    a failed or partial listing changes no row. Raises SyncAlreadyRunning. `run` is a
    queued run (from "Sync now") to carry out."""
    client = client if client is not None else api.default_client()
    holder = _holder_name(actor)
    run = sync_claim(actor=actor, holder=holder, queued=run)
    try:
        stale_operations_interrupt()
        started = timezone.now()
        listing = AccountListing(
            client, since=started, on_page=functools.partial(_sync_progress, run)
        ).read()
        _complete_shifted_listing(client, listing, since=started)
        with transaction.atomic():
            settled = _settle_from_listing(listing.numbers, actor=actor, listed_from=started)
            baseline = _is_first_sync()
            changes = _reconcile(
                listing.numbers, actor=actor, baseline=baseline, listed_from=started
            )
            _sync_finish(run, listing=listing, settled=settled, changes=changes, actor=actor)
            if not baseline and (changes.appeared or changes.disappeared or changes.changed):
                notifications.drift_found(run=run)  # told once the sync has committed
    except (api.ApiError, ServiceError) as error:
        _sync_fail(run, reason=str(error), actor=actor)
    except BaseException:
        _sync_fail(run, reason="The sync was interrupted.", actor=actor)
        raise
    finally:
        lease_release(name=SYNC_LEASE, holder=holder)
        _publish_sync_status()
    if run.status == SyncRun.Status.SUCCEEDED and (run.appeared or run.disappeared):
        _refresh_statistics()
    if run.status == SyncRun.Status.SUCCEEDED:
        pricing.after_sync()
    return run


def _complete_shifted_listing(
    client: api.NumbersApiClient, listing: Listing, *, since: datetime
) -> None:
    """After a listing during which the account changed, a cached number the listing lacks
    may only have shifted across a page boundary: look each up by its exact number (a
    handful at most) before the reconcile may call it gone."""
    if not listing.shifted:
        return
    cached = set(OwnedNumber.objects.values_list("msisdn", flat=True))
    missing = cached - listing.numbers.keys() - _worked_on_since(since)
    if len(missing) > MAX_ABSENCE_LOOKUPS:
        raise SyncIncomplete(
            "The account changed while it was being listed and too many numbers could not "
            "be seen; nothing was changed. The next sync tries again."
        )
    for msisdn in sorted(missing):
        found = client.find_owned(msisdn=msisdn)
        if found is not None:
            listing.numbers[msisdn] = found


def _refresh_statistics() -> None:
    """Outside the sync's story: a failure here must not turn a committed sync into a failed
    one, only be logged."""
    try:
        cache_statistics_refresh()
    except DatabaseError:
        log.warning("Could not refresh the database's statistics after a sync", exc_info=True)


def sync_claim(*, actor: Actor, holder: str, queued: SyncRun | None = None) -> SyncRun:
    """Take the sync lease and start a run (the queued one, if given), or raise
    SyncAlreadyRunning naming the live holder. Runs whose holder stopped are marked
    abandoned first."""
    taken = lease_acquire(name=SYNC_LEASE, holder=holder, seconds=settings.LEASE_SECONDS)
    if taken is None:
        raise SyncAlreadyRunning(_running_message())
    try:
        _abandon_dead_runs()
        now = timezone.now()
        if queued is not None and queued.status == SyncRun.Status.QUEUED:
            run = queued
            run.status, run.holder, run.started_at = SyncRun.Status.RUNNING, holder, now
            run.save(update_fields=["status", "holder", "started_at"])
        else:
            run = SyncRun.objects.create(
                started_by=actor.username, holder=holder, status=SyncRun.Status.RUNNING
            )
    except BaseException:
        lease_release(name=SYNC_LEASE, holder=holder)
        raise
    _publish_sync_status()
    return run


def _running_message() -> str:
    current = lease_holder(name=SYNC_LEASE)
    run = SyncRun.objects.filter(status=SyncRun.Status.RUNNING).order_by("-started_at").first()
    who = ""
    if run is not None and run.started_by:
        who = f" (started by {run.started_by} at {timezone.localtime(run.started_at):%H:%M:%S})"
    elif current is not None:
        who = f" (started by {current.holder.split(':')[0]})"
    return f"A sync is already running{who}; it will finish on its own."


def _abandon_dead_runs() -> None:
    """Runs still marked running while nobody holds the lease: their process stopped (killed,
    restarted) before it finished. Called by the new holder, so none of them is alive."""
    SyncRun.objects.filter(status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.ABANDONED,
        finished_at=timezone.now(),
        message="The process running this sync stopped before it finished; it changed nothing.",
    )


def _sync_progress(run: SyncRun, seen: int, calls: int, total: int) -> None:
    """After each page: record progress, and renew the lease (the heartbeat). A holder whose
    lease was taken over after it expired stops at once."""
    run.numbers_seen, run.list_calls, run.numbers_total = seen, calls, total
    SyncRun.objects.filter(pk=run.pk).update(
        numbers_seen=seen, list_calls=calls, numbers_total=total
    )
    if not lease_renew(name=SYNC_LEASE, holder=run.holder, seconds=settings.LEASE_SECONDS):
        raise SyncIncomplete("The sync lost its lease to another process and stopped.")


def _is_first_sync() -> bool:
    return not SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists()


def _settle_from_listing(
    numbers: dict[str, api.OwnedNumber], *, actor: Actor, listed_from: datetime
) -> int:
    """A complete listing settles the unknown operations that ended before it began, without
    another call (see ApiOperation.settle_from for when "not there" is trusted)."""
    unknown = Operation.objects.filter(
        outcome=Outcome.UNKNOWN, settlement__isnull=True, completed_at__lt=listed_from
    )
    settled = 0
    for entry in unknown.order_by("seq"):
        lookup = {"lookup": "sync", "operation": entry.seq}
        try:
            done = operation_settle_from_listing(
                entry, numbers.get(entry.msisdn), actor=actor, lookup=lookup, seen_at=listed_from
            )
        except IntegrityError:  # settled meanwhile by the operation's own lookup
            continue
        settled += done
    return settled


def _worked_on_since(moment: datetime) -> set[str]:
    """Numbers with an operation still open, or begun, ended or settled since `moment`."""
    recent = Q(outcome=Outcome.PENDING) | Q(created_at__gte=moment) | Q(completed_at__gte=moment)
    entries = Operation.objects.filter(recent, action__in=(*OPERATION_ACTIONS, Action.SETTLE))
    return set(entries.exclude(msisdn="").values_list("msisdn", flat=True))


@dataclass(frozen=True)
class Drift:
    appeared: int
    disappeared: int
    changed: int


def _reconcile(
    numbers: dict[str, api.OwnedNumber], *, actor: Actor, baseline: bool, listed_from: datetime
) -> Drift:
    """Make the cache match the listing; each difference the portal did not cause is an
    audit event (except on the very first sync, which is the baseline). Numbers the portal
    worked on while the listing was read are left alone: their pages may predate the work."""
    cached = {row.msisdn: row for row in OwnedNumber.objects.all()}
    in_flight = _worked_on_since(listed_from)
    appeared = [numbers[m] for m in numbers.keys() - cached.keys() if m not in in_flight]
    disappeared = [cached[m] for m in cached.keys() - numbers.keys() if m not in in_flight]
    changed = []
    for msisdn in (numbers.keys() & cached.keys()) - in_flight:
        fresh = cache_fields(numbers[msisdn])
        row = cached[msisdn]
        if any(getattr(row, name) != value for name, value in fresh.items()):
            changed.append((row, fresh))

    before = {row.msisdn: cache_snapshot(row) for row, _ in changed}
    before.update({row.msisdn: cache_snapshot(row) for row in disappeared})
    now = timezone.now()
    OwnedNumber.objects.bulk_create(
        [
            OwnedNumber(
                msisdn=n.msisdn, first_seen_at=now, **cache_fields(n), **restored_fields(n.msisdn)
            )
            for n in appeared
        ],
        batch_size=1000,
    )
    RetiredNumber.objects.filter(msisdn__in=[n.msisdn for n in appeared]).delete()
    OwnedNumber.objects.filter(pk__in=[row.pk for row in disappeared]).delete()
    for row, fresh in changed:
        for name, value in fresh.items():
            setattr(row, name, value)
        row.updated_at = now
    OwnedNumber.objects.bulk_update(
        [row for row, _ in changed], fields=[*CACHE_COLUMNS, "updated_at"], batch_size=1000
    )
    pricing.prices_refresh()
    inventory_changed()
    if not baseline:
        _record_drift(appeared, disappeared, changed, before, actor=actor)
    return Drift(appeared=len(appeared), disappeared=len(disappeared), changed=len(changed))


def _record_drift(appeared, disappeared, changed, before, *, actor: Actor) -> None:
    events = [
        _drift_event(Action.DRIFT_APPEARED, n.country, n.msisdn, after=dict(n.raw))
        for n in appeared
    ]
    for row in disappeared:
        snapshot = cache_snapshot(row)
        events.append(
            _drift_event(
                Action.DRIFT_DISAPPEARED,
                row.country,
                row.msisdn,
                before=snapshot,
                monthly_cost=row.monthly_cost,
            )
        )
    for row, fresh in changed:
        old = before[row.msisdn]
        names = [n for n, value in fresh.items() if n != "api_fields" and old[n] != value]
        if names:  # else only the raw API record changed shape: nothing to report
            events.append(
                _drift_event(
                    Action.DRIFT_CHANGED,
                    row.country,
                    row.msisdn,
                    before={n: old[n] for n in names},
                    after={n: fresh[n] for n in names},
                )
            )
    audit_append_many(events, actor=actor)


def _drift_event(action: Action, country: str, msisdn: str, **facts) -> dict:
    return {
        "action": action,
        "country": country,
        "msisdn": msisdn,
        "outcome": Outcome.SUCCEEDED,
        "reason": "Seen by the sync: this happened outside the portal.",
        **facts,
    }


def _sync_finish(run: SyncRun, *, listing: Listing, settled: int, changes: Drift, actor) -> None:
    run.status = SyncRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.numbers_seen = len(listing.numbers)
    run.list_calls = listing.calls
    run.appeared, run.disappeared, run.changed = (
        changes.appeared,
        changes.disappeared,
        changes.changed,
    )
    run.settled = settled
    run.message = (
        f"{run.numbers_seen} numbers in {run.list_calls} list calls: {run.appeared} appeared, "
        f"{run.disappeared} disappeared, {run.changed} changed, {settled} unknown outcomes settled."
    )
    run.save()
    audit_append(
        action=Action.SYNC,
        actor=actor,
        outcome=Outcome.SUCCEEDED,
        after={
            "numbers": run.numbers_seen,
            "list_calls": run.list_calls,
            "appeared": run.appeared,
            "disappeared": run.disappeared,
            "changed": run.changed,
            "settled": settled,
        },
        reason=run.message,
    )


def _sync_fail(run: SyncRun, *, reason: str, actor: Actor) -> None:
    message = f"The sync stopped and changed nothing: {reason}"
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.FAILED, finished_at=timezone.now(), message=message
    )
    run.refresh_from_db()
    audit_append(action=Action.SYNC, actor=actor, outcome=Outcome.FAILED, reason=message)


def sync_skip(run: SyncRun, *, reason: str) -> None:
    """A queued run that did not happen (another sync was at it, whose result serves)."""
    SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        message=f"This sync did not run: {reason}",
    )
    _publish_sync_status()


def _publish_sync_status() -> None:
    """Pages read the sync's state from the cache; a cache that fails costs them a query,
    and must never fail a sync."""
    try:
        status = sync_status_from_database()
        cache.set(SYNC_STATUS_CACHE_KEY, status, timeout=sync_status_cache_seconds(status))
    except Exception:
        log.warning("Could not publish the sync status to the cache", exc_info=True)


def sync_request(*, actor: Actor) -> SyncRun:
    """For "Sync now": queue a sync for the task worker, unless one is queued or running
    (SyncAlreadyRunning says which). The page follows the run's state."""
    if lease_holder(name=SYNC_LEASE) is not None:
        raise SyncAlreadyRunning(_running_message())
    with transaction.atomic():
        waiting = SyncRun.objects.filter(status=SyncRun.Status.QUEUED).first()
        if waiting is not None:
            when = timezone.localtime(waiting.requested_at)
            raise SyncAlreadyRunning(
                f"A sync is already waiting for the task worker (asked for by "
                f"{waiting.started_by or 'the portal'} at {when:%H:%M:%S})."
            )
        run = SyncRun.objects.create(started_by=actor.username, status=SyncRun.Status.QUEUED)
        user_id = getattr(actor.user, "pk", None)
        run.task_id = background.enqueue("sync", run_id=run.pk, user_id=user_id)
        run.save(update_fields=["task_id"])
    _publish_sync_status()
    return run


def sync_first_request(*, actor: Actor) -> SyncRun | None:
    """A portal whose cache was never synced syncs as soon as a worker is up, so the first
    person to log in sees the account's numbers without pressing anything."""
    if SyncRun.objects.filter(status__in=(SyncRun.Status.SUCCEEDED, *SyncRun.OPEN)).exists():
        return None
    try:
        return sync_request(actor=actor)
    except SyncAlreadyRunning:
        return None
