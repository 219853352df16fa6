"""Approval requests through the JSON API: a held-back purchase sent again with a reason
waits for an approver, who approves or rejects it with their own token; nothing is bought
before, and a task buys it after, as from the portal's pages."""

from decimal import Decimal

from inventory import api_client as api
from inventory.models import Action, ApprovalRules, Operation, OwnedNumber, PurchaseRequest
from inventory.tests.base import ApiTestCase
from inventory.tests.tasks import run_queued_tasks

BUY = "POST /number/buy"
REQUESTS = "/api/v1/approval-requests"


class ApprovalApiTestCase(ApiTestCase):
    def setUp(self):
        ApprovalRules.objects.create(pk=1, purchase_above=Decimal("0.00"))
        self.offer = api.default_client().search_available(country="GB", type="mobile-lvn").items[0]

    def purchase(self, user=None, *, key: str = "ask", **changes):
        body = {
            "country": "GB",
            "msisdn": self.offer.msisdn,
            "type": "mobile-lvn",
            "max_monthly_cost": str(self.offer.cost),
            "max_setup_cost": str(self.offer.initial_price),
            **changes,
        }
        return self.api_post(user or self.operator, "/api/v1/purchases", body, key=key)

    def ask(self) -> dict:
        response = self.purchase(reason="The Leeds office opens on Monday.")
        assert response.status_code == 202, response.json()
        return response.json()

    def test_without_a_reason_the_script_is_told_to_send_one_and_nothing_is_asked(self):
        response = self.purchase()

        assert response.status_code == 409
        problem = response.json()
        assert problem["type"].endswith("approval-required")
        assert "Send it again with a `reason`" in problem["detail"]
        assert PurchaseRequest.objects.count() == 0
        assert self.sandbox.calls(BUY) == 0

    def test_with_a_reason_it_becomes_a_request_that_buys_nothing_yet(self):
        response = self.purchase(reason="The Leeds office opens on Monday.")

        assert response.status_code == 202
        asked = response.json()
        assert response["Location"] == asked["url"] == f"{REQUESTS}/{asked['id']}"
        assert asked["status"] == "pending"
        assert asked["requester"] == "olivia"
        assert asked["reason"] == "The Leeds office opens on Monday."
        assert "need approval" in asked["rule"]
        assert asked["monthly_cost"] == format(self.offer.cost, "f")
        assert [item["msisdn"] for item in asked["items"]] == [self.offer.msisdn]
        assert asked["items"][0]["operation"] is None
        assert self.sandbox.calls(BUY) == 0
        entry = Operation.objects.get(action=Action.APPROVAL_REQUESTED)
        assert entry.actor_username == "olivia"

        listed = self.api_get(self.viewer, REQUESTS, {"status": "pending"}).json()
        assert [request["id"] for request in listed] == [asked["id"]]
        assert self.api_get(self.viewer, REQUESTS, {"status": "done"}).json() == []

    def test_the_same_key_sent_again_gives_the_same_request(self):
        first = self.ask()
        again = self.purchase(reason="The Leeds office opens on Monday.")

        assert again.status_code == 202
        assert again.json()["id"] == first["id"]
        assert PurchaseRequest.objects.count() == 1

    def test_an_approvers_token_approves_it_and_a_task_buys_it(self):
        asked = self.ask()

        approved = self.api_post(
            self.approver, f"{asked['url']}/approve", {"reason": "Budgeted."}, key="yes"
        )
        assert approved.status_code == 200, approved.json()
        assert approved.json()["status"] == "approved"
        assert approved.json()["decided_by"] == "amber"
        assert self.sandbox.calls(BUY) == 0  # the task worker buys

        run_queued_tasks()
        done = self.api_get(self.operator, asked["url"]).json()
        assert done["status"] == "done", done
        assert self.sandbox.calls(BUY) == 1
        operation = self.api_get(self.operator, done["items"][0]["operation"]["url"]).json()
        assert operation["outcome"] == "succeeded"
        assert OwnedNumber.objects.get(msisdn=self.offer.msisdn).purchased_by == self.operator

    def test_nobody_approves_their_own_request(self):
        response = self.purchase(self.superuser, reason="Mine.", key="own")
        asked = response.json()

        refused = self.api_post(self.superuser, f"{asked['url']}/approve", key="own-yes")

        assert refused.status_code == 409
        assert refused.json()["type"].endswith("approval-refused")
        assert "someone else has to decide" in refused.json()["detail"]
        assert PurchaseRequest.objects.get().status == PurchaseRequest.Status.PENDING

    def test_an_operator_may_not_decide_and_is_refused_before_anything_happens(self):
        asked = self.ask()

        refused = self.api_post(self.operator, f"{asked['url']}/approve", key="op-yes")

        assert refused.status_code == 403
        assert PurchaseRequest.objects.get().status == PurchaseRequest.Status.PENDING

    def test_a_rejection_needs_a_reason_and_buys_nothing(self):
        asked = self.ask()

        silent = self.api_post(self.approver, f"{asked['url']}/reject", key="no-1")
        assert silent.status_code == 409
        assert "Say why you reject it" in silent.json()["detail"]

        rejected = self.api_post(
            self.approver, f"{asked['url']}/reject", {"reason": "Not this quarter."}, key="no-2"
        )
        assert rejected.status_code == 200
        assert rejected.json()["status"] == "rejected"
        assert rejected.json()["decision_reason"] == "Not this quarter."
        run_queued_tasks()
        assert self.sandbox.calls(BUY) == 0

        late = self.api_post(self.approver, f"{asked['url']}/approve", key="yes-late")
        assert late.status_code == 409
        assert "already" in late.json()["detail"]

    def test_the_requester_withdraws_it(self):
        asked = self.ask()

        withdrawn = self.api_post(self.operator, f"{asked['url']}/withdraw", key="back")

        assert withdrawn.status_code == 200
        assert withdrawn.json()["status"] == "withdrawn"
        assert Operation.objects.filter(action=Action.APPROVAL_WITHDRAWN).count() == 1

    def test_an_unknown_request_is_a_404(self):
        assert self.api_get(self.viewer, f"{REQUESTS}/999").status_code == 404
        missing = self.api_post(self.approver, f"{REQUESTS}/999/approve", key="nothing")
        assert missing.status_code == 404

    def test_a_held_back_bulk_purchase_waits_with_the_reason_given_at_its_confirm(self):
        offers = api.default_client().search_available(country="GB", type="mobile-lvn", size=2)
        picks = [
            {
                "country": offer.country,
                "msisdn": offer.msisdn,
                "type": offer.type,
                "features": list(offer.features),
                "max_monthly_cost": str(offer.cost),
                "max_setup_cost": str(offer.initial_price),
            }
            for offer in offers.items
        ]
        self.api_post(self.operator, "/api/v1/selection", {"numbers": picks})
        batch = self.api_post(self.operator, "/api/v1/batches/purchase", key="bulk").json()
        run_queued_tasks()  # the price check

        held = self.api_post(self.operator, f"{batch['url']}/confirm", key="go-1")
        assert held.status_code == 409
        assert held.json()["type"].endswith("approval-required")

        waiting = self.api_post(
            self.operator, f"{batch['url']}/confirm", {"reason": "Two lines."}, key="go-2"
        )
        assert waiting.status_code == 200
        assert waiting.json()["status"] == "approval"
        request = self.api_get(self.viewer, REQUESTS).json()[0]
        assert request["batch"] == batch["url"]
        assert request["count"] == 2
        assert self.sandbox.calls(BUY) == 0
