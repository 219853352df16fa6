"""Every page kind of the inventory is read from an index, on SQLite and on PostgreSQL:
each sort both ways (from the start, and seeking from a row), each filter, the text search.
Asserted on the query plans the database gives for the portal's own queries, not on time
(see inventory/tests/plans.py)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import cache_triggers, selectors
from inventory.forms import INVENTORY_SORT_CHOICES
from inventory.models import OwnedNumber
from inventory.patterns import DigitPattern
from inventory.selectors import InventoryFilter, inventory_order
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import varied_numbers
from inventory.tests.plans import full_scans, plan, sorts, walk

CACHE = cache_triggers.CACHE
SORTS = [value for value, _ in INVENTORY_SORT_CHOICES]
FILTERS = [
    {"country": "NL"},
    {"type": "landline"},
    {"country": "NL", "type": "landline"},
    {"features": ("SMS",)},
    {"features": ("MMS",)},
    {"configured": "yes"},
    {"configured": "no"},
]
FIELDS = {field.name: field for field in OwnedNumber._meta.fields}


def sql_of(query) -> tuple[str, list]:
    return query.query.sql_with_params()


class InventoryIndexTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        varied_numbers(3000)
        for number in OwnedNumber.objects.order_by("msisdn")[100:3000:300]:  # ten of them
            number.label, number.notes = "Lobby phone", "by the revolving door"
            number.save()
        with connection.cursor() as cursor:  # as the sync does after the cache grew
            cursor.execute(f"ANALYZE {CACHE}")
        cls.middle = OwnedNumber.objects.order_by("msisdn")[1500]

    def assert_read_from_an_index(self, query, what):
        steps = plan(*sql_of(query))
        assert not full_scans(steps, CACHE), (what, steps)
        assert not sorts(steps, CACHE), (what, steps)

    def test_every_sort_both_ways_reads_an_index_in_order(self):
        numbers = selectors.owned_number_queryset(filters=InventoryFilter())
        for sort in SORTS:
            order = inventory_order(sort)
            start = order.parse(order.cursor_of(self.middle), fields=FIELDS)
            for backward in (False, True):
                for cursor in (None, start):
                    for part, query in order.queries(numbers, cursor, backward=backward):
                        what = (sort, "backward" if backward else "forward", cursor, part)
                        self.assert_read_from_an_index(query[:51], what)

    def test_a_sort_with_unknown_values_is_one_query_whose_only_sort_is_of_its_page(self):
        for sort in ("monthly_cost", "-purchased_at"):
            with CaptureQueriesContext(connection) as captured:
                page = selectors.owned_number_list(filters=InventoryFilter(sort=sort, page=1))
            assert len(page.rows) == 50
            [union] = [q["sql"] for q in captured.captured_queries if "UNION ALL" in q["sql"]]
            steps = plan(union, [])
            assert not full_scans(steps, CACHE), steps
            assert not sorts(steps, CACHE), steps

    def test_each_filter_reads_an_index_in_the_order_of_the_page(self):
        for values in FILTERS:
            numbers = selectors.owned_number_queryset(filters=InventoryFilter(**values))
            for sort in ("msisdn", "-msisdn"):
                for _, query in inventory_order(sort).queries(numbers, None, backward=False):
                    self.assert_read_from_an_index(query[:51], (values, sort))

    def test_the_totals_are_a_sum_over_the_totals_table_not_a_count_of_the_cache(self):
        for values in [{}, *FILTERS]:
            with CaptureQueriesContext(connection) as captured:
                selectors.inventory_totals(filters=InventoryFilter(**values))
            [query] = captured.captured_queries
            assert cache_triggers.TOTALS in query["sql"]
            assert f'"{CACHE}"' not in query["sql"]

    def test_free_text_and_digits_are_found_through_the_text_index(self):
        cases = [
            {"q": "revolving"},
            {"q": "no such words anywhere"},
            {"pattern": DigitPattern(digits="2345", mode="contains")},
            {"pattern": DigitPattern(digits="999", mode="ends"), "q": "reception"},
        ]
        for values in cases:
            with CaptureQueriesContext(connection) as captured:
                page = selectors.owned_number_list(filters=InventoryFilter(**values))
            assert page.summary.exact, values
            for query in captured.captured_queries:
                steps = plan(query["sql"], [])
                assert not full_scans(steps, CACHE), (values, query["sql"], steps)
            text_index = [s["step"] for s in walk(plan(captured.captured_queries[0]["sql"], []))]
            if connection.vendor == "sqlite":
                assert any("VIRTUAL TABLE INDEX" in s for s in text_index), text_index
            else:
                assert any("trigrams" in s for s in text_index), text_index

    def test_a_last_page_is_read_backwards_from_the_end(self):
        with CaptureQueriesContext(connection) as captured:
            page = selectors.owned_number_list(filters=InventoryFilter(page=60, size=50))
        assert [n.msisdn for n in page.rows] == list(
            OwnedNumber.objects.order_by("msisdn").values_list("msisdn", flat=True)[2950:]
        )
        rows = [
            q["sql"] for q in captured.captured_queries if cache_triggers.TOTALS not in q["sql"]
        ]
        assert "DESC" in rows[0]
        assert "OFFSET" not in rows[0].replace("OFFSET 0", "")
        assert not full_scans(plan(rows[0], []), CACHE)
        assert not sorts(plan(rows[0], []), CACHE)
