"""The README's runtime role, on PostgreSQL: the portal can work as it, and it cannot rewrite
the audit trail, drop the trail's guards or switch them off.

The README's grant script is run as it stands, for a role with a name of its own per test
(roles belong to the whole PostgreSQL cluster, which other test runs share). The role is
created inside the test's transaction, so the rollback at the end removes it and its grants
whatever happens.
"""

import re
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from inventory.audit import Actor, audit_append, audit_append_many, audit_complete, verify_chain
from inventory.models import Action, AuditChainHead, Lease, Operation, Outcome
from inventory.tests.base import BaseTestCase

README = Path(__file__).resolve().parents[2] / "README.md"
GRANTS_MARK = "-- After every migrate"
NOT_ALLOWED = r"permission denied|must be owner"


def readme_grants(role: str) -> list[str]:
    """The statements of the README's after-every-migrate block, for `role`."""
    blocks = re.findall(r"```sql\n(.*?)```", README.read_text(), re.DOTALL)
    block = next(b for b in blocks if b.startswith(GRANTS_MARK))
    sql = "\n".join(line for line in block.splitlines() if not line.startswith("--"))
    sql = re.sub(r"\bportal_app\b", role, sql)
    return [" ".join(statement.split()) for statement in sql.split(";") if statement.strip()]


def test_the_readme_grants_are_found_and_name_the_trail():
    statements = readme_grants("someone")
    assert any("ON inventory_operation FROM someone" in s for s in statements)
    assert all("portal_app" not in s for s in statements)


class RuntimeRoleTestCase(BaseTestCase):
    @pytest.fixture(autouse=True)
    def _postgresql_only(self):
        if connection.vendor != "postgresql":
            pytest.skip("database roles and privileges are PostgreSQL's; SQLite has neither")

    def setUp(self):
        self.done = audit_append(
            action=Action.PURCHASE,
            actor=Actor.system("tests"),
            msisdn="447700900001",
            outcome=Outcome.SUCCEEDED,
        )
        self.role = f"np_test_app_{uuid.uuid4().hex[:12]}"
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE ROLE {self.role} NOLOGIN")
            for statement in readme_grants(self.role):
                cursor.execute(statement)

    @contextmanager
    def as_runtime_role(self):
        with connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {self.role}")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET ROLE")

    def refused(self, statement, *params, match=NOT_ALLOWED):
        """Run `statement` as the runtime role; PostgreSQL must refuse it."""
        with (
            self.as_runtime_role(),
            pytest.raises(DatabaseError, match=match),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, params)

    def test_it_is_not_the_owner_of_the_trail(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tableowner FROM pg_tables WHERE tablename IN (%s, %s)",
                ["inventory_operation", "inventory_auditchainhead"],
            )
            assert {owner for (owner,) in cursor.fetchall()} != {self.role}

    def test_it_cannot_change_a_recorded_fact(self):
        self.refused("UPDATE inventory_operation SET msisdn = '1' WHERE id = %s", self.done.pk)
        self.refused("UPDATE inventory_operation SET hash = 'x', prev_hash = 'y'")
        self.refused(
            "UPDATE inventory_operation SET outcome = 'failed' WHERE id = %s",
            self.done.pk,
            match="append-only",
        )

    def test_it_cannot_delete_or_truncate_the_trail(self):
        self.refused("DELETE FROM inventory_operation")
        self.refused("TRUNCATE inventory_operation")
        self.refused("TRUNCATE inventory_operation CASCADE")
        assert Operation.objects.count() == 1

    def test_it_cannot_alter_or_drop_the_trail(self):
        self.refused("ALTER TABLE inventory_operation ADD COLUMN note text")
        self.refused("ALTER TABLE inventory_operation DROP COLUMN hash")
        self.refused("ALTER TABLE inventory_operation RENAME TO old_trail")
        self.refused("ALTER TABLE inventory_operation OWNER TO CURRENT_USER")
        self.refused("DROP TABLE inventory_operation")
        self.refused("DROP TABLE inventory_operation CASCADE")

    def test_it_cannot_drop_replace_or_switch_off_the_guards(self):
        for table in ("inventory_operation", "inventory_auditchainhead"):
            self.refused(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            self.refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
            self.refused(f"DROP TRIGGER {table}_guard ON {table}")
        self.refused("DROP TRIGGER inventory_operation_extends_head ON inventory_operation")
        self.refused("DROP FUNCTION inventory_operation_guard() CASCADE")
        self.refused(
            "CREATE OR REPLACE FUNCTION inventory_operation_guard() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
        )
        self.refused("SET session_replication_role = replica")

    def test_it_cannot_add_a_trigger_of_its_own_to_the_trail(self):
        self.refused(
            "CREATE TRIGGER mine BEFORE INSERT ON inventory_operation"
            " FOR EACH ROW EXECUTE FUNCTION inventory_operation_guard()"
        )

    def test_it_cannot_move_delete_replace_or_drop_the_chain_head(self):
        self.refused("UPDATE inventory_auditchainhead SET seq = 0", match="append-only")
        self.refused("DELETE FROM inventory_auditchainhead")
        self.refused("TRUNCATE inventory_auditchainhead")
        self.refused("INSERT INTO inventory_auditchainhead (id, seq, hash) VALUES (2, 0, '0')")
        self.refused("DROP TABLE inventory_auditchainhead")
        self.refused("DROP TRIGGER inventory_auditchainhead_guard ON inventory_auditchainhead")
        assert AuditChainHead.objects.values_list("seq", flat=True).get() == 1

    def test_it_can_append_complete_and_verify_the_trail(self):
        with self.as_runtime_role():
            pending = audit_append(
                action=Action.PURCHASE, actor=Actor.system("tests"), msisdn="447700900002"
            )
            audit_complete(pending, outcome=Outcome.SUCCEEDED, http_status=200)
            audit_append_many(
                [{"action": Action.DRIFT_APPEARED, "outcome": Outcome.SUCCEEDED}] * 2,
                actor=Actor.system("tests"),
            )
            assert verify_chain() == (4, None)
        pending.refresh_from_db()
        assert pending.outcome == Outcome.SUCCEEDED

    def test_it_keeps_normal_rights_on_the_other_tables(self):
        expires = timezone.now() + timedelta(seconds=30)
        with self.as_runtime_role():
            lease = Lease.objects.create(name="role-test", holder="me", expires_at=expires)
            Lease.objects.filter(pk=lease.pk).update(holder="someone else")
            Lease.objects.filter(pk=lease.pk).delete()
            assert not Lease.objects.filter(name="role-test").exists()
