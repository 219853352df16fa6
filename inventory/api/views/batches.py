"""Bulk work for scripts, as the portal's batches: a bulk purchase of the selection (its
prices checked again by a task, then reviewed), a bulk configuration or cancellation of
owned numbers; confirmed once, run by a task worker, followed by polling."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from inventory import selectors
from inventory.api.forms import BatchConfirmForm, NumbersForm
from inventory.api.idempotency import idempotent
from inventory.api.inputs import body_form, body_object, form_serializer
from inventory.api.serializers import BatchItemsSerializer, BatchSerializer, ProblemSerializer
from inventory.api.views.base import PortalApiView, actor, require
from inventory.forms import ConfigureForm
from inventory.models import Batch
from inventory.services import batches

BROWSE = "inventory.browse_inventory"
ConfirmRequest = form_serializer(BatchConfirmForm, "BatchConfirmation")
Changes = form_serializer(ConfigureForm, "BulkChanges", optional=True)


class NumbersRequest(serializers.Serializer):
    numbers = serializers.ListField(
        child=serializers.RegexField(r"^[1-9][0-9]{6,14}$"),
        min_length=1,
        max_length=Batch.MAX_ITEMS,
    )


class BulkConfigureRequest(NumbersRequest):
    changes = Changes()


def _batch_or_404(pk: int) -> Batch:
    batch = selectors.batch_get(pk=pk)
    if batch is None:
        raise exceptions.NotFound("No such batch.")
    return batch


def _bulk_changes(form: ConfigureForm, *, sent: dict) -> dict[str, str]:
    """What every number gets: the fields given a value, and those sent empty (cleared)."""
    changes = form.changes({})
    for name in ConfigureForm.API_FIELDS:
        if name in sent and not form.cleaned_data.get(name):
            changes[name] = ""
    return changes


def _answer(batch: Batch, *, code: int = status.HTTP_200_OK) -> Response:
    batch = selectors.batch_get(pk=batch.pk) or batch
    data = BatchSerializer(batch).data
    return Response(data, status=code, headers={"Location": data["url"]})


class BatchList(PortalApiView):
    permissions = {"GET": BROWSE}

    @extend_schema(
        operation_id="batches_list",
        summary="The latest bulk operations",
        responses={200: BatchSerializer(many=True)},
    )
    def get(self, request):
        return Response(BatchSerializer(selectors.batches_recent(), many=True).data)


class PurchaseBatchCreate(PortalApiView):
    permissions = {"POST": "inventory.buy_number"}

    @extend_schema(
        operation_id="batch_purchase_create",
        summary="A bulk purchase of your selection",
        description="Its status is `checking` while a task asks the catalogue again for each "
        "number; then `review`: look at its items (numbers no longer on sale, or dearer than "
        "you agreed, are left out and say why) and confirm it. Nothing is bought before.",
        request=None,
        responses={202: BatchSerializer, 409: ProblemSerializer},
    )
    def post(self, request):
        return idempotent(request, self, lambda _token: self.create(request))

    def create(self, request) -> Response:
        body_object(request.data)
        batch = batches.purchase_batch_create(actor=actor(request))
        return _answer(batch, code=status.HTTP_202_ACCEPTED)


class ConfigureBatchCreate(PortalApiView):
    permissions = {"POST": "inventory.configure_number"}

    @extend_schema(
        operation_id="batch_configure_create",
        summary="A bulk configuration, ready for review",
        description="Every number gets `changes` (the fields of a number's configuration; an "
        "empty string clears one). Numbers that already have them are left out.",
        request=BulkConfigureRequest,
        responses={201: BatchSerializer, 409: ProblemSerializer},
    )
    def post(self, request):
        return idempotent(request, self, lambda _token: self.create(request))

    def create(self, request) -> Response:
        body = body_object(request.data)
        chosen = body_form(NumbersForm, {"numbers": body.get("numbers")})
        change = body_form(ConfigureForm, body.get("changes"), at="#/changes/")
        batch = batches.configure_batch_create(
            actor=actor(request),
            msisdns=chosen.cleaned_data["numbers"],
            changes=_bulk_changes(change, sent=body_object(body.get("changes"))),
        )
        return _answer(batch, code=status.HTTP_201_CREATED)


class CancelBatchCreate(PortalApiView):
    permissions = {"POST": "inventory.cancel_number"}

    @extend_schema(
        operation_id="batch_cancel_create",
        summary="A bulk cancellation, ready for review",
        description="Confirm it with `typed`: “cancel N”, N being the number of numbers.",
        request=NumbersRequest,
        responses={201: BatchSerializer, 409: ProblemSerializer},
    )
    def post(self, request):
        return idempotent(request, self, lambda _token: self.create(request))

    def create(self, request) -> Response:
        chosen = body_form(NumbersForm, {"numbers": body_object(request.data).get("numbers")})
        batch = batches.cancel_batch_create(
            actor=actor(request), msisdns=chosen.cleaned_data["numbers"]
        )
        return _answer(batch, code=status.HTTP_201_CREATED)


class BatchDetail(PortalApiView):
    permissions = {"GET": BROWSE}

    @extend_schema(
        operation_id="batch_get",
        summary="A bulk operation and how far it got (poll this)",
        responses={200: BatchSerializer},
    )
    def get(self, request, pk: int):
        return _answer(_batch_or_404(pk))


class BatchItems(PortalApiView):
    permissions = {"GET": BROWSE}

    @extend_schema(
        operation_id="batch_items",
        summary="Each number of a bulk operation, and how it went",
        responses={200: BatchItemsSerializer},
    )
    def get(self, request, pk: int):
        batch = _batch_or_404(pk)
        items = selectors.batch_items(batch=batch)
        return Response(BatchItemsSerializer({"batch": batch, "items": items}).data)


class BatchConfirm(PortalApiView):
    # Starting a batch takes the permission of its kind (checked below), as on its page.
    permissions = {"POST": BROWSE}

    @extend_schema(
        operation_id="batch_confirm",
        summary="Start a reviewed bulk operation",
        description="Only its author can. Confirming again changes nothing. A bulk purchase "
        "the approval rules hold back needs a `reason`: it then waits for an approver (status "
        "`approval`, its request under `/api/v1/approval-requests`) and is bought once approved.",
        request=ConfirmRequest,
        responses={200: BatchSerializer, 409: ProblemSerializer},
    )
    def post(self, request, pk: int):
        return idempotent(request, self, lambda _token: self.confirm(request, pk))

    def confirm(self, request, pk: int) -> Response:
        batch = _batch_or_404(pk)
        require(request, Batch.KIND_PERMISSIONS[Batch.Kind(batch.kind)])
        form = body_form(BatchConfirmForm, request.data)
        batch = batches.batch_confirm(
            actor=actor(request),
            batch_id=batch.pk,
            typed=form.cleaned_data["typed"],
            reason=form.cleaned_data["reason"],
        )
        return _answer(batch)


class BatchStop(PortalApiView):
    permissions = {"POST": BROWSE}

    @extend_schema(
        operation_id="batch_stop",
        summary="Stop a bulk operation before its next number",
        request=None,
        responses={200: BatchSerializer, 409: ProblemSerializer},
    )
    def post(self, request, pk: int):
        return idempotent(request, self, lambda _token: self.stop(request, pk))

    def stop(self, request, pk: int) -> Response:
        batch = _batch_or_404(pk)
        require(request, Batch.KIND_PERMISSIONS[Batch.Kind(batch.kind)])
        body_object(request.data)
        return _answer(batches.batch_stop(actor=actor(request), batch_id=batch.pk))
