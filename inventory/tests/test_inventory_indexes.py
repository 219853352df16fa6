"""Every page kind of the inventory is read from an index, on SQLite and on PostgreSQL:
each sort both ways (from the start, and seeking from a row), each filter, the text search.
Asserted on the query plans the database gives for the portal's own queries, not on time.

On PostgreSQL, sequential scans and sorts are priced out while explaining (the test tables
are small, and a small table is cheaper to scan): a plan without them proves an index can
serve the query, which is what PostgreSQL chooses once the table is large."""

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import cache_triggers, selectors
from inventory.forms import INVENTORY_SORT_CHOICES
from inventory.models import OwnedNumber
from inventory.patterns import DigitPattern
from inventory.selectors import InventoryFilter, inventory_order
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import varied_numbers

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


def plan(sql: str, params) -> list[dict]:
    """The plan as a tree: {"step": text, "table": table read, "children": [...]}."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params or None)
            nodes = {0: {"children": []}}
            for node, parent, _, detail in cursor.fetchall():
                words = detail.split()
                table = words[1] if words[0] in ("SCAN", "SEARCH") else ""
                nodes[node] = {"step": detail, "table": table, "children": []}
                nodes[parent]["children"].append(nodes[node])
            return nodes[0]["children"]
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_sort = off")
        try:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params or None)
            [(document,)] = cursor.fetchall()
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_sort")
    if isinstance(document, str):
        document = json.loads(document)

    def tree(node):
        return {
            "step": node["Node Type"]
            + (f" using {node['Index Name']}" if "Index Name" in node else ""),
            "table": node.get("Relation Name", ""),
            "children": [tree(child) for child in node.get("Plans", [])],
        }

    return [tree(document[0]["Plan"])]


def walk(steps):
    for step in steps:
        yield step
        yield from walk(step["children"])


def full_scans(steps) -> list[str]:
    """Steps that read the whole cache table."""
    if connection.vendor == "sqlite":
        whole = [
            s for s in walk(steps) if s["step"].startswith("SCAN ") and " USING " not in s["step"]
        ]
    else:
        whole = [s for s in walk(steps) if s["step"] == "Seq Scan"]
    return [s["step"] for s in whole if s["table"] == CACHE]


def sorts(steps) -> list[str]:
    """Steps that sort rows read from the cache table (a union sorting the few rows of its
    parts is not one: what it sorts comes from their LIMITs)."""
    found = []
    if connection.vendor == "sqlite":
        for parent in [{"children": steps}, *walk(steps)]:
            kids = parent["children"]
            if any(k["table"] == CACHE for k in kids):
                found += [k["step"] for k in kids if k["step"].startswith("USE TEMP B-TREE")]
        return found
    for step in walk(steps):
        if step["step"] == "Sort" and any(k["table"] == CACHE for k in step["children"]):
            found.append(step["step"])
    return found


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
        assert not full_scans(steps), (what, steps)
        assert not sorts(steps), (what, steps)

    def test_every_sort_both_ways_reads_an_index_in_order(self):
        numbers = selectors._scope(InventoryFilter()).numbers
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
            assert not full_scans(steps), steps
            assert not sorts(steps), steps

    def test_each_filter_reads_an_index_in_the_order_of_the_page(self):
        for values in FILTERS:
            numbers = selectors._scope(InventoryFilter(**values)).numbers
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
                assert not full_scans(steps), (values, query["sql"], steps)
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
        assert not full_scans(plan(rows[0], []))
        assert not sorts(plan(rows[0], []))
