"""The audit list's date links (the admin's date hierarchy), found by index seeks.

Django's own reads every entry of the list to truncate its date (seconds at a million
entries). Here each link costs one seek on the created_at index: the first entry at or after
the start of a period says which period holds entries next. The links cover the whole trail,
so a link may lead to an empty list when other filters are applied too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django import template
from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    result_headers,
    result_list,
)
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.utils import display_for_field, display_for_value
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Max, Min
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.text import capfirst

from inventory.models import Operation

register = template.Library()
FIELD = "created_at"


def _first_from(moment: datetime | None) -> datetime | None:
    entries = (
        Operation.objects.all()
        if moment is None
        else Operation.objects.filter(created_at__gte=moment)
    )
    return entries.aggregate(first=Min(FIELD))["first"]


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.get_current_timezone())


def _periods(
    start: datetime | None,
    end: datetime | None,
    period: Callable[[date], date],
    following: Callable[[date], date],
) -> list[date]:
    """The periods from `start` to `end` that hold an entry: one seek each."""
    found = []
    moment = _first_from(start)
    while moment is not None and (end is None or moment < end):
        begins = period(timezone.localtime(moment).date())
        found.append(begins)
        moment = _first_from(_start(following(begins)))
    return found


def _year(day: date) -> date:
    return day.replace(month=1, day=1)


def _next_year(day: date) -> date:
    return day.replace(year=day.year + 1, month=1, day=1)


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _day(day: date) -> date:
    return day


def _next_day(day: date) -> date:
    return day + timedelta(days=1)


@register.inclusion_tag("admin/date_hierarchy.html")
def audit_date_hierarchy(cl):
    year_field, month_field, day_field = (f"{FIELD}__{part}" for part in ("year", "month", "day"))

    def link(filters):
        return cl.get_query_string(filters, [f"{FIELD}__"])

    try:
        year, month, day = (
            int(cl.params[f]) if cl.params.get(f) else None
            for f in (year_field, month_field, day_field)
        )
    except (TypeError, ValueError):
        return {"show": False}
    if not (year or month or day):
        # Two queries, each reading one end of the created_at index: SQLite serves a MIN or
        # a MAX alone from the index, but scans the whole trail for both in one query.
        first = _first_from(None)
        last = Operation.objects.aggregate(last=Max(FIELD))["last"]
        if first is None or last is None:
            return {"show": False}
        first, last = timezone.localtime(first), timezone.localtime(last)
        if first.year == last.year:
            year = first.year
            month = first.month if first.month == last.month else None

    if year and month and day:
        shown = date(year, month, day)
        back = {
            "link": link({year_field: year, month_field: month}),
            "title": capfirst(formats.date_format(shown, "YEAR_MONTH_FORMAT")),
        }
        return {
            "show": True,
            "back": back,
            "choices": [{"title": capfirst(formats.date_format(shown, "MONTH_DAY_FORMAT"))}],
        }
    if year and month:
        begins = date(year, month, 1)
        days = _periods(_start(begins), _start(_next_month(begins)), _day, _next_day)
        choices = [
            {
                "link": link({year_field: year, month_field: month, day_field: d.day}),
                "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT")),
            }
            for d in days
        ]
        return {
            "show": True,
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": choices,
        }
    if year:
        begins = date(year, 1, 1)
        months = _periods(_start(begins), _start(_next_year(begins)), _month, _next_month)
        choices = [
            {
                "link": link({year_field: year, month_field: m.month}),
                "title": capfirst(formats.date_format(m, "YEAR_MONTH_FORMAT")),
            }
            for m in months
        ]
        return {"show": True, "back": {"link": link({}), "title": "All dates"}, "choices": choices}
    years = _periods(None, None, _year, _next_year)
    choices = [{"link": link({year_field: y.year}), "title": str(y.year)} for y in years]
    return {"show": True, "back": None, "choices": choices}


# --- the list's rows ------------------------------------------------------------------------
# The admin renders each cell by looking its column up again (a model field, else a method,
# found by catching an exception) and formatting it through a chain of type checks: most of
# the list's time at 50 entries a page. Here each column is looked up once a page and each
# cell written as the admin writes it (AuditRowsTestCase compares the two, cell for cell).


@dataclass(frozen=True)
class _Column:
    name: str
    field: models.Field | None  # None: a method of the admin
    classes: str  # the cell's class attribute
    link: bool
    choices: dict | None


def _columns(cl) -> list[_Column]:
    opts, columns = cl.lookup_opts, []
    for name in cl.list_display:
        field = opts.get_field(name) if not hasattr(cl.model_admin, name) else None
        nowrap = isinstance(field, (models.DateField, models.TimeField, models.ForeignKey))
        choices = dict(field.flatchoices) if field is not None and field.flatchoices else None
        classes = f"field-{name}" + (" nowrap" if nowrap else "")
        columns.append(_Column(name, field, classes, name in cl.list_display_links, choices))
    return columns


def _cell(column: _Column, entry, cl, empty: str) -> str:
    if column.field is None:
        value = getattr(cl.model_admin, column.name)(entry)
    else:
        value = getattr(entry, column.field.attname)
    if isinstance(value, str) and value.strip() == "":
        value = ""
    if column.field is None:
        shown = display_for_value(value, empty)
    elif column.choices is not None:
        shown = column.choices.get(value, empty)
    else:
        shown = display_for_field(value, column.field, empty, avoid_link=column.link)
    if column.link:
        link = format_html('<a href="{}">{}</a>', cl.url_for_result(entry), shown)
        return format_html('<th class="{}">{}</th>', column.classes, link)
    return format_html('<td class="{}">{}</td>', column.classes, shown)


def audit_rows(cl) -> list[list[str]] | None:
    """The rows' cells as the admin's result_list writes them, or None for a list this
    does not write (editable, or with a column that is neither a field nor a method)."""
    if cl.formset or cl.is_popup or not cl.list_display_links:
        return None
    try:
        columns = _columns(cl)
    except FieldDoesNotExist:
        return None
    empty = cl.model_admin.get_empty_value_display()
    return [[_cell(column, entry, cl, empty) for column in columns] for entry in cl.result_list]


def audit_result_list(cl):
    """The admin's result_list, its rows written by audit_rows."""
    rows = audit_rows(cl)
    if rows is None:
        return result_list(cl)
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": [],  # only an editable list has any
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": [ResultList(None, row) for row in rows],
    }


@register.tag(name="audit_result_list")
def audit_result_list_tag(parser, token):
    # django-stubs give InclusionAdminNode a leading `name` that Django's own has not.
    return InclusionAdminNode(  # type: ignore[call-arg]
        parser,
        token,
        func=audit_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
