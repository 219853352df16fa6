"""The task queue for scripts: whether workers are running and how much waits, so a script
whose batch stays queued can tell a busy queue from one nobody works on."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from inventory import selectors
from inventory.api.serializers import TaskQueueSerializer
from inventory.api.views.base import PortalApiView
from inventory.services import workers


class TaskQueue(PortalApiView):
    permissions = {"GET": "inventory.browse_inventory"}

    @extend_schema(
        operation_id="tasks_get",
        summary="The task workers and the queue: what runs syncs, bulk work and approvals",
        responses={200: TaskQueueSerializer},
    )
    def get(self, request):
        queue = selectors.task_queue()
        answer = {
            "workers": workers.workers_alive(),
            "queued": queue.queued,
            "running": queue.running,
            "failed_last_day": queue.failed,
            "failures": queue.failures,
        }
        return Response(TaskQueueSerializer(answer).data)
