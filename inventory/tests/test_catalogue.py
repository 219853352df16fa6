"""The catalogue search page."""

from django.test import override_settings

from inventory.models import Action, Operation, Outcome
from inventory.tests.base import BaseTestCase

SEARCH = "GET /number/search"


class CatalogueTestCase(BaseTestCase):
    url = "/catalogue/"

    def test_it_shows_the_search_form_without_calling_the_api(self):
        self.login(self.viewer)
        response = self.client.get(self.url)
        self.assertContains(response, "Numbers on sale")
        self.assertContains(response, ">Netherlands (NL)<")  # the name first: typing finds it
        assert self.sandbox.calls(SEARCH) == 0

    def test_it_lists_numbers_formatted_with_prices(self):
        self.login(self.viewer)
        response = self.client.get(self.url, {"country": "GB", "type": "mobile-lvn", "size": 10})

        self.assertContains(response, "Page 1 of")
        page = response.context["results"].page
        assert len(page.items) == 10
        first = page.items[0]
        self.assertContains(response, "+44 7")  # international format
        self.assertContains(response, f"€{first.cost:.2f}")
        assert self.sandbox.calls(SEARCH) == 1

    def test_it_shows_limitations_in_words(self):
        self.login(self.viewer)

        response = self.client.get(self.url, {"country": "GB", "type": "landline-toll-free"})

        self.assertContains(response, "Limitations")
        self.assertContains(response, "Voice: inbound only (domestic)")

    def test_a_record_it_cannot_read_is_left_out_with_a_note(self):
        self.login(self.viewer)
        self.sandbox.fault(SEARCH, "broken_record", drop=["type"])

        response = self.client.get(self.url, {"country": "GB", "type": "mobile-lvn", "size": 10})

        page = response.context["results"].page
        assert len(page.items) == 9
        [name] = page.unreadable
        self.assertContains(response, f"could not read ({name}); it is left out.")
        assert self.sandbox.calls(SEARCH) == 1

    def test_it_says_what_it_searched_in_words_and_the_query_in_the_technical_details(self):
        self.login(self.viewer)
        response = self.client.get(self.url, {"country": "NL", "pattern": "06", "match": "starts"})
        words, details = response.content.decode().split("<summary>Technical details</summary>")
        assert "Landline numbers in Netherlands that start with +316." in words
        assert "GET /number/search" not in words
        assert "pattern=316&amp;search_pattern=0" in details

    def test_without_a_size_the_page_shows_the_twenty_it_returns(self):
        self.login(self.viewer)
        response = self.client.get(self.url, {"country": "GB", "type": "mobile-lvn"})
        assert len(response.context["results"].page.items) == 20
        self.assertContains(response, '<option value="20" selected>20</option>', html=False)

    def test_a_page_that_does_not_exist_says_so_and_shows_no_pager(self):
        self.login(self.viewer)
        response = self.client.get(self.url, {"country": "GB", "type": "mobile-lvn", "page": 999})
        self.assertContains(response, "There is no page 999")
        self.assertNotContains(response, 'aria-label="Pages"')

    def test_a_search_the_form_refuses_explains_why_in_sentences(self):
        self.login(self.viewer)
        for params, words in [
            ({"page": "0"}, "The page must be 1 or more."),
            ({"page": "lots"}, "The page must be a whole number."),
            ({"match": "around"}, "“around” is not one of the match choices here"),
            ({"features": "FAX"}, "“FAX” is not one of the features choices here"),
            ({"type": "satellite"}, "“satellite” is not one of the number type choices here"),
        ]:
            response = self.client.get(self.url, {"country": "GB", **params})
            self.assertContains(response, "The search did not run:")
            self.assertContains(response, words)
            self.assertNotContains(response, "Select a valid choice")
        assert self.sandbox.calls(SEARCH) == 0

    def test_recent_countries_come_first_in_the_picker(self):
        self.login(self.viewer)
        for country in ("GB", "NL"):
            self.client.get(self.url, {"country": country})
        page = self.client.get(self.url).content.decode()
        recent = page.split('<optgroup label="Searched lately">')[1].split("</optgroup>")[0]
        assert recent.index("Netherlands") < recent.index("United Kingdom")
        assert "numbers on sale" in recent  # both searches found some

    def test_the_results_page_marks_what_its_own_search_found_in_the_picker(self):
        self.login(self.viewer)
        for country, mark in (("GB", "— numbers on sale"), ("GL", "— none on sale when last")):
            query = {"country": country, "type": "landline"}
            for response in (self.client.get(self.url, query), self.client.get(self.url, query)):
                picker = response.content.decode().split('<select name="country"')[1]
                chosen = picker.split(" selected>")[1].split("</option>")[0]
                assert mark in chosen, chosen
            assert response.context["results"].from_cache  # the repeat, with no API call

    def test_a_search_without_a_type_looks_for_landlines_as_the_api_does(self):
        self.login(self.viewer)
        response = self.client.get(self.url, {"country": "NL"})
        assert response.context["query"].type == "landline"
        self.assertContains(response, "type=landline")

    def test_a_repeated_search_is_answered_from_the_cache(self):
        self.login(self.viewer)
        query = {"country": "NL", "type": "landline"}
        self.client.get(self.url, query)
        response = self.client.get(self.url, query)

        assert response.context["results"].from_cache
        assert self.sandbox.calls(SEARCH) == 1

    @override_settings(CATALOGUE_CACHE_SECONDS=0)
    def test_the_cache_window_is_configurable(self):
        self.login(self.viewer)
        query = {"country": "NL", "type": "landline"}
        self.client.get(self.url, query)
        self.client.get(self.url, query)
        assert self.sandbox.calls(SEARCH) == 2

    def test_another_page_is_another_query(self):
        self.login(self.viewer)
        self.client.get(self.url, {"country": "NL", "page": 1})
        response = self.client.get(self.url, {"country": "NL", "page": 2})
        self.assertContains(response, "Page 2 of")
        assert self.sandbox.calls(SEARCH) == 2

    def test_no_matches_say_so_and_keep_the_form_filled_in(self):
        self.login(self.viewer)
        response = self.client.get(
            self.url, {"country": "NL", "pattern": "99999", "match": "ends", "type": "landline"}
        )
        self.assertContains(response, "No landline numbers on sale in Netherlands match")
        self.assertContains(response, 'value="99999"')

    def test_a_country_without_numbers_on_sale_says_so(self):
        self.login(self.viewer)
        response = self.client.get(self.url, {"country": "GL"})
        self.assertContains(response, "No landline numbers are on sale in Greenland")

    def test_an_unknown_country_is_a_field_error(self):
        self.login(self.viewer)
        response = self.client.get(self.url, {"country": "XX"})
        self.assertContains(response, "is not a country the portal can search")
        assert self.sandbox.calls(SEARCH) == 0

    def test_a_throttled_api_gives_a_clear_message_and_keeps_the_form(self):
        self.login(self.viewer)
        self.sandbox.fault(SEARCH, "throttle", delay=30)
        response = self.client.get(self.url, {"country": "NL", "pattern": "020"})
        self.assertContains(response, "quota is used up")
        self.assertContains(response, 'value="020"')

    def test_an_unreachable_api_gives_a_clear_message(self):
        self.login(self.viewer)
        self.sandbox.fault(SEARCH, "error", status=503, count=50)
        response = self.client.get(self.url, {"country": "NL"})
        assert response.status_code == 200
        self.assertContains(response, "did not run", status_code=200)

    def test_a_page_past_the_end_offers_the_last_page(self):
        self.login(self.viewer)
        response = self.client.get(self.url, {"country": "NL", "type": "landline", "page": 9999})
        self.assertContains(response, "Go to the last page")

    def test_operators_see_buy_buttons_and_viewers_do_not(self):
        query = {"country": "GB", "size": 10}
        self.login(self.viewer)
        self.assertNotContains(self.client.get(self.url, query), "Buy…")
        self.login(self.operator)
        self.assertContains(self.client.get(self.url, query), "Buy…", count=10)

    def test_an_auditor_is_refused_and_the_refusal_is_audited(self):
        self.login(self.auditor)
        response = self.client.get(self.url, {"country": "NL"})
        assert response.status_code == 403
        refusal = Operation.objects.get(action=Action.DENIED)
        assert refusal.outcome == Outcome.DENIED
        assert refusal.actor_username == "audrey"
        assert refusal.request["permission"] == "inventory.browse_catalogue"
        assert self.sandbox.calls(SEARCH) == 0
