"""The JSON API answers as its own OpenAPI document says: schemathesis reads the document the
portal serves at /api/v1/schema (built in-process, so that each operation is a test of its
own), generates calls to every operation from it, and checks each answer (never a server
error; statuses, content types and bodies as described). Calls go through the portal's WSGI
application in this process, on the test's database; the Phone Numbers API behind it is
the session's sandbox."""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from inventory.audit import Actor
from inventory.models import Batch
from inventory.services.tokens import api_token_create
from inventory.tests.base import make_user
from inventory.tests.factories import owned_numbers

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def portal_app():
    """The portal as gunicorn runs it. Django closes the database connection after each
    request; inside a test's transaction it must not (as its test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with override_settings(API_RATE_LIMIT="100000/minute"):
            yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db) -> dict[str, str]:
    """A superuser's token, so every operation is reached (roles have tests of their own),
    and an account with numbers and a batch to read."""
    root = make_user("root", is_staff=True, is_superuser=True)
    make_user("olivia", "Operator")
    owned_numbers(30)
    Batch.objects.create(kind=Batch.Kind.CANCEL, status=Batch.Status.DONE, created_by=root)
    token = api_token_create(actor=Actor.system("tests"), user=root, name="schema", days=1)[1]
    return {"Authorization": f"Bearer {token}"}


def portal_document() -> dict:
    """The document /api/v1/schema serves, built without a request, so that pytest can
    collect one test per operation from it (the last test checks it is the one served)."""
    return SchemaGenerator().get_schema(request=None, public=True)


schema = schemathesis.openapi.from_dict(portal_document())


@schema.parametrize()
# Bounded: a couple of dozen calls per operation keep the whole run to seconds.
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_as_described(case, portal_app, bearer):
    case.call_and_validate(app=portal_app, headers=bearer, checks=CHECKS)


def test_the_document_describes_every_route_and_its_problems(portal_app, bearer, client):
    document = client.get("/api/v1/schema", headers=bearer).json()

    assert document == json.loads(json.dumps(portal_document()))
    assert document["openapi"].startswith("3.")
    operations = {f"{m.upper()} {p}" for p, item in document["paths"].items() for m in item}
    wanted = {"POST /api/v1/purchases", "GET /api/v1/numbers", "GET /api/v1/batches/{id}"}
    assert wanted | {"POST /api/v1/batches/purchase", "GET /api/v1/audit"} <= operations
    purchase = document["paths"]["/api/v1/purchases"]["post"]
    assert {"Idempotency-Key"} <= {p["name"] for p in purchase["parameters"]}
    assert set(purchase["responses"]) >= {"201", "202", "400", "401", "403", "409", "422", "429"}
    assert "application/problem+json" in purchase["responses"]["409"]["content"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
