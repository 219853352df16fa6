"""`manage.py verify_audit` proves the trail intact, or names its first broken entry; its
checkpoints anchor the chain outside the database."""

import importlib
import io
import os
import re
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from inventory import trail_guards
from inventory.audit import (
    Actor,
    Checkpoint,
    audit_append,
    audit_append_many,
    entry_hash,
    entry_outcome_hash,
    verify_chain,
    walk_chain,
)
from inventory.models import Action, AuditChainHead, Operation, Outcome
from inventory.tests.base import BaseTestCase
from inventory.tests.transactional import TrailTransactionTestCase

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"
OTHER_KEY = "a-key-that-is-not-the-portals-audit-key-0123456789"
CHECKPOINT_LINE = re.compile(
    r"audit-checkpoint v1 seq=(\d+) hash=([0-9a-f]{64}) at=\S+Z sig=[0-9a-f]{64}"
)


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
    """What the tables' owner could do: switch the guards off and write."""
    with trail_guards.guards_lifted(connection), connection.cursor() as cursor:
        cursor.execute(statement, params)


def write(statement, *params):
    """What anyone allowed to write to the tables could do, with the guards on."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def rewrite_from(entries, position, *, msisdn):
    """Someone who owns the tables *and* holds the key changes the msisdn of the entry at
    `position` (0-based), re-hashing it and every later entry so the chain verifies again."""
    entries[position].msisdn = msisdn
    prev = entries[position - 1].hash if position else "0" * 64
    for entry in entries[position:]:
        entry.prev_hash = prev
        entry.hash = prev = entry_hash(entry)
        entry.outcome_hash = entry_outcome_hash(entry)
        tamper(
            "UPDATE inventory_operation SET msisdn = %s, prev_hash = %s, hash = %s,"
            " outcome_hash = %s WHERE id = %s",
            entry.msisdn,
            entry.prev_hash,
            entry.hash,
            entry.outcome_hash,
            entry.pk,
        )
    tamper("UPDATE inventory_auditchainhead SET hash = %s", prev)


class VerifyAuditTestCase(BaseTestCase):
    def setUp(self):
        self.entries = append_five()

    def verify(self, *args) -> str:
        out = io.StringIO()
        call_command("verify_audit", *args, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    def broken(self, *args) -> str:
        with pytest.raises(CommandError) as error:
            self.verify(*args)
        return str(error.value)

    def checkpoint(self) -> str:
        return self.verify("--checkpoint").strip()

    def test_an_intact_trail_passes_and_says_how_many_entries_were_verified(self):
        assert self.verify() == "The audit trail is intact: 5 entries verified.\n"

    def test_costs_and_times_verify_however_they_are_written(self):
        """The walk reads costs and times as the database writes them (PostgreSQL formats
        them itself): whole, zero, trailing zeros and a time on the second verify alike."""
        actor = Actor.system("tests")
        costs = [Decimal("10"), Decimal("0"), Decimal("10.50"), Decimal("0.0001"), None]
        for cost in costs:
            audit_append(
                action=Action.PURCHASE, actor=actor, msisdn="", monthly_cost=cost,
                setup_cost=cost, outcome=Outcome.SUCCEEDED,
            )  # fmt: skip
        on_the_second = timezone.now().replace(microsecond=0)
        entry = Operation.objects.latest("seq")
        entry.created_at = entry.completed_at = on_the_second
        entry.hash = entry_hash(entry)
        entry.outcome_hash = entry_outcome_hash(entry)
        tamper(
            f"UPDATE {Operation._meta.db_table} SET created_at = %s, completed_at = %s, "  # noqa: S608
            "hash = %s, outcome_hash = %s WHERE id = %s",
            on_the_second,
            on_the_second,
            entry.hash,
            entry.outcome_hash,
            entry.pk,
        )
        tamper("UPDATE inventory_auditchainhead SET hash = %s", entry.hash)

        assert verify_chain() == (len(costs) + 5, None)  # and setUp's five

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
            third.actor_username,
            third.hash,
            entry_outcome_hash(third),
            third.pk,
        )

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

    # --- the chain head ---------------------------------------------------------------------

    def test_a_chain_head_set_back_to_zero_leaves_every_entry_beyond_it(self):
        tamper("UPDATE inventory_auditchainhead SET seq = 0, hash = %s", "0" * 64)

        message = self.broken()

        first = self.entries[0]
        assert message.startswith(f"The audit trail is broken at entry #1 (id {first.pk}):")
        assert "it lies beyond the chain head, which records #0" in message
        assert "The 0 entries before it are intact." in message

    def test_entries_after_a_rolled_back_head_are_read_and_flagged(self):
        third = self.entries[2]
        tamper("UPDATE inventory_auditchainhead SET seq = 3, hash = %s", third.hash)

        message = self.broken()

        fourth = self.entries[3]
        assert message.startswith(f"The audit trail is broken at entry #4 (id {fourth.pk}):")
        assert "beyond the chain head, which records #3" in message

    def test_a_missing_chain_head_is_named(self):
        tamper("DELETE FROM inventory_auditchainhead")

        message = self.broken()

        assert message.startswith(
            f"The audit trail is broken at entry #1 (id {self.entries[0].pk})"
        )
        assert "the chain head, which records the last entry, is missing" in message

    def test_a_replaced_chain_head_hash_is_named(self):
        tamper("UPDATE inventory_auditchainhead SET hash = %s", "f" * 64)

        message = self.broken()

        assert message.startswith(
            f"The audit trail is broken at entry #5 (id {self.entries[4].pk})"
        )
        assert "its hash does not match the chain head" in message

    # --- forgeries without the key --------------------------------------------------------

    def test_an_appended_entry_with_well_formed_hashes_made_without_the_key_is_caught(self):
        # The database accepts it (it extends the head), but its hash was made with another
        # key, as anyone who can write to the database but does not hold AUDIT_KEY must.
        with override_settings(AUDIT_KEY=OTHER_KEY):
            forged = audit_append(
                action=Action.CANCEL,
                actor=Actor.system("tests"),
                msisdn="447700900001",
                outcome=Outcome.SUCCEEDED,
            )

        message = self.broken()

        assert AuditChainHead.objects.get().seq == 6
        assert message.startswith(f"The audit trail is broken at entry #6 (id {forged.pk}):")
        assert "recorded facts do not match its hash" in message
        assert "The 5 entries before it are intact." in message

    def test_an_outcome_given_without_the_key_is_caught(self):
        pending = audit_append(
            action=Action.PURCHASE, actor=Actor.system("tests"), msisdn="447700900009"
        )
        pending.outcome, pending.reason = Outcome.FAILED, "declined"
        with override_settings(AUDIT_KEY=OTHER_KEY):
            seal = entry_outcome_hash(pending)
        # The one update the database allows: a pending operation's outcome.
        write(
            "UPDATE inventory_operation SET outcome = 'failed', reason = 'declined',"
            " outcome_hash = %s WHERE id = %s",
            seal,
            pending.pk,
        )

        message = self.broken()

        assert message.startswith(f"The audit trail is broken at entry #6 (id {pending.pk}):")
        assert "its outcome does not match its seal" in message

    def test_a_trail_checked_with_another_key_says_the_key_may_be_the_cause(self):
        with override_settings(AUDIT_KEY=OTHER_KEY):
            message = self.broken()

        assert message.startswith(
            f"The audit trail is broken at entry #1 (id {self.entries[0].pk})"
        )
        assert "or it was written with another AUDIT_KEY" in message

    def test_every_kind_of_value_a_column_holds_verifies(self):
        settled = self.entries[0]
        audit_append(
            action=Action.CONFIGURE,
            actor=Actor(
                user=self.operator,
                username="olivia",
                ip="2001:db8::1",
                user_agent="Mozilla/5.0 (Ünïcode; 日本語)",
                request_id="r-1",
            ),
            country="NL",
            msisdn="31612345678",
            request={"voiceCallbackValue": "https://example.com/é", "nested": [1, 2.5, None]},
            before={"b": {"z": 1, "a": [True, False]}, "a": "x"},
            after={},
            monthly_cost=Decimal("0.123456"),  # more places than the column keeps
            setup_cost=Decimal("12"),
            form_token="token-1",
            settles=settled,
            outcome=Outcome.UNKNOWN,
            reason="No answer — the API may have acted.\nSettled by the next sync.",
            provider_code="420",
            provider_label="method failed",
            http_status=420,
            duration_ms=1234,
        )

        assert verify_chain() == (6, None)

    # --- checkpoints --------------------------------------------------------------------------

    def test_a_checkpoint_is_one_signed_line_naming_the_last_entry(self):
        line = self.checkpoint()

        found = CHECKPOINT_LINE.fullmatch(line)
        assert found, line
        assert found.groups() == ("5", self.entries[4].hash)
        assert settings.AUDIT_KEY not in line

    def test_a_trail_that_grew_still_extends_its_checkpoint(self):
        line = self.checkpoint()
        append_five()

        out = self.verify("--since", line)

        assert out.startswith("The audit trail is intact: 10 entries verified, and it extends")
        assert "the checkpoint at #5 of " in out

    def test_a_checkpoint_can_be_checked_and_renewed_in_one_run(self):
        line = self.checkpoint()
        append_five()

        renewed = self.verify("--since", line, "--checkpoint").strip()

        assert CHECKPOINT_LINE.fullmatch(renewed).groups()[0] == "10"

    def test_a_rewrite_by_someone_holding_the_key_passes_alone_but_not_against_a_checkpoint(self):
        line = self.checkpoint()
        rewrite_from(self.entries, 1, msisdn="447700999999")
        assert "intact: 5 entries verified" in self.verify()

        message = self.broken("--since", line)

        fifth = self.entries[4]
        assert message.startswith(f"The audit trail is broken at entry #5 (id {fifth.pk}):")
        assert "its hash differs from the checkpoint of " in message
        assert "rewritten since that checkpoint" in message

    def test_entries_removed_with_the_head_moved_back_to_match_are_caught_by_a_checkpoint(self):
        line = self.checkpoint()
        tamper("DELETE FROM inventory_operation WHERE seq > 3")
        tamper("UPDATE inventory_auditchainhead SET seq = 3, hash = %s", self.entries[2].hash)
        assert "intact: 3 entries verified" in self.verify()

        message = self.broken("--since", line)

        assert message.startswith("The audit trail is broken at entry #4 (no such row):")
        assert "the trail ends at #3 but the checkpoint of " in message
        assert "records #5 (entries were removed since that checkpoint)" in message

    def test_an_altered_checkpoint_line_is_refused_and_nothing_is_called_intact(self):
        line = self.checkpoint()
        altered = [
            line.replace("seq=5", "seq=4"),
            line.replace(self.entries[4].hash, self.entries[3].hash),
            re.sub(r"at=\S+", "at=2020-01-01T00:00:00Z", line),
            re.sub(r"at=\S+", "at=2026-13-45T99:99:99Z", line),
            line[:-1] + ("0" if line[-1] != "0" else "1"),
        ]
        for forged in altered:
            message = self.broken("--since", forged)
            assert message == (
                "The checkpoint's signature does not match: the line was altered or forged, or "
                "it was signed with another AUDIT_KEY. It proves nothing about the trail."
            )

    def test_a_checkpoint_signed_with_another_key_is_refused(self):
        last = self.entries[4]
        with override_settings(AUDIT_KEY=OTHER_KEY):
            line = Checkpoint(seq=last.seq, hash=last.hash, at=timezone.now()).line()

        assert "signature does not match" in self.broken("--since", line)

    def test_a_line_that_is_not_a_checkpoint_is_refused_with_what_one_looks_like(self):
        for line in ["", "seq=5", "audit-checkpoint v2 seq=5", self.checkpoint()[:-10]]:
            message = self.broken("--since", line)
            assert message.startswith("That is not a checkpoint line.")
            assert "audit-checkpoint v1 seq=N hash=... at=... sig=..." in message

    def test_a_broken_trail_gets_no_checkpoint(self):
        tamper("UPDATE inventory_operation SET msisdn = '1' WHERE seq = 2")
        out = io.StringIO()

        with pytest.raises(CommandError, match="broken at entry #2 "):
            call_command("verify_audit", "--checkpoint", stdout=out, stderr=io.StringIO())

        assert out.getvalue() == ""


keying = importlib.import_module("inventory.migrations.0006_trail_guards_v2")


def unkey(entries):
    """Give `entries` the plain SHA-256 hashes the trail had before it was keyed."""
    prev = "0" * 64
    for entry in entries:
        entry.refresh_from_db()
        entry.prev_hash = prev
        entry.hash = prev = keying._unkeyed(
            {n: keying._plain(getattr(entry, n)) for n in keying.FACTS}
        )
        outcome = {n: keying._plain(getattr(entry, n)) for n in keying.OUTCOME}
        entry.outcome_hash = keying._unkeyed(entry.hash, outcome) if entry.outcome_hash else ""
        tamper(
            "UPDATE inventory_operation SET prev_hash = %s, hash = %s, outcome_hash = %s"
            " WHERE id = %s",
            entry.prev_hash,
            entry.hash,
            entry.outcome_hash,
            entry.pk,
        )
    tamper("UPDATE inventory_auditchainhead SET hash = %s", prev)


class WalkWithWorkersTestCase(BaseTestCase):
    """Hashes checked by worker processes, several batches at once, name the same break as a
    walk in one process: the first in the chain's order, with the entries before it."""

    def setUp(self):
        for _ in range(6):
            append_five()  # #1..#30, in batches of 4 below

    def walks(self) -> tuple:
        return walk_chain(batch_size=4), walk_chain(batch_size=4, workers=2)

    def test_every_kind_of_break_is_named_alike_with_and_without_workers(self):
        alterations = {
            "intact": [],
            "a fact in a later batch": [
                "UPDATE inventory_operation SET msisdn = '1' WHERE seq = 23"
            ],
            "an outcome": ["UPDATE inventory_operation SET outcome = 'failed' WHERE seq = 9"],
            "a hash before a missing entry": [
                "UPDATE inventory_operation SET msisdn = '1' WHERE seq = 6",
                "DELETE FROM inventory_operation WHERE seq = 18",
            ],
            "a missing entry before a hash": [
                "DELETE FROM inventory_operation WHERE seq = 7",
                "UPDATE inventory_operation SET msisdn = '1' WHERE seq = 20",
            ],
            "a link": ["UPDATE inventory_operation SET prev_hash = 'x' WHERE seq = 13"],
            "the last entry": ["DELETE FROM inventory_operation WHERE seq = 30"],
            "the head moved back": ["UPDATE inventory_auditchainhead SET seq = 12"],
        }
        found = {}
        for name, statements in alterations.items():
            with self.subTest(name), transaction.atomic():
                for statement in statements:
                    tamper(statement)
                alone, with_workers = self.walks()
                assert with_workers == alone
                found[name] = (alone.checked, alone.broken and alone.broken.seq)
                transaction.set_rollback(True)

        assert found == {
            "intact": (30, None),
            "a fact in a later batch": (22, 23),
            "an outcome": (8, 9),
            "a hash before a missing entry": (5, 6),
            "a missing entry before a hash": (6, 8),
            "a link": (12, 13),
            "the last entry": (29, 30),
            "the head moved back": (12, 13),
        }


class KeyingAnUnkeyedTrailTestCase(BaseTestCase):
    """A trail written before hashes were keyed: the migration that keys it proves it intact
    under the old hashes first, and re-keys it only then."""

    def setUp(self):
        self.entries = append_five()
        self.entries.append(
            audit_append(action=Action.CANCEL, actor=Actor.system("tests"), msisdn="4477009")
        )
        unkey(self.entries)

    def rekey(self) -> int:
        with trail_guards.guards_lifted(connection):
            return keying.rekey(Operation, AuditChainHead, connection)

    def test_an_intact_unkeyed_trail_is_re_keyed_and_then_verifies(self):
        assert "written with another AUDIT_KEY" in verify_chain()[1].problem

        assert self.rekey() == 6

        assert verify_chain() == (6, None)
        assert Operation.objects.get(seq=6).outcome_hash == ""

    def test_a_broken_unkeyed_trail_is_refused_and_left_as_it_was(self):
        tamper("UPDATE inventory_operation SET msisdn = '1' WHERE seq = 3")
        hashes = list(Operation.objects.order_by("seq").values_list("hash", flat=True))

        with pytest.raises(RuntimeError) as refusal:
            self.rekey()

        assert str(refusal.value).startswith(
            "The audit trail is broken at entry #3: its recorded facts do not match its hash. "
            "Its hashes are not re-keyed, because re-keying a broken chain would make the "
            "damage verify."
        )
        assert list(Operation.objects.order_by("seq").values_list("hash", flat=True)) == hashes

    def test_an_unkeyed_trail_whose_head_disagrees_is_refused(self):
        tamper("DELETE FROM inventory_operation WHERE seq = 6")

        with pytest.raises(
            RuntimeError,
            match="broken at entry #6: the trail ends at #5 but the chain head records #6",
        ):
            self.rekey()


class VerifyWhileAppendingTestCase(TrailTransactionTestCase):
    def test_entries_appended_during_a_walk_are_not_taken_for_tampering(self):
        append_five()
        done = threading.Event()

        def append_more():
            try:
                for i in range(60):
                    audit_append_many(
                        [
                            {
                                "action": Action.DRIFT_APPEARED,
                                "outcome": Outcome.SUCCEEDED,
                                "msisdn": f"4477008{i:05d}",
                            }
                        ]
                        * 3,
                        actor=Actor.system("writer"),
                    )
            finally:
                done.set()
                connection.close()

        writer = threading.Thread(target=append_more)
        writer.start()
        walks = []
        while not done.is_set():
            walks.append(verify_chain(batch_size=4))
        writer.join()

        assert walks
        assert [broken for _, broken in walks if broken is not None] == []
        assert verify_chain() == (5 + 60 * 3, None)


def _database_url() -> str:
    """The test database, as DATABASE_URL would name it for another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


class VerifyAuditExitStatusTestCase(TrailTransactionTestCase):
    """The command as an operator or a cron job runs it: its own process, its exit status."""

    def run_command(self, *args):
        env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_PRODUCTION": "false"}
        return subprocess.run(
            [sys.executable, str(MANAGE), "verify_audit", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

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

    def test_a_checkpoint_goes_alone_to_standard_output_and_a_forged_one_exits_non_zero(self):
        append_five()

        made = self.run_command("--checkpoint")
        assert made.returncode == 0, made.stderr
        assert CHECKPOINT_LINE.fullmatch(made.stdout.strip())
        assert len(made.stdout.splitlines()) == 1
        assert "intact: 5 entries verified" in made.stderr

        checked = self.run_command("--since", made.stdout.strip())
        assert checked.returncode == 0, checked.stderr
        assert "extends the checkpoint at #5" in checked.stdout

        forged = self.run_command("--since", made.stdout.strip().replace("seq=5", "seq=4"))
        assert forged.returncode == 1
        assert "signature does not match" in forged.stderr
        assert "intact" not in forged.stdout + forged.stderr
