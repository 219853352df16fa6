"""CSV rows for exports, streamed: the file is written as it is read, never held whole.
Rows are written a few hundred to a chunk, so the server sends a chunk per few hundred rows
rather than one per row."""

import csv
import io
from collections.abc import Iterable, Iterator

LINES_PER_CHUNK = 500
# Spreadsheets run cells that start with these as formulas.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def stream_csv(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for number, row in enumerate(rows, start=1):
        writer.writerow([_safe(value) for value in row])
        if number % LINES_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _safe(value):
    """Text that a spreadsheet would run as a formula gets a quote; other values (numbers,
    None) are written as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


INVENTORY_HEADER = [
    "msisdn",
    "country",
    "type",
    "features",
    "monthly_cost_eur",
    "setup_cost_eur",
    "purchased_at",
    "label",
    "team",
    "mo_http_url",
    "voice_callback_type",
    "voice_callback_value",
    "voice_status_callback",
]


def csv_rows(numbers: Iterable[tuple]) -> Iterator[str]:
    """The inventory export, from rows of `selectors.EXPORT_COLUMNS`."""
    return stream_csv(INVENTORY_HEADER, (_inventory_row(*number) for number in numbers))


def _inventory_row(
    msisdn, country, type_, sms, voice, mms, monthly, setup, purchased_at, *rest
) -> list:
    features = " ".join(name for on, name in ((sms, "SMS"), (voice, "VOICE"), (mms, "MMS")) if on)
    bought = purchased_at.isoformat() if purchased_at else ""
    return [msisdn, country, type_, features, monthly, setup, bought, *rest]
