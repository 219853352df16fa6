"""The selection and bulk operations through the JSON API: picked at the most the script
agrees to pay, checked again by a task, reviewed, confirmed once, run by a task worker."""

from decimal import Decimal

from inventory import api_client as api
from inventory.models import Action, Batch, BatchItem, Operation, OwnedNumber, SelectionItem
from inventory.tests.base import ApiTestCase
from inventory.tests.factories import owned_number
from inventory.tests.tasks import run_queued_tasks

BUY = "POST /number/buy"


def pick(offer: api.AvailableNumber, **changes) -> dict:
    return {
        "country": offer.country,
        "msisdn": offer.msisdn,
        "type": offer.type,
        "features": list(offer.features),
        "max_monthly_cost": str(offer.cost),
        "max_setup_cost": str(offer.initial_price),
        **changes,
    }


class FleetApiTestCase(ApiTestCase):
    def offers(self, count: int) -> list[api.AvailableNumber]:
        page = api.default_client().search_available(country="GB", type="mobile-lvn", size=count)
        return list(page.items)

    def test_a_bulk_purchase_from_picks_to_bought_numbers(self):
        first, second, third = self.offers(3)
        cheap = first.cost - Decimal("0.01")
        picks = [pick(first, max_monthly_cost=str(cheap)), pick(second), pick(third)]

        added = self.api_post(self.operator, "/api/v1/selection", {"numbers": picks})
        assert added.status_code == 200
        assert added.json()["added"] == added.json()["count"] == 3

        created = self.api_post(self.operator, "/api/v1/batches/purchase", key="bulk-1")
        assert created.status_code == 202
        batch = created.json()
        assert batch["status"] == "checking"
        assert created["Location"] == batch["url"]

        run_queued_tasks()  # the price check
        review = self.api_get(self.operator, batch["url"]).json()
        assert review["status"] == "review"
        assert review["totals"]["count"] == 2
        items = self.api_get(self.operator, batch["items_url"]).json()["items"]
        left_out = next(item for item in items if item["msisdn"] == first.msisdn)
        assert left_out["state"] == "excluded"
        assert left_out["reason"].startswith("Dearer than when you picked it")
        assert self.sandbox.calls(BUY) == 0

        confirmed = self.api_post(self.operator, f"{batch['url']}/confirm", key="bulk-1-go")
        assert confirmed.status_code == 200
        assert confirmed.json()["status"] == "queued"
        again = self.api_post(self.operator, f"{batch['url']}/confirm", key="bulk-1-go")
        assert again.json() == confirmed.json()

        run_queued_tasks()  # the purchases
        done = self.api_get(self.operator, batch["url"]).json()
        assert done["status"] == "done"
        assert done["state"] == "done"
        assert done["progress"] == 1.0
        assert self.sandbox.calls(BUY) == 2
        assert set(OwnedNumber.objects.values_list("msisdn", flat=True)) == {
            second.msisdn,
            third.msisdn,
        }
        items = self.api_get(self.operator, batch["items_url"]).json()["items"]
        bought = [item for item in items if item["state"] == "done"]
        assert {item["outcome"] for item in bought} == {"succeeded"}
        assert all(item["operation"]["url"].startswith("/api/v1/operations/") for item in bought)
        assert Operation.objects.filter(action=Action.BATCH).count() == 1

    def test_bad_picks_are_each_named(self):
        offer = self.offers(1)[0]
        picks = [pick(offer), {"country": "GB", "msisdn": "x"}]

        response = self.api_post(self.operator, "/api/v1/selection", {"numbers": picks})

        assert response.status_code == 400
        pointers = {error["pointer"] for error in response.json()["errors"]}
        assert pointers == {
            "#/numbers/1/msisdn",
            "#/numbers/1/type",
            "#/numbers/1/max_monthly_cost",
            "#/numbers/1/max_setup_cost",
        }
        assert not SelectionItem.objects.exists()

    def test_the_selection_is_read_emptied_and_thinned(self):
        first, second = self.offers(2)
        self.api_post(self.operator, "/api/v1/selection", {"numbers": [pick(first), pick(second)]})

        removed = self.api_delete(self.operator, f"/api/v1/selection/{first.msisdn}")
        assert removed.status_code == 204
        selection = self.api_get(self.operator, "/api/v1/selection").json()
        assert [item["msisdn"] for item in selection["items"]] == [second.msisdn]
        assert selection["monthly_total"] == format(second.cost, "f")

        assert self.api_delete(self.operator, "/api/v1/selection").status_code == 204
        assert self.api_get(self.operator, "/api/v1/selection").json()["count"] == 0

    def test_an_empty_selection_makes_no_batch(self):
        response = self.api_post(self.operator, "/api/v1/batches/purchase")

        assert response.status_code == 409
        assert response.json()["detail"] == (
            "Your selection is empty: pick numbers in the catalogue first."
        )

    def test_a_bulk_cancellation_needs_the_typed_count(self):
        for msisdn in ("447700900001", "447700900002"):
            owned_number(msisdn)
            self.sandbox.change_account(
                add=[{"country": "GB", "msisdn": msisdn, "type": "mobile-lvn"}]
            )
        numbers = ["447700900001", "447700900002"]

        created = self.api_post(self.operator, "/api/v1/batches/cancel", {"numbers": numbers})
        assert created.status_code == 201
        url = created.json()["url"]
        wrong = self.api_post(self.operator, f"{url}/confirm", {"typed": "yes"})
        assert wrong.status_code == 409
        assert wrong.json()["detail"] == "Type “cancel 2” to confirm; nothing was cancelled."

        right = self.api_post(self.operator, f"{url}/confirm", {"typed": "cancel 2"})
        assert right.status_code == 200
        run_queued_tasks()
        assert self.api_get(self.operator, url).json()["status"] == "done"
        assert not OwnedNumber.objects.exists()

    def test_a_bulk_configuration_changes_only_what_it_names(self):
        owned_number("447700900001", voice_callback_type="sip", voice_callback_value="sip:a@b.c")
        owned_number("447700900002")
        body = {
            "numbers": ["447700900001", "447700900002"],
            "changes": {"moHttpUrl": "https://hooks.example.com/sms"},
        }

        created = self.api_post(self.operator, "/api/v1/batches/configure", body)

        assert created.status_code == 201
        batch = Batch.objects.get()
        assert batch.changes == {"moHttpUrl": "https://hooks.example.com/sms"}
        assert batch.items.filter(state=BatchItem.State.PROPOSED).count() == 2

    def test_only_the_author_confirms_a_batch(self):
        owned_number("447700900001")
        url = self.api_post(
            self.operator, "/api/v1/batches/cancel", {"numbers": ["447700900001"]}
        ).json()["url"]

        response = self.api_post(self.superuser, f"{url}/confirm", {"typed": "cancel 1"})

        assert response.status_code == 409
        assert "Only the person who prepared this batch" in response.json()["detail"]

    def test_a_viewer_may_follow_a_batch_but_not_confirm_it(self):
        owned_number("447700900001")
        url = self.api_post(
            self.operator, "/api/v1/batches/cancel", {"numbers": ["447700900001"]}
        ).json()["url"]

        assert self.api_get(self.viewer, url).status_code == 200
        refused = self.api_post(self.viewer, f"{url}/confirm", {"typed": "cancel 1"})
        assert refused.status_code == 403
        assert "inventory.cancel_number" in refused.json()["detail"]
        assert Operation.objects.filter(action=Action.DENIED, actor_username="victor").exists()
