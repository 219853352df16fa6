"""The dashboard's charts as data: labels and figures for static/js/charts.js, which reads
them from a JSON block of the page (no inline script). The page's tables give the same
figures, from the same dashboard, for screen readers and for browsers without scripts."""

from __future__ import annotations

from decimal import Decimal

from inventory import phone
from inventory.models import NumberType
from inventory.selectors import SpendDashboard, SpendShare

TOP_COUNTRIES = 8


def _money(amount: Decimal) -> float:
    return float(amount.quantize(Decimal("0.01")))


def country_shares(shares: list[SpendShare]) -> list[tuple[str, int, Decimal]]:
    """The dearest countries by name, the rest together as "Other countries"."""
    named = [(phone.country_name(s.key), s.numbers, s.monthly_total) for s in shares]
    if len(named) <= TOP_COUNTRIES + 1:
        return named
    rest = named[TOP_COUNTRIES:]
    other = (
        "Other countries",
        sum(n for _, n, _ in rest),
        sum((t for _, _, t in rest), Decimal(0)),
    )
    return [*named[:TOP_COUNTRIES], other]


def type_shares(shares: list[SpendShare]) -> list[tuple[str, int, Decimal]]:
    labels = dict(NumberType.choices)
    return [(labels.get(s.key, s.key), s.numbers, s.monthly_total) for s in shares]


def team_shares(shares: list[SpendShare]) -> list[tuple[str, int, Decimal]]:
    return [(s.key or "No team", s.numbers, s.monthly_total) for s in shares]


def _split_chart(chart_id: str, rows: list[tuple[str, int, Decimal]]) -> dict:
    return {
        "id": chart_id,
        "kind": "split",
        "labels": [label for label, _, _ in rows],
        "datasets": [{"label": "Monthly spend", "data": [_money(t) for _, _, t in rows]}],
    }


def dashboard_charts(dashboard: SpendDashboard) -> dict:
    months = [f"{m.month:%b %Y}" for m in dashboard.history]
    return {
        "charts": [
            _split_chart("spend-by-country", country_shares(dashboard.by_country)),
            _split_chart("spend-by-type", type_shares(dashboard.by_type)),
            _split_chart("spend-by-team", team_shares(dashboard.by_team)),
            {
                "id": "spend-history",
                "kind": "history",
                "labels": months,
                "datasets": [
                    {
                        "label": "Monthly spend",
                        "data": [_money(m.monthly_total) for m in dashboard.history],
                        "axis": "money",
                    },
                    {
                        "label": "Numbers owned",
                        "data": [m.numbers for m in dashboard.history],
                        "axis": "count",
                    },
                ],
            },
            {
                "id": "changes-history",
                "kind": "changes",
                "labels": months,
                "datasets": [
                    {"label": "Purchases", "data": [m.purchases for m in dashboard.history]},
                    {
                        "label": "Cancellations",
                        "data": [m.cancellations for m in dashboard.history],
                    },
                ],
            },
        ]
    }
