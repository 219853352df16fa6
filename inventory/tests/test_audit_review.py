"""The audit trail in the portal: auditors review, filter, open and export it; nobody else
sees it, and nothing on it can be changed."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.audit import Actor, audit_append
from inventory.csv_export import AUDIT_HEADER
from inventory.models import Action, Operation, Outcome
from inventory.tests.base import BaseTestCase

LIST = "/audit/"
EXPORT = "/audit/export.csv"


class AuditReviewTestCase(BaseTestCase):
    def setUp(self):
        olivia, root = self.actor(self.operator), self.actor(self.superuser)
        self.purchase = audit_append(
            action=Action.PURCHASE,
            actor=olivia,
            country="GB",
            msisdn="447700900111",
            monthly_cost=Decimal("1.25"),
            setup_cost=Decimal("0.50"),
            outcome=Outcome.SUCCEEDED,
            http_status=200,
            provider_code="200",
            provider_label="success",
        )
        self.other_purchase = audit_append(
            action=Action.PURCHASE,
            actor=root,
            country="NL",
            msisdn="31612345678",
            monthly_cost=Decimal("4.50"),
            outcome=Outcome.FAILED,
            http_status=420,
        )
        self.configure = audit_append(
            action=Action.CONFIGURE,
            actor=olivia,
            country="GB",
            msisdn="447700900111",
            before={"moHttpUrl": "", "voiceCallbackType": ""},
            after={"moHttpUrl": "https://hooks.example.com/sms", "voiceCallbackType": "sip"},
            outcome=Outcome.SUCCEEDED,
            http_status=200,
        )
        self.unsettled = audit_append(
            action=Action.CANCEL,
            actor=olivia,
            country="GB",
            msisdn="447700900222",
            outcome=Outcome.UNKNOWN,
            reason="The request was sent but its answer was lost (ReadTimeout); it may or may "
            "not have taken effect.",
        )
        self.settled = audit_append(
            action=Action.PURCHASE,
            actor=olivia,
            country="GB",
            msisdn="447700900333",
            outcome=Outcome.UNKNOWN,
            reason="The answer was lost.",
        )
        self.settlement = audit_append(
            action=Action.SETTLE,
            actor=Actor.system("sync_numbers"),
            country="GB",
            msisdn="447700900333",
            settles=self.settled,
            outcome=Outcome.SUCCEEDED,
        )

    def listed(self, query="") -> list[int]:
        response = self.client.get(LIST + query)
        assert response.status_code == 200, response.content.decode()[:500]
        return [entry.seq for entry in response.context["listing"].entries]

    def exported(self, query="") -> list[dict]:
        response = self.client.get(EXPORT + query)
        assert response.status_code == 200
        assert response.streaming
        text = b"".join(response.streaming_content).decode()
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == AUDIT_HEADER
        return [dict(zip(AUDIT_HEADER, row, strict=True)) for row in rows[1:]]

    # --- who sees it ---

    def test_an_auditor_reviews_the_trail_without_the_admin(self):
        self.login(self.auditor)

        response = self.client.get(LIST)

        self.assertContains(response, "Audit trail")
        self.assertContains(response, 'href="/audit/"')  # in the navigation
        self.assertNotContains(response, "/admin/")
        assert self.listed() == sorted(Operation.objects.values_list("seq", flat=True))[::-1]

    def test_it_refuses_a_viewer_and_an_operator_and_records_the_refusal(self):
        for user in (self.viewer, self.operator):
            self.login(user)
            for path in (LIST, EXPORT, f"/audit/{self.purchase.seq}/"):
                assert self.client.get(path).status_code == 403
            self.assertNotContains(self.client.get("/"), 'href="/audit/"')
        denied = Operation.objects.filter(action=Action.DENIED)
        assert denied.count() == 6
        assert {d.request["permission"] for d in denied} == {"inventory.review_audit"}

    def test_there_is_no_way_to_change_an_entry_from_its_pages(self):
        self.login(self.auditor)
        page = self.client.get(f"/audit/{self.purchase.seq}/").content.decode()
        assert "<form" not in page.split('id="main"')[1]
        assert self.client.post(f"/audit/{self.purchase.seq}/", {}).status_code == 405

    # --- the list ---

    def test_the_list_shows_seconds_time_zone_euros_and_outcomes_in_words(self):
        self.login(self.auditor)

        response = self.client.get(LIST)

        local = timezone.localtime(self.purchase.created_at)
        self.assertContains(response, local.strftime("%H:%M:%S"))
        self.assertContains(response, local.tzname())
        self.assertContains(response, "€1.25")
        self.assertContains(response, "Unknown, not settled yet")
        self.assertContains(response, "settled later")
        self.assertContains(
            response, '<span class="diff-after">https://hooks.example.com/sms</span>'
        )
        self.assertContains(response, "Voice routing type:")
        self.assertNotContains(response, "voiceCallbackType")
        self.assertNotContains(response, "0.9000")

    def test_it_says_how_many_entries_the_trail_holds_without_counting_it(self):
        self.login(self.auditor)
        total = Operation.objects.count()

        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(LIST)

        self.assertContains(response, f"<strong>{total}</strong> entries in the trail")
        assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
        assert len(queries) <= 7  # session, user, two permission reads, users, entries, head

    def test_it_filters_by_action_outcome_user_number_and_country(self):
        self.login(self.auditor)
        s = self

        assert self.listed("?action=purchase") == [s.settled.seq, s.other_purchase.seq, 1]
        assert self.listed("?outcome=unknown") == [s.settled.seq, s.unsettled.seq]
        assert self.listed("?outcome=unsettled") == [s.unsettled.seq]
        assert self.listed("?user=root") == [s.other_purchase.seq]
        assert self.listed("?number=%2B44+7700+900111") == [s.configure.seq, s.purchase.seq]
        assert self.listed("?country=NL") == [s.other_purchase.seq]
        assert self.listed("?action=cancel&outcome=unknown&country=GB") == [s.unsettled.seq]

    def test_free_text_finds_a_number_by_its_start_a_user_an_address_and_an_entry(self):
        self.login(self.auditor)
        s = self

        assert self.listed("?q=%2B44+7700+9001") == [s.configure.seq, s.purchase.seq]
        assert self.listed("?q=sync_numbers") == [s.settlement.seq]
        assert self.listed(f"?q=%23{s.configure.seq}") == [s.configure.seq]
        ip_entries = self.listed("?q=127.0.0.1")
        assert s.purchase.seq in ip_entries
        assert s.settlement.seq not in ip_entries

    def test_it_filters_by_a_range_of_days(self):
        self.login(self.auditor)
        today = timezone.localdate()
        yesterday = today - timedelta(days=1)

        assert len(self.listed(f"?since={today}&until={today}")) == Operation.objects.count()
        assert self.listed(f"?until={yesterday}") == []
        assert self.listed(f"?since={today + timedelta(days=1)}") == []

    def test_a_filter_that_does_not_make_sense_is_explained_not_applied(self):
        self.login(self.auditor)

        for query, words in [
            ("?action=satellite", "“satellite” is not one of the what choices here"),
            ("?since=yesterday", "The from must be a date"),
            ("?since=2025-02-01&until=2025-01-01", "“Until” must be the same day"),
            ("?number=hello", "Type the number with its country code"),
        ]:
            response = self.client.get(LIST + query)
            assert response.status_code == 400, query
            self.assertContains(response, words, status_code=400)
            self.assertNotContains(response, "Select a valid choice", status_code=400)
            assert self.client.get(EXPORT + query).status_code == 400

    def test_pages_are_found_by_entry_number_and_go_both_ways(self):
        for _i in range(120):
            audit_append(action=Action.LOGIN, actor=self.actor(self.viewer), outcome="succeeded")
        self.login(self.auditor)
        every = list(Operation.objects.order_by("-seq").values_list("seq", flat=True))

        first = self.client.get(LIST).context["listing"]
        second = self.client.get(LIST + f"?before={first.older}").context["listing"]
        third = self.client.get(LIST + f"?before={second.older}").context["listing"]
        back = self.client.get(LIST + f"?after={third.newer}").context["listing"]

        assert [e.seq for e in first.entries] == every[:50]
        assert [e.seq for e in second.entries] == every[50:100]
        assert [e.seq for e in third.entries] == every[100:150]
        assert [e.seq for e in back.entries] == every[50:100]
        assert first.newer is None
        self.assertContains(self.client.get(LIST + "?action=login"), "More than 50 entries match")

    # --- one entry ---

    def test_an_entry_links_to_its_settlement_and_back_and_to_its_number(self):
        self.login(self.auditor)

        settled = self.client.get(f"/audit/{self.settled.seq}/")
        settlement = self.client.get(f"/audit/{self.settlement.seq}/")

        self.assertContains(settled, f'href="/audit/{self.settlement.seq}/"')
        self.assertContains(settlement, f'href="/audit/{self.settled.seq}/"')
        self.assertContains(settled, 'href="/audit/?number=447700900333"')
        self.assertNotContains(settled, 'href="/numbers/')  # auditors do not browse numbers
        self.login(self.superuser)
        as_root = self.client.get(f"/audit/{self.settled.seq}/")
        self.assertContains(as_root, 'href="/numbers/447700900333/"')

    def test_an_entry_says_what_happened_in_words_and_keeps_the_api_details_aside(self):
        self.login(self.auditor)

        purchase = self.client.get(f"/audit/{self.purchase.seq}/").content.decode()
        unknown = self.client.get(f"/audit/{self.unsettled.seq}/").content.decode()
        change = self.client.get(f"/audit/{self.configure.seq}/").content.decode()

        words, details = purchase.split("<summary>Technical details</summary>")
        assert "€1.25 a month, €0.50 setup" in words
        assert "success" not in words
        assert "success" in details
        assert "ReadTimeout" not in unknown.split("Technical details")[0]
        assert "its answer was lost; it may or may not have taken effect." in unknown
        assert "Inbound SMS webhook" in change
        assert "moHttpUrl" not in change.split("Technical")[0]
        assert "a SIP URI" in change

    def test_an_entry_that_does_not_exist_is_not_found(self):
        self.login(self.auditor)
        assert self.client.get("/audit/999999/").status_code == 404
        assert self.client.get(f"/audit/{2**64}/").status_code == 404
        assert self.client.get(f"{LIST}?before={2**64}").status_code == 400

    # --- CSV ---

    def test_the_export_streams_exactly_the_rows_of_the_filter(self):
        self.login(self.auditor)

        purchases = self.exported("?action=purchase")
        assert [int(row["seq"]) for row in purchases] == self.listed("?action=purchase")
        one_number = self.exported("?number=447700900111")
        assert [row["action"] for row in one_number] == ["configure", "purchase"]
        [settled] = self.exported(f"?q=%23{self.settled.seq}")
        assert settled["settled_as"] == "succeeded"
        assert settled["hash"] == self.settled.hash
        assert len(self.exported()) == Operation.objects.count()

    def test_the_export_carries_the_recorded_facts(self):
        self.login(self.auditor)

        [row] = self.exported("?number=31612345678")

        assert row["username"] == "root"
        assert row["ip"] == "127.0.0.1"
        assert row["monthly_cost_eur"] == "4.5000"
        assert (row["outcome"], row["http_status"]) == ("failed", "420")
