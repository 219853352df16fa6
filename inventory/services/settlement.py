"""Settling operations whose outcome is unknown, whichever kind they are: by an exact lookup
of the number, or from a sync's complete listing of the account."""

from __future__ import annotations

from datetime import datetime

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import Action, Operation, Outcome
from inventory.services.cancel import Cancel
from inventory.services.configure import Configure
from inventory.services.operations import ApiOperation, operation_interrupted
from inventory.services.purchase import Purchase

OPERATION_KINDS: dict[str, type[ApiOperation]] = {
    Action.PURCHASE: Purchase,
    Action.CANCEL: Cancel,
    Action.CONFIGURE: Configure,
}


def operation_settle(
    *, entry: Operation, actor: Actor, client: api.NumbersApiClient | None = None
) -> bool:
    """Try to settle an `unknown` operation by an exact lookup of its number. False when it
    stays unknown: the next sync tries again."""
    kind = OPERATION_KINDS[entry.action]
    return kind.settle_by_lookup(entry, actor=actor, client=client or api.default_client())


def operation_settle_from_listing(
    entry: Operation,
    found: api.OwnedNumber | None,
    *,
    actor: Actor,
    lookup: dict,
    seen_at: datetime,
) -> bool:
    """Settle from what a complete listing showed at `seen_at` (`found`; None: not owned)."""
    kind = OPERATION_KINDS[entry.action]
    return kind.settle_from(entry, found, actor=actor, lookup=lookup, seen_at=seen_at)


def operation_resume(
    *, entry: Operation, actor: Actor, client: api.NumbersApiClient | None = None
) -> Operation:
    """Pick up an operation whose process stopped (a task run again after its worker died):
    never send it again; settle it from the account. A pending one becomes unknown first."""
    if entry.outcome == Outcome.PENDING:
        operation_interrupted(entry)
        entry.refresh_from_db()
    if entry.outcome == Outcome.UNKNOWN:
        operation_settle(entry=entry, actor=actor, client=client)
    return entry


def unknown_operations_settle(*, actor: Actor, client: api.NumbersApiClient | None = None) -> int:
    """One exact lookup per unsettled unknown operation. Returns how many settled."""
    client = client or api.default_client()
    unknown = Operation.objects.filter(outcome=Outcome.UNKNOWN, settlement__isnull=True)
    return sum(
        operation_settle(entry=entry, actor=actor, client=client)
        for entry in unknown.order_by("seq")[:100]
    )
