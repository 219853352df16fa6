"""The inventory journey: sync, filter, open a number, route it, cancel it by typing it."""

import re

from playwright.sync_api import expect

from inventory.models import Action, Operation, OwnedNumber
from tests.browser.base import BrowserTestCase

SIP = "sip:reception@pbx.example.com"
WEBHOOK = "https://hooks.example.com/inbound-sms"


class InventoryJourney(BrowserTestCase):
    def test_an_operator_syncs_routes_and_cancels_a_number(self):
        self.sandbox.reset(owned=30)
        self.user("olivia", "Operator")
        self.log_in("olivia")

        self.go("/inventory/")
        expect(self.page.get_by_test_id("sync-status")).to_contain_text("Never synced")
        self.page.get_by_test_id("sync-now").click()
        expect(self.page.get_by_test_id("sync-status")).to_contain_text("Sync queued")
        self.start_task_worker()
        expect(self.page.get_by_test_id("sync-status")).to_contain_text(
            "Last synced", timeout=60_000
        )
        expect(self.page.get_by_test_id("totals")).to_contain_text("30 numbers")
        self.screenshot("inventory")

        msisdn = sorted(self.sandbox.owned())[0]
        country = OwnedNumber.objects.get(msisdn=msisdn).country
        self.page.get_by_text("Filter").click()
        self.page.get_by_label("Country").select_option(country)
        self.page.get_by_label("Digits", exact=True).fill(msisdn[-4:])
        self.page.get_by_label("ends with").check()
        self.page.get_by_role("button", name="Apply").click()
        row_link = self.page.locator("table.inventory-table tbody a").first
        expect(row_link).to_be_visible()
        self.screenshot("inventory-filtered")
        self.page.get_by_role("link", name=re.compile(re.escape(msisdn[-4:]) + "$")).first.click()

        expect(self.page.get_by_role("heading", level=1)).to_contain_text(msisdn[-4:])
        self.screenshot("number")
        self.page.get_by_test_id("configure").click()
        self.page.get_by_label("Inbound SMS webhook").fill(WEBHOOK)
        self.page.get_by_label("Send calls to").select_option("sip")
        self.page.get_by_label("Destination").fill(SIP)
        self.screenshot("configure")
        self.page.get_by_test_id("review-change").click()

        change = self.page.get_by_test_id("change")
        expect(change).to_contain_text(WEBHOOK)
        expect(change).to_contain_text("not set")
        self.screenshot("configure-review")
        self.page.get_by_test_id("confirm-change").click()
        expect(self.page.get_by_test_id("operation")).to_have_attribute("data-outcome", "succeeded")

        self.go(f"/numbers/{msisdn}/")
        expect(self.page.get_by_test_id("routing")).to_contain_text(SIP)
        expect(self.page.get_by_test_id("history")).to_contain_text("Configuration change")
        self.page.get_by_test_id("cancel").click()
        expect(self.page.get_by_test_id("cancel-facts")).to_contain_text(WEBHOOK)
        self.page.get_by_label(re.compile("Type the full number")).fill(msisdn[:-1])
        self.page.get_by_test_id("confirm-cancel").click()
        expect(self.page.get_by_text("That is not this number")).to_be_visible()
        self.screenshot("cancel-mismatch")
        self.page.get_by_label(re.compile("Type the full number")).fill(f"+{msisdn}")
        self.page.get_by_test_id("confirm-cancel").click()
        expect(self.page.get_by_test_id("operation")).to_have_attribute("data-outcome", "succeeded")

        self.go("/inventory/")
        expect(self.page.get_by_test_id("totals")).to_contain_text("29 numbers")
        self.go(f"/numbers/{msisdn}/")
        expect(self.page.get_by_test_id("history")).to_contain_text("Cancellation")
        self.screenshot("number-after-cancel")
        assert msisdn not in self.sandbox.owned()
        assert Operation.objects.filter(msisdn=msisdn, action=Action.CONFIGURE).exists()

    def test_a_viewer_sees_no_sync_configure_or_cancel(self):
        self.sandbox.change_account(add_random=1)
        OwnedNumber.objects.create(msisdn="447700900123", country="GB", type="mobile-lvn")
        self.user("victor", "Viewer")
        self.log_in("victor")
        self.go("/inventory/")
        expect(self.page.get_by_test_id("sync-now")).to_have_count(0)
        self.go("/numbers/447700900123/")
        expect(self.page.get_by_test_id("configure")).to_have_count(0)
        expect(self.page.get_by_test_id("cancel")).to_have_count(0)
