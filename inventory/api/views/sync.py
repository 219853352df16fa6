"""The sync of the local copy with the account, for scripts: queue one (a task worker runs
it), and follow the latest."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from inventory import selectors
from inventory.api.idempotency import idempotent
from inventory.api.inputs import body_object
from inventory.api.serializers import ProblemSerializer, SyncSerializer
from inventory.api.views.base import PortalApiView, actor
from inventory.services import sync


def _state() -> dict:
    status_now = selectors.sync_status_from_database()
    return {
        **selectors.sync_progress(),
        "last_success": status_now.last_success,
        "is_stale": status_now.is_stale,
    }


class Sync(PortalApiView):
    permissions = {"GET": "inventory.browse_inventory", "POST": "inventory.sync_numbers"}

    @extend_schema(
        operation_id="sync_get",
        summary="The latest sync (poll this after queueing one)",
        responses={200: SyncSerializer},
    )
    def get(self, request):
        return Response(SyncSerializer(_state()).data)

    @extend_schema(
        operation_id="sync_request",
        summary="Queue a sync of the local copy with the account",
        request=None,
        responses={202: SyncSerializer, 409: ProblemSerializer},
    )
    def post(self, request):
        return idempotent(request, self, lambda _token: self.queue(request))

    def queue(self, request) -> Response:
        body_object(request.data)
        sync.sync_request(actor=actor(request))
        return Response(SyncSerializer(_state()).data, status=status.HTTP_202_ACCEPTED)
