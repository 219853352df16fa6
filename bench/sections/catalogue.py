"""§5: catalogue searches, sandbox latency 50 ms: one API call per new query, none for a
repeat within the cache window, and the portal's own overhead on top of the API's time."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from bench.context import Bench
from bench.loadgen import Samples, percentile, request_overheads
from bench.report import ms


class Catalogue:
    def __init__(self, bench: Bench):
        self.bench = bench
        self.samples: Samples | None = None
        self.server: list[float] = []

    def measure(self) -> None:
        bench, plan = self.bench, self.bench.plan
        bench.reset_sandbox(quota="generous", latency_ms=plan.sandbox_latency_ms)
        queries = []
        for n in range(plan.catalogue_queries):
            digits = f"{10 + n:02d}"
            api = {"country": "GB", "type": "mobile-lvn", "pattern": digits, "search_pattern": 1}
            queries.append(
                {
                    "portal": f"country=GB&type=mobile-lvn&pattern={digits}&match=contains",
                    "api": urlencode({**api, "index": 1, "size": 20}),
                    "warm": "country=GB&type=landline&pattern=9&match=contains",
                }
            )
        bench.log(
            f"catalogue: {len(queries)} new searches, then their repeats; sandbox latency "
            f"{plan.sandbox_latency_ms} ms"
        )
        self.samples = bench.locust("catalogue", "CatalogueUser", 1, 120, BENCH_QUERIES=queries)
        self.server = request_overheads(bench.gunicorn_log(), "new")

    def report(self) -> None:
        report, plan, samples = self.bench.report, self.bench.plan, self.samples
        if samples is None:
            return
        phases = samples.notes.get("phases", {})
        failures = samples.failures("new", "repeat", "direct")
        for phase, title, expected in (("new", "new", 1), ("repeat", "repeated", 0)):
            got = phases.get(phase, {})
            per = got.get("api_calls", math.nan) / max(got.get("searches", 0), 1)
            report.add(
                "5",
                f"Catalogue: API calls per {title} search",
                f"{per:g} ({got.get('api_calls')} for {got.get('searches')} searches)",
                f"{expected} per {title} search",
                holds=per == expected and not failures,
            )
        direct, new, repeat = (samples.times(p) for p in ("direct", "new", "repeat"))
        pairs = [n - d for n, d in zip(new, direct, strict=False)]
        server = self.server
        overhead = percentile(server, 0.5) if server else math.nan
        report.add(
            "5",
            "Catalogue: portal overhead on a new search, on the server (sandbox latency "
            f"{plan.sandbox_latency_ms} ms)",
            f"{ms(overhead)} p50, {ms(percentile(server, 0.95)) if server else '–'} p95 over "
            f"{len(server)} searches (gunicorn's time for each request − the API call's time "
            "the portal logged for it)",
            "≤ 10 ms (p50) on top of the API",
            holds=overhead <= 10 and not failures,
        )
        report.add(
            "5",
            "Catalogue: the same, seen from the load generator",
            f"{ms(percentile(pairs, 0.5))} p50, {ms(percentile(pairs, 0.95))} p95 (portal p50 "
            f"{ms(percentile(new, 0.5))} − sandbox p50 {ms(percentile(direct, 0.5))}, each "
            "with its own connection and client-side costs); a repeated search, with no API "
            f"call, takes {ms(percentile(repeat, 0.5))} p50",
            "–",
            holds=None,
        )
        if failures:
            report.notes.append(
                f"§5: {len(failures)} catalogue requests failed, e.g. {failures[0]['error']}"
            )
