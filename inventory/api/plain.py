"""The JSON API's problem answers for what happens before any API view runs (a request the
portal's limits refuse, an address no route matches): plain Django, no REST framework."""

from django.http import JsonResponse

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:numbers-portal:problem:"


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def plain_problem(request, *, status: int, title: str, detail: str, kind: str) -> JsonResponse:
    body = {
        "type": TYPE_PREFIX + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    return JsonResponse(body, status=status, content_type=CONTENT_TYPE)
