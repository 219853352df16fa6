"""The fleet journey: pick numbers from two countries' searches, buy them in one batch and
watch it, then route three to a named destination and cancel two by typing the count."""

import re

from playwright.sync_api import expect

from inventory.models import Batch, OwnedNumber
from tests.browser.base import BrowserTestCase

SIP = "sip:trunk@pbx.example.com"


class FleetJourney(BrowserTestCase):
    def pick(self, country: str, how_many: int):
        self.go(f"/catalogue/?country={country}&type=mobile-lvn&size=10")
        boxes = self.page.locator("input[name=picks]")
        for index in range(how_many):
            boxes.nth(index).check()
        self.page.get_by_test_id("add-to-selection").click()
        expect(self.page.get_by_text(re.compile(r"added: \d+ in your selection"))).to_be_visible()

    def wait_for_batch(self, status: str):
        expect(self.page.get_by_test_id("batch")).to_have_attribute(
            "data-status", status, timeout=60_000
        )

    def test_an_operator_buys_five_routes_three_and_cancels_two(self):
        self.user("olivia", "Operator")
        self.start_task_worker()
        self.log_in("olivia")
        self.go("/destinations/")
        self.page.get_by_label("Name").fill("Amsterdam SIP trunk")
        self.page.get_by_label("Kind of destination").select_option("sip")
        self.page.get_by_label("Address").fill(SIP)
        self.page.get_by_test_id("add-destination").click()
        expect(self.page.get_by_role("heading", name="Amsterdam SIP trunk")).to_be_visible()

        self.pick("GB", 3)
        self.screenshot("fleet-catalogue-picked")
        self.pick("NL", 2)
        self.go("/catalogue/selection/")
        expect(self.page.get_by_test_id("selection-totals")).to_contain_text("5 numbers")
        self.screenshot("fleet-selection")
        self.page.get_by_test_id("review-selection").click()

        self.wait_for_batch("review")  # the offers were checked again by the worker
        summary = self.page.get_by_test_id("batch-summary")
        expect(summary).to_contain_text(
            re.compile(r"Buy 5 numbers: €[\d.]+ now, then €[\d.]+ a month")
        )
        self.screenshot("fleet-bulk-buy-review")
        self.page.get_by_test_id("confirm-batch").click()
        self.wait_for_batch("done")
        expect(self.page.get_by_test_id("batch-message")).to_contain_text("5 done")
        self.screenshot("fleet-bulk-buy-done")
        assert self.sandbox.calls("POST /number/buy") == 5

        self.go("/inventory/")
        expect(self.page.get_by_test_id("totals")).to_contain_text("5 numbers")
        bought = sorted(OwnedNumber.objects.values_list("msisdn", flat=True))
        for msisdn in bought[:3]:
            self.page.get_by_test_id(f"choose-{msisdn}").check()
        self.page.get_by_test_id("bulk-configure").click()
        self.page.get_by_label("…or a named destination").select_option(label="Amsterdam SIP trunk")
        self.screenshot("fleet-bulk-configure")
        self.page.get_by_test_id("review-bulk-change").click()
        expect(self.page.get_by_test_id("batch-groups")).to_contain_text(
            f"3 numbers: nothing set → calls to SIP URI {SIP}"
        )
        self.screenshot("fleet-bulk-configure-review")
        self.page.get_by_test_id("confirm-batch").click()
        self.wait_for_batch("done")
        self.go("/inventory/")
        expect(self.page.get_by_text("Calls → Amsterdam SIP trunk")).to_have_count(3)
        self.screenshot("fleet-inventory-routed")

        for msisdn in bought[3:]:
            self.page.get_by_test_id(f"choose-{msisdn}").check()
        self.page.get_by_test_id("bulk-cancel").click()
        self.page.get_by_label("Type “cancel 2” to confirm").fill("cancel 1")
        self.page.get_by_test_id("confirm-batch").click()
        expect(
            self.page.get_by_text("Type “cancel 2” to confirm; nothing was cancelled.")
        ).to_be_visible()
        self.page.get_by_label("Type “cancel 2” to confirm").fill("cancel 2")
        self.screenshot("fleet-bulk-cancel-review")
        self.page.get_by_test_id("confirm-batch").click()
        self.wait_for_batch("done")
        self.screenshot("fleet-bulk-cancel-done")

        assert self.sandbox.calls("POST /number/cancel") == 2
        assert OwnedNumber.objects.count() == 3
        assert Batch.objects.filter(status=Batch.Status.DONE).count() == 3
