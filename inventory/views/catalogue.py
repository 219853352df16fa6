"""The catalogue of numbers on sale, and buying one at the price shown."""

import secrets

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from inventory import api_client as api
from inventory import phone, remembered, services
from inventory.audit import Actor
from inventory.decorators import permission_required
from inventory.errors import api_error_message
from inventory.forms import (
    CatalogueSearchForm,
    OfferLookupForm,
    PurchaseConfirmForm,
)
from inventory.paging import Pagination
from inventory.views.operations import run_operation_view


def _catalogue_query(data: dict) -> services.CatalogueQuery:
    pattern = data.get("digit_pattern")
    return services.CatalogueQuery(
        country=data["country"],
        type=data["type"],
        features=tuple(data["features"]),
        pattern=pattern.digits if pattern else "",
        search_pattern=pattern.search_pattern if pattern else 0,
        page=data["page"],
        size=data["size"],
    )


def _search_fields(data) -> dict:
    """The search as typed (for "Back to the catalogue"), without the page."""
    fields = ("country", "type", "features", "match", "pattern", "size")
    return {name: data.getlist(name) if name == "features" else data.get(name) for name in fields}


@permission_required("inventory.browse_catalogue")
@require_GET
def catalogue(request):
    form = CatalogueSearchForm(request.GET or None)
    context = {"form": form}
    if form.is_valid():
        query = _catalogue_query(form.cleaned_data)
        remembered.catalogue_searched(request.session, query=_search_fields(request.GET))
        context.update(query=query, digit_pattern=form.cleaned_data.get("digit_pattern"))
        try:
            results = services.catalogue_search(client=api.default_client(), query=query)
        except api.ApiError as error:
            context["error"] = api_error_message(error, doing="search")
        else:
            context["results"] = results
            context["pagination"] = Pagination(results.page.count, query.page, query.size)
    return render(request, "inventory/catalogue.html", context)


# --- buying ---------------------------------------------------------------------------------


@permission_required("inventory.buy_number")
@require_GET
def purchase_confirm(request):
    lookup = OfferLookupForm(request.GET)
    if not lookup.is_valid():
        messages.error(request, " ".join(e for errors in lookup.errors.values() for e in errors))
        return redirect("catalogue")
    country, msisdn = lookup.cleaned_data["country"], lookup.cleaned_data["msisdn"]
    try:
        offer = services.catalogue_offer(client=api.default_client(), **lookup.cleaned_data)
    except api.ApiError as error:
        messages.error(request, api_error_message(error, doing="price check"))
        return redirect(remembered.catalogue_url(request.session, country=country))
    if offer is None:
        messages.error(request, f"{phone.international(msisdn)} is no longer on sale.")
        return redirect(remembered.catalogue_url(request.session, country=country))
    form = PurchaseConfirmForm.for_offer(offer, token=secrets.token_urlsafe(24))
    back = remembered.catalogue_url(request.session, country=country)
    context = {"offer": offer, "form": form, "back": back}
    return render(request, "inventory/purchase_confirm.html", context)


@permission_required("inventory.buy_number")
@require_POST
def purchase(request):
    form = PurchaseConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("offer", ["Start again."])))
        return redirect("catalogue")
    offer, token = form.offer_and_token()
    return run_operation_view(
        lambda: services.number_purchase(
            client=api.default_client(),
            actor=Actor.from_request(request),
            offer=offer,
            form_token=token,
        ),
        request,
        token=token,
        fallback=reverse("catalogue"),
    )


# --- operations -----------------------------------------------------------------------------
