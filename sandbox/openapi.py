"""The sandbox's description of the API it simulates, as an OpenAPI 3.0 document.

Served at `GET /_sandbox/openapi.json` so that tools (and the test suite's schemathesis run)
can check the sandbox's answers against what it claims. It describes the five operations as
KPN publishes them: the same paths, parameters, form bodies and success shapes, plus the
refusals the gateway and the provider answer with. The wording is the sandbox's own.
"""

from .catalogue import NUMBER_TYPES
from .gateway import API_BASE, TOKEN_PATH
from .params import MAX_INDEX, MAX_PAGE_SIZE

FEATURES = ("SMS", "VOICE")  # what KPN documents; the sandbox sells nothing else
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _query(
    name: str, schema: dict, description: str, *, example=None, required: bool = False
) -> dict:
    parameter = {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }
    if example is not None:
        parameter["example"] = example
    return parameter


_PAGING = [
    _query(
        "index",
        {"type": "integer", "minimum": 1, "maximum": MAX_INDEX, "default": 1},
        "Which page to answer with, counting from 1.",
        example=1,
    ),
    _query(
        "size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 10},
        f"How many numbers a page holds, at most {MAX_PAGE_SIZE}.",
        example=MAX_PAGE_SIZE,
    ),
    _query(
        "pattern",
        {"type": "string", "pattern": "^[0-9]{1,15}$"},
        "Digits to look for in the full international number, country code included.",
    ),
    _query(
        "search_pattern",
        {"type": "integer", "minimum": 0, "maximum": 2, "default": 0},
        "Where the digits must be: 0 at the start, 1 anywhere, 2 at the end.",
    ),
]

_REFUSALS = {
    "400": _json(_ref("FieldErrors"), "A parameter is missing or wrong; keyed by its name."),
    "401": _json(_ref("Fault"), "The gateway refused the bearer token (invalid or expired)."),
    "429": _json(_ref("Fault"), "The gateway's quota for this client is used up."),
}


def _list_operation(summary: str, parameters: list[dict]) -> dict:
    return {
        "summary": summary,
        "security": [{"oauth2": []}],
        "parameters": parameters,
        "responses": {"200": _json(_ref("NumberList"), "One page of numbers."), **_REFUSALS},
    }


def _form_operation(summary: str, body: str) -> dict:
    return {
        "summary": summary,
        "security": [{"oauth2": []}],
        "requestBody": {"required": True, "content": {FORM: {"schema": _ref(body)}}},
        "responses": {
            "200": _json(_ref("Answer"), "Done: error-code is 200."),
            "420": _json(_ref("Answer"), "Declined: not on sale, not owned, or not possible."),
            **_REFUSALS,
        },
    }


_TEXT = {"type": "string"}
_COUNTRY = {
    "type": "string",
    "pattern": "^[A-Z]{2}$",
    "description": "ISO 3166-1 alpha-2, in upper case, e.g. GB.",
}
_MSISDN = {
    "type": "string",
    "pattern": "^[1-9][0-9]{6,14}$",
    "description": "The number in international digits, no + or 00.",
}

_SCHEMAS = {
    "Number": {
        "type": "object",
        "required": ["country", "msisdn", "type", "features"],
        "properties": {
            "country": _COUNTRY,
            "msisdn": _MSISDN,
            "type": {"type": "string", "enum": list(NUMBER_TYPES)},
            "features": {"type": "array", "items": {"type": "string", "enum": list(FEATURES)}},
            "cost": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$"},
            "initialPrice": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$"},
            "limitations": {"type": "array", "items": _ref("Limitation")},
            "moHttpUrl": _TEXT,
            "voiceCallbackType": {"type": "string", "enum": ["sip", "tel", "app"]},
            "voiceCallbackValue": _TEXT,
            "messagesCallbackType": _TEXT,
            "messagesCallbackValue": _TEXT,
            "app_id": _TEXT,
        },
    },
    "Limitation": {
        "type": "object",
        "required": ["feature", "type", "reach"],
        "properties": {
            "feature": {"type": "string", "enum": ["SMS", "VOICE", "MMS"]},
            "type": {"type": "string", "enum": ["INBOUND", "OUTBOUND"]},
            "reach": {"type": "string", "enum": ["DOMESTIC", "INTERNATIONAL"]},
        },
    },
    "NumberList": {
        "type": "object",
        "description": "`count` is over all pages; `numbers` is left out when a page is empty.",
        "required": ["count"],
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "numbers": {"type": "array", "minItems": 1, "items": _ref("Number")},
        },
    },
    "Answer": {
        "type": "object",
        "required": ["error-code", "error-code-label"],
        "properties": {
            "error-code": {"type": "string", "pattern": "^[0-9]{3}$"},
            "error-code-label": _TEXT,
        },
    },
    "FieldErrors": {"type": "object", "additionalProperties": _TEXT, "minProperties": 1},
    "Fault": {
        "type": "object",
        "required": ["fault"],
        "properties": {
            "fault": {
                "type": "object",
                "required": ["faultstring", "detail"],
                "properties": {
                    "faultstring": _TEXT,
                    "detail": {
                        "type": "object",
                        "required": ["errorcode"],
                        "properties": {"errorcode": _TEXT},
                    },
                },
            }
        },
    },
    "BuyOrCancel": {
        "type": "object",
        "required": ["country", "msisdn"],
        "properties": {"country": _COUNTRY, "msisdn": _MSISDN},
    },
    "Update": {
        "type": "object",
        "required": ["country", "msisdn"],
        "properties": {
            "country": _COUNTRY,
            "msisdn": _MSISDN,
            "moHttpUrl": {**_TEXT, "description": "Inbound SMS webhook; empty clears it."},
            "moSmppSysType": _TEXT,
            "voiceCallbackType": {"type": "string", "enum": ["sip", "tel", "app"]},
            "voiceCallbackValue": {**_TEXT, "description": "Goes with voiceCallbackType."},
            "voiceStatusCallback": _TEXT,
        },
    },
}


def description() -> dict:
    """The document itself; paths are relative to the API's base under `servers`."""
    search = [
        _query(
            "country", {"type": "string"}, "Where the numbers are.", example="GB", required=True
        ),
        _query(
            "type",
            {"type": "string", "enum": list(NUMBER_TYPES)},
            "Which kind of number; landlines when left out.",
            example="mobile-lvn",
        ),
        _query(
            "features",
            {"type": "string", "enum": ["SMS", "VOICE", "SMS,VOICE", "VOICE,SMS"]},
            "Every one of these features, comma-separated.",
        ),
        *_PAGING,
    ]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Phone Numbers API (sandbox)",
            "version": "v1.1.1",
            "description": "The KPN-hosted Phone Numbers API as the sandbox simulates it.",
        },
        "servers": [{"url": API_BASE}],
        "paths": {
            "/account/numbers": {"get": _list_operation("The account's numbers", _PAGING)},
            "/number/search": {"get": _list_operation("Numbers on sale", search)},
            "/number/buy": {"post": _form_operation("Buy a number", "BuyOrCancel")},
            "/number/cancel": {"post": _form_operation("Cancel a number", "BuyOrCancel")},
            "/number/update": {"post": _form_operation("Change a number's settings", "Update")},
        },
        "components": {
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": f"{TOKEN_PATH}?grant_type=client_credentials",
                            "scopes": {},
                        }
                    },
                }
            },
            "schemas": _SCHEMAS,
        },
    }
