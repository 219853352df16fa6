"""Fleet work through the pages: pick in the catalogue, review, confirm, follow; bulk
actions in the inventory; named destinations. Viewers are refused everywhere."""

import re

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import Action, Batch, BatchItem, Destination, Operation, OwnedNumber
from inventory.services.sync import owned_numbers_sync
from inventory.tests.base import BaseTestCase
from inventory.tests.tasks import run_queued_tasks

BUY = "POST /number/buy"
UPDATE = "POST /number/update"
CANCEL = "POST /number/cancel"
SIP = "sip:trunk@pbx.example.com"


def picks_on(page) -> list[str]:
    return re.findall(r'name="picks" value="([^"]+)"', page.content.decode())


class CataloguePickTestCase(BaseTestCase):
    def search(self, country="GB"):
        return self.client.get(f"/catalogue/?country={country}&type=mobile-lvn&size=10")

    def test_ticked_results_from_two_countries_land_in_one_selection_with_totals(self):
        self.login(self.operator)
        for country in ("GB", "NL"):
            picks = picks_on(self.search(country))[:2]
            self.client.post("/catalogue/selection/add/", {"picks": picks, "back": "/catalogue/"})

        page = self.client.get("/catalogue/selection/")

        selection = page.context["selection"]
        assert selection.count == 4
        assert {item.country for item in selection.items} == {"GB", "NL"}
        self.assertContains(page, f"€{selection.monthly_total:.2f}</strong> a month")

    def test_a_forged_pick_is_refused(self):
        self.login(self.operator)
        picks = picks_on(self.search())[:1]
        forged = picks[0][:-3] + "abc"
        response = self.client.post(
            "/catalogue/selection/add/", {"picks": [forged], "back": "/catalogue/"}, follow=True
        )
        self.assertContains(response, "too old to pick from")
        assert not self.client.get("/catalogue/selection/").context["selection"].count

    def test_reviewing_checks_the_prices_then_confirming_buys_each_once(self):
        self.login(self.operator)
        picks = picks_on(self.search())[:3]
        self.client.post("/catalogue/selection/add/", {"picks": picks, "back": "/catalogue/"})
        response = self.client.post("/catalogue/selection/review/", follow=True)
        batch = response.context["batch"]
        assert batch.status == Batch.Status.CHECKING
        run_queued_tasks()

        review = self.client.get(f"/batches/{batch.pk}/")
        self.assertContains(review, "Buy 3 numbers: €")
        self.client.post(f"/batches/{batch.pk}/confirm/")
        self.client.post(f"/batches/{batch.pk}/confirm/")  # a double click
        run_queued_tasks()

        state = self.client.get(f"/batches/{batch.pk}/state.json").json()
        assert state["state"] == "done"
        assert set(state["items"].values()) == {"done"}
        assert self.sandbox.calls(BUY) == 3
        csv = b"".join(self.client.get(f"/batches/{batch.pk}/results.csv").streaming_content)
        assert csv.decode().count(",succeeded,") == 3
        assert not self.client.get("/catalogue/selection/").context["selection"].count


class InventoryBulkTestCase(BaseTestCase):
    def setUp(self):
        self.sandbox.reset(owned=30)
        owned_numbers_sync(actor=Actor.system("tests"))
        self.msisdns = sorted(self.sandbox.owned())
        self.login(self.operator)

    def test_bulk_configure_reviews_grouped_by_current_routing_then_applies(self):
        chosen = self.msisdns[:5]
        form = self.client.post("/inventory/bulk/configure/", {"msisdn": chosen})
        self.assertContains(form, "Configure 5 numbers")

        response = self.client.post(
            "/inventory/bulk/configure/",
            {
                "msisdn": chosen,
                "review": "1",
                "voiceCallbackType": "sip",
                "voiceCallbackValue": SIP,
            },
            follow=True,
        )
        batch = response.context["batch"]
        self.assertContains(response, "5 numbers: nothing set → calls to SIP URI " + SIP)
        assert self.sandbox.calls(UPDATE) == 0
        self.client.post(f"/batches/{batch.pk}/confirm/")
        run_queued_tasks()

        assert self.sandbox.calls(UPDATE) == 5
        owned = self.sandbox.owned()
        assert all(owned[m]["voiceCallbackValue"] == SIP for m in chosen)

    def test_all_matching_a_filter_takes_every_number_it_matches(self):
        country = OwnedNumber.objects.get(msisdn=self.msisdns[0]).country
        expected = OwnedNumber.objects.filter(country=country).count()

        response = self.client.post(
            "/inventory/bulk/cancel/",
            {"all_matching": "1", "filter": f"country={country}"},
            follow=True,
        )

        batch = response.context["batch"]
        assert batch.items.count() == expected
        self.assertContains(response, f"Type “cancel {expected}” to confirm")

    def test_bulk_cancel_is_refused_unless_the_count_is_typed(self):
        response = self.client.post(
            "/inventory/bulk/cancel/", {"msisdn": self.msisdns[:3]}, follow=True
        )
        batch = response.context["batch"]

        refused = self.client.post(
            f"/batches/{batch.pk}/confirm/", {"typed": "cancel 2"}, follow=True
        )
        self.assertContains(refused, "Type “cancel 3” to confirm; nothing was cancelled.")
        self.client.post(f"/batches/{batch.pk}/confirm/", {"typed": "cancel 3"})
        run_queued_tasks()

        assert self.sandbox.calls(CANCEL) == 3
        assert OwnedNumber.objects.count() == 27

    def test_bulk_label_needs_no_api_call_and_each_change_is_audited(self):
        response = self.client.post(
            "/inventory/bulk/label/",
            {"msisdn": self.msisdns[:4], "apply": "1", "team": "Support"},
            follow=True,
        )
        self.assertContains(response, "saved on 4 numbers")
        assert OwnedNumber.objects.filter(team="Support").count() == 4
        assert Operation.objects.filter(action=Action.ANNOTATE).count() == 4

    def test_the_selection_exports_as_csv(self):
        response = self.client.post("/inventory/bulk/numbers.csv", {"msisdn": self.msisdns[:2]})
        lines = b"".join(response.streaming_content).decode().splitlines()
        assert len(lines) == 3
        assert lines[1].startswith(self.msisdns[0])

    def test_nothing_ticked_says_so(self):
        response = self.client.post("/inventory/bulk/cancel/", {}, follow=True)
        self.assertContains(response, "Tick the numbers to work on first.")
        assert not Batch.objects.exists()


class ViewerRefusedTestCase(BaseTestCase):
    def test_a_viewer_gets_403_and_no_api_call_on_every_bulk_endpoint(self):
        self.sandbox.reset(owned=3)
        owned_numbers_sync(actor=Actor.system("tests"))
        msisdn = next(iter(self.sandbox.owned()))
        batch = Batch.objects.create(
            kind=Batch.Kind.CANCEL, status=Batch.Status.REVIEW, created_by=self.viewer
        )
        BatchItem.objects.create(batch=batch, position=1, country="GB", msisdn=msisdn)
        destination = Destination.objects.create(name="A", kind="sip", value=SIP)
        self.login(self.viewer)
        posts = {
            "/catalogue/selection/add/": {},
            "/catalogue/selection/review/": {},
            "/catalogue/selection/clear/": {},
            "/inventory/bulk/configure/": {"msisdn": [msisdn]},
            "/inventory/bulk/cancel/": {"msisdn": [msisdn]},
            "/inventory/bulk/label/": {"msisdn": [msisdn], "apply": "1", "team": "X"},
            f"/batches/{batch.pk}/confirm/": {"typed": "cancel 1"},
            f"/batches/{batch.pk}/stop/": {},
            f"/destinations/{destination.pk}/move/": {},
            "/destinations/": {"name": "B", "kind": "sip", "value": "sip:b@example.com"},
        }
        for path, data in posts.items():
            assert self.client.post(path, data).status_code == 403, path
        run_queued_tasks()
        calls = self.sandbox.state(numbers=False)["calls"]
        assert not any(k.startswith("POST /number") for k in calls)
        assert Batch.objects.get().status == Batch.Status.REVIEW
        assert Destination.objects.count() == 1


class DestinationTestCase(BaseTestCase):
    def setUp(self):
        self.sandbox.reset(owned=6)
        owned_numbers_sync(actor=Actor.system("tests"))
        self.msisdns = sorted(self.sandbox.owned())
        self.login(self.operator)

    def add(self, name, value, kind="sip"):
        self.client.post("/destinations/", {"name": name, "kind": kind, "value": value})
        return Destination.objects.get(name=name)

    def test_messages_routing_is_shown_by_the_destinations_name_when_one_has_its_address(self):
        self.add("Support app", "https://support.example.com/sms", kind="webhook")
        named, unnamed = self.msisdns[:2]
        OwnedNumber.objects.filter(msisdn=named).update(
            mo_http_url="https://support.example.com/sms"
        )
        OwnedNumber.objects.filter(msisdn=unnamed).update(mo_http_url="https://other.example.com/")

        page = self.client.get("/inventory/").content.decode()

        assert page.count("SMS → Support app") == 1
        assert page.count(">SMS webhook<") == 1

    def test_a_destination_is_offered_by_name_in_the_configure_form_and_shown_in_the_inventory(
        self,
    ):
        trunk = self.add("Amsterdam SIP trunk", SIP)
        msisdn = self.msisdns[0]
        review = self.client.post(f"/numbers/{msisdn}/configure/", {"voice_destination": trunk.pk})
        self.assertContains(review, SIP)
        token = re.search(r'name="change" value="([^"]+)"', review.content.decode()).group(1)
        self.client.post(f"/numbers/{msisdn}/configure/confirm/", {"change": token})

        page = self.client.get("/inventory/")
        self.assertContains(page, "Calls → Amsterdam SIP trunk")
        # A sort by a column that may be empty reads its page in one UNION query.
        self.assertContains(
            self.client.get("/inventory/?sort=-cost"), "Calls → Amsterdam SIP trunk"
        )
        routed = self.client.get(f"/inventory/?destination={trunk.pk}")
        assert [n.msisdn for n in routed.context["listing"].rows] == [msisdn]

    def test_every_number_routed_to_one_destination_moves_to_another_in_one_batch(self):
        old, new = self.add("Old trunk", SIP), self.add("New trunk", "sip:new@pbx.example.com")
        for msisdn in self.msisdns[:4]:
            self.api_route(msisdn, SIP)
        response = self.client.post(f"/destinations/{old.pk}/move/", {"to": new.pk}, follow=True)
        batch = response.context["batch"]
        assert batch.items.count() == 4
        self.client.post(f"/batches/{batch.pk}/confirm/")
        run_queued_tasks()

        assert self.client.get(f"/destinations/{new.pk}/").context["routed_count"] == 4
        assert self.client.get(f"/destinations/{old.pk}/").context["routed_count"] == 0

    def test_an_address_that_is_not_a_sip_uri_is_refused(self):
        self.client.post("/destinations/", {"name": "Bad", "kind": "sip", "value": "desk@x"})
        assert not Destination.objects.exists()

    def api_route(self, msisdn, sip):
        number = OwnedNumber.objects.get(msisdn=msisdn)
        changes = {"voiceCallbackType": "sip", "voiceCallbackValue": sip}
        api.default_client().update(country=number.country, msisdn=msisdn, changes=changes)
        OwnedNumber.objects.filter(msisdn=msisdn).update(
            voice_callback_type="sip", voice_callback_value=sip
        )
