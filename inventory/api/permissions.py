"""Every API route needs the same Django permission as the page that does the same thing;
a refusal is a 403 and is audited, as in the portal's pages."""

from __future__ import annotations

from rest_framework import permissions

from inventory.audit import Actor
from inventory.services import events


def required_permission(view, method: str) -> str | None:
    """The permission `view.permissions` names for `method`. A method the route does not
    take needs the route's first permission: a user without it is refused (403) before
    being told the method is not allowed (405), as in the portal's pages."""
    needed: dict[str, str] = getattr(view, "permissions", {})
    method = "GET" if method == "HEAD" else method
    if method in needed:
        return needed[method]
    return next(iter(needed.values()), None)


def refuse(request, permission: str) -> str:
    """Audit a refusal; the sentence the 403 answer gives."""
    events.access_denied_record(
        actor=Actor.from_request(request),
        permission=permission,
        method=request.method,
        path=request.path,
    )
    return f"Your role does not allow this (it needs the permission {permission})."


class RolePermission(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False  # answered 401: authentication needed
        needed = required_permission(view, request.method)
        if needed is None or user.has_perm(needed):
            return True
        self.message = refuse(request, needed)
        return False
