"""The number page: what the account shows of a number, and its history."""

from inventory import api_client as api
from inventory.audit import Actor
from inventory.services.sync import owned_numbers_sync
from inventory.tests.base import BaseTestCase

APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"


class NumberDetailTestCase(BaseTestCase):
    msisdn = "447700900333"

    def setUp(self):
        limitation = {"feature": "SMS", "type": "OUTBOUND", "reach": "INTERNATIONAL"}
        self.sandbox.change_account(
            add=[
                {"country": "GB", "msisdn": self.msisdn, "type": "mobile-lvn",
                 "features": ["VOICE", "SMS"], "limitations": [limitation], "cost": "1.25",
                 "messagesCallbackType": "app", "messagesCallbackValue": APP_ID}
            ]
        )  # fmt: skip
        owned_numbers_sync(client=api.default_client(), actor=Actor.system("tests"))
        self.login(self.viewer)

    def test_it_shows_limitations_in_words(self):
        response = self.client.get(f"/numbers/{self.msisdn}/")

        self.assertContains(response, "SMS: outbound only (international)")

    def test_it_shows_where_messages_go_as_set_outside_the_portal(self):
        response = self.client.get(f"/numbers/{self.msisdn}/")

        self.assertContains(response, f"Application: <code>{APP_ID}</code>", html=False)

    def test_it_shows_the_rent_the_api_lists(self):
        response = self.client.get(f"/numbers/{self.msisdn}/")

        self.assertContains(response, "Monthly rent the API lists")
        self.assertContains(response, "€1.25")

    def test_a_number_without_limitations_says_none(self):
        self.sandbox.change_account(add=[
            {"country": "GB", "msisdn": "447700900444", "type": "mobile-lvn"}
        ])  # fmt: skip
        owned_numbers_sync(client=api.default_client(), actor=Actor.system("tests"))

        response = self.client.get("/numbers/447700900444/")

        self.assertContains(response, '<dd data-testid="limitations">none</dd>', html=True)
        self.assertNotContains(response, "Monthly rent the API lists")
