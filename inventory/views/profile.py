"""Your profile: personal access tokens for the JSON API, made, shown once, and revoked."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from inventory import selectors
from inventory.audit import Actor
from inventory.forms import ApiTokenForm
from inventory.services import tokens
from inventory.services.operations import ServiceError


def _profile_page(request, *, form: ApiTokenForm, new_token: str = "", status: int = 200):
    context = {
        "form": form,
        "tokens": selectors.api_tokens_of(user=request.user),
        "new_token": new_token,
    }
    return render(request, "inventory/profile.html", context, status=status)


@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    return _profile_page(request, form=ApiTokenForm())


@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _profile_page(request, form=form, status=400)
    _row, token = tokens.api_token_create(
        actor=Actor.from_request(request),
        user=request.user,
        name=form.cleaned_data["name"],
        days=form.cleaned_data["days"],
    )
    # Shown in this answer only, never stored or redirected with: it is not seen again.
    return _profile_page(request, form=ApiTokenForm(), new_token=token)


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        row = tokens.api_token_revoke(actor=Actor.from_request(request), token_id=pk)
    except ServiceError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"The token “{row.name}” is revoked: it no longer works.")
    return redirect("profile")
