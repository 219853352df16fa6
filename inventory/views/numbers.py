"""One owned number: its page, local notes, configuration and cancellation."""

import secrets

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inventory import api_client as api
from inventory import selectors, services
from inventory.audit import Actor
from inventory.decorators import permission_required
from inventory.forms import (
    AnnotateForm,
    CancelForm,
    ConfigureForm,
    SignedChangeForm,
)
from inventory.models import OwnedNumber
from inventory.views.operations import run_operation_view


def _owned_or_404(msisdn: str) -> OwnedNumber:
    number = selectors.owned_number_get(msisdn=msisdn)
    if number is None:
        raise Http404("This number is not in the inventory.")
    return number


def _number_page(request, msisdn: str, *, notes: AnnotateForm | None = None, status=200):
    number = selectors.owned_number_get(msisdn=msisdn)
    history = selectors.number_history(msisdn=msisdn)
    if number is None and not history.exists():
        raise Http404("This number is not in the inventory and has no history.")
    if number is not None and notes is None:
        notes = AnnotateForm(initial=services.local_fields_of(number))
    context = {"number": number, "msisdn": msisdn, "history": history[:100], "notes": notes}
    return render(request, "inventory/number.html", context, status=status)


@permission_required("inventory.browse_inventory")
@require_GET
def number_detail(request, msisdn: str):
    return _number_page(request, msisdn)


@permission_required("inventory.annotate_number")
@require_POST
def number_annotate(request, msisdn: str):
    number = _owned_or_404(msisdn)
    form = AnnotateForm(request.POST)
    if not form.is_valid():  # shown again with what was typed and what is wrong with it
        return _number_page(request, msisdn, notes=form, status=400)
    services.number_annotate(
        actor=Actor.from_request(request), number=number, values=form.cleaned_data
    )
    messages.success(request, "Label, team and notes saved.")
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
    return run_operation_view(
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
        return run_operation_view(
            lambda: services.number_cancel(
                client=api.default_client(), actor=Actor.from_request(request), number=number,
                typed_msisdn=form.cleaned_data["typed"], form_token=form.cleaned_data["token"],
            ),
            request, token=form.cleaned_data["token"], fallback=reverse("number", args=[msisdn]),
        )  # fmt: skip
    return render(request, "inventory/cancel.html", {"number": number, "form": form})
