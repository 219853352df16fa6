"""View decorators: permissions are checked on the server, and refusals are audited."""

from functools import wraps

from django.shortcuts import render

from inventory.audit import Actor
from inventory.services import events


def permission_required(permission: str):
    """Like Django's, but answers 403 (never a login redirect) and records the refusal."""

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if request.user.has_perm(permission):
                return view(request, *args, **kwargs)
            return permission_refused(request, permission)

        return checked

    return decorator


def permission_refused(request, permission: str):
    """The 403 page for a user who lacks `permission`, with the refusal audited (for views
    whose permission depends on what is asked, such as the kind of a batch)."""
    events.access_denied_record(
        actor=Actor.from_request(request),
        permission=permission,
        method=request.method,
        path=request.path,
    )
    return render(request, "403.html", {"permission": permission}, status=403)


def superuser_required(view):
    """For pages only superusers use (approval rules, webhooks): 403, audited, for others."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if request.user.is_superuser:
            return view(request, *args, **kwargs)
        return permission_refused(request, "superuser")

    return checked
