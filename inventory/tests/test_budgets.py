"""Budgets: set by superusers (audited); every buy confirmation says where the monthly spend
would stand; a purchase over a budget, single or bulk, is refused with that sentence and
sends nothing."""

import re
from decimal import Decimal

from inventory import api_client as api
from inventory.audit import audit_append
from inventory.models import (
    Action,
    Batch,
    Budget,
    Event,
    Notification,
    Operation,
    Outcome,
    OwnedNumber,
)
from inventory.services import pricing
from inventory.services.operations import OperationRefused
from inventory.services.purchase import number_purchase
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import owned_number
from inventory.tests.tasks import run_queued_tasks

BUY = "POST /number/buy"


def budget(amount: str, team: str = "") -> Budget:
    return Budget.objects.create(team=team, monthly_amount=Decimal(amount))


class BudgetCheckTestCase(BaseTestCase):
    def setUp(self):
        owned_number("447700900001", monthly_cost=Decimal("9.50"), team="Sales")
        self.offer = api.default_client().search_available(country="GB", size=1).items[0]
        assert self.offer.cost == Decimal("0.90")

    def test_the_sentence_says_what_the_spend_becomes_against_which_budget(self):
        budget("100")
        budget("10", team="Sales")
        assert pricing.budget_sentence(adding=self.offer.cost) == (
            "This brings the monthly spend to €10.40 of the €100.00 budget."
        )
        assert pricing.budget_refusal(adding=self.offer.cost, team="Sales") == (
            "This brings the monthly spend of Sales to €10.40 of the €10.00 budget. "
            "That is over the budget, so nothing was bought."
        )
        assert pricing.budget_refusal(adding=self.offer.cost, team="Support") == ""

    def test_without_a_budget_nothing_is_refused_and_the_spend_is_still_said(self):
        assert pricing.budget_refusal(adding=Decimal("1000")) == ""
        assert pricing.budget_sentence(adding=self.offer.cost) == (
            "This brings the monthly spend to €10.40; no budget is set."
        )

    def test_a_purchase_over_the_budget_is_refused_recorded_and_sends_nothing(self):
        budget("10")
        with self.assertRaisesMessage(OperationRefused, "of the €10.00 budget"):
            number_purchase(actor=self.actor(self.operator), offer=self.offer, form_token="t")
        assert self.sandbox.calls(BUY) == 0
        refusal = Operation.objects.get(action=Action.PURCHASE)
        assert refusal.outcome == Outcome.FAILED
        assert refusal.reason.startswith("This brings the monthly spend to €10.40")

    def test_purchases_in_progress_count_against_the_budget(self):
        budget("11")
        # A purchase of €1.00 is under way: claimed, not answered yet.
        audit_append(
            action=Action.PURCHASE,
            actor=self.actor(self.operator),
            country="GB",
            msisdn="447700900777",
            monthly_cost=Decimal("1.00"),
        )
        assert "€11.40 of the €11.00" in pricing.budget_refusal(adding=self.offer.cost)


class BudgetPagesTestCase(BaseTestCase):
    def test_the_buy_confirmation_says_where_the_spend_would_stand(self):
        budget("50")
        budget("5", team="Sales")
        self.login(self.operator)
        offer = api.default_client().search_available(country="GB", type="mobile-lvn", size=1)
        msisdn = offer.items[0].msisdn
        page = self.client.get(
            "/catalogue/buy/", {"country": "GB", "type": "mobile-lvn", "msisdn": msisdn}
        )
        self.assertContains(page, "This brings the monthly spend to €0.90 of the €50.00 budget.")
        self.assertContains(page, "Bought for Sales: this brings the monthly spend of Sales")

    def test_a_single_buy_over_budget_shows_the_sentence_and_calls_nothing(self):
        budget("0.50")
        self.login(self.operator)
        offer = api.default_client().search_available(country="GB", type="mobile-lvn", size=1)
        msisdn = offer.items[0].msisdn
        page = self.client.get(
            "/catalogue/buy/", {"country": "GB", "type": "mobile-lvn", "msisdn": msisdn}
        )
        signed = re.search(r'name="offer" value="([^"]+)"', page.content.decode()).group(1)
        response = self.client.post("/catalogue/buy/confirm/", {"offer": signed}, follow=True)
        self.assertContains(response, "This brings the monthly spend to €0.90 of the €0.50 budget.")
        assert self.sandbox.calls(BUY) == 0
        assert not OwnedNumber.objects.exists()

    def test_a_bulk_buy_over_budget_is_refused_at_confirmation_with_no_call(self):
        budget("1.00", team="Sales")
        self.login(self.operator)
        page = self.client.get("/catalogue/?country=GB&type=mobile-lvn&size=10")
        picks = re.findall(r'name="picks" value="([^"]+)"', page.content.decode())[:2]
        self.client.post("/catalogue/selection/add/", {"picks": picks, "back": "/catalogue/"})
        batch = self.client.post("/catalogue/selection/review/", follow=True).context["batch"]
        run_queued_tasks()
        review = self.client.get(f"/batches/{batch.pk}/")
        self.assertContains(
            review, "Bought for Sales: this brings the monthly spend of Sales to €1.80"
        )

        response = self.client.post(f"/batches/{batch.pk}/confirm/", {"team": "Sales"}, follow=True)

        self.assertContains(
            response, "This brings the monthly spend of Sales to €1.80 of the €1.00 budget."
        )
        batch.refresh_from_db()
        assert batch.status == Batch.Status.REVIEW
        assert "team" not in batch.changes
        run_queued_tasks()
        assert self.sandbox.calls(BUY) == 0
        refused = Operation.objects.get(action=Action.BATCH)
        assert refused.outcome == Outcome.FAILED

        self.client.post(f"/batches/{batch.pk}/confirm/", {"team": "Support"})
        run_queued_tasks()
        assert self.sandbox.calls(BUY) == 2
        assert set(OwnedNumber.objects.values_list("team", flat=True)) == {"Support"}

    def test_only_a_superuser_sets_budgets_and_each_change_is_audited(self):
        self.login(self.operator)
        assert self.client.post("/budgets/", {"team": "", "amount": "10"}).status_code == 403
        self.login(self.superuser)
        self.client.post("/budgets/", {"team": "", "amount": "€1234,50"})
        self.client.post("/budgets/", {"team": "Sales", "amount": "20"})
        self.client.post("/budgets/", {"team": "Sales", "amount": ""})
        assert dict(Budget.objects.values_list("team", "monthly_amount")) == {
            "": Decimal("1234.50")
        }
        reasons = list(
            Operation.objects.filter(action=Action.BUDGET)
            .order_by("seq")
            .values_list("reason", flat=True)
        )
        assert reasons == [
            "The overall budget was set to €1,234.50 a month.",
            "The budget of Sales was set to €20.00 a month.",
            "The budget of Sales was removed.",
        ]

    def test_a_budget_that_is_not_an_amount_is_refused_in_words(self):
        self.login(self.superuser)
        response = self.client.post("/budgets/", {"team": "", "amount": "lots"})
        assert response.status_code == 400
        self.assertContains(response, "is not an amount such as 1.25", status_code=400)
        assert not Budget.objects.exists()

    def test_the_dashboard_shows_each_budget_and_warns_when_one_is_over(self):
        owned_number("447700900001", monthly_cost=Decimal("9.50"), team="Sales")
        budget("100")
        budget("5", team="Sales")
        self.login(self.viewer)
        page = self.client.get("/")
        self.assertContains(page, "The whole account: €9.50 of €100.00 a month")
        self.assertContains(page, "Sales spends €9.50 a month, over its budget of €5.00")


class BudgetWarningTestCase(BaseTestCase):
    def test_a_team_past_eighty_percent_is_told_once(self):
        budget("10.00", team="Sales")
        owned_number("447700900123", team="Sales", monthly_cost=Decimal("8.50"))

        with self.captureOnCommitCallbacks(execute=True):
            assert pricing.budgets_watch() == 1
            pricing.budgets_watch()
        run_queued_tasks()

        told = Notification.objects.filter(event=Event.BUDGET_80)
        assert told.count() == 1
        assert "Sales" in told.get().subject
