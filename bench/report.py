"""Figures, their budgets (DESIGN §7), and the Markdown the bench prints and writes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

HOLDS, MISSED, INFO, NOT_MEASURED = "✅ holds", "❌ missed", "— (no budget)", "⚠️ not measured"


@dataclass(frozen=True)
class Figure:
    section: str
    name: str
    measured: str
    budget: str = ""
    holds: bool | None = None  # None: information only, or not measured (see `skipped`)
    skipped: bool = False

    @property
    def verdict(self) -> str:
        if self.skipped:
            return NOT_MEASURED
        if self.holds is None:
            return INFO
        return HOLDS if self.holds else MISSED


@dataclass
class Report:
    header: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # extra Markdown, after the main table
    notes: list[str] = field(default_factory=list)

    def add(self, *args, **kwargs) -> Figure:
        figure = Figure(*args, **kwargs)
        self.figures.append(figure)
        return figure

    @property
    def missed(self) -> list[Figure]:
        return [f for f in self.figures if f.holds is False and not f.skipped]

    def markdown(self) -> str:
        lines = ["# Numbers Portal benchmark", "", *self.header, ""]
        lines += [
            "| § | Figure | Measured | Budget (DESIGN §7) | Verdict |",
            "|---|---|---|---|---|",
        ]
        for fig in self.figures:
            lines.append(
                f"| {fig.section} | {fig.name} | {fig.measured} | {fig.budget or '–'} "
                f"| {fig.verdict} |"
            )
        budgeted = [f for f in self.figures if f.holds is not None and not f.skipped]
        lines += [
            "",
            f"**{len(budgeted) - len(self.missed)} of {len(budgeted)} budgeted figures hold"
            + (
                f"; missed: {', '.join(f'{f.section} {f.name}' for f in self.missed)}.**"
                if self.missed
                else ".**"
            ),
        ]
        if self.details:
            lines += ["", *self.details]
        if self.notes:
            lines += ["", "## Notes", "", *(f"- {note}" for note in self.notes)]
        return "\n".join(lines) + "\n"


def ms(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.1f} ms"


def seconds(value: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value >= 120:
        return f"{value:.0f} s ({value / 60:.1f} min)"
    return f"{value:.1f} s"


def count(value: int) -> str:
    return f"{value:,}"


def ratio(value: float) -> str:
    return f"{value:,.0f}×" if value >= 10 else f"{value:.2g}×"
