"""An operation whose process stopped mid-call: shown on home as interrupted, its own user
told so on a retry, and settled from the account without sending anything again."""

from datetime import timedelta

from django.test import override_settings

from inventory import api_client as api
from inventory.audit import audit_append
from inventory.models import Action, Outcome, OwnedNumber
from inventory.services import workers
from inventory.services.operations import OperationRefused
from inventory.services.purchase import number_purchase
from inventory.tests.base import BaseTestCase
from inventory.tests.tasks import run_queued_tasks

BUY = "POST /number/buy"


# Any pending entry counts as long stale: the trail's times cannot be moved back.
@override_settings(PENDING_STALE_AFTER=timedelta(0))
class InterruptedOperationTestCase(BaseTestCase):
    def setUp(self):
        self.offer = api.default_client().search_available(country="GB", size=1).items[0]
        # As a killed worker leaves it: claimed, maybe sent, never recorded.
        self.entry = audit_append(
            action=Action.PURCHASE,
            actor=self.actor(self.operator),
            country="GB",
            msisdn=self.offer.msisdn,
            form_token="killed",
        )

    def test_home_shows_it_as_interrupted_and_settling(self):
        self.login(self.operator)
        response = self.client.get("/")
        self.assertContains(response, "Interrupted, settling")
        self.assertContains(response, f"/operations/{self.entry.pk}/")

    def test_its_own_user_retrying_is_told_it_was_interrupted(self):
        try:
            number_purchase(actor=self.actor(self.operator), offer=self.offer, form_token="again")
        except OperationRefused as refused:
            message = str(refused)
        assert "Your earlier purchase of this number was interrupted" in message
        assert self.sandbox.calls(BUY) == 0

    def test_a_worker_marks_it_unknown_and_settles_it_from_the_account(self):
        api.default_client().buy(country="GB", msisdn=self.offer.msisdn)  # it had gone through

        workers.worker_housekeeping()
        run_queued_tasks()

        self.entry.refresh_from_db()
        assert self.entry.outcome == Outcome.UNKNOWN
        assert self.entry.final_outcome == Outcome.SUCCEEDED
        assert OwnedNumber.objects.filter(msisdn=self.offer.msisdn).exists()
        assert self.sandbox.calls(BUY) == 1  # the test's own, nothing re-sent
