"""The database itself keeps the trail append-only and its chain head moving forward only,
and concurrent appends never fork the chain."""

import threading

import pytest
from django.db import DatabaseError, connection, transaction

from inventory.audit import (
    Actor,
    audit_append,
    audit_append_many,
    audit_complete,
    entry_hash,
    verify_chain,
)
from inventory.models import Action, AuditChainHead, Operation, Outcome
from inventory.tests.base import BaseTestCase
from inventory.tests.transactional import TrailTransactionTestCase


class TrailGuardsTestCase(BaseTestCase):
    def setUp(self):
        actor = self.actor(self.operator)
        self.done = audit_append(
            action=Action.ANNOTATE,
            actor=actor,
            msisdn="447700900001",
            outcome=Outcome.SUCCEEDED,
            reason="Local notes changed.",
        )
        self.pending = audit_append(
            action=Action.PURCHASE,
            actor=actor,
            country="GB",
            msisdn="447700900002",
            request={"country": "GB", "msisdn": "447700900002"},
        )

    def sql(self, statement, *params):
        """Run raw SQL as an intruder with database access would; a refusal is raised."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.rowcount

    def refused(self, statement, *params):
        with pytest.raises(DatabaseError, match="append-only"):
            self.sql(statement, *params)

    def test_a_direct_update_of_a_recorded_fact_is_refused(self):
        self.refused(
            "UPDATE inventory_operation SET msisdn = %s WHERE id = %s", "447700999999", self.done.pk
        )
        self.refused(
            "UPDATE inventory_operation SET monthly_cost = 0 WHERE id = %s", self.pending.pk
        )
        self.refused(
            "UPDATE inventory_operation SET actor_username = 'someone' WHERE id = %s", self.done.pk
        )
        self.done.refresh_from_db()
        assert self.done.msisdn == "447700900001"

    def test_a_direct_update_of_a_finished_outcome_is_refused(self):
        self.refused(
            "UPDATE inventory_operation SET outcome = 'failed' WHERE id = %s", self.done.pk
        )
        self.refused(
            "UPDATE inventory_operation SET reason = 'nothing happened' WHERE id = %s", self.done.pk
        )

    def test_an_outcome_cannot_be_erased_back_to_pending(self):
        self.refused(
            "UPDATE inventory_operation SET outcome = 'pending' WHERE id = %s", self.done.pk
        )

    def test_a_direct_delete_is_refused(self):
        self.refused("DELETE FROM inventory_operation WHERE id = %s", self.done.pk)
        self.refused("DELETE FROM inventory_operation")
        assert Operation.objects.count() == 2

    def test_the_orm_cannot_delete_or_edit_entries_either(self):
        with pytest.raises(DatabaseError), transaction.atomic():
            Operation.objects.filter(pk=self.done.pk).delete()
        with pytest.raises(DatabaseError), transaction.atomic():
            Operation.objects.filter(pk=self.done.pk).update(reason="edited")
        self.done.user_agent = "edited"
        with pytest.raises(DatabaseError), transaction.atomic():
            self.done.save()

    def test_truncate_is_refused(self):
        if connection.vendor != "postgresql":
            pytest.skip("SQLite has no TRUNCATE; its DELETE guard covers emptying the table")
        self.refused("TRUNCATE inventory_operation")
        self.refused("TRUNCATE inventory_operation CASCADE")
        assert Operation.objects.count() == 2

    def test_a_pending_operation_receives_its_outcome_once(self):
        audit_complete(
            self.pending, outcome=Outcome.SUCCEEDED, http_status=200, provider_code="200"
        )

        self.pending.refresh_from_db()
        assert self.pending.outcome == Outcome.SUCCEEDED
        assert self.pending.http_status == 200
        assert verify_chain() == (2, None)
        with pytest.raises(RuntimeError, match="already has its outcome"):
            audit_complete(self.pending, outcome=Outcome.FAILED, reason="a second opinion")
        self.refused(
            "UPDATE inventory_operation SET outcome = 'failed' WHERE id = %s", self.pending.pk
        )

    def test_the_one_permitted_write_is_the_outcome_with_every_fact_unchanged(self):
        assert (
            self.sql(
                "UPDATE inventory_operation SET outcome = 'failed', reason = 'declined'"
                " WHERE id = %s",
                self.pending.pk,
            )
            == 1
        )
        pending = audit_append(
            action=Action.CANCEL, actor=Actor.system("tests"), msisdn="447700900003"
        )
        self.refused(
            "UPDATE inventory_operation SET outcome = 'failed', msisdn = '447700900004'"
            " WHERE id = %s",
            pending.pk,
        )
        self.refused(
            "UPDATE inventory_operation SET outcome = 'succeeded', hash = 'forged' WHERE id = %s",
            pending.pk,
        )

    # --- the chain head and inserts ---------------------------------------------------------

    def head(self) -> tuple[int, str]:
        return AuditChainHead.objects.values_list("seq", "hash").get()

    def test_the_chain_head_cannot_be_moved_back_or_forward_by_hand(self):
        self.refused("UPDATE inventory_auditchainhead SET seq = 0, hash = %s", "0" * 64)
        self.refused("UPDATE inventory_auditchainhead SET seq = 1, hash = %s", self.done.hash)
        self.refused("UPDATE inventory_auditchainhead SET seq = seq + 1")
        self.refused("UPDATE inventory_auditchainhead SET hash = %s", "f" * 64)
        assert self.head() == (2, self.pending.hash)

    def test_the_chain_head_cannot_be_deleted_or_doubled(self):
        self.refused("DELETE FROM inventory_auditchainhead")
        self.refused(
            "INSERT INTO inventory_auditchainhead (id, seq, hash) VALUES (2, 0, %s)", "0" * 64
        )
        if connection.vendor == "postgresql":
            self.refused("TRUNCATE inventory_auditchainhead")
        assert self.head() == (2, self.pending.hash)

    def insert(self, *, seq, prev_hash):
        """A raw INSERT of a well-formed entry, as someone with write access could send it."""
        entry = Operation(
            seq=seq, action=Action.ANNOTATE, actor_username="intruder", prev_hash=prev_hash
        )
        entry.hash = entry_hash(entry)
        with transaction.atomic():
            entry.save(force_insert=True)
        return entry

    def test_an_insert_that_does_not_extend_the_chain_head_is_refused(self):
        for seq, prev_hash in [
            (4, self.pending.hash),  # leaves a gap
            (3, self.done.hash),  # links to an older entry: a fork
            (3, "0" * 64),
            (1, "0" * 64),
        ]:
            with pytest.raises(DatabaseError, match="must extend the chain head"):
                self.insert(seq=seq, prev_hash=prev_hash)
        assert Operation.objects.count() == 2
        assert self.head() == (2, self.pending.hash)

    def test_an_insert_that_extends_the_head_moves_it_there(self):
        entry = self.insert(seq=3, prev_hash=self.pending.hash)
        assert self.head() == (3, entry.hash)

    def test_a_many_row_insert_moves_the_head_row_by_row(self):
        audit_append_many(
            [{"action": Action.DRIFT_APPEARED, "outcome": Outcome.SUCCEEDED}] * 3,
            actor=Actor.system("tests"),
        )
        last = Operation.objects.order_by("seq").last()
        assert self.head() == (5, last.hash)
        assert verify_chain() == (5, None)

    def test_a_temporary_table_cannot_stand_in_for_the_chain_head(self):
        if connection.vendor != "postgresql":
            pytest.skip("temporary tables shadowing the head is a PostgreSQL concern")
        self.sql(
            "CREATE TEMPORARY TABLE inventory_auditchainhead (id bigint, seq bigint, hash text)"
        )
        self.sql("INSERT INTO inventory_auditchainhead VALUES (1, 41, 'forged')")
        with pytest.raises(DatabaseError, match="must extend the chain head"):
            self.insert(seq=42, prev_hash="forged")
        self.sql("DROP TABLE pg_temp.inventory_auditchainhead")
        assert self.head() == (2, self.pending.hash)


WRITERS = 6
ENTRIES_EACH = 10


class ConcurrentAppendTestCase(TrailTransactionTestCase):
    def test_writers_on_their_own_connections_keep_one_unbroken_chain(self):
        audit_append(action=Action.SYNC, actor=Actor.system("tests"), outcome=Outcome.SUCCEEDED)
        start = threading.Barrier(WRITERS)
        errors = []

        def write(writer: int):
            actor = Actor.system(f"writer-{writer}")
            try:
                start.wait()
                for i in range(ENTRIES_EACH // 2):
                    audit_append(
                        action=Action.ANNOTATE,
                        actor=actor,
                        msisdn=f"4477009{writer:02d}{i:03d}",
                        outcome=Outcome.SUCCEEDED,
                    )
                    audit_append_many(
                        [
                            {
                                "action": Action.DRIFT_APPEARED,
                                "outcome": Outcome.SUCCEEDED,
                                "msisdn": f"4477008{writer:02d}{i:03d}",
                            }
                        ],
                        actor=actor,
                    )
            except Exception as error:  # reported below, with the writer that hit it
                errors.append((writer, error))
            finally:
                connection.close()

        threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        total = 1 + WRITERS * ENTRIES_EACH
        assert verify_chain() == (total, None)
        seqs = list(Operation.objects.order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, total + 1))
        links = list(Operation.objects.order_by("seq").values_list("prev_hash", "hash"))
        assert all(links[i][0] == links[i - 1][1] for i in range(1, total))
        writers = Operation.objects.exclude(actor_username="tests")
        assert writers.values("actor_username").distinct().count() == WRITERS
