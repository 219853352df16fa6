"""Audited events that are not operations: refusals, logins and logouts."""

from __future__ import annotations

from dataclasses import replace

from inventory.audit import Actor, audit_append
from inventory.models import Action, Operation, Outcome


def access_denied_record(
    *, actor: Actor, permission: str = "", method: str, path: str
) -> Operation:
    """Audit a refused action (the user lacked the permission; the admin does not say which)."""
    if permission:
        reason = f"Refused: the user lacks the permission {permission}."
    else:
        reason = "Refused: the user's role does not allow this."
    return audit_append(
        action=Action.DENIED,
        actor=actor,
        outcome=Outcome.DENIED,
        request={"method": method, "path": path, "permission": permission},
        reason=reason,
    )


def login_record(*, actor: Actor) -> Operation:
    """Audit a successful login."""
    return audit_append(action=Action.LOGIN, actor=actor, outcome=Outcome.SUCCEEDED)


def login_failure_record(*, actor: Actor, username: str, reason: str) -> Operation:
    """Audit a refused login under the username that was tried (never the password)."""
    return audit_append(
        action=Action.LOGIN_FAILED,
        actor=replace(actor, user=None, username=username[:150]),
        outcome=Outcome.FAILED,
        request={"username": username[:150]},
        reason=reason,
    )


def logout_record(*, actor: Actor) -> Operation:
    """Audit a logout."""
    return audit_append(action=Action.LOGOUT, actor=actor, outcome=Outcome.SUCCEEDED)
