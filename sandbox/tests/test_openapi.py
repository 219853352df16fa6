"""The sandbox answers as its own OpenAPI description says: schemathesis generates calls to
the five operations from it and checks every answer (never a server error; statuses,
content types and bodies as described)."""

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sandbox import openapi

from .helpers import TIMEOUT

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# The document the sandbox serves, built without a server so that pytest can collect one
# test per operation from it.
schema = schemathesis.openapi.from_dict(openapi.description())


@pytest.fixture
def bearer(sandbox) -> dict[str, str]:
    """A token for the sandbox as each test finds it (reset, see conftest.py)."""
    sandbox.reset(owned=25)  # some owned numbers carry every optional field
    return sandbox.bearer()


@schema.parametrize()
# Bounded: a few dozen calls per operation keep the run to seconds.
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_as_described(case, server, bearer):
    case.call_and_validate(base_url=server.api_url, headers=bearer, checks=CHECKS)


def test_the_description_covers_the_five_operations(server):
    raw = requests.get(f"{server.control_url}/openapi.json", timeout=TIMEOUT).json()

    assert raw == openapi.description()
    operations = {f"{m.upper()} {p}" for p, item in raw["paths"].items() for m in item}
    assert operations == {
        "GET /account/numbers",
        "GET /number/search",
        "POST /number/buy",
        "POST /number/cancel",
        "POST /number/update",
    }
    assert raw["servers"] == [{"url": "/communication/nexmo/phone-numbers"}]
