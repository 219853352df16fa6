"""Idempotency-Key on the JSON API's POSTs: kept a day at least, refused while in progress,
taken over when its first request died, swept when expired; and the rate limit per token,
which Redis being away turns off instead of turning the API off."""

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from inventory.models import IdempotencyKey, SelectionItem
from inventory.services.idempotency import idempotency_claim
from inventory.services.workers import worker_housekeeping
from inventory.tests.base import ApiTestCase
from inventory.tests.processes import free_port

PICK = {"country": "GB", "msisdn": "447700900123", "type": "mobile-lvn"}
PICK |= {"max_monthly_cost": "2", "max_setup_cost": "1"}


class IdempotencyKeyTestCase(ApiTestCase):
    def add(self, key: str, user=None):
        return self.api_post(
            user or self.operator, "/api/v1/selection", {"numbers": [PICK]}, key=key
        )

    def test_the_answer_is_kept_for_at_least_a_day(self):
        self.add("day")

        record = IdempotencyKey.objects.get(key="day")
        assert record.expires_at - record.created_at >= timedelta(hours=24)
        assert record.status_code == 200

    def test_a_key_still_being_answered_is_refused_as_in_progress(self):
        first = self.add("busy").json()
        IdempotencyKey.objects.filter(key="busy").update(status_code=None)

        response = self.add("busy")

        assert response.status_code == 409
        assert response["Retry-After"] == "1"
        assert response.json()["type"] == "urn:numbers-portal:problem:idempotency-key-in-progress"
        assert first["added"] == 1

    def test_a_key_whose_first_request_died_is_taken_over(self):
        self.add("died")
        long_ago = timezone.now() - timedelta(minutes=10)
        IdempotencyKey.objects.filter(key="died").update(status_code=None, created_at=long_ago)

        response = self.add("died")

        assert response.status_code == 200
        assert response.json()["added"] == 0  # the first request's pick is there already
        assert SelectionItem.objects.count() == 1

    def test_expired_keys_are_new_keys_and_are_swept_by_the_workers(self):
        self.add("old")
        IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        claim = idempotency_claim(
            user=self.viewer, key="other", method="POST", path="/x", fingerprint="f"
        )
        IdempotencyKey.objects.filter(pk=claim[0].pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )

        assert self.add("old").json()["added"] == 0  # answered afresh, not replayed
        worker_housekeeping()
        assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["old"]

    def test_a_key_must_be_visible_ascii_of_at_most_255_characters(self):
        for key in ("x" * 256, "with space", "ünïcode"):
            response = self.add(key)
            assert response.status_code == 400, key
            assert response.json()["errors"][0]["parameter"] == "Idempotency-Key"
        assert not SelectionItem.objects.exists()


class RateLimitTestCase(ApiTestCase):
    @override_settings(API_RATE_LIMIT="3/minute")
    def test_each_token_has_its_own_limit(self):
        answers = [self.api_get(self.viewer, "/api/v1/me").status_code for _ in range(4)]

        assert answers == [200, 200, 200, 429]
        refused = self.api_get(self.viewer, "/api/v1/me")
        assert int(refused["Retry-After"]) > 0
        assert refused.json()["detail"].startswith("Too many requests with this token.")
        assert self.api_get(self.operator, "/api/v1/me").status_code == 200

    def test_without_redis_nothing_is_counted_and_nothing_refused(self):
        dead = {
            "BACKEND": "inventory.cache_backend.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "RETRY_AFTER": 60},
        }
        with override_settings(API_RATE_LIMIT="2/minute", CACHES={"default": dead}):
            answers = {self.api_get(self.viewer, "/api/v1/me").status_code for _ in range(5)}

        assert answers == {200}
