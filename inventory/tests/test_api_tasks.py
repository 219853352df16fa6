"""GET /api/v1/tasks: whether any worker runs, and what waits for one."""

from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from inventory.services import workers
from inventory.tasks import settle_unknown_task
from inventory.tests.base import ApiTestCase


class TaskQueueApiTestCase(ApiTestCase):
    def test_with_no_worker_a_queued_sync_is_seen_waiting(self):
        self.api_post(self.operator, "/api/v1/sync", key="sync-1")

        queue = self.api_get(self.viewer, "/api/v1/tasks").json()

        assert queue["workers"] == []
        assert queue["queued"] >= 1
        assert queue["running"] == 0

    def test_a_live_worker_is_listed_with_its_heartbeat(self):
        workers.worker_heartbeat(worker_id="host-1-abc123")

        queue = self.api_get(self.viewer, "/api/v1/tasks").json()

        assert [worker["id"] for worker in queue["workers"]] == ["host-1-abc123"]
        assert queue["workers"][0]["seen_until"].endswith("Z")

    def test_a_failed_task_is_named_with_its_error_class_and_no_traceback(self):
        result = DBTaskResult.objects.get(id=settle_unknown_task.enqueue().id)
        DBTaskResult.objects.filter(pk=result.pk).update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path="requests.exceptions.ConnectionError",
            traceback="Traceback (most recent call last): secret details",
        )

        queue = self.api_get(self.viewer, "/api/v1/tasks").json()

        assert queue["failed_last_day"] == 1
        assert queue["failures"] == [
            {
                "id": str(result.pk),
                "task": "settle_unknown_task",
                "finished_at": queue["failures"][0]["finished_at"],
                "error": "ConnectionError",
            }
        ]
        assert "secret details" not in str(queue)

    def test_an_auditor_is_refused(self):
        assert self.api_get(self.auditor, "/api/v1/tasks").status_code == 403
