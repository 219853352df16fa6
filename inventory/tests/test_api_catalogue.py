"""GET /api/v1/catalogue/numbers: the catalogue's search form as parameters."""

from inventory.tests.base import ApiTestCase

SEARCH = "GET /number/search"


class CatalogueApiTestCase(ApiTestCase):
    def test_it_searches_and_answers_a_repeat_from_the_cache(self):
        params = {"country": "GB", "type": "mobile-lvn", "features": ["SMS"], "size": "10"}

        first = self.api_get(self.viewer, "/api/v1/catalogue/numbers", params).json()
        again = self.api_get(self.viewer, "/api/v1/catalogue/numbers", params).json()

        assert len(first["results"]) == 10
        assert first["count"] >= 10
        assert (first["from_cache"], again["from_cache"]) == (False, True)
        offer = first["results"][0]
        assert offer["type"] == "mobile-lvn"
        assert "SMS" in offer["features"]
        assert offer["monthly_cost"].count(".") == 1
        assert self.sandbox.calls(SEARCH) == 1

    def test_the_digits_are_read_as_on_the_page(self):
        response = self.api_get(
            self.viewer, "/api/v1/catalogue/numbers", {"country": "NL", "pattern": "+44"}
        )

        assert response.status_code == 400
        assert response.json()["errors"] == [
            {
                "parameter": "pattern",
                "detail": "+44 is not a Netherlands number: those start with +31.",
            }
        ]
        assert self.sandbox.calls(SEARCH) == 0

    def test_an_unreachable_api_is_a_502_in_words(self):
        self.sandbox.fault(SEARCH, "error", status=503, count=10)

        response = self.api_get(self.viewer, "/api/v1/catalogue/numbers", {"country": "GB"})

        assert response.status_code == 502
        assert response.json()["detail"].startswith("The Phone Numbers API is having trouble")

    def test_an_auditor_may_not_search(self):
        response = self.api_get(self.auditor, "/api/v1/catalogue/numbers", {"country": "GB"})

        assert response.status_code == 403
        assert self.sandbox.calls(SEARCH) == 0
