"""CSV rows for exports, streamed: the file is written as it is read, never held whole.
Rows are written a few hundred to a chunk, so the server sends a chunk per few hundred rows
rather than one per row."""

import csv
import io
import json
from collections.abc import Iterable, Iterator

from inventory.models import ESTIMATED_SOURCES

LINES_PER_CHUNK = 500
# Spreadsheets run cells that start with these as formulas.
_FORMULA_STARTS = frozenset(("=", "+", "-", "@", "\t", "\r"))


def stream_csv(
    header: list[str], rows: Iterable[list], *, text: Iterable[int] | None = None
) -> Iterator[str]:
    """CSV lines from `rows` (lists, changed in place). Text that a spreadsheet would run as
    a formula gets a quote: in the columns at the positions `text` names (the ones that
    can hold text), or in every column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    positions = tuple(range(len(header)) if text is None else text)
    for number, row in enumerate(rows, start=1):
        for position in positions:
            value = row[position]
            # The first character looked up in a set: the export's hot loop (an empty
            # text's [:1] is "", which is in no set).
            if value.__class__ is str and value[:1] in _FORMULA_STARTS:
                row[position] = "'" + value
        writer.writerow(row)
        if number % LINES_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


INVENTORY_HEADER = [
    *("msisdn", "country", "type", "features", "monthly_cost_eur", "price_source"),
    *("price_estimated", "setup_cost_eur", "purchased_at", "label", "team", "mo_http_url"),
    *("voice_callback_type", "voice_callback_value", "voice_status_callback"),
]


def csv_rows(numbers: Iterable[tuple]) -> Iterator[str]:
    """The inventory export, from rows of `selectors.EXPORT_COLUMNS`. monthly_cost_eur is
    the price the portal counts; price_source says where it is from (bought, listed,
    contract, catalogue, or empty: unknown); setup_cost_eur is what the portal paid to set
    the number up, when it bought it."""
    return stream_csv(INVENTORY_HEADER, (_inventory_row(*number) for number in numbers))


def _inventory_row(
    msisdn, country, type_, sms, voice, mms, monthly, source, setup, purchased_at, *rest
) -> list:
    features = " ".join(name for on, name in ((sms, "SMS"), (voice, "VOICE"), (mms, "MMS")) if on)
    bought = purchased_at.isoformat() if purchased_at else ""
    estimated = "yes" if source in ESTIMATED_SOURCES else "no"
    return [msisdn, country, type_, features, monthly, source, estimated, setup, bought, *rest]


AUDIT_HEADER = [
    *("seq", "created_at_utc", "action", "outcome", "settled_as", "username", "ip"),
    *("user_agent", "request_id", "country", "msisdn", "monthly_cost_eur", "setup_cost_eur"),
    *("http_status", "provider_code", "provider_label", "duration_ms", "reason", "request"),
    *("before", "after", "hash"),
]


def audit_csv_row(entry) -> list:
    """One trail entry as exported; `settled_as` is annotated by the query that read it."""
    return [
        *(entry.seq, entry.created_at.isoformat(), entry.action, entry.outcome),
        *(getattr(entry, "settled_as", None) or "", entry.actor_username, entry.ip),
        *(entry.user_agent, entry.request_id, entry.country, entry.msisdn, entry.monthly_cost),
        *(entry.setup_cost, entry.http_status, entry.provider_code, entry.provider_label),
        *(entry.duration_ms, entry.reason, json.dumps(entry.request, sort_keys=True)),
        json.dumps(entry.before, sort_keys=True),
        json.dumps(entry.after, sort_keys=True),
        entry.hash,
    ]


def audit_csv_rows(entries) -> Iterator[str]:
    return stream_csv(AUDIT_HEADER, (audit_csv_row(entry) for entry in entries))


BATCH_HEADER = [
    *("position", "msisdn", "country", "state", "outcome", "monthly_cost_eur"),
    *("setup_cost_eur", "reason", "operation"),
]


def batch_csv_rows(items) -> Iterator[str]:
    """A batch's results, one row per number (the outcome as it stands, settlements
    included)."""
    return stream_csv(BATCH_HEADER, (_batch_row(item) for item in items))


def _batch_row(item) -> list:
    operation = item.operation
    return [
        *(item.position, item.msisdn, item.country, item.get_state_display()),
        operation.final_outcome if operation else "",
        *(item.monthly_cost, item.setup_cost, item.reason),
        operation.seq if operation else "",
    ]
