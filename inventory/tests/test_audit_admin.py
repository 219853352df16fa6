"""The trail in the admin, for superusers only: they read and export it; nobody changes it.
Everyone else gets the portal's 403 page there (auditors use /audit/, test_audit_review.py)."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

from django.contrib.admin.sites import site
from django.contrib.admin.templatetags.admin_list import items_for_result
from django.db import connection
from django.test import RequestFactory

from inventory import trail_guards
from inventory.admin import CSV_HEADER
from inventory.audit import Actor, audit_append
from inventory.models import Action, Operation, Outcome
from inventory.templatetags.audit_admin import audit_rows
from inventory.tests.base import BaseTestCase, make_user

CHANGELIST = "/admin/inventory/operation/"
EXPORT = "/admin/inventory/operation/export.csv"


class AuditAdminTestCase(BaseTestCase):
    def setUp(self):
        olivia, root = self.actor(self.operator), self.actor(self.superuser)
        self.purchase = audit_append(
            action=Action.PURCHASE, actor=olivia, country="GB", msisdn="447700900111",
            monthly_cost=Decimal("1.25"), outcome=Outcome.SUCCEEDED, http_status=200,
        )  # fmt: skip
        self.other_purchase = audit_append(
            action=Action.PURCHASE, actor=root, country="NL", msisdn="31612345678",
            monthly_cost=Decimal("4.50"), outcome=Outcome.FAILED, http_status=420,
        )  # fmt: skip
        self.configure = audit_append(
            action=Action.CONFIGURE, actor=olivia, country="GB", msisdn="447700900111",
            before={"moHttpUrl": ""}, after={"moHttpUrl": "https://hooks.example.com/sms"},
            outcome=Outcome.SUCCEEDED, http_status=200,
        )  # fmt: skip
        self.unsettled = audit_append(
            action=Action.CANCEL, actor=olivia, country="GB", msisdn="447700900222",
            outcome=Outcome.UNKNOWN, reason="The answer was lost.",
        )  # fmt: skip
        self.settled = audit_append(
            action=Action.CANCEL, actor=olivia, country="GB", msisdn="447700900333",
            outcome=Outcome.UNKNOWN, reason="The answer was lost.",
        )  # fmt: skip
        audit_append(
            action=Action.SETTLE, actor=Actor.system("sync_numbers"), country="GB",
            msisdn="447700900333", settles=self.settled, outcome=Outcome.SUCCEEDED,
        )  # fmt: skip
        self.change_url = f"{CHANGELIST}{self.purchase.pk}/change/"

    def listed(self, query="") -> list[int]:
        response = self.client.get(CHANGELIST + query)
        assert response.status_code == 200
        return sorted(entry.seq for entry in response.context["cl"].result_list)

    @staticmethod
    def every_seq() -> list[int]:
        """The six entries above and the logins of the test (logging in is audited too)."""
        return list(Operation.objects.order_by("seq").values_list("seq", flat=True))

    def exported(self, query="") -> list[dict]:
        response = self.client.get(EXPORT + query)
        assert response.status_code == 200
        assert response.streaming
        assert response["Content-Type"] == "text/csv"
        text = b"".join(response.streaming_content).decode()
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == CSV_HEADER
        return [dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]]

    # --- nothing is editable ---

    def test_nobody_may_add_change_or_delete_an_entry_not_even_a_superuser(self):
        admin = site._registry[Operation]
        for user in (self.superuser,):
            request = RequestFactory().get(CHANGELIST)
            request.user = user
            assert admin.has_view_permission(request, self.purchase)
            assert not admin.has_add_permission(request)
            assert not admin.has_change_permission(request, self.purchase)
            assert not admin.has_delete_permission(request, self.purchase)
            assert admin.get_actions(request) == {}

            self.login(user)
            assert self.client.get(f"{CHANGELIST}add/").status_code == 403
            assert self.client.post(f"{CHANGELIST}add/", {"action": "login"}).status_code == 403
            edit = self.client.post(self.change_url, {"reason": "edited", "_save": "Save"})
            assert edit.status_code == 403
            delete_url = f"{CHANGELIST}{self.purchase.pk}/delete/"
            assert self.client.get(delete_url).status_code == 403
            assert self.client.post(delete_url, {"post": "yes"}).status_code == 403
            bulk = {"action": "delete_selected", "_selected_action": [self.purchase.pk]}
            self.client.post(CHANGELIST, bulk)

        self.purchase.refresh_from_db()
        assert self.purchase.reason == ""
        assert Operation.objects.exclude(action__in=[Action.LOGIN, Action.DENIED]).count() == 6
        # Each attempt is itself on the trail, the superuser's included.
        refusals = Operation.objects.filter(action=Action.DENIED).order_by("seq")
        assert [r.actor_username for r in refusals] == ["root"] * 5
        assert refusals[3].request["method"] == "GET"
        assert refusals[3].request["path"] == delete_url

    def test_the_detail_page_is_read_only_and_shows_before_and_after(self):
        self.login(self.superuser)

        response = self.client.get(f"{CHANGELIST}{self.configure.pk}/change/")

        assert response.status_code == 200
        self.assertNotContains(response, 'name="_save"')
        self.assertNotContains(response, 'name="reason"')
        self.assertNotContains(response, "<textarea")
        self.assertContains(response, '<table class="audit-diff">')
        self.assertContains(response, '<td class="audit-before">–</td>', html=False)
        self.assertContains(
            response, '<td class="audit-after">https://hooks.example.com/sms</td>', html=False
        )
        self.assertNotContains(response, "deletelink")
        self.assertNotContains(response, "/admin/auth/user/")  # no link the auditor cannot use

    # --- who sees the trail here ---

    def test_only_superusers_may_open_the_admin(self):
        self.login(self.superuser)
        assert self.client.get(CHANGELIST).status_code == 200
        assert self.client.get(EXPORT).status_code == 200

    def test_everyone_else_gets_the_portals_403_page_and_the_refusal_is_recorded(self):
        staff_operator = make_user("sam", "Operator", is_staff=True)
        for user in (self.operator, self.viewer, self.auditor, staff_operator):
            self.login(user)
            for path in ("/admin/", CHANGELIST, self.change_url, EXPORT, "/admin/login/"):
                response = self.client.get(path)
                assert response.status_code == 403, (user, path)
                self.assertTemplateUsed(response, "403.html")
                self.assertContains(response, "Not allowed", status_code=403)
                self.assertNotContains(response, "log in to a different account", status_code=403)
            refusals = Operation.objects.filter(action=Action.DENIED, actor_username=user.username)
            assert refusals.count() == 5

    # --- finding entries ---

    def test_the_list_filters_by_action_outcome_user_and_country(self):
        self.login(self.superuser)

        assert self.listed("?action=purchase") == [1, 2]
        assert self.listed("?outcome=unknown") == [4, 5]
        assert self.listed("?user=olivia") == [1, 3, 4, 5]
        assert self.listed("?country=NL") == [2]
        assert self.listed("?action=cancel&outcome=unknown&country=GB") == [4, 5]

    def test_the_user_and_country_filters_offer_whoever_and_wherever_the_trail_holds(self):
        self.login(self.superuser)

        def offered(response, name):
            specs = response.context["cl"].filter_specs
            [spec] = [f for f in specs if getattr(f, "parameter_name", "") == name]
            return [value for value, _ in spec.lookup_choices]

        first = self.client.get(CHANGELIST)
        assert "olivia" in offered(first, "user")
        assert "newcomer" not in offered(first, "user")
        assert "FR" not in offered(first, "country")
        audit_append(
            action=Action.PURCHASE, actor=Actor.system("newcomer"), country="FR",
            msisdn="33612345678", outcome=Outcome.SUCCEEDED,
        )  # fmt: skip

        later = self.client.get(CHANGELIST)  # at once: the choices are not kept past an entry
        assert "newcomer" in offered(later, "user")
        assert "FR" in offered(later, "country")

    def test_search_finds_a_number_or_a_username(self):
        self.login(self.superuser)

        assert self.listed("?q=447700900111") == [1, 3]
        assert self.listed("?q=olivia") == [1, 3, 4, 5]

    def test_unsettled_unknown_operations_have_their_own_filter(self):
        self.login(self.superuser)

        assert self.listed("?unsettled=yes") == [4]
        page = self.client.get(CHANGELIST).content.decode()
        assert "UNKNOWN, not settled" in page
        assert "unknown → settled succeeded" in page

    # --- CSV export ---

    def test_the_csv_export_holds_exactly_the_rows_of_the_filter(self):
        self.login(self.superuser)

        purchases = self.exported("?action=purchase")
        assert [row["seq"] for row in purchases] == ["2", "1"]
        assert {row["action"] for row in purchases} == {"purchase"}
        one_number = self.exported("?q=447700900111")
        assert [(row["seq"], row["action"]) for row in one_number] == [
            ("3", "configure"), ("1", "purchase"),
        ]  # fmt: skip
        assert [row["seq"] for row in self.exported("?unsettled=yes")] == ["4"]
        assert len(self.exported()) == len(self.every_seq())

    def test_the_csv_export_carries_the_recorded_facts(self):
        self.login(self.superuser)

        [row] = self.exported("?q=31612345678")

        assert row["username"] == "root"
        assert row["ip"] == "127.0.0.1"
        assert row["monthly_cost_eur"] == "4.5000"
        assert (row["outcome"], row["http_status"]) == ("failed", "420")
        assert row["hash"] == self.other_purchase.hash
        [settled] = self.exported("?q=447700900333&action=cancel")
        assert settled["settled_as"] == "succeeded"

    def test_the_csv_export_writes_times_costs_and_json_as_the_entries_hold_them(self):
        self.login(self.superuser)
        on_the_second = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)
        with trail_guards.guards_lifted(connection), connection.cursor() as cursor:
            table = Operation._meta.db_table
            cursor.execute(
                f"UPDATE {table} SET created_at = %s WHERE id = %s",  # noqa: S608
                [on_the_second, self.other_purchase.pk],
            )

        rows = {row["seq"]: row for row in self.exported()}

        whole = rows[str(self.other_purchase.seq)]
        assert whole["created_at_utc"] == "2026-03-01T10:00:00+00:00"  # as isoformat() writes it
        assert whole["request"] == "{}"
        assert (whole["before"], whole["after"]) == ("null", "null")
        configured = rows[str(self.configure.seq)]
        assert configured["created_at_utc"] == self.configure.created_at.astimezone(UTC).isoformat()
        assert configured["before"] == '{"moHttpUrl": ""}'
        assert configured["after"] == '{"moHttpUrl": "https://hooks.example.com/sms"}'
        assert rows[str(self.purchase.seq)]["monthly_cost_eur"] == "1.2500"

    def test_a_malformed_filter_in_an_export_link_is_no_server_error(self):
        self.login(self.superuser)

        for query in ("?seq__gt=abc", "?created_at__year=twenty", "?nosuchfield=1"):
            response = self.client.get(EXPORT + query)
            assert response.status_code == 400, query
            self.assertContains(response, "cannot be exported", status_code=400)
        assert len(self.exported("?o=99")) == len(self.every_seq())  # unknown order: ignored


class AuditRowsTestCase(BaseTestCase):
    """The list's rows are written by the portal's own tag (faster at 50 a page), exactly as
    the admin's result_list writes them."""

    def test_every_cell_is_the_one_the_admin_writes(self):
        actor, system = self.actor(self.operator), Actor.system("sync_numbers")
        unknown = audit_append(
            action=Action.CANCEL, actor=actor, country="GB", msisdn="447700900222",
            outcome=Outcome.UNKNOWN, reason="The answer was lost.",
        )  # fmt: skip
        audit_append(
            action=Action.SETTLE, actor=system, country="GB", msisdn="447700900222",
            settles=unknown, outcome=Outcome.SUCCEEDED,
        )  # fmt: skip
        audit_append(
            action=Action.PURCHASE, actor=actor, country="NL", msisdn="31612345678",
            monthly_cost=Decimal("4.50"), outcome=Outcome.FAILED, http_status=420,
        )  # fmt: skip
        audit_append(action=Action.LOGIN, actor=Actor(), outcome=Outcome.SUCCEEDED)
        audit_append(action=Action.CANCEL, actor=actor, msisdn="447700900333", country="GB")
        self.login(self.superuser)

        for query in ("", "?country=GB", "?user=olivia&o=2", "?q=447700900222"):
            cl = self.client.get(CHANGELIST + query).context["cl"]
            expected = [list(items_for_result(cl, entry, None)) for entry in cl.result_list]
            assert expected, query
            assert audit_rows(cl) == expected, query

    def test_the_page_shows_the_rows_it_wrote(self):
        entry = audit_append(
            action=Action.PURCHASE, actor=self.actor(self.operator), country="NL",
            msisdn="31612345678", outcome=Outcome.SUCCEEDED,
        )  # fmt: skip
        self.login(self.superuser)

        response = self.client.get(CHANGELIST + "?country=NL")

        cl = response.context["cl"]
        for cell in audit_rows(cl)[0]:
            self.assertContains(response, cell, html=True)
        self.assertContains(response, f"{CHANGELIST}{entry.pk}/change/?_changelist_filters=")
