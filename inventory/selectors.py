"""Reads: what the pages show, from the portal's own models and cache. Selectors never call
the API (the API connection's state is in `inventory.health`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from inventory import cache_triggers
from inventory.models import InventoryTotal, Operation, OwnedNumber, SyncRun
from inventory.paging import Order, Pagination
from inventory.patterns import DigitPattern

SYNC_STATUS_CACHE_KEY = "inventory:sync-status"


def unsettled_operations() -> QuerySet[Operation]:
    """Operations whose outcome is still unknown: people must see these until settled.
    Newest first from the (outcome, seq) index, each looked up in the settlements' unique
    index (a join would make SQLite index every entry of the trail first)."""
    settlement = Operation.objects.filter(settles=OuterRef("pk"))
    unknown = Operation.objects.filter(outcome="unknown").exclude(Exists(settlement))
    return unknown.order_by("-seq")


def operation_get(*, pk: int) -> Operation | None:
    """An operation on a number. Other trail entries (logins, refusals, syncs) are for
    auditors, who read them in the admin; this page does not show them."""
    entries = Operation.objects.select_related("settlement").exclude(msisdn="")
    return entries.filter(pk=pk).first()


# --- inventory ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InventoryFilter:
    country: str = ""
    type: str = ""
    features: tuple[str, ...] = ()
    pattern: DigitPattern | None = None
    configured: str = ""  # "", "yes" or "no"
    q: str = ""
    sort: str = "msisdn"
    page: int = 1
    size: int = 50
    after: str = ""  # cursors: the page starts after, or ends before, this position
    before: str = ""

    @classmethod
    def from_form(cls, data: dict) -> InventoryFilter:
        return cls(
            country=data.get("country") or "",
            type=data.get("type") or "",
            features=tuple(data.get("features") or ()),
            pattern=data.get("digit_pattern"),
            configured=data.get("configured") or "",
            q=(data.get("q") or "").strip(),
            sort=data.get("sort") or "msisdn",
            page=data.get("page") or 1,
            size=data.get("size") or 50,
            after=data.get("after") or "",
            before=data.get("before") or "",
        )


_FEATURE_COLUMNS = {"SMS": "has_sms", "VOICE": "has_voice", "MMS": "has_mms"}
# Each sort's column (country sorts by its name); columns that may be unknown sort it last.
_SORT_COLUMNS = {
    "msisdn": "msisdn",
    "country": "country_name",
    "type": "type",
    "label": "label",
    "monthly_cost": "monthly_cost",
    "purchased_at": "purchased_at",
}
_NULLABLE_SORTS = {"monthly_cost", "purchased_at"}
# Counting what no totals group covers (digits, free text) stops here: "more than 1,000".
COUNT_BOUND = 1000
# A text or digit search whose index finds at most this many numbers reads just those; one
# that finds more is common enough for the listing to find a page by reading in order.
TEXT_CANDIDATES = 5000
TEXT_INDEX_MIN = 3  # the trigram indexes need three characters


def inventory_order(sort: str) -> Order:
    name = sort if sort.lstrip("-") in _SORT_COLUMNS else "msisdn"
    column = name.lstrip("-")
    return Order(name, _SORT_COLUMNS[column], nullable=column in _NULLABLE_SORTS)


@dataclass(frozen=True)
class _Scope:
    """A filter as queries: the numbers it selects, the totals groups it covers, and whether
    some of it (digits, free text) is beyond what the groups count."""

    numbers: QuerySet[OwnedNumber]
    groups: dict
    bounded: bool


def _scope(filters: InventoryFilter) -> _Scope:
    groups: dict = {}
    if filters.country:
        groups["country"] = filters.country
    if filters.type:
        groups["type"] = filters.type
    for feature in filters.features:
        groups[_FEATURE_COLUMNS[feature]] = True
    if filters.configured in ("yes", "no"):
        groups["configured"] = filters.configured == "yes"
    numbers = OwnedNumber.objects.filter(**groups)
    pattern = filters.pattern if filters.pattern and filters.pattern.digits else None
    if pattern is not None and pattern.mode == "starts":
        # A range of the msisdn index: every number from the digits up to, not including,
        # the digits followed by ":" (the character after "9").
        numbers = numbers.filter(msisdn__gte=pattern.digits, msisdn__lt=pattern.digits + ":")
    digits = pattern.digits if pattern is not None and pattern.mode != "starts" else ""
    numbers = _text_matches(
        numbers, q=filters.q, digits=digits, ends=pattern is not None and pattern.mode == "ends"
    )
    return _Scope(numbers=numbers, groups=groups, bounded=bool(pattern or filters.q))


def owned_number_queryset(*, filters: InventoryFilter) -> QuerySet[OwnedNumber]:
    """The numbers a filter selects (unordered: `inventory_order` reads them in order)."""
    return _scope(filters).numbers


def _text_matches(numbers: QuerySet[OwnedNumber], *, q: str, digits: str, ends: bool):
    """Free text and inner or final digits, through the text index where it can help.

    PostgreSQL is given the trigram index's own condition, and its statistics (of the
    indexed expression) choose between reading the few numbers the index finds and walking
    the listing's order for a common word. SQLite cannot weigh its FTS5 index against an
    ordered walk, so the index is asked first how many it finds (at most TEXT_CANDIDATES + 1):
    few enough, and just those are read; more, and the listing walks its order, checking
    each row. Either way the rows are those whose columns contain the text."""
    indexed_q = q if len(q) >= TEXT_INDEX_MIN else ""
    indexed_digits = digits if len(digits) >= TEXT_INDEX_MIN else ""
    postgres = connection.vendor == "postgresql"
    if postgres and indexed_q:
        # The expression alone: a second, column by column, condition would make the planner
        # take a common word for a rare one.
        numbers = numbers.filter(_words_like(q))
    elif not postgres and (indexed_q or indexed_digits):
        match = _text_query(q=indexed_q, digits=indexed_digits)
        if text_index_count(match) <= TEXT_CANDIDATES:
            numbers = numbers.filter(pk__in=_text_index_rows(match))
    if q and not (postgres and indexed_q):
        numbers = numbers.filter(
            Q(label__icontains=q) | Q(team__icontains=q) | Q(notes__icontains=q)
        )
    if digits:
        # On PostgreSQL, LIKE on msisdn is what its trigram index serves.
        numbers = numbers.filter(**{"msisdn__endswith" if ends else "msisdn__contains": digits})
    return numbers


def _words_like(q: str) -> ExpressionWrapper:
    """PostgreSQL: the trigram index's expression contains `q` (any case)."""
    sql = f"{cache_triggers.WORDS_SQL} ILIKE %s"  # our own expression; `q` is a parameter
    words = RawSQL(sql, [f"%{_like_escaped(q)}%"])  # noqa: S611
    return ExpressionWrapper(words, output_field=BooleanField())


def _text_index_rows(match: str) -> RawSQL:
    """SQLite: the rows its text index finds for an FTS5 query, as a subquery."""
    table = cache_triggers.TEXT_TABLE
    return RawSQL(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", [match])  # noqa: S608, S611


def _text_query(*, q: str, digits: str) -> str:
    """An FTS5 query: the free text in label, team or notes, and the digits in the number."""
    phrases = []
    if q:
        phrases.append(f"{{label team notes}} : {_phrase(q)}")
    if digits:
        phrases.append(f"msisdn : {_phrase(digits)}")
    return " AND ".join(phrases)


def text_index_count(match: str) -> int:
    """How many numbers SQLite's text index finds for an FTS5 query, counted up to
    TEXT_CANDIDATES + 1."""
    table = cache_triggers.TEXT_TABLE
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT rowid FROM {table} WHERE {table} MATCH %s LIMIT %s)",  # noqa: S608
            [match, TEXT_CANDIDATES + 1],
        )
        return cursor.fetchone()[0]


def text_index_candidates(*, q: str = "", digits: str = "", ends: bool = False) -> list[int]:
    """The ids of the numbers the text index finds for free text and digits (all of them;
    for tests and checks, not for pages)."""
    if connection.vendor == "postgresql":
        numbers = OwnedNumber.objects.all()
        if q:
            numbers = numbers.filter(_words_like(q))
        if digits:
            numbers = numbers.filter(**{"msisdn__endswith" if ends else "msisdn__contains": digits})
        return list(numbers.values_list("pk", flat=True))
    table = cache_triggers.TEXT_TABLE
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH %s",  # noqa: S608
            [_text_query(q=q, digits=digits)],
        )
        return [row[0] for row in cursor.fetchall()]


def _phrase(text: str) -> str:
    """An FTS5 phrase matching `text` as it is (quotes doubled)."""
    return '"' + text.replace('"', '""') + '"'


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class InventorySummary:
    count: int  # with `exact` False: a lower bound, and the money figures are not known
    priced: int  # how many of them have a price the portal knows
    monthly_total: Decimal
    exact: bool = True


def inventory_totals(*, filters: InventoryFilter) -> InventorySummary:
    """The totals for a filter: a SUM over the totals groups it covers, kept by every write
    to the cache; for digits or free text (no group covers them), a count that stops at
    COUNT_BOUND."""
    return _summary(_scope(filters))


def _summary(scope: _Scope) -> InventorySummary:
    if scope.bounded:
        costs = list(
            scope.numbers.order_by().values_list("monthly_cost", flat=True)[: COUNT_BOUND + 1]
        )
        if len(costs) > COUNT_BOUND:
            return InventorySummary(
                count=COUNT_BOUND, priced=0, monthly_total=Decimal(0), exact=False
            )
        known = [cost for cost in costs if cost is not None]
        return InventorySummary(
            count=len(costs), priced=len(known), monthly_total=sum(known, Decimal(0))
        )
    totals = InventoryTotal.objects.filter(**scope.groups).aggregate(
        count=Sum("numbers"), priced=Sum("priced"), total=Sum("monthly_total")
    )
    return InventorySummary(
        count=totals["count"] or 0,
        priced=totals["priced"] or 0,
        monthly_total=totals["total"] or Decimal(0),
    )


@dataclass(frozen=True)
class InventoryPage:
    rows: list[OwnedNumber]
    summary: InventorySummary
    pagination: Pagination
    filters: InventoryFilter = field(repr=False)


def owned_number_list(*, filters: InventoryFilter) -> InventoryPage:
    """One page of the cache and the totals for the whole filter, in a fixed number of
    queries whatever the size of the inventory: the totals from their groups, the page by a
    seek into the index of its sort (from the row a link names, or from the end)."""
    scope = _scope(filters)
    summary = _summary(scope)
    order = inventory_order(filters.sort)
    size, page = filters.size, filters.page
    rows, more = [], False
    fields = {f.name: f for f in OwnedNumber._meta.fields}
    after = order.parse(filters.after, fields=fields) if page > 1 else None
    before = order.parse(filters.before, fields=fields) if page > 1 and after is None else None
    pages = max(1, -(-summary.count // size))
    if summary.exact and page > pages:
        pass  # the page says how many pages there are
    elif after is not None or (before is None and (page == 1 or not summary.exact)):
        skip = 0 if after is not None else (page - 1) * size
        rows = order.read(scope.numbers, after, backward=False, skip=skip, take=size + 1)
        more, rows = len(rows) > size, rows[:size]
    elif before is not None:
        rows = order.read(scope.numbers, before, backward=True, skip=0, take=size)[::-1]
    else:  # a page counted from the end, read backwards from the last row
        skip = max(0, summary.count - page * size)
        take = min(size, summary.count - (page - 1) * size)
        if skip > summary.count // 2:  # nearer the start: count from there
            rows = order.read(
                scope.numbers, None, backward=False, skip=(page - 1) * size, take=take
            )
        else:
            rows = order.read(scope.numbers, None, backward=True, skip=skip, take=take)[::-1]
    pagination = Pagination(
        summary.count,
        page,
        size,
        exact=summary.exact,
        more=more,
        after=order.cursor_of(rows[-1]) if rows else "",
        before=order.cursor_of(rows[0]) if rows else "",
    )
    return InventoryPage(rows=rows, summary=summary, pagination=pagination, filters=filters)


EXPORT_COLUMNS = (
    "msisdn",
    "country",
    "type",
    "has_sms",
    "has_voice",
    "has_mms",
    "monthly_cost",
    "setup_cost",
    "purchased_at",
    "label",
    "team",
    "mo_http_url",
    "voice_callback_type",
    "voice_callback_value",
    "voice_status_callback",
)


def owned_number_rows(*, filters: InventoryFilter) -> Iterator[tuple]:
    """Every number of the filter as EXPORT_COLUMNS, in the listing's order, streamed from
    the indexes in chunks (for the CSV export)."""
    order = inventory_order(filters.sort)
    for _, query in order.queries(owned_number_queryset(filters=filters), None, backward=False):
        yield from query.values_list(*EXPORT_COLUMNS).iterator(chunk_size=2000)


def owned_number_get(*, msisdn: str) -> OwnedNumber | None:
    return OwnedNumber.objects.select_related("purchased_by").filter(msisdn=msisdn).first()


def number_history(*, msisdn: str) -> QuerySet[Operation]:
    return Operation.objects.filter(msisdn=msisdn).order_by("-seq")


# --- sync status ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncStatus:
    last_success: datetime | None
    running_since: datetime | None
    last_failure: str
    queued_since: datetime | None = None

    @property
    def is_stale(self) -> bool:
        if self.last_success is None:
            return True
        return timezone.now() - self.last_success > settings.SYNC_STALE_AFTER

    @property
    def in_progress(self) -> bool:
        return self.running_since is not None or self.queued_since is not None


def sync_status() -> SyncStatus:
    """From the cache when a sync has reported there; else from the database."""
    cached = cache.get(SYNC_STATUS_CACHE_KEY)
    if cached is not None:
        return cached
    status = sync_status_from_database()
    cache.set(SYNC_STATUS_CACHE_KEY, status, timeout=sync_status_cache_seconds(status))
    return status


def sync_status_cache_seconds(status: SyncStatus) -> int:
    """A sync in progress is read again every few seconds: it may run in another process
    whose reports this process's cache never sees (development has no shared cache)."""
    return 2 if status.in_progress else 300


def sync_status_from_database() -> SyncStatus:
    last_success = (
        SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).order_by("-finished_at").first()
    )
    latest = SyncRun.objects.order_by("-requested_at", "-pk").first()
    status = latest.status if latest else None
    ended_badly = status in (SyncRun.Status.FAILED, SyncRun.Status.ABANDONED)
    return SyncStatus(
        last_success=last_success.finished_at if last_success else None,
        running_since=latest.started_at if status == SyncRun.Status.RUNNING else None,
        queued_since=latest.requested_at if status == SyncRun.Status.QUEUED else None,
        last_failure=latest.message if ended_badly else "",
    )


_PROGRESS_STATES = {
    SyncRun.Status.QUEUED: "queued",
    SyncRun.Status.RUNNING: "running",
    SyncRun.Status.SUCCEEDED: "done",
    SyncRun.Status.FAILED: "failed",
    SyncRun.Status.ABANDONED: "failed",
}


def sync_progress() -> dict:
    """The latest sync as the page that follows it shows it: state, progress (0..1), and a
    sentence; straight from the database, so a poll never sees a stale cache."""
    run = SyncRun.objects.order_by("-requested_at", "-pk").first()
    if run is None:
        return {"state": "none", "progress": None, "message": "The inventory was never synced."}
    total = run.numbers_total or 0
    if run.status == SyncRun.Status.QUEUED:
        message = "Waiting for the task worker to start the sync."
    elif run.status == SyncRun.Status.RUNNING:
        message = f"Syncing: {run.numbers_seen} of {total or 'the'} numbers read."
    else:
        message = run.message
    done = run.status == SyncRun.Status.SUCCEEDED
    progress = 1.0 if done else (min(run.numbers_seen / total, 1.0) if total else None)
    return {"state": _PROGRESS_STATES[run.status], "progress": progress, "message": message}


@dataclass(frozen=True)
class InventoryOverview:
    """The home page's view of the inventory."""

    summary: InventorySummary
    sync: SyncStatus
    unsettled: list[Operation]


def inventory_overview() -> InventoryOverview:
    return InventoryOverview(
        summary=inventory_totals(filters=InventoryFilter()),
        sync=sync_status(),
        unsettled=list(unsettled_operations()[:10]),
    )
