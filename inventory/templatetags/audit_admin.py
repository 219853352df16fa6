"""The audit list's date links (the admin's date hierarchy), found by index seeks.

Django's own reads every entry of the list to truncate its date (seconds at a million
entries). Here each link costs one seek on the created_at index: the first entry at or after
the start of a period says which period holds entries next. The links cover the whole trail,
so a link may lead to an empty list when other filters are applied too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from django import template
from django.db.models import Max, Min
from django.utils import formats, timezone
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
        # One query: the database reads each end of the created_at index.
        ends = Operation.objects.aggregate(first=Min(FIELD), last=Max(FIELD))
        first, last = ends["first"], ends["last"]
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
