"""What the sandbox remembers across restarts, in its own SQLite file.

Owned numbers and their configuration, issued tokens and call counters live here; the
catalogue does not (it is regenerated from the seed). The file is reached through the
`sqlite3` module over one connection guarded by a lock: the sandbox must never share the
portal's database or its ORM connections.
"""

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalogue import limitations_as_api
from .matching import Pattern, prefix_range

# Optional per-number configuration, in the order the API shows it. Absent when unset.
CONFIG_FIELDS = (
    "moHttpUrl",
    "moSmppSysType",
    "voiceCallbackType",
    "voiceCallbackValue",
    "voiceStatusCallback",
    "messagesCallbackType",
    "messagesCallbackValue",
    "app_id",
)
# Settings the API accepts in an update but never shows in the owned list.
WRITE_ONLY_FIELDS = frozenset({"moSmppSysType", "voiceStatusCallback"})
# What the provider says of a number beyond its configuration: `limitations` (JSON text)
# and `cost` (the monthly rent, which the owned list shows for some numbers only).
_FACT_COLUMNS = ("limitations", "cost")
_COLUMNS = ("msisdn", "country", "type", "features", *CONFIG_FIELDS, *_FACT_COLUMNS)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS numbers (
    msisdn TEXT PRIMARY KEY,
    country TEXT NOT NULL,
    type TEXT NOT NULL,
    features TEXT NOT NULL,
    {", ".join(f'"{name}" TEXT' for name in (*CONFIG_FIELDS, *_FACT_COLUMNS))}
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS numbers_by_type ON numbers (type, msisdn);
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (operation TEXT PRIMARY KEY, total INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS responses (
    operation TEXT NOT NULL,
    outcome TEXT NOT NULL,
    total INTEGER NOT NULL,
    PRIMARY KEY (operation, outcome)
);
"""


@dataclass(frozen=True)
class OwnedNumber:
    country: str
    msisdn: str
    type: str
    features: tuple[str, ...]
    config: dict[str, str] = field(default_factory=dict)  # only the fields that are set
    limitations: tuple[tuple[str, str, str], ...] = ()  # (feature, direction, reach)
    cost: str = ""  # the monthly rent the owned list shows ("" when it shows none)

    def as_api(self, *, write_only: bool = False) -> dict:
        """The number as the API lists it; `write_only` adds what the API keeps but never
        shows (for the control surface, so tests can see what was sent)."""
        shape: dict[str, Any] = {
            "country": self.country,
            "msisdn": self.msisdn,
            "type": self.type,
            "features": list(self.features),
        }
        if self.limitations:
            shape["limitations"] = limitations_as_api(self.limitations)
        if self.cost:
            shape["cost"] = self.cost
        shown = (name for name in CONFIG_FIELDS if write_only or name not in WRITE_ONLY_FIELDS)
        shape.update((name, self.config[name]) for name in shown if name in self.config)
        return shape

    def row(self) -> tuple:
        config = (self.config.get(name) or None for name in CONFIG_FIELDS)
        limitations = json.dumps(self.limitations) if self.limitations else None
        return (
            self.msisdn,
            self.country,
            self.type,
            ",".join(self.features),
            *config,
            limitations,
            self.cost or None,
        )

    @classmethod
    def from_row(cls, row: tuple) -> "OwnedNumber":
        msisdn, country, number_type, features, *rest = row
        *config, limitations, cost = rest
        return cls(
            country=country,
            msisdn=msisdn,
            type=number_type,
            features=tuple(features.split(",")) if features else (),
            config={
                name: value for name, value in zip(CONFIG_FIELDS, config, strict=True) if value
            },
            limitations=tuple(tuple(item) for item in json.loads(limitations or "[]")),
            cost=cost or "",
        )


@dataclass(frozen=True)
class OwnedFilter:
    """The owned-list filters the API offers; None means "do not filter on this"."""

    pattern: Pattern | None = None
    country: str | None = None
    has_application: bool | None = None
    application_id: str | None = None

    def where(self) -> tuple[str, list]:
        clauses, params = ["1 = 1"], []
        if self.pattern:
            clause, args = self.pattern.sql()
            clauses.append(clause)
            params.extend(args)
        if self.country:
            clauses.append("country = ?")
            params.append(self.country)
        if self.has_application is not None:
            clauses.append("app_id IS NOT NULL" if self.has_application else "app_id IS NULL")
        if self.application_id:
            clauses.append("app_id = ?")
            params.append(self.application_id)
        return " AND ".join(clauses), params


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        # One connection shared by the server's threads; the lock serialises every use.
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=10
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A state file written by an older sandbox lacks the newer columns: add them."""
        present = {row[1] for row in self._db.execute("PRAGMA table_info(numbers)")}
        for name in _COLUMNS:
            if name not in present:
                self._db.execute(f'ALTER TABLE numbers ADD COLUMN "{name}" TEXT')

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self):
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _fetch(self, sql: str, params: Iterable = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _change(self, sql: str, params: Iterable = ()) -> int:
        with self._lock:
            return self._db.execute(sql, tuple(params)).rowcount

    # --- lifecycle ------------------------------------------------------------------------

    def is_seeded(self) -> bool:
        return bool(self._fetch("SELECT 1 FROM meta WHERE key = 'seeded_at'"))

    def reset(self, numbers: Iterable[OwnedNumber]) -> None:
        """Forget everything and start over owning exactly `numbers`."""
        with self._transaction() as db:
            for table in ("numbers", "tokens", "calls", "responses"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            db.executemany(_INSERT.format(verb="INSERT"), (n.row() for n in numbers))
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('seeded_at', ?)",
                (str(time.time()),),
            )

    # --- owned numbers --------------------------------------------------------------------

    def owned(self, msisdn: str) -> OwnedNumber | None:
        rows = self._fetch(f"{_SELECT} WHERE msisdn = ?", (msisdn,))
        return OwnedNumber.from_row(rows[0]) if rows else None

    def owned_count(self) -> int:
        return self._fetch("SELECT count(*) FROM numbers")[0][0]

    def owned_page(
        self, where: OwnedFilter, *, offset: int, limit: int
    ) -> tuple[int, list[OwnedNumber]]:
        """The total number of matches, and one page of them ordered by msisdn."""
        clause, params = where.where()
        with self._lock:
            count_sql = f"SELECT count(*) FROM numbers WHERE {clause}"  # noqa: S608 - constant
            total = self._db.execute(count_sql, params).fetchone()[0]
            rows = self._db.execute(
                f"{_SELECT} WHERE {clause} ORDER BY msisdn LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return total, [OwnedNumber.from_row(row) for row in rows]

    def msisdns(self) -> set[str]:
        return {row[0] for row in self._fetch("SELECT msisdn FROM numbers")}

    def owned_msisdns(self, number_type: str, prefix: str) -> set[str]:
        """Owned msisdns of a type that start with `prefix` (a country calling code)."""
        clause, params = prefix_range(prefix)
        sql = f"SELECT msisdn FROM numbers WHERE type = ? AND {clause}"  # noqa: S608 - constant
        rows = self._fetch(sql, [number_type, *params])
        return {row[0] for row in rows}

    def add(self, numbers: Iterable[OwnedNumber], *, replace: bool = False) -> int:
        """Own `numbers`; an already-owned one is replaced, or skipped unless `replace`."""
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self._transaction() as db:
            before = db.total_changes
            db.executemany(_INSERT.format(verb=verb), (n.row() for n in numbers))
            return db.total_changes - before

    def buy(self, number: OwnedNumber) -> bool:
        """Own `number`; False when the account owns it already (checked atomically)."""
        try:
            return self._change(_INSERT.format(verb="INSERT"), number.row()) == 1
        except sqlite3.IntegrityError:
            return False

    def cancel(self, msisdn: str, country: str) -> bool:
        sql = "DELETE FROM numbers WHERE msisdn = ? AND country = ?"
        return self._change(sql, (msisdn, country)) == 1

    def remove(self, msisdns: Iterable[str]) -> int:
        with self._transaction() as db:
            before = db.total_changes
            db.executemany("DELETE FROM numbers WHERE msisdn = ?", ((m,) for m in msisdns))
            return db.total_changes - before

    def configure(self, msisdn: str, changes: dict[str, str | None]) -> bool:
        """Set (or clear, with None or "") some configuration fields of an owned number."""
        names = [name for name in changes if name in CONFIG_FIELDS]
        if not names:
            return self.owned(msisdn) is not None
        assignments = ", ".join(f'"{name}" = ?' for name in names)
        values = [changes[name] or None for name in names]
        sql = f"UPDATE numbers SET {assignments} WHERE msisdn = ?"  # noqa: S608 - known names
        return self._change(sql, [*values, msisdn]) == 1

    # --- tokens ---------------------------------------------------------------------------

    def save_token(self, digest: str, client_id: str, expires_at: float) -> None:
        with self._transaction() as db:
            # Tokens expired for a day are only clutter; expired ones younger than that still
            # answer "expired" rather than "invalid", like the real gateway.
            db.execute("DELETE FROM tokens WHERE expires_at < ?", (time.time() - 86400,))
            db.execute(
                "INSERT INTO tokens (digest, client_id, expires_at) VALUES (?, ?, ?)",
                (digest, client_id, expires_at),
            )

    def token(self, digest: str) -> tuple[str, float] | None:
        """(client id, expiry as epoch seconds) of a token issued by this sandbox."""
        rows = self._fetch("SELECT client_id, expires_at FROM tokens WHERE digest = ?", (digest,))
        return rows[0] if rows else None

    def expire_tokens(self, now: float) -> int:
        return self._change("UPDATE tokens SET expires_at = ? WHERE expires_at > ?", (now, now))

    # --- counters -------------------------------------------------------------------------

    def record_call(self, operation: str) -> None:
        self._change(
            "INSERT INTO calls (operation, total) VALUES (?, 1)"
            " ON CONFLICT (operation) DO UPDATE SET total = total + 1",
            (operation,),
        )

    def record_outcome(self, operation: str, outcome: str) -> None:
        self._change(
            "INSERT INTO responses (operation, outcome, total) VALUES (?, ?, 1)"
            " ON CONFLICT (operation, outcome) DO UPDATE SET total = total + 1",
            (operation, outcome),
        )

    def counters(self) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
        """Calls per operation, and responses per operation and status (or outcome)."""
        calls = dict(self._fetch("SELECT operation, total FROM calls ORDER BY operation"))
        responses: dict[str, dict[str, int]] = {}
        for operation, outcome, total in self._fetch(
            "SELECT operation, outcome, total FROM responses ORDER BY operation, outcome"
        ):
            responses.setdefault(operation, {})[outcome] = total
        return calls, responses


_QUOTED = ", ".join(f'"{name}"' for name in _COLUMNS)
_SELECT = f"SELECT {_QUOTED} FROM numbers"  # noqa: S608 - constant column names
_INSERT = "{verb} INTO numbers (" + _QUOTED + ") VALUES (" + ", ".join("?" * len(_COLUMNS)) + ")"
