"""§8: one OAuth token fetch per expiry for all workers together. Many users sign in, wait
at a barrier, then all make new catalogue searches at once with no token in the shared
cache; then again after the sandbox expired every token it issued."""

from __future__ import annotations

from bench.context import Bench
from bench.loadgen import Samples, percentile
from bench.report import ms

BUDGET = "1 fetch per expiry for all workers together"
TITLES = ("cold start (no token cached)", "after every token expired")


class Tokens:
    def __init__(self, bench: Bench):
        self.bench = bench
        self.samples: Samples | None = None
        self.busy = self.workers = 0

    def measure(self) -> None:
        bench, plan = self.bench, self.bench.plan
        if not bench.redis:
            return
        bench.reset_sandbox(quota="generous", latency_ms=plan.sandbox_latency_ms)
        workers = bench.workers_of_gunicorn()
        cpu_before = {w.pid: sum(w.cpu_times()[:2]) for w in workers}
        bench.log(
            f"token burst: {plan.burst_users} users, {plan.burst_searches} new searches each, "
            "with no token cached, then again after the sandbox expired every token"
        )
        self.samples = bench.locust(
            "burst", "BurstUser", plan.burst_users, 120, BENCH_BURST_SEARCHES=plan.burst_searches
        )
        self.busy = sum(1 for w in workers if sum(w.cpu_times()[:2]) - cpu_before[w.pid] > 0.2)
        self.workers = len(workers)

    def report(self) -> None:
        report, plan = self.bench.report, self.bench.plan
        if self.samples is None:
            title = "Token fetches in a burst across workers"
            report.add("8", title, "not measured", BUDGET, skipped=True)
            return
        bursts = self.samples.notes.get("bursts") or [{}, {}]
        failures = self.samples.failures("burst-0", "burst-1")
        for number, (burst, title) in enumerate(zip(bursts, TITLES, strict=True)):
            fetched = burst.get("token_calls")
            times = self.samples.times(f"burst-{number}")
            report.add(
                "8",
                f"Token fetches, burst {number + 1}: {title}",
                f"{fetched} fetch(es) for {burst.get('searches', 0)} concurrent new searches "
                f"({plan.burst_users} clients, {self.busy} of {self.workers} workers busy; "
                f"p95 {ms(percentile(times, 0.95))})",
                BUDGET,
                holds=fetched == 1 and not failures,
            )
        if failures:
            report.notes.append(
                f"§8: {len(failures)} burst searches failed, e.g. {failures[0]['error']}"
            )
