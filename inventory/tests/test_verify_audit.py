"""`manage.py verify_audit` proves the trail intact, or names its first broken link."""

import io
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from inventory import trail_guards
from inventory.audit import Actor, audit_append, entry_hash, entry_outcome_hash
from inventory.models import Action, Operation, Outcome
from inventory.tests.base import BaseTestCase
from inventory.tests.transactional import TrailTransactionTestCase

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"


def append_five():
    """#1..#5: purchases, all finished."""
    actor = Actor.system("tests")
    money = {"monthly_cost": Decimal("1.25"), "outcome": Outcome.SUCCEEDED, "http_status": 200}
    return [
        audit_append(
            action=Action.PURCHASE, actor=actor, country="GB", msisdn=f"44770090000{i}", **money
        )
        for i in range(1, 6)
    ]


def tamper(statement, *params):
    """What someone with database access could do, with the guards out of the way."""
    with trail_guards.guards_lifted(connection), connection.cursor() as cursor:
        cursor.execute(statement, params)


class VerifyAuditTestCase(BaseTestCase):
    def setUp(self):
        self.entries = append_five()

    def verify(self) -> str:
        out = io.StringIO()
        call_command("verify_audit", stdout=out)
        return out.getvalue()

    def broken(self) -> str:
        with pytest.raises(CommandError) as error:
            self.verify()
        return str(error.value)

    def test_an_intact_trail_passes_and_says_how_many_entries_were_verified(self):
        assert self.verify() == "The audit trail is intact: 5 entries verified.\n"

    def test_an_empty_trail_is_intact(self):
        tamper("DELETE FROM inventory_operation")
        tamper("UPDATE inventory_auditchainhead SET seq = 0, hash = %s", "0" * 64)
        assert "0 entries verified" in self.verify()

    def test_an_altered_fact_is_named_with_its_seq_and_id(self):
        third = self.entries[2]
        tamper("UPDATE inventory_operation SET monthly_cost = 0.01 WHERE id = %s", third.pk)

        message = self.broken()

        assert message.startswith(f"The audit trail is broken at entry #3 (id {third.pk}):")
        assert "recorded facts do not match its hash" in message
        assert "The 2 entries before it are intact." in message

    def test_an_altered_fact_with_a_recomputed_hash_and_seal_breaks_the_next_link(self):
        third = self.entries[2]
        third.actor_username = "someone-else"
        third.hash = entry_hash(third)
        tamper(
            "UPDATE inventory_operation SET actor_username = %s, hash = %s, outcome_hash = %s"
            " WHERE id = %s",
            third.actor_username, third.hash, entry_outcome_hash(third), third.pk,
        )  # fmt: skip

        message = self.broken()

        fourth = self.entries[3]
        assert message.startswith(f"The audit trail is broken at entry #4 (id {fourth.pk}):")
        assert "link to the previous entry does not match" in message

    def test_an_altered_outcome_is_named(self):
        second = self.entries[1]
        tamper("UPDATE inventory_operation SET outcome = 'failed' WHERE id = %s", second.pk)

        message = self.broken()

        assert message.startswith(f"The audit trail is broken at entry #2 (id {second.pk}):")
        assert "outcome does not match its seal" in message

    def test_an_outcome_erased_back_to_pending_is_named(self):
        fourth = self.entries[3]
        tamper("UPDATE inventory_operation SET outcome = 'pending' WHERE id = %s", fourth.pk)

        assert self.broken().startswith(f"The audit trail is broken at entry #4 (id {fourth.pk}):")

    def test_a_deleted_middle_entry_is_found_where_it_is_missing(self):
        tamper("DELETE FROM inventory_operation WHERE seq = 3")

        message = self.broken()

        assert message.startswith(
            f"The audit trail is broken at entry #4 (id {self.entries[3].pk}):"
        )
        assert "expected entry #3 here, found #4 (an entry is missing)" in message

    def test_a_deleted_last_entry_is_found_by_the_chain_head(self):
        tamper("DELETE FROM inventory_operation WHERE seq = 5")

        message = self.broken()

        assert message.startswith("The audit trail is broken at entry #5 (no such row):")
        assert "the trail ends at #4 but the chain head records #5" in message

    def test_the_first_of_several_breaks_is_the_one_named(self):
        tamper("UPDATE inventory_operation SET msisdn = '1' WHERE seq IN (2, 4)")
        assert "broken at entry #2 " in self.broken()

    def test_entries_appended_after_a_check_are_verified_by_the_next_one(self):
        self.verify()
        append_five()
        assert "10 entries verified" in self.verify()


def _database_url() -> str:
    """The test database, as DATABASE_URL would name it for another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


class VerifyAuditExitStatusTestCase(TrailTransactionTestCase):
    """The command as an operator or a cron job runs it: its own process, its exit status."""

    def run_command(self):
        env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_PRODUCTION": "false"}
        return subprocess.run(
            [sys.executable, str(MANAGE), "verify_audit"],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip

    def test_it_exits_zero_when_intact_and_non_zero_naming_the_break_when_not(self):
        entries = append_five()

        intact = self.run_command()
        assert intact.returncode == 0, intact.stderr
        assert "intact: 5 entries verified" in intact.stdout

        tamper("UPDATE inventory_operation SET setup_cost = 9 WHERE id = %s", entries[1].pk)
        broken = self.run_command()
        assert broken.returncode == 1
        assert f"broken at entry #2 (id {entries[1].pk})" in broken.stderr
        assert Operation.objects.count() == 5
