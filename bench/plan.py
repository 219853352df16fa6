"""What a bench run measures, and at which sizes: the full run and `--quick`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    engines: tuple[str, ...] = ("sqlite", "postgresql")
    # The cache holds this many numbers, and the trail this many entries, at each stage.
    stages: tuple[int, ...] = (100, 100_000, 1_000_000)
    timed: tuple[int, ...] = (100_000, 1_000_000)  # stages whose pages are timed
    budget_size: int = 1_000_000  # the size DESIGN §7's budgets are judged at
    warmup_s: float = 3
    per_kind_s: float = 2.5  # one client takes the page kinds in turn, this long per kind
    throughput_run_s: float = 8  # four clients on the plain page
    live_sizes: tuple[int, ...] = (100, 100_000)  # listing the account live, for comparison
    live_full_up_to: int = 10_000  # larger accounts: list a sample and extrapolate
    live_sample_pages: int = 15
    catalogue_queries: int = 20
    sandbox_latency_ms: int = 50
    burst_users: int = 16
    burst_searches: int = 3
    strict_sync_sizes: tuple[int, ...] = (1_000, 10_000)
    generous_sync_sizes: tuple[int, ...] = (10_000, 100_000)
    bulk_buy_size: int = 100  # bulk work under the strict quota (SQLite)
    bulk_configure_size: int = 1_000
    workers: int = 2  # gunicorn.conf.py's defaults
    threads: int = 4


QUICK = Plan(
    stages=(100, 2_000, 5_000),
    timed=(5_000,),
    budget_size=5_000,
    warmup_s=1,
    per_kind_s=0.5,
    throughput_run_s=2,
    live_sizes=(100,),
    live_full_up_to=500,
    live_sample_pages=3,
    catalogue_queries=5,
    burst_users=8,
    burst_searches=2,
    strict_sync_sizes=(300,),
    generous_sync_sizes=(500, 2_000),
    bulk_buy_size=10,
    bulk_configure_size=50,
)
