"""Arbitrary input to the search, buy and inventory pages: never a 500."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from inventory.tests.base import BaseTestCase

FIELDS = ["country", "type", "features", "match", "pattern", "size", "page", "msisdn",
          "offer", "sort", "configured", "q", "typed", "token", "change"]  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["GB", "NL", "US", "mobile-lvn", "landline", "SMS", "starts", "ends",
                     "447700900123", "+31 6", "0", "-1", "99999999999", "100", "\x00", "%"]),
)  # fmt: skip
QUERIES = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=8)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class FuzzViewsTestCase(HypothesisTestCase, BaseTestCase):
    """Each example runs in its own transaction (Hypothesis' Django test case)."""

    def assert_no_server_error(self, response):
        assert response.status_code < 500, response.status_code

    @FUZZ
    @given(query=QUERIES)
    def test_the_catalogue_search_never_fails(self, query):
        self.login(self.operator)
        self.assert_no_server_error(self.client.get("/catalogue/", query))

    @FUZZ
    @given(query=QUERIES)
    def test_the_buy_confirmation_never_fails(self, query):
        self.login(self.operator)
        self.assert_no_server_error(self.client.get("/catalogue/buy/", query))

    @FUZZ
    @given(data=QUERIES)
    def test_the_buy_form_never_fails(self, data):
        self.login(self.operator)
        self.assert_no_server_error(self.client.post("/catalogue/buy/confirm/", data))

    @FUZZ
    @given(query=QUERIES)
    def test_the_inventory_and_its_export_never_fail(self, query):
        self.login(self.viewer)
        self.assert_no_server_error(self.client.get("/inventory/", query))
        self.assert_no_server_error(self.client.get("/inventory/numbers.csv", query))
