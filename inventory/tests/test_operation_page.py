"""An operation's page says how it ended in words; the API's own answer is a detail."""

from decimal import Decimal

from inventory.audit import audit_append
from inventory.models import Action, Outcome
from inventory.tests.base import BaseTestCase


class OperationPageTestCase(BaseTestCase):
    def entry(self, **fields):
        return audit_append(
            action=Action.PURCHASE,
            actor=self.actor(self.operator),
            country="GB",
            msisdn="447700900123",
            monthly_cost=Decimal("1.25"),
            **fields,
        )

    def test_the_providers_answer_is_a_technical_detail(self):
        entry = self.entry(
            outcome=Outcome.SUCCEEDED,
            http_status=200,
            provider_code="200",
            provider_label="success",
            duration_ms=120,
        )
        self.login(self.operator)

        page = self.client.get(f"/operations/{entry.pk}/").content.decode()

        words, details = page.split("<summary>Technical details</summary>")
        assert "The number is yours" in words
        assert "200 200 success" not in page
        assert "Provider's answer" not in page
        assert "HTTP status <code>200</code>" in details

    def test_a_lost_answer_reads_without_the_exception_name(self):
        entry = self.entry(
            outcome=Outcome.UNKNOWN,
            reason="The request was sent but its answer was lost (ReadTimeout); it may or may "
            "not have taken effect.",
        )
        self.login(self.operator)

        page = self.client.get(f"/operations/{entry.pk}/").content.decode()

        words = page.split("<summary>Technical details</summary>")[0]
        assert "(ReadTimeout)" not in words
        assert "its answer was lost; it may or may not" in words

    def test_back_to_the_catalogue_returns_to_the_last_search(self):
        self.login(self.operator)
        self.client.get("/catalogue/", {"country": "GB", "type": "mobile-lvn", "features": "SMS"})
        entry = self.entry(outcome=Outcome.SUCCEEDED)

        response = self.client.get(f"/operations/{entry.pk}/")

        self.assertContains(response, "/catalogue/?country=GB&amp;type=mobile-lvn&amp;features=SMS")
