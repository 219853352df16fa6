"""§6: the sync. Under the strict quota (SQLite): exactly ⌈N/100⌉ list calls, no 429, wall
time within 10 % of the quota's floor. On the generous quota (each database): what it costs
per 1,000 numbers (CPU, memory), and memory flat in N — each page goes to a staging table,
never the whole account into memory."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from bench.context import LIST_OP, Bench
from bench.engines import Engine
from bench.procs import Usage
from bench.report import seconds


@dataclass(frozen=True)
class Strict:
    size: int
    list_calls: int
    refused: int
    throttled: int
    run: dict
    process_seconds: float
    code: int


class Sync:
    def __init__(self, bench: Bench):
        self.bench = bench
        self.strict: list[Strict] = []
        self.generous: dict[str, dict[int, tuple[Usage, dict]]] = {}

    def sync_once(self, engine: Engine, size: int, quota: str) -> tuple[Usage, dict]:
        """A sync of an account of `size` into an empty cache; the sandbox's counters are
        then those of this sync alone (a reset starts them over)."""
        bench = self.bench
        bench.reset_sandbox(owned=size, quota=quota, latency_ms=0)
        database = f"sync-{size}"
        engine.create(database, template="template")
        url = engine.url(database)
        try:
            usage = bench.procs.run_measured(
                f"sync-{engine.name}-{quota}-{size}",
                [sys.executable, "manage.py", "sync_numbers"],
                env=bench.env(url),
                timeout=math.ceil(size / 100) * 3 + 300,
            )
            run = bench.django_task("syncrun", database_url=url)
        finally:
            engine.drop(database)
        return usage, run

    def measure(self, engine: Engine) -> None:
        bench, plan = self.bench, self.bench.plan
        if engine.name == "sqlite":
            for size in plan.strict_sync_sizes:
                bench.log(f"sync of {size:,} numbers under the strict quota on {engine.label}")
                usage, run = self.sync_once(engine, size, "strict")
                calls, responses = bench.calls()  # the reset started them over
                self.strict.append(
                    Strict(
                        size=size,
                        list_calls=calls.get(LIST_OP, 0),
                        refused=responses.get(LIST_OP, {}).get("401", 0),
                        throttled=sum(counts.get("429", 0) for counts in responses.values()),
                        run=run,
                        process_seconds=usage.wall,
                        code=usage.code,
                    )
                )
        for size in plan.generous_sync_sizes:
            bench.log(f"sync of {size:,} numbers on the generous quota on {engine.label}")
            self.generous.setdefault(engine.label, {})[size] = self.sync_once(
                engine, size, "generous"
            )

    def report(self) -> None:
        report = self.bench.report
        for got in self.strict:
            pages = math.ceil(got.size / 100)
            floor = pages - 1
            wall = got.run.get("seconds") or math.nan
            ok = got.code == 0 and got.run.get("status") == "succeeded"
            label = f"Sync of {got.size:,} (strict quota, SQLite)"
            report.add(
                "6",
                f"{label}: list calls",
                f"{got.list_calls} (⌈N/100⌉ = {pages}"
                + (f"; {got.refused} refused with 401)" if got.refused else ")"),
                f"exactly ⌈N/100⌉ = {pages}",
                holds=ok and got.list_calls == pages,
            )
            report.add(
                "6",
                f"{label}: 429s received",
                str(got.throttled),
                "0",
                holds=ok and got.throttled == 0,
            )
            report.add(
                "6",
                f"{label}: wall time vs the quota's floor",
                f"{seconds(wall)} = {wall / max(floor, 1):.3f}× the floor of {floor} s "
                f"(sync_numbers process: {seconds(got.process_seconds)})",
                f"≤ 1.10 × floor = {floor * 1.1:.1f} s",
                holds=ok and wall <= floor * 1.1,
            )
            if not ok:
                report.notes.append(
                    f"§6: the sync of {got.size:,} ended {got.run.get('status')}: "
                    f"{got.run.get('message')}"
                )
        for engine, by_size in self.generous.items():
            sizes = sorted(by_size)
            for size in sizes:
                usage, run = by_size[size]
                ok = usage.code == 0 and run.get("status") == "succeeded"
                report.add(
                    "6",
                    f"Sync of {size:,} on the generous quota on {engine}: cost per 1,000 numbers",
                    f"{usage.cpu / size * 1000:.2f} s of CPU per 1,000 numbers (process: "
                    f"{usage.cpu:.1f} s CPU, {seconds(usage.wall)} wall, peak "
                    f"{usage.peak_mib:.0f} MiB; {run.get('message', run.get('status'))})",
                    "",
                    holds=None if ok else False,
                )
            if len(sizes) > 1:
                small, large = by_size[sizes[0]][0], by_size[sizes[-1]][0]
                growth = large.peak_mib - small.peak_mib
                report.add(
                    "6",
                    f"Sync on {engine}: peak memory at {sizes[0]:,} and {sizes[-1]:,} numbers",
                    f"{small.peak_mib:.0f} MiB and {large.peak_mib:.0f} MiB: {growth:+.0f} MiB",
                    f"flat in N: grows by < 25 MiB from {sizes[0]:,} to {sizes[-1]:,}",
                    holds=growth < 25,
                )
        if self.strict:
            report.notes.append(
                "§6 floor: the strict quota allows one `GET /account/numbers` per one-second "
                "window, so ⌈N/100⌉ calls span about ⌈N/100⌉ − 1 s (up to a second less: the "
                "windows are aligned to whole seconds, and the first call may come late in "
                "one). Wall time is the sync's own (SyncRun started → finished: token, listing, "
                "writing the cache), from `manage.py sync_numbers` against an empty cache."
            )
