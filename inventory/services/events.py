"""Audited events that are not operations: refusals, logins and logouts.

Failed logins come from anyone, so they must not grow the append-only trail at will. They
are counted per window of LOGIN_FAILURE_WINDOW (models.LoginFailureWindow): in a window,
the first failure of each username and the first from each address is an entry of its own,
and so is a failure that starts a lockout, up to LOGIN_FAILURES_ITEMISED_PER_WINDOW entries.
Every other failure is only counted. Once the window has closed, one summary entry gives the
counts per username and address. Nothing already in the trail changes: the counters live
outside it, and the summary is a new entry. So a window adds at most
LOGIN_FAILURES_ITEMISED_PER_WINDOW + 1 entries, however many failures it saw.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.audit import Actor, audit_append
from inventory.models import (
    Action,
    LoginFailureCount,
    LoginFailureWindow,
    Operation,
    Outcome,
)

# Distinct (username, address) pairs counted per window; failures of further pairs are
# counted in the window's total only.
MAX_PAIRS_PER_WINDOW = 1000
# Pairs named in a window's summary entry (the largest counts); the rest are totalled.
SUMMARY_PAIRS = 20
# How long the counters are kept after their window's summary was written.
COUNTERS_KEPT = timedelta(days=30)


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
    login_failures_summarise()
    return audit_append(action=Action.LOGIN, actor=actor, outcome=Outcome.SUCCEEDED)


def login_failure_record(
    *, actor: Actor, username: str, reason: str, lockout: bool = False
) -> Operation | None:
    """Count a refused login under the username that was tried (never the password), and
    audit it as an entry of its own when it is the first of its username or its address in
    this window, or starts a lockout (see the module's docstring). Returns that entry, or
    None when the failure was only counted."""
    username = username[:150]
    now = timezone.now()
    login_failures_summarise(now=now)
    with transaction.atomic():
        window = _locked_window(started_at=window_start(now))
        first_of_its_kind = _count_failure(window, username=username, ip=actor.ip or "", now=now)
        itemise = (first_of_its_kind or lockout) and (
            window.itemised < settings.LOGIN_FAILURES_ITEMISED_PER_WINDOW
        )
        window.failures += 1
        window.itemised += 1 if itemise else 0
        window.save(update_fields=["failures", "itemised", "unlisted"])
        if not itemise:
            return None
        return audit_append(
            action=Action.LOGIN_FAILED,
            actor=replace(actor, user=None, username=username),
            outcome=Outcome.FAILED,
            request={"username": username},
            reason=reason,
        )


def window_start(moment: datetime) -> datetime:
    """The start of the login-failure window `moment` falls in (windows follow each other
    from the Unix epoch on, so 15-minute ones start on the quarter hour)."""
    length = settings.LOGIN_FAILURE_WINDOW.total_seconds()
    epoch = moment.timestamp() // length * length
    return datetime.fromtimestamp(epoch, tz=UTC)


def _locked_window(*, started_at: datetime) -> LoginFailureWindow:
    """The window's row, locked until the transaction ends: failures in one window are
    counted one at a time, so no two processes both take the last itemised entry."""
    window, _ = LoginFailureWindow.objects.select_for_update().get_or_create(started_at=started_at)
    return window


def _count_failure(window: LoginFailureWindow, *, username: str, ip: str, now: datetime) -> bool:
    """Count one failure of (username, ip) in `window`; True when it is the window's first
    for that username or for that address."""
    counts = window.counts.all()
    first = not counts.filter(username=username).exists() or not counts.filter(ip=ip).exists()
    updated = counts.filter(username=username, ip=ip).update(
        failures=F("failures") + 1, last_at=now
    )
    if updated:
        return first
    if counts.count() < MAX_PAIRS_PER_WINDOW:
        LoginFailureCount.objects.create(
            window=window, username=username, ip=ip, failures=1, first_at=now, last_at=now
        )
    else:
        window.unlisted += 1
    return first


def login_failures_summarise(*, now: datetime | None = None) -> int:
    """Write the summary entry of each closed window with failures that have no entry of
    their own, and forget counters summarised long ago. Called on every login and failed
    login; schedulers may call it too. Returns how many summaries it wrote."""
    now = now or timezone.now()
    closed = LoginFailureWindow.objects.filter(
        summarised_at=None, started_at__lt=window_start(now)
    ).order_by("started_at")
    written = 0
    for pk in list(closed.values_list("pk", flat=True)[:10]):
        with transaction.atomic():
            window = closed.select_for_update().filter(pk=pk).first()
            if window is None:  # another process summarised it meanwhile
                continue
            if window.failures > window.itemised:
                _summary_append(window)
                written += 1
            window.summarised_at = now
            window.save(update_fields=["summarised_at"])
    LoginFailureWindow.objects.filter(summarised_at__lt=now - COUNTERS_KEPT).delete()
    return written


def _summary_append(window: LoginFailureWindow) -> Operation:
    ends_at = window.started_at + settings.LOGIN_FAILURE_WINDOW
    pairs = list(window.counts.order_by("-failures", "username", "ip")[:SUMMARY_PAIRS])
    shown = sum(pair.failures for pair in pairs)
    more_pairs = window.counts.count() - len(pairs)
    more_failures = window.failures - shown
    named = "; ".join(
        f"{pair.failures} for “{pair.username}” from {pair.ip or 'an unknown address'}"
        for pair in pairs
    )
    rest = ""
    if more_pairs:
        rest = f"; {window.failures - shown - window.unlisted} for {more_pairs} more pairs"
    if window.unlisted:
        rest += f"; {window.unlisted} for pairs beyond the {MAX_PAIRS_PER_WINDOW} counted"
    reason = (
        f"{window.failures} failed logins {_span(window.started_at, ends_at)}, "
        f"{window.itemised} of them recorded one by one: {named}{rest}."
    )
    return audit_append(
        action=Action.LOGIN_FAILED,
        actor=Actor(),
        outcome=Outcome.FAILED,
        request={
            "summary": {
                "window_start": window.started_at.isoformat(),
                "window_end": ends_at.isoformat(),
                "failures": window.failures,
                "itemised": window.itemised,
                "counts": [
                    {"username": pair.username, "ip": pair.ip, "failures": pair.failures}
                    for pair in pairs
                ],
                "more_pairs": more_pairs,
                "more_failures": more_failures,
            }
        },
        reason=reason,
    )


def _span(start: datetime, end: datetime) -> str:
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    until = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"from {start:%Y-%m-%d %H:%M} to {until} UTC"


def logout_record(*, actor: Actor) -> Operation:
    """Audit a logout."""
    return audit_append(action=Action.LOGOUT, actor=actor, outcome=Outcome.SUCCEEDED)
