"""CSV rows for exports, streamed: the file is written as it is read, never held whole.
Rows are written a few hundred to a chunk, so the server sends a chunk per few hundred rows
rather than one per row."""

import csv
import io
from collections.abc import Iterable, Iterator

LINES_PER_CHUNK = 500
# Spreadsheets run cells that start with these as formulas.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
            if value.__class__ is str and value.startswith(_FORMULA_STARTS):
                row[position] = "'" + value
        writer.writerow(row)
        if number % LINES_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


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
