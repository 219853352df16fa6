"""The purchase journey: confirmation page, confirm, and the operation page."""

import re

from inventory import api_client as api
from inventory.models import Operation, Outcome, OwnedNumber
from inventory.tests.base import BaseTestCase

BUY = "POST /number/buy"


class PurchaseTestCase(BaseTestCase):
    def setUp(self):
        self.offer = api.default_client().search_available(country="GB", size=1).items[0]
        self.confirm_url = (
            f"/catalogue/buy/?country=GB&type={self.offer.type}&msisdn={self.offer.msisdn}"
        )

    def confirmation_form(self):
        response = self.client.get(self.confirm_url)
        assert response.status_code == 200
        return re.search(r'name="offer" value="([^"]+)"', response.content.decode()).group(1)

    def test_the_confirmation_page_shows_the_number_and_what_it_costs(self):
        self.login(self.operator)
        response = self.client.get(self.confirm_url)
        self.assertContains(response, f"€{self.offer.cost:.2f}")
        self.assertContains(response, f"€{self.offer.initial_price:.2f}")
        self.assertContains(response, "United Kingdom")
        assert self.sandbox.calls(BUY) == 0

    def test_the_confirmation_page_says_what_the_number_cannot_do(self):
        toll_free = (
            api.default_client()
            .search_available(country="GB", type="landline-toll-free", size=1)
            .items[0]
        )
        self.login(self.operator)

        response = self.client.get(
            f"/catalogue/buy/?country=GB&type={toll_free.type}&msisdn={toll_free.msisdn}"
        )

        self.assertContains(response, "Voice: inbound only (domestic)")

    def test_confirming_buys_the_number_and_shows_the_outcome(self):
        self.login(self.operator)
        offer = self.confirmation_form()

        response = self.client.post("/catalogue/buy/confirm/", {"offer": offer}, follow=True)

        self.assertContains(response, "The number is yours")
        self.assertContains(response, f"€{self.offer.cost:.2f} a month")
        assert OwnedNumber.objects.filter(msisdn=self.offer.msisdn).exists()
        assert self.sandbox.calls(BUY) == 1

    def test_a_resubmitted_form_shows_the_first_outcome_and_buys_once(self):
        self.login(self.operator)
        offer = self.confirmation_form()

        first = self.client.post("/catalogue/buy/confirm/", {"offer": offer})
        again = self.client.post("/catalogue/buy/confirm/", {"offer": offer})

        assert first["Location"] == again["Location"]
        assert Operation.objects.filter(msisdn=self.offer.msisdn).count() == 1
        assert self.sandbox.calls(BUY) == 1

    def test_a_tampered_price_is_refused(self):
        self.login(self.operator)
        offer = self.confirmation_form().replace(":", ";", 1)
        response = self.client.post("/catalogue/buy/confirm/", {"offer": offer}, follow=True)
        self.assertContains(response, "could not be verified")
        assert self.sandbox.calls(BUY) == 0

    def test_a_number_no_longer_on_sale_sends_the_user_back_with_a_message(self):
        self.login(self.operator)
        response = self.client.get(
            "/catalogue/buy/?country=GB&type=mobile-lvn&msisdn=447700900999", follow=True
        )
        self.assertContains(response, "is no longer on sale")

    def test_a_malformed_number_sends_the_user_back_with_a_message(self):
        self.login(self.operator)
        response = self.client.get(
            "/catalogue/buy/?country=GB&type=mobile-lvn&msisdn=12ab", follow=True
        )
        self.assertContains(response, "not a complete international number")

    def test_a_viewer_is_refused_with_403_and_nothing_is_bought(self):
        self.login(self.operator)
        offer = self.confirmation_form()
        self.login(self.viewer)

        assert self.client.get(self.confirm_url).status_code == 403
        assert self.client.post("/catalogue/buy/confirm/", {"offer": offer}).status_code == 403
        assert self.sandbox.calls(BUY) == 0

    def test_buying_needs_a_post(self):
        self.login(self.operator)
        assert self.client.get("/catalogue/buy/confirm/").status_code == 405

    def test_a_failed_purchase_shows_the_reason(self):
        self.login(self.operator)
        offer = self.confirmation_form()
        self.sandbox.change_account(
            add=[{"country": "GB", "msisdn": self.offer.msisdn, "type": self.offer.type,
                  "features": list(self.offer.features)}]
        )  # fmt: skip
        response = self.client.post("/catalogue/buy/confirm/", {"offer": offer}, follow=True)
        self.assertContains(response, "The account already owns this number.")
        assert response.context["entry"].outcome == Outcome.FAILED
