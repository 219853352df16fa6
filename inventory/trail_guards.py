"""Database guards that make the audit trail append-only (DESIGN §2.5).

The database itself refuses DELETE (and TRUNCATE on PostgreSQL) on the trail, and any
UPDATE except the one that gives a pending operation its outcome, with every recorded fact
unchanged. The migration installs these guards; `guards_lifted` exists only for tests that
must empty tables or simulate tampering.
"""

from contextlib import contextmanager

from inventory.models import FACT_FIELDS

TABLE = "inventory_operation"
REFUSAL = "the audit trail is append-only"

# The columns are listed here, not read from the model, so the guards stay as migrated.
_FACT_COLUMNS = [
    "seq", "created_at", "action", "actor_id", "actor_username", "ip", "user_agent",
    "request_id", "country", "msisdn", "request", "before", "after", "monthly_cost",
    "setup_cost", "form_token", "settles_id", "prev_hash", "hash",
]  # fmt: skip
assert set(_FACT_COLUMNS) == set(FACT_FIELDS)


def _unchanged(op: str) -> str:
    return " AND ".join(f'NEW."{c}" {op} OLD."{c}"' for c in _FACT_COLUMNS)


SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{REFUSAL}: entries cannot be deleted'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        WHEN NOT (OLD.outcome = 'pending' AND NEW.outcome <> 'pending' AND {_unchanged("IS")})
        BEGIN SELECT RAISE(ABORT, '{REFUSAL}: recorded facts cannot change'); END""",
]
SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
]

POSTGRES_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION {TABLE}_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF OLD.outcome = 'pending' AND NEW.outcome <> 'pending'
               AND {_unchanged("IS NOT DISTINCT FROM")} THEN
                RETURN NEW;
            END IF;
        END IF;
        RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    f"""CREATE TRIGGER {TABLE}_guard BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION {TABLE}_guard()""",
    f"""CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_guard()""",
]
POSTGRES_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_guard ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_guard()",
]


def _run(connection, statements) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(connection) -> None:
    _run(connection, POSTGRES_INSTALL if connection.vendor == "postgresql" else SQLITE_INSTALL)


def remove(connection) -> None:
    _run(connection, POSTGRES_REMOVE if connection.vendor == "postgresql" else SQLITE_REMOVE)


def lift(connection) -> None:
    if connection.vendor == "postgresql":
        _run(connection, [f"ALTER TABLE {TABLE} DISABLE TRIGGER USER"])
    else:
        remove(connection)


def restore(connection) -> None:
    if connection.vendor == "postgresql":
        _run(connection, [f"ALTER TABLE {TABLE} ENABLE TRIGGER USER"])
    else:
        install(connection)


@contextmanager
def guards_lifted(connection):
    """For tests only: lets a test empty the trail or tamper with it, then re-arms the guards."""
    lift(connection)
    try:
        yield
    finally:
        restore(connection)
