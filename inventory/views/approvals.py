"""Purchase requests: the queue, a request's page, deciding on it, and the rules."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inventory import selectors
from inventory.audit import Actor
from inventory.decorators import permission_required, superuser_required
from inventory.governance_forms import ApprovalRulesForm, DecisionForm
from inventory.models import PurchaseRequest
from inventory.services import approvals
from inventory.services.operations import ServiceError


def _request_or_404(pk: int) -> PurchaseRequest:
    request = selectors.purchase_request_get(pk=pk)
    if request is None:
        raise Http404("No such purchase request.")
    return request


@permission_required("inventory.browse_inventory")
@require_GET
def approval_list(request: HttpRequest) -> HttpResponse:
    context = {"queue": selectors.approval_queue(), "rules": selectors.approval_rules()}
    return render(request, "inventory/approvals.html", context)


@permission_required("inventory.browse_inventory")
@require_GET
def approval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    purchase_request = _request_or_404(pk)
    pending = purchase_request.status == PurchaseRequest.Status.PENDING
    mine = purchase_request.requester_id == request.user.pk
    context = {
        "purchase_request": purchase_request,
        "items": purchase_request.items.select_related("operation"),
        "trail": selectors.purchase_request_trail(request=purchase_request),
        "can_decide": pending and not mine and request.user.has_perm("inventory.approve_purchase"),
        "can_withdraw": pending and mine,
        "mine": mine,
        "form": DecisionForm(),
    }
    return render(request, "inventory/approval.html", context)


@permission_required("inventory.browse_inventory")
@require_GET
def approval_state(request: HttpRequest, pk: int) -> JsonResponse:
    purchase_request = _request_or_404(pk)
    return JsonResponse(selectors.purchase_request_state(request=purchase_request))


@permission_required("inventory.approve_purchase")
@require_POST
def approval_approve(request: HttpRequest, pk: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    form.is_valid()
    try:
        approvals.purchase_request_approve(
            actor=Actor.from_request(request),
            request_id=_request_or_404(pk).pk,
            reason=form.cleaned_data.get("reason", ""),
        )
    except ServiceError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Approved: the purchase is queued for the task worker.")
    return redirect("approval", pk=pk)


@permission_required("inventory.approve_purchase")
@require_POST
def approval_reject(request: HttpRequest, pk: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    form.is_valid()
    try:
        approvals.purchase_request_reject(
            actor=Actor.from_request(request),
            request_id=_request_or_404(pk).pk,
            reason=form.cleaned_data.get("reason", ""),
        )
    except ServiceError as refused:
        messages.error(request, str(refused))
    else:
        messages.info(request, "Rejected: nothing is bought, and the requester is told why.")
    return redirect("approval", pk=pk)


@permission_required("inventory.buy_number")
@require_POST
def approval_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        approvals.purchase_request_withdraw(
            actor=Actor.from_request(request), request_id=_request_or_404(pk).pk
        )
    except ServiceError as refused:
        messages.error(request, str(refused))
    else:
        messages.info(request, "Withdrawn: nothing is bought.")
    return redirect("approval", pk=pk)


@superuser_required
@require_http_methods(["GET", "POST"])
def approval_rules(request: HttpRequest) -> HttpResponse:
    rules = selectors.approval_rules()
    initial = {
        "purchase_above": rules.purchase_above,
        "bulk_above": rules.bulk_above,
        "over_budget": rules.over_budget,
    }
    form = ApprovalRulesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        approvals.approval_rules_set(
            actor=Actor.from_request(request), values=approvals.RuleValues(**form.cleaned_data)
        )
        messages.success(request, "Approval rules saved.")
        return redirect("approval-rules")
    status = 400 if form.is_bound else 200
    return render(
        request, "inventory/approval_rules.html", {"form": form, "rules": rules}, status=status
    )
