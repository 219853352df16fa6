"""The rate card (prices per country and type; operators set contract prices, one at a time
or from a CSV file) and the budgets (set by superusers)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inventory import selectors
from inventory.audit import Actor
from inventory.decorators import permission_refused, permission_required
from inventory.services import pricing
from inventory.spend_forms import BudgetForm, ContractPriceForm, RateCardImportForm


def _rate_card_page(request, *, price_form=None, import_form=None, status=200) -> HttpResponse:
    context = {
        "rates": selectors.rate_card_rows(),
        "refreshes": selectors.rate_card_refreshes(),
        "price_form": price_form or ContractPriceForm(),
        "import_form": import_form or RateCardImportForm(),
    }
    return render(request, "inventory/rate_card.html", context, status=status)


@permission_required("inventory.browse_inventory")
@require_GET
def rate_card(request: HttpRequest) -> HttpResponse:
    return _rate_card_page(request)


@permission_required("inventory.change_ratecard")
@require_POST
def rate_card_edit(request: HttpRequest) -> HttpResponse:
    form = ContractPriceForm(request.POST)
    if not form.is_valid():
        return _rate_card_page(request, price_form=form, status=400)
    changed = pricing.rate_card_set(
        actor=Actor.from_request(request), prices=[form.contract_price()]
    )
    messages.success(request, "Contract price saved." if changed else "Nothing changed.")
    return redirect("rate-card")


@permission_required("inventory.change_ratecard")
@require_POST
def rate_card_import(request: HttpRequest) -> HttpResponse:
    form = RateCardImportForm(request.POST, request.FILES)
    if not form.is_valid():  # every bad row said in words; nothing applied
        return _rate_card_page(request, import_form=form, status=400)
    prices = form.cleaned_data["file"]
    changed = pricing.rate_card_set(actor=Actor.from_request(request), prices=prices)
    messages.success(
        request, f"{len(prices)} row{'s' if len(prices) != 1 else ''} read: {changed} changed."
    )
    return redirect("rate-card")


@require_http_methods(["GET", "POST"])
def budgets(request: HttpRequest) -> HttpResponse:
    """Superusers only: a budget limits what operators spend, so it is not theirs to move."""
    if not request.user.is_superuser:
        return permission_refused(request, "superuser")
    form = BudgetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        pricing.budget_set(
            actor=Actor.from_request(request), team=data["team"], amount=data["amount"]
        )
        messages.success(
            request, "Budget saved." if data["amount"] is not None else "Budget removed."
        )
        return redirect("budgets")
    context = {"budgets": selectors.budgets(), "form": form, "teams": selectors.team_names()}
    return render(request, "inventory/budgets.html", context, status=400 if form.errors else 200)
