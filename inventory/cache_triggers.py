"""What the database keeps in step with the owned-number cache by itself, on every write:
the inventory's totals by group (`InventoryTotal`), the spend by country, type and team
(`InventorySpend`, for the dashboard) and the text index over the digits, labels, teams
and notes.

Triggers, not service code: the same statement that changes the cache changes the totals,
in the same transaction, whichever code path wrote it (a service, a bulk insert, the
sync's set-based SQL, a shell). Migration 0020 installs them; a migration that makes
SQLite rebuild the cache table drops them with it and must call `install` again (a test
checks that they are there).

- Totals on SQLite: one row per group, upserted by row triggers (SQLite has one writer at
  a time, so nobody waits on the row).
- Totals on PostgreSQL: statement triggers append one row per group a statement changed,
  and never update one, so concurrent writers never wait on each other or deadlock on a
  group; `fold` (run by the sync) sums each group's rows into one.
- Spend: the same two ways (SQLite upserts a row per country, type and team; PostgreSQL
  appends and folds), a few dozen rows however many numbers and combinations there are.
- Text index on SQLite: an FTS5 table with the trigram tokenizer over the cache (external
  content), kept by row triggers. On PostgreSQL: pg_trgm GIN indexes, kept by PostgreSQL.
"""

# ruff: noqa: S608 - every statement here is built from this module's own constant names;
# no value from outside reaches it.
from __future__ import annotations

from inventory.models import ESTIMATED_SOURCES, PriceSource

TOTALS = "inventory_ownednumber_totals"
SPEND = "inventory_ownednumber_spend"
CACHE = "inventory_ownednumber"
TEXT_TABLE = "inventory_ownednumber_text"  # SQLite's FTS5 index
# PostgreSQL's trigram index over what free text searches; queries use the same expression.
WORDS_SQL = "(label || E'\\n' || team || E'\\n' || notes)"

_EVENTS = ("insert", "delete", "update")
GROUP = ("country", "type", "team", "price_source", "has_sms", "has_voice", "has_mms", "configured")
# The price the portal counts for a number (bought, listed, contract or catalogue).
COST = "effective_monthly_cost"
_GROUP = ", ".join(GROUP)
_KEY = f"{_GROUP}, price_known"
_MEASURES = "numbers, priced, monthly_total"


def _row_values(row: str, sign: str = "") -> str:
    """One cache row as a totals row (SQLite)."""
    columns = ", ".join(f"{row}.{name}" for name in GROUP)
    known = f"({row}.{COST} IS NOT NULL)"
    return f"{columns}, {known}, {sign}1, {sign}{known}, {sign}COALESCE({row}.{COST}, 0)"


def _same_group(row: str) -> str:
    pairs = [f"{name} = {row}.{name}" for name in GROUP]
    return " AND ".join([*pairs, f"price_known = ({row}.{COST} IS NOT NULL)"])


def _sqlite_add(row: str) -> str:
    return f"""INSERT INTO {TOTALS} ({_KEY}, {_MEASURES}) VALUES ({_row_values(row)})
        ON CONFLICT ({_KEY}) DO UPDATE SET numbers = numbers + 1,
            priced = priced + excluded.priced,
            monthly_total = ROUND(monthly_total + excluded.monthly_total, 4);"""


def _sqlite_remove(row: str) -> str:
    # An UPDATE, never an insert: emptying both tables in any order leaves them consistent.
    return f"""UPDATE {TOTALS} SET numbers = numbers - 1,
            priced = priced - ({row}.{COST} IS NOT NULL),
            monthly_total = ROUND(monthly_total - COALESCE({row}.{COST}, 0), 4)
        WHERE {_same_group(row)};
        DELETE FROM {TOTALS} WHERE numbers = 0 AND {_same_group(row)};"""


# What the generated `configured` column is computed from.
_ROUTING = ("mo_http_url", "voice_callback_type", "messages_callback_value")
_TOTALS_COLUMNS = (*GROUP[:-1], *_ROUTING, COST)
_moved = " OR ".join(f"OLD.{name} IS NOT NEW.{name}" for name in (*GROUP, COST))
_TEXT_COLUMNS = ("msisdn", "label", "team", "notes")
_text_changed = " OR ".join(f"OLD.{name} IS NOT NEW.{name}" for name in _TEXT_COLUMNS)
_text_columns = ", ".join(_TEXT_COLUMNS)


def _text_values(row: str) -> str:
    return ", ".join(f"{row}.{name}" for name in _TEXT_COLUMNS)


SQLITE_INSTALL = [
    f"CREATE UNIQUE INDEX IF NOT EXISTS {TOTALS}_group ON {TOTALS} ({_KEY})",
    f"""CREATE TRIGGER IF NOT EXISTS {CACHE}_totals_insert AFTER INSERT ON {CACHE}
        BEGIN {_sqlite_add("NEW")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS {CACHE}_totals_delete AFTER DELETE ON {CACHE}
        BEGIN {_sqlite_remove("OLD")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS {CACHE}_totals_update
        AFTER UPDATE OF {", ".join(_TOTALS_COLUMNS)} ON {CACHE} WHEN {_moved}
        BEGIN {_sqlite_remove("OLD")} {_sqlite_add("NEW")} END""",
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {TEXT_TABLE} USING fts5({_text_columns},
        content='{CACHE}', content_rowid='id', tokenize='trigram')""",
    f"""CREATE TRIGGER IF NOT EXISTS {CACHE}_text_insert AFTER INSERT ON {CACHE} BEGIN
        INSERT INTO {TEXT_TABLE} (rowid, {_text_columns}) VALUES (NEW.id, {_text_values("NEW")});
        END""",
    f"""CREATE TRIGGER IF NOT EXISTS {CACHE}_text_delete AFTER DELETE ON {CACHE} BEGIN
        INSERT INTO {TEXT_TABLE} ({TEXT_TABLE}, rowid, {_text_columns})
            VALUES ('delete', OLD.id, {_text_values("OLD")});
        END""",
    f"""CREATE TRIGGER IF NOT EXISTS {CACHE}_text_update AFTER UPDATE OF {_text_columns}
        ON {CACHE} WHEN {_text_changed} BEGIN
        INSERT INTO {TEXT_TABLE} ({TEXT_TABLE}, rowid, {_text_columns})
            VALUES ('delete', OLD.id, {_text_values("OLD")});
        INSERT INTO {TEXT_TABLE} (rowid, {_text_columns}) VALUES (NEW.id, {_text_values("NEW")});
        END""",
]
SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {CACHE}_totals_insert",
    f"DROP TRIGGER IF EXISTS {CACHE}_totals_delete",
    f"DROP TRIGGER IF EXISTS {CACHE}_totals_update",
    f"DROP TRIGGER IF EXISTS {CACHE}_text_insert",
    f"DROP TRIGGER IF EXISTS {CACHE}_text_delete",
    f"DROP TRIGGER IF EXISTS {CACHE}_text_update",
    f"DROP TABLE IF EXISTS {TEXT_TABLE}",
    f"DROP INDEX IF EXISTS {TOTALS}_group",
]
SQLITE_TRIGGERS = [f"{CACHE}_{kind}_{event}" for kind in ("totals", "text") for event in _EVENTS]


def _pg_rows(table: str, sign: str = "") -> str:
    return f"""SELECT {_GROUP}, {COST} IS NOT NULL, {sign}count(*),
            {sign}count({COST}), {sign}coalesce(sum({COST}), 0)
        FROM {table} GROUP BY {_GROUP}, {COST} IS NOT NULL"""


def _pg_function(name: str, body: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {body}; RETURN NULL; END $$"""


_PG_INSERT = f"INSERT INTO {TOTALS} ({_KEY}, {_MEASURES})"
POSTGRES_INSTALL = [
    _pg_function(f"{CACHE}_totals_insert", f"{_PG_INSERT} {_pg_rows('new_rows')}"),
    _pg_function(f"{CACHE}_totals_delete", f"{_PG_INSERT} {_pg_rows('old_rows', '-')}"),
    _pg_function(
        f"{CACHE}_totals_update",
        f"""{_PG_INSERT} SELECT {_KEY}, sum(numbers), sum(priced), sum(monthly_total)
            FROM ({_pg_rows("new_rows")} UNION ALL {_pg_rows("old_rows", "-")})
                AS moves ({_KEY}, {_MEASURES})
            GROUP BY {_KEY}
            HAVING sum(numbers) <> 0 OR sum(priced) <> 0 OR sum(monthly_total) <> 0""",
    ),
    f"""CREATE TRIGGER {CACHE}_totals_insert AFTER INSERT ON {CACHE}
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION {CACHE}_totals_insert()""",
    f"""CREATE TRIGGER {CACHE}_totals_delete AFTER DELETE ON {CACHE}
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION {CACHE}_totals_delete()""",
    f"""CREATE TRIGGER {CACHE}_totals_update AFTER UPDATE ON {CACHE}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION {CACHE}_totals_update()""",
    f"CREATE INDEX IF NOT EXISTS owned_msisdn_trigrams ON {CACHE} USING gin (msisdn gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS owned_words_trigrams ON {CACHE}"
    f" USING gin ({WORDS_SQL} gin_trgm_ops)",
]
POSTGRES_REMOVE = [
    *(f"DROP TRIGGER IF EXISTS {CACHE}_totals_{event} ON {CACHE}" for event in _EVENTS),
    *(f"DROP FUNCTION IF EXISTS {CACHE}_totals_{event}()" for event in _EVENTS),
    "DROP INDEX IF EXISTS owned_msisdn_trigrams",
    "DROP INDEX IF EXISTS owned_words_trigrams",
]
POSTGRES_TRIGGERS = [f"{CACHE}_totals_{event}" for event in _EVENTS]

# Every group's rows summed into one; groups that sum to nothing go. On PostgreSQL one
# statement: rows appended meanwhile by other writers are not in its snapshot and stay.
POSTGRES_FOLD = f"""WITH folded AS (DELETE FROM {TOTALS} RETURNING {_KEY}, {_MEASURES})
    {_PG_INSERT} SELECT {_KEY}, sum(numbers), sum(priced), sum(monthly_total) FROM folded
    GROUP BY {_KEY} HAVING sum(numbers) <> 0 OR sum(priced) <> 0 OR sum(monthly_total) <> 0"""
# Recount from the cache (installing, or proving the totals right).
REBUILD = [
    f"DELETE FROM {TOTALS}",
    f"""INSERT INTO {TOTALS} ({_KEY}, {_MEASURES})
        SELECT {_GROUP}, {COST} IS NOT NULL, count(*), count({COST}),
            coalesce(sum({COST}), 0)
        FROM {CACHE} GROUP BY {_GROUP}, {COST} IS NOT NULL""",
]


# --- spend by country, type and team -------------------------------------------------------
# Each measure: a condition on a cache row, and whether it counts numbers or adds up their
# price. `{r}` is where the row's columns are read from (NEW./OLD. or a transition table).
_ESTIMATED_LIST = ", ".join(f"'{source.value}'" for source in ESTIMATED_SOURCES)
_ESTIMATED = f"{{r}}price_source IN ({_ESTIMATED_LIST})"
_BOUGHT = f"{{r}}price_source = '{PriceSource.BOUGHT.value}'"
SPEND_MEASURES = (
    ("numbers", "TRUE", "count"),
    ("monthly_total", "TRUE", "money"),
    ("priced", "{r}price_source <> ''", "count"),
    ("estimated", _ESTIMATED, "count"),
    ("estimated_total", _ESTIMATED, "money"),
    # Money spent on numbers that route nowhere: unconfigured, with a price above nothing.
    ("unrouted", f"NOT {{r}}configured AND {{r}}{COST} > 0", "count"),
    ("unrouted_total", f"NOT {{r}}configured AND {{r}}{COST} > 0", "money"),
    ("bought", _BOUGHT, "count"),
    ("bought_total", _BOUGHT, "money"),
)
SPEND_DIMENSIONS = ("country", "type", "team")
_SPEND_COLUMNS = ", ".join(name for name, _, _ in SPEND_MEASURES)
_SPEND_INSERT = f"INSERT INTO {SPEND} (dimension, key, {_SPEND_COLUMNS})"
# The columns a number's spend depends on (`configured` is generated from the routing ones).
_SPEND_INPUTS = (*SPEND_DIMENSIONS, "price_source", *_ROUTING, COST)
_spend_moved = " OR ".join(
    f"OLD.{name} IS NOT NEW.{name}"
    for name in (*SPEND_DIMENSIONS, "price_source", "configured", COST)
)


def _spend_value(condition: str, kind: str, row: str) -> str:
    """One measure of one row (SQLite's row triggers): 1 or 0, its price or 0."""
    taken = f"COALESCE({row}.{COST}, 0)" if kind == "money" else "1"
    return f"CASE WHEN {condition.format(r=row + '.')} THEN {taken} ELSE 0 END"


def _spend_sum(condition: str, kind: str, sign: str = "") -> str:
    """One measure of many rows (a transition table or the cache): their count or price."""
    taken = f"COALESCE({COST}, 0)" if kind == "money" else "1"
    return f"{sign}sum(CASE WHEN {condition.format(r='')} THEN {taken} ELSE 0 END)"


def _sqlite_spend_add(row: str, dimension: str) -> str:
    values = ", ".join(_spend_value(cond, kind, row) for _, cond, kind in SPEND_MEASURES)
    updates = ", ".join(
        f"{name} = ROUND({name} + excluded.{name}, 4)"
        if kind == "money"
        else f"{name} = {name} + excluded.{name}"
        for name, _, kind in SPEND_MEASURES
    )
    return f"""{_SPEND_INSERT} VALUES ('{dimension}', {row}.{dimension}, {values})
        ON CONFLICT (dimension, key) DO UPDATE SET {updates};"""


def _sqlite_spend_remove(row: str, dimension: str) -> str:
    # An UPDATE, never an insert, as for the totals.
    updates = ", ".join(
        f"{name} = ROUND({name} - {_spend_value(cond, kind, row)}, 4)"
        if kind == "money"
        else f"{name} = {name} - {_spend_value(cond, kind, row)}"
        for name, cond, kind in SPEND_MEASURES
    )
    group = f"dimension = '{dimension}' AND key = {row}.{dimension}"
    return f"""UPDATE {SPEND} SET {updates} WHERE {group};
        DELETE FROM {SPEND} WHERE numbers = 0 AND {group};"""


def _sqlite_spend(step, row: str) -> str:
    return " ".join(step(row, dimension) for dimension in SPEND_DIMENSIONS)


def _spend_rows(table: str, sign: str = "") -> str:
    """A table's rows as spend rows: one per country, per type and per team in it."""
    sums = ", ".join(_spend_sum(cond, kind, sign) for _, cond, kind in SPEND_MEASURES)
    return " UNION ALL ".join(
        f"SELECT '{dimension}', {dimension}, {sums} FROM {table} GROUP BY {dimension}"
        for dimension in SPEND_DIMENSIONS
    )


def _spend_folded(rows: str) -> str:
    """Rows summed by group; a group that sums to nothing is left out."""
    sums = ", ".join(f"sum({name})" for name, _, _ in SPEND_MEASURES)
    nonzero = " OR ".join(f"sum({name}) <> 0" for name, _, _ in SPEND_MEASURES)
    return f"""SELECT dimension, key, {sums}
        FROM ({rows}) AS moves (dimension, key, {_SPEND_COLUMNS})
        GROUP BY dimension, key HAVING {nonzero}"""


SQLITE_SPEND_INSTALL = [
    f"CREATE UNIQUE INDEX IF NOT EXISTS {SPEND}_group ON {SPEND} (dimension, key)",
    f"""CREATE TRIGGER IF NOT EXISTS {CACHE}_spend_insert AFTER INSERT ON {CACHE}
        BEGIN {_sqlite_spend(_sqlite_spend_add, "NEW")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS {CACHE}_spend_delete AFTER DELETE ON {CACHE}
        BEGIN {_sqlite_spend(_sqlite_spend_remove, "OLD")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS {CACHE}_spend_update
        AFTER UPDATE OF {", ".join(_SPEND_INPUTS)} ON {CACHE} WHEN {_spend_moved}
        BEGIN {_sqlite_spend(_sqlite_spend_remove, "OLD")}
            {_sqlite_spend(_sqlite_spend_add, "NEW")} END""",
]
SQLITE_SPEND_REMOVE = [
    *(f"DROP TRIGGER IF EXISTS {CACHE}_spend_{event}" for event in _EVENTS),
    f"DROP INDEX IF EXISTS {SPEND}_group",
]
POSTGRES_SPEND_INSTALL = [
    _pg_function(f"{CACHE}_spend_insert", f"{_SPEND_INSERT} {_spend_rows('new_rows')}"),
    _pg_function(f"{CACHE}_spend_delete", f"{_SPEND_INSERT} {_spend_rows('old_rows', '-')}"),
    _pg_function(
        f"{CACHE}_spend_update",
        f"""{_SPEND_INSERT} {
            _spend_folded(f"{_spend_rows('new_rows')} UNION ALL {_spend_rows('old_rows', '-')}")
        }""",
    ),
    *(
        f"""CREATE TRIGGER {CACHE}_spend_{event} AFTER {event.upper()} ON {CACHE}
        REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {CACHE}_spend_{event}()"""
        for event, tables in (
            ("insert", "NEW TABLE AS new_rows"),
            ("delete", "OLD TABLE AS old_rows"),
            ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        )
    ),
]
POSTGRES_SPEND_REMOVE = [
    *(f"DROP TRIGGER IF EXISTS {CACHE}_spend_{event} ON {CACHE}" for event in _EVENTS),
    *(f"DROP FUNCTION IF EXISTS {CACHE}_spend_{event}()" for event in _EVENTS),
]
SPEND_TRIGGERS = [f"{CACHE}_spend_{event}" for event in _EVENTS]
POSTGRES_SPEND_FOLD = f"""WITH folded AS (
        DELETE FROM {SPEND} RETURNING dimension, key, {_SPEND_COLUMNS}
    ) {_SPEND_INSERT} {_spend_folded("SELECT * FROM folded")}"""
SPEND_REBUILD = [f"DELETE FROM {SPEND}", f"{_SPEND_INSERT} {_spend_rows(CACHE)}"]


def _run(connection, statements) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _postgres(connection) -> bool:
    return connection.vendor == "postgresql"


def install(connection) -> None:
    """Totals and text index: triggers, and recounted from the cache as it is now."""
    _run(connection, POSTGRES_INSTALL if _postgres(connection) else SQLITE_INSTALL)
    _rebuild_totals(connection)


def remove(connection) -> None:
    _run(connection, POSTGRES_REMOVE if _postgres(connection) else SQLITE_REMOVE)


def install_spend(connection) -> None:
    """Spend by country, type and team (migration 0021): triggers, and recounted."""
    _run(connection, POSTGRES_SPEND_INSTALL if _postgres(connection) else SQLITE_SPEND_INSTALL)
    _run(connection, SPEND_REBUILD)


def remove_spend(connection) -> None:
    _run(connection, POSTGRES_SPEND_REMOVE if _postgres(connection) else SQLITE_SPEND_REMOVE)


def rebuild(connection) -> None:
    """Everything recounted from the cache (proving the kept figures right, in tests)."""
    _rebuild_totals(connection)
    _run(connection, SPEND_REBUILD)


def _rebuild_totals(connection) -> None:
    _run(connection, REBUILD)
    if not _postgres(connection):
        _run(connection, [f"INSERT INTO {TEXT_TABLE} ({TEXT_TABLE}) VALUES ('rebuild')"])


def fold(connection) -> None:
    """Sum each group's rows into one (PostgreSQL), and, outside a transaction, vacuum the
    tables: the rows folded away would otherwise stay in them, dead, until autovacuum came."""
    if not _postgres(connection):
        return
    _run(connection, [POSTGRES_FOLD, POSTGRES_SPEND_FOLD])
    if not connection.in_atomic_block:
        _run(connection, [f"VACUUM ANALYZE {TOTALS}", f"VACUUM ANALYZE {SPEND}"])


def installed(connection) -> set[str]:
    """The names of the cache's triggers that are in place."""
    with connection.cursor() as cursor:
        if _postgres(connection):
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass", [CACHE])
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [CACHE],
            )
        return {name for (name,) in cursor.fetchall()}


def expected(connection) -> set[str]:
    kept = POSTGRES_TRIGGERS if _postgres(connection) else SQLITE_TRIGGERS
    return {*kept, *SPEND_TRIGGERS}
