"""Four eyes on purchases: the rules, requests, decisions, and carrying out what was approved."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from inventory import api_client as api
from inventory.models import (
    Action,
    ApprovalRules,
    Batch,
    BatchItem,
    Operation,
    Outcome,
    OwnedNumber,
    PurchaseRequest,
)
from inventory.services import approvals, batches, workers
from inventory.services.approvals import ApprovalRefused, ApprovalRequired, RuleValues
from inventory.services.purchase import number_purchase
from inventory.tests.base import BaseTestCase
from inventory.tests.tasks import run_queued_tasks

BUY = "POST /number/buy"


class ApprovalTestCase(BaseTestCase):
    def setUp(self):
        self.api = api.default_client()
        # Toll-free numbers in the sandbox's catalogue cost something to set up.
        self.offer = self.api.search_available(
            country="GB", type="landline-toll-free", size=1
        ).items[0]
        self.first_payment = self.offer.initial_price + self.offer.cost

    def rules(self, **values):
        defaults = {"purchase_above": None, "over_budget": False, "bulk_above": None}
        approvals.approval_rules_set(
            actor=self.actor(self.superuser), values=RuleValues(**{**defaults, **values})
        )

    def hold_back_this_offer(self):
        self.rules(purchase_above=self.first_payment - Decimal("0.01"))

    def ask(self, *, offer=None, reason="The support line needs a free number.", token="f-1"):
        offer = offer or self.offer
        rule = approvals.purchase_needs_approval(
            actor=self.actor(self.operator), count=1, setup=offer.initial_price, monthly=offer.cost
        )
        assert rule
        return approvals.purchase_request_create(
            actor=self.actor(self.operator),
            offers=[offer],
            rule=rule,
            reason=reason,
            form_token=token,
        )

    def approve(self, request, by=None, reason="Fine."):
        return approvals.purchase_request_approve(
            actor=self.actor(by or self.approver), request_id=request.pk, reason=reason
        )


class RulesTestCase(ApprovalTestCase):
    def test_no_rule_holds_back_a_purchase_by_default(self):
        assert (
            approvals.purchase_needs_approval(
                actor=self.actor(self.operator), count=1, setup=Decimal(500), monthly=Decimal(500)
            )
            == ""
        )

    @override_settings(PURCHASE_APPROVAL_ABOVE=Decimal("10"))
    def test_the_amount_comes_from_the_configuration_until_a_superuser_sets_the_rules(self):
        rule = approvals.purchase_needs_approval(
            actor=self.actor(self.operator), count=1, setup=Decimal("8"), monthly=Decimal("4")
        )

        assert rule == (
            "Purchases above €10.00 (set-up and the first month) need approval: "
            "this one comes to €12.00."
        )
        self.rules(purchase_above=None)
        assert (
            approvals.purchase_needs_approval(
                actor=self.actor(self.operator), count=1, setup=Decimal("8"), monthly=Decimal("4")
            )
            == ""
        )

    def test_a_bulk_purchase_of_more_numbers_than_the_rule_allows_needs_approval(self):
        self.rules(bulk_above=3)

        def needs(count):
            return approvals.purchase_needs_approval(
                actor=self.actor(self.operator), count=count, setup=None, monthly=None
            )

        assert needs(3) == ""
        assert needs(4) == "Buying more than 3 numbers at once needs approval: this is 4."

    def test_changing_the_rules_is_in_the_audit_trail(self):
        self.rules(purchase_above=Decimal("25"), bulk_above=10)

        entry = Operation.objects.filter(action=Action.APPROVAL_RULES).latest("seq")
        assert entry.actor_username == "root"
        assert entry.after == {"purchase_above": "25", "over_budget": False, "bulk_above": 10}
        assert ApprovalRules.objects.get().bulk_above == 10


class RequestTestCase(ApprovalTestCase):
    def test_a_purchase_above_the_threshold_makes_no_api_call(self):
        self.hold_back_this_offer()

        with pytest.raises(ApprovalRequired) as needed:
            number_purchase(actor=self.actor(self.operator), offer=self.offer, form_token="t")

        assert "need approval" in str(needed.value)
        assert self.sandbox.calls(BUY) == 0
        assert not Operation.objects.filter(action=Action.PURCHASE).exists()

    def test_a_request_records_who_wants_which_number_at_which_price_and_why(self):
        self.hold_back_this_offer()

        request = self.ask()

        assert request.status == PurchaseRequest.Status.PENDING
        assert request.requester == self.operator
        item = request.items.get()
        assert (item.msisdn, item.setup_cost, item.monthly_cost) == (
            self.offer.msisdn,
            self.offer.initial_price,
            self.offer.cost,
        )
        entry = Operation.objects.get(action=Action.APPROVAL_REQUESTED)
        assert entry.msisdn == self.offer.msisdn
        assert entry.reason == "The support line needs a free number."
        assert entry.request["purchase_request"] == request.pk
        assert self.sandbox.calls(BUY) == 0

    def test_asking_without_a_reason_is_refused(self):
        self.hold_back_this_offer()

        with pytest.raises(ApprovalRequired):
            self.ask(reason="  ")

        assert not PurchaseRequest.objects.exists()

    def test_the_same_form_submitted_twice_makes_one_request(self):
        self.hold_back_this_offer()

        assert self.ask() == self.ask()
        assert PurchaseRequest.objects.count() == 1


class DecisionTestCase(ApprovalTestCase):
    def setUp(self):
        super().setUp()
        self.hold_back_this_offer()
        self.request = self.ask()

    def test_the_requester_cannot_approve_their_own_request(self):
        self.operator.groups.add(*self.approver.groups.all())  # even as an approver

        with pytest.raises(ApprovalRefused, match="someone else has to decide"):
            approvals.purchase_request_approve(
                actor=self.actor(self.operator), request_id=self.request.pk
            )

        self.request.refresh_from_db()
        assert self.request.status == PurchaseRequest.Status.PENDING
        run_queued_tasks()
        assert self.sandbox.calls(BUY) == 0

    def test_a_superuser_who_asked_cannot_approve_either(self):
        request = approvals.purchase_request_create(
            actor=self.actor(self.superuser),
            offers=[self.offer],
            rule="A rule.",
            reason="Mine.",
            form_token="root-1",
        )

        with pytest.raises(ApprovalRefused):
            approvals.purchase_request_approve(
                actor=self.actor(self.superuser), request_id=request.pk
            )

    def test_another_approver_approves_and_the_number_is_bought_with_exactly_one_call(self):
        request = self.approve(self.request, reason="Budgeted for Q1.")
        assert request.status == PurchaseRequest.Status.APPROVED
        assert self.sandbox.calls(BUY) == 0  # not in the request: by a task

        run_queued_tasks()

        request.refresh_from_db()
        assert request.status == PurchaseRequest.Status.DONE
        assert self.sandbox.calls(BUY) == 1
        number = OwnedNumber.objects.get(msisdn=self.offer.msisdn)
        assert number.purchased_by == self.operator
        purchase = Operation.objects.get(action=Action.PURCHASE)
        assert purchase.outcome == Outcome.SUCCEEDED
        assert purchase.actor_username == "olivia"
        assert request.items.get().operation == purchase
        approved = Operation.objects.get(action=Action.APPROVAL_APPROVED)
        assert (approved.actor_username, approved.reason) == ("amber", "Budgeted for Q1.")

    def test_running_the_approved_task_again_buys_nothing_more(self):
        self.approve(self.request)
        run_queued_tasks()

        approvals.purchase_request_run(request_id=self.request.pk)

        assert self.sandbox.calls(BUY) == 1

    def test_an_approved_purchase_whose_worker_died_is_settled_and_never_sent_twice(self):
        self.approve(self.request)
        run_queued_tasks()
        PurchaseRequest.objects.filter(pk=self.request.pk).update(
            status=PurchaseRequest.Status.APPROVED
        )  # as if the worker died before recording how it ended

        request = approvals.purchase_request_run(request_id=self.request.pk)

        assert request.status == PurchaseRequest.Status.DONE
        assert self.sandbox.calls(BUY) == 1

    def test_a_rejected_request_never_calls_the_api(self):
        approvals.purchase_request_reject(
            actor=self.actor(self.approver), request_id=self.request.pk, reason="Not this quarter."
        )

        run_queued_tasks()
        self.request.refresh_from_db()
        assert self.request.status == PurchaseRequest.Status.REJECTED
        assert self.request.decision_reason == "Not this quarter."
        assert self.sandbox.calls(BUY) == 0
        assert Operation.objects.get(action=Action.APPROVAL_REJECTED).reason == (
            "Not this quarter."
        )

    def test_rejecting_needs_a_reason(self):
        with pytest.raises(ApprovalRefused, match="Say why"):
            approvals.purchase_request_reject(
                actor=self.actor(self.approver), request_id=self.request.pk, reason=""
            )

    def test_a_request_is_decided_once(self):
        self.approve(self.request)

        with pytest.raises(ApprovalRefused, match="approved, buying already"):
            approvals.purchase_request_reject(
                actor=self.actor(self.superuser), request_id=self.request.pk, reason="No."
            )

    def test_an_expired_request_cannot_be_approved_and_never_calls_the_api(self):
        PurchaseRequest.objects.filter(pk=self.request.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )

        with pytest.raises(ApprovalRefused, match="expired"):
            self.approve(self.request)

        run_queued_tasks()
        self.request.refresh_from_db()
        assert self.request.status == PurchaseRequest.Status.EXPIRED
        assert self.sandbox.calls(BUY) == 0
        assert Operation.objects.filter(action=Action.APPROVAL_EXPIRED).count() == 1

    def test_the_workers_housekeeping_expires_requests_nobody_decided_on(self):
        PurchaseRequest.objects.filter(pk=self.request.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )

        workers.worker_housekeeping()
        workers.worker_housekeeping()

        self.request.refresh_from_db()
        assert self.request.status == PurchaseRequest.Status.EXPIRED
        assert Operation.objects.filter(action=Action.APPROVAL_EXPIRED).count() == 1
        run_queued_tasks()
        assert self.sandbox.calls(BUY) == 0

    def test_a_price_rise_between_request_and_approval_refuses_the_purchase(self):
        self.sandbox.set_price(
            country="GB",
            msisdn=self.offer.msisdn,
            cost=str(self.offer.cost + 1),
            initial_price=str(self.offer.initial_price),
        )
        self.approve(self.request)

        run_queued_tasks()

        self.request.refresh_from_db()
        assert self.request.status == PurchaseRequest.Status.REFUSED
        assert "The price of" in self.request.message
        assert "rose" in self.request.message
        assert self.sandbox.calls(BUY) == 0
        refused = Operation.objects.get(action=Action.APPROVAL_REFUSED)
        assert refused.outcome == Outcome.FAILED

    def test_a_price_fall_still_buys(self):
        self.sandbox.set_price(
            country="GB", msisdn=self.offer.msisdn, cost="0.10", initial_price="0.00"
        )
        self.approve(self.request)

        run_queued_tasks()

        self.request.refresh_from_db()
        assert self.request.status == PurchaseRequest.Status.DONE
        assert self.sandbox.calls(BUY) == 1

    def test_the_requester_can_withdraw_a_request_nobody_decided_on(self):
        approvals.purchase_request_withdraw(
            actor=self.actor(self.operator), request_id=self.request.pk
        )

        with pytest.raises(ApprovalRefused):
            self.approve(self.request)
        assert self.sandbox.calls(BUY) == 0


class BulkApprovalTestCase(ApprovalTestCase):
    def setUp(self):
        super().setUp()
        self.offers = list(self.api.search_available(country="GB", size=4).items)
        batches.selection_add(user=self.operator, offers=self.offers)
        batch = batches.purchase_batch_create(actor=self.actor(self.operator))
        self.batch = batches.batch_check(batch_id=batch.pk)
        self.rules(bulk_above=3)

    def confirm(self, reason="Four lines for the new office."):
        return batches.batch_confirm(
            actor=self.actor(self.operator), batch_id=self.batch.pk, reason=reason
        )

    def test_confirming_a_bulk_purchase_above_the_rule_asks_for_a_reason_and_buys_nothing(self):
        with pytest.raises(ApprovalRequired, match="more than 3 numbers"):
            self.confirm(reason="")

        self.batch.refresh_from_db()
        assert self.batch.status == Batch.Status.REVIEW
        assert not PurchaseRequest.objects.exists()

    def test_the_batch_waits_as_a_request_and_makes_no_api_call(self):
        batch = self.confirm()

        assert batch.status == Batch.Status.APPROVAL
        request = PurchaseRequest.objects.get(batch=batch)
        assert request.count == 4
        assert request.setup_cost == sum(o.initial_price for o in self.offers)
        run_queued_tasks()
        assert self.sandbox.calls(BUY) == 0

    def test_an_approved_bulk_request_becomes_a_confirmed_batch_with_one_call_per_number(self):
        self.confirm()
        request = PurchaseRequest.objects.get(batch=self.batch)

        self.approve(request)
        run_queued_tasks()

        self.batch.refresh_from_db()
        assert self.batch.status == Batch.Status.DONE
        assert self.sandbox.calls(BUY) == 4
        confirmation = Operation.objects.get(action=Action.BATCH)
        assert confirmation.request["purchase_request"] == request.pk
        request.refresh_from_db()
        assert request.status == PurchaseRequest.Status.DONE

    def test_a_number_dearer_at_approval_is_left_out_of_the_bulk_purchase(self):
        self.confirm()
        request = PurchaseRequest.objects.get(batch=self.batch)
        dearer = self.offers[0]
        self.sandbox.set_price(
            country="GB", msisdn=dearer.msisdn, cost="99.00", initial_price="0.00"
        )

        self.approve(request)
        run_queued_tasks()

        item = self.batch.items.get(msisdn=dearer.msisdn)
        assert item.state == BatchItem.State.EXCLUDED
        assert "rose since it was approved" in item.reason
        assert self.sandbox.calls(BUY) == 3

    def test_a_rejected_bulk_request_discards_the_batch(self):
        self.confirm()
        request = PurchaseRequest.objects.get(batch=self.batch)

        approvals.purchase_request_reject(
            actor=self.actor(self.approver), request_id=request.pk, reason="Too many."
        )

        self.batch.refresh_from_db()
        assert self.batch.status == Batch.Status.DISCARDED
        run_queued_tasks()
        assert self.sandbox.calls(BUY) == 0

    def test_discarding_the_waiting_batch_withdraws_its_request(self):
        self.confirm()

        batches.batch_stop(actor=self.actor(self.operator), batch_id=self.batch.pk)

        request = PurchaseRequest.objects.get(batch=self.batch)
        assert request.status == PurchaseRequest.Status.WITHDRAWN
        self.batch.refresh_from_db()
        assert self.batch.status == Batch.Status.DISCARDED
