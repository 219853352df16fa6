"""The audit trail in the admin, for superusers: read-only for them too. Auditors review it
in the portal's own pages (inventory/views/audit.py)."""

import json

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils.html import format_html, format_html_join

from inventory import phone
from inventory.csv_export import AUDIT_HEADER as CSV_HEADER
from inventory.csv_export import audit_csv_row as _csv_row
from inventory.csv_export import stream_csv
from inventory.models import Operation, Outcome


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


class UserFilter(admin.SimpleListFilter):
    """By username as it was recorded (users may since have been renamed or removed)."""

    title = "user"
    parameter_name = "user"

    def lookups(self, request, model_admin):
        names = (
            Operation.objects.exclude(actor_username="")
            .order_by("actor_username")
            .values_list("actor_username", flat=True)
            .distinct()[:200]
        )
        return [(name, name) for name in names]

    def queryset(self, request, queryset):
        return queryset.filter(actor_username=self.value()) if self.value() else queryset


class CountryFilter(admin.SimpleListFilter):
    title = "country"
    parameter_name = "country"

    def lookups(self, request, model_admin):
        codes = (
            Operation.objects.exclude(country="")
            .order_by("country")
            .values_list("country", flat=True)
            .distinct()
        )
        return [(code, f"{phone.flag(code)} {phone.country_name(code)}") for code in codes]

    def queryset(self, request, queryset):
        return queryset.filter(country=self.value()) if self.value() else queryset


class AuditChangeList(ChangeList):
    """The admin's list. Only its own filters are taken from the query string: a lookup
    such as ?created_at__year=-1 (there is no date drill-down) fails in Django's own code;
    here it is a wrong filter like any other: the list says so, the export answers 400."""

    # The only lookups taken straight from the query string: the list filters' own.
    PLAIN_LOOKUPS = {"action", "action__exact", "outcome", "outcome__exact"}

    def get_filters(self, request):
        try:
            filters = super().get_filters(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error
        unknown = set(filters[2]) - self.PLAIN_LOOKUPS
        if unknown:
            raise IncorrectLookupParameters(f"Not a filter of this list: {', '.join(unknown)}")
        return filters


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    change_list_template = "admin/inventory/operation/change_list.html"
    list_display = ["seq", "created_at", "action", "number", "actor_username", "outcome_shown",
                    "monthly_cost", "http_status"]  # fmt: skip
    list_display_links = ["seq", "created_at"]
    list_filter = ["action", "outcome", UnsettledFilter, UserFilter, CountryFilter]
    search_fields = ["msisdn", "actor_username"]
    # No date_hierarchy: its year links read every entry on each view.
    list_per_page = 50
    show_full_result_count = False
    ordering = ["-seq"]
    fieldsets = [
        ("What", {"fields": ["action", "number", "outcome_shown", "reason", "change"]}),
        ("Who and from where", {"fields": ["actor_username", "user_id", "ip", "user_agent",
                                           "request_id"]}),
        ("Money", {"fields": ["monthly_cost", "setup_cost"]}),
        ("The API", {"fields": ["request_sent", "http_status", "provider_code",
                                "provider_label", "duration_ms"]}),
        ("When", {"fields": ["created_at", "completed_at"]}),
        ("Chain", {"fields": ["seq", "prev_hash", "hash", "outcome_hash", "settles"],
                   "classes": ["collapse"]}),
    ]  # fmt: skip

    def get_changelist(self, request, **kwargs):
        return AuditChangeList

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

    # --- columns ---

    def get_queryset(self, request):
        settled = Operation.objects.filter(settles=OuterRef("pk")).values("outcome")[:1]
        return super().get_queryset(request).annotate(settled_as=settled)

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
        settled = getattr(entry, "settled_as", None)
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
        entries = changelist.get_queryset(request).iterator(chunk_size=2000)
        response = StreamingHttpResponse(
            stream_csv(CSV_HEADER, (_csv_row(e) for e in entries)), content_type="text/csv"
        )
        response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
        return response


def _shown(value) -> str:
    if value is None or value == "":
        return "–"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
