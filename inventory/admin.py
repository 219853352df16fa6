"""Audit review in the admin: read-only for everyone, superusers included.

The trail only grows (a million entries is an ordinary year), so every part of its list is
read from an index: the page (newest first, a filter's index ending in seq), the count
(bounded: "more than 10,000"), the filters' choices and the date links (index seeks), and
search (a whole number or a username, each indexed)."""

import functools
import json
import re
from functools import cached_property
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Exists, Func, OuterRef, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from inventory import phone
from inventory.csv_export import stream_csv
from inventory.models import AuditChainHead, Operation, Outcome


class UnsettledFilter(admin.SimpleListFilter):
    title = "settlement"
    parameter_name = "unsettled"

    def lookups(self, request, model_admin):
        return [("yes", "Unknown outcome, not settled yet")]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        settled = Operation.objects.filter(settles=OuterRef("pk"))
        return queryset.filter(outcome=Outcome.UNKNOWN).exclude(Exists(settled))


def distinct_values(column: str, *, limit: int) -> list[str]:
    """The distinct non-empty values of an indexed column of the trail, in order: one index
    seek per value (a recursive query), not a read of every entry."""
    table = Operation._meta.db_table
    sql = (
        f"WITH RECURSIVE found(value, n) AS ("  # noqa: S608 - our own column and table names
        f"SELECT MIN({column}), 1 FROM {table} WHERE {column} > '' UNION ALL "
        f"SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > found.value), n + 1 "
        f"FROM found WHERE found.value IS NOT NULL AND n < %s) "
        f"SELECT value FROM found WHERE value IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [value for (value,) in cursor.fetchall()]


_HEAD_SEQ = "_audit_trail_head_seq"
CHOICES_SECONDS = 300


def trail_head_seq(request) -> int:
    """The last entry's seq, as the chain head records it (the database moves the head onto
    each entry as it is inserted), read once a request: the filters' choices and the date
    links both use it."""
    if not hasattr(request, _HEAD_SEQ):
        head = AuditChainHead.objects.filter(pk=1).values_list("seq", flat=True).first()
        setattr(request, _HEAD_SEQ, head or 0)
    return getattr(request, _HEAD_SEQ)


def filter_choices(request, column: str, *, limit: int) -> list[str]:
    """distinct_values, kept in the cache for as long as the trail does not grow (the key
    names its last entry): a new user or country can only come with a new entry."""
    key = f"audit:choices:{column}:{limit}:{trail_head_seq(request)}"
    values = cache.get(key)
    if values is None:
        values = distinct_values(column, limit=limit)
        cache.set(key, values, CHOICES_SECONDS)
    return values


class UserFilter(admin.SimpleListFilter):
    """By username as it was recorded (users may since have been renamed or removed)."""

    title = "user"
    parameter_name = "user"

    def lookups(self, request, model_admin):
        return [(name, name) for name in filter_choices(request, "actor_username", limit=200)]

    def queryset(self, request, queryset):
        return queryset.filter(actor_username=self.value()) if self.value() else queryset


class CountryFilter(admin.SimpleListFilter):
    title = "country"
    parameter_name = "country"

    def lookups(self, request, model_admin):
        codes = filter_choices(request, "country", limit=300)
        return [(code, f"{phone.flag(code)} {phone.country_name(code)}") for code in codes]

    def queryset(self, request, queryset):
        return queryset.filter(country=self.value()) if self.value() else queryset


CSV_HEADER = [
    "seq",
    "created_at_utc",
    "action",
    "outcome",
    "settled_as",
    "username",
    "ip",
    "user_agent",
    "request_id",
    "country",
    "msisdn",
    "monthly_cost_eur",
    "setup_cost_eur",
    "http_status",
    "provider_code",
    "provider_label",
    "duration_ms",
    "reason",
    "request",
    "before",
    "after",
    "hash",
]


# The export reads these columns (no model instances: a million rows must stream fast).
CSV_COLUMNS = (
    "seq",
    "created_at",
    "action",
    "outcome",
    "settlement_outcome",
    "actor_username",
    "ip",
    "user_agent",
    "request_id",
    "country",
    "msisdn",
    "monthly_cost",
    "setup_cost",
    "http_status",
    "provider_code",
    "provider_label",
    "duration_ms",
    "reason",
    "request",
    "before",
    "after",
    "hash",
)
_JSON = {CSV_COLUMNS.index(name) for name in ("request", "before", "after")}
_CREATED, _SETTLED = CSV_COLUMNS.index("created_at"), CSV_COLUMNS.index("settlement_outcome")
# The columns whose text comes from people or the API (the others are numbers, dates, JSON,
# hashes and the trail's own words).
_PEOPLES = ("actor_username", "user_agent", "request_id", "msisdn", "provider_code")
_TEXT = [CSV_COLUMNS.index(name) for name in (*_PEOPLES, "provider_label", "reason")]


_SORTED_JSON = json.JSONEncoder(sort_keys=True)  # as json.dumps(value, sort_keys=True)


def _json(value) -> str:
    if value.__class__ is str:  # PostgreSQL's text of the column
        return _json_text(value)
    if not value:  # most entries: nothing before or after, no request
        return "null" if value is None else json.dumps(value)
    return _SORTED_JSON.encode(value)


@functools.lru_cache(maxsize=4096)
def _json_text(stored: str) -> str:
    """A JSON column's text with its keys sorted. Most entries hold one of a few (an empty
    request, a drift's before and after), each parsed once."""
    return _SORTED_JSON.encode(json.loads(stored))


# What the export reads: each column, but the entry's id where its settlement's outcome goes.
_READ = tuple("id" if name == "settlement_outcome" else name for name in CSV_COLUMNS)


class IsoTimeText(Func):
    """A time as datetime.isoformat() writes it in UTC (no fraction when it is .000000),
    written by PostgreSQL."""

    template = (
        "replace(to_char(%(expressions)s AT TIME ZONE 'UTC', "
        """'YYYY-MM-DD"T"HH24:MI:SS.US'), '.000000', '') || '+00:00'"""
    )
    output_field = TextField()


def _exported_columns(entries: QuerySet) -> QuerySet:
    """The export's columns as rows of values. On PostgreSQL the database writes the time,
    the costs and the JSON columns as text: making a million datetimes, Decimals and dicts
    only to write them back as text cost the export a third of its speed."""
    if connection.vendor != "postgresql":
        return entries.values_list(*_READ)
    texts = {
        "created_at": IsoTimeText("created_at"),
        **{name: Cast(name, TextField()) for name in ("monthly_cost", "setup_cost")},
        **{name: Cast(name, TextField()) for name in ("request", "before", "after")},
    }
    aliases = {name: f"{name}_text" for name in texts}
    entries = entries.annotate(**{aliases[name]: value for name, value in texts.items()})
    return entries.values_list(*(aliases.get(name, name) for name in _READ))


def _settlement_outcomes() -> dict[int, str]:
    """The settled entries' final outcomes. Few (only unknown outcomes are ever settled), so
    read once for an export, instead of a lookup per exported row."""
    settlements = Operation.objects.filter(settles__isnull=False)
    return dict(settlements.values_list("settles_id", "outcome"))


def _csv_row(values: tuple, settled: dict[int, str]) -> list:
    row = list(values)
    created = row[_CREATED]
    row[_CREATED] = created if created.__class__ is str else created.isoformat()
    row[_SETTLED] = settled.get(row[_SETTLED], "")
    for position in _JSON:
        row[position] = _json(row[position])
    return row


class BoundedPaginator(Paginator):
    """Counts the list only up to BOUND entries (the pages up to there stay reachable; the
    rest is found by filtering): no COUNT over the whole trail per view."""

    BOUND = 10_000

    @cached_property
    def count(self) -> int:
        entries: QuerySet = self.object_list  # type: ignore[assignment]
        # Chain positions: every filter's index holds them, so this reads an index alone.
        # (The admin pages an entry's history, Django's own log, with it too.)
        column = "seq" if entries.model is Operation else "pk"
        return entries.values(column).order_by()[: self.BOUND + 1].count()

    @property
    def bounded(self) -> bool:
        return self.count > self.BOUND

    def page(self, number):
        """A page of the trail in its own order found by seq: its first entry is read from
        the filter's index alone (a subquery), and the page from there, as the first page is.
        An OFFSET would read each skipped entry whole and look up its settlement."""
        entries: QuerySet = self.object_list  # type: ignore[assignment]
        number = self.validate_number(number)
        skipped = (number - 1) * self.per_page
        in_chain_order = set(entries.query.order_by) == {"-seq"}  # the admin may repeat it
        if skipped == 0 or entries.model is not Operation or not in_chain_order:
            return super().page(number)
        first = entries.order_by("-seq").values("seq")[skipped : skipped + 1]
        rows = entries.filter(seq__lte=Subquery(first))[: self.per_page]
        return Page(rows, number, self)


def first_seq_from(moment, *, last: int) -> int:
    """The chain position of the first entry at or after `moment` (one seek on created_at),
    or the one after `last` when there is none: entries are stamped under the chain's lock,
    so positions and times rise together."""
    entries = Operation.objects.filter(created_at__gte=moment).order_by("created_at")
    found = entries.values_list("seq", flat=True).first()
    return found if found is not None else last + 1


class AuditChangeList(ChangeList):
    """A date range (the date links) becomes a range of chain positions, which the list's
    indexes serve in its own order; a range of times would have to be sorted."""

    # The only lookups taken straight from the query string: the list filters' own, and
    # the chain positions the date links become. Anything else is a wrong filter (400).
    PLAIN_LOOKUPS = {"action", "action__exact", "outcome", "outcome__exact", "seq__gte", "seq__lt"}

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # Each row links to its entry keeping the list's filters. The admin would resolve
        # every row's link again to add them; the same query string is written once here.
        self.row_query = f"?{self.preserved_filters}" if self.preserved_filters else ""
        self.preserved_filters = ""
        url_name = f"admin:{self.opts.app_label}_{self.opts.model_name}_change"
        self.change_url = reverse(
            url_name, args=("0",), current_app=self.model_admin.admin_site.name
        )

    def url_for_result(self, result):
        prefix = self.change_url.removesuffix("0/change/")
        return f"{prefix}{quote(result.pk)}/change/{self.row_query}"

    def get_filters(self, request):
        try:
            specs, has_filters, found, duplicates, active = super().get_filters(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error
        params: dict[str, Any] = dict(found)
        try:
            for op in ("gte", "lt"):
                if f"created_at__{op}" in params:
                    moment = params.pop(f"created_at__{op}")[-1]
                    params[f"seq__{op}"] = [first_seq_from(moment, last=trail_head_seq(request))]
        except (ValidationError, ValueError, TypeError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error
        unknown = set(params) - self.PLAIN_LOOKUPS
        if unknown:
            raise IncorrectLookupParameters(f"Not a filter of this list: {', '.join(unknown)}")
        return specs, has_filters, params, duplicates, active


_NUMBER_SEPARATORS = re.compile(r"[\s().\-/]")


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    change_list_template = "admin/inventory/operation/change_list.html"
    list_display = [
        "seq",
        "created_at",
        "action",
        "number",
        "actor_username",
        "outcome_shown",
        "monthly_cost",
        "http_status",
    ]
    list_display_links = ["seq"]
    list_filter = ["action", "outcome", UnsettledFilter, UserFilter, CountryFilter]
    search_fields = ["msisdn", "actor_username"]
    search_help_text = "A whole number (+44 7700 900123) or a username."
    date_hierarchy = "created_at"  # its links are found by index seeks (templatetags/audit_admin)
    list_per_page = 50
    show_full_result_count = False
    paginator = BoundedPaginator
    ordering = ["-seq"]
    fieldsets = [
        ("What", {"fields": ["action", "number", "outcome_shown", "reason", "change"]}),
        (
            "Who and from where",
            {"fields": ["actor_username", "user_id", "ip", "user_agent", "request_id"]},
        ),
        ("Money", {"fields": ["monthly_cost", "setup_cost"]}),
        (
            "The API",
            {
                "fields": [
                    "request_sent",
                    "http_status",
                    "provider_code",
                    "provider_label",
                    "duration_ms",
                ]
            },
        ),
        ("When", {"fields": ["created_at", "completed_at"]}),
        (
            "Chain",
            {
                "fields": ["seq", "prev_hash", "hash", "outcome_hash", "settles"],
                "classes": ["collapse"],
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    # --- nothing is ever added, changed or deleted here ---

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("inventory.review_audit")

    def has_module_permission(self, request):
        return request.user.has_perm("inventory.review_audit")

    def get_actions(self, request):
        return {}

    def get_changelist(self, request, **kwargs):
        return AuditChangeList

    def get_search_results(self, request, queryset, search_term):
        """A whole number or a username, matched exactly: each is indexed with the order of
        the list, where a substring search would read the whole trail."""
        term = search_term.strip()
        if not term:
            return queryset, False
        number = _NUMBER_SEPARATORS.sub("", term)
        number = number[1:] if number.startswith("+") else number
        if number.isascii() and number.isdigit():
            return queryset.filter(msisdn=number.removeprefix("00")), False
        return queryset.filter(actor_username=term), False

    # --- columns ---

    def get_queryset(self, request):
        settled = Operation.objects.filter(settles=OuterRef("pk")).values("outcome")[:1]
        return super().get_queryset(request).annotate(settlement_outcome=settled)

    @admin.display(description="number", ordering="msisdn")
    def number(self, entry):
        if not entry.msisdn:
            return "–"
        return f"{phone.flag(entry.country)} {phone.international(entry.msisdn)}"

    @admin.display(description="user id")
    def user_id(self, entry):
        # The id as recorded, not a link: auditors may not open user accounts.
        return entry.actor_id if entry.actor_id is not None else "–"

    @admin.display(description="outcome", ordering="outcome")
    def outcome_shown(self, entry):
        settled = getattr(entry, "settlement_outcome", None)
        if entry.outcome == Outcome.UNKNOWN:
            text = f"unknown → settled {settled}" if settled else "UNKNOWN, not settled"
            return format_html('<span class="audit-outcome audit-{}">{}</span>', "unknown", text)
        return format_html(
            '<span class="audit-outcome audit-{}">{}</span>', entry.outcome, entry.outcome
        )

    @admin.display(description="request sent")
    def request_sent(self, entry):
        return format_html("<pre>{}</pre>", json.dumps(entry.request, indent=2, sort_keys=True))

    @admin.display(description="before → after")
    def change(self, entry):
        before, after = entry.before or {}, entry.after or {}
        keys = sorted(set(before) | set(after))
        if not keys:
            return "–"
        rows = format_html_join(
            "",
            '<tr><th scope="row">{}</th><td class="audit-before">{}</td>'
            '<td class="audit-after">{}</td></tr>',
            ((key, _shown(before.get(key)), _shown(after.get(key))) for key in keys),
        )
        return format_html(
            '<table class="audit-diff"><thead><tr><th>field</th><th>before</th><th>after</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    # --- CSV export of the filtered list ---

    def get_urls(self):
        export = self.admin_site.admin_view(self.export_csv)
        return [path("export.csv", export, name="inventory_operation_export"), *super().get_urls()]

    def export_csv(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(
                "This filter cannot be exported: open the audit trail, filter it again and "
                "use its Export CSV link.",
                content_type="text/plain; charset=utf-8",
            )
        entries = _exported_columns(changelist.get_queryset(request))
        settled = _settlement_outcomes()
        rows = (_csv_row(values, settled) for values in entries.iterator(chunk_size=5000))
        lines = stream_csv(CSV_HEADER, rows, text=_TEXT)
        response = StreamingHttpResponse(lines, content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
        return response


def _shown(value) -> str:
    if value is None or value == "":
        return "–"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
