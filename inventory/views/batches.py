"""A batch's page: review and confirm, follow its progress, stop it, export its results."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from inventory import selectors
from inventory.audit import Actor
from inventory.bulk_forms import BatchConfirmForm
from inventory.csv_export import batch_csv_rows
from inventory.decorators import permission_refused, permission_required
from inventory.models import Batch
from inventory.services import approvals, batches, pricing
from inventory.services.operations import ServiceError


def _batch_or_404(pk: int) -> Batch:
    batch = selectors.batch_get(pk=pk)
    if batch is None:
        raise Http404("No such batch.")
    return batch


@permission_required("inventory.browse_inventory")
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    return render(request, "inventory/batches.html", {"batches": selectors.batches_recent()})


@permission_required("inventory.browse_inventory")
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(pk)
    totals = batches.batch_totals(batch)
    context = {
        "batch": batch,
        "items": selectors.batch_items(batch=batch),
        "totals": totals,
        "progress": selectors.batch_progress(batch=batch),
        "form": BatchConfirmForm(),
        "mine": batch.created_by_id == request.user.pk,
        "approval_rule": _approval_rule(request, batch),
        "purchase_request": selectors.batch_purchase_request(batch=batch),
    }
    if batch.kind == Batch.Kind.PURCHASE and batch.status == Batch.Status.REVIEW:
        context["outlook"] = pricing.budget_outlook(adding=totals.monthly)
        context["teams"] = selectors.team_names()
    return render(request, "inventory/batch.html", context)


def _approval_rule(request: HttpRequest, batch: Batch) -> str:
    """Why this bulk purchase, under review, needs approval ("" when it does not)."""
    if batch.kind != Batch.Kind.PURCHASE or batch.status != Batch.Status.REVIEW:
        return ""
    totals = batches.batch_totals(batch)
    return approvals.purchase_needs_approval(
        actor=Actor.from_request(request),
        count=totals.count,
        setup=totals.setup,
        monthly=totals.monthly,
    )


@permission_required("inventory.browse_inventory")
@require_GET
def batch_state(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(selectors.batch_progress(batch=_batch_or_404(pk)))


@permission_required("inventory.browse_inventory")
@require_GET
def batch_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    batch = _batch_or_404(pk)
    rows = batch_csv_rows(selectors.batch_items(batch=batch))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}.csv"'
    return response


@permission_required("inventory.browse_inventory")
@require_POST
def batch_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(pk)
    permission = Batch.KIND_PERMISSIONS[Batch.Kind(batch.kind)]
    if not request.user.has_perm(permission):
        return permission_refused(request, permission)
    form = BatchConfirmForm(request.POST)
    form.is_valid()
    try:
        batches.batch_confirm(
            actor=Actor.from_request(request),
            batch_id=batch.pk,
            typed=form.cleaned_data.get("typed", ""),
            reason=form.cleaned_data.get("reason", ""),
            team=form.cleaned_data.get("team", ""),
        )
    except ServiceError as refused:
        messages.error(request, str(refused))
    return redirect("batch", pk=batch.pk)


@permission_required("inventory.browse_inventory")
@require_POST
def batch_stop(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(pk)
    permission = Batch.KIND_PERMISSIONS[Batch.Kind(batch.kind)]
    if not request.user.has_perm(permission):
        return permission_refused(request, permission)
    try:
        batches.batch_stop(actor=Actor.from_request(request), batch_id=batch.pk)
    except ServiceError as refused:
        messages.error(request, str(refused))
    else:
        messages.info(request, "Stopping: numbers not yet started are left as they are.")
    return redirect("batch", pk=batch.pk)
