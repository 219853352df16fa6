"""Reads: what the pages show, from the portal's own models and cache. Selectors never call
the API (the API connection's state is in `inventory.health`)."""

from __future__ import annotations

import calendar
import hashlib
import ipaddress
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone

from inventory import phone
from inventory.models import (
    ESTIMATED_SOURCES,
    Action,
    ApiToken,
    ApprovalRules,
    AuditChainHead,
    Batch,
    BatchItem,
    Budget,
    Destination,
    Event,
    NotificationDelivery,
    NotificationPreference,
    Operation,
    Outcome,
    OwnedNumber,
    PriceSource,
    PurchaseRequest,
    RateCard,
    RateCardRefresh,
    SelectionItem,
    SpendSnapshot,
    SpendTally,
    SyncRun,
    Webhook,
)
from inventory.paging import Pagination
from inventory.patterns import DigitPattern

SYNC_STATUS_CACHE_KEY = "inventory:sync-status"
INVENTORY_VERSION_KEY = "inventory:version"
SUMMARY_SECONDS = 300
STOCK_CACHE_KEY = "catalogue:stock"


def unsettled_operations() -> QuerySet[Operation]:
    """Operations whose outcome is still unknown: people must see these until settled."""
    return Operation.objects.filter(outcome="unknown", settlement__isnull=True).order_by("-seq")


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
    stock = cache.get(STOCK_CACHE_KEY) or {}
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
        )


_FEATURE_COLUMNS = {"SMS": "has_sms", "VOICE": "has_voice", "MMS": "has_mms"}
_PATTERN_LOOKUPS = {"starts": "startswith", "contains": "contains", "ends": "endswith"}


def owned_number_queryset(*, filters: InventoryFilter) -> QuerySet[OwnedNumber]:
    numbers = OwnedNumber.objects.all()
    if filters.country:
        numbers = numbers.filter(country=filters.country)
    if filters.type:
        numbers = numbers.filter(type=filters.type)
    for feature in filters.features:
        numbers = numbers.filter(**{_FEATURE_COLUMNS[feature]: True})
    if filters.pattern and filters.pattern.digits:
        lookup = _PATTERN_LOOKUPS[filters.pattern.mode]
        numbers = numbers.filter(**{f"msisdn__{lookup}": filters.pattern.digits})
    configured = ~Q(mo_http_url="") | ~Q(voice_callback_type="")
    if filters.configured == "yes":
        numbers = numbers.filter(configured)
    elif filters.configured == "no":
        numbers = numbers.filter(~configured)
    if filters.q:
        numbers = numbers.filter(
            Q(label__icontains=filters.q)
            | Q(team__icontains=filters.q)
            | Q(notes__icontains=filters.q)
        )
    if filters.destination:
        numbers = numbers.filter(_routed_to(filters.destination))
    return numbers.order_by(_ordering(filters.sort), "msisdn")


def _routed_to(destination_id: int) -> Q:
    destination = Destination.objects.filter(pk=destination_id).first()
    if destination is None:
        return Q(pk__in=[])
    if destination.kind == Destination.Kind.WEBHOOK:
        return Q(mo_http_url=destination.value)
    return Q(voice_callback_type=destination.kind, voice_callback_value=destination.value)


_NULLABLE_SORTS = {"monthly_cost", "purchased_at"}
# Sorting by price sorts by the price the portal counts (bought, listed or rate card).
_SORT_COLUMNS = {"monthly_cost": "effective_monthly_cost"}


def _ordering(sort: str):
    """Unknown values (no price, never bought) sort last both ways, on every database.
    Columns that are never empty keep a plain ordering, which their index serves.
    Countries sort by name, as people read them (Australia before Austria), not by code."""
    name = sort.lstrip("-")
    if name == "country":
        rank = _country_name_rank()
        return rank.desc() if sort.startswith("-") else rank.asc()
    if name not in _NULLABLE_SORTS:
        return sort
    column = F(_SORT_COLUMNS.get(name, name))
    return column.desc(nulls_last=True) if sort.startswith("-") else column.asc(nulls_last=True)


def _country_name_rank() -> Case:
    ranks = phone.country_rank()
    whens = [When(country=code, then=Value(rank)) for code, rank in ranks.items()]
    return Case(*whens, default=Value(len(ranks)), output_field=IntegerField())


@dataclass(frozen=True)
class InventorySummary:
    count: int
    priced: int  # how many of them have a price (of any source)
    monthly_total: Decimal
    estimated: int = 0  # how many of those are priced from the rate card
    estimated_total: Decimal = Decimal(0)

    @property
    def unpriced(self) -> int:
        return self.count - self.priced


def inventory_summary(*, numbers: QuerySet[OwnedNumber]) -> InventorySummary:
    estimate = Q(price_source__in=ESTIMATED_SOURCES)
    totals = numbers.order_by().aggregate(
        count=Count("id"),
        priced=Count("effective_monthly_cost"),
        total=Sum("effective_monthly_cost"),
        estimated=Count("id", filter=estimate),
        estimated_total=Sum("effective_monthly_cost", filter=estimate),
    )
    return InventorySummary(
        count=totals["count"],
        priced=totals["priced"],
        monthly_total=totals["total"] or Decimal(0),
        estimated=totals["estimated"],
        estimated_total=totals["estimated_total"] or Decimal(0),
    )


@dataclass(frozen=True)
class InventoryPage:
    rows: list[OwnedNumber]
    summary: InventorySummary
    pagination: Pagination
    filters: InventoryFilter = field(repr=False)


def inventory_totals(*, filters: InventoryFilter) -> InventorySummary:
    return _cached_summary(filters, owned_number_queryset(filters=filters))


def _cached_summary(filters: InventoryFilter, numbers: QuerySet[OwnedNumber]) -> InventorySummary:
    """Totals only change when the cache does: counting 100,000 rows once per change, not
    once per page view."""
    version = cache.get_or_set(INVENTORY_VERSION_KEY, uuid.uuid4().hex, None)
    scope = replace(filters, sort="msisdn", page=1, size=50)
    key = f"inventory:summary:{version}:{hashlib.sha256(repr(scope).encode()).hexdigest()}"
    summary = cache.get(key)
    if summary is None:
        summary = inventory_summary(numbers=numbers)
        cache.set(key, summary, timeout=SUMMARY_SECONDS)
    return summary


def owned_number_list(*, filters: InventoryFilter) -> InventoryPage:
    """One page of the cache and the totals for the whole filter: at most two queries,
    whatever the size of the inventory."""
    numbers = owned_number_queryset(filters=filters)
    summary = _cached_summary(filters, numbers)
    pagination = Pagination(summary.count, filters.page, filters.size)
    start = (filters.page - 1) * filters.size
    rows = list(numbers[start : start + filters.size]) if pagination.exists else []
    return InventoryPage(rows=rows, summary=summary, pagination=pagination, filters=filters)


def owned_number_rows(*, filters: InventoryFilter) -> Iterator[OwnedNumber]:
    """Every number of the filter, streamed (for the CSV export)."""
    return owned_number_queryset(filters=filters).iterator(chunk_size=2000)


def owned_numbers_after(
    *, filters: InventoryFilter, after: str = "", limit: int
) -> list[OwnedNumber]:
    """Up to `limit` numbers of the filter in msisdn order, after `after` (a cursor: the
    last number of the page before). Read from the index each filter ends in, whatever
    the size of the inventory (the JSON API's pages)."""
    numbers = owned_number_queryset(filters=replace(filters, sort="msisdn"))
    if after:
        numbers = numbers.filter(msisdn__gt=after)
    return list(numbers.select_related("purchased_by")[:limit])


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
    answer = {"state": _PROGRESS_STATES[run.status], "progress": progress, "message": message}
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
    """Both lists from one query (the home page keeps within the inventory's budget)."""
    cutoff = timezone.now() - settings.PENDING_STALE_AFTER
    entries = Operation.objects.filter(
        Q(outcome=Outcome.UNKNOWN, settlement__isnull=True)
        | Q(outcome=Outcome.PENDING, created_at__lt=cutoff)
    ).order_by("-seq")[:20]
    entries = list(entries)
    return InventoryOverview(
        sync=sync_status(),
        unsettled=[e for e in entries if e.outcome == Outcome.UNKNOWN][:10],
        interrupted=[e for e in entries if e.outcome == Outcome.PENDING][:10],
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
    states = dict(batch.items.order_by().values_list("state").annotate(n=Count("pk")))
    total = sum(n for state, n in states.items() if state != BatchItem.State.EXCLUDED)
    waiting = states.get(BatchItem.State.QUEUED, 0) + states.get(BatchItem.State.WORKING, 0)
    ended = total - waiting - states.get(BatchItem.State.PROPOSED, 0)
    if batch.status == Batch.Status.CHECKING:
        message = "Checking each offer's price and availability again…"
    elif batch.status == Batch.Status.APPROVAL:
        message = "Waiting for an approver: nothing is bought until someone approves it."
    elif batch.status in (Batch.Status.QUEUED, Batch.Status.RUNNING):
        message = f"{ended} of {total} done."
        if batch.status == Batch.Status.QUEUED:
            message = "Waiting for the task worker to start."
    else:
        message = batch.message or batch.get_status_display()
    items = dict(batch.items.values_list("msisdn", "state"))
    return {
        "state": _BATCH_STATES[batch.status],
        "status": batch.status,
        "progress": (ended / total) if total else None,
        "message": message,
        "items": items,
    }


def destinations() -> list[Destination]:
    return list(Destination.objects.order_by("name"))


def destination_names() -> dict[tuple[str, str], str]:
    """Routing as people named it: (kind, address) → name, for the inventory's routing."""
    return {(d.kind, d.value): d.name for d in Destination.objects.all()}


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
_AUDIT_FILTER_FIELDS = ("action", "outcome", "user", "number", "country", "since", "until", "q")
_AUDIT_FILTER_FIELDS += _CURSORS


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
    return {
        "state": states.get(request.status, "done"),
        "status": request.status,
        "progress": None,
        "message": request.message or messages.get(request.status, request.get_status_display()),
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
# The dashboard reads the tally the database keeps (SpendTally: a few dozen rows), the monthly
# snapshots and the budgets, never the cache itself; and remembers what it read until the
# next write to the cache, the rate card or the budgets.

DASHBOARD_SECONDS = 300
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


def _units(value: int | None) -> Decimal:
    return (Decimal(value or 0) / 10000).quantize(Decimal("0.0001"))


def _shares(groups, key) -> list[SpendShare]:
    """Tally groups added up by one dimension, dearest first."""
    sums: dict[str, list[int]] = {}
    for group in groups:
        totals = sums.setdefault(key(group), [0, 0])
        totals[0] += group.numbers
        totals[1] += group.monthly_units
    shares = [SpendShare(k, n, _units(units)) for k, (n, units) in sums.items() if n]
    return sorted(shares, key=lambda share: (-share.monthly_total, -share.numbers, share.key))


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


def spend_dashboard() -> SpendDashboard:
    """The dashboard's figures, read again only after a write changed them."""
    version = cache.get_or_set(INVENTORY_VERSION_KEY, uuid.uuid4().hex, None)
    today = timezone.localdate()
    key = f"spend:dashboard:{version}:{today.isoformat()}"
    dashboard = cache.get(key)
    if dashboard is None:
        dashboard = spend_dashboard_from_database(today=today)
        cache.set(key, dashboard, timeout=DASHBOARD_SECONDS)
    return dashboard


def spend_dashboard_from_database(*, today: date) -> SpendDashboard:
    groups = list(SpendTally.objects.filter(numbers__gt=0))
    priced = [g for g in groups if g.price_source]
    estimated = [g for g in groups if g.price_source in ESTIMATED_SOURCES]
    unrouted = [g for g in groups if not g.routed and g.monthly_units > 0]
    bought = [g for g in groups if g.price_source == PriceSource.BOUGHT]
    total = _units(sum(g.monthly_units for g in groups))
    numbers = sum(g.numbers for g in groups)
    by_team = _shares(groups, lambda g: g.team)
    team_spend = {share.key: share.monthly_total for share in by_team}
    budgets = [
        BudgetStatus(b.team, b.monthly_amount, total if not b.team else team_spend.get(b.team, 0))
        for b in Budget.objects.order_by("team")
    ]
    return SpendDashboard(
        numbers=numbers,
        priced=sum(g.numbers for g in priced),
        monthly_total=total,
        estimated=sum(g.numbers for g in estimated),
        estimated_total=_units(sum(g.monthly_units for g in estimated)),
        by_country=_shares(groups, lambda g: g.country),
        by_type=_shares(groups, lambda g: g.type),
        by_team=by_team,
        unrouted=sum(g.numbers for g in unrouted),
        unrouted_total=_units(sum(g.monthly_units for g in unrouted)),
        history=_history(today, numbers, total),
        renewals=_renewals(today) if bought else [],
        renewing=sum(g.numbers for g in bought),
        renewing_total=_units(sum(g.monthly_units for g in bought)),
        budgets=budgets,
    )


def rate_card_rows() -> list[RateCard]:
    return list(RateCard.objects.order_by("country", "type"))


def rate_card_refreshes(*, limit: int = 5) -> list[RateCardRefresh]:
    return list(RateCardRefresh.objects.order_by("-started_at")[:limit])


def budgets() -> list[Budget]:
    return list(Budget.objects.order_by("team"))


def team_names(*, limit: int = 200) -> list[str]:
    """Teams people use (from the tally) and teams with a budget, for pickers."""
    used = SpendTally.objects.filter(numbers__gt=0).exclude(team="").values_list("team", flat=True)
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
