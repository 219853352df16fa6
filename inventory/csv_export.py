"""CSV rows for exports, streamed: the file is written as it is read, never held whole."""

import csv
import json
from collections.abc import Iterable, Iterator

from inventory.models import ESTIMATED_SOURCES


class _Echo:
    """A file-like object whose write() hands the line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def stream_csv(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_safe(value) for value in row])


def _safe(value) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; such text gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


INVENTORY_HEADER = [
    *("msisdn", "country", "type", "features", "monthly_cost_eur", "price_source"),
    *("price_estimated", "setup_cost_eur", "purchased_at", "label", "team", "mo_http_url"),
    *("voice_callback_type", "voice_callback_value", "voice_status_callback"),
]


def _inventory_row(n) -> list:
    return [
        *(n.msisdn, n.country, n.type, " ".join(n.features), n.effective_monthly_cost),
        *(n.price_source, "yes" if n.price_source in ESTIMATED_SOURCES else "no", n.setup_cost),
        n.purchased_at.isoformat() if n.purchased_at else "",
        *(n.label, n.team, n.mo_http_url, n.voice_callback_type, n.voice_callback_value),
        n.voice_status_callback,
    ]


def csv_rows(numbers) -> Iterator[str]:
    """monthly_cost_eur is the price the portal counts; price_source says where it is from
    (bought, listed, contract, catalogue, or empty: unknown); setup_cost_eur is what the
    portal paid to set the number up, when it bought it."""
    return stream_csv(INVENTORY_HEADER, (_inventory_row(n) for n in numbers))


BATCH_HEADER = [
    "position",
    "msisdn",
    "country",
    "state",
    "outcome",
    "monthly_cost_eur",
    "setup_cost_eur",
    "reason",
    "operation",
]


def batch_csv_rows(items) -> Iterator[str]:
    """A batch's results, one row per number (the outcome as it stands, settlements
    included)."""
    return stream_csv(
        BATCH_HEADER,
        (
            [
                item.position,
                item.msisdn,
                item.country,
                item.get_state_display(),
                item.operation.final_outcome if item.operation else "",
                item.monthly_cost,
                item.setup_cost,
                item.reason,
                item.operation.seq if item.operation else "",
            ]
            for item in items
        ),
    )


AUDIT_HEADER = [
    "seq", "created_at_utc", "action", "outcome", "settled_as", "username", "ip", "user_agent",
    "request_id", "country", "msisdn", "monthly_cost_eur", "setup_cost_eur", "http_status",
    "provider_code", "provider_label", "duration_ms", "reason", "request", "before", "after",
    "hash",
]  # fmt: skip


def audit_csv_row(entry) -> list:
    """One trail entry as exported; `settled_as` is annotated by the query that read it."""
    return [
        entry.seq, entry.created_at.isoformat(), entry.action, entry.outcome,
        getattr(entry, "settled_as", None) or "", entry.actor_username, entry.ip,
        entry.user_agent, entry.request_id, entry.country, entry.msisdn, entry.monthly_cost,
        entry.setup_cost, entry.http_status, entry.provider_code, entry.provider_label,
        entry.duration_ms, entry.reason, json.dumps(entry.request, sort_keys=True),
        json.dumps(entry.before, sort_keys=True), json.dumps(entry.after, sort_keys=True),
        entry.hash,
    ]  # fmt: skip


def audit_csv_rows(entries) -> Iterator[str]:
    return stream_csv(AUDIT_HEADER, (audit_csv_row(entry) for entry in entries))
