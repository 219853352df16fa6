"""Key the audit trail and guard its chain head.

Until now entry hashes were plain SHA-256, which anyone able to write to the database
could recompute for a forged entry. From here on they are HMAC-SHA256 under AUDIT_KEY
(inventory/audit.py). This migration proves the existing chain intact under the old hashes,
then re-hashes it under the key, entry by entry, so the whole trail verifies one way. It
refuses to re-key a broken chain: that would make the tampering verify.

It also replaces the trail's triggers with the ones that guard the head and inserts too
(inventory/trail_guards.py). Stop the portal and the sync while it runs: an append by the
previous release in the meantime would be refused.
"""

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal

from django.db import migrations

from inventory import audit, trail_guards

GENESIS = "0" * 64
BATCH = 2000

# The facts and outcome columns as this migration found them.
FACTS = (
    *("seq", "created_at", "action", "actor_id", "actor_username", "ip", "user_agent"),
    *("request_id", "country", "msisdn", "request", "before", "after", "monthly_cost"),
    *("setup_cost", "form_token", "settles_id", "prev_hash"),
)
OUTCOME = (
    *("outcome", "provider_code", "provider_label", "http_status", "duration_ms", "reason"),
    "completed_at",
)


def _plain(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _unkeyed(*parts) -> str:
    """The hash the trail used before it was keyed."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _unkeyed_problem(entry, expected_seq: int, expected_prev: str) -> str:
    if entry.seq != expected_seq:
        return f"expected entry #{expected_seq} here, found #{entry.seq}"
    if entry.prev_hash != expected_prev:
        return "its link to the previous entry does not match"
    if entry.hash != _unkeyed({name: _plain(getattr(entry, name)) for name in FACTS}):
        return "its recorded facts do not match its hash"
    sealed = _unkeyed(entry.hash, {name: _plain(getattr(entry, name)) for name in OUTCOME})
    if entry.outcome != "pending" and entry.outcome_hash != sealed:
        return "its outcome does not match its seal"
    if entry.outcome == "pending" and entry.outcome_hash:
        return "it is pending but carries an outcome seal"
    return ""


def _refuse(seq: int, problem: str):
    raise RuntimeError(
        f"The audit trail is broken at entry #{seq}: {problem}. Its hashes are not re-keyed, "
        "because re-keying a broken chain would make the damage verify. Restore the trail "
        "from a backup that verifies (manage.py verify_audit on the previous release), then "
        "migrate again."
    )


def rekey(Operation, AuditChainHead, connection) -> int:
    """Check each entry under the old hash, then write its keyed hash, link and seal.
    Returns how many entries were re-keyed."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    old_prev, new_prev, seq = GENESIS, GENESIS, 0
    while True:
        entries = list(Operation.objects.filter(seq__gt=seq).order_by("seq")[:BATCH])
        rows = []
        for entry in entries:
            problem = _unkeyed_problem(entry, seq + 1, old_prev)
            if problem:
                _refuse(entry.seq, problem)
            old_prev, seq = entry.hash, entry.seq
            entry.prev_hash = new_prev
            entry.hash = new_prev = audit.entry_hash(entry)
            sealed = entry.outcome_hash and audit.entry_outcome_hash(entry)
            rows.append((entry.prev_hash, entry.hash, sealed, entry.pk))
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE inventory_operation SET prev_hash = %s, hash = %s, outcome_hash = %s"
                " WHERE id = %s",
                rows,
            )
        if len(entries) < BATCH:
            break
    if head is None and seq == 0:
        return 0
    if head is None:
        _refuse(seq, "the chain head, which records the last entry, is missing")
    if head.seq != seq:
        _refuse(
            min(seq, head.seq) + 1,
            f"the trail ends at #{seq} but the chain head records #{head.seq}",
        )
    if head.hash != old_prev:
        _refuse(seq, "its hash does not match the chain head")
    AuditChainHead.objects.filter(pk=1).update(hash=new_prev)
    return seq


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    trail_guards.remove(connection)
    rekey(
        apps.get_model("inventory", "Operation"),
        apps.get_model("inventory", "AuditChainHead"),
        connection,
    )
    trail_guards.install(connection)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0005_owned_number_api_fields")]

    # No way back: going back would strip the key from the trail's hashes.
    operations = [migrations.RunPython(forwards)]
