"""Bulk actions on numbers ticked in the inventory (or every number its filter matches):
configure, cancel, relabel, export. Configure and cancel become batches to review."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from inventory import selectors
from inventory.audit import Actor
from inventory.bulk_forms import LabelForm, NumberChoiceForm
from inventory.csv_export import csv_rows
from inventory.decorators import permission_required
from inventory.forms import ConfigureForm
from inventory.models import Batch
from inventory.services import batches
from inventory.services.operations import ServiceError


def _chosen(request: HttpRequest) -> list[str] | None:
    """The numbers a bulk form names (ticked, or all its filter matches); None, with a
    message, when it names none or too many."""
    form = NumberChoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return None
    if not form.cleaned_data["all_matching"]:
        return form.cleaned_data["msisdn"]
    filter_form = form.filter_form()
    filters = selectors.InventoryFilter()
    if filter_form.is_valid():
        filters = selectors.InventoryFilter.from_form(filter_form.cleaned_data)
    msisdns = selectors.owned_number_msisdns(filters=filters, limit=Batch.MAX_ITEMS + 1)
    if len(msisdns) > Batch.MAX_ITEMS:
        messages.error(request, f"More than {Batch.MAX_ITEMS:,} numbers match: narrow the filter.")
        return None
    return msisdns


def _bulk_page(request, template: str, msisdns: list[str], **context) -> HttpResponse:
    numbers = selectors.owned_numbers_of(msisdns=msisdns, limit=50)
    return render(request, template, {"msisdns": msisdns, "numbers": numbers, **context})


@permission_required("inventory.configure_number")
@require_POST
def bulk_configure(request: HttpRequest) -> HttpResponse:
    """The configure form for many numbers; a valid one becomes a batch to review."""
    msisdns = _chosen(request)
    if msisdns is None:
        return redirect("inventory")
    form = ConfigureForm(request.POST if "review" in request.POST else None)
    if not form.is_valid():
        return _bulk_page(request, "inventory/bulk_configure.html", msisdns, form=form)
    try:
        batch = batches.configure_batch_create(
            actor=Actor.from_request(request), msisdns=msisdns, changes=form.changes({})
        )
    except ServiceError as refused:
        messages.error(request, str(refused))
        return redirect("inventory")
    return redirect("batch", pk=batch.pk)


@permission_required("inventory.cancel_number")
@require_POST
def bulk_cancel(request: HttpRequest) -> HttpResponse:
    msisdns = _chosen(request)
    if msisdns is None:
        return redirect("inventory")
    try:
        batch = batches.cancel_batch_create(actor=Actor.from_request(request), msisdns=msisdns)
    except ServiceError as refused:
        messages.error(request, str(refused))
        return redirect("inventory")
    return redirect("batch", pk=batch.pk)


@permission_required("inventory.annotate_number")
@require_POST
def bulk_label(request: HttpRequest) -> HttpResponse:
    msisdns = _chosen(request)
    if msisdns is None:
        return redirect("inventory")
    form = LabelForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        return _bulk_page(request, "inventory/bulk_label.html", msisdns, form=form)
    try:
        changed = batches.numbers_relabel(
            actor=Actor.from_request(request), msisdns=msisdns, values=form.values()
        )
    except ServiceError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request, f"Label and team saved on {changed} number{'s' * (changed != 1)}."
        )
    return redirect("inventory")


@permission_required("inventory.browse_inventory")
@require_POST
def bulk_export(request: HttpRequest) -> HttpResponseBase:
    msisdns = _chosen(request)
    if msisdns is None:
        return redirect("inventory")
    rows = selectors.owned_number_rows_of(msisdns=msisdns)
    response = StreamingHttpResponse(csv_rows(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="numbers-selected.csv"'
    return response
