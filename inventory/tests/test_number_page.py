"""A number's page: its routing, notes and history, in words people read."""

from inventory.audit import audit_append
from inventory.models import Action, Outcome
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import owned_number


class NumberPageTestCase(BaseTestCase):
    def setUp(self):
        self.number = owned_number(
            "447700900123",
            api_fields={
                "msisdn": "447700900123",
                "features": ["VOICE", "SMS"],
                "type": "mobile-lvn",
            },
        )
        self.url = f"/numbers/{self.number.msisdn}/"

    def test_the_history_names_settings_in_words_not_api_field_names(self):
        audit_append(
            action=Action.CONFIGURE,
            actor=self.actor(self.operator),
            country="GB",
            msisdn=self.number.msisdn,
            before={"voiceCallbackType": "", "voiceCallbackValue": ""},
            after={"voiceCallbackType": "sip", "voiceCallbackValue": "sip:desk@example.com"},
            outcome=Outcome.SUCCEEDED,
        )
        self.login(self.viewer)

        page = self.client.get(self.url).content.decode()
        history = page.split('data-testid="history"')[1]

        assert "Voice routing type:" in history
        assert "a SIP URI" in history
        assert "voiceCallbackType" not in history

    def test_what_the_api_says_is_behind_technical_details_without_python_lists(self):
        self.login(self.viewer)

        page = self.client.get(self.url).content.decode()

        details = page.split("<summary>Technical details")[1]
        assert "Voice, SMS" in details
        assert "['VOICE', 'SMS']" not in page

    def test_a_too_long_label_is_explained_and_what_was_typed_is_kept(self):
        self.login(self.operator)

        response = self.client.post(
            f"{self.url}notes/", {"label": "x" * 101, "team": "Support", "notes": "Keep me"}
        )

        assert response.status_code == 400
        self.assertContains(
            response, "The label can be at most 100 characters long", status_code=400
        )
        self.assertContains(response, 'value="Support"', status_code=400)
        self.assertContains(response, "Keep me", status_code=400)
        self.assertNotContains(response, "* label", status_code=400)
        self.number.refresh_from_db()
        assert self.number.team == ""

    def test_times_carry_seconds_and_the_time_zone(self):
        entry = audit_append(
            action=Action.ANNOTATE,
            actor=self.actor(self.operator),
            country="GB",
            msisdn=self.number.msisdn,
            before={"label": ""},
            after={"label": "Desk"},
            outcome=Outcome.SUCCEEDED,
        )
        self.login(self.viewer)
        from django.utils import timezone

        local = timezone.localtime(entry.created_at)
        self.assertContains(self.client.get(self.url), local.strftime("%H:%M:%S ") + local.tzname())
