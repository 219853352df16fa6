"""§6, fleet work: a bulk purchase of 100 numbers and a bulk configuration of 1,000, each
under the strict quota on SQLite: exactly one call per number, no 429, and wall time within
10 % of the quota's floor (the read-back calls counted against their own quota)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.context import LIST_OP, Bench
from bench.engines import Engine
from bench.report import seconds

BUY_OP = "POST /number/buy"
UPDATE_OP = "POST /number/update"
# The strict quota's spike arrest: calls a second, per operation (sandbox/quota.py).
RATES = {BUY_OP: 3.0, UPDATE_OP: 3.0, LIST_OP: 1.0}
DATABASE = "batches"


@dataclass(frozen=True)
class BatchRun:
    kind: str  # "buy" or "configure"
    size: int
    calls: dict  # operation -> calls made by the run
    throttled: int
    result: dict
    account: int  # numbers the account holds once the batch is done

    @property
    def operation(self) -> str:
        return BUY_OP if self.kind == "buy" else UPDATE_OP

    @property
    def reads_needed(self) -> int:
        """The fewest listing calls that read every number back: a lookup each, or one
        listing of the whole account, whichever is fewer."""
        return min(self.size, math.ceil(self.account / 100))

    @property
    def floor(self) -> float:
        """The least time the quota lets the needed calls take, one after another: each
        operation's calls a slot apart (the first of each at once)."""
        return (self.size - 1) / RATES[self.operation] + (self.reads_needed - 1) / RATES[LIST_OP]


class Batches:
    def __init__(self, bench: Bench):
        self.bench = bench
        self.runs: list[BatchRun] = []

    def measure(self, engine: Engine) -> None:
        if engine.name != "sqlite":
            return
        plan = self.bench.plan
        self.runs.append(self.run_once(engine, "buy", plan.bulk_buy_size, owned=10))
        size = plan.bulk_configure_size
        self.runs.append(self.run_once(engine, "configure", size, owned=size))

    def run_once(self, engine: Engine, kind: str, size: int, *, owned: int) -> BatchRun:
        bench = self.bench
        bench.log(f"bulk {kind} of {size:,} numbers under the strict quota on {engine.label}")
        engine.create(DATABASE, template="template")
        url = engine.url(DATABASE)
        try:
            bench.reset_sandbox(owned=owned, quota="strict", latency_ms=0)
            prepared = bench.django_task("batch-prepare", kind, str(size), database_url=url)
            before, answered = bench.calls()
            result = bench.django_task("batch-run", str(prepared["batch"]), database_url=url)
            after, answered_after = bench.calls()
        finally:
            engine.drop(DATABASE)
        calls = {op: after.get(op, 0) - before.get(op, 0) for op in after}
        throttled = sum(c.get("429", 0) for c in answered_after.values()) - sum(
            c.get("429", 0) for c in answered.values()
        )
        made = {op: n for op, n in calls.items() if n}
        account = owned + size if kind == "buy" else owned
        return BatchRun(kind, size, made, throttled, result, account)

    def report(self) -> None:
        report = self.bench.report
        for run in self.runs:
            label = f"Bulk {'purchase' if run.kind == 'buy' else 'configuration'} of {run.size:,}"
            label += " (strict quota, SQLite)"
            ok = run.result.get("status") == "done"
            made = run.calls.get(run.operation, 0)
            report.add(
                "6",
                f"{label}: {run.operation} calls",
                f"{made} ({', '.join(f'{op}: {n}' for op, n in sorted(run.calls.items()))})",
                f"exactly {run.size}",
                holds=ok and made == run.size,
            )
            report.add(
                "6",
                f"{label}: read-back calls ({LIST_OP})",
                str(run.calls.get(LIST_OP, 0)),
                f"at most one listing of the account: {run.reads_needed}",
                holds=ok and run.calls.get(LIST_OP, 0) <= run.reads_needed,
            )
            report.add(
                "6",
                f"{label}: 429s received",
                str(run.throttled),
                "0",
                holds=ok and run.throttled == 0,
            )
            wall = run.result.get("seconds") or math.nan
            report.add(
                "6",
                f"{label}: wall time vs the quota's floor",
                f"{seconds(wall)} = {wall / max(run.floor, 1):.3f}× the floor of {run.floor:.1f} s",
                f"≤ 1.10 × floor = {run.floor * 1.1:.1f} s",
                holds=ok and wall <= run.floor * 1.1,
            )
            if not ok:
                report.notes.append(
                    f"§6: the {label.lower()} ended {run.result.get('status')}: "
                    f"{run.result.get('message')} {run.result.get('states')}"
                )
        if self.runs:
            report.notes.append(
                "§6 bulk floor: under the strict quota's spike arrest a buy or an update may "
                "follow the previous one after a third of a second, and a listing call the "
                "previous listing call after a second; the floor is the time the calls a batch "
                "needs take at those rates, one after another: one buy or update per number, "
                "and reading them back with the fewest listing calls (one listing of the "
                "account, or one lookup each, whichever is fewer). Wall time is the run's own "
                "(what a worker's `batch run` task does), from a batch already confirmed."
            )
