"""The catalogue of numbers on sale, and buying one at the price shown."""

import secrets

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from inventory import phone, remembered, selectors
from inventory.audit import Actor
from inventory.decorators import permission_required
from inventory.forms import CatalogueSearchForm, OfferLookupForm, PurchaseConfirmForm
from inventory.paging import Pagination
from inventory.services import approvals, pricing
from inventory.services.catalogue import CatalogueQuery, catalogue_search, offer_price_check
from inventory.services.operations import OperationRefused, ServiceError
from inventory.services.purchase import number_purchase
from inventory.spend_forms import TeamForm
from inventory.views.operations import refused


def _search_fields(data) -> dict:
    """The search as typed (for "Back to the catalogue"), without the page."""
    fields = ("country", "type", "features", "match", "pattern", "size")
    return {name: data.getlist(name) if name == "features" else data.get(name) for name in fields}


@permission_required("inventory.browse_catalogue")
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    form = CatalogueSearchForm(request.GET or None)
    context: dict = {"form": form}
    if request.user.has_perm("inventory.buy_number"):
        context["selection_count"] = selectors.selection_count(user=request.user)
    if form.is_valid():
        query = CatalogueQuery.from_form(form.cleaned_data)
        remembered.catalogue_searched(request.session, query=_search_fields(request.GET))
        context.update(query=query, digit_pattern=form.cleaned_data.get("digit_pattern"))
        try:
            results = catalogue_search(query=query)
        except ServiceError as problem:
            context["error"] = str(problem)
        else:
            context["results"] = results
            context["countries_on_sale"] = results.countries_on_sale
            context["pagination"] = Pagination(results.page.count, query.page, query.size)
    return render(request, "inventory/catalogue.html", context)


@permission_required("inventory.buy_number")
@require_GET
def purchase_confirm(request: HttpRequest) -> HttpResponse:
    lookup = OfferLookupForm(request.GET)
    if not lookup.is_valid():
        messages.error(
            request, " ".join(str(e) for errors in lookup.errors.values() for e in errors)
        )
        return redirect("catalogue")
    country, msisdn = lookup.cleaned_data["country"], lookup.cleaned_data["msisdn"]
    back = remembered.catalogue_url(request.session, country=country)
    try:
        offer = offer_price_check(**lookup.cleaned_data)
    except ServiceError as problem:
        messages.error(request, str(problem))
        return redirect(back)
    if offer is None:
        messages.error(request, f"{phone.international(msisdn)} is no longer on sale.")
        return redirect(back)
    form = PurchaseConfirmForm.for_offer(offer, token=secrets.token_urlsafe(24))
    rule = approvals.purchase_needs_approval(
        actor=Actor.from_request(request), count=1, setup=offer.initial_price, monthly=offer.cost
    )
    context = {
        "offer": offer,
        "form": form,
        "back": back,
        "approval_rule": rule,
        "team_form": TeamForm(),
        "teams": selectors.team_names(),
        "outlook": pricing.budget_outlook(adding=offer.cost),
    }
    return render(request, "inventory/purchase_confirm.html", context)


@permission_required("inventory.buy_number")
@require_POST
def purchase(request: HttpRequest) -> HttpResponse:
    form = PurchaseConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, " ".join(str(e) for e in form.errors.get("offer", ["Start again."]))
        )
        return redirect("catalogue")
    offer, token = form.offer_and_token()
    team = TeamForm(request.POST)
    team.is_valid()  # a team too long to keep is refused here, with nothing bought
    if team.errors:
        messages.error(request, " ".join(str(e) for e in team.errors["team"]))
        return redirect("catalogue")
    actor = Actor.from_request(request)
    try:
        entry = number_purchase(
            actor=actor, offer=offer, form_token=token, team=team.cleaned_data["team"]
        )
    except approvals.ApprovalRequired as needed:
        return _ask_for_approval(request, form, needed)
    except OperationRefused as refusal:
        return refused(request, refusal, fallback=reverse("catalogue"))
    return redirect("operation", pk=entry.pk)


def _ask_for_approval(request, form: PurchaseConfirmForm, needed) -> HttpResponse:
    """A purchase the rules hold back becomes a request, with the reason the requester
    typed; without one, the page asks for it."""
    offer, token = form.offer_and_token()
    try:
        asked = approvals.purchase_request_create(
            actor=Actor.from_request(request),
            offers=[offer],
            rule=needed.rule,
            reason=form.cleaned_data.get("reason", ""),
            form_token=token,
        )
    except ServiceError as refusal:
        back = remembered.catalogue_url(request.session, country=offer.country)
        context = {"offer": offer, "form": form, "back": back, "approval_rule": needed.rule}
        context["reason_error"] = str(refusal)
        return render(request, "inventory/purchase_confirm.html", context, status=400)
    messages.success(request, "Asked for approval: nothing is bought until someone approves.")
    return redirect("approval", pk=asked.pk)
