"""Four eyes on purchases: the rules that hold a purchase back, the request it becomes, and
its decision by someone else.

A purchase that a rule holds back calls no API: it becomes a `PurchaseRequest` (the numbers
at the prices the requester was shown, and their reason). An approver — never the requester
— approves or rejects it with a reason. An approved request is carried out by a task, at the
approved prices: the catalogue is asked again first, and a number now dearer is not bought.
A request nobody decided on expires (PURCHASE_REQUEST_EXPIRY). Every step is on the trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inventory import api_client as api
from inventory import phone, selectors, wording
from inventory.audit import Actor, audit_append
from inventory.errors import api_error_message
from inventory.models import (
    Action,
    ApprovalRules,
    Batch,
    BatchItem,
    Operation,
    Outcome,
    PurchaseRequest,
    PurchaseRequestItem,
)
from inventory.services import background, batches, notifications, pricing, purchase
from inventory.services.catalogue import catalogue_offer
from inventory.services.operations import OperationRefused, ServiceError
from inventory.services.settlement import operation_resume


class ApprovalRequired(ServiceError):
    """The purchase needs approval and nobody said why it is needed; nothing was sent."""

    def __init__(self, rule: str):
        super().__init__(f"{rule} Say why it is needed, then ask for approval.")
        self.rule = rule


class ApprovalRefused(ServiceError):
    pass


# --- the rules ------------------------------------------------------------------------------


def budget_exceeded(*, monthly: Decimal, team: str = "") -> str:
    """The budget check: the sentence saying how this purchase would take the spend over a
    budget (the team's, or the overall one), or "" when it would not (or no budgets are
    kept). Budgets are kept by services/pricing.py: this is the one place that asks it."""
    return pricing.budget_refusal(adding=monthly, team=team)


def purchase_needs_approval(
    *, actor: Actor, count: int, setup: Decimal | None, monthly: Decimal | None, team: str = ""
) -> str:
    """Which rule holds this purchase back, as a sentence for the requester and the
    approver; "" when it needs no approval. `count` numbers, costing `setup` now and
    `monthly` a month in all (unknown prices count as nothing)."""
    rules = selectors.approval_rules()
    if not rules.any:
        return ""
    first = (setup or Decimal(0)) + (monthly or Decimal(0))
    if rules.bulk_above is not None and count > rules.bulk_above:
        return (
            f"Buying more than {rules.bulk_above} number{'s' * (rules.bulk_above != 1)} at "
            f"once needs approval: this is {count}."
        )
    if rules.purchase_above is not None and first > rules.purchase_above:
        return (
            f"Purchases above {wording.money(rules.purchase_above)} (set-up and the first "
            f"month) need approval: this one comes to {wording.money(first)}."
        )
    if rules.over_budget:
        over = budget_exceeded(monthly=monthly or Decimal(0), team=team)
        if over:
            return f"{_sentence(over)} Purchases over budget need approval."
    return ""


@dataclass(frozen=True)
class RuleValues:
    purchase_above: Decimal | None
    over_budget: bool
    bulk_above: int | None


def approval_rules_set(*, actor: Actor, values: RuleValues) -> ApprovalRules:
    """A superuser sets the rules; the change is on the trail (before → after)."""
    current = selectors.approval_rules()
    before = _rules_facts(current)
    after = {
        "purchase_above": None if values.purchase_above is None else str(values.purchase_above),
        "over_budget": values.over_budget,
        "bulk_above": values.bulk_above,
    }
    if before == after and current.updated_at is not None:
        return current
    with transaction.atomic():
        rules, _ = ApprovalRules.objects.update_or_create(
            pk=1,
            defaults={
                "purchase_above": values.purchase_above,
                "over_budget": values.over_budget,
                "bulk_above": values.bulk_above,
                "updated_at": timezone.now(),
                "updated_by": actor.user,
            },
        )
        audit_append(
            action=Action.APPROVAL_RULES,
            actor=actor,
            before=before,
            after=after,
            outcome=Outcome.SUCCEEDED,
            reason="Approval rules changed.",
        )
    return rules


def _rules_facts(rules: ApprovalRules) -> dict:
    above = rules.purchase_above
    return {
        "purchase_above": None if above is None else str(above),
        "over_budget": rules.over_budget,
        "bulk_above": rules.bulk_above,
    }


# --- asking ---------------------------------------------------------------------------------


def purchase_request_create(
    *,
    actor: Actor,
    offers: list[api.AvailableNumber],
    rule: str,
    reason: str,
    form_token: str,
    batch: Batch | None = None,
) -> PurchaseRequest:
    """A purchase held back by `rule` becomes a request (no API call). Submitting the same
    form again returns the request it made."""
    reason = reason.strip()
    if not reason:
        raise ApprovalRequired(rule)
    earlier = PurchaseRequest.objects.filter(form_token=form_token).first()
    if earlier is not None:
        if earlier.requester_id != getattr(actor.user, "pk", None):
            raise ApprovalRefused("This confirmation form has already been used.")
        return earlier
    setup = sum((offer.initial_price or Decimal(0) for offer in offers), Decimal(0))
    monthly = sum((offer.cost or Decimal(0) for offer in offers), Decimal(0))
    now = timezone.now()
    with transaction.atomic():
        request = PurchaseRequest.objects.create(
            requester=actor.user,
            created_at=now,
            expires_at=now + settings.PURCHASE_REQUEST_EXPIRY,
            reason=reason,
            rule=rule,
            form_token=form_token,
            batch=batch,
            count=len(offers),
            setup_cost=setup,
            monthly_cost=monthly,
        )
        PurchaseRequestItem.objects.bulk_create(
            PurchaseRequestItem(
                request=request,
                position=position,
                country=offer.country,
                msisdn=offer.msisdn,
                type=offer.type,
                features=list(offer.features),
                monthly_cost=offer.cost,
                setup_cost=offer.initial_price,
            )
            for position, offer in enumerate(offers, start=1)
        )
        _record(
            request,
            Action.APPROVAL_REQUESTED,
            actor=actor,
            reason=reason,
            request_facts={"rule": rule, "expires_at": request.expires_at.isoformat()},
        )
        notifications.approval_requested(request=request)
    return request


def batch_request_create(*, actor: Actor, batch: Batch, rule: str, reason: str) -> Batch:
    """A reviewed bulk purchase held back by `rule`: the batch waits for approval, and a
    request records its numbers at the prices checked. Without a reason: ApprovalRequired."""
    items = list(batch.items.filter(state=BatchItem.State.PROPOSED).order_by("position"))
    offers = [
        api.AvailableNumber(
            country=item.country,
            msisdn=item.msisdn,
            type=item.type,
            features=tuple(item.features),
            cost=item.monthly_cost,
            initial_price=item.setup_cost,
        )
        for item in items
    ]
    with transaction.atomic():
        claimed = Batch.objects.filter(pk=batch.pk, status=Batch.Status.REVIEW).update(
            status=Batch.Status.APPROVAL
        )
        if not claimed:  # asked meanwhile from another tab
            return Batch.objects.get(pk=batch.pk)
        purchase_request_create(
            actor=actor,
            offers=offers,
            rule=rule,
            reason=reason,
            form_token=f"batch-{batch.pk}",
            batch=batch,
        )
    return Batch.objects.get(pk=batch.pk)


# --- deciding -------------------------------------------------------------------------------


def _decidable(request_id: int, actor: Actor) -> PurchaseRequest:
    request = PurchaseRequest.objects.filter(pk=request_id).first()
    if request is None:
        raise ApprovalRefused("There is no such purchase request.")
    if request.requester_id is not None and request.requester_id == getattr(actor.user, "pk", 0):
        raise ApprovalRefused("You asked for this purchase, so someone else has to decide on it.")
    if request.status != PurchaseRequest.Status.PENDING:
        raise ApprovalRefused(
            f"This request is {request.get_status_display().lower()} already; nothing was changed."
        )
    if request.expires_at <= timezone.now():
        _expire(request)
        raise ApprovalRefused("This request has expired: the requester can ask again.")
    return request


def purchase_request_approve(*, actor: Actor, request_id: int, reason: str = "") -> PurchaseRequest:
    """Approve: the purchase is queued for a task worker, at the approved prices."""
    request = _decidable(request_id, actor)
    with transaction.atomic():
        if not _decide(request, PurchaseRequest.Status.APPROVED, actor=actor, reason=reason):
            raise ApprovalRefused("Someone else decided on this request just now.")
        _record(request, Action.APPROVAL_APPROVED, actor=actor, reason=reason or "Approved.")
        task_id = background.enqueue("purchase request run", request_id=request.pk)
        PurchaseRequest.objects.filter(pk=request.pk).update(task_id=task_id)
        notifications.approval_decided(request=request)
    request.refresh_from_db()
    return request


def purchase_request_reject(*, actor: Actor, request_id: int, reason: str) -> PurchaseRequest:
    """Reject, saying why: nothing is bought."""
    if not reason.strip():
        raise ApprovalRefused("Say why you reject it: the requester is told.")
    request = _decidable(request_id, actor)
    with transaction.atomic():
        if not _decide(request, PurchaseRequest.Status.REJECTED, actor=actor, reason=reason):
            raise ApprovalRefused("Someone else decided on this request just now.")
        _record(request, Action.APPROVAL_REJECTED, actor=actor, reason=reason.strip())
        _discard_batch(request)
        notifications.approval_decided(request=request)
    return request


def purchase_request_withdraw(*, actor: Actor, request_id: int) -> PurchaseRequest:
    """The requester takes their request back before anyone decided on it."""
    request = PurchaseRequest.objects.filter(pk=request_id).first()
    if request is None or request.requester_id != getattr(actor.user, "pk", None):
        raise ApprovalRefused("Only the person who asked can withdraw a request.")
    with transaction.atomic():
        withdrawn = PurchaseRequest.objects.filter(
            pk=request.pk, status=PurchaseRequest.Status.PENDING
        ).update(status=PurchaseRequest.Status.WITHDRAWN, finished_at=timezone.now())
        if not withdrawn:
            raise ApprovalRefused(
                "This request was decided on already; it can no longer be withdrawn."
            )
        request.refresh_from_db()
        _record(request, Action.APPROVAL_WITHDRAWN, actor=actor, reason="Withdrawn.")
        _discard_batch(request)
    return request


def _decide(request: PurchaseRequest, status: str, *, actor: Actor, reason: str) -> bool:
    """Move a pending, unexpired request to `status`; False when someone else did first."""
    now = timezone.now()
    changed = PurchaseRequest.objects.filter(
        pk=request.pk, status=PurchaseRequest.Status.PENDING, expires_at__gt=now
    ).update(
        status=status,
        decided_by=actor.user,
        decided_at=now,
        decision_reason=reason.strip(),
        finished_at=None if status == PurchaseRequest.Status.APPROVED else now,
    )
    request.refresh_from_db()
    return bool(changed)


def _discard_batch(request: PurchaseRequest) -> None:
    if request.batch_id is not None:
        Batch.objects.filter(pk=request.batch_id, status=Batch.Status.APPROVAL).update(
            status=Batch.Status.DISCARDED,
            finished_at=timezone.now(),
            message=f"Not bought: purchase request #{request.pk} was "
            f"{request.get_status_display().lower()}.",
        )


# --- expiring -------------------------------------------------------------------------------


def purchase_requests_expire() -> int:
    """Requests nobody decided on in time expire (the workers' housekeeping). Returns how
    many."""
    overdue = PurchaseRequest.objects.filter(
        status=PurchaseRequest.Status.PENDING, expires_at__lte=timezone.now()
    )
    return sum(_expire(request) for request in overdue[:100])


def _expire(request: PurchaseRequest) -> bool:
    with transaction.atomic():
        expired = PurchaseRequest.objects.filter(
            pk=request.pk, status=PurchaseRequest.Status.PENDING
        ).update(status=PurchaseRequest.Status.EXPIRED, finished_at=timezone.now())
        if not expired:
            return False
        request.refresh_from_db()
        _record(
            request,
            Action.APPROVAL_EXPIRED,
            actor=Actor.system("approvals"),
            reason="Nobody decided on it in time; nothing was bought.",
        )
        _discard_batch(request)
        notifications.approval_decided(request=request)
    return True


# --- carrying out ---------------------------------------------------------------------------


def purchase_request_run(
    *, request_id: int, client: api.NumbersApiClient | None = None
) -> PurchaseRequest:
    """Carry out an approved request (the task). Safe to run again: a purchase it already
    began is settled from the account, never sent twice."""
    request = PurchaseRequest.objects.select_related("requester", "decided_by", "batch").get(
        pk=request_id
    )
    if request.status != PurchaseRequest.Status.APPROVED:
        return request
    client = client if client is not None else api.default_client()
    if request.batch_id is not None:
        return _run_bulk(request, client=client)
    return _run_single(request, client=client)


def _requester(request: PurchaseRequest) -> Actor:
    user = request.requester
    return Actor(user=user, username=user.get_username() if user else "")


def _run_single(request: PurchaseRequest, *, client: api.NumbersApiClient) -> PurchaseRequest:
    item = request.items.get()
    actor = _requester(request)
    earlier = Operation.objects.filter(form_token=request.form_token_to_buy).first()
    if earlier is not None:  # begun by a run whose worker died
        entry = operation_resume(entry=earlier, actor=actor, client=client)
        return _ran(request, item, entry)
    try:
        offer = catalogue_offer(
            client=client, country=item.country, type=item.type, msisdn=item.msisdn
        )
    except api.ApiError as error:
        message = api_error_message(error, doing="price check")
        return _not_carried_out(request, f"{_sentence(message)} Nothing was bought.")
    why_not = _why_not_now(item, offer)
    if why_not:
        return _not_carried_out(request, why_not)
    assert offer is not None
    try:
        entry = purchase.number_purchase(
            actor=actor, offer=offer, form_token=request.form_token_to_buy, approval=request
        )
    except OperationRefused as refused:
        if refused.entry is None:
            return _not_carried_out(request, str(refused))
        entry = refused.entry
    return _ran(request, item, entry)


def _why_not_now(item, offer: api.AvailableNumber | None) -> str:
    """Why an approved number is not bought now ("" when it is): gone, or dearer."""
    number = phone.international(item.msisdn)
    if offer is None:
        return f"{number} is no longer on sale; nothing was bought."
    if _dearer(offer.cost, item.monthly_cost) or _dearer(offer.initial_price, item.setup_cost):
        return (
            f"The price of {number} rose since it was approved: now "
            f"{wording.money(offer.initial_price)} to set up and {wording.money(offer.cost)} a "
            f"month, approved at {wording.money(item.setup_cost)} and "
            f"{wording.money(item.monthly_cost)}. Nothing was bought; ask again at the new price."
        )
    return ""


def _dearer(now: Decimal | None, approved: Decimal | None) -> bool:
    return now is not None and (approved is None or now > approved)


def _ran(request: PurchaseRequest, item: PurchaseRequestItem, entry: Operation) -> PurchaseRequest:
    item.operation = entry
    item.save(update_fields=["operation"])
    outcome = Outcome(entry.final_outcome)
    words = {
        Outcome.SUCCEEDED: f"Bought {phone.international(item.msisdn)}.",
        Outcome.FAILED: f"The purchase failed: {entry.reason}",
        Outcome.UNKNOWN: "The purchase's outcome is not known yet; it is being settled.",
        Outcome.PENDING: "The purchase's outcome is not known yet; it is being settled.",
    }
    PurchaseRequest.objects.filter(pk=request.pk).update(
        status=PurchaseRequest.Status.DONE,
        message=_sentence(words.get(outcome, entry.reason)),
        finished_at=timezone.now(),
    )
    request.refresh_from_db()
    return request


def _not_carried_out(request: PurchaseRequest, message: str) -> PurchaseRequest:
    with transaction.atomic():
        refused = PurchaseRequest.objects.filter(
            pk=request.pk, status=PurchaseRequest.Status.APPROVED
        ).update(status=PurchaseRequest.Status.REFUSED, message=message, finished_at=timezone.now())
        request.refresh_from_db()
        if refused:
            _record(
                request,
                Action.APPROVAL_REFUSED,
                actor=Actor.system("approvals"),
                reason=message,
                outcome=Outcome.FAILED,
            )
            _discard_batch(request)
            notifications.approval_decided(request=request)
    return request


def _run_bulk(request: PurchaseRequest, *, client: api.NumbersApiClient) -> PurchaseRequest:
    """Ask the catalogue again for every number (one search each); a number gone or dearer
    than approved is left out and says why; the rest start as a confirmed batch."""
    batch = request.batch
    assert batch is not None
    if batch.status == Batch.Status.APPROVAL:
        approved = {item.msisdn: item for item in request.items.all()}
        try:
            for item in batch.items.filter(state=BatchItem.State.PROPOSED):
                offer = catalogue_offer(
                    client=client, country=item.country, type=item.type, msisdn=item.msisdn
                )
                why_not = _why_not_now(approved.get(item.msisdn, item), offer)
                if why_not:
                    item.state, item.reason = BatchItem.State.EXCLUDED, why_not
                    item.save(update_fields=["state", "reason"])
        except api.ApiError as error:
            message = api_error_message(error, doing="price check")
            return _not_carried_out(request, f"{_sentence(message)} Nothing was bought.")
        approver = request.decided_by
        actor = Actor(user=approver, username=approver.get_username() if approver else "")
        try:
            batch = batches.batch_start_approved(
                batch_id=batch.pk, actor=actor, request_id=request.pk
            )
        except ServiceError as refused:
            return _not_carried_out(request, str(refused))
    PurchaseRequest.objects.filter(pk=request.pk).update(
        status=PurchaseRequest.Status.DONE,
        message=f"Started as bulk purchase #{batch.pk}: its page follows each number.",
        finished_at=timezone.now(),
    )
    request.refresh_from_db()
    return request


# --- the trail ------------------------------------------------------------------------------


def _record(
    request: PurchaseRequest,
    action: Action,
    *,
    actor: Actor,
    reason: str,
    outcome: Outcome = Outcome.SUCCEEDED,
    request_facts: dict | None = None,
) -> Operation:
    items = list(request.items.values_list("country", "msisdn"))
    single = items[0] if len(items) == 1 else ("", "")
    return audit_append(
        action=action,
        actor=actor,
        country=single[0],
        msisdn=single[1],
        request={
            "purchase_request": request.pk,
            "numbers": [msisdn for _, msisdn in items],
            **({"batch": request.batch_id} if request.batch_id else {}),
            **(request_facts or {}),
        },
        monthly_cost=request.monthly_cost,
        setup_cost=request.setup_cost,
        outcome=outcome,
        reason=reason,
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else text + "."
