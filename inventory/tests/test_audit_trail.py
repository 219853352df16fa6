"""The audit trail records every audited action with who, when, from where and what."""

import re
from datetime import timedelta

import pytest
from django.core import serializers
from django.test import Client

from inventory import api_client as api
from inventory.audit import Actor, verify_chain
from inventory.middleware import RequestIdFilter
from inventory.models import Action, Operation, Outcome, OwnedNumber
from inventory.services.sync import owned_numbers_sync
from inventory.tests.base import PASSWORD, BaseTestCase

IP = "203.0.113.7"
UA = "Mozilla/5.0 (audit test)"
BUY = "POST /number/buy"


def gb_number(msisdn, **config):
    return {"country": "GB", "msisdn": msisdn, "type": "mobile-lvn",
            "features": ["SMS", "VOICE"], **config}  # fmt: skip


class AuditTrailTestCase(BaseTestCase):
    """Every request comes from one address and browser, and names its request id."""

    def setUp(self):
        self.client = Client(REMOTE_ADDR=IP, headers={"User-Agent": UA})

    @pytest.fixture(autouse=True)
    def _attach_caplog(self, caplog):
        caplog.set_level("INFO")
        caplog.handler.addFilter(RequestIdFilter())
        self.caplog = caplog

    def only(self, action) -> Operation:
        return Operation.objects.get(action=action)

    def assert_came_from_the_request(self, entry, request_id, user=None):
        assert entry.ip == IP
        assert entry.user_agent == UA
        assert entry.request_id == request_id
        assert entry.created_at.utcoffset() == timedelta(0)
        if user is not None:
            assert entry.actor_id == user.pk
            assert entry.actor_username == user.username
        # The request id is also on the log lines written while the request ran.
        assert any(getattr(r, "request_id", None) == request_id for r in self.caplog.records)

    def buy(self, request_id="req-purchase-0001"):
        offer = api.default_client().search_available(country="GB", size=1).items[0]
        page = self.client.get(
            f"/catalogue/buy/?country=GB&type={offer.type}&msisdn={offer.msisdn}"
        )
        signed = re.search(r'name="offer" value="([^"]+)"', page.content.decode()).group(1)
        self.client.post(
            "/catalogue/buy/confirm/", {"offer": signed}, headers={"X-Request-ID": request_id}
        )
        return offer

    # --- operations on numbers ---

    def test_a_purchase_records_who_what_the_price_and_the_providers_answer(self):
        self.login(self.operator)

        offer = self.buy()

        entry = self.only(Action.PURCHASE)
        self.assert_came_from_the_request(entry, "req-purchase-0001", self.operator)
        assert (entry.country, entry.msisdn) == ("GB", offer.msisdn)
        assert entry.request == {"country": "GB", "msisdn": offer.msisdn}
        assert entry.after == {"type": offer.type, "features": list(offer.features)}
        assert entry.monthly_cost == offer.cost
        assert entry.setup_cost == offer.initial_price
        assert entry.outcome == Outcome.SUCCEEDED
        assert (entry.http_status, entry.provider_code) == (200, "200")
        assert entry.provider_label == "success"
        assert entry.duration_ms is not None
        assert entry.completed_at >= entry.created_at
        assert verify_chain()[1] is None

    def test_a_refused_purchase_records_the_providers_code_label_and_status(self):
        self.login(self.operator)
        offer = api.default_client().search_available(country="GB", size=1).items[0]
        page = self.client.get(
            f"/catalogue/buy/?country=GB&type={offer.type}&msisdn={offer.msisdn}"
        )
        signed = re.search(r'name="offer" value="([^"]+)"', page.content.decode()).group(1)
        api.default_client().buy(country="GB", msisdn=offer.msisdn)  # someone else was quicker

        self.client.post(
            "/catalogue/buy/confirm/", {"offer": signed}, headers={"X-Request-ID": "req-refused-1"}
        )

        entry = self.only(Action.PURCHASE)
        self.assert_came_from_the_request(entry, "req-refused-1", self.operator)
        assert entry.outcome == Outcome.FAILED
        assert (entry.http_status, entry.provider_code) == (420, "420")
        assert entry.provider_label == "method failed"
        assert entry.reason == "The account already owns this number."

    def test_a_cancellation_records_what_the_number_was_and_what_it_cost(self):
        self.login(self.operator)
        offer = self.buy()
        cancel_url = f"/numbers/{offer.msisdn}/cancel/"
        token = self.client.get(cancel_url).context["form"]["token"].value()

        self.client.post(
            cancel_url,
            {"typed": offer.msisdn, "token": token},
            headers={"X-Request-ID": "req-cancel-0001"},
        )

        entry = self.only(Action.CANCEL)
        self.assert_came_from_the_request(entry, "req-cancel-0001", self.operator)
        assert entry.request == {"country": "GB", "msisdn": offer.msisdn}
        assert entry.before["type"] == offer.type
        assert entry.after is None
        assert entry.monthly_cost == offer.cost
        assert (entry.outcome, entry.http_status) == (Outcome.SUCCEEDED, 200)
        assert entry.duration_ms is not None

    def test_a_configuration_change_records_before_and_after(self):
        self.login(self.operator)
        offer = self.buy()
        url = f"/numbers/{offer.msisdn}/configure/"
        review = self.client.post(url, {"moHttpUrl": "https://hooks.example.com/sms"})
        change = re.search(r'name="change" value="([^"]+)"', review.content.decode()).group(1)

        self.client.post(
            url + "confirm/", {"change": change}, headers={"X-Request-ID": "req-conf-01"}
        )

        entry = self.only(Action.CONFIGURE)
        self.assert_came_from_the_request(entry, "req-conf-01", self.operator)
        assert entry.before == {"moHttpUrl": ""}
        assert entry.after == {"moHttpUrl": "https://hooks.example.com/sms"}
        assert entry.request["moHttpUrl"] == "https://hooks.example.com/sms"
        assert (entry.outcome, entry.http_status, entry.provider_code) == (
            Outcome.SUCCEEDED, 200, "200",
        )  # fmt: skip

    def test_a_lost_answer_is_unknown_and_its_settlement_is_a_new_entry_pointing_at_it(self):
        self.login(self.operator)
        self.sandbox.fault(BUY, "reset", after_effect=True)

        offer = self.buy(request_id="req-unknown-01")

        purchase = self.only(Action.PURCHASE)
        settlement = self.only(Action.SETTLE)
        assert purchase.outcome == Outcome.UNKNOWN
        assert "answer was lost" in purchase.reason
        assert settlement.settles_id == purchase.pk
        assert settlement.seq > purchase.seq
        self.assert_came_from_the_request(settlement, "req-unknown-01", self.operator)
        assert settlement.request == {"lookup": "GET /account/numbers", "pattern": offer.msisdn}
        assert settlement.after["msisdn"] == offer.msisdn
        assert settlement.outcome == Outcome.SUCCEEDED
        assert settlement.reason == "The number is in the account: the purchase went through."

    def test_drift_seen_by_a_sync_records_before_and_after_and_the_sync_itself(self):
        sync = Actor.system("sync_numbers", request_id="job-42")
        self.sandbox.change_account(add=[gb_number("447700900111"), gb_number("447700900222")])
        owned_numbers_sync(client=api.default_client(), actor=sync)  # the baseline
        self.sandbox.change_account(
            add=[gb_number("447700900333")],
            remove=["447700900222"],
            change=[{"msisdn": "447700900111", "moHttpUrl": "https://elsewhere.example.com/"}],
        )

        owned_numbers_sync(client=api.default_client(), actor=sync)

        appeared = self.only(Action.DRIFT_APPEARED)
        disappeared = self.only(Action.DRIFT_DISAPPEARED)
        changed = self.only(Action.DRIFT_CHANGED)
        assert (appeared.msisdn, appeared.after["msisdn"]) == ("447700900333", "447700900333")
        assert (disappeared.msisdn, disappeared.before["country"]) == ("447700900222", "GB")
        assert changed.before == {"mo_http_url": ""}
        assert changed.after == {"mo_http_url": "https://elsewhere.example.com/"}
        for entry in (appeared, disappeared, changed):
            assert (entry.actor_username, entry.request_id) == ("sync_numbers", "job-42")
            assert entry.outcome == Outcome.SUCCEEDED
            assert "outside the portal" in entry.reason
        runs = Operation.objects.filter(action=Action.SYNC).order_by("seq")
        assert [run.after["appeared"] for run in runs] == [2, 1]  # the baseline, then drift
        assert verify_chain()[1] is None

    # --- people ---

    def test_a_login_records_the_user_address_browser_and_request_id(self):
        self.client.post(
            "/login/",
            {"username": "olivia", "password": PASSWORD},
            headers={"X-Request-ID": "req-login-0001"},
        )

        entry = self.only(Action.LOGIN)
        self.assert_came_from_the_request(entry, "req-login-0001", self.operator)
        assert entry.outcome == Outcome.SUCCEEDED

    def test_a_failed_login_records_the_username_tried_but_never_the_password(self):
        self.client.post(
            "/login/",
            {"username": "olivia", "password": "Tr0ub4dor&3-wrong"},
            headers={"X-Request-ID": "req-failed-001"},
        )
        self.client.post("/login/", {"username": "nobody-here", "password": PASSWORD})

        tried = Operation.objects.filter(action=Action.LOGIN_FAILED).order_by("seq")
        assert [e.actor_username for e in tried] == ["olivia", "nobody-here"]
        first = tried[0]
        self.assert_came_from_the_request(first, "req-failed-001")
        assert first.actor_id is None
        assert first.request == {"username": "olivia"}
        assert first.outcome == Outcome.FAILED
        assert first.reason.startswith("Wrong username or password (failure 1 of 5")
        trail = serializers.serialize("json", Operation.objects.all())
        assert "Tr0ub4dor" not in trail
        assert PASSWORD not in trail

    def test_a_logout_is_recorded(self):
        self.login(self.viewer)

        self.client.post("/logout/", headers={"X-Request-ID": "req-logout-001"})

        entry = self.only(Action.LOGOUT)
        self.assert_came_from_the_request(entry, "req-logout-001", self.viewer)
        assert entry.outcome == Outcome.SUCCEEDED

    def test_a_refused_action_records_what_was_tried_and_which_permission_was_missing(self):
        self.login(self.viewer)

        response = self.client.post("/inventory/sync/", headers={"X-Request-ID": "req-denied-001"})

        assert response.status_code == 403
        entry = self.only(Action.DENIED)
        self.assert_came_from_the_request(entry, "req-denied-001", self.viewer)
        assert entry.outcome == Outcome.DENIED
        assert entry.request == {
            "method": "POST", "path": "/inventory/sync/", "permission": "inventory.sync_numbers",
        }  # fmt: skip
        assert "sync_numbers" in entry.reason

    def test_every_entry_of_a_busy_session_is_in_one_intact_chain(self):
        self.client.post("/login/", {"username": "olivia", "password": "wrong"})
        self.client.post("/login/", {"username": "olivia", "password": PASSWORD})
        self.buy()
        self.client.post("/logout/")

        actions = list(Operation.objects.order_by("seq").values_list("action", flat=True))
        assert actions == [Action.LOGIN_FAILED, Action.LOGIN, Action.PURCHASE, Action.LOGOUT]
        assert verify_chain() == (4, None)
        assert OwnedNumber.objects.get().purchased_by == self.operator
