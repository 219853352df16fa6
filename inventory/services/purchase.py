"""Buying a number, at the price the user was shown."""

from __future__ import annotations

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import Action, Event, Operation, Outcome, OwnedNumber, PurchaseRequest
from inventory.services import pricing
from inventory.services.cache import cache_purchase
from inventory.services.catalogue import catalogue_offer, catalogue_sold
from inventory.services.operations import ApiOperation, Intent, Verdict, operation_replay


class Purchase(ApiOperation):
    action = Action.PURCHASE
    announced = Event.PURCHASE_DONE

    def __init__(
        self, *, offer: api.AvailableNumber, team: str = "", approved: bool = False, **kwargs
    ):
        super().__init__(**kwargs)
        self.offer = offer
        self.team = team  # the team it is bought for, whose budget it counts against
        # An approver weighed the budget already: an approved purchase is not refused for it.
        self.approved = approved

    def intent(self) -> Intent:
        offer = self.offer
        return Intent(
            action=self.action,
            country=offer.country,
            msisdn=offer.msisdn,
            request={"country": offer.country, "msisdn": offer.msisdn},
            after={
                "type": offer.type,
                "features": list(offer.features),
                **({"team": self.team} if self.team else {}),
            },
            monthly_cost=offer.cost,
            setup_cost=offer.initial_price,
        )

    def refusal(self) -> str:
        if OwnedNumber.objects.filter(msisdn=self.offer.msisdn).exists():
            return "The account already owns this number; nothing was bought."
        if self.approved:
            return ""
        # Checked inside the claim, under the trail's lock: purchases claimed meanwhile
        # (pending, this one among them) count, so two at once cannot both slip under.
        return pricing.budget_refusal(
            adding=self.offer.cost, team=self.team, excluding=[self.offer.msisdn]
        )

    def send(self) -> api.Confirmation:
        confirmation = self.client.buy(country=self.offer.country, msisdn=self.offer.msisdn)
        catalogue_sold(msisdn=self.offer.msisdn)  # cached searches must not offer it again
        return confirmation

    def check(self, found: api.OwnedNumber | None) -> Verdict | None:
        if found is None:
            return Verdict(
                Outcome.UNKNOWN,
                "The API confirmed the purchase, but the account does not show the number. "
                "The next sync settles what happened.",
            )
        return None

    def apply(self, entry: Operation, found: api.OwnedNumber | None) -> None:
        cache_purchase(entry=entry, found=found, offer=self.offer)

    def explain_decline(self, error: api.ApiMethodFailed) -> str:
        offer = self.offer
        try:
            if self.client.find_owned(msisdn=offer.msisdn) is not None:
                return "The account already owns this number."
            on_sale = catalogue_offer(
                client=self.client, country=offer.country, type=offer.type, msisdn=offer.msisdn
            )
            if on_sale is None:
                return "This number is no longer available: someone else has bought it."
        except api.ApiError:
            pass
        return (
            "The provider declined the purchase (“method failed”). The account may lack "
            "credit, or numbers in this country may need an address on file."
        )

    @classmethod
    def judge(cls, entry: Operation, found: api.OwnedNumber | None) -> Verdict:
        if found is None:
            return Verdict(Outcome.FAILED, "The number is not in the account: it was not bought.")
        return Verdict(
            Outcome.SUCCEEDED, "The number is in the account: the purchase went through."
        )

    @classmethod
    def apply_settlement(cls, entry: Operation, found: api.OwnedNumber | None) -> None:
        cache_purchase(entry=entry, found=found)


def number_purchase(
    *,
    actor: Actor,
    offer: api.AvailableNumber,
    form_token: str,
    client: api.NumbersApiClient | None = None,
    approval: PurchaseRequest | None = None,
    team: str = "",
) -> Operation:
    """Buy the number the user confirmed, at the prices they were shown (for `team`, when
    given: the number gets that team, and the team's budget applies). A purchase the
    approval rules hold back raises ApprovalRequired and sends nothing, unless `approval`
    is the approved request for this number."""
    from inventory.services import approvals  # approvals carry purchases out

    is_replay = operation_replay(form_token=form_token, actor=actor) is not None
    approved = _approves(approval, offer)
    if not is_replay and not approved:
        rule = approvals.purchase_needs_approval(
            actor=actor, count=1, setup=offer.initial_price, monthly=offer.cost, team=team
        )
        if rule:
            raise approvals.ApprovalRequired(rule)
    purchase = Purchase(
        actor=actor,
        offer=offer,
        form_token=form_token,
        client=client,
        team=team,
        approved=approved,
    )
    return purchase.run()


def _approves(approval: PurchaseRequest | None, offer: api.AvailableNumber) -> bool:
    return (
        approval is not None
        and approval.status == PurchaseRequest.Status.APPROVED
        and approval.items.filter(msisdn=offer.msisdn).exists()
    )
