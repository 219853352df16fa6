"""System status, for superusers: the API connection and its quota in words, the last
syncs, the task workers and the queue."""

from datetime import timedelta

from django.utils import timezone

from inventory import api_client as api
from inventory.models import SyncRun
from inventory.services.workers import worker_heartbeat
from inventory.tasks import settle_unknown_task
from inventory.tests.base import BaseTestCase
from inventory.wording import quota_in_words


class SystemStatusTestCase(BaseTestCase):
    url = "/system/"

    def test_it_is_for_superusers_only(self):
        for user in (self.viewer, self.operator, self.auditor):
            self.login(user)
            assert self.client.get(self.url).status_code == 403

    def test_it_shows_the_token_and_the_calls_left_in_words(self):
        api.default_client().search_available(country="GB", size=1)
        self.login(self.superuser)
        response = self.client.get(self.url)
        self.assertContains(response, "Token fetched")
        self.assertContains(response, "<strong>Catalogue searches</strong>:")
        self.assertContains(response, "calls left this")

    def test_it_says_when_no_token_can_be_had(self):
        self.sandbox.reset(client_secret="rotated-elsewhere")
        self.login(self.superuser)
        self.assertContains(self.client.get(self.url), "could not get an access token")

    def test_it_shows_the_last_syncs_and_the_task_queue(self):
        SyncRun.objects.create(
            status=SyncRun.Status.FAILED,
            started_by="olivia",
            message="The sync stopped and changed nothing: busy.",
        )
        settle_unknown_task.enqueue()
        self.login(self.superuser)
        response = self.client.get(self.url)
        self.assertContains(response, "The sync stopped and changed nothing: busy.")
        self.assertContains(response, "1 task waiting, 0 running, 0 failed in the last day.")
        self.assertContains(response, "No worker running")
        worker_heartbeat(worker_id="host-1-abc")
        self.assertContains(self.client.get(self.url), "1 worker running")


class QuotaWordsTestCase(BaseTestCase):
    def quota(self, **fields) -> api.Quota:
        now = timezone.now()
        defaults = {
            "limit": 3,
            "used": 1,
            "interval": 1,
            "time_unit": "second",
            "reset_at": now + timedelta(seconds=1),
            "seen_at": now,
        }
        return api.Quota(**{**defaults, **fields})

    def test_calls_left_and_the_reset_are_said_in_words(self):
        words = quota_in_words(
            "POST /number/buy", self.quota(time_unit="minute", limit=60, used=58)
        )
        assert words.name == "Buying numbers"
        assert words.left == "2 of 60 calls left this minute"
        assert words.resets.startswith("The window resets at ")
        assert words.resets.endswith("(in 1 second).")

    def test_an_unusual_window_and_a_past_reset_read_well_too(self):
        past = timezone.now() - timedelta(seconds=5)
        words = quota_in_words("GET /x", self.quota(interval=5, time_unit="minutes", reset_at=past))
        assert words.left == "2 of 3 calls left in this window of 5 minutes"
        assert "all calls are available again" in words.resets
