"""Cancelling a number: it stops costing money, and the account no longer has it."""

from __future__ import annotations

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import Action, Event, Operation, Outcome, OwnedNumber
from inventory.services.cache import configuration_of, remove_from_cache
from inventory.services.configure import NOT_IN_INVENTORY
from inventory.services.operations import ApiOperation, Intent, OperationRefused, Verdict


class Cancel(ApiOperation):
    """Cancel a number the user named in full. The API is addressed by the exact msisdn."""

    action = Action.CANCEL
    announced = Event.CANCEL_DONE

    def __init__(self, *, msisdn: str, typed_msisdn: str, **kwargs):
        super().__init__(**kwargs)
        self.msisdn = msisdn
        self.typed_msisdn = typed_msisdn

    def intent(self) -> Intent:
        if self.typed_msisdn != self.msisdn:
            raise OperationRefused("The number typed does not match; nothing was cancelled.")
        number = OwnedNumber.objects.filter(msisdn=self.msisdn).first()
        if number is None:
            raise OperationRefused(NOT_IN_INVENTORY)
        self.country = number.country
        return Intent(
            action=self.action,
            country=number.country,
            msisdn=number.msisdn,
            request={"country": number.country, "msisdn": number.msisdn},
            before={**configuration_of(number), "type": number.type, "label": number.label},
            monthly_cost=number.monthly_cost,
            setup_cost=number.setup_cost,
        )

    def refusal(self) -> str:
        number = OwnedNumber.objects.filter(msisdn=self.msisdn).first()
        if number is None:
            return NOT_IN_INVENTORY
        if number.is_protected:
            return protected_refusal(number)
        return ""

    def send(self) -> api.Confirmation:
        return self.client.cancel(country=self.country, msisdn=self.msisdn)

    def check(self, found: api.OwnedNumber | None) -> Verdict | None:
        if found is not None:
            return Verdict(
                Outcome.UNKNOWN,
                "The API confirmed the cancellation, but the account still shows the number "
                "(and it may still be billed). The next sync settles what happened.",
            )
        return None

    def apply(self, entry: Operation, found: api.OwnedNumber | None) -> None:
        remove_from_cache(self.msisdn, entry=entry)

    def explain_decline(self, error: api.ApiMethodFailed) -> str:
        try:
            if self.client.find_owned(msisdn=self.msisdn) is None:
                return (
                    "The account no longer owns this number (it was cancelled or released "
                    "elsewhere). The next sync removes it from the inventory."
                )
        except api.ApiError:
            pass
        return "The provider declined the cancellation (“method failed”)."

    @classmethod
    def judge(cls, entry: Operation, found: api.OwnedNumber | None) -> Verdict:
        if found is not None:
            return Verdict(Outcome.FAILED, "The number is still in the account: not cancelled.")
        return Verdict(
            Outcome.SUCCEEDED,
            "The number is no longer in the account: the cancellation went through.",
        )

    @classmethod
    def apply_settlement(cls, entry: Operation, found: api.OwnedNumber | None) -> None:
        remove_from_cache(entry.msisdn, entry=entry)


def protected_refusal(number: OwnedNumber) -> str:
    """Why a protected number is not cancelled, whichever path asked."""
    reason = number.protected_reason.strip().rstrip(".")
    return (
        f"This number is protected ({reason}): remove the protection first. Nothing was cancelled."
    )


def number_cancel(
    *,
    actor: Actor,
    msisdn: str,
    typed_msisdn: str,
    form_token: str,
    client: api.NumbersApiClient | None = None,
) -> Operation:
    """Cancel a number the user typed in full."""
    operation = Cancel(
        actor=actor, msisdn=msisdn, typed_msisdn=typed_msisdn, form_token=form_token, client=client
    )
    return operation.run()
