"""The home page: the API connection, the inventory at a glance, what needs attention."""

from decimal import Decimal

from inventory.audit import audit_append
from inventory.models import Action, Outcome
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import owned_number


class HomeTestCase(BaseTestCase):
    def test_it_shows_the_api_connection_with_a_live_token_and_quota(self):
        self.login(self.viewer)
        response = self.client.get("/")
        self.assertContains(response, "Token fetched")
        self.assertContains(response, "POST token endpoint")
        assert self.sandbox.calls("POST /oauth/client_credential/accesstoken") == 1

    def test_it_says_when_no_token_can_be_had(self):
        self.sandbox.reset(client_secret="rotated-elsewhere")
        self.login(self.viewer)
        self.assertContains(self.client.get("/"), "could not get an access token")

    def test_it_shows_the_inventory_at_a_glance(self):
        owned_number("447700900123", monthly_cost=Decimal("1.25"))
        self.login(self.viewer)
        response = self.client.get("/")
        assert response.context["overview"].summary.count == 1
        self.assertContains(response, "€1.25 a month")
        self.assertContains(response, "never")

    def test_unknown_outcomes_need_attention_until_settled(self):
        audit_append(action=Action.PURCHASE, actor=self.actor(self.operator), country="GB",
                     msisdn="447700900123", outcome=Outcome.UNKNOWN)  # fmt: skip
        self.login(self.operator)
        response = self.client.get("/")
        self.assertContains(response, "Needs attention")
        self.assertContains(response, "+44 7700 900123")

    def test_an_auditor_sees_the_connection_but_not_the_inventory(self):
        self.login(self.auditor)
        response = self.client.get("/")
        assert response.status_code == 200
        assert "overview" not in response.context
