"""The edges of the operation protocol: answers that arrive late, work that overlaps a sync,
operations cut short, and settings the API accepts but never shows."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from inventory import api_client as api
from inventory.audit import Actor, audit_append, audit_complete
from inventory.models import Action, Operation, Outcome, OwnedNumber, SyncRun
from inventory.services.configure import number_configure
from inventory.services.purchase import number_purchase
from inventory.services.sync import Listing, _reconcile, listing_stage, owned_numbers_sync
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import owned_number

BUY = "POST /number/buy"


class LateEffectTestCase(BaseTestCase):
    """A lost answer may still take effect at the provider: "not there" is trusted only
    after the grace period; "there" at once."""

    def setUp(self):
        self.client_api = api.default_client()
        self.offer = self.client_api.search_available(country="GB", size=1).items[0]

    def buy(self):
        return number_purchase(
            client=self.client_api, actor=self.actor(self.operator), offer=self.offer,
            form_token="late",
        )  # fmt: skip

    def sync(self):
        return owned_numbers_sync(client=self.client_api, actor=Actor.system("tests"))

    @override_settings(SETTLE_GRACE=timedelta(minutes=5))
    def test_an_absent_number_right_after_a_lost_answer_is_not_yet_settled_as_not_bought(self):
        self.sandbox.fault(BUY, "error", status=502)

        entry = self.buy()
        self.sync()

        assert entry.final_outcome == Outcome.UNKNOWN
        assert not Operation.objects.filter(action=Action.SETTLE).exists()

    @override_settings(SETTLE_GRACE=timedelta(minutes=5))
    def test_a_number_that_shows_up_later_is_settled_as_bought_by_the_next_sync(self):
        self.sandbox.fault(BUY, "error", status=502)
        entry = self.buy()
        # The provider completes the purchase after the portal gave up on the answer.
        self.sandbox.change_account(
            add=[{"country": "GB", "msisdn": self.offer.msisdn, "type": self.offer.type,
                  "features": list(self.offer.features)}]
        )  # fmt: skip

        self.sync()

        assert entry.final_outcome == Outcome.SUCCEEDED
        assert OwnedNumber.objects.get(msisdn=self.offer.msisdn).monthly_cost == self.offer.cost
        assert not Operation.objects.filter(action=Action.DRIFT_APPEARED).exists()

    def test_once_the_grace_period_has_passed_an_absent_number_was_not_bought(self):
        self.sandbox.fault(BUY, "error", status=502)
        with override_settings(SETTLE_GRACE=timedelta(minutes=5)):
            entry = self.buy()

        self.sync()  # the test settings' grace period is zero: "later" is now

        assert entry.final_outcome == Outcome.FAILED


def staged(numbers: dict) -> Listing:
    """A complete listing of `numbers`, staged as a sync stages what it reads."""
    run = SyncRun.objects.create()
    listing_stage(run_id=run.pk, numbers=numbers.values())
    return Listing(run_id=run.pk, numbers=len(numbers), calls=1)


class OverlappingSyncTestCase(BaseTestCase):
    """A sync's listing is read over time; what the portal changed meanwhile is not undone."""

    def test_a_number_changed_while_the_listing_was_read_keeps_its_new_routing(self):
        listed_from = timezone.now()
        number = owned_number("447700900123", mo_http_url="https://new.example.com/in")
        entry = audit_append(action=Action.CONFIGURE, actor=self.actor(self.operator),
                             country="GB", msisdn=number.msisdn)  # fmt: skip
        audit_complete(entry, outcome=Outcome.SUCCEEDED)
        listing = {number.msisdn: api.OwnedNumber(
            country="GB", msisdn=number.msisdn, type="mobile-lvn", features=("SMS", "VOICE"),
            mo_http_url="https://old.example.com/in",
        )}  # fmt: skip

        drift = _reconcile(staged(listing), actor=Actor.system("tests"), baseline=False,
                           listed_from=listed_from)  # fmt: skip

        assert drift.changed == 0
        number.refresh_from_db()
        assert number.mo_http_url == "https://new.example.com/in"
        assert not Operation.objects.filter(action=Action.DRIFT_CHANGED).exists()

    def test_a_number_bought_while_the_listing_was_read_is_not_dropped(self):
        listed_from = timezone.now()
        owned_number("447700900456")
        entry = audit_append(action=Action.PURCHASE, actor=self.actor(self.operator),
                             country="GB", msisdn="447700900456")  # fmt: skip
        audit_complete(entry, outcome=Outcome.SUCCEEDED)

        drift = _reconcile(staged({}), actor=Actor.system("tests"), baseline=False,
                           listed_from=listed_from)  # fmt: skip

        assert drift.disappeared == 0
        assert OwnedNumber.objects.filter(msisdn="447700900456").exists()


class CutShortTestCase(BaseTestCase):
    def test_an_outcome_that_could_not_be_written_leaves_the_operation_visibly_pending(self):
        entry = audit_append(action=Action.PURCHASE, actor=self.actor(self.operator),
                             country="GB", msisdn="447700900789")  # fmt: skip
        audit_complete(Operation.objects.get(pk=entry.pk), outcome=Outcome.FAILED)

        with pytest.raises(RuntimeError):
            audit_complete(entry, outcome=Outcome.SUCCEEDED)

        assert entry.outcome == Outcome.PENDING  # the caller's safety net still sees it open

    @override_settings(PENDING_STALE_AFTER=timedelta(0))
    def test_a_sync_settles_an_operation_left_pending_by_a_dead_worker(self):
        self.sandbox.change_account(
            add=[{"country": "GB", "msisdn": "447700900321", "type": "mobile-lvn",
                  "features": ["SMS"]}]
        )  # fmt: skip
        entry = audit_append(action=Action.PURCHASE, actor=self.actor(self.operator),
                             country="GB", msisdn="447700900321")  # fmt: skip

        owned_numbers_sync(client=api.default_client(), actor=Actor.system("tests"))

        entry.refresh_from_db()
        assert entry.outcome == Outcome.UNKNOWN
        assert entry.final_outcome == Outcome.SUCCEEDED
        assert OwnedNumber.objects.filter(msisdn="447700900321").exists()


class WriteOnlySettingsTestCase(BaseTestCase):
    """moSmppSysType and voiceStatusCallback go to the API but never come back in a listing."""

    def setUp(self):
        client = api.default_client()
        offer = client.search_available(country="GB", type="mobile-lvn", size=1).items[0]
        client.buy(country="GB", msisdn=offer.msisdn)
        self.number = owned_number(offer.msisdn)

    def test_a_status_webhook_change_succeeds_and_survives_a_sync(self):
        entry = number_configure(
            client=api.default_client(), actor=self.actor(self.operator), msisdn=self.number.msisdn,
            changes={"voiceStatusCallback": "https://hooks.example.com/status",
                     "moHttpUrl": "https://hooks.example.com/sms"},
            form_token="status",
        )  # fmt: skip

        assert entry.outcome == Outcome.SUCCEEDED
        sent = self.sandbox.owned()[self.number.msisdn]
        assert sent["voiceStatusCallback"] == "https://hooks.example.com/status"
        owned_numbers_sync(client=api.default_client(), actor=Actor.system("tests"))
        self.number.refresh_from_db()
        assert self.number.voice_status_callback == "https://hooks.example.com/status"
        assert self.number.mo_http_url == "https://hooks.example.com/sms"
