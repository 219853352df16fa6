"""Mirroring the account into the cache: a complete, paced listing, then drift and
settlements recorded. One sync at a time, across processes and hosts: a database lease its
holder renews after every page, so a holder that dies frees it within LEASE_SECONDS.

Memory stays flat in the size of the account: each page of the listing is written to a
staging table (`ListedNumber`, keyed by the run) and dropped, and the cache is reconciled
from it with set-based SQL, reading the differences in chunks."""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from inventory import api_client as api
from inventory.audit import Actor, audit_append, audit_append_many
from inventory.models import (
    FEATURE_COLUMNS,
    Action,
    ListedNumber,
    Operation,
    Outcome,
    OwnedNumber,
    RetiredNumber,
    SyncRun,
)
from inventory.selectors import (
    SYNC_STATUS_CACHE_KEY,
    sync_status_cache_seconds,
    sync_status_from_database,
)
from inventory.services import background, notifications, pricing
from inventory.services.cache import (
    CACHE_COLUMNS,
    RETIRED_FIELDS,
    cache_fields,
    cache_snapshot,
    cache_statistics_refresh,
    cache_totals_fold,
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
# Differences are read, and recorded as drift, this many at a time.
CHUNK = 1000


def _holder_name(actor: Actor) -> str:
    return f"{actor.username or 'portal'}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Listing:
    """A complete listing, staged as `ListedNumber` rows of `run_id`."""

    run_id: int
    numbers: int  # distinct numbers listed
    calls: int
    # The account's count changed during the listing (explained by the portal's own work).
    shifted: bool = False

    def rows(self):
        return ListedNumber.objects.filter(run_id=self.run_id)

    def get(self, msisdn: str) -> api.OwnedNumber | None:
        row = self.rows().filter(msisdn=msisdn).first()
        return api.parse_owned(row.api_fields) if row is not None else None


def listing_stage(*, run_id: int, numbers: Iterable[api.OwnedNumber]) -> None:
    """Write numbers the listing showed into the staging table (a later page's view of a
    number replaces an earlier one's)."""
    unique = {number.msisdn: number for number in numbers}
    rows = [ListedNumber(run_id=run_id, msisdn=m, **cache_fields(n)) for m, n in unique.items()]
    ListedNumber.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["run", "msisdn"],
        update_fields=[*CACHE_COLUMNS, "country_name"],
    )


class AccountListing:
    """Every owned number, 100 a page, or SyncIncomplete: a partial listing proves nothing.
    The count may change during the listing only by what the portal itself did meanwhile.
    Each page goes to the staging table of `run_id` as it arrives."""

    def __init__(
        self, client: api.NumbersApiClient, *, since: datetime, on_page: Callable, run_id: int
    ):
        self.client = client
        self.since = since
        self.on_page = on_page  # told (numbers seen, list calls made, count) after each page
        self.run_id = run_id

    def read(self) -> Listing:
        index, expected, shifted, seen = 1, None, False, 0
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
            listing_stage(run_id=self.run_id, numbers=page.items)
            seen += len(page.items)
            self.on_page(seen, index, page.count)
            if not page.items or index * 100 >= page.count:
                break
            index += 1
        listed = ListedNumber.objects.filter(run_id=self.run_id).count()
        if not shifted and listed != expected:
            raise SyncIncomplete(
                f"The API said the account has {expected} numbers but listed {listed} "
                "distinct ones."
            )
        return Listing(run_id=self.run_id, numbers=listed, calls=index, shifted=shifted)

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
            client, since=started, on_page=functools.partial(_sync_progress, run), run_id=run.pk
        ).read()
        listing = _complete_shifted_listing(client, listing, since=started)
        with transaction.atomic():
            settled = _settle_from_listing(listing, actor=actor, listed_from=started)
            baseline = _is_first_sync()
            changes = _reconcile(listing, actor=actor, baseline=baseline, listed_from=started)
            _sync_finish(run, listing=listing, settled=settled, changes=changes, actor=actor)
            if not baseline and (changes.appeared or changes.disappeared or changes.changed):
                notifications.drift_found(run=run)  # told once the sync has committed
    except (api.ApiError, ServiceError) as error:
        _sync_fail(run, reason=str(error), actor=actor)
    except BaseException:
        _sync_fail(run, reason="The sync was interrupted.", actor=actor)
        raise
    finally:
        _discard_listing(run)
        lease_release(name=SYNC_LEASE, holder=holder)
        _publish_sync_status()
    if run.status == SyncRun.Status.SUCCEEDED:
        _background(cache_totals_fold, "fold the inventory's totals")
        if run.appeared or run.disappeared:
            _background(cache_statistics_refresh, "refresh the database's statistics")
        pricing.after_sync()
    return run


def _complete_shifted_listing(
    client: api.NumbersApiClient, listing: Listing, *, since: datetime
) -> Listing:
    """After a listing during which the account changed, a cached number the listing lacks
    may only have shifted across a page boundary: look each up by its exact number (a
    handful at most) before the reconcile may call it gone."""
    if not listing.shifted:
        return listing
    unlisted = OwnedNumber.objects.filter(
        ~Exists(listing.rows().filter(msisdn=OuterRef("msisdn")))
    ).exclude(msisdn__in=_worked_on_since(since))
    missing = list(unlisted.values_list("msisdn", flat=True)[: MAX_ABSENCE_LOOKUPS + 1])
    if len(missing) > MAX_ABSENCE_LOOKUPS:
        raise SyncIncomplete(
            "The account changed while it was being listed and too many numbers could not "
            "be seen; nothing was changed. The next sync tries again."
        )
    found = [client.find_owned(msisdn=msisdn) for msisdn in sorted(missing)]
    listing_stage(run_id=listing.run_id, numbers=[number for number in found if number])
    return Listing(
        run_id=listing.run_id,
        numbers=listing.rows().count(),
        calls=listing.calls,
        shifted=True,
    )


def _discard_listing(run: SyncRun) -> None:
    try:
        ListedNumber.objects.filter(run_id=run.pk).delete()
    except DatabaseError:  # leftovers are dropped by the next sync's claim
        log.warning("Could not drop the staged listing of sync %s", run.pk, exc_info=True)


def _background(work: Callable[[], None], what: str) -> None:
    """Outside the sync's story: a failure here must not turn a committed sync into a failed
    one, only be logged."""
    try:
        work()
    except DatabaseError:
        log.warning("Could not %s after a sync", what, exc_info=True)


def sync_claim(*, actor: Actor, holder: str, queued: SyncRun | None = None) -> SyncRun:
    """Take the sync lease and start a run (the queued one, if given), or raise
    SyncAlreadyRunning naming the live holder. Runs whose holder stopped are marked
    abandoned first."""
    taken = lease_acquire(name=SYNC_LEASE, holder=holder, seconds=settings.LEASE_SECONDS)
    if taken is None:
        raise SyncAlreadyRunning(_running_message())
    try:
        _abandon_dead_runs()
        # What dead runs staged: nobody else holds the lease, so no live run's.
        ListedNumber.objects.all().delete()
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


def _settle_from_listing(listing: Listing, *, actor: Actor, listed_from: datetime) -> int:
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
                entry, listing.get(entry.msisdn), actor=actor, lookup=lookup, seen_at=listed_from
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


def _reconcile(listing: Listing, *, actor: Actor, baseline: bool, listed_from: datetime) -> Drift:
    """Make the cache match the listing; each difference the portal did not cause is an
    audit event (except on the very first sync, which is the baseline). Numbers the portal
    worked on while the listing was read are left alone: their pages may predate the work.
    Set-based: the differences are found and applied by SQL, read in chunks only to be
    recorded."""
    in_flight = _worked_on_since(listed_from)
    listed = listing.rows()
    appeared = listed.exclude(msisdn__in=in_flight).filter(
        ~Exists(OwnedNumber.objects.filter(msisdn=OuterRef("msisdn")))
    )
    gone = OwnedNumber.objects.exclude(msisdn__in=in_flight).filter(
        ~Exists(listed.filter(msisdn=OuterRef("msisdn")))
    )
    if not baseline:
        for chunk in _chunks(appeared.values_list("country", "msisdn", "api_fields")):
            events = [
                _drift_event(Action.DRIFT_APPEARED, country, msisdn, after=dict(raw))
                for country, msisdn, raw in chunk
            ]
            audit_append_many(events, actor=actor)
        for chunk in _chunks(gone):
            events = [
                _drift_event(
                    Action.DRIFT_DISAPPEARED,
                    row.country,
                    row.msisdn,
                    before=cache_snapshot(row),
                    monthly_cost=row.monthly_cost,
                )
                for row in chunk
            ]
            audit_append_many(events, actor=actor)
    changed = 0
    for chunk in _chunks(_changed_rows(listing, in_flight)):
        changed += len(chunk)
        if not baseline:
            found = (_drift_changed(before, after) for before, after in chunk)
            audit_append_many([event for event in found if event is not None], actor=actor)
    now = timezone.now()
    disappeared, _ = gone.delete()
    added = _insert_appeared(listing, in_flight, now=now)
    RetiredNumber.objects.filter(
        Exists(listed.filter(msisdn=OuterRef("msisdn"))),
        Exists(OwnedNumber.objects.filter(msisdn=OuterRef("msisdn"))),
    ).delete()  # the tombstones of numbers back in the account: their lives go on
    if changed:
        _update_changed(listing, in_flight, now=now)
    pricing.prices_refresh()  # what appeared or changed priced, set-based
    return Drift(appeared=added, disappeared=disappeared, changed=changed)


def _chunks(rows) -> Iterator[list]:
    chunk = []
    for row in rows.iterator(chunk_size=CHUNK) if hasattr(rows, "iterator") else rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# The columns a sync copies from the listing into the cache.
_COPIED = (*CACHE_COLUMNS, "country_name")
# Only the listing can change these: the cache and the listing are compared on them.
_COMPARED = CACHE_COLUMNS


def _sql_not_in(column: str, values: set[str]) -> tuple[str, list]:
    if not values:
        return "", []
    return f" AND {column} NOT IN ({', '.join(['%s'] * len(values))})", sorted(values)


def _differs(cache: str, listed: str) -> str:
    return " OR ".join(f"{cache}.{name} <> {listed}.{name}" for name in _COMPARED)


def _changed_rows(listing: Listing, in_flight: set[str]) -> Iterator[tuple[dict, dict]]:
    """(cached, listed) for each number whose listed record differs from the cache's, in
    msisdn order, read CHUNK at a time. Raw records are compared as data, not as text."""
    cache_table, listed_table = OwnedNumber._meta.db_table, ListedNumber._meta.db_table
    columns = ", ".join(
        [f"o.{name}" for name in ("msisdn", *_COMPARED)] + [f"l.{name}" for name in _COMPARED]
    )
    skip, skip_params = _sql_not_in("o.msisdn", in_flight)
    last = ""
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {cache_table} o JOIN {listed_table} l "  # noqa: S608
                f"ON l.msisdn = o.msisdn AND l.run_id = %s WHERE o.msisdn > %s{skip} "
                f"AND ({_differs('o', 'l')}) ORDER BY o.msisdn LIMIT %s",
                [listing.run_id, last, *skip_params, CHUNK],
            )
            rows = cursor.fetchall()
        for row in rows:
            cached = dict(zip(_COMPARED, row[1 : 1 + len(_COMPARED)], strict=True))
            fresh = dict(zip(_COMPARED, row[1 + len(_COMPARED) :], strict=True))
            for values in (cached, fresh):
                for name in FEATURE_COLUMNS.values():
                    values[name] = bool(values[name])
                for name in ("api_fields", "limitations"):  # JSON columns, as data
                    raw = values[name]
                    values[name] = json.loads(raw) if isinstance(raw, str) else raw
            if cached != fresh:
                cached["msisdn"] = row[0]
                yield cached, fresh
        if len(rows) < CHUNK:
            return
        last = rows[-1][0]


def _drift_changed(before: dict, after: dict) -> dict | None:
    names = [n for n in _COMPARED if n != "api_fields" and before[n] != after[n]]
    if not names:  # only the raw API record changed shape: nothing to report
        return None
    return _drift_event(
        Action.DRIFT_CHANGED,
        after["country"],
        before["msisdn"],
        before={n: before[n] for n in names},
        after={n: after[n] for n in names},
    )


def _insert_appeared(listing: Listing, in_flight: set[str], *, now: datetime) -> int:
    """One INSERT ... SELECT for every listed number the cache lacks, with what a tombstone
    kept about it restored."""
    cache_table, listed_table = OwnedNumber._meta.db_table, ListedNumber._meta.db_table
    retired_table = RetiredNumber._meta.db_table
    kept = [name for name in RETIRED_FIELDS if name not in ("label", "team", "notes")]
    columns = ["msisdn", *_COPIED, *RETIRED_FIELDS, "first_seen_at", "updated_at"]
    # Write-only settings, protection and the price source start empty (the price is
    # filled in by the sync's repricing).
    empty = ["mo_smpp_sys_type", "voice_status_callback", "protected_reason", "price_source"]
    columns += empty
    values = [f"l.{name}" for name in ("msisdn", *_COPIED)]
    values += [f"COALESCE(r.{name}, '')" for name in ("label", "team", "notes")]
    values += [f"r.{name}" for name in kept]
    values += ["%s", "%s", *(["''"] * len(empty))]
    skip, skip_params = _sql_not_in("l.msisdn", in_flight)
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {cache_table} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(values)} FROM {listed_table} l "
            f"LEFT JOIN {retired_table} r ON r.msisdn = l.msisdn "
            f"WHERE l.run_id = %s{skip} AND NOT EXISTS "
            f"(SELECT 1 FROM {cache_table} o WHERE o.msisdn = l.msisdn)",
            [stamp, stamp, listing.run_id, *skip_params],
        )
        return cursor.rowcount


def _update_changed(listing: Listing, in_flight: set[str], *, now: datetime) -> None:
    """One UPDATE ... FROM the listing for every cached number whose record differs."""
    cache_table, listed_table = OwnedNumber._meta.db_table, ListedNumber._meta.db_table
    assignments = ", ".join(f"{name} = l.{name}" for name in _COPIED)
    skip, skip_params = _sql_not_in(f"{cache_table}.msisdn", in_flight)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {cache_table} SET {assignments}, updated_at = %s "  # noqa: S608
            f"FROM {listed_table} l WHERE l.run_id = %s AND l.msisdn = {cache_table}.msisdn"
            f"{skip} AND ({_differs(cache_table, 'l')})",
            [connection.ops.adapt_datetimefield_value(now), listing.run_id, *skip_params],
        )


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
    run.numbers_seen = listing.numbers
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
