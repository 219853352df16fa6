"""The audit journey: an auditor finds everything done to one number, reads a purchase and a
configuration change, and exports the list; an operator cannot open the trail."""

import csv
import re

from playwright.sync_api import expect

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import OwnedNumber
from inventory.services.configure import number_configure
from inventory.services.purchase import number_purchase
from tests.browser.base import BrowserTestCase

WEBHOOK = "https://hooks.example.com/inbound-sms"


class AuditJourney(BrowserTestCase):
    def buy_and_configure(self, olivia) -> str:
        """Olivia buys two numbers and routes the first one's SMS to a webhook."""
        client = api.default_client()
        actor = Actor(user=olivia, username="olivia", ip="192.0.2.10", user_agent="Firefox")
        offers = client.search_available(country="GB", type="mobile-lvn", size=2).items
        for i, offer in enumerate(offers):
            number_purchase(client=client, actor=actor, offer=offer, form_token=f"buy-{i}")
        number = OwnedNumber.objects.get(msisdn=offers[0].msisdn)
        number_configure(
            client=client, actor=actor, msisdn=number.msisdn, changes={"moHttpUrl": WEBHOOK},
            form_token="configure-1",
        )  # fmt: skip
        return offers[0].msisdn

    def test_an_auditor_reviews_one_number_and_exports_it(self):
        msisdn = self.buy_and_configure(self.user("olivia", "Operator"))
        self.user("audrey", "Auditor", is_staff=True)
        self.log_in("audrey")

        self.page.get_by_role("link", name="Audit trail").click()
        expect(self.page.get_by_role("heading", name="Select audit entry to view")).to_be_visible()
        self.page.locator("#searchbar").fill(msisdn)
        self.page.get_by_role("button", name="Search").click()
        rows = self.page.locator("#result_list tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("Configuration change")
        expect(rows.nth(1)).to_contain_text("Purchase")
        self.screenshot("audit-trail-one-number")

        rows.nth(1).locator("th a").click()
        expect(self.page.get_by_role("heading", name="View audit entry")).to_be_visible()
        expect(self.page.locator(".field-actor_username")).to_contain_text("olivia")
        expect(self.page.locator(".field-ip")).to_contain_text("192.0.2.10")
        expect(self.page.locator(".field-monthly_cost")).to_contain_text(".")
        expect(self.page.locator(".field-outcome_shown")).to_contain_text("succeeded")
        expect(self.page.get_by_role("button", name="Save")).to_have_count(0)
        self.screenshot("audit-entry-purchase")

        self.page.go_back()
        rows.nth(0).locator("th a").click()
        diff = self.page.locator("table.audit-diff")
        expect(diff.locator("tbody tr")).to_have_count(1)
        expect(diff.locator(".audit-before")).to_have_text("–")
        expect(diff.locator(".audit-after")).to_have_text(WEBHOOK)
        self.screenshot("audit-entry-configuration")

        self.page.go_back()
        with self.page.expect_download() as download:
            self.page.get_by_test_id("export-csv").click()
        assert download.value.suggested_filename == "audit-trail.csv"
        with open(download.value.path(), newline="") as exported:
            table = list(csv.DictReader(exported))
        assert [(row["action"], row["msisdn"]) for row in table] == [
            ("configure", msisdn), ("purchase", msisdn),
        ]  # fmt: skip
        assert table[0]["after"] == f'{{"moHttpUrl": "{WEBHOOK}"}}'
        assert table[1]["username"] == "olivia"

    def test_an_operator_cannot_open_the_trail(self):
        self.buy_and_configure(self.user("olivia", "Operator"))
        self.log_in("olivia")
        expect(self.page.get_by_role("link", name="Audit trail")).to_have_count(0)

        self.go("/admin/inventory/operation/")

        expect(self.page).to_have_url(re.compile(r"/admin/login/\?next="))
        expect(self.page.get_by_text("You are authenticated as olivia")).to_be_visible()
        expect(self.page.locator("#result_list")).to_have_count(0)
        self.screenshot("audit-trail-refused")
