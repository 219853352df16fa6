"""The audit journey: an auditor finds everything done to one number, reads a purchase and a
configuration change, filters and exports the list, all without the admin; anyone but a
superuser opening /admin/ gets the portal's own 403 page."""

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

    def test_an_auditor_reviews_filters_and_exports_the_trail_without_the_admin(self):
        msisdn = self.buy_and_configure(self.user("olivia", "Operator"))
        self.user("audrey", "Auditor")
        self.log_in("audrey")

        self.page.get_by_role("link", name="Audit trail", exact=True).click()
        expect(self.page.get_by_role("heading", name="Audit trail", exact=True)).to_be_visible()
        assert "/admin/" not in self.page.url
        self.page.get_by_label("Number").fill(msisdn)
        self.page.get_by_role("button", name="Filter").click()
        rows = self.page.locator("[data-testid=audit-entries] tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("Configuration change")
        expect(rows.nth(1)).to_contain_text("Purchase")
        expect(self.page.get_by_test_id("audit-count")).to_contain_text("2 entries match")
        self.screenshot("audit-trail-one-number", schemes=("light", "dark"))

        rows.nth(1).get_by_role("link", name=re.compile(r"^#\d+ ")).click()
        entry = self.page.get_by_test_id("audit-entry")
        expect(entry).to_contain_text("olivia")
        expect(entry).to_contain_text("192.0.2.10")
        expect(self.page.get_by_test_id("money")).to_contain_text("€")
        expect(entry).to_contain_text("Succeeded")
        expect(entry).to_contain_text(re.compile(r"\d\d:\d\d:\d\d (CET|CEST)"))
        expect(self.page.get_by_role("button")).to_have_count(1)  # only "Log out"
        self.screenshot("audit-entry-purchase", schemes=("light", "dark"))

        self.page.go_back()
        rows.nth(0).get_by_role("link", name=re.compile(r"^#\d+ ")).click()
        change = self.page.get_by_test_id("change")
        expect(change.locator("tbody tr")).to_have_count(1)
        expect(change).to_contain_text("Inbound SMS webhook")
        expect(change.locator("td.before")).to_have_text("not set")
        expect(change.locator("td.after")).to_have_text(WEBHOOK)
        self.screenshot("audit-entry-configuration", schemes=("light", "dark"))

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

    def test_a_viewer_opening_the_admin_gets_the_portals_403_page(self):
        self.user("victor", "Viewer")
        self.log_in("victor")
        expect(self.page.get_by_role("link", name="Audit trail")).to_have_count(0)

        for path in ("/admin/", "/admin/inventory/operation/", "/audit/"):
            response = self.go(path)
            assert response.status == 403, path
            expect(self.page.get_by_role("heading", name="Not allowed")).to_be_visible()
            expect(self.page.get_by_text("log in to a different account")).to_have_count(0)
            expect(self.page.locator(".site-header")).to_be_visible()  # the portal's own page
        self.screenshot("admin-refused", schemes=("light", "dark"))
