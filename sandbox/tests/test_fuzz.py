"""No query string or form, however odd, makes the sandbox fail with a 5xx."""

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from .helpers import TIMEOUT, Sandbox

NAMES = st.sampled_from(
    ["country", "type", "features", "pattern", "search_pattern", "index", "size",
     "has_application", "application_id", "msisdn", "moHttpUrl", "voiceCallbackType",
     "voiceCallbackValue", "voiceStatusCallback", "app_id", "moSmppSysType"]
)  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"-?[0-9]{1,40}", fullmatch=True),
    st.sampled_from(["GB", "NL", "SMS,VOICE", "tel", "sip", "app", "true", "https://x.invalid"]),
)
PARAMS = st.dictionaries(NAMES, VALUES, max_size=6)


@pytest.fixture(autouse=True, scope="module")
def _fresh_sandbox(server):
    """Hypothesis reruns a test many times, so start from defaults once for the module."""
    Sandbox(server).reset()


@settings(max_examples=60, deadline=None)
@given(params=PARAMS)
def test_no_query_makes_a_list_or_search_fail(server, params):
    sandbox = Sandbox(server)
    for path in ("/account/numbers", "/number/search"):
        response = sandbox.get(path, params)
        assert response.status_code in (200, 400), (path, params, response.text)


@settings(max_examples=60, deadline=None)
@given(form=PARAMS)
def test_no_form_makes_a_change_fail(server, form):
    sandbox = Sandbox(server)
    for path in ("/number/buy", "/number/cancel", "/number/update"):
        response = sandbox.post(path, form)
        assert response.status_code in (200, 400, 420), (path, form, response.text)


@settings(max_examples=30, deadline=None)
@given(body=st.text(max_size=50))
def test_no_body_makes_the_token_endpoint_fail(server, body):
    response = requests.post(
        server.token_url,
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=TIMEOUT,
    )

    assert response.status_code in (200, 400, 401)
