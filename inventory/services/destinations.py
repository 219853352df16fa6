"""Named destinations: where calls and messages go, by the names people use for them."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from inventory.audit import Actor, audit_append
from inventory.models import Action, Batch, Destination, Outcome
from inventory.services.batches import BatchRefused, configure_batch_create
from inventory.services.operations import ServiceError


class DestinationRefused(ServiceError):
    pass


def _record(actor: Actor, *, before: dict | None, after: dict | None, reason: str) -> None:
    audit_append(
        action=Action.DESTINATION,
        actor=actor,
        outcome=Outcome.SUCCEEDED,
        before=before,
        after=after,
        reason=reason,
    )


def _facts(destination: Destination) -> dict:
    return {"name": destination.name, "kind": destination.kind, "value": destination.value}


def destination_save(*, actor: Actor, destination: Destination) -> Destination:
    """Create or change a destination (a form's unsaved instance). Numbers routed to its
    old address keep it: moving them is a bulk configuration of its own."""
    before = None
    if destination.pk:
        before = _facts(Destination.objects.get(pk=destination.pk))
    else:
        destination.created_by = actor.user
    try:
        with transaction.atomic():
            destination.save()
            verb = "changed" if before else "added"
            _record(actor, before=before, after=_facts(destination), reason=f"Destination {verb}.")
    except IntegrityError as clash:
        raise DestinationRefused(
            "Another destination already has this name or this address."
        ) from clash
    return destination


def destination_delete(*, actor: Actor, destination: Destination) -> None:
    with transaction.atomic():
        _record(actor, before=_facts(destination), after=None, reason="Destination removed.")
        destination.delete()


def destination_move(
    *, actor: Actor, source: Destination, target: Destination, msisdns: list[str]
) -> Batch:
    """Every number routed to `source`, over to `target`: one bulk configuration, for review."""
    if (source.kind == Destination.Kind.WEBHOOK) != (target.kind == Destination.Kind.WEBHOOK):
        raise BatchRefused("Calls move to a voice destination; messages to a webhook.")
    if target.kind == Destination.Kind.WEBHOOK:
        changes = {"moHttpUrl": target.value}
    else:
        changes = {"voiceCallbackType": target.kind, "voiceCallbackValue": target.value}
    if not msisdns:
        raise BatchRefused(f"No number is routed to {source.name}.")
    return configure_batch_create(actor=actor, msisdns=msisdns, changes=changes)
