"""The sync through the JSON API: queued once, followed to the end."""

from inventory.models import SyncRun
from inventory.tests.base import ApiTestCase
from inventory.tests.tasks import run_queued_tasks


class SyncApiTestCase(ApiTestCase):
    def test_a_sync_is_queued_once_and_followed(self):
        self.sandbox.reset(owned=5)
        assert self.api_get(self.viewer, "/api/v1/sync").json()["state"] == "none"

        queued = self.api_post(self.operator, "/api/v1/sync")
        assert queued.status_code == 202
        assert queued.json()["state"] == "queued"
        busy = self.api_post(self.operator, "/api/v1/sync")
        assert busy.status_code == 409
        assert busy.json()["detail"].startswith("A sync is already waiting for the task worker")

        run_queued_tasks()
        done = self.api_get(self.viewer, "/api/v1/sync").json()
        assert done["state"] == "done"
        assert done["progress"] == 1.0
        assert done["is_stale"] is False
        assert SyncRun.objects.get().numbers_seen == 5

    def test_a_viewer_may_not_start_one(self):
        assert self.api_post(self.viewer, "/api/v1/sync").status_code == 403
        assert not SyncRun.objects.exists()
