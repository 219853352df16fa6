"""Mirroring the account into the cache: a complete, paced listing, then drift and
settlements recorded. One sync at a time, across processes and hosts (a database lease)."""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from inventory import api_client as api
from inventory.audit import Actor, audit_append, audit_append_many, audit_complete
from inventory.models import Action, Lease, Operation, Outcome, OwnedNumber, SyncRun
from inventory.selectors import SYNC_STATUS_CACHE_KEY, sync_status_from_database
from inventory.services.cache import (
    CACHE_COLUMNS,
    cache_fields,
    cache_snapshot,
    cache_statistics_refresh,
    inventory_changed,
)
from inventory.services.operations import OPERATION_ACTIONS, ServiceError, record_settlement

log = logging.getLogger(__name__)

# --- sync -----------------------------------------------------------------------------------


class SyncAlreadyRunning(ServiceError):
    pass


class SyncIncomplete(ServiceError):
    pass


SYNC_LEASE = "sync_numbers"
SYNC_LEASE_SECONDS = 300


def lease_acquire(*, name: str, holder: str, seconds: int) -> bool:
    """Take a named database lease unless someone else holds an unexpired one."""
    now = timezone.now()
    expires = now + timedelta(seconds=seconds)
    taken = Lease.objects.filter(name=name, expires_at__lt=now).update(
        holder=holder, expires_at=expires
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, expires_at=expires)
    except IntegrityError:
        return Lease.objects.filter(name=name, holder=holder).update(expires_at=expires) == 1
    return True


def lease_release(*, name: str, holder: str) -> None:
    Lease.objects.filter(name=name, holder=holder).delete()


def lease_holder(*, name: str) -> Lease | None:
    return Lease.objects.filter(name=name, expires_at__gte=timezone.now()).first()


@dataclass(frozen=True)
class Listing:
    numbers: dict[str, api.OwnedNumber]
    calls: int


def _list_account(client: api.NumbersApiClient, *, on_page: Callable[[int, int], None]) -> Listing:
    """Every owned number, 100 a page, or SyncIncomplete: a partial listing proves nothing.
    `on_page(numbers seen, list calls made)` is told after each page."""
    numbers: dict[str, api.OwnedNumber] = {}
    index, expected = 1, None
    while True:
        page = client.list_owned(index=index, size=100)  # list call number `index`
        if expected is None:
            expected = page.count
        elif page.count != expected:
            raise SyncIncomplete(
                f"The account changed during the sync ({expected} numbers, then {page.count})."
            )
        if page.unreadable:  # a listing with a hole in it proves nothing about that number
            more = len(page.unreadable) - 3
            named = ", ".join(page.unreadable[:3]) + (f" and {more} more" if more > 0 else "")
            raise SyncIncomplete(
                f"The API sent {named} on page {index} without the fields the portal needs "
                "(msisdn, country, type); the whole listing is refused."
            )
        numbers.update((number.msisdn, number) for number in page.items)
        on_page(len(numbers), index)
        if not page.items or index * 100 >= expected:
            break
        index += 1
    if len(numbers) != expected:
        raise SyncIncomplete(
            f"The API said the account has {expected} numbers but listed {len(numbers)} "
            "distinct ones."
        )
    return Listing(numbers=numbers, calls=index)


def owned_numbers_sync(
    *, client: api.NumbersApiClient, actor: Actor, run: SyncRun | None = None
) -> SyncRun:
    """Mirror the account into the cache. One sync at a time across processes and hosts;
    a failed or partial listing changes no row. Raises SyncAlreadyRunning."""
    holder = f"{actor.username or 'portal'}:{uuid.uuid4().hex[:8]}"
    if run is None:
        run = sync_claim(actor=actor, holder=holder)
    else:
        holder = run.holder
    try:
        _expire_stale_pending()
        started = timezone.now()
        listing = _list_account(
            client, on_page=lambda seen, calls: _sync_progress(run, holder, seen, calls)
        )
        with transaction.atomic():
            settled = _settle_from_listing(listing.numbers, actor=actor, listed_from=started)
            changes = _reconcile(
                listing.numbers, actor=actor, baseline=_is_first_sync(), listed_from=started
            )
            _sync_finish(run, listing=listing, settled=settled, changes=changes, actor=actor)
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
    return run


def _refresh_statistics() -> None:
    """Outside the sync's story: a failure here must not turn a committed sync into a failed
    one, only be logged."""
    try:
        cache_statistics_refresh()
    except DatabaseError:
        log.warning("Could not refresh the database's statistics after a sync", exc_info=True)


def _expire_stale_pending() -> None:
    """An operation still pending long after any API call could have ended was cut short
    (a worker killed, a database write lost): it becomes unknown, which the listing settles."""
    cutoff = timezone.now() - settings.PENDING_STALE_AFTER
    stale = Operation.objects.filter(
        outcome=Outcome.PENDING, created_at__lt=cutoff, action__in=OPERATION_ACTIONS
    )
    for entry in stale:
        with contextlib.suppress(RuntimeError):  # it ended meanwhile after all
            audit_complete(
                entry,
                outcome=Outcome.UNKNOWN,
                reason="Still pending long after the API call: the portal stopped before "
                "recording how it ended. The sync settles it from the account.",
            )


def sync_claim(*, actor: Actor, holder: str) -> SyncRun:
    """Take the sync lease and open a run, or raise SyncAlreadyRunning."""
    if not lease_acquire(name=SYNC_LEASE, holder=holder, seconds=SYNC_LEASE_SECONDS):
        current = lease_holder(name=SYNC_LEASE)
        who = f" (started by {current.holder.split(':')[0]})" if current else ""
        raise SyncAlreadyRunning(f"A sync is already running{who}; it will finish on its own.")
    run = SyncRun.objects.create(started_by=actor.username, holder=holder)
    _publish_sync_status()
    return run


def _sync_progress(run: SyncRun, holder: str, seen: int, calls: int) -> None:
    run.numbers_seen, run.list_calls = seen, calls
    SyncRun.objects.filter(pk=run.pk).update(numbers_seen=seen, list_calls=calls)
    lease_acquire(name=SYNC_LEASE, holder=holder, seconds=SYNC_LEASE_SECONDS)  # still alive


def _is_first_sync() -> bool:
    return not SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists()


def _settle_from_listing(
    numbers: dict[str, api.OwnedNumber], *, actor: Actor, listed_from: datetime
) -> int:
    """A complete listing settles the unknown operations that ended before it began, without
    another call (see record_settlement for when "not there" is trusted)."""
    unknown = Operation.objects.filter(
        outcome=Outcome.UNKNOWN, settlement__isnull=True, completed_at__lt=listed_from
    )
    settled = 0
    for entry in unknown.order_by("seq"):
        lookup = {"lookup": "sync", "operation": entry.seq}
        try:
            done = record_settlement(
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
        [OwnedNumber(msisdn=n.msisdn, first_seen_at=now, **cache_fields(n)) for n in appeared],
        batch_size=1000,
    )
    OwnedNumber.objects.filter(pk__in=[row.pk for row in disappeared]).delete()
    for row, fresh in changed:
        for name, value in fresh.items():
            setattr(row, name, value)
        row.updated_at = now
    OwnedNumber.objects.bulk_update(
        [row for row, _ in changed], fields=[*CACHE_COLUMNS, "updated_at"], batch_size=1000
    )
    inventory_changed()
    if not baseline:
        _record_drift(appeared, disappeared, changed, before, actor=actor)
    return Drift(appeared=len(appeared), disappeared=len(disappeared), changed=len(changed))


def _record_drift(appeared, disappeared, changed, before, *, actor: Actor) -> None:
    events = [
        {"action": Action.DRIFT_APPEARED, "number": n.country, "msisdn": n.msisdn,
         "after": dict(n.raw)}
        for n in appeared
    ]  # fmt: skip
    events += [
        {"action": Action.DRIFT_DISAPPEARED, "number": row.country, "msisdn": row.msisdn,
         "before": cache_snapshot(row), "monthly_cost": row.monthly_cost}
        for row in disappeared
    ]  # fmt: skip
    for row, fresh in changed:
        old = before[row.msisdn]
        names = [n for n, value in fresh.items() if n != "api_fields" and old[n] != value]
        if not names:  # only the raw API record changed shape: nothing to report
            continue
        events.append(
            {"action": Action.DRIFT_CHANGED, "number": row.country, "msisdn": row.msisdn,
             "before": {n: old[n] for n in names}, "after": {n: fresh[n] for n in names}}
        )  # fmt: skip
    audit_append_many(
        [
            {
                "action": event.pop("action"),
                "country": event.pop("number"),
                "outcome": Outcome.SUCCEEDED,
                "reason": "Seen by the sync: this happened outside the portal.",
                **event,
            }
            for event in events
        ],
        actor=actor,
    )


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


def _publish_sync_status() -> None:
    cache.set(SYNC_STATUS_CACHE_KEY, sync_status_from_database(), timeout=300)


def sync_start_in_background(*, actor: Actor) -> SyncRun:
    """For the "Sync now" button: claim the sync here (so the user hears at once if one is
    running), then run it in a thread so the page does not wait for minutes."""
    holder = f"{actor.username or 'portal'}:{uuid.uuid4().hex[:8]}"
    run = sync_claim(actor=actor, holder=holder)

    def work():
        try:
            owned_numbers_sync(client=api.default_client(), actor=actor, run=run)
        finally:
            connection.close()  # this thread's own connection

    threading.Thread(target=work, name=f"sync-{run.pk}", daemon=True).start()
    return run
