"""The audit trail in the portal, for auditors: the list with its filters, one entry, and the
CSV export of a filter. Fast at millions of entries: see the audit selectors."""

from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from inventory import selectors
from inventory.csv_export import audit_csv_rows
from inventory.decorators import permission_required
from inventory.forms import AuditFilterForm


def _audit_filters(request) -> tuple[AuditFilterForm, selectors.AuditFilter, bool]:
    """The filters in the query string. One that does not clean stops the list (an unread
    filter would show entries it was meant to leave out), and the form says why."""
    form = AuditFilterForm(request.GET or None)
    if not form.is_bound:
        return form, selectors.AuditFilter(), True
    if form.is_valid():
        return form, selectors.AuditFilter.from_form(form.cleaned_data), True
    return form, selectors.AuditFilter(), False


@permission_required("inventory.review_audit")
@require_GET
def audit_list(request):
    form, filters, valid = _audit_filters(request)
    context = {"form": form, "valid": valid, "usernames": selectors.audit_usernames()}
    if valid:
        context["listing"] = selectors.audit_page(filters=filters)
    status = 200 if valid else 400
    return render(request, "inventory/audit_list.html", context, status=status)


@permission_required("inventory.review_audit")
@require_GET
def audit_entry(request, seq: int):
    entry = selectors.audit_entry_get(seq=seq)
    if entry is None:
        raise Http404("There is no audit entry with this number.")
    return render(request, "inventory/audit_entry.html", {"entry": entry})


@permission_required("inventory.review_audit")
@require_GET
def audit_csv(request):
    form, filters, valid = _audit_filters(request)
    if not valid:
        context = {"form": form, "valid": False, "usernames": selectors.audit_usernames()}
        return render(request, "inventory/audit_list.html", context, status=400)
    rows = audit_csv_rows(selectors.audit_rows(filters=filters))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response
