"""The audit trail's mechanics: who is acting, appending entries to the hash chain, giving a
pending operation its outcome once, and walking the chain to prove it intact.

Each entry's `hash` covers its facts and its predecessor's hash; the outcome written later
is sealed by its own `outcome_hash` over the entry's hash and the outcome fields. Both are
HMAC-SHA256 under AUDIT_KEY, a secret kept outside the database: someone who can write to
the database but does not hold the key cannot forge an entry or an outcome that verifies.
Appends are serialised on the chain head row, which the database itself moves onto each new
entry (see trail_guards), so the chain never forks and the head never moves back.

A checkpoint is a signed (seq, hash) line printed for storage outside the database; a later
walk proves the chain still passes through it, so even a rewrite by someone who holds the
key and owns the tables shows.
"""

from __future__ import annotations

import copy
import functools
import hmac
import ipaddress
import json
import multiprocessing
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
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
        if user is not None and not user.is_authenticated:
            user = None
        return cls(
            user=user,
            username=user.get_username() if user is not None else "",
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

# What an entry's hash covers (every fact but the hash itself) and what its outcome seal
# covers, in the order they are hashed: fixed here, so reordering the model's lists cannot
# change a hash, and a new fact or outcome column stops the import until it is placed.
HASHED_FACTS = (
    *("seq", "created_at", "action", "actor_id", "actor_username", "ip", "user_agent"),
    *("request_id", "country", "msisdn", "request", "before", "after", "monthly_cost"),
    *("setup_cost", "form_token", "settles_id", "prev_hash"),
)
SEALED_OUTCOME = (
    *("outcome", "provider_code", "provider_label", "http_status", "duration_ms", "reason"),
    "completed_at",
)
assert set(HASHED_FACTS) == set(FACT_FIELDS) - {"hash"}
assert set(SEALED_OUTCOME) == set(OUTCOME_FIELDS)

# The only columns whose values JSON cannot write as they are; every other one holds a
# string, a number, None or JSON already.
_CREATED_AT = HASHED_FACTS.index("created_at")
_COSTS = (HASHED_FACTS.index("monthly_cost"), HASHED_FACTS.index("setup_cost"))
_COMPLETED_AT = SEALED_OUTCOME.index("completed_at")
# The cost columns keep four decimal places: a price given with more is hashed as stored.
_COST_PLACES = Decimal("0.0001")
_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@functools.lru_cache(maxsize=4)
def _derived_keys(secret: str) -> tuple[hmac.HMAC, bytes]:
    """One key for entries and seals, another for checkpoints, both derived from AUDIT_KEY:
    a checkpoint signature can never pass for an entry hash, nor the other way round. The
    entry key comes as a keyed HMAC to copy for each message (cheaper than keying anew)."""
    root = secret.encode()
    entries = hmac.digest(root, b"numbers-portal audit entries v2", "sha256")
    checkpoints = hmac.digest(root, b"numbers-portal audit checkpoints v1", "sha256")
    return hmac.new(entries, digestmod="sha256"), checkpoints


def _entry_mac() -> hmac.HMAC:
    return _derived_keys(settings.AUDIT_KEY)[0]


def _checkpoint_key() -> bytes:
    return _derived_keys(settings.AUDIT_KEY)[1]


def _mac(keyed: hmac.HMAC, message: list) -> str:
    mac = keyed.copy()
    mac.update(_JSON.encode(message).encode())
    return mac.hexdigest()


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")


def _cost(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(Decimal(value).quantize(_COST_PLACES).normalize(), "f")


def entry_hash(entry: Operation) -> str:
    """The keyed hash of an entry's facts (its `hash`, once linked)."""
    facts = [getattr(entry, name) for name in HASHED_FACTS]
    facts[_CREATED_AT] = _time(facts[_CREATED_AT])
    for position in _COSTS:
        facts[position] = _cost(facts[position])
    return _mac(_entry_mac(), facts)


def entry_outcome_hash(entry: Operation) -> str:
    """The keyed seal over an entry's hash and its outcome (its `outcome_hash`)."""
    outcome = [getattr(entry, name) for name in SEALED_OUTCOME]
    outcome[_COMPLETED_AT] = _time(outcome[_COMPLETED_AT])
    return _mac(_entry_mac(), [entry.hash, outcome])


# --- writing --------------------------------------------------------------------------------


@contextmanager
def _chain_head() -> Iterator[AuditChainHead]:
    """The locked head of the chain. Locking this one row serialises appends, so the chain
    never forks. The database moves the head onto each entry as it is inserted (a trigger),
    so the head and the trail cannot disagree; the copy here only tracks it in memory."""
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"seq": 0, "hash": GENESIS_HASH}
        )
        yield head


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


@dataclass(frozen=True)
class ChainReport:
    """What a walk found: how many entries it checked, the first break if any, and the last
    entry it checked (seq 0 and the genesis hash for an empty trail)."""

    checked: int
    broken: ChainBreak | None
    last_seq: int
    last_hash: str


class CheckpointError(ValueError):
    """A checkpoint line that is malformed, or whose signature does not match."""


_CHECKPOINT = re.compile(
    r"(?P<body>audit-checkpoint v1 seq=(?P<seq>\d{1,18}) hash=(?P<hash>[0-9a-f]{64}) "
    r"at=(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)) sig=(?P<sig>[0-9a-f]{64})"
)
_CHECKPOINT_TIME = "%Y-%m-%dT%H:%M:%SZ"


def _signature(body: str) -> str:
    return hmac.digest(_checkpoint_key(), body.encode(), "sha256").hex()


@dataclass(frozen=True)
class Checkpoint:
    """A signed (seq, hash) of the chain, as one line for write-once storage outside the
    database. The signature (HMAC under a key derived from AUDIT_KEY) covers the whole line
    up to `sig=`, so neither the position, the hash nor the time can be changed."""

    seq: int
    hash: str
    at: datetime

    def line(self) -> str:
        at = self.at.astimezone(UTC).strftime(_CHECKPOINT_TIME)
        body = f"audit-checkpoint v1 seq={self.seq} hash={self.hash} at={at}"
        return f"{body} sig={_signature(body)}"

    @classmethod
    def parse(cls, line: str) -> Checkpoint:
        found = _CHECKPOINT.fullmatch(line.strip())
        if found is None:
            raise CheckpointError(
                "That is not a checkpoint line. It looks like "
                "'audit-checkpoint v1 seq=N hash=... at=... sig=...', as verify_audit "
                "--checkpoint prints it. Pass the whole line, in quotes."
            )
        if not hmac.compare_digest(_signature(found["body"]), found["sig"]):
            raise CheckpointError(
                "The checkpoint's signature does not match: the line was altered or forged, "
                "or it was signed with another AUDIT_KEY. It proves nothing about the trail."
            )
        # Signed, so written by line(): the time is one it formatted.
        at = datetime.strptime(found["at"], _CHECKPOINT_TIME).replace(tzinfo=UTC)
        return cls(seq=int(found["seq"]), hash=found["hash"], at=at)


def verify_chain(*, batch_size: int = 2000) -> tuple[int, ChainBreak | None]:
    """Walk the whole chain; how many entries were checked and the first break, if any."""
    report = walk_chain(batch_size=batch_size)
    return report.checked, report.broken


# What each walk reads, in this order: raw rows, no model instances (the walk is the trail's
# hot loop).
_COLUMNS = ("id", *HASHED_FACTS, "hash", *SEALED_OUTCOME, "outcome_hash")
_ID, _SEQ, _PREV = 0, 1 + HASHED_FACTS.index("seq"), 1 + HASHED_FACTS.index("prev_hash")
_FACTS = slice(1, 1 + len(HASHED_FACTS))
_HASH = 1 + len(HASHED_FACTS)
_OUTCOMES = slice(_HASH + 1, _HASH + 1 + len(SEALED_OUTCOME))
_OUTCOME = _HASH + 1 + SEALED_OUTCOME.index("outcome")
_SEAL = _HASH + 1 + len(SEALED_OUTCOME)


def walk_chain(
    *, batch_size: int = 2000, since: Checkpoint | None = None, workers: int = 0
) -> ChainReport:
    """Walk the chain in order to its last entry, checking each link, hash and seal, that
    no entry lies beyond the chain head and that the trail reaches the head. With `since`,
    also that the chain still passes through that checkpoint.

    Reads in batches (flat memory). Entries appended while it walks are checked too: an
    entry and the head's move onto it commit together, so an entry seen beyond the head is
    compared with the head read again after seeing it, and only then called a break.

    With `workers`, that many worker processes check the hashes and seals (most of a walk's
    time), a batch each, while this process reads on and checks the order; the break named
    is the first in the chain's order all the same."""
    walk = _Walk()
    if since is not None and since.seq == 0 and since.hash != GENESIS_HASH:
        return walk.report(ChainBreak(0, None, "the checkpoint does not start the chain"))
    head = _read_head()
    with _hash_checkers(workers) as checkers:
        waiting: deque[_Batch] = deque()
        while True:
            # The head was read before this batch's query; a head read during it is newer.
            head_is_newer = False
            batch = _Batch(rows=_batch(after=walk.last_seq, size=batch_size), walk=walk)
            for index, row in enumerate(batch.rows):
                seq = row[_SEQ]
                if head is None or seq > head[0]:
                    head, head_is_newer = _read_head(), True
                    if head is None or seq > head[0]:
                        batch.order_break = (index, _beyond_head(head))
                        break
                problem = walk.link_problem(row)
                if problem:
                    batch.order_break = (index, problem)
                    break
                problem = _misses_checkpoint(row, since)
                if problem:  # named after the entry's own hashes are checked
                    batch.order_break, batch.after_hashes = (index, problem), True
                    break
                walk.advance(row)
            batch.hashes = checkers.submit(_hash_problem, batch.rows[: batch.hashed_rows])
            waiting.append(batch)
            # A head read again is never None: the walk stops on one that is.
            newer_head = head_is_newer and head is not None and head[0] > walk.last_seq
            ended = len(batch.rows) < batch_size and not newer_head
            while waiting and (ended or batch.order_break or len(waiting) > 2 * workers):
                broken = waiting.popleft().first_break()
                if broken is not None:
                    return broken
            if ended:
                break
    return walk.report(_problem_at_end(head, walk) or _short_of_checkpoint(walk, since))


@contextmanager
def _hash_checkers(workers: int) -> Iterator[Executor]:
    if workers < 1:
        yield _InProcess()
        return
    # Forked, so a worker has the settings and the derived key without setting Django up;
    # it only hashes what it is given and never touches the database connection it copied.
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _InProcess(Executor):
    """An executor that runs each call at once, in this process."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _hash_problem(rows: list[tuple]) -> tuple[int, str] | None:
    """The first of `rows` whose hash or outcome seal does not match, and why."""
    mac, zone = _entry_mac(), connection.timezone
    for index, row in enumerate(rows):
        problem = _hashes_problem(row, mac, zone)
        if problem:
            return index, problem
    return None


def _hashes_problem(row: tuple, mac: hmac.HMAC, zone: tzinfo | None) -> str:
    if not hmac.compare_digest(row[_HASH], _mac(mac, _db_facts(row, zone))):
        return (
            "its recorded facts do not match its hash (the entry was altered or forged, "
            "or it was written with another AUDIT_KEY)"
        )
    if row[_OUTCOME] == _PENDING:
        if row[_SEAL]:
            return "it is pending but carries an outcome seal (the outcome was erased)"
        return ""
    outcome = list(row[_OUTCOMES])
    outcome[_COMPLETED_AT] = _db_time(outcome[_COMPLETED_AT], zone)
    if not hmac.compare_digest(row[_SEAL], _mac(mac, [row[_HASH], outcome])):
        return "its outcome does not match its seal (the outcome was altered or forged)"
    return ""


def _read_head() -> tuple[int, str] | None:
    return AuditChainHead.objects.filter(pk=1).values_list("seq", "hash").first()


def _batch(*, after: int, size: int) -> list[tuple]:
    """The next entries after `after`, as the database gives them: Django's converters
    would cost the walk a third of its speed, so _Walk.problem_with converts the few
    columns that need it."""
    with connection.cursor() as cursor:
        cursor.execute(_batch_sql(), [after, size])
        return cursor.fetchall()


@functools.cache
def _batch_sql() -> str:
    columns = ", ".join(_selected(name) for name in _COLUMNS)
    table = connection.ops.quote_name(Operation._meta.db_table)
    return f"SELECT {columns} FROM {table} WHERE seq > %s ORDER BY seq LIMIT %s"  # noqa: S608


# PostgreSQL writes the times and costs as they are hashed (_time, _cost) itself: parsing a
# million of each into datetimes and Decimals, sending those to the workers and formatting
# them back cost the walk more than reading the rows.
_HASHED_TIME_SQL = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
_HASHED_COST_SQL = "trim_scale({})::text"  # 4.5000 -> 4.5, 10.0000 -> 10, as _cost() writes


def _selected(name: str) -> str:
    column = connection.ops.quote_name(_column(name))
    if connection.vendor != "postgresql":
        return column
    if name in ("created_at", "completed_at"):
        return _HASHED_TIME_SQL.format(column)
    if name in ("monthly_cost", "setup_cost"):
        return _HASHED_COST_SQL.format(column)
    return column


def _column(name: str) -> str:
    field = Operation._meta.get_field(name)
    assert isinstance(field, models.Field)  # every name is a concrete field's
    assert field.column is not None
    return field.column


_JSON_FACTS = tuple(HASHED_FACTS.index(name) for name in ("request", "before", "after"))
_PENDING = Outcome.PENDING.value
_NO_OFFSET = timedelta(0)


def _db_time(value: datetime | str | None, zone: tzinfo | None) -> str | None:
    """As _time() writes it; without converting a time already in UTC (the usual case:
    converting costs the walk a quarter of its speed)."""
    if value is None or isinstance(value, str):  # None, or written by PostgreSQL already
        return value
    if value.tzinfo is None:  # SQLite gives naive times, in the connection's zone
        if zone is UTC:
            return value.isoformat(timespec="microseconds") + "+00:00"
        value = value.replace(tzinfo=zone)
    elif value.utcoffset() == _NO_OFFSET:
        return value.isoformat(timespec="microseconds")
    return _time(value)


# Most entries hold the same few JSON texts ({}, a drift's before and after): parsed once
# each. Only read, never changed, so sharing the parsed value is safe.
_stored_json = functools.lru_cache(maxsize=1024)(json.loads)


def _db_facts(row: tuple, zone: tzinfo | None) -> list:
    """An entry's facts from a raw row, in the form they are hashed in (as entry_hash makes
    it from the model's values)."""
    facts = list(row[_FACTS])
    facts[_CREATED_AT] = _db_time(facts[_CREATED_AT], zone)
    for position in _COSTS:
        cost = facts[position]
        if cost is not None and cost.__class__ is not str:  # PostgreSQL wrote it already
            facts[position] = _cost(Decimal(str(cost)))  # SQLite gives numbers
    for position in _JSON_FACTS:
        if facts[position] is not None:
            facts[position] = _stored_json(facts[position])  # SQLite and psycopg give text
    return facts


class _Walk:
    """Where the walk stands: the entry it expects next and the last one it checked."""

    def __init__(self):
        self.checked, self.last_seq, self.last_hash, self.last_id = 0, 0, GENESIS_HASH, None

    def link_problem(self, row: tuple) -> str:
        expected = self.last_seq + 1
        if row[_SEQ] != expected:
            return f"expected entry #{expected} here, found #{row[_SEQ]} (an entry is missing)"
        if row[_PREV] != self.last_hash:
            return "its link to the previous entry does not match (an entry was removed or altered)"
        return ""

    def advance(self, row: tuple) -> None:
        self.checked += 1
        self.last_seq, self.last_hash, self.last_id = row[_SEQ], row[_HASH], row[_ID]

    def report(self, broken: ChainBreak | None) -> ChainReport:
        return ChainReport(self.checked, broken, self.last_seq, self.last_hash)


class _Batch:
    """A batch of the walk: its rows, where their order broke (if it did), and the check of
    their hashes (done by a worker, perhaps still running)."""

    def __init__(self, *, rows: list[tuple], walk: _Walk):
        self.rows = rows
        self.checked_before = walk.checked
        self.before = (walk.last_seq, walk.last_hash)  # the entry before the first row
        self.order_break: tuple[int, str] | None = None
        self.after_hashes = False  # the order's break is named only if the hashes hold
        self.hashes: Future

    @property
    def hashed_rows(self) -> int:
        """The rows up to the order's break (that one too), or all of them."""
        return len(self.rows) if self.order_break is None else self.order_break[0] + 1

    def first_break(self) -> ChainReport | None:
        """The walk's report if this batch holds the chain's first break, else None."""
        candidates = []
        hash_problem = self.hashes.result()
        if hash_problem is not None:
            candidates.append((hash_problem[0], 1, hash_problem[1]))
        if self.order_break is not None:
            index, problem = self.order_break
            candidates.append((index, 2 if self.after_hashes else 0, problem))
        if not candidates:
            return None
        index, _, problem = min(candidates)
        seq, hash_ = (
            self.before if index == 0 else (self.rows[index - 1][_SEQ], self.rows[index - 1][_HASH])
        )
        row = self.rows[index]
        broken = ChainBreak(row[_SEQ], row[_ID], problem)
        return ChainReport(self.checked_before + index, broken, seq, hash_)


def _beyond_head(head: tuple[int, str] | None) -> str:
    if head is None:
        return "the chain head, which records the last entry, is missing"
    return (
        f"it lies beyond the chain head, which records #{head[0]} (the head was moved back, "
        "or the entry was added without moving it)"
    )


def _misses_checkpoint(row: tuple, since: Checkpoint | None) -> str:
    if since is None or row[_SEQ] != since.seq or row[_HASH] == since.hash:
        return ""
    return (
        f"its hash differs from the checkpoint of {since.at:%Y-%m-%d %H:%M} UTC (the trail was "
        "rewritten since that checkpoint)"
    )


def _problem_at_end(head: tuple[int, str] | None, walk: _Walk) -> ChainBreak | None:
    if head is None:
        return None  # an empty trail: any entry without a head is caught as beyond it
    head_seq, head_hash = head
    if walk.last_seq < head_seq:
        problem = (
            f"the trail ends at #{walk.last_seq} but the chain head records #{head_seq} "
            "(entries at the end were removed)"
        )
        return ChainBreak(seq=walk.last_seq + 1, entry_id=None, problem=problem)
    if walk.last_seq == head_seq and head_hash != walk.last_hash:
        problem = "its hash does not match the chain head (the entry or the head was replaced)"
        return ChainBreak(seq=walk.last_seq, entry_id=walk.last_id, problem=problem)
    return None


def _short_of_checkpoint(walk: _Walk, since: Checkpoint | None) -> ChainBreak | None:
    if since is None or walk.last_seq >= since.seq:
        return None
    problem = (
        f"the trail ends at #{walk.last_seq} but the checkpoint of {since.at:%Y-%m-%d %H:%M} "
        f"UTC records #{since.seq} (entries were removed since that checkpoint)"
    )
    return ChainBreak(seq=walk.last_seq + 1, entry_id=None, problem=problem)
