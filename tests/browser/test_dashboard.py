"""The dashboard in Chromium: every chart drawn from the page's figures, the same figures
in its table, colours that follow the scheme, and screenshots to look at."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from inventory.models import Budget, OwnedNumber, RateCard, SpendSnapshot
from inventory.services import pricing
from tests.browser.base import BrowserTestCase

CHARTS = ("spend-by-country", "spend-by-type", "spend-by-team", "spend-history", "changes-history")


def a_priced_account() -> None:
    """Numbers of every source, teams, a history and budgets."""
    RateCard.objects.create(country="NL", type="landline", catalogue_monthly_cost=Decimal("0.90"))
    RateCard.objects.create(country="DE", type="mobile-lvn", contract_monthly_cost=Decimal("9.00"))
    olivia = User.objects.get(username="olivia")
    rows = [
        ("447700900001", "GB", "mobile-lvn", {"monthly_cost": Decimal("1.25"), "team": "Sales"}),
        ("447700900002", "GB", "mobile-lvn", {"monthly_cost": Decimal("1.25"), "team": "Support"}),
        ("31201234567", "NL", "landline", {"team": "Sales", "mo_http_url": "https://x.test/"}),
        ("31201234568", "NL", "landline", {}),
        ("4915123456789", "DE", "mobile-lvn", {"team": "Support"}),
        ("18005550123", "US", "landline-toll-free", {"listed_monthly_cost": "1.25"}),
    ]
    now = timezone.now()
    for msisdn, country, kind, fields in rows:
        bought = {"purchased_at": now - timedelta(days=3), "purchased_by": olivia}
        OwnedNumber.objects.create(
            msisdn=msisdn,
            country=country,
            type=kind,
            **({**bought, **fields} if "monthly_cost" in fields else fields),
        )
    pricing.prices_refresh()
    month = timezone.localdate().replace(day=1)
    for back, (numbers, total, bought_, cancelled) in enumerate(
        [(4, "10.40", 2, 0), (5, "12.10", 1, 1)]
    ):
        start = (month - timedelta(days=28 * (back + 1))).replace(day=1)
        SpendSnapshot.objects.create(
            month=start,
            numbers=numbers,
            monthly_total=Decimal(total),
            purchases=bought_,
            cancellations=cancelled,
        )
    Budget.objects.create(team="", monthly_amount=Decimal("40"))
    Budget.objects.create(team="Support", monthly_amount=Decimal("5"))


class DashboardTestCase(BrowserTestCase):
    def setUp(self):
        super().setUp()
        self.user("olivia", "Operator")
        a_priced_account()
        self.log_in("olivia")
        self.go("/")
        self.page.wait_for_load_state("networkidle")

    def chart_data(self, chart_id: str) -> dict:
        return self.page.evaluate(
            """(id) => { const canvas = document.querySelector(`[data-chart="${id}"] canvas`);
                const chart = Chart.getChart(canvas);
                return {labels: chart.data.labels,
                        data: chart.data.datasets.map(d => d.data)}; }""",
            chart_id,
        )

    def table_rows(self, selector: str) -> list[list[str]]:
        return self.page.evaluate(
            """(selector) => [...document.querySelectorAll(selector + ' tbody tr')]
                .map(tr => [...tr.children].map(cell => cell.textContent.trim()))""",
            selector,
        )

    def test_every_chart_is_drawn_with_the_figures_of_its_table(self):
        for chart_id in CHARTS:
            expect(self.page.locator(f'[data-chart="{chart_id}"] canvas')).to_be_visible()
        for chart_id in ("spend-by-country", "spend-by-type", "spend-by-team"):
            chart = self.chart_data(chart_id)
            rows = self.table_rows(f'[data-testid="{chart_id}-table"]')
            assert [row[0] for row in rows] == chart["labels"], chart_id
            assert [float(row[2].lstrip("€").replace(",", "")) for row in rows] == chart["data"][0]
            # Out of view, still read by screen readers.
            table = self.page.locator(f'[data-testid="{chart_id}-table"]')
            assert table.evaluate("t => t.closest('.visually-hidden') !== null")
        history = self.chart_data("spend-history")
        rows = self.table_rows('[data-testid="history-table"]')
        assert [row[0] for row in rows] == history["labels"]
        assert [float(row[2].lstrip("€")) for row in rows] == history["data"][0]
        assert [int(row[1]) for row in rows] == history["data"][1]
        changes = self.chart_data("changes-history")
        assert [int(row[3]) for row in rows] == changes["data"][0]
        assert [int(row[4]) for row in rows] == changes["data"][1]
        country = self.chart_data("spend-by-country")
        assert country["labels"][0] == "Germany"  # the dearest first: a €9 contract price

    def test_the_charts_follow_the_colour_scheme(self):
        canvas = "document.querySelector('[data-chart=\"spend-by-type\"] canvas')"
        self.page.wait_for_function(f"() => window.Chart && Chart.getChart({canvas})")

        def tick_colour():
            return self.page.evaluate(
                """() => Chart.getChart(
                    document.querySelector('[data-chart="spend-by-type"] canvas')
                ).options.scales.x.ticks.color"""
            )

        self.page.emulate_media(color_scheme="light", reduced_motion="reduce")
        self.page.wait_for_timeout(300)  # Pico's colours settle (no transition: reduced motion)
        light = tick_colour()
        self.page.emulate_media(color_scheme="dark", reduced_motion="reduce")
        self.page.wait_for_timeout(300)
        dark = tick_colour()
        assert light != dark

    def test_screenshots_of_the_dashboard(self):
        self.screenshot("dashboard", schemes=("light", "dark"))
        self.go("/rate-card/")
        self.screenshot("rate-card", schemes=("light", "dark"))
