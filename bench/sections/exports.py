"""§3 and §4's export figures: the inventory and audit CSV exports, downloaded whole at each
timed stage — rows a second (at least 50,000) and the serving worker's peak memory, which
must grow by less than 50 MiB from 100,000 to 1,000,000 rows (they stream)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.context import SUPERUSER, VIEWER, Bench
from bench.procs import peak_mib, peak_reset, rss_mib
from bench.report import seconds

EXPORTS = {
    "inventory": ("Inventory CSV export", "/inventory/numbers.csv", VIEWER),
    "audit": ("Audit trail CSV export", "/admin/inventory/operation/export.csv", SUPERUSER),
}


@dataclass(frozen=True)
class Download:
    rows: int
    seconds: float
    peak_mib: float  # the serving worker's peak resident memory during the export
    before_mib: float  # its resident memory when the export began
    status: int

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


class Exports:
    def __init__(self, bench: Bench):
        self.bench = bench
        self.downloads: dict[tuple[str, str], dict[int, Download]] = {}  # (engine, export)

    def measure(self, size: int) -> None:
        bench = self.bench
        if size not in bench.plan.timed:
            return
        for name, (title, path, login) in EXPORTS.items():
            bench.log(f"{title.lower()} of {size:,} rows on {bench.current.label}")
            got = self.download(path, login)
            self.downloads.setdefault((bench.current.label, name), {})[size] = got

    def download(self, path: str, login: str) -> Download:
        bench = self.bench
        session = bench.session(login)
        workers = bench.workers_of_gunicorn()
        before = {}
        for worker in workers:
            peak_reset(worker.pid)
            before[worker.pid] = rss_mib(worker.pid)
        started = time.monotonic()
        lines = 0
        with session.get(f"{bench.portal_url}{path}", stream=True, timeout=600) as response:
            for chunk in response.iter_content(chunk_size=1 << 16):
                lines += chunk.count(b"\n")
            status = response.status_code
        took = time.monotonic() - started
        grown = {w.pid: peak_mib(w.pid) - before[w.pid] for w in workers}
        busiest = max(grown, key=lambda pid: grown[pid])
        return Download(
            rows=max(0, lines - 1),
            seconds=took,
            peak_mib=peak_mib(busiest),
            before_mib=before[busiest],
            status=status,
        )

    def report(self) -> None:
        plan, report = self.bench.plan, self.bench.report
        for (engine, name), by_size in self.downloads.items():
            title = EXPORTS[name][0]
            sizes = sorted(by_size)
            for size in sizes:
                got = by_size[size]
                budget = "≥ 50,000 rows/s" if size == plan.budget_size else ""
                report.add(
                    "4",
                    f"{title} of {size:,} rows on {engine}: rows a second",
                    f"{got.rate:,.0f} rows/s ({got.rows:,} rows in {seconds(got.seconds)}; "
                    f"worker peak {got.peak_mib:.0f} MiB, {got.before_mib:.0f} MiB before)",
                    budget,
                    holds=(got.rate >= 50_000 and got.status == 200) if budget else None,
                )
            if len(sizes) > 1:
                small, large = by_size[sizes[0]], by_size[sizes[-1]]
                growth = large.peak_mib - small.peak_mib
                report.add(
                    "3",
                    f"{title} on {engine}: the serving worker's peak memory at {sizes[0]:,} and "
                    f"{sizes[-1]:,} rows",
                    f"{small.peak_mib:.0f} MiB and {large.peak_mib:.0f} MiB: {growth:+.0f} MiB",
                    f"grows by < 50 MiB from {sizes[0]:,} to {sizes[-1]:,} rows",
                    holds=growth < 50 and small.status == large.status == 200,
                )
