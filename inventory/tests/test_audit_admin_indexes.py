"""The audit list in the admin at any length of the trail: every query of a view is read
from an index, and none counts the whole trail. Asserted on query plans, not on time."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.admin import BoundedPaginator
from inventory.audit import Actor, audit_append_many
from inventory.models import Action, Operation, Outcome
from inventory.tests.base import BaseTestCase
from inventory.tests.plans import full_scans, plan, sorts, walk

CHANGELIST = "/admin/inventory/operation/"
TRAIL = Operation._meta.db_table


def append(count: int) -> None:
    """`count` finished entries by four users, over actions, countries and outcomes."""
    for user in ("olivia", "root", "sync_numbers", "audrey"):
        rows = [
            {
                "action": [Action.PURCHASE, Action.CONFIGURE, Action.LOGIN, Action.SYNC][i % 4],
                "country": ["GB", "NL", "US", ""][i % 4],
                "msisdn": f"4477009{i % 500:05d}",
                "outcome": [Outcome.SUCCEEDED, Outcome.FAILED, Outcome.UNKNOWN][i % 3],
            }
            for i in range(count // 4 + 1)
        ]
        audit_append_many(rows, actor=Actor.system(user))


class AuditListIndexTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        append(3000)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {TRAIL}")

    def queries_of(self, query: str) -> list[str]:
        self.client.get(CHANGELIST)  # warm-up: session and permissions
        with CaptureQueriesContext(connection) as captured:
            response = self.client.get(CHANGELIST + query)
        assert response.status_code == 200, query
        return [q["sql"] for q in captured.captured_queries if f'"{TRAIL}"' in q["sql"]]

    def test_every_view_of_the_list_reads_indexes_and_counts_at_most_the_bound(self):
        today = timezone.localdate()
        views = [
            "",
            "?action=purchase",
            "?outcome=unknown",
            "?unsettled=yes",
            "?user=olivia",
            "?country=NL",
            "?action=configure&country=GB",
            "?q=447700900123",
            "?q=%2B44%207700%20900123",
            "?q=root",
            f"?created_at__year={today.year}",
            f"?created_at__year={today.year}&created_at__month={today.month}",
            f"?created_at__year={today.year}&created_at__month={today.month}"
            f"&created_at__day={today.day}",
            "?p=30",
        ]
        self.login(self.superuser)  # the admin is for superusers
        for view in views:
            for sql in self.queries_of(view):
                steps = plan(sql, [])
                assert not full_scans(steps, TRAIL), (view, sql, steps)
                assert not sorts(steps, TRAIL), (view, sql, steps)
                if re.search(r"\bCOUNT\(", sql):
                    assert "LIMIT" in sql, (view, sql)
                if connection.vendor == "sqlite" and re.search(r"\b(MIN|MAX)\(", sql):
                    # An end of an index is a SEARCH; a SCAN, even of an index, reads it all.
                    walked = [step["step"] for step in walk(steps) if step["table"] == TRAIL]
                    assert not [s for s in walked if s.startswith("SCAN")], (view, sql, steps)

    def test_search_finds_a_number_however_it_is_written(self):
        self.login(self.superuser)  # the admin is for superusers
        for typed in ("447700900123", "+44 7700 900123", "0044 7700-900123"):
            response = self.client.get(CHANGELIST, {"q": typed})
            listed = {entry.msisdn for entry in response.context["cl"].result_list}
            assert listed == {"447700900123"}, typed

    def test_unknown_outcomes_not_settled_are_read_from_their_own_index(self):
        """The few unknown entries, with the id a settlement names, from one small index:
        not every unknown entry's whole row to find the handful not settled. (SQLite picks
        an index of its own for them; that it reads no whole table is asserted above.)"""
        if connection.vendor != "postgresql":
            self.skipTest("a covering partial index is PostgreSQL's choice")
        self.login(self.superuser)  # the admin is for superusers
        queries = self.queries_of("?unsettled=yes")
        assert queries
        for sql in queries:
            if "'unknown'" in sql:
                steps = [step["step"] for step in walk(plan(sql, []))]
                assert any("audit_unknown_seq" in step for step in steps), (sql, steps)

    def test_a_deep_page_skips_entries_by_their_seq_alone(self):
        """Not an OFFSET over whole entries (each read and its settlement looked up): the
        skipped ones are counted by seq in a subquery, and only the page's entries are read."""
        self.login(self.superuser)  # the admin is for superusers
        for view in ("?p=30", "?country=NL&p=5"):
            [sql] = [q for q in self.queries_of(view) if "OFFSET" in q]
            skipping = re.search(r'\(SELECT \w+\."seq" AS "seq" FROM [^()]* OFFSET \d+\)', sql)
            assert skipping, (view, sql)
            assert sql.endswith("LIMIT 50"), (view, sql)

    def test_a_deep_page_holds_the_entries_an_offset_would(self):
        self.login(self.superuser)  # the admin is for superusers
        for view, entries in (
            ("?p=30", Operation.objects.order_by("-seq")),
            ("?country=NL&p=5", Operation.objects.filter(country="NL").order_by("-seq")),
            ("?country=NL&o=1&p=5", Operation.objects.filter(country="NL").order_by("seq")),
        ):
            page = int(view.rpartition("p=")[2])
            expected = list(entries.values_list("seq", flat=True)[(page - 1) * 50 : page * 50])
            response = self.client.get(CHANGELIST + view)
            assert [entry.seq for entry in response.context["cl"].result_list] == expected, view

    def test_each_row_links_to_its_entry_keeping_the_lists_filters(self):
        self.login(self.superuser)  # the admin is for superusers
        entry = Operation.objects.filter(country="NL").latest("seq")

        response = self.client.get(CHANGELIST + "?country=NL")

        link = f"{CHANGELIST}{entry.pk}/change/?_changelist_filters=country%3DNL"
        self.assertContains(response, f'href="{link}"')


class BoundedCountTestCase(BaseTestCase):
    def test_the_count_stops_at_the_bound_and_the_list_says_more_than(self):
        append(BoundedPaginator.BOUND + 5)
        self.login(self.superuser)  # the admin is for superusers

        response = self.client.get(CHANGELIST)

        assert response.context["cl"].paginator.count == BoundedPaginator.BOUND + 1
        self.assertContains(response, "More than 10000 audit entries")

    def test_a_short_list_is_counted_exactly(self):
        paginator = BoundedPaginator(Operation.objects.order_by("-seq"), 50)
        assert paginator.count == Operation.objects.count()
        assert not paginator.bounded
