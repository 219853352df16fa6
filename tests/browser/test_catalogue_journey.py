"""The catalogue journey: search GB mobiles, buy one at the price shown."""

import re

from playwright.sync_api import expect

from inventory.models import OwnedNumber
from tests.browser.base import BrowserTestCase


class CatalogueJourney(BrowserTestCase):
    def search_gb_mobiles(self):
        self.go("/catalogue/")
        self.page.get_by_label("Country").select_option("GB")
        self.page.get_by_label("Number type").select_option("mobile-lvn")
        self.page.get_by_label("SMS").check()
        self.page.get_by_label("Digits", exact=True).fill("07")
        self.page.get_by_role("button", name="Search").click()
        expect(self.page.get_by_role("heading", name=re.compile("numbers in"))).to_be_visible()

    def test_an_operator_searches_gb_mobiles_and_buys_one(self):
        self.user("olivia", "Operator")
        self.log_in("olivia")
        self.go("/catalogue/")
        self.screenshot("catalogue-search")

        self.search_gb_mobiles()
        words = re.compile(r"Mobile numbers in .* that start with \+447")
        expect(self.page.get_by_text(words)).to_be_visible()
        self.screenshot("catalogue-results")

        first_row = self.page.locator("table.results-table tbody tr").first
        monthly = first_row.locator("td.numeric").first.inner_text()
        first_row.get_by_role("button", name=re.compile("^Buy")).click()
        expect(self.page.get_by_role("heading", name=re.compile("^Buy "))).to_be_visible()
        expect(self.page.get_by_test_id("monthly-cost")).to_contain_text(monthly)
        self.screenshot("purchase-confirm")

        self.page.get_by_test_id("confirm-purchase").click()

        expect(self.page.get_by_test_id("operation")).to_have_attribute("data-outcome", "succeeded")
        expect(self.page.get_by_text("The number is yours")).to_contain_text(monthly)
        self.screenshot("purchase-succeeded")
        assert OwnedNumber.objects.count() == 1
        assert self.sandbox.calls("POST /number/buy") == 1

    def test_a_viewer_sees_no_buy_button(self):
        self.user("victor", "Viewer")
        self.log_in("victor")
        self.search_gb_mobiles()
        expect(self.page.locator("table.results-table tbody tr")).to_have_count(20)
        expect(self.page.get_by_role("button", name=re.compile("^Buy"))).to_have_count(0)

    def test_a_bad_pattern_keeps_the_form_and_explains(self):
        self.user("victor", "Viewer")
        self.log_in("victor")
        self.go("/catalogue/?country=NL&pattern=%2B44+20&match=starts")
        expect(self.page.get_by_text("is not a Netherlands number")).to_be_visible()
        expect(self.page.get_by_label("Digits", exact=True)).to_have_value("+44 20")
        self.screenshot("catalogue-field-error")
