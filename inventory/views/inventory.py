"""The account's numbers, from the local cache: the list, its CSV export, and syncing."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from inventory import selectors
from inventory.audit import Actor
from inventory.csv_export import csv_rows
from inventory.decorators import permission_required
from inventory.forms import InventoryFilterForm
from inventory.services import sync


def _inventory_filters(request) -> tuple[InventoryFilterForm, selectors.InventoryFilter]:
    """The filters in the query string; ones that do not clean are ignored (and shown)."""
    form = InventoryFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, selectors.InventoryFilter.from_form(form.cleaned_data)
    return form, selectors.InventoryFilter()


@permission_required("inventory.browse_inventory")
@require_GET
def inventory(request: HttpRequest) -> HttpResponse:
    form, filters = _inventory_filters(request)
    listing = selectors.owned_number_list(filters=filters)
    context = {
        "form": form,
        "listing": listing,
        "pager": listing.pagination.links(request.GET),
        "sync": selectors.sync_status(),
    }
    return render(request, "inventory/inventory.html", context)


@permission_required("inventory.browse_inventory")
@require_GET
def inventory_csv(request: HttpRequest) -> StreamingHttpResponse:
    _form, filters = _inventory_filters(request)
    rows = csv_rows(selectors.owned_number_rows(filters=filters))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="numbers.csv"'
    return response


@permission_required("inventory.sync_numbers")
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    try:
        sync.sync_request(actor=Actor.from_request(request))
    except sync.SyncAlreadyRunning as busy:
        messages.warning(request, str(busy))
    else:
        messages.success(request, "Sync queued. This page follows it until it has finished.")
    return redirect("inventory")


@permission_required("inventory.browse_inventory")
@require_GET
def sync_state(request: HttpRequest) -> JsonResponse:
    """The latest sync's state, for the page that follows it (polled by static/js)."""
    return JsonResponse(selectors.sync_progress())
