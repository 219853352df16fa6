"""Idempotent POSTs, as Stripe does them: a script sends `Idempotency-Key: <a unique value>`
and may send the same request again (after a timeout, a crash, a lost answer) as often as it
likes: the first answer is given again, status and body, and nothing is done twice. The key
is also the seed of the form token of any operation the request starts, so even a request
whose process died half-way is protected by the operation protocol's replay.

Without a key each request is new; one open operation per number still holds, and a second
buy of the same number while the first runs is refused."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable

from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from inventory.api.problems import InvalidInput, problem_response, service_problem
from inventory.services import idempotency
from inventory.services.operations import ServiceError

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as header values travel safely
_KEPT_HEADERS = ("Location", "Retry-After")


def idempotent(request, view, run: Callable[[str], Response]) -> Response:
    """Answer `request` with `run(form_token)` at most once per Idempotency-Key."""
    key = request.headers.get(HEADER)
    if key is None:
        return run(secrets.token_urlsafe(24))
    if not _KEY.match(key):
        raise InvalidInput(
            [{"parameter": HEADER, "detail": "An Idempotency-Key is 1 to 255 visible characters."}]
        )
    try:
        record, fresh = idempotency.idempotency_claim(
            user=request.user,
            key=key,
            method=request.method,
            path=request.path,
            fingerprint=_fingerprint(request),
        )
    except ServiceError as refused:
        raise service_problem(refused) from refused
    if not fresh:
        return _replay(record)
    try:
        response = run(_form_token(request.user.pk, key))
    except InvalidInput:  # nothing was started: the key is free for a corrected request
        idempotency.idempotency_release(record=record)
        raise
    except Exception as exc:
        answer = problem_response(exc, {"request": request, "view": view})
        if answer is None:  # a bug: nothing to keep, the key may be tried again
            idempotency.idempotency_release(record=record)
            raise
        response = answer
    _keep(record, response)
    return response


def _fingerprint(request) -> str:
    """The request as the key stands for it: method, path and the body as parsed (so spacing
    and the order of members do not matter)."""
    text = json.dumps([request.method, request.path, request.data], sort_keys=True, cls=JSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()


def _form_token(user_id: int, key: str) -> str:
    digest = hashlib.sha256(f"{user_id}:{key}".encode()).hexdigest()
    return f"api-{digest[:40]}"


def _keep(record, response: Response) -> None:
    body = json.loads(json.dumps(response.data, cls=JSONEncoder))
    idempotency.idempotency_answer(
        record=record,
        status_code=response.status_code,
        content_type=response.content_type or "",
        body=body,
        headers={name: response[name] for name in _KEPT_HEADERS if response.has_header(name)},
    )


def _replay(record) -> Response:
    return Response(
        record.body,
        status=record.status_code,
        content_type=record.content_type or None,
        headers={**record.headers, REPLAYED: "true"},
    )
