"""What every API view shares: authentication by the API itself (a script has no session,
so the portal's login redirect does not apply), the permission per method, and the one way
an operation's outcome is answered."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import selectors
from inventory.api.permissions import refuse
from inventory.api.problems import Problem, operation_link
from inventory.api.serializers import ApprovalRequestSerializer, OperationSerializer
from inventory.audit import Actor
from inventory.models import Outcome, OwnedNumber, PurchaseRequest
from inventory.services.operations import operation_replay


class PortalApiView(APIView):
    # The Django permission each method needs (see api.permissions). (No docstring: the
    # OpenAPI document would take it for every operation's description.)
    permissions: dict[str, str] = {}

    @classmethod
    def as_view(cls, **initkwargs):
        # Django REST framework authenticates (a token or the session) and answers 401
        # itself: the portal's login redirect is for pages.
        return login_not_required(super().as_view(**initkwargs))


def actor(request) -> Actor:
    return Actor.from_request(request)


def require(request, permission: str) -> None:
    """For a permission that depends on what is asked (the kind of a batch)."""
    if not request.user.has_perm(permission):
        raise exceptions.PermissionDenied(refuse(request, permission))


def owned_or_404(msisdn: str) -> OwnedNumber:
    number = selectors.owned_number_get(msisdn=msisdn)
    if number is None:
        raise exceptions.NotFound("This number is not in the inventory.")
    return number


def replayed(request, form_token: str):
    """The operation this request already started (sent again with its Idempotency-Key
    after its first answer was lost), to answer with before anything else is looked at."""
    return operation_replay(form_token=form_token, actor=actor(request))


def operation_answer(entry, *, done: int = status.HTTP_200_OK) -> Response:
    """An operation as the API answers it: `done` (201 for a purchase) when it succeeded,
    202 while its outcome is pending or unknown (it is settled from the account: follow
    its `url`), and a problem when it failed (the reason is the trail's). An unknown outcome
    already settled (by the lookup right after) answers as its settlement says."""
    entry = selectors.operation_get(pk=entry.pk) or entry
    outcome = entry.final_outcome
    if outcome == Outcome.FAILED:
        raise Problem(
            422,
            "The operation failed",
            _failure_reason(entry),
            kind="operation-failed",
            operation=operation_link(entry),
        )
    code = done if outcome == Outcome.SUCCEEDED else status.HTTP_202_ACCEPTED
    data = OperationSerializer(entry).data
    return Response(data, status=code, headers={"Location": data["url"]})


def _failure_reason(entry) -> str:
    settlement = getattr(entry, "settlement", None) if entry.outcome == Outcome.UNKNOWN else None
    return (settlement.reason if settlement else entry.reason) or "The operation failed."


def approval_answer(request: PurchaseRequest, *, code: int = status.HTTP_202_ACCEPTED) -> Response:
    """An approval request as the API answers it, with its address to follow."""
    request = selectors.purchase_request_get(pk=request.pk) or request
    data = ApprovalRequestSerializer(request).data
    return Response(data, status=code, headers={"Location": data["url"]})
