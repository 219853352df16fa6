"""owned_numbers_sync: a complete, paced listing mirrored into the cache, drift recorded."""

import io

from django.core.management import CommandError, call_command

from inventory import api_client as api
from inventory.audit import Actor, audit_append, verify_chain
from inventory.models import Action, Operation, Outcome, OwnedNumber, SyncRun
from inventory.services.leases import lease_acquire
from inventory.services.sync import SYNC_LEASE, SyncAlreadyRunning, owned_numbers_sync
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import owned_number

LIST = "GET /account/numbers"


def gb_number(msisdn, **config):
    return {"country": "GB", "msisdn": msisdn, "type": "mobile-lvn",
            "features": ["SMS", "VOICE"], **config}  # fmt: skip


class SyncTestCase(BaseTestCase):
    def sync(self):
        return owned_numbers_sync(client=api.default_client(), actor=Actor.system("tests"))

    def drift(self, action):
        return list(Operation.objects.filter(action=action).values_list("msisdn", flat=True))

    def test_ten_thousand_numbers_take_exactly_one_hundred_list_calls(self):
        self.sandbox.reset(owned=10_000)

        run = self.sync()

        assert run.status == SyncRun.Status.SUCCEEDED
        assert self.sandbox.calls(LIST) == 100
        assert run.list_calls == 100
        assert OwnedNumber.objects.count() == 10_000
        assert set(OwnedNumber.objects.values_list("msisdn", flat=True)) == set(
            self.sandbox.owned()
        )

    def test_the_first_sync_is_the_baseline_not_drift(self):
        self.sandbox.reset(owned=5)
        self.sync()
        assert not Operation.objects.filter(action__startswith="drift").exists()
        assert Operation.objects.get(action=Action.SYNC).outcome == Outcome.SUCCEEDED

    def test_numbers_that_appear_outside_the_portal_are_recorded(self):
        self.sync()
        self.sandbox.change_account(add=[gb_number("447700900111")])

        run = self.sync()

        assert run.appeared == 1
        assert self.drift(Action.DRIFT_APPEARED) == ["447700900111"]
        assert OwnedNumber.objects.get(msisdn="447700900111").monthly_cost is None

    def test_numbers_that_disappear_outside_the_portal_are_recorded(self):
        self.sandbox.change_account(add=[gb_number("447700900222")])
        self.sync()
        self.sandbox.change_account(remove=["447700900222"])

        run = self.sync()

        assert run.disappeared == 1
        assert self.drift(Action.DRIFT_DISAPPEARED) == ["447700900222"]
        assert not OwnedNumber.objects.exists()

    def test_configuration_changed_outside_the_portal_is_recorded_with_before_and_after(self):
        self.sandbox.change_account(add=[gb_number("447700900333")])
        self.sync()
        OwnedNumber.objects.filter(msisdn="447700900333").update(label="Sales")
        self.sandbox.change_account(
            change=[{"msisdn": "447700900333", "moHttpUrl": "https://elsewhere.example.com/in"}]
        )

        self.sync()

        event = Operation.objects.get(action=Action.DRIFT_CHANGED)
        assert event.before == {"mo_http_url": ""}
        assert event.after == {"mo_http_url": "https://elsewhere.example.com/in"}
        cached = OwnedNumber.objects.get(msisdn="447700900333")
        assert cached.mo_http_url == "https://elsewhere.example.com/in"
        assert cached.label == "Sales"  # local fields survive syncs

    def test_a_messages_webhook_changed_outside_the_portal_is_recorded_as_drift(self):
        app, other = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "bbbbbbbb-cccc-dddd-eeee-0123456789ab"
        self.sandbox.change_account(
            add=[gb_number("447700900333", messagesCallbackType="app", messagesCallbackValue=app)]
        )
        self.sync()  # the baseline
        self.sandbox.change_account(
            change=[{"msisdn": "447700900333", "messagesCallbackValue": other}]
        )

        self.sync()

        event = Operation.objects.get(action=Action.DRIFT_CHANGED)
        assert event.before == {"messages_callback_value": app}
        assert event.after == {"messages_callback_value": other}
        assert OwnedNumber.objects.get(msisdn="447700900333").messages_callback_value == other

    def test_limitations_and_the_listed_rent_are_cached_and_compared(self):
        limitation = {"feature": "SMS", "type": "OUTBOUND", "reach": "INTERNATIONAL"}
        self.sandbox.change_account(
            add=[gb_number("447700900333", limitations=[limitation], cost="1.25")]
        )
        self.sync()
        cached = OwnedNumber.objects.get(msisdn="447700900333")
        assert cached.limitations == [limitation]
        assert cached.listed_monthly_cost == "1.25"
        self.sandbox.change_account(add=[gb_number("447700900333", cost="2.50")])

        self.sync()

        event = Operation.objects.get(action=Action.DRIFT_CHANGED)
        assert event.before == {"limitations": [limitation], "listed_monthly_cost": "1.25"}
        assert event.after == {"limitations": [], "listed_monthly_cost": "2.50"}

    def test_an_unchanged_account_with_every_field_set_shows_no_drift(self):
        self.sandbox.reset(owned=40)  # some with messages webhooks, limitations and rents
        self.sync()

        run = self.sync()

        assert run.changed == 0
        assert not Operation.objects.filter(action=Action.DRIFT_CHANGED).exists()

    def test_a_listing_with_an_unreadable_record_is_refused_and_names_it(self):
        self.sandbox.reset(owned=150)
        owned_number("447700900444", label="Keep me")
        second_page_first = sorted(self.sandbox.owned())[100]
        self.sandbox.fault(LIST, "broken_record", drop=["type"], skip=1)

        run = self.sync()

        assert run.status == SyncRun.Status.FAILED
        assert f"the record for {second_page_first} on page 2" in run.message
        assert ".." not in run.message
        assert list(OwnedNumber.objects.values_list("msisdn", flat=True)) == ["447700900444"]

    def test_a_garbled_listing_changes_nothing_and_says_why(self):
        self.sandbox.reset(owned=250)
        owned_number("447700900444", label="Keep me")
        self.sandbox.fault(LIST, "malformed")

        run = self.sync()

        assert run.status == SyncRun.Status.FAILED
        assert "changed nothing" in run.message
        assert list(OwnedNumber.objects.values_list("msisdn", flat=True)) == ["447700900444"]

    def test_a_failure_on_a_later_page_changes_nothing(self):
        self.sandbox.reset(owned=250)
        self.sandbox.fault(LIST, "reset", count=50, skip=2)  # pages 1 and 2 arrive, 3 never

        run = self.sync()

        assert run.status == SyncRun.Status.FAILED
        assert self.sandbox.responses(LIST)["200"] == 2
        assert not OwnedNumber.objects.exists()
        assert Operation.objects.get(action=Action.SYNC).outcome == Outcome.FAILED

    def test_unknown_operations_are_settled_from_the_listing(self):
        self.sandbox.change_account(add=[gb_number("447700900555")])
        bought = audit_append(
            action=Action.PURCHASE,
            actor=self.actor(self.operator),
            country="GB",
            msisdn="447700900555",
            outcome=Outcome.UNKNOWN,
        )
        not_bought = audit_append(
            action=Action.PURCHASE,
            actor=self.actor(self.operator),
            country="GB",
            msisdn="447700900666",
            outcome=Outcome.UNKNOWN,
        )

        run = self.sync()

        assert run.settled == 2
        assert bought.final_outcome == Outcome.SUCCEEDED
        assert not_bought.final_outcome == Outcome.FAILED
        assert OwnedNumber.objects.filter(msisdn="447700900555").exists()
        assert verify_chain()[1] is None

    def test_only_one_sync_runs_at_a_time(self):
        lease_acquire(name=SYNC_LEASE, holder="another-host:1234", seconds=60)
        with self.assertRaisesMessage(SyncAlreadyRunning, "another-host"):
            self.sync()
        assert self.sandbox.calls(LIST) == 0

    def test_the_command_reports_what_it_did(self):
        self.sandbox.reset(owned=3)
        out = io.StringIO()
        call_command("sync_numbers", stdout=out)
        assert "3 numbers in 1 list calls" in out.getvalue()

    def test_the_command_fails_loudly_when_the_api_is_down(self):
        self.sandbox.fault(LIST, "error", status=503, count=100)
        with self.assertRaisesMessage(CommandError, "changed nothing"):
            call_command("sync_numbers", stdout=io.StringIO())
