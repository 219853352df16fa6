"""The selection: numbers picked from catalogue searches, to buy together."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from inventory import selectors
from inventory.audit import Actor
from inventory.bulk_forms import OfferPicksForm
from inventory.decorators import permission_required
from inventory.services import batches
from inventory.services.operations import ServiceError


@permission_required("inventory.buy_number")
@require_POST
def selection_add(request: HttpRequest) -> HttpResponse:
    form = OfferPicksForm(request.POST)
    back = request.POST.get("back", "")
    back = back if back.startswith("/catalogue/") else "/catalogue/"
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors["picks"]))
        return redirect(back)
    try:
        added = batches.selection_add(user=request.user, offers=form.cleaned_data["picks"])
    except ServiceError as refused:
        messages.error(request, str(refused))
    else:
        total = selectors.selection_count(user=request.user)
        messages.success(request, f"{added} added: {total} in your selection.")
    return redirect(back)


@permission_required("inventory.buy_number")
@require_GET
def selection(request: HttpRequest) -> HttpResponse:
    context = {"selection": selectors.selection_of(user=request.user)}
    return render(request, "inventory/selection.html", context)


@permission_required("inventory.buy_number")
@require_POST
def selection_remove(request: HttpRequest, msisdn: str) -> HttpResponse:
    batches.selection_remove(user=request.user, msisdn=msisdn)
    return redirect("selection")


@permission_required("inventory.buy_number")
@require_POST
def selection_clear(request: HttpRequest) -> HttpResponse:
    batches.selection_clear(user=request.user)
    messages.info(request, "Your selection is empty.")
    return redirect("selection")


@permission_required("inventory.buy_number")
@require_POST
def selection_review(request: HttpRequest) -> HttpResponse:
    """Turn the selection into a bulk purchase: its offers are checked again first."""
    try:
        batch = batches.purchase_batch_create(actor=Actor.from_request(request))
    except ServiceError as refused:
        messages.error(request, str(refused))
        return redirect("selection")
    return redirect("batch", pk=batch.pk)
