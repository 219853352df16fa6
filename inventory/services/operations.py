"""The operation protocol every buy, cancel and configure follows (DESIGN §2), owned once by
`ApiOperation`; `Purchase`, `Cancel` and `Configure` supply its named steps.

    replay  — a confirmation form that already ran shows its first result, nothing is sent;
    claim   — a short transaction commits a `pending` trail entry (one open per number);
    send    — the API is called with no transaction or lock held;
    verify  — after the API says yes, an exact lookup checks the account shows it;
    record  — a short transaction writes the outcome and updates the cache together;
    settle  — an ambiguous answer makes the operation `unknown`, settled by an exact lookup
              of the number in the owned list, never by sending the request again.
"""

from __future__ import annotations

import enum
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory import api_client as api
from inventory.audit import Actor, audit_append, audit_complete
from inventory.errors import api_error_message
from inventory.models import Action, Event, Operation, Outcome
from inventory.services.cache import owned_snapshot

log = logging.getLogger(__name__)

# The actions that call the API for one number and follow the operation protocol.
OPERATION_ACTIONS = (Action.PURCHASE, Action.CANCEL, Action.CONFIGURE)


class ServiceError(Exception):
    """A request the portal refuses before anything is sent; the message is for people."""


class OperationRefused(ServiceError):
    """The portal refused the operation and sent nothing. `entry` is the trail entry that
    records the refusal, when there is one (refusals before the claim record none)."""

    def __init__(self, message: str, *, entry: Operation | None = None):
        super().__init__(message)
        self.entry = entry


class ApiProblem(ServiceError):
    """The API could not do what was asked (unreachable, busy, refused); the message says
    what happened and what to do, in words people read."""

    @classmethod
    def from_error(cls, error: api.ApiError, *, doing: str) -> ApiProblem:
        return cls(api_error_message(error, doing=doing))


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


class Lookup(enum.Enum):
    """`finish(seen=LOOK_IT_UP)`: no listing was taken; look the number up now."""

    LOOK_IT_UP = "look it up"


LOOK_IT_UP = Lookup.LOOK_IT_UP


@dataclass(frozen=True)
class Verdict:
    """How an operation ended, as the account shows it."""

    outcome: Outcome
    reason: str

    @property
    def succeeded(self) -> bool:
        return self.outcome == Outcome.SUCCEEDED


# --- reads the protocol shares ---------------------------------------------------------------


def operation_replay(*, form_token: str, actor: Actor) -> Operation | None:
    """The operation this confirmation form already started, if any: a resubmitted form
    (back button, double click, reload, a retried task) shows it instead of starting
    another. Another user's form is refused."""
    entry = Operation.objects.filter(form_token=form_token).first()
    if entry is not None and entry.actor_id != getattr(actor.user, "pk", None):
        raise OperationRefused("This confirmation form has already been used.")
    return entry


def unsettled_unknown(msisdn: str) -> Operation | None:
    return (
        Operation.objects.filter(msisdn=msisdn, outcome=Outcome.UNKNOWN, settlement__isnull=True)
        .order_by("seq")
        .first()
    )


def pending_is_stale(entry: Operation, *, now: datetime | None = None) -> bool:
    """Pending for longer than any API call and its lookups can take: the process running
    it stopped before recording how it ended."""
    return (now or timezone.now()) - entry.created_at > settings.PENDING_STALE_AFTER


def operation_interrupted(entry: Operation, *, reason: str = "") -> bool:
    """Mark a pending operation whose process stopped as unknown, for settlement by lookup.
    False when it had ended meanwhile after all."""
    try:
        audit_complete(
            entry,
            outcome=Outcome.UNKNOWN,
            reason=reason or "The portal was interrupted before it recorded how this ended.",
        )
    except RuntimeError:  # it ended meanwhile
        return False
    return True


def stale_operations_interrupt() -> int:
    """Operations still pending long after any API call and its lookups could have ended:
    their process stopped. They become unknown, for settlement from the account. Returns
    how many."""
    cutoff = timezone.now() - settings.PENDING_STALE_AFTER
    stale = Operation.objects.filter(
        outcome=Outcome.PENDING, created_at__lt=cutoff, action__in=OPERATION_ACTIONS
    )
    return sum(operation_interrupted(entry) for entry in stale)


# --- the protocol ---------------------------------------------------------------------------


class ApiOperation:
    """One buy, cancel or configure of one number. Subclasses supply the steps; `run()` is
    the protocol. Build one per attempt: it holds what the user confirmed."""

    action: ClassVar[Action]
    # What people who asked to hear of this kind of operation are told once it ends.
    announced: ClassVar[Event | None] = None

    def __init__(
        self, *, actor: Actor, form_token: str, client: api.NumbersApiClient | None = None
    ):
        self.actor = actor
        self.form_token = form_token
        self.client = client if client is not None else api.default_client()
        # Why the API refused, when it did: a batch stops early on some refusals.
        self.error: api.ApiError | None = None
        # Whether this attempt started the operation (False: it replayed an earlier one).
        self.claimed = False

    # --- the steps each operation supplies ---

    def intent(self) -> Intent:
        """What will be recorded and sent; raise OperationRefused to refuse before the claim."""
        raise NotImplementedError

    def refusal(self) -> str:
        """Why the portal refuses now, checked inside the claim ('' when it does not)."""
        return ""

    def send(self) -> api.Confirmation:
        raise NotImplementedError

    def check(self, found: api.OwnedNumber | None) -> Verdict | None:
        """After the API said yes: None when the account (`found`: the number as the owned
        list shows it, None when absent) shows the effect, else how to record it."""
        raise NotImplementedError

    def apply(self, entry: Operation, found: api.OwnedNumber | None) -> None:
        """What success changes in the cache (inside the record transaction)."""
        raise NotImplementedError

    def explain_decline(self, error: api.ApiMethodFailed) -> str:
        """The API only says "method failed": what the user most likely needs to know."""
        raise NotImplementedError

    @classmethod
    def judge(cls, entry: Operation, found: api.OwnedNumber | None) -> Verdict:
        """How an unknown operation ended, from what the owned list shows (`found`; None:
        the account does not have the number)."""
        raise NotImplementedError

    @classmethod
    def apply_settlement(cls, entry: Operation, found: api.OwnedNumber | None) -> None:
        """What a settlement that says "it went through" changes in the cache."""
        raise NotImplementedError

    # --- run: replay, claim, send, verify, record ---

    def run(self) -> Operation:
        entry, confirmation = self.start()
        if confirmation is not None:
            self.finish(entry, confirmation)
        if self.claimed:
            self.announce(entry)
        return entry

    def announce(self, entry: Operation) -> None:
        """Tell who asked to hear of it, after the outcome is committed (a batch tells of
        all its items at once instead)."""
        if self.announced is None:
            return
        from inventory.services import notifications

        try:
            notifications.operation_done(entry=entry, event=self.announced)
        except Exception:  # the operation is recorded: telling of it must not fail it
            log.exception("Could not announce operation #%s", entry.seq)

    def start(self) -> tuple[Operation, api.Confirmation | None]:
        """Replay, claim and send. When the API said yes, the entry is returned still
        pending with the confirmation, and `finish` must follow; any other ending is
        already recorded. (A batch starts many, then finishes them from one listing.)"""
        earlier = operation_replay(form_token=self.form_token, actor=self.actor)
        if earlier is not None:
            return earlier, None
        entry, claimed = self.claim(self.intent())
        self.claimed = claimed
        if not claimed:  # the same form, submitted twice at once: the first one runs it
            return entry, None
        with self.interrupted_marks_unknown(entry):
            return entry, self.execute(entry)

    def finish(
        self,
        entry: Operation,
        confirmation: api.Confirmation,
        *,
        seen: api.OwnedNumber | Lookup | None = LOOK_IT_UP,
    ) -> None:
        """Verify and record a confirmed operation: `seen` is the number as a listing
        taken after the confirmation shows it (None: absent), or looked up now."""
        with self.interrupted_marks_unknown(entry):
            self.record_confirmed(entry, confirmation, seen=seen)

    @contextmanager
    def interrupted_marks_unknown(self, entry: Operation):
        """A bug, a database error or an interrupt between claim and record: the call may
        have gone out, so the operation becomes unknown and is settled later."""
        try:
            yield
        except BaseException:
            self._mark_interrupted(entry)
            raise

    def claim(self, intent: Intent) -> tuple[Operation, bool]:
        """Commit the pending entry and return it with True; return the operation this form
        already started with False; or record why the operation was refused and raise
        OperationRefused."""
        fields: dict[str, Any] = {
            "action": intent.action,
            "actor": self.actor,
            "country": intent.country,
            "msisdn": intent.msisdn,
            "request": intent.request,
            "before": intent.before,
            "after": intent.after,
            "monthly_cost": intent.monthly_cost,
            "setup_cost": intent.setup_cost,
            "form_token": self.form_token,
        }
        try:
            with transaction.atomic():
                entry = audit_append(**fields)
                # Checked after the insert: by then any concurrent operation on this number
                # has either been refused by the constraint or committed its outcome.
                reason = _blocking_unknown(intent.msisdn) or self.refusal()
                if reason:
                    raise OperationRefused(reason)
        except IntegrityError:
            replay = operation_replay(form_token=self.form_token, actor=self.actor)
            if replay is not None:
                return replay, False
            reason = self._busy_reason(intent.msisdn)
        except OperationRefused as refused:
            reason = str(refused)
        else:
            return entry, True
        refusal = audit_append(**fields, outcome=Outcome.FAILED, reason=reason)
        raise OperationRefused(reason, entry=refusal)

    def execute(self, entry: Operation) -> api.Confirmation | None:
        """Send. A confirmation is returned for `finish`; a failure or an ambiguous answer
        is recorded here (and the latter settled by lookup)."""
        try:
            return self.send()
        except api.ApiOutcomeUnknown as error:
            self.error = error
            self.record_unknown(entry, str(error), error)
        except api.ApiMethodFailed as error:
            self.error = error
            if error.resent:
                # A re-sent request was declined: the first attempt may have taken effect.
                reason = "The request had to be sent again and was then declined; the first "
                self.record_unknown(entry, reason + "attempt may have taken effect.", error)
            else:
                self.record(entry, Verdict(Outcome.FAILED, self.explain_decline(error)), error)
        except api.ApiError as error:  # refused before it took effect: nothing happened
            self.error = error
            verdict = Verdict(Outcome.FAILED, _sentence(error, "Nothing was changed."))
            self.record(entry, verdict, error)
        return None

    def record_confirmed(
        self,
        entry: Operation,
        confirmation: api.Confirmation,
        *,
        seen: api.OwnedNumber | Lookup | None = LOOK_IT_UP,
    ) -> None:
        fields = _provider_fields(confirmation=confirmation)
        try:
            found = self.client.find_owned(msisdn=entry.msisdn) if seen is LOOK_IT_UP else seen
        except api.ApiError as error:  # the API said yes: it may well have taken effect
            reason = _sentence(error, "The API confirmed it, but looking at the account failed.")
            audit_complete(entry, outcome=Outcome.UNKNOWN, reason=reason, **fields)
            return
        assert not isinstance(found, Lookup)
        problem = self.check(found)
        if problem is not None:
            audit_complete(entry, outcome=problem.outcome, reason=problem.reason, **fields)
            return
        with transaction.atomic():
            audit_complete(entry, outcome=Outcome.SUCCEEDED, **fields)
            self.apply(entry, found)

    def record(self, entry: Operation, verdict: Verdict, error: api.ApiError | None = None):
        fields = _provider_fields(error=error) if error is not None else {}
        audit_complete(entry, outcome=verdict.outcome, reason=verdict.reason, **fields)

    def record_unknown(self, entry: Operation, reason: str, error: api.ApiError) -> None:
        """The answer does not say what happened: record that, then look at the account."""
        audit_complete(entry, outcome=Outcome.UNKNOWN, reason=reason, **_provider_fields(error))
        self.settle_by_lookup(entry, actor=self.actor, client=self.client)

    # --- settle: an unknown outcome, from what the account shows ---

    @classmethod
    def settle_by_lookup(
        cls, entry: Operation, *, actor: Actor, client: api.NumbersApiClient
    ) -> bool:
        """An exact lookup of the number in the owned list. False when the operation stays
        unknown (the lookup failed, or it is too early to trust that the effect is absent):
        the next sync tries again."""
        seen_at = timezone.now()
        try:
            found = client.find_owned(msisdn=entry.msisdn)
        except api.ApiError as error:
            log.warning("Could not settle operation #%s: %s", entry.seq, error)
            return False
        lookup = {"lookup": "GET /account/numbers", "pattern": entry.msisdn}
        try:
            return cls.settle_from(entry, found, actor=actor, lookup=lookup, seen_at=seen_at)
        except IntegrityError:  # settled concurrently by someone else
            return True

    @classmethod
    def settle_from(
        cls,
        entry: Operation,
        found: api.OwnedNumber | None,
        *,
        actor: Actor,
        lookup: dict,
        seen_at: datetime,
    ) -> bool:
        """Settle from what the owned list showed at `seen_at`, and bring the cache in line,
        in one transaction. Seeing the effect settles at once; not seeing it only once the
        grace period has passed since the operation ended (a request whose answer was lost
        may still be taking effect at the provider). Returns whether it settled."""
        verdict = cls.judge(entry, found)
        if not verdict.succeeded and seen_at - _ended_at(entry) < settings.SETTLE_GRACE:
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
                outcome=verdict.outcome,
                reason=verdict.reason,
            )
            if verdict.succeeded:
                cls.apply_settlement(entry, found)
        return True

    # --- helpers ---

    def _busy_reason(self, msisdn: str) -> str:
        """Why the constraint refused a second open operation on this number."""
        open_entry = Operation.objects.filter(msisdn=msisdn, outcome=Outcome.PENDING).first()
        mine = open_entry is not None and open_entry.actor_id == getattr(
            self.actor.user, "pk", None
        )
        if open_entry is None or not mine:
            return "Someone else is working on this number right now; nothing was sent."
        doing = open_entry.get_action_display().lower()
        if pending_is_stale(open_entry):
            return (
                f"Your earlier {doing} of this number was interrupted before the portal "
                "recorded how it ended. It is being settled from the account; try again "
                "once it shows an outcome. Nothing was sent."
            )
        return f"Your earlier {doing} of this number has not finished yet; nothing was sent."

    @staticmethod
    def _mark_interrupted(entry: Operation) -> None:
        """A bug, a database error or an interrupt between claim and record: the call may
        have gone out, so the operation becomes unknown and a sync settles it. Best effort:
        when even this write fails, the sweep of stale pending operations does it later."""
        try:
            if Operation.objects.filter(pk=entry.pk, outcome=Outcome.PENDING).exists():
                operation_interrupted(entry)
        except Exception:
            log.exception("Could not mark operation #%s as unknown", entry.seq)


def _blocking_unknown(msisdn: str) -> str:
    earlier = unsettled_unknown(msisdn)
    if earlier is None:
        return ""
    return (
        f"The outcome of an earlier {earlier.get_action_display().lower()} of this number "
        "is still unknown. Sync the inventory to settle it, then try again."
    )


def _ended_at(entry: Operation) -> datetime:
    return entry.completed_at or entry.created_at or timezone.now() - timedelta(days=1)


def _sentence(error: api.ApiError, then: str) -> str:
    """The error's own sentence followed by `then`, with one full stop between them."""
    text = str(error).strip()
    if text and not text.endswith((".", "!", "?")):
        text += "."
    return f"{text} {then}".strip()


def _provider_fields(
    error: api.ApiError | None = None, confirmation: api.Confirmation | None = None
) -> dict:
    if confirmation is not None:
        return {
            "provider_code": confirmation.code,
            "provider_label": confirmation.label,
            "http_status": confirmation.http_status,
            "duration_ms": confirmation.duration_ms,
        }
    assert error is not None
    return {
        "provider_code": error.code,
        "provider_label": error.label,
        "http_status": error.status,
    }
