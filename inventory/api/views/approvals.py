"""Approval requests for scripts: the queue, one request, and deciding on it, as on the
portal's approvals pages. A script asks for approval by sending a held-back purchase again
with a `reason` (POST /purchases, or a bulk purchase's confirm)."""

from __future__ import annotations

from django import forms
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from inventory import selectors
from inventory.api.idempotency import idempotent
from inventory.api.inputs import (
    body_form,
    body_object,
    form_parameters,
    form_serializer,
    query_form,
)
from inventory.api.serializers import ApprovalRequestSerializer, ProblemSerializer
from inventory.api.views.base import PortalApiView, actor, approval_answer
from inventory.governance_forms import DecisionForm
from inventory.models import PurchaseRequest
from inventory.services import approvals

BROWSE = "inventory.browse_inventory"
APPROVE = "inventory.approve_purchase"
Decision = form_serializer(DecisionForm, "Decision")


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any"), *PurchaseRequest.Status.choices],
        required=False,
        help_text="Only requests in this state (pending: the ones waiting for a decision).",
    )


def _request_or_404(pk: int) -> PurchaseRequest:
    purchase_request = selectors.purchase_request_get(pk=pk)
    if purchase_request is None:
        raise exceptions.NotFound("There is no such purchase request.")
    return purchase_request


class ApprovalRequestList(PortalApiView):
    permissions = {"GET": BROWSE}

    @extend_schema(
        operation_id="approval_requests_list",
        summary="Purchase requests: those waiting first (oldest first), then the latest decided",
        parameters=form_parameters(RequestFilterForm),
        responses={200: ApprovalRequestSerializer(many=True)},
    )
    def get(self, request):
        wanted = query_form(RequestFilterForm, request.query_params).cleaned_data["status"]
        requests = selectors.purchase_requests_listed(status=wanted)
        return Response(ApprovalRequestSerializer(requests, many=True).data)


class ApprovalRequestDetail(PortalApiView):
    permissions = {"GET": BROWSE}

    @extend_schema(
        operation_id="approval_request_get",
        summary="A purchase request and how it was decided (poll this)",
        responses={200: ApprovalRequestSerializer},
    )
    def get(self, request, pk: int):
        return approval_answer(_request_or_404(pk), code=200)


class ApprovalRequestApprove(PortalApiView):
    permissions = {"POST": APPROVE}

    @extend_schema(
        operation_id="approval_request_approve",
        summary="Approve a purchase request",
        description="Not your own. A task worker then buys its numbers at no more than the "
        "approved prices (a number dearer by then is not bought and says why).",
        request=Decision,
        responses={200: ApprovalRequestSerializer, 409: ProblemSerializer},
    )
    def post(self, request, pk: int):
        return idempotent(request, self, lambda _token: self.approve(request, pk))

    def approve(self, request, pk: int) -> Response:
        reason = body_form(DecisionForm, request.data).cleaned_data["reason"]
        decided = approvals.purchase_request_approve(
            actor=actor(request), request_id=_request_or_404(pk).pk, reason=reason
        )
        return approval_answer(decided, code=200)


class ApprovalRequestReject(PortalApiView):
    permissions = {"POST": APPROVE}

    @extend_schema(
        operation_id="approval_request_reject",
        summary="Reject a purchase request, saying why",
        description="Not your own; the `reason` is needed and is told to the requester.",
        request=Decision,
        responses={200: ApprovalRequestSerializer, 409: ProblemSerializer},
    )
    def post(self, request, pk: int):
        return idempotent(request, self, lambda _token: self.reject(request, pk))

    def reject(self, request, pk: int) -> Response:
        reason = body_form(DecisionForm, request.data).cleaned_data["reason"]
        decided = approvals.purchase_request_reject(
            actor=actor(request), request_id=_request_or_404(pk).pk, reason=reason
        )
        return approval_answer(decided, code=200)


class ApprovalRequestWithdraw(PortalApiView):
    permissions = {"POST": "inventory.buy_number"}

    @extend_schema(
        operation_id="approval_request_withdraw",
        summary="Withdraw your own purchase request before it is decided",
        request=None,
        responses={200: ApprovalRequestSerializer, 409: ProblemSerializer},
    )
    def post(self, request, pk: int):
        return idempotent(request, self, lambda _token: self.withdraw(request, pk))

    def withdraw(self, request, pk: int) -> Response:
        body_object(request.data)
        withdrawn = approvals.purchase_request_withdraw(
            actor=actor(request), request_id=_request_or_404(pk).pk
        )
        return approval_answer(withdrawn, code=200)
