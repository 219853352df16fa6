"""Changing an owned number: its routing (configure), its existence (cancel), and the
local notes only the portal keeps (annotate)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from inventory import api_client as api
from inventory.audit import Actor, audit_append
from inventory.models import Action, Operation, Outcome, OwnedNumber
from inventory.services.cache import (
    LOCAL_FIELDS,
    cache_owned,
    change_applied,
    configuration_of,
    inventory_changed,
    remove_from_cache,
)
from inventory.services.operations import (
    Intent,
    OperationRefused,
    claim_operation,
    operation_for_form,
    operation_settle,
    run_operation,
)

# --- configure ------------------------------------------------------------------------------


def number_configure(
    *,
    client: api.NumbersApiClient,
    actor: Actor,
    number: OwnedNumber,
    changes: dict[str, str],
    form_token: str,
) -> Operation:
    """Send only the fields that change (an empty string clears one), then read the number
    back: the change counts as made only when the API shows it."""
    replay = operation_for_form(form_token=form_token, actor=actor)
    if replay is not None:
        return replay
    if not changes:
        raise OperationRefused("Nothing to change: the form matches the current configuration.")
    current = configuration_of(number)
    intent = Intent(
        action=Action.CONFIGURE,
        country=number.country,
        msisdn=number.msisdn,
        request={"country": number.country, "msisdn": number.msisdn, **changes},
        before={name: current[name] for name in changes},
        after=dict(changes),
    )
    entry, claimed = claim_operation(
        intent, actor=actor, form_token=form_token, refusal=_not_in_cache(number.msisdn)
    )
    if not claimed:
        return entry

    def read_back() -> tuple[api.OwnedNumber | None, str]:
        found = client.find_owned(msisdn=number.msisdn)
        if found is None:
            return None, "The API accepted the change, but the number is no longer in the account."
        if not change_applied(intent.request, found):
            return found, "The API accepted the change but did not apply it."
        return found, ""

    return run_operation(
        entry,
        lambda: client.update(country=number.country, msisdn=number.msisdn, changes=changes),
        verify=read_back,
        on_success=lambda found: cache_owned(found, sent=changes),
        on_declined=lambda error: _why_update_failed(client, number, error),
        settle=lambda: operation_settle(client=client, entry=entry, actor=actor),
    )


def _not_in_cache(msisdn: str) -> Callable[[], str]:
    def refusal() -> str:
        if not OwnedNumber.objects.filter(msisdn=msisdn).exists():
            return "This number is no longer in the inventory; nothing was sent."
        return ""

    return refusal


def _why_update_failed(
    client: api.NumbersApiClient, number: OwnedNumber, error: api.ApiMethodFailed
) -> str:
    label = error.label if error.label and error.label != "method failed" else ""
    try:
        if client.find_owned(msisdn=number.msisdn) is None:
            return "The account no longer owns this number, so it cannot be changed."
    except api.ApiError:
        pass
    if label:
        return f"The provider declined the change: {label}."
    return (
        "The provider declined the change (“method failed”). A webhook URL must answer "
        "HTTP 200 before the provider accepts it."
    )


# --- cancel ---------------------------------------------------------------------------------


def number_cancel(
    *,
    client: api.NumbersApiClient,
    actor: Actor,
    number: OwnedNumber,
    typed_msisdn: str,
    form_token: str,
) -> Operation:
    """Cancel a number the user named in full. The API is addressed by the exact msisdn only."""
    replay = operation_for_form(form_token=form_token, actor=actor)
    if replay is not None:
        return replay
    if typed_msisdn != number.msisdn:
        raise OperationRefused("The number typed does not match; nothing was cancelled.")
    intent = Intent(
        action=Action.CANCEL,
        country=number.country,
        msisdn=number.msisdn,
        request={"country": number.country, "msisdn": number.msisdn},
        before={**configuration_of(number), "type": number.type, "label": number.label},
        monthly_cost=number.monthly_cost,
        setup_cost=number.setup_cost,
    )
    entry, claimed = claim_operation(
        intent, actor=actor, form_token=form_token, refusal=_not_in_cache(number.msisdn)
    )
    if not claimed:
        return entry
    return run_operation(
        entry,
        lambda: client.cancel(country=number.country, msisdn=number.msisdn),
        on_success=lambda _found: remove_from_cache(number.msisdn),
        on_declined=lambda _error: _why_cancel_failed(client, number),
        settle=lambda: operation_settle(client=client, entry=entry, actor=actor),
    )


def _why_cancel_failed(client: api.NumbersApiClient, number: OwnedNumber) -> str:
    try:
        if client.find_owned(msisdn=number.msisdn) is None:
            return (
                "The account no longer owns this number (it was cancelled or released "
                "elsewhere). The next sync removes it from the inventory."
            )
    except api.ApiError:
        pass
    return "The provider declined the cancellation (“method failed”)."


def number_annotate(*, actor: Actor, number: OwnedNumber, values: dict[str, str]) -> OwnedNumber:
    """Change what only the portal knows about a number (label, team, notes)."""
    before = {name: getattr(number, name) for name in LOCAL_FIELDS}
    after = {name: values.get(name, before[name]) for name in LOCAL_FIELDS}
    if after == before:
        return number
    with transaction.atomic():
        OwnedNumber.objects.filter(pk=number.pk).update(**after, updated_at=timezone.now())
        inventory_changed()
        audit_append(
            action=Action.ANNOTATE,
            actor=actor,
            country=number.country,
            msisdn=number.msisdn,
            before=before,
            after=after,
            outcome=Outcome.SUCCEEDED,
            reason="Local notes changed (no API call).",
        )
    number.refresh_from_db()
    return number
