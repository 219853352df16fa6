"""The approval pages: asking from the confirmation page, the queue, deciding, the rules."""

import re
from decimal import Decimal

from inventory import api_client as api
from inventory.models import Action, ApprovalRules, Operation, PurchaseRequest
from inventory.services import approvals
from inventory.tests.base import BaseTestCase
from inventory.tests.tasks import run_queued_tasks

BUY = "POST /number/buy"


class ApprovalViewsTestCase(BaseTestCase):
    def setUp(self):
        self.offer = (
            api.default_client()
            .search_available(country="GB", type="landline-toll-free", size=1)
            .items[0]
        )
        ApprovalRules.objects.create(pk=1, purchase_above=Decimal("0.50"))
        self.confirm_url = (
            f"/catalogue/buy/?country=GB&type={self.offer.type}&msisdn={self.offer.msisdn}"
        )

    def confirmation_form(self) -> str:
        response = self.client.get(self.confirm_url)
        return re.search(r'name="offer" value="([^"]+)"', response.content.decode()).group(1)

    def asked(self) -> PurchaseRequest:
        self.login(self.operator)
        offer = self.confirmation_form()
        self.client.post("/catalogue/buy/confirm/", {"offer": offer, "reason": "Hotline."})
        return PurchaseRequest.objects.get()


class AskingTestCase(ApprovalViewsTestCase):
    def test_the_confirmation_page_says_the_purchase_needs_approval_and_asks_why(self):
        self.login(self.operator)

        response = self.client.get(self.confirm_url)

        self.assertContains(response, "This purchase needs approval.")
        self.assertContains(response, 'data-testid="ask-approval"')
        self.assertNotContains(response, 'data-testid="confirm-purchase"')

    def test_asking_with_a_reason_makes_a_request_and_no_api_call(self):
        self.login(self.operator)
        offer = self.confirmation_form()

        response = self.client.post(
            "/catalogue/buy/confirm/", {"offer": offer, "reason": "A hotline."}, follow=True
        )

        request = PurchaseRequest.objects.get()
        self.assertRedirects(response, f"/approvals/{request.pk}/")
        self.assertContains(response, "Asked for approval")
        self.assertContains(response, "A hotline.")
        assert self.sandbox.calls(BUY) == 0

    def test_asking_without_a_reason_shows_the_page_again_and_makes_nothing(self):
        self.login(self.operator)
        offer = self.confirmation_form()

        response = self.client.post("/catalogue/buy/confirm/", {"offer": offer, "reason": ""})

        assert response.status_code == 400
        self.assertContains(response, "Say why it is needed", status_code=400)
        assert not PurchaseRequest.objects.exists()
        assert self.sandbox.calls(BUY) == 0

    def test_a_purchase_held_back_after_the_page_was_shown_is_not_bought(self):
        ApprovalRules.objects.filter(pk=1).update(purchase_above=None)
        self.login(self.operator)
        offer = self.confirmation_form()  # no rule when shown
        ApprovalRules.objects.filter(pk=1).update(purchase_above=Decimal("0.50"))

        response = self.client.post("/catalogue/buy/confirm/", {"offer": offer})

        assert response.status_code == 400
        self.assertContains(response, "This purchase needs approval.", status_code=400)
        assert self.sandbox.calls(BUY) == 0


class DecidingTestCase(ApprovalViewsTestCase):
    def test_the_queue_lists_waiting_requests_for_approvers(self):
        request = self.asked()
        self.login(self.approver)

        response = self.client.get("/approvals/")

        self.assertContains(response, f"Request #{request.pk}")
        self.assertContains(response, "olivia")

    def test_the_requester_sees_no_decision_buttons_and_a_post_is_refused(self):
        request = self.asked()
        self.operator.groups.add(*self.approver.groups.all())

        page = self.client.get(f"/approvals/{request.pk}/")
        self.assertContains(page, "someone else decides on it")
        self.assertNotContains(page, 'data-testid="approve"')
        response = self.client.post(f"/approvals/{request.pk}/approve/", follow=True)

        self.assertContains(response, "someone else has to decide")
        request.refresh_from_db()
        assert request.status == PurchaseRequest.Status.PENDING

    def test_an_operator_without_the_approver_role_may_not_approve(self):
        request = self.asked()
        self.login(self.viewer)

        assert self.client.post(f"/approvals/{request.pk}/approve/").status_code == 403

    def test_an_approver_approves_and_the_task_buys_the_number_once(self):
        request = self.asked()
        self.login(self.approver)

        response = self.client.post(
            f"/approvals/{request.pk}/approve/", {"reason": "OK for support."}, follow=True
        )
        self.assertContains(response, "Approved: the purchase is queued")
        run_queued_tasks()

        page = self.client.get(f"/approvals/{request.pk}/")
        self.assertContains(page, "Carried out")
        self.assertContains(page, "Purchase approved")
        self.assertContains(page, "OK for support.")
        assert self.sandbox.calls(BUY) == 1

    def test_rejecting_without_a_reason_is_refused_with_a_message(self):
        request = self.asked()
        self.login(self.approver)

        response = self.client.post(f"/approvals/{request.pk}/reject/", {"reason": ""}, follow=True)

        self.assertContains(response, "Say why you reject it")
        request.refresh_from_db()
        assert request.status == PurchaseRequest.Status.PENDING

    def test_the_state_follows_the_request_for_the_page(self):
        request = self.asked()
        approvals.purchase_request_approve(actor=self.actor(self.approver), request_id=request.pk)

        state = self.client.get(f"/approvals/{request.pk}/state.json").json()
        assert state["state"] == "running"
        run_queued_tasks()
        state = self.client.get(f"/approvals/{request.pk}/state.json").json()
        assert state["state"] == "done"
        assert state["done_url"] == f"/approvals/{request.pk}/"


class RulesPageTestCase(BaseTestCase):
    def test_a_superuser_sets_the_rules_and_the_change_is_audited(self):
        self.login(self.superuser)

        response = self.client.post(
            "/approvals/rules/", {"purchase_above": "100", "bulk_above": "5"}, follow=True
        )

        self.assertContains(response, "Approval rules saved.")
        rules = ApprovalRules.objects.get()
        assert (rules.purchase_above, rules.bulk_above, rules.over_budget) == (100, 5, False)
        assert Operation.objects.filter(action=Action.APPROVAL_RULES).count() == 1

    def test_a_bad_amount_is_refused_in_words(self):
        self.login(self.superuser)

        response = self.client.post("/approvals/rules/", {"purchase_above": "-3"})

        assert response.status_code == 400
        self.assertContains(response, "The rules were not saved", status_code=400)
        assert not ApprovalRules.objects.exists()

    def test_approvers_cannot_change_the_rules(self):
        self.login(self.approver)

        assert self.client.post("/approvals/rules/", {"purchase_above": "1"}).status_code == 403
        assert not ApprovalRules.objects.exists()
