"""Buying a number, at the price the user was shown."""

from __future__ import annotations

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import Action, Operation, OwnedNumber
from inventory.services.cache import cache_purchase
from inventory.services.catalogue import catalogue_offer
from inventory.services.operations import (
    Intent,
    claim_operation,
    operation_for_form,
    operation_settle,
    run_operation,
)

# --- purchase -------------------------------------------------------------------------------


def number_purchase(
    *,
    client: api.NumbersApiClient,
    actor: Actor,
    offer: api.AvailableNumber,
    form_token: str,
) -> Operation:
    """Buy the number the user confirmed, at the prices they were shown."""
    replay = operation_for_form(form_token=form_token, actor=actor)
    if replay is not None:
        return replay
    intent = Intent(
        action=Action.PURCHASE,
        country=offer.country,
        msisdn=offer.msisdn,
        request={"country": offer.country, "msisdn": offer.msisdn},
        after={"type": offer.type, "features": list(offer.features)},
        monthly_cost=offer.cost,
        setup_cost=offer.initial_price,
    )

    def already_owned() -> str:
        if OwnedNumber.objects.filter(msisdn=offer.msisdn).exists():
            return "The account already owns this number; nothing was bought."
        return ""

    entry, claimed = claim_operation(
        intent, actor=actor, form_token=form_token, refusal=already_owned
    )
    if not claimed:
        return entry
    return run_operation(
        entry,
        lambda: client.buy(country=offer.country, msisdn=offer.msisdn),
        on_success=lambda _found: cache_purchase(offer=offer, entry=entry),
        on_declined=lambda _: _why_purchase_failed(client, offer),
        settle=lambda: operation_settle(client=client, entry=entry, actor=actor),
    )


def _why_purchase_failed(client: api.NumbersApiClient, offer: api.AvailableNumber) -> str:
    """The API only says "method failed"; find out what the user most likely needs to know."""
    try:
        if client.find_owned(msisdn=offer.msisdn) is not None:
            return "The account already owns this number."
        if (
            catalogue_offer(
                client=client, country=offer.country, type=offer.type, msisdn=offer.msisdn
            )
            is None
        ):
            return "This number is no longer available: someone else has bought it."
    except api.ApiError:
        pass
    return (
        "The provider declined the purchase (“method failed”). The account may lack credit, "
        "or numbers in this country may need an address on file."
    )
