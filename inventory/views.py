"""Views: each one checks its permission, cleans its input with a form, and asks one
selector or service for what it shows. API errors become messages (`inventory.errors`),
never a 500."""

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inventory import api_client as api
from inventory import health, phone, selectors, services
from inventory.audit import Actor
from inventory.csv_export import csv_rows
from inventory.decorators import permission_required
from inventory.errors import api_error_message
from inventory.forms import (
    AnnotateForm,
    CancelForm,
    CatalogueSearchForm,
    ConfigureForm,
    InventoryFilterForm,
    OfferLookupForm,
    PurchaseConfirmForm,
    SignedChangeForm,
)
from inventory.models import OwnedNumber
from inventory.paging import Pagination


@require_GET
def home(request):
    context = {"connection": health.api_connection()}
    if request.user.has_perm("inventory.browse_inventory"):
        context["overview"] = selectors.inventory_overview()
    return render(request, "inventory/home.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """For load balancers: 503 only when the database is down; see inventory/health.py."""
    report = health.health_report()
    return JsonResponse(report.as_dict(), status=report.http_status)


# --- catalogue ------------------------------------------------------------------------------


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


@permission_required("inventory.browse_catalogue")
@require_GET
def catalogue(request):
    form = CatalogueSearchForm(request.GET or None)
    context = {"form": form}
    if form.is_valid():
        query = _catalogue_query(form.cleaned_data)
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
        return redirect(f"{reverse('catalogue')}?country={country}")
    if offer is None:
        messages.error(request, f"{phone.international(msisdn)} is no longer on sale.")
        return redirect(f"{reverse('catalogue')}?country={country}")
    form = PurchaseConfirmForm.for_offer(offer, token=secrets.token_urlsafe(24))
    return render(request, "inventory/purchase_confirm.html", {"offer": offer, "form": form})


@permission_required("inventory.buy_number")
@require_POST
def purchase(request):
    form = PurchaseConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("offer", ["Start again."])))
        return redirect("catalogue")
    offer, token = form.offer_and_token()
    return _run_operation(
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


@permission_required("inventory.browse_inventory")
@require_GET
def operation(request, pk: int):
    entry = selectors.operation_get(pk=pk)
    if entry is None:
        raise Http404("No such operation.")
    return render(request, "inventory/operation.html", {"entry": entry})


# --- inventory ------------------------------------------------------------------------------


def _inventory_filters(request) -> tuple[InventoryFilterForm, selectors.InventoryFilter]:
    """The filters in the query string; ones that do not clean are ignored (and shown)."""
    form = InventoryFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, selectors.InventoryFilter.from_form(form.cleaned_data)
    return form, selectors.InventoryFilter()


@permission_required("inventory.browse_inventory")
@require_GET
def inventory(request):
    form, filters = _inventory_filters(request)
    context = {
        "form": form,
        "listing": selectors.owned_number_list(filters=filters),
        "sync": selectors.sync_status(),
    }
    return render(request, "inventory/inventory.html", context)


@permission_required("inventory.browse_inventory")
@require_GET
def inventory_csv(request):
    _form, filters = _inventory_filters(request)
    rows = csv_rows(selectors.owned_number_rows(filters=filters))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="numbers.csv"'
    return response


@permission_required("inventory.sync_numbers")
@require_POST
def sync_now(request):
    try:
        services.sync_start_in_background(actor=Actor.from_request(request))
    except services.SyncAlreadyRunning as busy:
        messages.warning(request, str(busy))
    else:
        messages.success(request, "Sync started. This page shows when it has finished.")
    return redirect("inventory")


# --- one number -----------------------------------------------------------------------------


def _owned_or_404(msisdn: str) -> OwnedNumber:
    number = selectors.owned_number_get(msisdn=msisdn)
    if number is None:
        raise Http404("This number is not in the inventory.")
    return number


@permission_required("inventory.browse_inventory")
@require_GET
def number_detail(request, msisdn: str):
    number = selectors.owned_number_get(msisdn=msisdn)
    history = selectors.number_history(msisdn=msisdn)
    if number is None and not history.exists():
        raise Http404("This number is not in the inventory and has no history.")
    notes_form = AnnotateForm(initial=services.local_fields_of(number)) if number else None
    context = {"number": number, "msisdn": msisdn, "history": history[:100], "notes": notes_form}
    return render(request, "inventory/number.html", context)


@permission_required("inventory.annotate_number")
@require_POST
def number_annotate(request, msisdn: str):
    number = _owned_or_404(msisdn)
    form = AnnotateForm(request.POST)
    if form.is_valid():
        services.number_annotate(
            actor=Actor.from_request(request), number=number, values=form.cleaned_data
        )
        messages.success(request, "Label, team and notes saved.")
    else:
        messages.error(request, "The notes were not saved: " + form.errors.as_text())
    return redirect("number", msisdn=msisdn)


@permission_required("inventory.configure_number")
@require_http_methods(["GET", "POST"])
def number_configure(request, msisdn: str):
    number = _owned_or_404(msisdn)
    current = services.configuration_of(number)
    form = ConfigureForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        changes = form.changes(current)
        if not changes:
            messages.info(request, "Nothing to change: that is the current configuration.")
            return redirect("number", msisdn=msisdn)
        change = {"msisdn": msisdn, "before": current, "changes": changes,
                  "token": secrets.token_urlsafe(24)}  # fmt: skip
        review = SignedChangeForm.for_change(change)
        context = {"number": number, "changes": changes, "current": current, "form": review}
        return render(request, "inventory/configure_review.html", context)
    return render(request, "inventory/configure.html", {"number": number, "form": form})


@permission_required("inventory.configure_number")
@require_POST
def number_configure_confirm(request, msisdn: str):
    number = _owned_or_404(msisdn)
    form = SignedChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["change"]))
        return redirect("number-configure", msisdn=msisdn)
    change = form.cleaned_data["change"]
    actor = Actor.from_request(request)
    replay = services.operation_started_by(form_token=change["token"], actor=actor)
    if replay is None and (
        change["msisdn"] != msisdn or change["before"] != services.configuration_of(number)
    ):
        messages.error(request, "The number changed since you reviewed it; review again.")
        return redirect("number-configure", msisdn=msisdn)
    return _run_operation(
        lambda: services.number_configure(
            client=api.default_client(), actor=actor, number=number,
            changes=change["changes"], form_token=change["token"],
        ),
        request, token=change["token"], fallback=reverse("number", args=[msisdn]),
    )  # fmt: skip


@permission_required("inventory.cancel_number")
@require_http_methods(["GET", "POST"])
def number_cancel(request, msisdn: str):
    token = request.POST.get("token", "")
    replay = token and services.operation_started_by(
        form_token=token, actor=Actor.from_request(request)
    )
    if replay:  # a resubmitted form: the number may be gone, its cancellation is not
        return redirect("operation", pk=replay.pk)
    number = _owned_or_404(msisdn)
    form = CancelForm(
        request.POST or None, msisdn=msisdn, initial={"token": secrets.token_urlsafe(24)}
    )
    if request.method == "POST" and form.is_valid():
        return _run_operation(
            lambda: services.number_cancel(
                client=api.default_client(), actor=Actor.from_request(request), number=number,
                typed_msisdn=form.cleaned_data["typed"], form_token=form.cleaned_data["token"],
            ),
            request, token=form.cleaned_data["token"], fallback=reverse("number", args=[msisdn]),
        )  # fmt: skip
    return render(request, "inventory/cancel.html", {"number": number, "form": form})


def _run_operation(start, request, *, token: str, fallback: str):
    """Run an operation service and show its page; a refusal shows its recorded reason."""
    try:
        entry = start()
    except services.OperationRefused as refused:
        entry = services.operation_started_by(form_token=token, actor=Actor.from_request(request))
        if entry is None:
            messages.error(request, str(refused))
            return redirect(fallback)
    return redirect("operation", pk=entry.pk)


# --- errors ---------------------------------------------------------------------------------


def forbidden(request, exception=None):
    """handler403: a refusal raised anywhere (the admin's included) is audited like the
    decorator's own. Views using `permission_required` answer 403 themselves, so no refusal
    is recorded twice."""
    user = getattr(request, "user", None)  # absent if refused before authentication ran
    if user is not None and user.is_authenticated:
        services.access_denied_record(
            actor=Actor.from_request(request), method=request.method, path=request.path
        )
    return render(request, "403.html", status=403)
