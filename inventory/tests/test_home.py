"""The home page: a dashboard of where the money goes, read from tables the writes keep."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory import cache_triggers
from inventory.audit import audit_append
from inventory.models import Action, Operation, Outcome, RateCard, SpendSnapshot, SyncRun
from inventory.selectors import next_renewal
from inventory.services import pricing
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import owned_number, owned_numbers
from inventory.tests.plans import full_scans, plan, walk
from inventory.tests.test_audit_admin_indexes import append


class HomeTestCase(BaseTestCase):
    def test_it_shows_the_spend_now_with_how_much_is_estimated(self):
        RateCard.objects.create(country="NL", type="landline", catalogue_monthly_cost=Decimal("2"))
        owned_number("447700900123", monthly_cost=Decimal("1.25"), team="Sales")
        owned_number("31201234567", country="NL", type="landline")
        owned_number("18005550123", country="US", type="landline-toll-free")
        self.login(self.viewer)
        response = self.client.get("/")
        dashboard = response.context["dashboard"]
        assert (dashboard.numbers, dashboard.priced, dashboard.estimated) == (3, 2, 1)
        assert dashboard.monthly_total == Decimal("3.25")
        self.assertContains(response, "€3.25")
        self.assertContains(response, "€2.00 of it estimated from the")
        self.assertContains(response, "1 with no price known")
        teams = {share.key: share.monthly_total for share in dashboard.by_team}
        assert teams == {"": Decimal("2.00"), "Sales": Decimal("1.25")}

    def test_it_says_what_numbers_that_go_nowhere_cost_and_links_to_them(self):
        owned_number("447700900123", monthly_cost=Decimal("1.25"))
        owned_number("447700900124", monthly_cost=Decimal("3.00"), mo_http_url="https://x.test/")
        self.login(self.viewer)
        response = self.client.get("/")
        self.assertContains(response, '<a href="/inventory/?configured=no">€1.25 a month</a>')

    def test_each_chart_has_its_figures_in_a_table_and_in_the_json_block(self):
        owned_number("447700900123", monthly_cost=Decimal("1.25"))
        owned_number("31201234567", country="NL", type="landline", monthly_cost=Decimal("2.50"))
        self.login(self.viewer)
        response = self.client.get("/")
        charts = {chart["id"]: chart for chart in response.context["charts"]["charts"]}
        assert charts["spend-by-country"]["labels"] == ["Netherlands", "United Kingdom"]
        assert charts["spend-by-country"]["datasets"][0]["data"] == [2.5, 1.25]
        self.assertContains(response, '<script id="dashboard-charts" type="application/json">')
        row = '<th scope="row">Netherlands</th><td class="numeric">1</td><td class="numeric">€2.50'
        self.assertContains(response, row)

    def test_history_shows_recorded_months_and_this_month_as_it_stands(self):
        owned_numbers(3)
        last_year = timezone.localdate().replace(day=1) - timedelta(days=40)
        SpendSnapshot.objects.create(
            month=last_year.replace(day=1), numbers=1, monthly_total=Decimal("1.25"), purchases=4
        )
        assert pricing.spend_snapshot_record() is True
        assert pricing.spend_snapshot_record() is False  # at most once a day
        self.login(self.viewer)
        history = self.client.get("/").context["dashboard"].history
        assert [(m.numbers, m.monthly_total, m.purchases) for m in history] == [
            (1, Decimal("1.25"), 4),
            (3, Decimal("3.75"), 0),
        ]

    def test_renewals_follow_the_monthly_anniversary_of_the_purchase(self):
        today = timezone.localdate()
        owned_number("447700900123", monthly_cost=Decimal("1.25"), purchased_at=timezone.now())
        self.login(self.viewer)
        dashboard = self.client.get("/").context["dashboard"]
        assert [(r.on, r.msisdn) for r in dashboard.renewals] == [(today, "447700900123")]
        assert dashboard.renewing == 1
        assert next_renewal(31, date(2026, 2, 10)) == date(2026, 2, 28)
        assert next_renewal(5, date(2026, 12, 10)) == date(2027, 1, 5)

    def test_unknown_outcomes_need_attention_until_settled(self):
        audit_append(
            action=Action.PURCHASE,
            actor=self.actor(self.operator),
            country="GB",
            msisdn="447700900123",
            outcome=Outcome.UNKNOWN,
        )
        self.login(self.operator)
        response = self.client.get("/")
        self.assertContains(response, "Needs attention")
        self.assertContains(response, "+44 7700 900123")

    def test_a_never_synced_account_offers_operators_a_sync_now_button(self):
        self.login(self.operator)
        response = self.client.get("/")
        self.assertContains(response, 'action="/inventory/sync/"')
        self.assertContains(response, "Sync now</button>")
        self.login(self.viewer)
        self.assertNotContains(self.client.get("/"), "Sync now</button>")
        SyncRun.objects.create(status=SyncRun.Status.SUCCEEDED, finished_at=timezone.now())
        self.login(self.operator)
        cache.clear()
        self.assertNotContains(self.client.get("/"), "never synced")

    def test_the_api_connection_is_no_longer_on_the_home_page(self):
        self.login(self.viewer)
        response = self.client.get("/")
        self.assertNotContains(response, "Token fetched")
        assert self.sandbox.state(numbers=False)["calls"] == {}

    def test_an_auditor_sees_a_way_to_the_trail_but_not_the_dashboard(self):
        self.login(self.auditor)
        response = self.client.get("/")
        assert response.status_code == 200
        assert "dashboard" not in response.context
        self.assertContains(response, 'href="/audit/"')


class HomeQueryCountTestCase(BaseTestCase):
    """Home costs the same few queries at 100 numbers and at 10,000: its figures are kept
    by writes, and read from a handful of small tables."""

    def captured(self) -> list[str]:
        self.login(self.viewer)
        self.client.get("/")  # warm-up: session and permissions
        with CaptureQueriesContext(connection) as captured:
            response = self.client.get("/")
        assert response.status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    def queries(self) -> int:
        return len(self.captured())

    def test_the_query_count_does_not_grow_with_the_inventory(self):
        owned_numbers(100, team="Sales", purchased_at=timezone.now())
        small = self.queries()
        owned_numbers(9_900, start=100, monthly_cost=None, purchased_at=timezone.now())
        large = self.queries()
        assert small == large
        # Session, user and permissions (3), the spend, budgets, history, renewals (up to 2),
        # and what needs attention (2).
        assert large <= 10

    def test_spend_is_read_from_its_few_rows_not_from_the_totals_by_combination(self):
        # The totals keep a row per combination of country, type, team, features, routing
        # and price source: tens of thousands at a million numbers. The spend by country,
        # type and team is its own table of a few dozen rows.
        owned_numbers(50, team="Sales")
        sql = self.captured()
        assert any(cache_triggers.SPEND in query for query in sql)
        assert not any(cache_triggers.TOTALS in query for query in sql)


TRAIL = Operation._meta.db_table


class HomeIndexTestCase(BaseTestCase):
    """What needs attention is read from the outcome index, however long the trail: the
    latest unsettled unknowns and interrupted operations, never a walk of every entry.
    Asserted on the query plans, not on time."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        append(3000)  # a third of them unknown, none settled
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {TRAIL}")

    def test_needs_attention_reads_the_trail_by_index(self):
        self.login(self.viewer)
        self.client.get("/")  # warm-up: session and permissions
        with CaptureQueriesContext(connection) as captured:
            response = self.client.get("/")
        assert len(response.context["overview"].unsettled) == 10
        reads = [q["sql"] for q in captured.captured_queries if f'"{TRAIL}"' in q["sql"]]
        assert reads
        for sql in reads:
            steps = plan(sql, [])
            assert not full_scans(steps, TRAIL), (sql, steps)
            if connection.vendor == "sqlite":  # not even in the order of an index
                walked = [s["step"] for s in walk(steps) if s["table"] == TRAIL]
                assert not [step for step in walked if step.startswith("SCAN")], (sql, steps)
