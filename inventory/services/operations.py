"""The operation protocol every buy, cancel and configure follows (DESIGN §2):

1. claim   — a short transaction commits a `pending` trail entry (one open per number);
2. call    — the API is called with no transaction or lock held;
3. record  — a short transaction writes the outcome and updates the cache together.

An ambiguous answer makes the operation `unknown`; it is settled by an exact lookup of the
number in the owned list, never by sending the request again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory import api_client as api
from inventory.audit import Actor, audit_append, audit_complete
from inventory.models import Action, Operation, Outcome
from inventory.services.cache import (
    cache_owned,
    cache_purchase,
    change_applied,
    owned_snapshot,
    remove_from_cache,
)

log = logging.getLogger(__name__)


# The actions that call the API for one number and follow the operation protocol.
OPERATION_ACTIONS = (Action.PURCHASE, Action.CANCEL, Action.CONFIGURE)


class ServiceError(Exception):
    """A request the portal refuses before anything is sent; the message is for people."""


class OperationRefused(ServiceError):
    pass


# --- the protocol ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Intent:
    """What an operation is about to do, as it will be recorded."""

    action: Action
    country: str
    msisdn: str
    request: dict
    before: dict | None = None
    after: dict | None = None
    monthly_cost: Decimal | None = None
    setup_cost: Decimal | None = None


def operation_for_form(*, form_token: str, actor: Actor) -> Operation | None:
    """The operation a confirmation form already started: a resubmitted form (back button,
    double click, reload) shows it instead of starting another."""
    entry = Operation.objects.filter(form_token=form_token).first()
    if entry is not None and entry.actor_id != getattr(actor.user, "pk", None):
        raise OperationRefused("This confirmation form has already been used.")
    return entry


def operation_started_by(*, form_token: str, actor: Actor) -> Operation | None:
    """The operation this user's confirmation form started, if any (never another's)."""
    return Operation.objects.filter(
        form_token=form_token, actor_id=getattr(actor.user, "pk", None)
    ).first()


def unsettled_unknown(msisdn: str) -> Operation | None:
    return (
        Operation.objects.filter(msisdn=msisdn, outcome=Outcome.UNKNOWN, settlement__isnull=True)
        .order_by("seq")
        .first()
    )


def claim_operation(
    intent: Intent, *, actor: Actor, form_token: str, refusal: Callable[[], str]
) -> tuple[Operation, bool]:
    """Commit the pending entry and return it with True; return the operation this form
    already started with False; or record why the operation was refused and raise."""
    fields = {
        "action": intent.action,
        "actor": actor,
        "country": intent.country,
        "msisdn": intent.msisdn,
        "request": intent.request,
        "before": intent.before,
        "after": intent.after,
        "monthly_cost": intent.monthly_cost,
        "setup_cost": intent.setup_cost,
        "form_token": form_token,
    }
    try:
        with transaction.atomic():
            entry = audit_append(**fields)
            # Checked after the insert: by then any concurrent operation on this number has
            # either been refused by the constraint or committed its outcome.
            reason = _blocking_unknown(intent.msisdn) or refusal()
            if reason:
                raise OperationRefused(reason)
    except IntegrityError:
        replay = operation_for_form(form_token=form_token, actor=actor)
        if replay is not None:
            return replay, False
        reason = "Someone else is working on this number right now; nothing was sent."
    except OperationRefused as refused:
        reason = str(refused)
    else:
        return entry, True
    audit_append(**fields, outcome=Outcome.FAILED, reason=reason)
    raise OperationRefused(reason)


def _blocking_unknown(msisdn: str) -> str:
    earlier = unsettled_unknown(msisdn)
    if earlier is None:
        return ""
    return (
        f"The outcome of an earlier {earlier.get_action_display().lower()} of this number "
        "is still unknown. Sync the inventory to settle it, then try again."
    )


def _api_fields(error: api.ApiError | None = None, confirmation=None) -> dict:
    if confirmation is not None:
        return {
            "provider_code": confirmation.code,
            "provider_label": confirmation.label,
            "http_status": confirmation.http_status,
            "duration_ms": confirmation.duration_ms,
        }
    return {
        "provider_code": error.code,
        "provider_label": error.label,
        "http_status": error.status,
    }


def run_operation(
    entry: Operation,
    call: Callable[[], api.Confirmation],
    *,
    on_success: Callable[[api.OwnedNumber | None], None],
    on_declined: Callable[[api.ApiMethodFailed], str],
    settle: Callable[[], object],
    verify: Callable[[], tuple[api.OwnedNumber | None, str]] | None = None,
) -> Operation:
    """Call the API for a claimed operation and record how it ended. `verify` reads the
    result back from the API (outside any transaction) and names what did not take effect."""
    try:
        confirmation = _call(entry, call, on_declined=on_declined, settle=settle)
        if confirmation is None:
            return entry
        found, not_applied = None, ""
        if verify is not None:
            try:
                found, not_applied = verify()
            except api.ApiError as error:  # the change was accepted: it may have taken effect
                reason = f"The API accepted the change, but reading it back failed: {error}"
                audit_complete(entry, outcome=Outcome.UNKNOWN, reason=reason)
                return entry
        fields = _api_fields(confirmation=confirmation)
        if not_applied:
            audit_complete(entry, outcome=Outcome.FAILED, reason=not_applied, **fields)
            return entry
        with transaction.atomic():
            audit_complete(entry, outcome=Outcome.SUCCEEDED, **fields)
            on_success(found)
        return entry
    except BaseException:
        _mark_interrupted(entry)
        raise


def _mark_interrupted(entry: Operation) -> None:
    """A bug, a database error or an interrupt between claim and record: the call may have
    gone out, so the operation becomes unknown and a sync settles it. Best effort: when even
    this write fails, the sync's sweep of stale pending operations does it later."""
    try:
        if Operation.objects.filter(pk=entry.pk, outcome=Outcome.PENDING).exists():
            audit_complete(entry, outcome=Outcome.UNKNOWN, reason="The portal was interrupted.")
    except Exception:
        log.exception("Could not mark operation #%s as unknown", entry.seq)


def _call(entry, call, *, on_declined, settle) -> api.Confirmation | None:
    """The API call itself. Returns the confirmation, or None once a failure is recorded."""
    try:
        return call()
    except api.ApiOutcomeUnknown as error:
        audit_complete(entry, outcome=Outcome.UNKNOWN, reason=str(error), **_api_fields(error))
        settle()
    except api.ApiMethodFailed as error:
        reason = on_declined(error)
        audit_complete(entry, outcome=Outcome.FAILED, reason=reason, **_api_fields(error))
    except api.ApiError as error:  # refused before it took effect: nothing happened
        reason = f"{error} Nothing was changed."
        audit_complete(entry, outcome=Outcome.FAILED, reason=reason, **_api_fields(error))
    return None


def record_settlement(
    entry: Operation,
    found: api.OwnedNumber | None,
    *,
    actor: Actor,
    lookup: dict,
    seen_at: datetime,
) -> bool:
    """Settle an unknown operation from what the owned list showed at `seen_at` (`found`;
    None: not owned), and bring the cache in line, in one transaction.

    Seeing the effect settles at once. Not seeing it settles only once the grace period has
    passed since the operation ended: a request whose answer was lost may still be taking
    effect at the provider. Returns whether it settled."""
    decide = {
        Action.PURCHASE: _decide_purchase,
        Action.CANCEL: _decide_cancel,
        Action.CONFIGURE: _decide_configure,
    }[entry.action](entry)
    outcome, reason, apply = decide(found)
    if outcome != Outcome.SUCCEEDED and seen_at - entry.completed_at < settings.SETTLE_GRACE:
        return False
    with transaction.atomic():
        audit_append(
            action=Action.SETTLE,
            actor=actor,
            country=entry.country,
            msisdn=entry.msisdn,
            request=lookup,
            after=owned_snapshot(found),
            settles=entry,
            outcome=outcome,
            reason=reason,
        )
        apply()
    return True


def operation_settle(*, client: api.NumbersApiClient, entry: Operation, actor: Actor) -> bool:
    """Try to settle an `unknown` operation by an exact lookup of its number in the owned
    list. Returns False when it stays unknown (the lookup failed, or it is too early to
    trust that the effect is absent): the next sync tries again."""
    seen_at = timezone.now()
    try:
        found = client.find_owned(msisdn=entry.msisdn)
    except api.ApiError as error:
        log.warning("Could not settle operation #%s: %s", entry.seq, error)
        return False
    lookup = {"lookup": "GET /account/numbers", "pattern": entry.msisdn}
    try:
        return record_settlement(entry, found, actor=actor, lookup=lookup, seen_at=seen_at)
    except IntegrityError:  # settled concurrently by someone else
        return True


def _decide_purchase(entry: Operation):
    def decide(found: api.OwnedNumber | None):
        if found is None:
            return Outcome.FAILED, "The number is not in the account: it was not bought.", _noop
        offer = api.AvailableNumber(
            country=found.country,
            msisdn=found.msisdn,
            type=found.type,
            features=found.features,
            cost=entry.monthly_cost,
            initial_price=entry.setup_cost,
        )
        return (
            Outcome.SUCCEEDED,
            "The number is in the account: the purchase went through.",
            lambda: cache_purchase(offer=offer, entry=entry),
        )

    return decide


def _decide_cancel(entry: Operation):
    def decide(found: api.OwnedNumber | None):
        if found is not None:
            return Outcome.FAILED, "The number is still in the account: not cancelled.", _noop
        return (
            Outcome.SUCCEEDED,
            "The number is no longer in the account: the cancellation went through.",
            lambda: remove_from_cache(entry.msisdn),
        )

    return decide


def _decide_configure(entry: Operation):
    def decide(found: api.OwnedNumber | None):
        if found is None:
            return Outcome.FAILED, "The number is no longer in the account.", _noop
        if change_applied(entry.request, found):
            return (
                Outcome.SUCCEEDED,
                "The API shows the change: it was applied.",
                lambda: cache_owned(found, sent=entry.request),
            )
        return Outcome.FAILED, "The API does not show the change: it was not applied.", _noop

    return decide


def _noop() -> None:
    return None
