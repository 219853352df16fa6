"""Logins, failed logins (lockouts included) and logouts go into the audit trail.

Connected in `InventoryConfig.ready`. django-axes handles `user_login_failed` before these
receivers do (it is installed before `inventory`), so a failure already carries axes' verdict:
how many failures this username has from this address, and whether it is now locked out.
"""

from dataclasses import replace

from django.contrib.auth import get_user_model
from django.http import HttpRequest

from inventory.audit import Actor
from inventory.services import events
from inventory.wording import in_minutes


def _actor(request: HttpRequest | None, user=None) -> Actor:
    actor = Actor.from_request(request) if request is not None else Actor()
    if user is None:
        return actor
    return replace(actor, user=user, username=user.get_username())


def on_logged_in(sender, request, user, **kwargs):
    events.login_record(actor=_actor(request, user))


def on_logged_out(sender, request, user, **kwargs):
    if user is None:  # logging out without being logged in
        return
    events.logout_record(actor=_actor(request, user))


def on_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the username is kept.
    username = str(credentials.get(get_user_model().USERNAME_FIELD) or "")
    events.login_failure_record(
        actor=_actor(request), username=username, reason=failure_reason(request)
    )


def failure_reason(request: HttpRequest | None) -> str:
    """Why the login was refused, as axes decided it, in words an auditor can read."""
    from axes.helpers import get_cool_off, get_failure_limit

    if request is None:
        return "Wrong username or password."
    limit = get_failure_limit(request, None)
    failures = getattr(request, "axes_failures_since_start", None)
    minutes = in_minutes(get_cool_off(request)) or "a while"
    locked = getattr(request, "axes_locked_out", False)
    if locked and (failures is None or failures > limit):
        # Already locked: axes refused before the password was checked. (By default each
        # such attempt counts, and the lockout runs again from it.)
        return (
            "Locked out: refused without checking the password, because this username has "
            f"had {limit} failed logins from this address (the lockout lasts {minutes})."
        )
    if locked:
        return (
            f"Wrong username or password; failure {failures} of {limit}, so this username is "
            f"now locked out from this address for {minutes}."
        )
    if failures:
        return f"Wrong username or password (failure {failures} of {limit} before a lockout)."
    return "Wrong username or password."
