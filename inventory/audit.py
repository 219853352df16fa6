"""The audit trail's mechanics: who is acting, appending entries to the hash chain, giving a
pending operation its outcome once, and walking the chain to prove it intact.

Each entry's `hash` covers its facts and its predecessor's hash; appends are serialised
on the chain head row, so the chain never forks. The outcome written later is sealed by
its own `outcome_hash` over the entry's hash and the outcome fields.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from inventory.models import (
    FACT_FIELDS,
    OUTCOME_FIELDS,
    Action,
    AuditChainHead,
    Operation,
    Outcome,
)

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where. Views build it from the request; services never read
    the request themselves."""

    user: Any = None
    username: str = ""
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""

    @classmethod
    def from_request(cls, request) -> Actor:
        from axes.helpers import get_client_ip_address

        user = request.user if getattr(request, "user", None) else None
        authenticated = user is not None and user.is_authenticated
        return cls(
            user=user if authenticated else None,
            username=user.get_username() if authenticated else "",
            ip=_normalised_ip(get_client_ip_address(request)),
            user_agent=request.headers.get("User-Agent", "")[:300],
            request_id=getattr(request, "request_id", ""),
        )

    @classmethod
    def system(cls, name: str, *, request_id: str = "") -> Actor:
        """A command or scheduled job acting on its own."""
        return cls(username=name, request_id=request_id)


def _normalised_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


# --- hashing --------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A stable JSON form for every value a trail column can hold."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _digest(*parts: dict[str, Any] | str) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def entry_hash(entry: Operation) -> str:
    facts = {name: _plain(getattr(entry, name)) for name in FACT_FIELDS if name != "hash"}
    return _digest(facts)


def entry_outcome_hash(entry: Operation) -> str:
    outcome = {name: _plain(getattr(entry, name)) for name in OUTCOME_FIELDS}
    return _digest(entry.hash, outcome)


# --- writing --------------------------------------------------------------------------------


@contextmanager
def _chain_head() -> Iterator[AuditChainHead]:
    """The locked head of the chain; appends made inside move it, and it is saved on the way
    out. Locking this one row serialises appends, so the chain never forks."""
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"seq": 0, "hash": GENESIS_HASH}
        )
        yield head
        head.save(update_fields=["seq", "hash"])


def _link(
    head: AuditChainHead, *, actor: Actor, outcome: Outcome, outcome_fields: dict, **facts
) -> Operation:
    """The next entry after `head`, hashed and linked (not saved yet); the head moves onto it."""
    entry = Operation(
        seq=head.seq + 1,
        created_at=timezone.now(),
        actor=actor.user,
        actor_username=actor.username,
        ip=actor.ip,
        user_agent=actor.user_agent,
        request_id=actor.request_id,
        prev_hash=head.hash,
        outcome=outcome,
        **{"request": {}, **facts},
    )
    entry.hash = entry_hash(entry)
    if outcome != Outcome.PENDING:
        _fill_outcome(entry, outcome, **outcome_fields)
    head.seq, head.hash = entry.seq, entry.hash
    return entry


def audit_append(
    *,
    action: Action,
    actor: Actor,
    outcome: Outcome = Outcome.PENDING,
    country: str = "",
    msisdn: str = "",
    request: dict | None = None,
    before: dict | None = None,
    after: dict | None = None,
    monthly_cost: Decimal | None = None,
    setup_cost: Decimal | None = None,
    form_token: str | None = None,
    settles: Operation | None = None,
    **outcome_fields: Any,
) -> Operation:
    """Append one entry to the chain. Runs in (or opens) a transaction; commit is the
    caller's when it passes one in. Raises IntegrityError when a constraint refuses it."""
    with _chain_head() as head:
        entry = _link(
            head,
            actor=actor,
            outcome=outcome,
            outcome_fields=outcome_fields,
            action=action,
            country=country,
            msisdn=msisdn,
            request=request or {},
            before=before,
            after=after,
            monthly_cost=monthly_cost,
            setup_cost=setup_cost,
            form_token=form_token,
            settles=settles,
        )
        entry.save(force_insert=True)
    return entry


def audit_append_many(entries: list[dict[str, Any]], *, actor: Actor) -> int:
    """Append many finished entries (e.g. a sync's drift events) under one lock. Each dict
    holds an entry's facts plus its `outcome` and optional `reason`."""
    if not entries:
        return 0
    with _chain_head() as head:
        rows = []
        for fields in entries:
            facts = dict(fields)
            outcome, reason = facts.pop("outcome"), facts.pop("reason", "")
            rows.append(
                _link(
                    head, actor=actor, outcome=outcome, outcome_fields={"reason": reason}, **facts
                )
            )
        Operation.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _fill_outcome(
    entry: Operation,
    outcome: Outcome,
    *,
    reason: str = "",
    provider_code: str = "",
    provider_label: str = "",
    http_status: int | None = None,
    duration_ms: int | None = None,
) -> None:
    entry.outcome = outcome
    entry.reason = reason
    entry.provider_code = provider_code
    entry.provider_label = provider_label[:300]
    entry.http_status = http_status
    entry.duration_ms = duration_ms
    entry.completed_at = timezone.now()
    entry.outcome_hash = entry_outcome_hash(entry)


def audit_complete(entry: Operation, *, outcome: Outcome, **outcome_fields: Any) -> Operation:
    """Give a pending operation its outcome: once, and only the outcome columns."""
    if outcome == Outcome.PENDING:
        raise ValueError("an outcome must end the operation")
    # Filled on a copy: `entry` shows the outcome only once the database holds it, so a
    # failed write leaves it visibly pending for the caller's safety net.
    ended = copy.copy(entry)
    _fill_outcome(ended, outcome, **outcome_fields)
    written = {name: getattr(ended, name) for name in (*OUTCOME_FIELDS, "outcome_hash")}
    updated = Operation.objects.filter(pk=entry.pk, outcome=Outcome.PENDING).update(**written)
    if updated != 1:
        raise RuntimeError(f"audit entry #{entry.seq} already has its outcome")
    for name, value in written.items():
        setattr(entry, name, value)
    return entry


# --- verifying ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    entry_id: int | None  # None when the entry that should be there is gone
    problem: str


def verify_chain(*, batch_size: int = 2000) -> tuple[int, ChainBreak | None]:
    """Walk the whole chain in order. Returns how many entries were checked and the first
    broken link, if any. The chain head, read first, must match the last entry: that is
    what reveals entries removed from the end. Entries appended during the walk are left
    for the next one."""
    head = AuditChainHead.objects.filter(pk=1).first()
    entries = Operation.objects.order_by("seq")
    if head is not None:
        entries = entries.filter(seq__lte=head.seq)
    expected_prev, expected_seq, checked, last = GENESIS_HASH, 1, 0, None
    for entry in entries.iterator(chunk_size=batch_size):
        problem = _problem_with(entry, expected_prev, expected_seq)
        if problem:
            return checked, ChainBreak(seq=entry.seq, entry_id=entry.pk, problem=problem)
        expected_prev, expected_seq, checked, last = entry.hash, entry.seq + 1, checked + 1, entry
    return checked, _problem_at_end(head, last)


def _problem_at_end(head: AuditChainHead | None, last: Operation | None) -> ChainBreak | None:
    if head is None:
        if last is None:
            return None
        problem = "the chain head, which records the last entry, is missing"
        return ChainBreak(seq=last.seq, entry_id=last.pk, problem=problem)
    last_seq = last.seq if last is not None else 0
    if head.seq != last_seq:
        problem = (
            f"the trail ends at #{last_seq} but the chain head records #{head.seq} "
            "(entries at the end were removed)"
        )
        return ChainBreak(seq=last_seq + 1, entry_id=None, problem=problem)
    if head.hash != (last.hash if last is not None else GENESIS_HASH):
        problem = "its hash does not match the chain head (the last entry was replaced)"
        return ChainBreak(seq=last_seq, entry_id=last.pk if last else None, problem=problem)
    return None


def _problem_with(entry: Operation, expected_prev: str, expected_seq: int) -> str:
    if entry.seq != expected_seq:
        return f"expected entry #{expected_seq} here, found #{entry.seq} (an entry is missing)"
    if entry.prev_hash != expected_prev:
        return "its link to the previous entry does not match (an entry was removed or altered)"
    if entry.hash != entry_hash(entry):
        return "its recorded facts do not match its hash (the entry was altered)"
    if entry.outcome != Outcome.PENDING and entry.outcome_hash != entry_outcome_hash(entry):
        return "its outcome does not match its seal (the outcome was altered)"
    if entry.outcome == Outcome.PENDING and entry.outcome_hash:
        return "it is pending but carries an outcome seal (the outcome was erased)"
    return ""
