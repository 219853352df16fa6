"""Protected numbers: no path cancels them (single, bulk, the service) until unprotected."""

from decimal import Decimal

import pytest

from inventory import api_client as api
from inventory.models import Action, Batch, BatchItem, Operation, Outcome, OwnedNumber
from inventory.services import batches, numbers
from inventory.services.cancel import number_cancel
from inventory.services.operations import OperationRefused
from inventory.tests.base import BaseTestCase
from inventory.tests.tasks import run_queued_tasks

CANCEL = "POST /number/cancel"
REASON = "Printed on the emergency leaflets"


class ProtectedNumberTestCase(BaseTestCase):
    def setUp(self):
        client = api.default_client()
        offers = client.search_available(country="NL", type="mobile-lvn", size=2).items
        self.numbers = []
        for offer in offers:
            client.buy(country="NL", msisdn=offer.msisdn)
            self.numbers.append(
                OwnedNumber.objects.create(
                    msisdn=offer.msisdn,
                    country="NL",
                    type="mobile-lvn",
                    monthly_cost=Decimal("4.50"),
                )
            )
        self.number, self.other = self.numbers
        self.msisdn = self.number.msisdn

    def protect(self):
        return numbers.number_protect(
            actor=self.actor(self.operator), number=self.number, reason=REASON
        )


class ProtectingTestCase(ProtectedNumberTestCase):
    def test_an_operator_protects_a_number_with_a_reason_and_it_is_audited(self):
        self.login(self.operator)

        response = self.client.post(
            f"/numbers/{self.msisdn}/protect/", {"reason": REASON}, follow=True
        )

        self.assertContains(response, "Protected")
        self.assertContains(response, REASON)
        self.number.refresh_from_db()
        assert self.number.is_protected
        assert self.number.protected_by == self.operator
        entry = Operation.objects.get(action=Action.PROTECT)
        assert (entry.msisdn, entry.actor_username) == (self.msisdn, "olivia")
        assert entry.after == {"protected": REASON}

    def test_protecting_needs_a_reason(self):
        self.login(self.operator)

        response = self.client.post(f"/numbers/{self.msisdn}/protect/", {"reason": " "})

        assert response.status_code == 400
        self.assertContains(response, "Fill in the reason for protecting it.", status_code=400)
        self.number.refresh_from_db()
        assert not self.number.is_protected

    def test_removing_the_protection_is_audited_and_allows_cancelling_again(self):
        self.protect()
        self.login(self.operator)

        self.client.post(f"/numbers/{self.msisdn}/unprotect/")

        self.number.refresh_from_db()
        assert not self.number.is_protected
        assert Operation.objects.get(action=Action.UNPROTECT).before == {"protected": REASON}
        number_cancel(
            actor=self.actor(self.operator),
            msisdn=self.msisdn,
            typed_msisdn=self.msisdn,
            form_token="after-unprotect",
        )
        assert self.sandbox.calls(CANCEL) == 1

    def test_a_viewer_cannot_protect(self):
        self.login(self.viewer)

        assert (
            self.client.post(f"/numbers/{self.msisdn}/protect/", {"reason": "x"}).status_code == 403
        )
        self.number.refresh_from_db()
        assert not self.number.is_protected

    def test_the_inventory_and_the_number_page_show_the_protection(self):
        self.protect()
        self.login(self.operator)

        self.assertContains(
            self.client.get("/inventory/"), f'data-testid="protected-{self.msisdn}"'
        )
        page = self.client.get(f"/numbers/{self.msisdn}/")
        self.assertContains(page, REASON)
        self.assertContains(page, 'data-testid="unprotect"')


class NoPathCancelsTestCase(ProtectedNumberTestCase):
    def setUp(self):
        super().setUp()
        self.protect()

    def test_the_cancel_page_says_it_is_protected_and_offers_no_form(self):
        self.login(self.operator)

        response = self.client.get(f"/numbers/{self.msisdn}/cancel/")

        self.assertContains(response, REASON)
        self.assertNotContains(response, 'data-testid="confirm-cancel"')

    def test_the_single_cancel_view_refuses_and_records_the_refusal(self):
        self.login(self.operator)

        response = self.client.post(
            f"/numbers/{self.msisdn}/cancel/",
            {"typed": self.msisdn, "token": "protected-1"},
            follow=True,
        )

        self.assertContains(response, "This number is protected")
        assert self.sandbox.calls(CANCEL) == 0
        assert OwnedNumber.objects.filter(msisdn=self.msisdn).exists()
        refusal = Operation.objects.get(action=Action.CANCEL)
        assert refusal.outcome == Outcome.FAILED
        assert REASON in refusal.reason

    def test_the_service_refuses(self):
        with pytest.raises(OperationRefused, match="protected"):
            number_cancel(
                actor=self.actor(self.superuser),
                msisdn=self.msisdn,
                typed_msisdn=self.msisdn,
                form_token="protected-2",
            )

        assert self.sandbox.calls(CANCEL) == 0

    def test_a_bulk_cancel_lists_protected_numbers_as_left_out_and_cancels_the_others(self):
        actor = self.actor(self.operator)
        batch = batches.cancel_batch_create(actor=actor, msisdns=[self.msisdn, self.other.msisdn])

        item = batch.items.get(msisdn=self.msisdn)
        assert item.state == BatchItem.State.EXCLUDED
        assert REASON in item.reason
        batches.batch_confirm(actor=actor, batch_id=batch.pk, typed="cancel 1")
        run_queued_tasks()

        batch.refresh_from_db()
        assert batch.status == Batch.Status.DONE
        assert self.sandbox.calls(CANCEL) == 1
        assert OwnedNumber.objects.filter(msisdn=self.msisdn).exists()
        assert not OwnedNumber.objects.filter(msisdn=self.other.msisdn).exists()

    def test_a_number_protected_after_the_bulk_cancel_was_prepared_is_left_out_too(self):
        actor = self.actor(self.operator)
        numbers.number_unprotect(actor=actor, number=self.number)
        batch = batches.cancel_batch_create(actor=actor, msisdns=[self.msisdn, self.other.msisdn])
        self.number.refresh_from_db()
        self.protect()

        batches.batch_confirm(actor=actor, batch_id=batch.pk, typed="cancel 1")
        run_queued_tasks()

        assert batch.items.get(msisdn=self.msisdn).state == BatchItem.State.EXCLUDED
        assert self.sandbox.calls(CANCEL) == 1
        assert OwnedNumber.objects.filter(msisdn=self.msisdn).exists()

    def test_a_number_protected_while_the_bulk_cancel_waits_for_the_worker_is_refused(self):
        actor = self.actor(self.operator)
        numbers.number_unprotect(actor=actor, number=self.number)
        batch = batches.cancel_batch_create(actor=actor, msisdns=[self.msisdn, self.other.msisdn])
        batches.batch_confirm(actor=actor, batch_id=batch.pk, typed="cancel 2")
        self.number.refresh_from_db()
        self.protect()

        run_queued_tasks()

        item = batch.items.get(msisdn=self.msisdn)
        assert item.state == BatchItem.State.FAILED
        assert "protected" in item.reason
        assert self.sandbox.calls(CANCEL) == 1
        assert OwnedNumber.objects.filter(msisdn=self.msisdn).exists()
