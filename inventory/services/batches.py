"""Fleet work: many numbers bought, configured or cancelled at once.

A batch is reviewed, then confirmed once (its own trail entry: who, when, items, totals),
then run by a task worker. Each item is an ordinary operation — same protocol, same one
open operation per number, its own trail entry — paced by the quota the client reads from
the API's answers. The runner holds a lease it renews after every item; a batch whose
worker died is taken up by the next run, which settles what was started and never sends
an item's request twice. A stop request ends it before the next item.
"""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from inventory import api_client as api
from inventory.audit import Actor, audit_append
from inventory.models import (
    Action,
    Batch,
    BatchItem,
    InventoryTotal,
    Operation,
    Outcome,
    OwnedNumber,
    PurchaseRequest,
    SelectionItem,
)
from inventory.services import background, notifications, pricing
from inventory.services.cache import configuration_of
from inventory.services.cancel import Cancel, protected_refusal
from inventory.services.catalogue import catalogue_offer
from inventory.services.configure import Configure
from inventory.services.leases import lease_acquire, lease_holder, lease_release, lease_renew
from inventory.services.operations import LOOK_IT_UP, ApiOperation, ServiceError
from inventory.services.purchase import Purchase
from inventory.services.settlement import operation_resume

log = logging.getLogger(__name__)

# Items the API confirmed are checked against the account (and their outcome recorded)
# together: looked up one by one, this many at a time; or, when listing the account costs
# fewer calls than looking them up, by one listing for up to this many. Listing calls are
# the slowest the quota allows (one a second), so a batch lists the account as rarely as it
# can: once at its end for a batch of up to VERIFY_BY_LISTING_EVERY numbers.
VERIFY_EVERY = 50
VERIFY_BY_LISTING_EVERY = 1000
# Refusals that concern the portal itself, not one number: every further item would be
# refused the same way, so the batch stops.
HALTING_ERRORS = (api.ApiCredentialsRejected,)


class BatchRefused(ServiceError):
    pass


# --- the selection --------------------------------------------------------------------------


def selection_add(*, user, offers: list[api.AvailableNumber]) -> int:
    """Add numbers picked in the catalogue, at the prices they were seen at. Returns how
    many were new; a number already selected keeps its place."""
    existing = set(SelectionItem.objects.filter(user=user).values_list("msisdn", flat=True))
    fresh = [offer for offer in offers if offer.msisdn not in existing]
    if len(existing) + len(fresh) > Batch.MAX_ITEMS:
        raise BatchRefused(f"A selection holds at most {Batch.MAX_ITEMS:,} numbers.")
    SelectionItem.objects.bulk_create(
        [
            SelectionItem(
                user=user,
                country=offer.country,
                msisdn=offer.msisdn,
                type=offer.type,
                features=list(offer.features),
                monthly_cost=offer.cost,
                setup_cost=offer.initial_price,
            )
            for offer in fresh
        ],
        ignore_conflicts=True,  # the same pick from two tabs at once
    )
    return len(fresh)


def selection_pick(*, user, picks: list[dict]) -> int:
    """Add numbers a script picked (country, msisdn, type, features, and as `cost` and
    `initial_price` the most it agrees to pay). The check before a bulk purchase can be
    confirmed leaves out any that cost more by then, as for numbers picked in a search."""
    return selection_add(user=user, offers=[api.AvailableNumber.from_plain(p) for p in picks])


def selection_remove(*, user, msisdn: str) -> None:
    SelectionItem.objects.filter(user=user, msisdn=msisdn).delete()


def selection_clear(*, user) -> None:
    SelectionItem.objects.filter(user=user).delete()


# --- creating a batch -----------------------------------------------------------------------


def _new_batch(*, kind: str, actor: Actor, status: str, changes: dict | None = None) -> Batch:
    return Batch.objects.create(
        kind=kind, created_by=actor.user, status=status, changes=changes or {}
    )


def purchase_batch_create(*, actor: Actor) -> Batch:
    """A bulk purchase of the user's selection. Its offers are checked again by a task
    (the prices, whether each is still on sale) before anyone can confirm it."""
    picks = list(SelectionItem.objects.filter(user=actor.user))
    if not picks:
        raise BatchRefused("Your selection is empty: pick numbers in the catalogue first.")
    with transaction.atomic():
        batch = _new_batch(kind=Batch.Kind.PURCHASE, actor=actor, status=Batch.Status.CHECKING)
        BatchItem.objects.bulk_create(
            BatchItem(
                batch=batch,
                position=position,
                country=pick.country,
                msisdn=pick.msisdn,
                type=pick.type,
                features=pick.features,
                monthly_cost=pick.monthly_cost,
                setup_cost=pick.setup_cost,
            )
            for position, pick in enumerate(picks, start=1)
        )
        batch.task_id = background.enqueue("batch check", batch_id=batch.pk)
        batch.save(update_fields=["task_id"])
    return batch


def _owned_numbers(msisdns: list[str]) -> list[OwnedNumber]:
    if not msisdns:
        raise BatchRefused("Choose at least one number.")
    if len(msisdns) > Batch.MAX_ITEMS:
        raise BatchRefused(
            f"A bulk operation takes at most {Batch.MAX_ITEMS:,} numbers; narrow the filter."
        )
    numbers = list(OwnedNumber.objects.filter(msisdn__in=msisdns).order_by("msisdn"))
    if not numbers:
        raise BatchRefused("None of these numbers is in the inventory any more.")
    return numbers


def configure_batch_create(*, actor: Actor, msisdns: list[str], changes: dict[str, str]) -> Batch:
    """A bulk configuration, ready for review: every number gets `changes`; numbers that
    already have them are left out."""
    if not changes:
        raise BatchRefused("Nothing to change: choose what the numbers should get.")
    numbers = _owned_numbers(msisdns)
    with transaction.atomic():
        batch = _new_batch(
            kind=Batch.Kind.CONFIGURE, actor=actor, status=Batch.Status.REVIEW, changes=changes
        )
        items = []
        for position, number in enumerate(numbers, start=1):
            before = configuration_of(number)
            item = _item_for(batch, position, number, before=before)
            if all(before.get(name, "") == value for name, value in changes.items()):
                item.state, item.reason = BatchItem.State.EXCLUDED, "Already set this way."
            items.append(item)
        BatchItem.objects.bulk_create(items)
    return batch


def cancel_batch_create(*, actor: Actor, msisdns: list[str]) -> Batch:
    """A bulk cancellation, ready for review (and a typed count). Protected numbers are
    listed as left out, with the reason they are protected."""
    numbers = _owned_numbers(msisdns)
    with transaction.atomic():
        batch = _new_batch(kind=Batch.Kind.CANCEL, actor=actor, status=Batch.Status.REVIEW)
        items = []
        for position, number in enumerate(numbers, start=1):
            item = _item_for(batch, position, number, before=configuration_of(number))
            if number.is_protected:
                item.state, item.reason = BatchItem.State.EXCLUDED, protected_refusal(number)
            items.append(item)
        BatchItem.objects.bulk_create(items)
    return batch


def _leave_out_protected_numbers(batch: Batch) -> None:
    """Numbers protected since the cancellation was prepared are left out too."""
    protected = OwnedNumber.objects.filter(
        msisdn__in=batch.items.filter(state=BatchItem.State.PROPOSED).values("msisdn"),
        protected_at__isnull=False,
    )
    for number in protected:
        batch.items.filter(msisdn=number.msisdn).update(
            state=BatchItem.State.EXCLUDED, reason=protected_refusal(number)
        )


def _item_for(batch: Batch, position: int, number: OwnedNumber, *, before: dict) -> BatchItem:
    return BatchItem(
        batch=batch,
        position=position,
        country=number.country,
        msisdn=number.msisdn,
        type=number.type,
        features=number.features,
        monthly_cost=number.monthly_cost,
        setup_cost=number.setup_cost,
        before=before,
    )


# --- checking a bulk purchase ---------------------------------------------------------------


def batch_check(*, batch_id: int, client: api.NumbersApiClient | None = None) -> Batch:
    """Ask the catalogue again for each offer of a bulk purchase (one search each, paced by
    the quota). An offer no longer on sale, or dearer than when it was picked, is left out
    and says why — never dropped silently, never bought at a new price."""
    client = client if client is not None else api.default_client()
    batch = Batch.objects.get(pk=batch_id)
    if batch.status != Batch.Status.CHECKING:
        return batch
    owned = set(
        OwnedNumber.objects.filter(
            msisdn__in=batch.items.values_list("msisdn", flat=True)
        ).values_list("msisdn", flat=True)
    )
    try:
        for item in batch.items.filter(state=BatchItem.State.PROPOSED):
            _check_offer(item, client=client, owned=owned)
    except api.ApiError as error:
        from inventory.errors import api_error_message

        batch.status = Batch.Status.HALTED
        batch.message = api_error_message(error, doing="price check")
    else:
        batch.status = Batch.Status.REVIEW
    batch.save(update_fields=["status", "message"])
    return batch


def _check_offer(item: BatchItem, *, client: api.NumbersApiClient, owned: set[str]) -> None:
    reason = ""
    if item.msisdn in owned:
        reason = "The account already owns this number."
    else:
        offer = catalogue_offer(
            client=client, country=item.country, type=item.type, msisdn=item.msisdn
        )
        if offer is None:
            reason = "No longer on sale."
        elif _dearer(offer.cost, item.monthly_cost) or _dearer(
            offer.initial_price, item.setup_cost
        ):
            reason = (
                f"Dearer than when you picked it: now {_eur(offer.cost)} a month and "
                f"{_eur(offer.initial_price)} to set up. Pick it again to buy it at that price."
            )
        else:  # as picked, or cheaper: the price the provider asks now is what is shown
            item.monthly_cost, item.setup_cost = offer.cost, offer.initial_price
            item.features = list(offer.features)
    if reason:
        item.state, item.reason = BatchItem.State.EXCLUDED, reason
    item.save(update_fields=["state", "reason", "monthly_cost", "setup_cost", "features"])


def _dearer(now: Decimal | None, seen: Decimal | None) -> bool:
    return now is not None and (seen is None or now > seen)


def _eur(amount: Decimal | None) -> str:
    return "an unknown price" if amount is None else f"€{amount:.2f}"


# --- confirming, stopping -------------------------------------------------------------------


@dataclass(frozen=True)
class BatchTotals:
    count: int
    setup: Decimal
    monthly: Decimal


def batch_totals(batch: Batch) -> BatchTotals:
    """What the included items cost: set-up now, then per month (unknown prices as 0)."""
    included = batch.items.exclude(state=BatchItem.State.EXCLUDED)
    sums = included.aggregate(setup=Sum("setup_cost"), monthly=Sum("monthly_cost"))
    return BatchTotals(
        count=included.count(),
        setup=sums["setup"] or Decimal(0),
        monthly=sums["monthly"] or Decimal(0),
    )


def batch_confirm(
    *, actor: Actor, batch_id: int, typed: str = "", reason: str = "", team: str = ""
) -> Batch:
    """Start a reviewed batch. Confirming again (a double click, the back button) changes
    nothing and shows the batch as it stands. A cancellation needs `typed` to say
    "cancel N" for its N numbers. A purchase is bought for `team` when given; one the
    approval rules hold back waits for an approver instead, with the requester's `reason`
    (ApprovalRequired without one); one that would take the spend over a budget, and that
    no rule sends for approval, is refused."""
    batch = _own_batch(actor, batch_id)
    if batch.status != Batch.Status.REVIEW:
        return batch
    _leave_out_numbers_in_other_batches(batch)
    if batch.kind == Batch.Kind.CANCEL:
        _leave_out_protected_numbers(batch)
    totals = batch_totals(batch)
    if not totals.count:
        raise BatchRefused("Nothing is left to do in this batch: every number was left out.")
    if batch.kind == Batch.Kind.CANCEL and typed.strip().lower() != f"cancel {totals.count}":
        raise BatchRefused(f"Type “cancel {totals.count}” to confirm; nothing was cancelled.")
    if batch.kind == Batch.Kind.PURCHASE:
        from inventory.services import approvals  # approvals start batches

        rule = approvals.purchase_needs_approval(
            actor=actor, count=totals.count, setup=totals.setup, monthly=totals.monthly, team=team
        )
        if rule:
            if team:  # the request waits with the team it is for
                Batch.objects.filter(pk=batch.pk).update(changes={**batch.changes, "team": team})
                batch.refresh_from_db()
            batch = approvals.batch_request_create(
                actor=actor, batch=batch, rule=rule, reason=reason
            )
            _clear_selection(batch, actor=actor)
            return batch
    batch = _start(batch, actor=actor, from_status=Batch.Status.REVIEW, totals=totals, team=team)
    if batch.kind == Batch.Kind.PURCHASE:
        _clear_selection(batch, actor=actor)
    return batch


def batch_start_approved(*, batch_id: int, actor: Actor, request_id: int) -> Batch:
    """Start a bulk purchase an approver approved (`actor`: the approver). Its budget was
    the approver's to weigh: it is not refused for it now."""
    batch = Batch.objects.get(pk=batch_id)
    if batch.status != Batch.Status.APPROVAL:
        return batch
    totals = batch_totals(batch)
    if not totals.count:
        raise BatchRefused("Nothing is left to buy: every number was left out.")
    return _start(
        batch,
        actor=actor,
        from_status=Batch.Status.APPROVAL,
        totals=totals,
        approved_by_request=request_id,
    )


def _start(
    batch: Batch,
    *,
    actor: Actor,
    from_status: str,
    totals: BatchTotals,
    team: str = "",
    approved_by_request: int | None = None,
) -> Batch:
    changes = {**batch.changes, "team": team} if team else batch.changes
    try:
        with transaction.atomic():
            claimed = Batch.objects.filter(pk=batch.pk, status=from_status).update(
                status=Batch.Status.QUEUED, confirmed_at=timezone.now(), changes=changes
            )
            if not claimed:  # confirmed meanwhile by the same user in another tab
                return Batch.objects.get(pk=batch.pk)
            batch.items.filter(state=BatchItem.State.PROPOSED).update(state=BatchItem.State.QUEUED)
            batch.refresh_from_db()
            batch.entry = _record_confirmation(
                batch, actor=actor, approved_by_request=approved_by_request
            )
            # Under the trail's lock, as for one purchase; refused, the whole claim is undone.
            refusal = "" if approved_by_request else _budget_refusal(batch, totals)
            if refusal:
                raise OverBudget(refusal)
            batch.task_id = background.enqueue("batch run", batch_id=batch.pk)
            batch.save(update_fields=["entry", "task_id"])
    except IntegrityError as clash:
        raise BatchRefused(
            "Another bulk operation took some of these numbers just now; review again."
        ) from clash
    except OverBudget as refused:
        _record_refusal(batch, totals, actor=actor, reason=str(refused))
        raise
    return batch


def _clear_selection(batch: Batch, *, actor: Actor) -> None:
    SelectionItem.objects.filter(
        user=actor.user, msisdn__in=batch.items.values_list("msisdn", flat=True)
    ).delete()


class OverBudget(BatchRefused):
    pass


def _record_refusal(batch: Batch, totals: BatchTotals, *, actor: Actor, reason: str) -> None:
    """The refused confirmation is undone, and recorded as refused."""
    audit_append(
        action=Action.BATCH,
        actor=actor,
        outcome=Outcome.FAILED,
        request={"batch": batch.pk, "kind": batch.kind, "numbers": _msisdns(batch)},
        monthly_cost=totals.monthly,
        setup_cost=totals.setup,
        reason=reason,
    )
    batch.refresh_from_db()


def _budget_refusal(batch: Batch, totals: BatchTotals) -> str:
    if batch.kind != Batch.Kind.PURCHASE:
        return ""
    team = batch.changes.get("team", "")
    return pricing.budget_refusal(adding=totals.monthly, team=team, excluding=_msisdns(batch))


def _msisdns(batch: Batch) -> list[str]:
    return list(batch.items.values_list("msisdn", flat=True))


def _own_batch(actor: Actor, batch_id: int) -> Batch:
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None or batch.created_by_id != getattr(actor.user, "pk", None):
        raise BatchRefused("Only the person who prepared this batch can start or stop it.")
    return batch


def _leave_out_numbers_in_other_batches(batch: Batch) -> None:
    busy = dict(
        BatchItem.objects.filter(state__in=BatchItem.OPEN, msisdn__in=batch.items.values("msisdn"))
        .exclude(batch=batch)
        .values_list("msisdn", "batch_id")
    )
    for msisdn, other in busy.items():
        batch.items.filter(msisdn=msisdn).update(
            state=BatchItem.State.EXCLUDED, reason=f"Already in bulk operation #{other}."
        )


def _record_confirmation(
    batch: Batch, *, actor: Actor, approved_by_request: int | None = None
) -> Operation:
    totals = batch_totals(batch)
    numbers = list(
        batch.items.filter(state=BatchItem.State.QUEUED).values_list("msisdn", flat=True)
    )
    request = {"batch": batch.pk, "kind": batch.kind, "numbers": numbers, **batch.changes}
    reason = f"{batch.get_kind_display()} #{batch.pk} of {totals.count} numbers confirmed"
    if approved_by_request is not None:
        request["purchase_request"] = approved_by_request
        reason += f", as approved in purchase request #{approved_by_request}"
    return audit_append(
        action=Action.BATCH,
        actor=actor,
        outcome=Outcome.SUCCEEDED,
        request=request,
        monthly_cost=totals.monthly,
        setup_cost=totals.setup,
        reason=reason + ".",
    )


def batch_stop(*, actor: Actor, batch_id: int) -> Batch:
    """Stop before the next item: items not yet started are left undone. A batch still
    being prepared is discarded."""
    batch = _own_batch(actor, batch_id)
    if not batch.is_open:
        return batch
    if batch.status == Batch.Status.APPROVAL:  # the request goes with it
        from inventory.services import approvals  # approvals start batches

        waiting = PurchaseRequest.objects.filter(
            batch=batch, status=PurchaseRequest.Status.PENDING
        ).first()
        if waiting is not None:
            approvals.purchase_request_withdraw(actor=actor, request_id=waiting.pk)
            batch.refresh_from_db()
            return batch
    with transaction.atomic():
        Batch.objects.filter(pk=batch.pk).update(stop_requested=True)
        if batch.status in (Batch.Status.CHECKING, Batch.Status.REVIEW, Batch.Status.APPROVAL):
            Batch.objects.filter(pk=batch.pk).update(
                status=Batch.Status.DISCARDED, finished_at=timezone.now()
            )
        elif batch.status == Batch.Status.QUEUED:
            _finish(batch, status=Batch.Status.STOPPED, why=f"Stopped by {actor.username}.")
        audit_append(
            action=Action.BATCH_STOPPED,
            actor=actor,
            outcome=Outcome.SUCCEEDED,
            request={"batch": batch.pk},
            reason=f"{batch.get_kind_display()} #{batch.pk}: stop requested.",
        )
    batch.refresh_from_db()
    return batch


# --- running --------------------------------------------------------------------------------


def batch_run(*, batch_id: int, client: api.NumbersApiClient | None = None) -> Batch:
    """Carry out a confirmed batch, item by item. Safe to run again after a crash: items
    already begun are settled from the account, never sent twice."""
    runner = BatchRunner(Batch.objects.get(pk=batch_id), client=client)
    busy_until = runner.run()
    if busy_until is not None:
        # Another run holds the batch. If its worker died, the lease expires: look again
        # then, so the batch never stays half done.
        later = busy_until + timedelta(seconds=1)
        background.enqueue("batch run", run_after=later, batch_id=batch_id)
    runner.batch.refresh_from_db()
    return runner.batch


class BatchRunner:
    """One run of one batch. Confirmed items are verified together: by one listing of the
    account when that costs fewer calls than looking each up."""

    def __init__(self, batch: Batch, *, client: api.NumbersApiClient | None = None):
        self.batch = batch
        self.client = client if client is not None else api.default_client()
        self.holder = f"batch-{batch.pk}:{uuid.uuid4().hex[:8]}"
        self.lease = f"batch:{batch.pk}"
        self.confirmed: list[tuple[ApiOperation, Operation, api.Confirmation, BatchItem]] = []

    def run(self) -> datetime | None:
        """Returns, when another run holds the batch, until when its lease lasts."""
        if self.batch.status not in (Batch.Status.QUEUED, Batch.Status.RUNNING):
            return None
        taken = lease_acquire(name=self.lease, holder=self.holder, seconds=settings.LEASE_SECONDS)
        if taken is None:
            current = lease_holder(name=self.lease)
            return current.expires_at if current else timezone.now()
        try:
            Batch.objects.filter(pk=self.batch.pk).update(status=Batch.Status.RUNNING)
            self.resume_interrupted_items()
            for item in self.batch.items.filter(state=BatchItem.State.QUEUED).order_by("position"):
                if self.stop_requested():
                    break
                if self.do(item):
                    break  # halted
                if self.verification_due():
                    self.verify_confirmed()
                self.heartbeat()
            self.verify_confirmed()
            self.conclude()
        finally:
            lease_release(name=self.lease, holder=self.holder)
        return None

    # --- steps ---

    def resume_interrupted_items(self) -> None:
        """Items a dead worker began: settle each from the account; never send again."""
        actor = self.actor()
        for item in self.batch.items.filter(state=BatchItem.State.WORKING):
            entry = Operation.objects.filter(form_token=item.form_token).first()
            if entry is None:  # it never got as far as its claim: start it properly
                item.state = BatchItem.State.QUEUED
                item.save(update_fields=["state"])
                continue
            entry = operation_resume(entry=entry, actor=actor, client=self.client)
            self.record(item, entry)

    def do(self, item: BatchItem) -> bool:
        """Start one item's operation. Returns True when the batch must stop here."""
        item.state = BatchItem.State.WORKING
        item.save(update_fields=["state"])
        operation = self.operation_for(item)
        try:
            entry, confirmation = operation.start()
        except ServiceError as refused:  # refused before anything was sent
            refusal = getattr(refused, "entry", None)
            self.record(item, refusal, failed=str(refused))
            return False
        if confirmation is not None:
            item.operation = entry
            item.save(update_fields=["operation"])
            self.confirmed.append((operation, entry, confirmation, item))
            return False
        self.record(item, entry)
        if isinstance(operation.error, HALTING_ERRORS):
            self.halt(str(operation.error))
            return True
        return False

    def verify_confirmed(self) -> None:
        """Look at the account once for every confirmed item: a listing when the account
        is smaller than the number of lookups it saves, else one exact lookup each."""
        if not self.confirmed:
            return
        listing = self.list_account() if self.listing_is_cheaper() else None
        for operation, entry, confirmation, item in self.confirmed:
            seen = LOOK_IT_UP if listing is None else listing.get(entry.msisdn)
            operation.finish(entry, confirmation, seen=seen)
            entry.refresh_from_db()
            self.record(item, entry)
            self.heartbeat()
        self.confirmed = []

    def conclude(self) -> None:
        self.batch.refresh_from_db()
        if self.batch.status != Batch.Status.RUNNING:
            return
        if self.stop_requested():
            _finish(self.batch, status=Batch.Status.STOPPED, why="Stopped on request.")
        else:
            _finish(self.batch, status=Batch.Status.DONE, why="")

    def halt(self, reason: str) -> None:
        self.verify_confirmed()
        _finish(
            self.batch,
            status=Batch.Status.HALTED,
            why=f"The batch stopped early, and sent nothing more: {reason}",
        )

    # --- helpers ---

    def actor(self) -> Actor:
        user = self.batch.created_by
        return Actor(user=user, username=user.get_username() if user else "")

    def operation_for(self, item: BatchItem) -> ApiOperation:
        common: dict[str, Any] = {
            "actor": self.actor(),
            "form_token": item.form_token,
            "client": self.client,
        }
        if self.batch.kind == Batch.Kind.PURCHASE:
            offer = api.AvailableNumber(
                country=item.country,
                msisdn=item.msisdn,
                type=item.type,
                features=tuple(item.features),
                cost=item.monthly_cost,
                initial_price=item.setup_cost,
            )
            return Purchase(offer=offer, team=self.batch.changes.get("team", ""), **common)
        if self.batch.kind == Batch.Kind.CONFIGURE:
            return Configure(
                msisdn=item.msisdn, changes=self.batch.changes, reviewed=item.before, **common
            )
        return Cancel(msisdn=item.msisdn, typed_msisdn=item.msisdn, **common)

    def record(self, item: BatchItem, entry: Operation | None, *, failed: str = "") -> None:
        outcome = Outcome(entry.outcome) if entry is not None else Outcome.FAILED
        item.operation = entry
        item.state = {
            Outcome.SUCCEEDED: BatchItem.State.DONE,
            Outcome.UNKNOWN: BatchItem.State.UNKNOWN,
            Outcome.PENDING: BatchItem.State.UNKNOWN,
        }.get(outcome, BatchItem.State.FAILED)
        item.reason = failed or (entry.reason if entry is not None else "")
        item.finished_at = timezone.now()
        item.save(update_fields=["operation", "state", "reason", "finished_at"])

    def stop_requested(self) -> bool:
        return Batch.objects.filter(pk=self.batch.pk, stop_requested=True).exists()

    def heartbeat(self) -> None:
        lease_renew(name=self.lease, holder=self.holder, seconds=settings.LEASE_SECONDS)

    @functools.cached_property
    def listing_calls(self) -> int:
        """What one listing of the account costs (a page of 100, and one to see the end),
        from the cache's totals as the run starts (the batch changes it by little)."""
        held = InventoryTotal.objects.aggregate(held=Sum("numbers"))["held"] or 0
        return -(-held // 100) + 1

    def listing_is_cheaper(self) -> bool:
        return self.listing_calls < len(self.confirmed)

    def verification_due(self) -> bool:
        """Whether to check the confirmed items now rather than after more of them: lookups
        cost the same now or later (so every VERIFY_EVERY), one listing covers any number of
        items (so as late as VERIFY_BY_LISTING_EVERY allows, when it will be the cheaper)."""
        count = len(self.confirmed)
        if count < VERIFY_EVERY:
            return False
        if self.listing_calls < VERIFY_BY_LISTING_EVERY:
            return count >= VERIFY_BY_LISTING_EVERY
        return True

    def list_account(self) -> dict[str, api.OwnedNumber] | None:
        """The whole account, or None when it cannot be listed (each is looked up then)."""
        numbers: dict[str, api.OwnedNumber] = {}
        index = 1
        try:
            while True:
                page = self.client.list_owned(index=index, size=100)
                numbers.update((number.msisdn, number) for number in page.items)
                self.heartbeat()
                if not page.items or index * 100 >= page.count:
                    return numbers
                index += 1
        except api.ApiError as error:
            log.warning("Batch #%s could not list the account: %s", self.batch.pk, error)
            return None


def _finish(batch: Batch, *, status: str, why: str) -> None:
    """End a batch: items never started say so, and a summary is written."""
    batch.items.filter(state=BatchItem.State.QUEUED).update(
        state=BatchItem.State.NOT_STARTED, reason=why or "Not started."
    )
    states = dict(batch.items.order_by().values_list("state").annotate(n=Count("pk")))
    done, failed = states.get(BatchItem.State.DONE, 0), states.get(BatchItem.State.FAILED, 0)
    unknown = states.get(BatchItem.State.UNKNOWN, 0)
    not_started = states.get(BatchItem.State.NOT_STARTED, 0)
    parts = [f"{done} done", f"{failed} failed"]
    if unknown:
        parts.append(f"{unknown} with an outcome still being settled")
    if not_started:
        parts.append(f"{not_started} not started")
    message = ", ".join(parts) + "."
    Batch.objects.filter(pk=batch.pk).update(
        status=status, finished_at=timezone.now(), message=f"{why} {message}".strip()
    )
    if status != Batch.Status.STOPPED or done or failed or unknown:
        try:
            notifications.batch_done(batch=batch)
        except Exception:  # the batch is recorded: telling of it must not fail it
            log.exception("Could not announce bulk operation #%s", batch.pk)


def open_batch_items(msisdns: list[str]) -> dict[str, int]:
    """Which of these numbers a running or queued batch holds, and which batch."""
    items = BatchItem.objects.filter(
        Q(state__in=BatchItem.OPEN) & Q(msisdn__in=msisdns)
    ).values_list("msisdn", "batch_id")
    return dict(items)


def numbers_relabel(*, actor: Actor, msisdns: list[str], values: dict[str, str]) -> int:
    """Give many numbers a label and/or team (only the portal keeps these: no API call).
    Returns how many changed."""
    from inventory.services.numbers import number_annotate

    changed = 0
    for number in _owned_numbers(msisdns):
        before = (number.label, number.team)
        number = number_annotate(actor=actor, number=number, values=values)
        changed += (number.label, number.team) != before
    return changed
