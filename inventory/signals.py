"""Logins, failed logins (lockouts included) and logouts go into the audit trail.

Connected in `InventoryConfig.ready`. django-axes handles `user_login_failed` before these
receivers do (it is installed before `inventory`), so a failure already carries axes' verdict:
how many failures its username or its address has had, and whether it is now locked out.
Axes counts per username and per address separately (settings.AXES_LOCKOUT_PARAMETERS).
"""

from dataclasses import dataclass, replace

from django.db.models import Sum
from django.http import HttpRequest

from inventory.audit import Actor
from inventory.services import events
from inventory.wording import in_minutes

# The longest username a user can have (and the audit trail records).
USERNAME_MAX_LENGTH = 150


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
    username = lockout_username(request, credentials) or ""
    verdict = failure_verdict(request, username)
    events.login_failure_record(
        actor=_actor(request), username=username, reason=verdict.reason, lockout=verdict.locks
    )


def lockout_username(request: HttpRequest | None, credentials: dict | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the username tried, cut to the longest a user can have, so
    a 10,000-character one is counted (and locked) like any other, never stored whole."""
    from axes.conf import settings as axes_settings  # the settings with axes' defaults

    field = axes_settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        value = credentials.get(field)
    elif request is not None:
        value = getattr(request, "data", request.POST).get(field)
    else:
        value = None
    return None if value is None else str(value)[:USERNAME_MAX_LENGTH]


@dataclass(frozen=True)
class Verdict:
    reason: str  # why the login was refused, in words an auditor can read
    locks: bool  # this failure started a lockout


def failure_verdict(request: HttpRequest | None, username: str) -> Verdict:
    """Why the login was refused, as axes decided it."""
    from axes.helpers import get_cool_off, get_failure_limit

    if request is None:
        return Verdict("Wrong username or password.", locks=False)
    limit = get_failure_limit(request, None)
    failures = getattr(request, "axes_failures_since_start", None)
    minutes = in_minutes(get_cool_off(request)) or "a while"
    locked = getattr(request, "axes_locked_out", False)
    if locked and (failures is None or failures > limit):
        # Already locked: axes refused before the password was checked. (By default each
        # such attempt counts, and the lockout runs again from it.)
        had = {
            "username": f"this username has had {limit} failed logins, from any address",
            "address": f"this address has had {limit} failed logins, for any username",
            "both": f"this username and this address have each had {limit} failed logins",
        }[_locked_by(request, username, limit)]
        return Verdict(
            "Locked out: refused without checking the password, because "
            f"{had}; the lockout lasts {minutes}.",
            locks=False,
        )
    if locked:
        now_locked = {
            "username": "this username is now locked out, from every address,",
            "address": "this address is now locked out, for every username,",
            "both": "this username and this address are now locked out",
        }[_locked_by(request, username, limit)]
        return Verdict(
            f"Wrong username or password; failure {failures} of {limit}, so {now_locked} "
            f"for {minutes}.",
            locks=True,
        )
    if failures:
        return Verdict(
            f"Wrong username or password (failure {failures} of {limit} before a lockout).",
            locks=False,
        )
    return Verdict("Wrong username or password.", locks=False)


def _locked_by(request: HttpRequest, username: str, limit: int) -> str:
    """Which count reached the limit: "username", "address" or "both"."""
    from axes.attempts import get_cool_off_threshold
    from axes.models import AccessAttempt

    recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))

    def reached(**scope) -> bool:
        total = recent.filter(**scope).aggregate(total=Sum("failures_since_start"))["total"]
        return (total or 0) >= limit

    by_username = reached(username=username)
    by_address = reached(ip_address=getattr(request, "axes_ip_address", None))
    if by_username and by_address:
        return "both"
    return "address" if by_address else "username"
