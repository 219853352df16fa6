"""POST /api/v1/purchases: a number bought at no more than the script agreed to pay, once per
Idempotency-Key, with the same audit entries as a purchase in the portal's pages."""

from decimal import Decimal

from inventory import api_client as api
from inventory.models import (
    Action,
    ApprovalRules,
    IdempotencyKey,
    Operation,
    Outcome,
    OwnedNumber,
)
from inventory.tests.base import ApiTestCase

BUY = "POST /number/buy"
SEARCH = "GET /number/search"


class PurchaseApiTestCase(ApiTestCase):
    def setUp(self):
        self.offer = api.default_client().search_available(country="GB", type="mobile-lvn").items[0]

    def body(self, **changes) -> dict:
        return {
            "country": "GB",
            "msisdn": self.offer.msisdn,
            "type": "mobile-lvn",
            "max_monthly_cost": str(self.offer.cost),
            "max_setup_cost": str(self.offer.initial_price),
            **changes,
        }

    def test_it_buys_the_number_and_answers_with_the_operation(self):
        response = self.api_post(self.operator, "/api/v1/purchases", self.body(), key="k-1")

        assert response.status_code == 201, response.json()
        answer = response.json()
        assert answer["outcome"] == "succeeded"
        assert answer["msisdn"] == self.offer.msisdn
        assert answer["actor"] == "olivia"
        assert answer["monthly_cost"] == format(self.offer.cost, "f")
        assert response["Location"] == answer["url"] == f"/api/v1/operations/{answer['id']}"
        entry = Operation.objects.get(action=Action.PURCHASE, msisdn=self.offer.msisdn)
        assert entry.outcome == Outcome.SUCCEEDED
        assert entry.actor_id == self.operator.pk
        assert entry.ip == "127.0.0.1"
        assert OwnedNumber.objects.get(msisdn=self.offer.msisdn).purchased_by == self.operator
        assert self.sandbox.calls(BUY) == 1

    def test_the_same_key_and_body_again_gives_the_first_answer_and_buys_nothing_more(self):
        first = self.api_post(self.operator, "/api/v1/purchases", self.body(), key="same")
        searches = self.sandbox.calls(SEARCH)

        again = self.api_post(self.operator, "/api/v1/purchases", self.body(), key="same")

        assert again.status_code == first.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert self.sandbox.calls(BUY) == 1
        assert self.sandbox.calls(SEARCH) == searches  # no call at all
        assert Operation.objects.filter(action=Action.PURCHASE).count() == 1

    def test_the_key_with_another_body_is_refused_and_nothing_is_called(self):
        self.api_post(self.operator, "/api/v1/purchases", self.body(), key="reused")
        calls = self.sandbox.state(numbers=False)["calls"]

        other = self.api_post(
            self.operator, "/api/v1/purchases", self.body(max_monthly_cost="99"), key="reused"
        )

        assert other.status_code == 422
        assert other["Content-Type"] == "application/problem+json"
        problem = other.json()
        assert problem["type"] == "urn:numbers-portal:problem:idempotency-key-reused"
        assert "already used for another request" in problem["detail"]
        assert self.sandbox.state(numbers=False)["calls"] == calls

    def test_keys_belong_to_their_user(self):
        self.api_post(self.operator, "/api/v1/purchases", self.body(), key="mine")

        theirs = self.api_post(self.superuser, "/api/v1/purchases", self.body(), key="mine")

        assert theirs.status_code == 409  # a request of its own: the number is sold by now
        assert theirs.json()["title"] == "Not on sale"
        assert IdempotencyKey.objects.filter(key="mine").count() == 2

    def test_a_dearer_offer_is_refused_with_409_and_nothing_is_bought(self):
        cheaper = self.offer.cost - Decimal("0.01")
        response = self.api_post(
            self.operator, "/api/v1/purchases", self.body(max_monthly_cost=str(cheaper))
        )

        assert response.status_code == 409
        problem = response.json()
        assert problem["type"] == "urn:numbers-portal:problem:price-too-high"
        assert problem["detail"].startswith(f"The number now costs €{self.offer.cost:.2f} a month")
        assert problem["detail"].endswith("; nothing was bought.")
        assert self.sandbox.calls(BUY) == 0
        assert not Operation.objects.filter(action=Action.PURCHASE).exists()

    def test_a_number_no_longer_on_sale_is_refused(self):
        response = self.api_post(
            self.operator, "/api/v1/purchases", self.body(msisdn="447700900999")
        )

        assert response.status_code == 409
        assert response.json()["title"] == "Not on sale"
        assert "+44 7700 900999 is no longer on sale" in response.json()["detail"]
        assert self.sandbox.calls(BUY) == 0

    def test_the_type_is_found_from_the_number_when_left_out(self):
        body = self.body()
        del body["type"]

        assert self.api_post(self.operator, "/api/v1/purchases", body).status_code == 201

    def test_invalid_fields_are_named_in_the_portals_sentences(self):
        searches = self.sandbox.calls(SEARCH)
        response = self.api_post(
            self.operator,
            "/api/v1/purchases",
            {"country": "XX", "msisdn": "12", "max_monthly_cost": "cheap"},
        )

        assert response.status_code == 400
        problem = response.json()
        assert problem["type"] == "urn:numbers-portal:problem:invalid-input"
        errors = {error["pointer"]: error["detail"] for error in problem["errors"]}
        assert errors == {
            "#/country": "“XX” is not a country the portal can search.",
            "#/msisdn": "That is not a complete international number (7 to 15 digits).",
            "#/max_monthly_cost": "The max monthly cost must be an amount, such as 1.25.",
            "#/max_setup_cost": "Fill in the max setup cost.",
        }
        assert self.sandbox.calls(SEARCH) == searches

    def test_an_invalid_body_does_not_use_up_the_key(self):
        self.api_post(self.operator, "/api/v1/purchases", {"country": "GB"}, key="fix-it")

        fixed = self.api_post(self.operator, "/api/v1/purchases", self.body(), key="fix-it")

        assert fixed.status_code == 201

    def test_the_provider_declining_is_a_422_that_points_at_the_operation(self):
        self.sandbox.fault(BUY, "error", status=420)

        response = self.api_post(self.operator, "/api/v1/purchases", self.body(), key="declined")

        assert response.status_code == 422
        problem = response.json()
        entry = Operation.objects.get(action=Action.PURCHASE)
        assert entry.outcome == Outcome.FAILED
        assert problem["detail"] == entry.reason
        assert problem["operation"] == {"id": entry.pk, "url": f"/api/v1/operations/{entry.pk}"}
        replay = self.api_post(self.operator, "/api/v1/purchases", self.body(), key="declined")
        assert replay.status_code == 422
        assert replay.json() == problem
        assert self.sandbox.calls(BUY) == 1

    def test_without_a_key_a_second_buy_is_a_new_request_and_buys_nothing(self):
        self.api_post(self.operator, "/api/v1/purchases", self.body())

        second = self.api_post(self.operator, "/api/v1/purchases", self.body())

        assert second.status_code == 409
        assert second.json()["type"] == "urn:numbers-portal:problem:not-on-sale"
        assert self.sandbox.calls(BUY) == 1

    def test_a_purchase_the_approval_rules_hold_back_is_refused_and_nothing_is_bought(self):
        ApprovalRules.objects.create(pk=1, purchase_above=Decimal("0.00"))

        response = self.api_post(self.operator, "/api/v1/purchases", self.body(), key="held")

        assert response.status_code == 409
        problem = response.json()
        assert problem["type"].endswith("approval-required")
        assert "need approval" in problem["detail"]
        assert self.sandbox.calls(BUY) == 0
