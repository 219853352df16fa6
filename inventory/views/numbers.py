"""One owned number: its page, local notes, configuration and cancellation."""

import secrets
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inventory import selectors
from inventory.audit import Actor
from inventory.decorators import permission_required
from inventory.forms import AnnotateForm, CancelForm, ConfigureForm, SignedChangeForm
from inventory.governance_forms import ProtectForm
from inventory.models import OwnedNumber
from inventory.services import cancel, configure, numbers, pricing
from inventory.services.cache import configuration_of, local_fields_of
from inventory.services.operations import OperationRefused, ServiceError
from inventory.views.operations import refused


def _owned_or_404(msisdn: str) -> OwnedNumber:
    number = selectors.owned_number_get(msisdn=msisdn)
    if number is None:
        raise Http404("This number is not in the inventory.")
    return number


def _number_page(
    request,
    msisdn: str,
    *,
    notes: AnnotateForm | None = None,
    protect: ProtectForm | None = None,
    status=200,
):
    number = selectors.owned_number_get(msisdn=msisdn)
    history = selectors.number_history(msisdn=msisdn)
    if number is None and not history.exists():
        raise Http404("This number is not in the inventory and has no history.")
    if number is not None and notes is None:
        notes = AnnotateForm(initial=local_fields_of(number))
    context: dict[str, Any] = {
        "number": number,
        "msisdn": msisdn,
        "history": history[:100],
        "notes": notes,
        "protect": protect or ProtectForm(),
    }
    if number is not None:
        context["price"] = pricing.number_price(number)
    return render(request, "inventory/number.html", context, status=status)


@permission_required("inventory.browse_inventory")
@require_GET
def number_detail(request: HttpRequest, msisdn: str) -> HttpResponse:
    return _number_page(request, msisdn)


@permission_required("inventory.annotate_number")
@require_POST
def number_annotate(request: HttpRequest, msisdn: str) -> HttpResponse:
    number = _owned_or_404(msisdn)
    form = AnnotateForm(request.POST)
    if not form.is_valid():  # shown again with what was typed and what is wrong with it
        return _number_page(request, msisdn, notes=form, status=400)
    numbers.number_annotate(
        actor=Actor.from_request(request), number=number, values=form.cleaned_data
    )
    messages.success(request, "Label, team and notes saved.")
    return redirect("number", msisdn=msisdn)


@permission_required("inventory.protect_number")
@require_POST
def number_protect(request: HttpRequest, msisdn: str) -> HttpResponse:
    number = _owned_or_404(msisdn)
    form = ProtectForm(request.POST)
    if not form.is_valid():
        return _number_page(request, msisdn, protect=form, status=400)
    try:
        numbers.number_protect(
            actor=Actor.from_request(request), number=number, reason=form.cleaned_data["reason"]
        )
    except ServiceError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Protected: nobody can cancel this number until it is removed.")
    return redirect("number", msisdn=msisdn)


@permission_required("inventory.protect_number")
@require_POST
def number_unprotect(request: HttpRequest, msisdn: str) -> HttpResponse:
    number = _owned_or_404(msisdn)
    numbers.number_unprotect(actor=Actor.from_request(request), number=number)
    messages.info(request, "Protection removed: the number can be cancelled again.")
    return redirect("number", msisdn=msisdn)


@permission_required("inventory.configure_number")
@require_http_methods(["GET", "POST"])
def number_configure(request: HttpRequest, msisdn: str) -> HttpResponse:
    number = _owned_or_404(msisdn)
    current = configuration_of(number)
    form = ConfigureForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        changes = form.changes(current)
        if not changes:
            messages.info(request, "Nothing to change: that is the current configuration.")
            return redirect("number", msisdn=msisdn)
        review = SignedChangeForm.for_change(
            {
                "msisdn": msisdn,
                "before": current,
                "changes": changes,
                "token": secrets.token_urlsafe(24),
            }
        )
        context = {"number": number, "changes": changes, "current": current, "form": review}
        return render(request, "inventory/configure_review.html", context)
    return render(request, "inventory/configure.html", {"number": number, "form": form})


@permission_required("inventory.configure_number")
@require_POST
def number_configure_confirm(request: HttpRequest, msisdn: str) -> HttpResponse:
    form = SignedChangeForm(request.POST)
    if not form.is_valid() or form.cleaned_data["change"]["msisdn"] != msisdn:
        messages.error(
            request,
            " ".join(str(e) for e in form.errors.get("change", ["Review the change again."])),
        )
        return redirect("number-configure", msisdn=msisdn)
    change = form.cleaned_data["change"]
    try:
        entry = configure.number_configure(
            actor=Actor.from_request(request),
            msisdn=msisdn,
            changes=change["changes"],
            reviewed=change["before"],
            form_token=change["token"],
        )
    except OperationRefused as refusal:
        return refused(request, refusal, fallback=reverse("number-configure", args=[msisdn]))
    return redirect("operation", pk=entry.pk)


@permission_required("inventory.cancel_number")
@require_http_methods(["GET", "POST"])
def number_cancel(request: HttpRequest, msisdn: str) -> HttpResponse:
    form = CancelForm(
        request.POST or None, msisdn=msisdn, initial={"token": secrets.token_urlsafe(24)}
    )
    if request.method == "POST" and form.is_valid():
        # The number itself is not needed: a resubmitted form shows the first outcome even
        # after the number has gone.
        try:
            entry = cancel.number_cancel(
                actor=Actor.from_request(request),
                msisdn=msisdn,
                typed_msisdn=form.cleaned_data["typed"],
                form_token=form.cleaned_data["token"],
            )
        except OperationRefused as refusal:
            return refused(request, refusal, fallback=reverse("number", args=[msisdn]))
        return redirect("operation", pk=entry.pk)
    number = _owned_or_404(msisdn)
    return render(request, "inventory/cancel.html", {"number": number, "form": form})
