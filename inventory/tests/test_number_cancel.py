"""Cancelling a number takes its full number typed, and keeps its history."""

from decimal import Decimal

from inventory import api_client as api
from inventory.models import Action, Operation, Outcome, OwnedNumber
from inventory.tests.base import BaseTestCase, make_user
from inventory.tests.factories import owned_number

CANCEL = "POST /number/cancel"


class NumberCancelTestCase(BaseTestCase):
    def setUp(self):
        client = api.default_client()
        offer = client.search_available(country="NL", type="mobile-lvn", size=1).items[0]
        client.buy(country="NL", msisdn=offer.msisdn)
        self.msisdn = offer.msisdn
        OwnedNumber.objects.create(
            msisdn=self.msisdn, country="NL", type="mobile-lvn", monthly_cost=Decimal("4.50"),
            mo_http_url="https://hooks.example.com/in",
        )  # fmt: skip
        self.url = f"/numbers/{self.msisdn}/cancel/"

    def cancel(self, typed):
        self.login(self.operator)
        token = self.client.get(self.url).context["form"]["token"].value()
        return self.client.post(self.url, {"typed": typed, "token": token}, follow=True)

    def test_the_page_shows_what_the_number_is_connected_to_and_the_saving(self):
        self.login(self.operator)
        response = self.client.get(self.url)
        self.assertContains(response, "https://hooks.example.com/in")
        self.assertContains(response, "€4.50")

    def test_it_is_refused_unless_the_typed_number_matches_exactly(self):
        for typed in (self.msisdn[:-1], self.msisdn + "0", "31", ""):
            response = self.cancel(typed)
            assert response.status_code == 200
            assert OwnedNumber.objects.filter(msisdn=self.msisdn).exists()
        assert self.sandbox.calls(CANCEL) == 0

    def test_typing_it_in_full_cancels_it_and_keeps_its_history(self):
        response = self.cancel(f"+{self.msisdn[:2]} {self.msisdn[2:]}")

        assert response.context["entry"].outcome == Outcome.SUCCEEDED
        assert not OwnedNumber.objects.filter(msisdn=self.msisdn).exists()
        assert self.msisdn not in self.sandbox.owned()
        assert self.sandbox.calls(CANCEL) == 1
        entry = Operation.objects.get(action=Action.CANCEL)
        assert entry.monthly_cost == Decimal("4.50")
        assert entry.before["moHttpUrl"] == "https://hooks.example.com/in"
        history = self.client.get(f"/numbers/{self.msisdn}/")
        self.assertContains(history, "not in the account now")
        self.assertContains(history, "Cancellation")

    def test_a_number_already_gone_is_explained(self):
        self.sandbox.change_account(remove=[self.msisdn])
        response = self.cancel(self.msisdn)
        entry = response.context["entry"]
        assert entry.outcome == Outcome.FAILED
        assert "no longer owns this number" in entry.reason

    def test_a_viewer_is_refused_with_403_and_no_call(self):
        self.login(self.viewer)
        assert self.client.get(self.url).status_code == 403
        assert self.client.post(self.url, {"typed": self.msisdn}).status_code == 403
        assert self.sandbox.calls(CANCEL) == 0

    def test_a_resubmitted_cancellation_shows_its_first_outcome(self):
        self.login(self.operator)
        token = self.client.get(self.url).context["form"]["token"].value()
        first = self.client.post(self.url, {"typed": self.msisdn, "token": token})
        again = self.client.post(self.url, {"typed": self.msisdn, "token": token})

        assert again.status_code == 302
        assert again["Location"] == first["Location"]
        assert self.sandbox.calls(CANCEL) == 1

    def test_a_form_token_someone_else_used_is_refused_politely(self):
        self.login(self.operator)
        token = self.client.get(self.url).context["form"]["token"].value()
        self.client.post(self.url, {"typed": self.msisdn, "token": token})
        other_number = owned_number("447700900123")
        self.login(make_user("oscar", "Operator"))

        response = self.client.post(
            f"/numbers/{other_number.msisdn}/cancel/",
            {"typed": other_number.msisdn, "token": token},
            follow=True,
        )

        self.assertContains(response, "already been used")
        assert self.sandbox.calls(CANCEL) == 1
        assert OwnedNumber.objects.filter(msisdn=other_number.msisdn).exists()
