"""§4: `manage.py verify_audit` walking the whole chain at each timed stage: entries a
second (at least 50,000) and its peak memory, flat in the length of the chain."""

from __future__ import annotations

import re
import sys

from bench.context import Bench
from bench.procs import Usage
from bench.report import seconds

_VERIFIED = re.compile(r"(\d+) entries verified")


class Verify:
    def __init__(self, bench: Bench):
        self.bench = bench
        self.runs: dict[str, dict[int, tuple[Usage, int]]] = {}  # engine -> size -> (usage, n)

    def measure(self, size: int) -> None:
        bench = self.bench
        if size not in bench.plan.timed:
            return
        bench.log(f"verify_audit over {size:,} entries on {bench.current.label}")
        usage = bench.procs.run_measured(
            f"verify-{bench.current.name}-{size}",
            [sys.executable, "manage.py", "verify_audit"],
            env=bench.env(),
            timeout=3600,
        )
        found = _VERIFIED.search(usage.log.read_text(encoding="utf-8", errors="replace"))
        self.runs.setdefault(bench.current.label, {})[size] = (usage, int(found[1]) if found else 0)

    def report(self) -> None:
        plan, report = self.bench.plan, self.bench.report
        for engine, by_size in self.runs.items():
            sizes = sorted(by_size)
            for size in sizes:
                usage, entries = by_size[size]
                rate = entries / usage.wall if usage.wall else 0
                budget = "≥ 50,000 entries/s" if size == plan.budget_size else ""
                report.add(
                    "4",
                    f"verify_audit over {size:,} entries on {engine}: entries a second",
                    f"{rate:,.0f} entries/s ({entries:,} in {seconds(usage.wall)}, process "
                    f"start included; peak memory {usage.peak_mib:.0f} MiB)",
                    budget,
                    holds=(rate >= 50_000 and usage.code == 0) if budget else None,
                )
            if len(sizes) > 1:
                small, large = by_size[sizes[0]][0], by_size[sizes[-1]][0]
                growth = large.peak_mib - small.peak_mib
                report.add(
                    "4",
                    f"verify_audit on {engine}: peak memory at {sizes[0]:,} and {sizes[-1]:,} "
                    "entries",
                    f"{small.peak_mib:.0f} MiB and {large.peak_mib:.0f} MiB: {growth:+.0f} MiB",
                    f"flat: grows by < 50 MiB from {sizes[0]:,} to {sizes[-1]:,}",
                    holds=growth < 50 and small.code == large.code == 0,
                )
