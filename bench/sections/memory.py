"""The portal's workers after everything above on a database: their peak resident memory
(information; the export figures in §3 carry the budget)."""

from __future__ import annotations

from bench.context import Bench
from bench.procs import peak_mib


class Memory:
    def __init__(self, bench: Bench):
        self.bench = bench
        self.peaks: dict[str, list[float]] = {}

    def measure(self) -> None:
        workers = self.bench.workers_of_gunicorn()
        self.peaks[self.bench.current.label] = sorted(
            (peak_mib(w.pid) for w in workers), reverse=True
        )

    def report(self) -> None:
        for engine, peaks in self.peaks.items():
            self.bench.report.add(
                "3",
                f"Peak RSS of the gunicorn workers at the end of the {engine} runs (VmHWM, "
                "since the last export)",
                " / ".join(f"{peak:.0f} MiB" for peak in peaks),
            )
