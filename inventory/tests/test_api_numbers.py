"""The account's numbers through the JSON API: the inventory with the page's filters and
cursor pages, one number, configure, cancel, local fields, and an operation's record."""

from inventory import api_client as api
from inventory.models import Action, Operation, Outcome, OwnedNumber
from inventory.tests.base import ApiTestCase
from inventory.tests.factories import owned_number, owned_numbers

UPDATE = "POST /number/update"
CANCEL = "POST /number/cancel"


class InventoryApiTestCase(ApiTestCase):
    def test_pages_follow_the_cursor_to_the_end_with_the_filters_kept(self):
        owned_numbers(25)
        owned_number("31201234567", country="NL", type="landline")

        seen, url, pages = [], "/api/v1/numbers?country=GB&size=10", 0
        while url:
            page = self.api_get(self.viewer, url).json()
            assert page["count"] == 25
            seen += [number["msisdn"] for number in page["results"]]
            url, pages = page["next"], pages + 1

        assert pages == 3
        assert seen == sorted(
            OwnedNumber.objects.filter(country="GB").values_list("msisdn", flat=True)
        )

    def test_the_filters_are_the_inventory_pages(self):
        owned_numbers(3)
        owned_number("447700999999", label="Support line")

        page = self.api_get(self.viewer, "/api/v1/numbers", {"q": "support"}).json()

        assert [number["msisdn"] for number in page["results"]] == ["447700999999"]
        assert page["results"][0]["label"] == "Support line"
        assert page["next"] is None

    def test_a_filter_it_cannot_read_is_refused_with_the_pages_words(self):
        response = self.api_get(
            self.viewer, "/api/v1/numbers", {"type": "satellite", "cursor": "!"}
        )

        assert response.status_code == 400
        errors = {error["parameter"]: error["detail"] for error in response.json()["errors"]}
        assert errors == {
            "type": "“satellite” is not one of the number type choices here: choose one from "
            "the list."
        }
        response = self.api_get(self.viewer, "/api/v1/numbers", {"cursor": "!"})
        assert response.json()["errors"] == [
            {
                "parameter": "cursor",
                "detail": "This cursor is not one the portal gave: start from the first page.",
            }
        ]

    def test_one_number_and_a_missing_one(self):
        owned_number("447700900123", monthly_cost="1.5")

        number = self.api_get(self.viewer, "/api/v1/numbers/447700900123").json()
        assert number["monthly_cost"] == "1.50"
        assert number["configuration"]["voiceCallbackType"] == ""
        missing = self.api_get(self.viewer, "/api/v1/numbers/447700900124")
        assert missing.status_code == 404
        assert missing.json()["detail"] == "This number is not in the inventory."

    def test_an_address_no_route_has_is_a_404_problem(self):
        response = self.api_get(self.viewer, "/api/v1/nothing-here")

        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"


class NumberOperationsApiTestCase(ApiTestCase):
    def setUp(self):
        offer = api.default_client().search_available(country="GB", type="mobile-lvn").items[0]
        self.msisdn = offer.msisdn
        api.default_client().buy(country="GB", msisdn=self.msisdn)
        owned_number(self.msisdn)

    def test_configure_sends_only_what_the_body_names(self):
        body = {"moHttpUrl": "https://hooks.example.com/sms"}
        response = self.api_post(
            self.operator, f"/api/v1/numbers/{self.msisdn}/configure", body, key="c1"
        )

        assert response.status_code == 200, response.json()
        assert response.json()["outcome"] == "succeeded"
        assert response.json()["after"] == body
        assert OwnedNumber.objects.get(msisdn=self.msisdn).mo_http_url == body["moHttpUrl"]
        again = self.api_post(
            self.operator, f"/api/v1/numbers/{self.msisdn}/configure", body, key="c1"
        )
        assert again.json() == response.json()
        assert self.sandbox.calls(UPDATE) == 1

    def test_configure_refuses_what_the_page_refuses(self):
        body = {"voiceCallbackType": "sip", "voiceCallbackValue": "not a sip uri"}
        response = self.api_post(self.operator, f"/api/v1/numbers/{self.msisdn}/configure", body)

        assert response.status_code == 400
        assert response.json()["errors"] == [
            {
                "pointer": "#/voiceCallbackValue",
                "detail": "A SIP URI looks like sip:user@example.com.",
            }
        ]
        assert self.sandbox.calls(UPDATE) == 0

    def test_configure_with_nothing_to_change_is_refused(self):
        response = self.api_post(self.operator, f"/api/v1/numbers/{self.msisdn}/configure", {})

        assert response.status_code == 409
        assert response.json()["detail"] == (
            "Nothing to change: the form matches the current configuration."
        )

    def test_cancel_needs_the_number_named_again(self):
        wrong = self.api_post(
            self.operator, f"/api/v1/numbers/{self.msisdn}/cancel", {"msisdn": "447700000000"}
        )
        assert wrong.status_code == 400
        assert wrong.json()["errors"][0]["detail"] == (
            "That is not this number. Type it in full, with its country code."
        )
        assert self.sandbox.calls(CANCEL) == 0

        url, body = f"/api/v1/numbers/{self.msisdn}/cancel", {"msisdn": f"+{self.msisdn}"}
        done = self.api_post(self.operator, url, body, key="cancel-1")
        assert done.status_code == 200
        assert not OwnedNumber.objects.filter(msisdn=self.msisdn).exists()
        # Sent again after the number has gone: the first answer, nothing sent.
        again = self.api_post(self.operator, url, body, key="cancel-1")
        assert again.json() == done.json()
        assert self.sandbox.calls(CANCEL) == 1

    def test_notes_change_only_what_is_sent_and_are_audited(self):
        OwnedNumber.objects.filter(msisdn=self.msisdn).update(team="Support")

        response = self.api_post(
            self.operator, f"/api/v1/numbers/{self.msisdn}/notes", {"label": "Front desk"}
        )

        assert response.status_code == 200
        assert (response.json()["label"], response.json()["team"]) == ("Front desk", "Support")
        entry = Operation.objects.get(action=Action.ANNOTATE)
        assert entry.after == {"label": "Front desk", "team": "Support", "notes": ""}

    def test_a_lost_answer_settled_at_once_answers_as_its_settlement(self):
        self.sandbox.fault(UPDATE, "timeout", after_effect=True)
        body = {"moHttpUrl": "https://hooks.example.com/sms"}
        answer = self.api_post(self.operator, f"/api/v1/numbers/{self.msisdn}/configure", body)

        entry = Operation.objects.get(action=Action.CONFIGURE)
        assert entry.outcome == Outcome.UNKNOWN  # then settled by the lookup right after
        assert answer.status_code == 200
        operation = self.api_get(self.viewer, answer["Location"]).json()
        assert operation["outcome"] == "unknown"
        assert operation["final_outcome"] == "succeeded"
        assert operation["settlement"]["outcome"] == "succeeded"
