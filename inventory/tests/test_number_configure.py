"""Configuring a number: validation, review, the change sent, and the read-back."""

import re

import pytest

from inventory import api_client as api
from inventory.audit import Actor
from inventory.forms import ConfigureForm
from inventory.models import Operation, Outcome, OwnedNumber
from inventory.services.configure import number_configure
from inventory.tests.base import BaseTestCase

UPDATE = "POST /number/update"
APP_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"voiceCallbackType": "sip", "voiceCallbackValue": "desk@example.com"},
            "voiceCallbackValue",
            "sip:user@example.com",
        ),
        (
            {"voiceCallbackType": "tel", "voiceCallbackValue": "12"},
            "voiceCallbackValue",
            "full international number",
        ),
        (
            {"voiceCallbackType": "app", "voiceCallbackValue": "not-a-uuid"},
            "voiceCallbackValue",
            "application id",
        ),
        ({"voiceCallbackType": "sip"}, "voiceCallbackValue", "Say where calls should go"),
        ({"voiceCallbackValue": "sip:desk@example.com"}, "voiceCallbackType", "Choose what kind"),
        ({"moHttpUrl": "ftp://example.com/x"}, "moHttpUrl", "valid web address"),
    ],
)
def test_invalid_routing_is_refused_before_anything_is_sent(data, field, message):
    form = ConfigureForm(data)
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


@pytest.mark.parametrize(
    ("kind", "typed", "sent"),
    [
        ("sip", "sip:desk@example.com", "sip:desk@example.com"),
        ("tel", "+31 20 123 4567", "31201234567"),
        ("app", APP_ID, APP_ID),
    ],
)
def test_each_kind_of_destination_is_cleaned_to_what_the_api_expects(kind, typed, sent):
    form = ConfigureForm({"voiceCallbackType": kind, "voiceCallbackValue": typed})
    assert form.is_valid(), form.errors
    assert form.changes({})["voiceCallbackValue"] == sent


def test_only_changed_fields_are_sent_and_voice_type_and_value_travel_together():
    current = {"moHttpUrl": "https://a.example.com/", "voiceCallbackType": "sip",
               "voiceCallbackValue": "sip:a@example.com"}  # fmt: skip
    form = ConfigureForm({**current, "voiceCallbackValue": "sip:b@example.com"})
    assert form.is_valid()
    assert form.changes(current) == {
        "voiceCallbackType": "sip", "voiceCallbackValue": "sip:b@example.com"
    }  # fmt: skip


class NumberConfigureTestCase(BaseTestCase):
    def setUp(self):
        client = api.default_client()
        offer = client.search_available(country="GB", type="mobile-lvn", size=1).items[0]
        client.buy(country="GB", msisdn=offer.msisdn)
        self.msisdn = offer.msisdn
        self.number = OwnedNumber.objects.create(
            msisdn=offer.msisdn, country="GB", type="mobile-lvn", has_sms=True, has_voice=True
        )

    def configure(self, changes, token="form-1"):
        return number_configure(
            client=api.default_client(),
            actor=Actor(user=self.operator, username="olivia"),
            msisdn=self.number.msisdn,
            changes=changes,
            form_token=token,
        )

    def test_a_change_is_sent_read_back_and_cached(self):
        entry = self.configure({"moHttpUrl": "https://hooks.example.com/sms"})

        assert entry.outcome == Outcome.SUCCEEDED
        assert entry.before == {"moHttpUrl": ""}
        assert entry.after == {"moHttpUrl": "https://hooks.example.com/sms"}
        self.number.refresh_from_db()
        assert self.number.mo_http_url == "https://hooks.example.com/sms"
        assert self.sandbox.owned()[self.msisdn]["moHttpUrl"] == "https://hooks.example.com/sms"
        assert self.sandbox.calls(UPDATE) == 1

    def test_a_change_the_api_accepts_but_does_not_apply_is_a_failure(self):
        self.sandbox.fault(UPDATE, "ignore")

        entry = self.configure({"moHttpUrl": "https://hooks.example.com/sms"})

        assert entry.outcome == Outcome.FAILED
        assert entry.reason == "The API accepted the change but did not apply it."
        self.number.refresh_from_db()
        assert self.number.mo_http_url == ""

    def test_an_empty_string_clears_a_webhook(self):
        self.configure({"moHttpUrl": "https://hooks.example.com/sms"}, token="one")
        entry = self.configure({"moHttpUrl": ""}, token="two")

        assert entry.outcome == Outcome.SUCCEEDED
        assert "moHttpUrl" not in self.sandbox.owned()[self.msisdn]

    def test_a_webhook_that_does_not_answer_is_explained(self):
        entry = self.configure({"moHttpUrl": "https://down.invalid/sms"})

        assert entry.outcome == Outcome.FAILED
        assert entry.http_status == 420
        assert "declined the change" in entry.reason

    def test_a_lost_answer_after_the_change_is_settled_by_looking(self):
        self.sandbox.fault(UPDATE, "reset", after_effect=True)

        entry = self.configure(
            {"voiceCallbackType": "sip", "voiceCallbackValue": "sip:a@b.example"}
        )

        assert entry.outcome == Outcome.UNKNOWN
        assert entry.final_outcome == Outcome.SUCCEEDED
        self.number.refresh_from_db()
        assert self.number.voice_callback_value == "sip:a@b.example"


class ConfigureViewTestCase(NumberConfigureTestCase):
    def test_the_review_shows_before_and_after_and_applying_changes_the_number(self):
        self.login(self.operator)
        url = f"/numbers/{self.msisdn}/configure/"
        review = self.client.post(
            url, {"voiceCallbackType": "sip", "voiceCallbackValue": "sip:desk@example.com"}
        )
        self.assertContains(review, "sip:desk@example.com")
        self.assertContains(review, "not set")
        assert self.sandbox.calls(UPDATE) == 0

        change = re.search(r'name="change" value="([^"]+)"', review.content.decode()).group(1)
        response = self.client.post(url + "confirm/", {"change": change}, follow=True)

        assert response.context["entry"].final_outcome == Outcome.SUCCEEDED
        assert self.sandbox.calls(UPDATE) == 1
        again = self.client.post(url + "confirm/", {"change": change}, follow=True)
        assert again.context["entry"] == response.context["entry"]
        assert self.sandbox.calls(UPDATE) == 1

    def test_invalid_input_is_shown_on_the_form(self):
        self.login(self.operator)
        response = self.client.post(
            f"/numbers/{self.msisdn}/configure/",
            {"voiceCallbackType": "tel", "voiceCallbackValue": "abc"},
        )
        self.assertContains(response, "full international number")
        assert self.sandbox.calls(UPDATE) == 0

    def test_a_viewer_is_refused_with_403_and_no_call(self):
        self.login(self.viewer)
        url = f"/numbers/{self.msisdn}/configure/"
        assert self.client.get(url).status_code == 403
        assert self.client.post(url + "confirm/", {"change": "x"}).status_code == 403
        assert self.sandbox.calls(UPDATE) == 0
        assert Operation.objects.filter(action="denied").count() == 2
