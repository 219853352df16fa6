"""Database guards that make the audit trail append-only (DESIGN §2.5).

The database itself refuses, on the trail:
- DELETE (and TRUNCATE on PostgreSQL);
- any UPDATE except the one that gives a pending operation its outcome, with every recorded
  fact unchanged;
- any INSERT that does not extend the chain head (seq one past the head, linked to the
  head's hash); the insert itself moves the head onto the new entry.

And on the chain head: any change but that move (one step forward, onto the entry being
inserted), deleting it, and a second head row. So the head cannot be rolled back to hide
the entries after it, and nothing can be slipped into the chain but at its end, where the
keyed hashes (audit.py) show a forgery.

Triggers guard against anyone who can write to the tables; they do not stop the tables'
owner, who can drop them. In production the portal runs as a role that does not own the
tables (README, "A database role that cannot rewrite the trail").

The migrations install these guards; `guards_lifted` exists only for tests that must empty
tables or simulate tampering.
"""

from contextlib import contextmanager

from inventory.models import FACT_FIELDS

TABLE = "inventory_operation"
HEAD = "inventory_auditchainhead"
REFUSAL = "the audit trail is append-only"
GENESIS = "0" * 64

# The columns are listed here, not read from the model, so the guards stay as migrated.
_FACT_COLUMNS = [
    *("seq", "created_at", "action", "actor_id", "actor_username", "ip", "user_agent"),
    *("request_id", "country", "msisdn", "request", "before", "after", "monthly_cost"),
    *("setup_cost", "form_token", "settles_id", "prev_hash", "hash"),
]
assert set(_FACT_COLUMNS) == set(FACT_FIELDS)


def _unchanged(op: str) -> str:
    return " AND ".join(f'NEW."{c}" {op} OLD."{c}"' for c in _FACT_COLUMNS)


def _sqlite_refusal(what: str) -> str:
    return f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {what}'); END"


SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        {_sqlite_refusal("entries cannot be deleted")}""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        WHEN NOT (OLD.outcome = 'pending' AND NEW.outcome <> 'pending' AND {_unchanged("IS")})
        {_sqlite_refusal("recorded facts cannot change")}""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_extends_head BEFORE INSERT ON {TABLE}
        WHEN NEW.seq IS NOT (SELECT seq + 1 FROM {HEAD} WHERE id = 1)
          OR NEW.prev_hash IS NOT (SELECT hash FROM {HEAD} WHERE id = 1)
        {_sqlite_refusal("a new entry must extend the chain head")}""",  # noqa: S608 - constants only
    # SQLite runs row triggers row by row, so in a multi-row INSERT each row sees the head
    # its predecessor moved.
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_moves_head AFTER INSERT ON {TABLE}
        BEGIN UPDATE {HEAD} SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END""",  # noqa: S608 - constants only
    f"""CREATE TRIGGER IF NOT EXISTS {HEAD}_forward_only BEFORE UPDATE ON {HEAD}
        WHEN NOT (NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 AND EXISTS (
            SELECT 1 FROM {TABLE} WHERE seq = NEW.seq AND hash = NEW.hash))
        {_sqlite_refusal("the chain head only moves forward, onto a new entry")}""",  # noqa: S608 - constants only
    f"""CREATE TRIGGER IF NOT EXISTS {HEAD}_no_delete BEFORE DELETE ON {HEAD}
        {_sqlite_refusal("the chain head cannot be deleted")}""",
    f"""CREATE TRIGGER IF NOT EXISTS {HEAD}_one_row BEFORE INSERT ON {HEAD}
        WHEN NOT (NEW.id = 1 AND NEW.seq = 0 AND NEW.hash = '{GENESIS}'
                  AND NOT EXISTS (SELECT 1 FROM {HEAD}) AND NOT EXISTS (SELECT 1 FROM {TABLE}))
        {_sqlite_refusal("the chain head starts once, at the start of an empty trail")}""",  # noqa: S608 - constants only
]
_SQLITE_TRIGGERS = [
    f"{TABLE}_no_delete",
    f"{TABLE}_no_update",
    f"{TABLE}_extends_head",
    f"{TABLE}_moves_head",
    f"{HEAD}_forward_only",
    f"{HEAD}_no_delete",
    f"{HEAD}_one_row",
]
SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS {name}" for name in _SQLITE_TRIGGERS]


def _postgres_install(schema: str) -> list[str]:
    # Each function names its schema, with pg_temp last: a temporary table of the same name
    # (which any role may create) must not stand in for the real head or trail.
    path = f"SET search_path = {schema}, pg_temp"
    refuse = "USING ERRCODE = 'integrity_constraint_violation'"
    return [
        f"""CREATE OR REPLACE FUNCTION {TABLE}_guard() RETURNS trigger LANGUAGE plpgsql
        {path} AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                IF OLD.outcome = 'pending' AND NEW.outcome <> 'pending'
                   AND {_unchanged("IS NOT DISTINCT FROM")} THEN
                    RETURN NEW;
                END IF;
            END IF;
            RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP {refuse};
        END $$""",
        f"""CREATE TRIGGER {TABLE}_guard BEFORE UPDATE OR DELETE ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION {TABLE}_guard()""",
        f"""CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
            FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_guard()""",
        # PostgreSQL runs AFTER row triggers at the end of the statement, so the head moves
        # here, before each row: the next row of a multi-row INSERT must extend it again.
        f"""CREATE OR REPLACE FUNCTION {TABLE}_extend() RETURNS trigger LANGUAGE plpgsql
        {path} AS $$
        DECLARE
            head_seq bigint;
            head_hash varchar;
        BEGIN
            SELECT seq, hash INTO head_seq, head_hash FROM {HEAD} WHERE id = 1 FOR UPDATE;
            IF NOT FOUND OR NEW.seq IS DISTINCT FROM head_seq + 1
               OR NEW.prev_hash IS DISTINCT FROM head_hash THEN
                RAISE EXCEPTION '{REFUSAL}: a new entry must extend the chain head' {refuse};
            END IF;
            UPDATE {HEAD} SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
            RETURN NEW;
        END $$""",  # noqa: S608 - constants only
        f"""CREATE TRIGGER {TABLE}_extends_head BEFORE INSERT ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION {TABLE}_extend()""",
        # The one permitted move comes from the trigger above (depth 2), one step forward;
        # the one permitted insert starts an empty trail.
        f"""CREATE OR REPLACE FUNCTION {HEAD}_guard() RETURNS trigger LANGUAGE plpgsql
        {path} AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1
               AND NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 THEN
                RETURN NEW;
            END IF;
            IF TG_OP = 'INSERT' AND NEW.id = 1 AND NEW.seq = 0 AND NEW.hash = '{GENESIS}'
               AND NOT EXISTS (SELECT 1 FROM {HEAD}) AND NOT EXISTS (SELECT 1 FROM {TABLE}) THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION '{REFUSAL}: % of the chain head refused', TG_OP {refuse};
        END $$""",  # noqa: S608 - constants only
        f"""CREATE TRIGGER {HEAD}_guard BEFORE INSERT OR UPDATE OR DELETE ON {HEAD}
            FOR EACH ROW EXECUTE FUNCTION {HEAD}_guard()""",
        f"""CREATE TRIGGER {HEAD}_no_truncate BEFORE TRUNCATE ON {HEAD}
            FOR EACH STATEMENT EXECUTE FUNCTION {HEAD}_guard()""",
    ]


POSTGRES_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_guard ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_extends_head ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {HEAD}_guard ON {HEAD}",
    f"DROP TRIGGER IF EXISTS {HEAD}_no_truncate ON {HEAD}",
    f"DROP FUNCTION IF EXISTS {TABLE}_guard()",
    f"DROP FUNCTION IF EXISTS {TABLE}_extend()",
    f"DROP FUNCTION IF EXISTS {HEAD}_guard()",
]


def _run(connection, statements) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _schema(connection) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return connection.ops.quote_name(cursor.fetchone()[0])


def install(connection) -> None:
    if connection.vendor == "postgresql":
        _run(connection, _postgres_install(_schema(connection)))
    else:
        _run(connection, SQLITE_INSTALL)


def remove(connection) -> None:
    _run(connection, POSTGRES_REMOVE if connection.vendor == "postgresql" else SQLITE_REMOVE)


def lift(connection) -> None:
    """Switch the guards off (tests only). While they are off, appends do not move the head."""
    if connection.vendor == "postgresql":
        _run(connection, [f"ALTER TABLE {t} DISABLE TRIGGER USER" for t in (TABLE, HEAD)])
    else:
        remove(connection)


def restore(connection) -> None:
    if connection.vendor == "postgresql":
        _run(connection, [f"ALTER TABLE {t} ENABLE TRIGGER USER" for t in (TABLE, HEAD)])
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
