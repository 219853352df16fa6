"""Reads: what the pages show, from the portal's own models and cache. Selectors never call
the API (the API connection's state is in `inventory.health`)."""

from __future__ import annotations

import calendar
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from inventory import cache_triggers
from inventory.models import (
    ESTIMATED_SOURCES,
    FEATURE_COLUMNS,
    Action,
    ApiToken,
    ApprovalRules,
    AuditChainHead,
    Batch,
    BatchItem,
    Budget,
    Destination,
    Event,
    Feature,
    InventorySpend,
    InventoryTotal,
    NotificationDelivery,
    NotificationPreference,
    Operation,
    Outcome,
    OwnedNumber,
    PurchaseRequest,
    RateCard,
    RateCardRefresh,
    SelectionItem,
    SpendSnapshot,
    SyncRun,
    Webhook,
)
from inventory.paging import Order, Pagination
from inventory.patterns import DigitPattern

SYNC_STATUS_CACHE_KEY = "inventory:sync-status"
STOCK_CACHE_KEY = "catalogue:stock"


def unsettled_operations() -> QuerySet[Operation]:
    """Operations whose outcome is still unknown: people must see these until settled.
    Newest first from the (outcome, seq) index, each looked up in the settlements' unique
    index (a join would make SQLite index every entry of the trail first)."""
    settlement = Operation.objects.filter(settles=OuterRef("pk"))
    unknown = Operation.objects.filter(outcome="unknown").exclude(Exists(settlement))
    return unknown.order_by("-seq")


def interrupted_operations() -> QuerySet[Operation]:
    """Operations still pending long after any call could have ended: their process stopped
    (a task worker marks them unknown and settles them)."""
    cutoff = timezone.now() - settings.PENDING_STALE_AFTER
    return Operation.objects.filter(outcome=Outcome.PENDING, created_at__lt=cutoff).order_by("-seq")


def operation_get(*, pk: int) -> Operation | None:
    """An operation on a number. Other trail entries (logins, refusals, syncs) are for
    auditors, who read them in the admin; this page does not show them."""
    entries = Operation.objects.select_related("settlement").exclude(msisdn="")
    return entries.filter(pk=pk).first()


def countries_on_sale() -> dict[str, bool]:
    """Per country, whether the last plain searches found numbers on sale (for pickers):
    True when some type had numbers, False when every type searched had none."""
    return on_sale_by_country(cache.get(STOCK_CACHE_KEY) or {})


def on_sale_by_country(stock: dict) -> dict[str, bool]:
    """countries_on_sale() of the remembered stock already read (by type, per country)."""
    return {country: any(types.values()) for country, types in stock.items()}


# --- inventory ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InventoryFilter:
    country: str = ""
    type: str = ""
    features: tuple[str, ...] = ()
    pattern: DigitPattern | None = None
    configured: str = ""  # "", "yes" or "no"
    q: str = ""
    destination: int | None = None  # routed to this named destination
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
            destination=data.get("destination"),
            sort=data.get("sort") or "msisdn",
            page=data.get("page") or 1,
            size=data.get("size") or 50,
            after=data.get("after") or "",
            before=data.get("before") or "",
        )


# Each sort's column (country sorts by its name); columns that may be unknown sort it last.
_SORT_COLUMNS = {
    "msisdn": "msisdn",
    "country": "country_name",
    "type": "type",
    "label": "label",
    # Sorting by price sorts by the price the portal counts (bought, listed or rate card).
    "monthly_cost": "effective_monthly_cost",
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
    some of it (digits, free text, a destination) is beyond what the groups count."""

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
        groups[FEATURE_COLUMNS[Feature(feature)]] = True
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
    if filters.destination:
        numbers = numbers.filter(_routed_to(filters.destination))
    bounded = bool(pattern or filters.q or filters.destination)
    return _Scope(numbers=numbers, groups=groups, bounded=bounded)


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


def _routed_to(destination_id: int) -> Q:
    destination = Destination.objects.filter(pk=destination_id).first()
    if destination is None:
        return Q(pk__in=[])
    if destination.kind == Destination.Kind.WEBHOOK:
        return Q(mo_http_url=destination.value)
    return Q(voice_callback_type=destination.kind, voice_callback_value=destination.value)


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
    priced: int  # how many of them have a price (of any source)
    monthly_total: Decimal
    estimated: int = 0  # how many of those are priced from the rate card
    estimated_total: Decimal = Decimal(0)
    exact: bool = True

    @property
    def unpriced(self) -> int:
        return self.count - self.priced


def inventory_totals(*, filters: InventoryFilter) -> InventorySummary:
    """The totals for a filter: a SUM over the totals groups it covers, kept by every write
    to the cache; for digits, free text or a destination (no group covers them), a count
    that stops at COUNT_BOUND."""
    return _summary(_scope(filters))


def _summary(scope: _Scope) -> InventorySummary:
    if scope.bounded:
        return _bounded_summary(scope.numbers)
    estimate = Q(price_source__in=ESTIMATED_SOURCES)
    totals = InventoryTotal.objects.filter(**scope.groups).aggregate(
        count=Sum("numbers"),
        known=Sum("priced"),
        total=Sum("monthly_total"),
        estimated=Sum("priced", filter=estimate),
        estimated_total=Sum("monthly_total", filter=estimate),
    )
    return InventorySummary(
        count=totals["count"] or 0,
        priced=totals["known"] or 0,
        monthly_total=totals["total"] or Decimal(0),
        estimated=totals["estimated"] or 0,
        estimated_total=totals["estimated_total"] or Decimal(0),
    )


def _bounded_summary(numbers: QuerySet[OwnedNumber]) -> InventorySummary:
    prices = numbers.order_by().values_list("effective_monthly_cost", "price_source")
    rows = list(prices[: COUNT_BOUND + 1])
    if len(rows) > COUNT_BOUND:
        return InventorySummary(count=COUNT_BOUND, priced=0, monthly_total=Decimal(0), exact=False)
    known = [(cost, source) for cost, source in rows if cost is not None]
    estimated = [cost for cost, source in known if source in ESTIMATED_SOURCES]
    return InventorySummary(
        count=len(rows),
        priced=len(known),
        monthly_total=sum((cost for cost, _ in known), Decimal(0)),
        estimated=len(estimated),
        estimated_total=sum(estimated, Decimal(0)),
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
    scope = replace(scope, numbers=scope.numbers.annotate(**_destination_names()))
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
    "effective_monthly_cost",
    "price_source",
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


def owned_numbers_of(*, msisdns: list[str], limit: int) -> list[OwnedNumber]:
    """The first `limit` of the chosen numbers, in msisdn order (what a bulk form shows)."""
    return list(OwnedNumber.objects.filter(msisdn__in=msisdns).order_by("msisdn")[:limit])


def owned_number_rows_of(*, msisdns: list[str]) -> Iterator[tuple]:
    """The chosen numbers as EXPORT_COLUMNS, in msisdn order (the selection's export)."""
    numbers = OwnedNumber.objects.filter(msisdn__in=msisdns).order_by("msisdn")
    return numbers.values_list(*EXPORT_COLUMNS).iterator(chunk_size=1000)


def owned_numbers_after(
    *, filters: InventoryFilter, after: str = "", limit: int
) -> list[OwnedNumber]:
    """Up to `limit` numbers of the filter in msisdn order, after `after` (a cursor: the
    last number of the page before). Read from the index each filter ends in, whatever
    the size of the inventory (the JSON API's pages)."""
    numbers = owned_number_queryset(filters=replace(filters, sort="msisdn"))
    if after:
        numbers = numbers.filter(msisdn__gt=after)
    return list(numbers.select_related("purchased_by").order_by("msisdn")[:limit])


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
        running_since=latest.started_at if latest and status == SyncRun.Status.RUNNING else None,
        queued_since=latest.requested_at if latest and status == SyncRun.Status.QUEUED else None,
        last_failure=latest.message if latest and ended_badly else "",
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
    answer = {
        "state": _PROGRESS_STATES[SyncRun.Status(run.status)],
        "progress": progress,
        "message": message,
    }
    if done:  # the page that follows it shows the new listing
        answer["done_url"] = reverse("inventory")
    return answer


@dataclass(frozen=True)
class InventoryOverview:
    """What needs attention, on the home page: operations whose outcome is unknown, and
    operations interrupted mid-call."""

    sync: SyncStatus
    unsettled: list[Operation]
    interrupted: list[Operation] = field(default_factory=list)


def inventory_overview() -> InventoryOverview:
    """The latest ten unsettled unknowns and ten interrupted operations, each read from the
    outcome index (two queries: in one, PostgreSQL would test every entry of the trail
    against both lists), so a million entries of other outcomes are never looked at."""
    cutoff = timezone.now() - settings.PENDING_STALE_AFTER
    settled = Exists(Operation.objects.filter(settles=OuterRef("pk")))
    unsettled = Operation.objects.filter(outcome=Outcome.UNKNOWN).exclude(settled)
    interrupted = Operation.objects.filter(outcome=Outcome.PENDING, created_at__lt=cutoff)
    return InventoryOverview(
        sync=sync_status(),
        unsettled=list(unsettled.order_by("-seq")[:10]),
        interrupted=list(interrupted.order_by("-seq")[:10]),
    )


# --- fleet work: the selection, batches, destinations ---------------------------------------


@dataclass(frozen=True)
class Selection:
    items: list[SelectionItem]
    setup_total: Decimal
    monthly_total: Decimal

    @property
    def count(self) -> int:
        return len(self.items)


def selection_of(*, user) -> Selection:
    """The numbers a user picked in the catalogue (at most a thousand), with totals."""
    items = list(SelectionItem.objects.filter(user=user))
    return Selection(
        items=items,
        setup_total=sum((item.setup_cost or Decimal(0) for item in items), Decimal(0)),
        monthly_total=sum((item.monthly_cost or Decimal(0) for item in items), Decimal(0)),
    )


def selection_count(*, user) -> int:
    return SelectionItem.objects.filter(user=user).count()


def batch_get(*, pk: int) -> Batch | None:
    return Batch.objects.select_related("created_by").filter(pk=pk).first()


def batch_items(*, batch: Batch) -> QuerySet[BatchItem]:
    return batch.items.select_related("operation", "operation__settlement").order_by("position")


def batches_recent(*, limit: int = 25) -> list[Batch]:
    return list(Batch.objects.select_related("created_by").order_by("-created_at")[:limit])


_BATCH_STATES = {
    Batch.Status.CHECKING: "running",
    Batch.Status.REVIEW: "review",
    Batch.Status.APPROVAL: "review",
    Batch.Status.QUEUED: "queued",
    Batch.Status.RUNNING: "running",
    Batch.Status.DONE: "done",
    Batch.Status.STOPPED: "done",
    Batch.Status.HALTED: "failed",
    Batch.Status.DISCARDED: "done",
}


def batch_progress(*, batch: Batch) -> dict:
    """A batch as its page follows it: state, progress (0..1), a sentence, and each item's
    state, straight from the database."""
    items = batch.items.order_by()
    states = dict(items.values_list("state").annotate(n=Count("pk")))
    total = sum(n for state, n in states.items() if state != BatchItem.State.EXCLUDED)
    waiting = states.get(BatchItem.State.QUEUED, 0) + states.get(BatchItem.State.WORKING, 0)
    ended = total - waiting - states.get(BatchItem.State.PROPOSED, 0)
    # Working items with an operation were sent and confirmed by the API; they wait to be
    # checked against the account, which a batch does for many at once.
    shown = {
        msisdn: "sent" if state == BatchItem.State.WORKING and operation else state
        for msisdn, state, operation in items.values_list("msisdn", "state", "operation_id")
    }
    sent = sum(1 for state in shown.values() if state == "sent")
    if batch.status == Batch.Status.CHECKING:
        message = "Checking each offer's price and availability again…"
    elif batch.status == Batch.Status.APPROVAL:
        message = "Waiting for an approver: nothing is bought until someone approves it."
    elif batch.status in (Batch.Status.QUEUED, Batch.Status.RUNNING):
        message = f"{ended} of {total} done."
        if sent:
            message += f" {sent} more sent, being checked against the account."
        if batch.status == Batch.Status.QUEUED:
            message = "Waiting for the task worker to start."
    else:
        message = batch.message or batch.get_status_display()
    return {
        "state": _BATCH_STATES[Batch.Status(batch.status)],
        "status": batch.status,
        "progress": ((ended + sent) / total) if total else None,
        "message": message,
        "items": shown,
    }


def destinations() -> list[Destination]:
    return list(Destination.objects.order_by("name"))


def _destination_names() -> dict[str, Subquery]:
    """Where each row's messages and calls go, as people named it (a destination with the
    same address), read with the row itself: `sms_destination`, `voice_destination`."""
    sms = Destination.objects.filter(kind=Destination.Kind.WEBHOOK, value=OuterRef("mo_http_url"))
    voice = Destination.objects.filter(
        kind=OuterRef("voice_callback_type"), value=OuterRef("voice_callback_value")
    )
    return {
        "sms_destination": Subquery(sms.values("name")[:1]),
        "voice_destination": Subquery(voice.values("name")[:1]),
    }


def numbers_routed_to(*, destination: Destination) -> QuerySet[OwnedNumber]:
    return OwnedNumber.objects.filter(_routed_to(destination.pk))


def owned_number_msisdns(*, filters: InventoryFilter, limit: int) -> list[str]:
    """The numbers a filter matches, for a bulk action (at most `limit`)."""
    numbers = owned_number_queryset(filters=filters).values_list("msisdn", flat=True)
    return list(numbers[:limit])


def api_tokens_of(*, user) -> list[ApiToken]:
    """A user's personal access tokens, newest first (the revoked and expired ones too)."""
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-pk"))


# --- the audit trail ------------------------------------------------------------------------
# Built for a trail of millions of entries: every filter is an equality or a range that one
# index serves together with the order by seq (migration 0008), pages are found by seq
# (keyset), never by OFFSET, and nothing counts the whole filter.

AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    outcome: str = ""  # an Outcome, or "unsettled" (unknown and not settled yet)
    user: str = ""  # the username as recorded
    number: str = ""  # a whole msisdn
    country: str = ""
    since: date | None = None  # local dates, both ends included
    until: date | None = None
    q: str = ""
    before: int | None = None  # keyset: entries older than this seq
    after: int | None = None  # keyset: entries newer than this seq
    size: int = AUDIT_PAGE_SIZE

    @classmethod
    def from_form(cls, data: dict) -> AuditFilter:
        fields = {name: data.get(name) for name in _AUDIT_FILTER_FIELDS}
        return cls(**{name: value for name, value in fields.items() if value not in (None, "")})

    @property
    def is_filtered(self) -> bool:
        return any(getattr(self, name) for name in _AUDIT_FILTER_FIELDS if name not in _CURSORS)

    def query(self, **cursor) -> dict[str, str]:
        """The filter as a query string's parameters, with another cursor (or none)."""
        params = {
            name: getattr(self, name)
            for name in _AUDIT_FILTER_FIELDS
            if name not in _CURSORS and getattr(self, name)
        }
        params.update({name: value for name, value in cursor.items() if value is not None})
        return {
            name: value.isoformat() if isinstance(value, date) else str(value)
            for name, value in params.items()
        }


_CURSORS = ("before", "after")
_AUDIT_FILTER_FIELDS = (
    *("action", "outcome", "user", "number", "country", "since", "until", "q"),
    *_CURSORS,
)


def _audit_q(entries: QuerySet[Operation], q: str) -> QuerySet[Operation]:
    """Free text, read as what it looks like, so an index answers it: "#123" an entry, an IP
    address, digits a number or its start; anything else a username or a request id."""
    text = q.strip()
    if re.fullmatch(r"#\d{1,18}", text):
        return entries.filter(seq=int(text[1:]))
    try:
        return entries.filter(ip=str(ipaddress.ip_address(text)))
    except ValueError:
        pass
    digits = re.sub(r"[\s().\-/]", "", text).removeprefix("+")
    if re.fullmatch(r"[0-9]{2,15}", digits):
        # A range, not LIKE: both databases read it from the msisdn index.
        return entries.filter(msisdn__gte=digits, msisdn__lt=digits + ":")
    # One column, so one index answers with the order by seq (an OR of two would not).
    if Operation.objects.filter(actor_username=text).exists():
        return entries.filter(actor_username=text)
    return entries.filter(request_id=text)


def _first_seq_from(moment: datetime) -> int | None:
    """The first entry at or after `moment`, by the created_at index. Entries are numbered
    under the chain lock in the order they are made, so seq follows created_at."""
    return (
        Operation.objects.filter(created_at__gte=moment)
        .order_by("created_at")
        .values_list("seq", flat=True)
        .first()
    )


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def audit_entries(*, filters: AuditFilter) -> QuerySet[Operation]:
    """The entries of the filter, newest first (cursors not applied)."""
    entries = Operation.objects.all()
    for name in ("action", "country", "msisdn"):
        value = filters.number if name == "msisdn" else getattr(filters, name)
        if value:
            entries = entries.filter(**{name: value})
    if filters.user:
        entries = entries.filter(actor_username=filters.user)
    if filters.outcome == "unsettled":
        entries = entries.filter(outcome=Outcome.UNKNOWN, settlement__isnull=True)
    elif filters.outcome:
        entries = entries.filter(outcome=filters.outcome)
    if filters.q:
        entries = _audit_q(entries, filters.q)
    entries = _audit_dates(entries, filters)
    settled_as = Operation.objects.filter(settles=OuterRef("pk")).values("outcome")[:1]
    return entries.annotate(settled_as=Subquery(settled_as)).order_by("-seq")


def _audit_dates(entries: QuerySet[Operation], filters: AuditFilter) -> QuerySet[Operation]:
    """A date range becomes a range of seq (two index lookups), which the index of every other
    filter serves; created_at is checked too, so the bounds are exact."""
    if filters.since:
        start = _local_midnight(filters.since)
        first = _first_seq_from(start)
        entries = entries.filter(created_at__gte=start, seq__gte=first if first else 1 << 62)
    if filters.until:
        end = _local_midnight(filters.until + timedelta(days=1))
        first = _first_seq_from(end)
        entries = entries.filter(created_at__lt=end)
        if first:
            entries = entries.filter(seq__lt=first)
    return entries


@dataclass(frozen=True)
class AuditPage:
    entries: list[Operation]
    filters: AuditFilter
    newer: int | None  # seq to pass as `after` for the page of newer entries
    older: int | None  # seq to pass as `before` for the page of older entries
    trail_length: int  # entries in the whole trail (the chain head knows, no count)

    @property
    def is_first(self) -> bool:
        return self.newer is None

    @property
    def matches_known(self) -> bool:
        """Whether every match is on this page, so the page can say how many there are."""
        return self.newer is None and self.older is None


def audit_page(*, filters: AuditFilter) -> AuditPage:
    """One page of the filter, by keyset: size + 1 rows tell whether another page follows."""
    entries = audit_entries(filters=filters)
    size = filters.size
    newer: int | None  # as in AuditPage
    older: int | None
    if filters.after is not None:
        # Newer entries: the ones just above `after`, read upwards, shown newest first.
        rows = list(entries.filter(seq__gt=filters.after).order_by("seq")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        newer = rows[0].seq if rows and more_newer else None
        older = rows[-1].seq if rows else filters.after + 1
    else:
        if filters.before is not None:
            entries = entries.filter(seq__lt=filters.before)
        rows = list(entries[: size + 1])
        more_older = len(rows) > size
        rows = rows[:size]
        older = rows[-1].seq if rows and more_older else None
        newer = rows[0].seq if rows and filters.before is not None else None
        if not rows and filters.before is not None:
            newer = filters.before - 1
    return AuditPage(
        entries=rows, filters=filters, newer=newer, older=older, trail_length=audit_length()
    )


def audit_length() -> int:
    """How many entries the trail holds: the chain head numbers the last one."""
    head = AuditChainHead.objects.filter(pk=1).values_list("seq", flat=True).first()
    return head or 0


def audit_rows(*, filters: AuditFilter) -> Iterator[Operation]:
    """Every entry of the filter, newest first, streamed (for the CSV export)."""
    return audit_entries(filters=filters).iterator(chunk_size=2000)


def audit_entry_get(*, seq: int) -> Operation | None:
    """One entry, with the entry it settles and the entry that settles it."""
    if seq >= 2**63:  # no such entry, and more than the database's integers hold
        return None
    entry = Operation.objects.select_related("settles").filter(seq=seq).first()
    if entry is not None:
        entry.settled_by = Operation.objects.filter(settles=entry).first()
    return entry


def audit_usernames(*, limit: int = 200) -> list[str]:
    """People who may appear in the trail, for the user filter's suggestions (the users
    table is small; the trail is not)."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.order_by("username").values_list("username", flat=True)
    return list(users[:limit])


# --- approvals and notifications ------------------------------------------------------------


def approval_rules() -> ApprovalRules:
    """The approval rules in force: as a superuser last saved them, else the amount from
    PURCHASE_APPROVAL_ABOVE with the other rules off (an unsaved row)."""
    rules = ApprovalRules.objects.select_related("updated_by").filter(pk=1).first()
    if rules is None:
        rules = ApprovalRules(pk=1, purchase_above=settings.PURCHASE_APPROVAL_ABOVE)
    return rules


def purchase_request_get(*, pk: int) -> PurchaseRequest | None:
    return (
        PurchaseRequest.objects.select_related("requester", "decided_by", "batch")
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class ApprovalQueue:
    waiting: list[PurchaseRequest]
    recent: list[PurchaseRequest]


def purchase_request_trail(*, request: PurchaseRequest) -> QuerySet[Operation]:
    """The trail entries of a request's steps, oldest first, for its page."""
    steps = [
        Action.APPROVAL_REQUESTED,
        Action.APPROVAL_APPROVED,
        Action.APPROVAL_REJECTED,
        Action.APPROVAL_EXPIRED,
        Action.APPROVAL_WITHDRAWN,
        Action.APPROVAL_REFUSED,
    ]
    entries = Operation.objects.filter(action__in=steps, request__purchase_request=request.pk)
    return entries.order_by("seq")


def approval_queue(*, recent: int = 20) -> ApprovalQueue:
    """Requests waiting for a decision (oldest first: it expires first), and the latest
    ones decided or carried out."""
    requests = PurchaseRequest.objects.select_related("requester", "decided_by")
    waiting = requests.filter(status=PurchaseRequest.Status.PENDING).order_by("created_at", "pk")
    done = requests.exclude(status=PurchaseRequest.Status.PENDING).order_by("-created_at", "-pk")
    return ApprovalQueue(waiting=list(waiting[:200]), recent=list(done[:recent]))


def purchase_requests_listed(*, status: str = "", limit: int = 200) -> list[PurchaseRequest]:
    """Requests for the API's list: those waiting first (oldest first: it expires first),
    then the latest others; only those in `status` when given."""
    requests = PurchaseRequest.objects.select_related("requester", "decided_by")
    requests = requests.prefetch_related("items")
    if status:
        requests = requests.filter(status=status)
    waiting = requests.filter(status=PurchaseRequest.Status.PENDING).order_by("created_at", "pk")
    others = requests.exclude(status=PurchaseRequest.Status.PENDING)
    listed = list(waiting[:limit])
    return listed + list(others.order_by("-created_at", "-pk")[: limit - len(listed)])


def batch_purchase_request(*, batch: Batch) -> PurchaseRequest | None:
    """The request a bulk purchase waited on (or waits on), if it needed approval."""
    if batch.kind != Batch.Kind.PURCHASE:
        return None
    return PurchaseRequest.objects.filter(batch=batch).order_by("-pk").first()


def approvals_waiting_count() -> int:
    return PurchaseRequest.objects.filter(status=PurchaseRequest.Status.PENDING).count()


def purchase_request_state(*, request: PurchaseRequest) -> dict:
    """A request as its page follows it (static/js/poll.js): done once it has an outcome."""
    states = {
        PurchaseRequest.Status.PENDING: "queued",
        PurchaseRequest.Status.APPROVED: "running",
    }
    messages = {
        PurchaseRequest.Status.PENDING: "Waiting for an approver: nothing is bought until "
        "someone other than the requester approves it.",
        PurchaseRequest.Status.APPROVED: "Approved: the task worker is buying at the approved "
        "prices.",
    }
    status = PurchaseRequest.Status(request.status)
    return {
        "state": states.get(status, "done"),
        "status": request.status,
        "progress": None,
        "message": request.message or messages.get(status, request.get_status_display()),
        "done_url": f"/approvals/{request.pk}/",
    }


def notification_events_of(*, user) -> list[str]:
    """The events a person receives by email: as they chose, else the ones addressed to
    them (a purchase waiting for them as an approver, the decision on their own request)."""
    preference = NotificationPreference.objects.filter(user=user).first()
    if preference is None:
        return [Event.APPROVAL_REQUESTED, Event.APPROVAL_DECIDED]
    return list(preference.events)


def webhooks() -> list[Webhook]:
    return list(Webhook.objects.order_by("name"))


def notification_failures_recent(*, limit: int = 50) -> list[NotificationDelivery]:
    """Deliveries that failed for good, or are failing and will be tried again, newest
    first: for the failed deliveries page and the System status page."""
    failing = (NotificationDelivery.Status.FAILED, NotificationDelivery.Status.RETRYING)
    deliveries = NotificationDelivery.objects.filter(status__in=failing)
    return list(
        deliveries.select_related("notification", "webhook").order_by("-created_at", "-pk")[:limit]
    )


# --- spend: the dashboard, the rate card, budgets -------------------------------------------
# The dashboard reads the totals the database keeps (InventoryTotal: a few rows per kind of
# number), the monthly snapshots and the budgets, never the cache itself: a fixed number of
# small queries whatever the size of the account, so it is read afresh on every visit.

RENEWALS_SHOWN = 10


@dataclass(frozen=True)
class SpendShare:
    key: str  # a country code, a number type or a team ("" for none)
    numbers: int
    monthly_total: Decimal


@dataclass(frozen=True)
class MonthSpend:
    month: date
    numbers: int
    monthly_total: Decimal
    purchases: int
    cancellations: int


@dataclass(frozen=True)
class Renewal:
    on: date
    msisdn: str
    monthly_cost: Decimal | None


@dataclass(frozen=True)
class BudgetStatus:
    team: str  # "" for the overall budget
    budget: Decimal
    spend: Decimal

    @property
    def over(self) -> bool:
        return self.spend > self.budget

    @property
    def percent(self) -> int:
        return int(self.spend * 100 / self.budget) if self.budget else 100


@dataclass(frozen=True)
class SpendDashboard:
    numbers: int
    priced: int
    monthly_total: Decimal
    estimated: int  # numbers priced from the rate card
    estimated_total: Decimal
    by_country: list[SpendShare]
    by_type: list[SpendShare]
    by_team: list[SpendShare]
    unrouted: int  # numbers that cost money and route nowhere
    unrouted_total: Decimal
    history: list[MonthSpend]
    renewals: list[Renewal]  # the next few
    renewing: int  # numbers whose renewal date is known (each renews once in 30 days)
    renewing_total: Decimal
    budgets: list[BudgetStatus]

    @property
    def unpriced(self) -> int:
        return self.numbers - self.priced

    @property
    def over_budget(self) -> list[BudgetStatus]:
        return [budget for budget in self.budgets if budget.over]


@dataclass(frozen=True)
class _SpendGroup:
    """The numbers of one country, one type or one team, their price, and how much of it is
    priced, estimated, routed nowhere or bought through the portal."""

    dimension: str  # "country", "type" or "team"
    key: str
    numbers: int
    monthly_total: Decimal
    priced: int
    estimated: int
    estimated_total: Decimal
    unrouted: int
    unrouted_total: Decimal
    bought: int
    bought_total: Decimal


_SPEND_FIGURES = [name for name, _, _ in cache_triggers.SPEND_MEASURES]


def _spend_groups() -> list[_SpendGroup]:
    """The spend by country, by type and by team, as the database keeps it: one query of a
    few dozen rows (summed, as PostgreSQL may hold a group in several rows until a fold)."""
    sums = {f"sum_{name}": Sum(name) for name in _SPEND_FIGURES}
    rows = InventorySpend.objects.order_by().values_list("dimension", "key").annotate(**sums)
    groups = [dict(zip(("dimension", "key", *_SPEND_FIGURES), row, strict=True)) for row in rows]
    return [_SpendGroup(**group) for group in groups if group["numbers"]]


def _money(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(Decimal("0.0001"))


def _shares(groups: list[_SpendGroup], dimension: str) -> list[SpendShare]:
    """One dimension's groups, dearest first."""
    shares = [
        SpendShare(group.key, group.numbers, _money(group.monthly_total))
        for group in groups
        if group.dimension == dimension
    ]
    return sorted(shares, key=lambda share: (-share.monthly_total, -share.numbers, share.key))


def _overall(groups: list[_SpendGroup], figure: str):
    """A figure for the whole account: its sum over the countries (each number has one)."""
    return sum((getattr(group, figure) for group in groups if group.dimension == "country"), 0)


def next_renewal(day: int, today: date) -> date:
    """The next monthly anniversary on or after `today` of a purchase on `day` (the last
    day of a shorter month stands in for the 29th to 31st)."""
    year, month = today.year, today.month
    if day < today.day:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day, last))


def _renewals(today: date) -> list[Renewal]:
    """The next renewals: from today's day of the month on, then from the 1st (two reads
    of the renewal-day index)."""
    columns = ("msisdn", "renewal_day", "effective_monthly_cost")
    later = OwnedNumber.objects.filter(renewal_day__gte=today.day).order_by("renewal_day", "msisdn")
    rows = list(later.only(*columns)[:RENEWALS_SHOWN])
    if len(rows) < RENEWALS_SHOWN:
        sooner = OwnedNumber.objects.filter(renewal_day__lt=today.day)
        sooner = sooner.order_by("renewal_day", "msisdn").only(*columns)
        rows += list(sooner[: RENEWALS_SHOWN - len(rows)])
    return [
        Renewal(next_renewal(row.renewal_day, today), row.msisdn, row.effective_monthly_cost)
        for row in rows
        if row.renewal_day is not None  # always: both reads filter on it
    ]


def _history(today: date, now_numbers: int, now_total: Decimal) -> list[MonthSpend]:
    """The last 12 months as recorded; this month with today's figures."""
    this_month = today.replace(day=1)
    first = (this_month - timedelta(days=335)).replace(day=1)
    months = {
        snap.month: MonthSpend(
            snap.month, snap.numbers, snap.monthly_total, snap.purchases, snap.cancellations
        )
        for snap in SpendSnapshot.objects.filter(month__gte=first)
    }
    current = months.get(this_month)
    months[this_month] = MonthSpend(
        this_month,
        now_numbers,
        now_total,
        current.purchases if current else 0,
        current.cancellations if current else 0,
    )
    return [months[month] for month in sorted(months)]


def spend_dashboard(*, today: date | None = None) -> SpendDashboard:
    today = today or timezone.localdate()
    groups = _spend_groups()
    total = _money(_overall(groups, "monthly_total"))
    numbers = _overall(groups, "numbers")
    by_team = _shares(groups, "team")
    team_spend = {share.key: share.monthly_total for share in by_team}
    budgets = [
        BudgetStatus(
            b.team, b.monthly_amount, total if not b.team else team_spend.get(b.team, Decimal(0))
        )
        for b in Budget.objects.order_by("team")
    ]
    renewing = _overall(groups, "bought")
    return SpendDashboard(
        numbers=numbers,
        priced=_overall(groups, "priced"),
        monthly_total=total,
        estimated=_overall(groups, "estimated"),
        estimated_total=_money(_overall(groups, "estimated_total")),
        by_country=_shares(groups, "country"),
        by_type=_shares(groups, "type"),
        by_team=by_team,
        unrouted=_overall(groups, "unrouted"),
        unrouted_total=_money(_overall(groups, "unrouted_total")),
        history=_history(today, numbers, total),
        renewals=_renewals(today) if renewing else [],
        renewing=renewing,
        renewing_total=_money(_overall(groups, "bought_total")),
        budgets=budgets,
    )


def rate_card_rows() -> list[RateCard]:
    return list(RateCard.objects.order_by("country", "type"))


def rate_card_refreshes(*, limit: int = 5) -> list[RateCardRefresh]:
    return list(RateCardRefresh.objects.order_by("-started_at")[:limit])


def budgets() -> list[Budget]:
    return list(Budget.objects.order_by("team"))


def team_names(*, limit: int = 200) -> list[str]:
    """Teams people use (from the totals) and teams with a budget, for pickers."""
    teams = InventorySpend.objects.filter(dimension="team").exclude(key="").order_by()
    used = [team for team, held in teams.values_list("key").annotate(n=Sum("numbers")) if held]
    budgeted = Budget.objects.exclude(team="").values_list("team", flat=True)
    return sorted(set(used) | set(budgeted))[:limit]


# --- system status --------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskQueue:
    queued: int
    running: int
    failed: int  # in the last day
    failures: list  # the latest few failed tasks (DBTaskResult)


def task_queue() -> TaskQueue:
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    since = timezone.now() - timedelta(days=1)
    counts = dict(
        DBTaskResult.objects.filter(
            Q(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
            | Q(status=TaskResultStatus.FAILED, finished_at__gte=since)
        )
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    failures = DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).order_by("-finished_at")
    return TaskQueue(
        queued=counts.get(TaskResultStatus.READY, 0),
        running=counts.get(TaskResultStatus.RUNNING, 0),
        failed=counts.get(TaskResultStatus.FAILED, 0),
        failures=list(failures[:5]),
    )


def syncs_recent(*, limit: int = 10) -> list[SyncRun]:
    return list(SyncRun.objects.order_by("-requested_at", "-pk")[:limit])
