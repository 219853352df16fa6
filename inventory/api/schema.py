"""The OpenAPI document's parts that no single view states: the bearer token scheme, the
problems any route may answer, and the Idempotency-Key every POST takes."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from inventory.api.idempotency import HEADER

PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_TYPE = "application/problem+json"

# What any route may answer, besides its own answers.
_EVERY_ROUTE = {
    "401": "No token (or session) was sent, or the token is not valid, revoked or expired.",
    "403": "The role does not allow this; the refusal is in the audit trail.",
    "429": "Too many requests with this token (see Retry-After).",
}
_WITH_PARAMETERS = {"400": "A parameter is not valid: `errors` names each one."}
_WITH_PATH = {"404": "There is nothing at this address."}
_POSTS = {
    "400": "The body or the Idempotency-Key is not valid: `errors` names each fault.",
    "409": "Refused, or a request with this Idempotency-Key is still being answered.",
    "413": "The body is larger than the portal accepts.",
    "415": "The body is not JSON.",
    "422": "This Idempotency-Key was used before for a different request.",
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "inventory.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token from your profile page (or "
            "`manage.py create_api_token`). It acts with its user's role.",
        }


def with_common_answers(result, generator, request, public):
    """drf-spectacular postprocessing hook."""
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            answers = dict(_EVERY_ROUTE)
            if "{" in path:
                answers.update(_WITH_PATH)
            if any(p.get("in") == "query" for p in operation.get("parameters", [])):
                answers.update(_WITH_PARAMETERS)
            if method == "post":
                answers.update(_POSTS)
                operation.setdefault("parameters", []).append(_idempotency_key())
            responses = operation.setdefault("responses", {})
            for status, description in answers.items():
                responses.setdefault(status, _problem(description))
            for response in responses.values():
                _problems_as_problem_json(response)
    return result


def _problem(description: str) -> dict:
    return {
        "description": description,
        "content": {PROBLEM_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
    }


def _problems_as_problem_json(response: dict) -> None:
    content = response.get("content", {})
    json_body = content.get("application/json")
    if json_body is not None and json_body.get("schema", {}).get("$ref") == PROBLEM_REF:
        content[PROBLEM_TYPE] = content.pop("application/json")


def _idempotency_key() -> dict:
    return {
        "in": "header",
        "name": HEADER,
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
        "description": "A value unique to this request (a UUID). Sent again with the same "
        "body, the first answer is given again and nothing is done twice; with another body "
        "it is refused (422). Kept for at least 24 hours.",
    }
