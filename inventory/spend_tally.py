"""Database triggers that keep `SpendTally` in step with the owned-number cache.

Every insert, delete and relevant update of an owned number moves its group's count and
monthly total (country × type × team × price source × routed), whichever code path wrote
it: the services, a sync's bulk writes, a rate-card reprice, the admin or a test factory.
So the dashboard reads a few dozen rows, never the million numbers behind them.

Money is counted in ten-thousandths of a euro (the cache's four decimal places) as
integers, so adding and taking away leaves no rounding behind. Groups that fall to zero
numbers stay (with zero), and readers skip them.

The migrations install the triggers and count the cache once; `tally_recount` does that
again (after a restore, or to check the triggers: the tests compare the two).
"""

from __future__ import annotations

TABLE = "inventory_ownednumber"
TALLY = "inventory_spendtally"
GROUP = ("country", "type", "team", "price_source", "routed")
# Columns whose change moves a number from one group to another, or changes its price.
WATCHED = (
    "country",
    "type",
    "team",
    "price_source",
    "effective_monthly_cost",
    "mo_http_url",
    "voice_callback_type",
)


def _routed(row: str) -> str:
    return f"({row}.mo_http_url <> '' OR {row}.voice_callback_type <> '')"


def _units(row: str, vendor: str) -> str:
    cost = f"COALESCE({row}.effective_monthly_cost, 0) * 10000"
    if vendor == "sqlite":
        return f"CAST(ROUND({cost}) AS INTEGER)"
    return f"ROUND({cost})::bigint"


def _add(row: str, sign: str, vendor: str) -> str:
    """Add (sign "") or take away (sign "-") one row of the cache to its group."""
    routed = _routed(row)
    if vendor == "sqlite":
        routed = f"CASE WHEN {routed} THEN 1 ELSE 0 END"
    return f"""INSERT INTO {TALLY} ({", ".join(GROUP)}, numbers, monthly_units)
        VALUES ({row}.country, {row}.type, {row}.team, {row}.price_source, {routed},
                {sign}1, {sign}{_units(row, vendor)})
        ON CONFLICT ({", ".join(GROUP)}) DO UPDATE
        SET numbers = {TALLY}.numbers + excluded.numbers,
            monthly_units = {TALLY}.monthly_units + excluded.monthly_units;"""  # noqa: S608 - constants only


def _changed() -> str:
    return " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)


SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS {TALLY}_insert AFTER INSERT ON {TABLE}
        BEGIN {_add("NEW", "", "sqlite")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TALLY}_delete AFTER DELETE ON {TABLE}
        BEGIN {_add("OLD", "-", "sqlite")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TALLY}_update AFTER UPDATE OF {", ".join(WATCHED)}
        ON {TABLE} WHEN {_changed().replace("IS DISTINCT FROM", "IS NOT")}
        BEGIN {_add("OLD", "-", "sqlite")} {_add("NEW", "", "sqlite")} END""",
]
SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TALLY}_{kind}" for kind in ("insert", "delete", "update")
]

POSTGRESQL_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION {TALLY}_follow() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN {_add("OLD", "-", "postgresql")} END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN {_add("NEW", "", "postgresql")} END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER {TALLY}_insert_delete AFTER INSERT OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION {TALLY}_follow()""",
    f"""CREATE TRIGGER {TALLY}_update AFTER UPDATE OF {", ".join(WATCHED)} ON {TABLE}
        FOR EACH ROW WHEN ({_changed()}) EXECUTE FUNCTION {TALLY}_follow()""",
]
POSTGRESQL_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TALLY}_insert_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TALLY}_update ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TALLY}_follow()",
]


def _recount_sql(vendor: str) -> list[str]:
    routed = _routed(TABLE)
    if vendor == "sqlite":
        routed = f"CASE WHEN {routed} THEN 1 ELSE 0 END"
    units = _units(TABLE, vendor)
    return [
        f"DELETE FROM {TALLY}",  # noqa: S608 - constants only
        f"""INSERT INTO {TALLY} ({", ".join(GROUP)}, numbers, monthly_units)
            SELECT country, type, team, price_source, {routed}, COUNT(*), SUM({units})
            FROM {TABLE} GROUP BY country, type, team, price_source, {routed}""",  # noqa: S608
    ]


def install(connection) -> None:
    statements = SQLITE_INSTALL if connection.vendor == "sqlite" else POSTGRESQL_INSTALL
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def remove(connection) -> None:
    statements = SQLITE_REMOVE if connection.vendor == "sqlite" else POSTGRESQL_REMOVE
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def tally_recount(connection) -> None:
    """Count the whole cache again into the tally (one pass; the triggers keep it after)."""
    with connection.cursor() as cursor:
        for statement in _recount_sql(connection.vendor):
            cursor.execute(statement)
