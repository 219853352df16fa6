"""The audit selectors at scale: every filter is read through an index (the plans say so, on
SQLite and on PostgreSQL), keyset pages return what OFFSET pages would, and nothing counts."""

import json
from datetime import timedelta

from django.db import connection
from django.test import TestCase
from django.utils import timezone

from inventory import selectors
from inventory.audit import Actor, audit_append_many
from inventory.models import Action, Outcome

ENTRIES = 6000
ACTIONS = [Action.LOGIN, Action.PURCHASE, Action.CONFIGURE, Action.CANCEL, Action.DENIED]
COUNTRIES = ["GB", "NL", "DE", "FR", "BE", "US"]


def _plan(queryset) -> list[str]:
    """What the database will do for this query: the operation table's accesses, in words
    shared by both engines ("index NAME bounded", "full scan")."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return [row[-1] for row in cursor.fetchall()]
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        raw = cursor.fetchone()[0]
        plan = json.loads(raw) if isinstance(raw, str) else raw
    lines = []

    def walk(node):
        if node.get("Relation Name") == "inventory_operation" or "Index Name" in node:
            bounded = "Index Cond" in node or "Recheck Cond" in node
            alias = node.get("Alias", "").lower()
            lines.append(f"{node['Node Type']} {node.get('Index Name', '')} {alias}".rstrip())
            lines[-1] += " bounded" if bounded else ""
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return lines


def _main_table_reads(plan: list[str]) -> list[str]:
    """The lines that read the outer query's table (subqueries use the alias U0)."""
    if connection.vendor == "sqlite":
        return [line for line in plan if " inventory_operation" in line and " U0" not in line]
    return [line for line in plan if "settles_id" not in line and " u0" not in line]


class AuditSelectorsTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        # A few rare entries at the old end of the trail: the case a walk down the seq index
        # would make slow, so each filter must go to its own index for them.
        rare = Actor(username="rare", ip="198.51.100.7", request_id="req-rare")
        audit_append_many(
            [
                {
                    "action": Action.DRIFT_CHANGED,
                    "outcome": Outcome.FAILED,
                    "country": "JP",
                    "msisdn": f"8190000000{i}",
                }
                for i in range(8)
            ],
            actor=rare,
        )
        entries = []
        for i in range(ENTRIES):
            action = ACTIONS[i % len(ACTIONS)]
            entries.append(
                {
                    "action": action,
                    "outcome": Outcome.UNKNOWN if i % 97 == 0 else Outcome.SUCCEEDED,
                    "country": COUNTRIES[i % len(COUNTRIES)],
                    "msisdn": f"4477009{i:05d}",
                }
            )
        for i, chunk in enumerate(range(0, ENTRIES, 1000)):
            actor = Actor(username=f"user{i}", ip=f"192.0.2.{i + 1}", request_id=f"req-{i}")
            audit_append_many(entries[chunk : chunk + 1000], actor=actor)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # the statistics a real trail's database has

    def plan_reads(self, filters: selectors.AuditFilter) -> list[str]:
        return _main_table_reads(_plan(selectors.audit_entries(filters=filters)[:51]))

    def assert_served_by_index(self, filters: selectors.AuditFilter, index: str):
        reads = self.plan_reads(filters)
        assert reads, reads
        for line in reads:
            if connection.vendor == "sqlite":
                assert line.startswith("SEARCH"), (filters, reads)  # SCAN = whole table/index
            else:
                assert "Seq Scan" not in line, (filters, reads)
                assert line.endswith("bounded"), (filters, reads)
        assert any(index in line for line in reads), (filters, index, reads)

    # --- plans ---

    def test_each_filter_is_read_through_its_own_index(self):
        cases = {
            selectors.AuditFilter(action=Action.DRIFT_CHANGED): "audit_action_seq",
            selectors.AuditFilter(outcome=Outcome.FAILED): "audit_outcome_seq",
            selectors.AuditFilter(user="rare"): "audit_user_seq",
            selectors.AuditFilter(country="JP"): "audit_country_seq",
            selectors.AuditFilter(number="447700900042"): "msisdn",
            selectors.AuditFilter(q="rare"): "audit_user_seq",
            selectors.AuditFilter(q="req-rare"): "audit_request_seq",
            selectors.AuditFilter(q="198.51.100.7"): "audit_ip_seq",
            selectors.AuditFilter(q="+81 9000"): "msisdn",
            selectors.AuditFilter(q="#1234"): "",  # the seq's own unique index
        }
        for filters, index in cases.items():
            with self.subTest(filters=filters):
                self.assert_served_by_index(filters, index)

    def test_common_values_are_read_through_an_index_too(self):
        # PostgreSQL may rather walk the seq index and stop after 51 matches, when a value is
        # common enough for that to be quicker; never the whole table.
        for filters in (
            selectors.AuditFilter(action=Action.PURCHASE),
            selectors.AuditFilter(user="user3"),
            selectors.AuditFilter(country="NL"),
        ):
            with self.subTest(filters=filters):
                for line in self.plan_reads(filters):
                    assert "Seq Scan" not in line
                    assert "SCAN inventory_operation" not in line

    def test_a_date_range_becomes_a_range_of_entries(self):
        today = timezone.localdate()
        filters = selectors.AuditFilter(since=today - timedelta(days=1), until=today)
        reads = self.plan_reads(filters)
        assert reads
        for line in reads:
            assert line.startswith("SEARCH" if connection.vendor == "sqlite" else "Index"), reads

    def test_the_unfiltered_first_page_reads_only_the_newest_entries(self):
        reads = self.plan_reads(selectors.AuditFilter())
        # A backwards walk of the seq index that stops after 51 rows (LIMIT), no sort.
        assert len(reads) == 1, reads
        if connection.vendor == "sqlite":
            assert reads[0].startswith("SCAN inventory_operation USING INDEX"), reads
            assert "TEMP B-TREE" not in " ".join(
                _plan(selectors.audit_entries(filters=selectors.AuditFilter())[:51])
            )
        else:
            assert reads[0].startswith("Index Scan inventory_operation_seq_key"), reads

    # --- pages ---

    def test_keyset_pages_hold_the_same_rows_as_offset_pages(self):
        for filters in (
            selectors.AuditFilter(),
            selectors.AuditFilter(action=Action.CONFIGURE),
            selectors.AuditFilter(country="DE", outcome=Outcome.SUCCEEDED),
        ):
            expected = list(
                selectors.audit_entries(filters=filters).values_list("seq", flat=True)[:250]
            )
            seen, cursor = [], None
            while len(seen) < 250:
                page = selectors.audit_page(filters=_with(filters, before=cursor))
                seen += [entry.seq for entry in page.entries]
                cursor = page.older
                if cursor is None:
                    break
            assert seen[:250] == expected

    def test_going_back_to_newer_pages_returns_the_same_pages(self):
        first = selectors.audit_page(filters=selectors.AuditFilter(action=Action.LOGIN))
        second = selectors.audit_page(filters=_with(first.filters, before=first.older))
        again = selectors.audit_page(filters=_with(first.filters, after=second.newer))
        assert [e.seq for e in again.entries] == [e.seq for e in first.entries]
        assert again.newer is None

    def test_the_trail_length_comes_from_the_chain_head_not_a_count(self):
        assert selectors.audit_length() == ENTRIES + 8
        with self.assertNumQueries(1):
            selectors.audit_length()

    def test_a_page_knows_whether_more_entries_match_without_counting_them(self):
        page = selectors.audit_page(filters=selectors.AuditFilter(user="user1"))
        assert len(page.entries) == 50
        assert page.older is not None
        assert not page.matches_known
        few = selectors.audit_page(filters=selectors.AuditFilter(number="447700900042"))
        assert [e.msisdn for e in few.entries] == ["447700900042"]
        assert few.matches_known

    def test_the_export_streams_every_row_of_the_filter(self):
        rows = selectors.audit_rows(filters=selectors.AuditFilter(country="FR"))
        assert sum(1 for _ in rows) == ENTRIES // len(COUNTRIES)


def _with(filters: selectors.AuditFilter, **cursor) -> selectors.AuditFilter:
    from dataclasses import replace

    return replace(filters, **{"before": None, "after": None, **cursor})
