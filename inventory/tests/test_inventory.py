"""The inventory page: filters over the cache, totals, sorting, paging, CSV, no API call."""

import csv
import io
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory import api_client as api
from inventory.models import OwnedNumber
from inventory.services.numbers import number_annotate
from inventory.services.purchase import number_purchase
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import owned_number, owned_numbers


class InventoryTestCase(BaseTestCase):
    url = "/inventory/"

    def setUp(self):
        owned_number(
            "31201234567",
            country="NL",
            type="landline",
            has_sms=False,
            monthly_cost=Decimal("2.00"),
            label="Reception",
            team="Front desk",
        )
        owned_number(
            "31612345678",
            country="NL",
            mo_http_url="https://hooks.example.com/sms",
            monthly_cost=Decimal("3.50"),
        )
        owned_number(
            "447700900123",
            voice_callback_type="sip",
            voice_callback_value="sip:desk@example.com",
            has_mms=True,
        )
        owned_number(
            "18005550123",
            country="US",
            type="landline-toll-free",
            has_sms=False,
            notes="Support hotline, keep",
        )

    def msisdns(self, **query):
        response = self.client.get(self.url, query)
        assert response.status_code == 200
        return [row.msisdn for row in response.context["listing"].rows]

    def test_it_lists_the_cache_without_calling_the_api(self):
        self.login(self.viewer)
        assert len(self.msisdns()) == 4
        assert self.sandbox.state(numbers=False)["calls"] == {}

    def test_it_filters_by_country_type_and_feature(self):
        self.login(self.viewer)
        assert self.msisdns(country="NL") == ["31201234567", "31612345678"]
        assert self.msisdns(type="landline-toll-free") == ["18005550123"]
        assert self.msisdns(features=["MMS"]) == ["447700900123"]
        assert self.msisdns(features=["SMS", "VOICE"], country="NL") == ["31612345678"]

    def test_the_three_match_modes_are_explicit(self):
        self.login(self.viewer)
        assert self.msisdns(pattern="06", match="starts", country="NL") == ["31612345678"]
        assert self.msisdns(pattern="+44 7700", match="starts") == ["447700900123"]
        assert self.msisdns(pattern="0123", match="ends") == ["18005550123", "447700900123"]
        assert self.msisdns(pattern="1234", match="contains") == ["31201234567", "31612345678"]

    def test_starts_with_a_national_number_needs_a_country(self):
        self.login(self.viewer)
        response = self.client.get(self.url, {"pattern": "06", "match": "starts"})
        self.assertContains(response, "Choose a country")

    def test_it_filters_by_configuration(self):
        self.login(self.viewer)
        assert self.msisdns(configured="yes") == ["31612345678", "447700900123"]
        assert self.msisdns(configured="no") == ["18005550123", "31201234567"]

    def test_free_text_searches_label_team_and_notes(self):
        self.login(self.viewer)
        assert self.msisdns(q="front") == ["31201234567"]
        assert self.msisdns(q="HOTLINE") == ["18005550123"]

    def test_it_sorts_by_a_column_both_ways(self):
        self.login(self.viewer)
        assert self.msisdns(sort="-monthly_cost")[0] == "31612345678"
        assert self.msisdns(sort="label")[-1] == "31201234567"
        assert self.msisdns(sort="-msisdn")[0] == "447700900123"

    def test_totals_cover_the_whole_filter_and_say_which_prices_are_known(self):
        self.login(self.viewer)
        response = self.client.get(self.url, {"country": "NL", "size": 10})
        summary = response.context["listing"].summary
        assert (summary.count, summary.priced, summary.monthly_total) == (2, 2, Decimal("5.50"))
        response = self.client.get(self.url)
        self.assertContains(response, "no price known for 2")

    def test_it_pages_through_the_cache(self):
        owned_numbers(120)
        self.login(self.viewer)
        response = self.client.get(self.url, {"size": 50, "page": 3})
        pagination = response.context["listing"].pagination
        assert (pagination.page, pagination.pages, len(response.context["listing"].rows)) == (
            3,
            3,
            24,
        )
        self.assertContains(response, "101–124 of 124")

    def test_csv_export_streams_the_filtered_list(self):
        self.login(self.viewer)
        response = self.client.get("/inventory/numbers.csv", {"country": "NL"})
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0][0] == "msisdn"
        assert [row[0] for row in rows[1:]] == ["31201234567", "31612345678"]
        assert rows[1][rows[0].index("label")] == "Reception"

    def test_csv_cells_cannot_smuggle_spreadsheet_formulas(self):
        owned_number("447700900999", label='=HYPERLINK("http://x")')
        self.login(self.viewer)
        response = self.client.get("/inventory/numbers.csv", {"pattern": "999", "match": "ends"})
        assert "'=HYPERLINK" in b"".join(response.streaming_content).decode()

    def test_the_sync_button_is_for_operators_only(self):
        self.login(self.viewer)
        self.assertNotContains(self.client.get(self.url), "Sync now")
        self.login(self.operator)
        self.assertContains(self.client.get(self.url), "Sync now")

    def test_it_warns_when_the_cache_was_never_synced(self):
        self.login(self.viewer)
        self.assertContains(self.client.get(self.url), "Never synced")

    def test_an_auditor_is_refused(self):
        self.login(self.auditor)
        assert self.client.get(self.url).status_code == 403
        assert self.client.get("/inventory/numbers.csv").status_code == 403


class InventoryQueryCountTestCase(BaseTestCase):
    """The page costs the same number of queries at 100 and at 100,000 cached numbers."""

    def queries_for(self, query):
        self.login(self.viewer)
        self.client.get("/inventory/", query)  # warm-up: session and permissions caches
        with CaptureQueriesContext(connection) as captured:
            response = self.client.get("/inventory/", query)
        assert response.status_code == 200
        return len(captured)

    def test_the_query_count_does_not_grow_with_the_inventory(self):
        queries = {"plain": {}, "filtered": {"country": "GB", "pattern": "77", "match": "contains"},
                   "last page": {"page": 2}}  # fmt: skip
        owned_numbers(100)
        small = {name: self.queries_for(query) for name, query in queries.items()}
        owned_numbers(99_900, start=100)
        queries["last page"] = {"page": 2000}
        large = {name: self.queries_for(query) for name, query in queries.items()}

        assert small == large
        # Session, user and permissions (3), the totals, the page with its destinations'
        # names; free text on SQLite asks its index first how many it finds (DESIGN §7: ≤ 6).
        assert max(large.values()) <= 6


class InventoryTotalsTestCase(BaseTestCase):
    """Totals follow every change the services make (the database keeps them in step)."""

    def count(self, **query):
        return self.client.get("/inventory/", query).context["listing"].summary.count

    def test_totals_follow_every_change_the_services_make(self):
        owned_number("31201234567", country="NL", type="landline")
        self.login(self.operator)
        assert (self.count(), self.count(q="lobby")) == (1, 0)

        offer = api.default_client().search_available(country="GB", size=1).items[0]
        number_purchase(client=api.default_client(), actor=self.actor(self.operator),
                        offer=offer, form_token="t1")  # fmt: skip
        assert self.count() == 2

        number = OwnedNumber.objects.get(msisdn="31201234567")
        number_annotate(actor=self.actor(self.operator), number=number, values={"label": "Lobby"})
        assert self.count(q="lobby") == 1


class InventoryWordingTestCase(BaseTestCase):
    url = "/inventory/"

    def test_sorting_by_country_follows_the_names_not_the_codes(self):
        for msisdn, country in [("61212345678", "AU"), ("4312345678", "AT"), ("3212345678", "BE")]:
            owned_number(msisdn, country=country, type="landline")
        self.login(self.viewer)

        ascending = self.client.get(self.url, {"sort": "country"}).context["listing"].rows
        descending = self.client.get(self.url, {"sort": "-country"}).context["listing"].rows

        assert [n.country for n in ascending] == ["AU", "AT", "BE"]  # Australia, Austria, …
        assert [n.country for n in descending] == ["BE", "AT", "AU"]

    def test_a_page_past_the_end_says_so_instead_of_a_nonsense_range(self):
        owned_numbers(42)
        self.login(self.viewer)

        response = self.client.get(self.url, {"page": 999})

        self.assertContains(response, "There is no page 999")
        self.assertNotContains(response, "of 42 · page 999")
        self.assertNotContains(response, 'aria-label="Pages"')

    def test_without_a_size_the_filter_shows_the_fifty_it_returns(self):
        owned_numbers(60)
        self.login(self.viewer)
        response = self.client.get(self.url, {"country": "GB"})
        assert len(response.context["listing"].rows) == 50
        self.assertContains(response, '<option value="50" selected>50</option>', html=False)

    def test_a_sync_a_moment_ago_was_just_now(self):
        from inventory.models import SyncRun

        SyncRun.objects.create(status=SyncRun.Status.SUCCEEDED, finished_at=timezone.now())
        self.login(self.viewer)
        response = self.client.get(self.url)
        self.assertContains(response, "Last synced just now")
        self.assertNotContains(response, "0 minutes ago")
