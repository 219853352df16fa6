"""Page arithmetic shared by the catalogue (pages of the API) and the inventory, and the
inventory's seek (keyset) pagination: a page after or before a given row is read from an
index in order, however deep, instead of skipping an OFFSET of rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.db.models import F, Q, QuerySet, Value


@dataclass(frozen=True)
class Pagination:
    count: int  # items over all pages; with `exact` False, a lower bound ("more than")
    page: int  # 1-based
    size: int
    exact: bool = True
    more: bool = False  # whether another page follows, when the count cannot say
    after: str = ""  # where the next page starts (a cursor), if it follows
    before: str = ""  # where the previous page ends

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size))

    @property
    def exists(self) -> bool:
        """Whether this page is within the results (page 1 always is)."""
        return not self.exact or self.page <= self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages if self.exact else self.more

    @property
    def previous(self) -> int:
        return min(self.page - 1, self.pages) if self.exact else self.page - 1

    @property
    def next(self) -> int:
        return self.page + 1

    @property
    def first_item(self) -> int:
        return 0 if self.count == 0 else (self.page - 1) * self.size + 1

    @property
    def last_item(self) -> int:
        last = self.page * self.size
        return min(last, self.count) if self.exact else last

    def links(self, query) -> dict[str, str]:
        """Query strings for the pager, from the current one (a QueryDict): the next and
        previous pages start from this page's last and first rows."""

        def link(page: int, **cursor: str) -> str:
            params = query.copy()
            for name in ("page", "after", "before"):
                params.pop(name, None)
            params["page"] = page
            params.update({name: value for name, value in cursor.items() if value})
            return "?" + params.urlencode()

        links = {"first": link(1)}
        if self.has_previous:
            # Page 1 needs no cursor: its link is the canonical first page.
            links["previous"] = link(self.previous, before=self.before * (self.previous > 1))
        if self.has_next:
            links["next"] = link(self.next, after=self.after)
        if self.exact:
            links["last"] = link(self.pages)
        return links


# --- seek pagination ------------------------------------------------------------------------


class RowCompare(models.Expression):
    """`(a, b) > (x, y)`: a seek into an index over (a, b), which SQLite and PostgreSQL both
    turn into a range scan starting at (x, y)."""

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, columns: Sequence[str], values: Sequence[Any], op: str, *, fields):
        super().__init__()
        self.op = op
        self.columns = [F(name) for name in columns]
        self.values = [
            Value(value, output_field=fields[name])
            for name, value in zip(columns, values, strict=True)
        ]

    def get_source_expressions(self):
        return [*self.columns, *self.values]

    def set_source_expressions(self, exprs):
        self.columns, self.values = exprs[: len(self.columns)], exprs[len(self.columns) :]

    def as_sql(self, compiler, connection):
        lhs = [compiler.compile(column) for column in self.columns]
        rhs = [compiler.compile(value) for value in self.values]
        sql = "({}) {} ({})".format(
            ", ".join(part for part, _ in lhs), self.op, ", ".join(part for part, _ in rhs)
        )
        return sql, [param for _, params in (*lhs, *rhs) for param in params]


@dataclass(frozen=True)
class Segment:
    """Part of an ordering that one index serves: its rows, and their order."""

    condition: Q | None
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Cursor:
    segment: int
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Order:
    """A sort by one column, `tiebreak` breaking ties in the same direction. A column that
    may be unknown (NULL) is read in two segments, known values then unknown ones (by
    tiebreak), so unknown values come last both ways and each segment has its own index."""

    name: str  # as the URL says it: "msisdn", "-monthly_cost"
    column: str
    nullable: bool = False
    tiebreak: str = "msisdn"

    @property
    def descending(self) -> bool:
        return self.name.startswith("-")

    def segments(self) -> list[Segment]:
        if self.column == self.tiebreak:
            return [Segment(None, (self.tiebreak,))]
        keys = (self.column, self.tiebreak)
        if not self.nullable:
            return [Segment(None, keys)]
        return [
            Segment(Q(**{f"{self.column}__isnull": False}), keys),
            Segment(Q(**{f"{self.column}__isnull": True}), (self.tiebreak,)),
        ]

    # --- cursors: "sort~value~tiebreak", a position in this order ---

    def cursor_of(self, row) -> str:
        value = getattr(row, self.column)
        shown = "" if value is None or self.column == self.tiebreak else _text(value)
        return f"{self.name}~{shown}~{getattr(row, self.tiebreak)}"

    def parse(self, text: str, *, fields) -> Cursor | None:
        """The position a cursor names, or None when it is not one of this order's (another
        sort's, or tampered with): the caller then counts pages instead."""
        name, _, rest = (text or "").partition("~")
        shown, _, tiebreak = rest.rpartition("~")
        if name != self.name or not _ok(fields[self.tiebreak], tiebreak):
            return None
        if self.column == self.tiebreak:
            return Cursor(0, (tiebreak,))
        if self.nullable and shown == "":
            return Cursor(1, (tiebreak,))
        value = _value(fields[self.column], shown)
        return None if value is None else Cursor(0, (value, tiebreak))

    # --- reading ---

    def queries(
        self, rows: QuerySet, start: Cursor | None, *, backward: bool
    ) -> Iterator[tuple[int, QuerySet]]:
        """Per segment, in reading order: the query for its rows from `start` on (or from
        the first row; `backward` reads towards the first row, from the end)."""
        fields = {field.name: field for field in rows.model._meta.fields}
        descending = self.descending != backward
        segments = list(enumerate(self.segments()))
        for number, segment in reversed(segments) if backward else segments:
            if start is not None and (
                number > start.segment if backward else number < start.segment
            ):
                continue
            query = rows if segment.condition is None else rows.filter(segment.condition)
            if start is not None and number == start.segment:
                op = "<" if descending else ">"
                query = query.filter(RowCompare(segment.keys, start.values, op, fields=fields))
            yield number, query.order_by(*(f"-{k}" if descending else k for k in segment.keys))

    def read(
        self, rows: QuerySet, start: Cursor | None, *, backward: bool, skip: int, take: int
    ) -> list:
        """`take` rows after skipping `skip`, in reading order (reversed when `backward`).
        One query: the segments' queries joined by UNION ALL, each read from its index."""
        queries = list(self.queries(rows, start, backward=backward))
        if len(queries) == 1:
            return list(queries[0][1][skip : skip + take])
        parts, params = [], []
        for number, query in queries:
            sql, part_params = query.annotate(segment=Value(number))[
                : skip + take
            ].query.sql_with_params()
            parts.append(f"SELECT * FROM ({sql}) AS part{number}")  # noqa: S608 - Django's SQL
            params += part_params
        # Segments in reading order; within each, the keys in this order's direction.
        keys = ", ".join(
            [f"segment {'DESC' if backward else 'ASC'}"]
            + [
                f"{key} {'DESC' if self.descending != backward else 'ASC'}"
                for key in (self.column, self.tiebreak)
            ]
        )
        sql = f"{' UNION ALL '.join(parts)} ORDER BY {keys} LIMIT %s OFFSET %s"
        return list(rows.model.objects.raw(sql, [*params, take, skip]))


def _text(value) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def _ok(field, text: str) -> bool:
    return 0 < len(text) <= field.max_length and text.isascii() and text.isdigit()


def _value(field, text: str):
    """A cursor's value as the column holds it, or None if it cannot be one."""
    if isinstance(field, models.DecimalField):
        try:
            amount = Decimal(text)
        except InvalidOperation:
            return None
        return amount if amount.is_finite() and abs(amount) < 10**6 else None
    if isinstance(field, models.DateTimeField):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else None
    return text if len(text) <= (field.max_length or 0) else None
