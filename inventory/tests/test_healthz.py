"""/healthz: what a load balancer and an operator learn from it, without logging in."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from inventory import api_client as api
from inventory.health import PROBE_CONNECT_TIMEOUT, PROBE_READ_TIMEOUT
from inventory.models import SyncRun
from inventory.tests.base import BaseTestCase
from inventory.tests.processes import free_port
from inventory.tests.transactional import TrailTransactionTestCase

TOKEN = "POST /oauth/client_credential/accesstoken"


def synced(ago: timedelta) -> SyncRun:
    finished = timezone.now() - ago
    return SyncRun.objects.create(
        started_at=finished - timedelta(seconds=5),
        finished_at=finished,
        status=SyncRun.Status.SUCCEEDED,
        started_by="sync_numbers",
    )


class HealthzTestCase(BaseTestCase):
    def probe(self):
        return self.client.get("/healthz")

    def test_it_answers_ok_without_login_when_everything_is_fine(self):
        synced(ago=timedelta(minutes=10))

        response = self.probe()

        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["database"] == "up"
        assert body["api_token"] == "ok"
        assert body["cache"] == "up"
        assert 590 <= body["sync"]["last_success_age_seconds"] <= 700
        assert body["sync"]["stale"] is False
        assert response["Cache-Control"].startswith("max-age=0")

    def test_it_fetches_a_token_once_and_then_uses_the_shared_one(self):
        self.probe()
        self.probe()
        self.probe()

        assert self.sandbox.calls(TOKEN) == 1

    def test_it_fetches_no_token_when_the_portal_already_has_one(self):
        api.default_client().check_token()

        self.probe()

        assert self.sandbox.calls(TOKEN) == 1

    def test_a_failing_token_service_is_degraded_but_still_200(self):
        synced(ago=timedelta(minutes=10))
        self.sandbox.fault(TOKEN, "error", status=503, count=100)

        response = self.probe()

        assert response.status_code == 200
        assert response.json()["status"] == "degraded"
        assert response.json()["api_token"] == "unavailable"

    def test_after_a_failed_token_fetch_probes_stop_asking_for_a_while(self):
        self.sandbox.fault(TOKEN, "error", status=503, count=100)

        self.probe()
        self.probe()

        assert self.sandbox.calls(TOKEN) == 1

    def test_a_hanging_token_service_is_given_up_on_within_the_probe_timeouts(self):
        # The fault holds the line for 30 s; the probe's own short timeouts end it first.
        self.sandbox.fault(TOKEN, "timeout", delay=30)

        response = self.probe()

        assert response.json()["api_token"] == "unavailable"
        assert PROBE_CONNECT_TIMEOUT + PROBE_READ_TIMEOUT <= 3, "a probe gives up in seconds"

    def test_refused_credentials_are_reported_without_the_secret(self):
        with override_settings(NUMBERS_API={**settings.NUMBERS_API, "CLIENT_SECRET": "wrong-1"}):
            response = self.probe()

        assert response.json()["api_token"] == "unavailable"
        assert b"wrong-1" not in response.content
        assert b"secret" not in response.content.lower()

    def test_a_stale_sync_is_degraded_but_still_200(self):
        synced(ago=timedelta(hours=3))

        response = self.probe()

        assert response.status_code == 200
        assert response.json()["status"] == "degraded"
        assert response.json()["sync"]["stale"] is True
        assert response.json()["sync"]["stale_after_seconds"] == 3600

    def test_a_portal_that_never_synced_is_degraded(self):
        body = self.probe().json()

        assert body["status"] == "degraded"
        assert body["sync"]["last_success_age_seconds"] is None
        assert body["sync"]["stale"] is True

    def test_it_only_answers_get(self):
        assert self.client.post("/healthz").status_code == 405

    def test_a_cache_that_raises_is_reported_down_and_the_answer_is_still_json(self):
        synced(ago=timedelta(minutes=10))
        # Django's own Redis cache, which raises when Redis is away (the portal's does not).
        raising = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                               "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}  # fmt: skip

        with override_settings(CACHES=raising):
            response = self.probe()

        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["cache"], body["database"]) == ("degraded", "down", "up")
        assert body["api_token"] == "unavailable"  # its check reads the cache first


class HealthzDatabaseDownTestCase(TrailTransactionTestCase):
    def test_it_answers_503_when_the_database_cannot_be_reached(self):
        real_name = connection.settings_dict["NAME"]
        connection.close()
        # A database that does not exist: connecting fails as it would with the server down.
        connection.settings_dict["NAME"] = (
            "/nonexistent/dir/db.sqlite3" if connection.vendor == "sqlite" else "no_such_db"
        )
        try:
            response = self.client.get("/healthz")
        finally:
            connection.close()
            connection.settings_dict["NAME"] = real_name

        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "database": "down"}
