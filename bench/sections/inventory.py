"""§1: the inventory, every page kind (plain, each filter, digits, free text with and without
matches, every sort both ways, the last page, a deep page by its link) at each stage of the
fill, on each database: queries per page (the same at 100 and at 1,000,000), response times
(p95 ≤ 50 ms at 1,000,000), no API call; and, for comparison, what listing the same account
live through the API would take."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from urllib.parse import quote_plus

from bench import live_listing
from bench.context import CLIENT_ID, CLIENT_SECRET, VIEWER, Bench
from bench.fill import SEARCH_ABSENT, SEARCH_COMMON, SEARCH_RARE
from bench.loadgen import Samples, percentile, server_times
from bench.report import ms, ratio, seconds

MARKER = 'data-testid="totals"'
SORTS = [
    ("msisdn", "number"),
    ("country", "country"),
    ("type", "type"),
    ("label", "label"),
    ("monthly_cost", "monthly cost"),
    ("purchased_at", "purchase date"),
]


def pages(targets: dict) -> dict[str, tuple[str, str, str]]:
    """Page kind -> (title, path, marker)."""
    kinds = {
        "plain": ("plain page", "/inventory/"),
        "country": ("filtered by country", "/inventory/?country=GB"),
        "type": ("filtered by type", "/inventory/?type=landline"),
        "feature": ("filtered by feature (MMS)", "/inventory/?features=MMS"),
        "routing": ("filtered by routing (none set)", "/inventory/?configured=no"),
        "digits-start": (
            "digits: starts with",
            f"/inventory/?pattern={quote_plus(targets['starts'])}&match=starts",
        ),
        "digits-inside": ("digits: contains", "/inventory/?pattern=12345&match=contains"),
        "digits-end": ("digits: ends with", "/inventory/?pattern=4242&match=ends"),
        "filtered": (
            "filtered (type, feature and digits)",
            "/inventory/?type=mobile-lvn&features=SMS&pattern=123&match=contains",
        ),
        "search-common": ("free text, a common word", f"/inventory/?q={SEARCH_COMMON}"),
        "search-rare": ("free text, one match", f"/inventory/?q={quote_plus(SEARCH_RARE)}"),
        "search-none": ("free text, no match", f"/inventory/?q={SEARCH_ABSENT}"),
        "last-page": ("the last page", f"/inventory/?page={targets['last_page']}"),
        "deep-page": (
            "a page in the middle, by its link",
            f"/inventory/?page={targets['middle_page']}&after={quote_plus(targets['middle_cursor'])}",
        ),
    }
    for key, title in SORTS:
        kinds[f"sort-{key}-up"] = (f"sorted by {title} ↑", f"/inventory/?sort={key}")
        kinds[f"sort-{key}-down"] = (f"sorted by {title} ↓", f"/inventory/?sort=-{key}")
    return {kind: (title, path, MARKER) for kind, (title, path) in kinds.items()}


@dataclass
class Stage:
    titles: dict[str, str]
    queries: dict[str, dict]
    latency: Samples | None = None
    throughput: Samples | None = None
    server: dict | None = None
    api_calls: int | None = None
    live: live_listing.Listing | None = None
    other_load: float = math.nan
    tag: str = ""


class Inventory:
    def __init__(self, bench: Bench):
        self.bench = bench
        self.stages: dict[tuple[str, int], Stage] = {}  # (engine label, size) -> what it measured

    def measure(self, size: int, targets: dict) -> None:
        bench, plan = self.bench, self.bench.plan
        engine = bench.current
        kinds = pages(targets)
        paths = {kind: [path, marker] for kind, (_, path, marker) in kinds.items()}
        bench.log(f"inventory at {size:,} on {engine.label}: queries per page")
        counted = bench.django_task(
            "queries", json.dumps({kind: [path, VIEWER] for kind, (path, _) in paths.items()})
        )
        stage = Stage(titles={k: t for k, (t, _, _) in kinds.items()}, queries=counted)
        if size in plan.timed:
            tag = f"inventory-{engine.name}-{size}"
            bench.log(f"inventory at {size:,} on {engine.label}: {len(paths)} page kinds in turn")
            before, _ = bench.calls()
            bench.locust(f"warm-{tag}", "PageUser", 4, plan.warmup_s, BENCH_PATHS=paths)
            stage.latency = bench.locust(
                tag, "PageUser", 1, plan.per_kind_s * len(paths), BENCH_PATHS=paths
            )
            stage.other_load = bench.other_load[tag]
            if size == plan.budget_size:
                plain = {"plain": paths["plain"]}
                stage.throughput = bench.locust(
                    f"rps-{tag}", "PageUser", 4, plan.throughput_run_s, BENCH_PATHS=plain
                )
            after, _ = bench.calls()
            stage.api_calls = sum(after.values()) - sum(before.values())
            stage.server = server_times(bench.gunicorn_log())
            stage.tag = tag
        if engine.name == "sqlite" and size in plan.live_sizes:
            stage.live = self.live(size)
        self.stages[(engine.label, size)] = stage

    def live(self, size: int) -> live_listing.Listing:
        bench, plan = self.bench, self.bench.plan
        sample = None if size <= plan.live_full_up_to else plan.live_sample_pages
        bench.log(
            f"live listing of {size:,} numbers through the API under the strict quota"
            + (f" ({sample} pages, then extrapolated)" if sample else "")
        )
        bench.reset_sandbox(owned=size, quota="strict", latency_ms=0)
        return live_listing.list_live(
            api_url=bench.api_url,
            token_url=bench.token_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            total=size,
            max_pages=sample,
        )

    # --- reporting --------------------------------------------------------------------------

    def report(self) -> None:
        plan, report = self.bench.plan, self.bench.report
        for engine in dict.fromkeys(label for label, _ in self.stages):
            stages = {size: s for (label, size), s in self.stages.items() if label == engine}
            top = stages.get(plan.budget_size)
            if top is not None and top.latency is not None:
                failures = top.latency.failures(*top.titles)
                for kind, title in top.titles.items():
                    times = top.latency.times(kind)
                    p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
                    server = (top.server or {}).get((top.tag, kind), [])
                    report.add(
                        "1",
                        f"Inventory @ {plan.budget_size:,} on {engine}: {title}, p50 / p95",
                        f"{ms(p50)} / {ms(p95)} ({len(times)} requests; gunicorn's own "
                        f"{ms(percentile(server, 0.5))} / {ms(percentile(server, 0.95))})",
                        f"p95 ≤ 50 ms at {plan.budget_size:,}",
                        holds=p95 <= 50 and not top.latency.failures(kind),
                    )
                if failures:
                    report.notes.append(
                        f"§1 {engine}: {len(failures)} page requests failed, e.g. "
                        f"{failures[0]['error']}"
                    )
                report.add(
                    "1",
                    f"Inventory @ {plan.budget_size:,} on {engine}: API calls while serving "
                    "the pages",
                    str(top.api_calls),
                    "no API call",
                    holds=top.api_calls == 0,
                )
                if top.throughput is not None:
                    report.add(
                        "1",
                        f"Inventory @ {plan.budget_size:,} on {engine}: requests/s, 4 clients "
                        "(plain page)",
                        f"{top.throughput.throughput('plain'):.0f} req/s",
                    )
            self.report_queries(engine, stages)
        self.report_live()
        self.detail()

    def report_queries(self, engine: str, stages: dict[int, Stage]) -> None:
        plan, report = self.bench.plan, self.bench.report
        smallest, largest = min(stages), max(stages)
        titles = stages[largest].titles
        differing = [
            titles[kind]
            for kind in titles
            if stages[smallest].queries[kind]["later"] != stages[largest].queries[kind]["later"]
        ]
        counts = [stages[size].queries[kind]["later"] for size in stages for kind in titles]
        statuses = {
            code for s in stages.values() for q in s.queries.values() for code in q["statuses"]
        }
        sizes = " / ".join(f"{size:,}" for size in stages)
        spread = f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}–{max(counts)}"
        measured = f"{spread} per page at each size; " + (
            "the same at every size for every kind"
            if not differing
            else f"different at {smallest:,} and {largest:,} for: {', '.join(differing)}"
        )
        report.add(
            "1",
            f"Inventory on {engine}: queries per page, {len(titles)} page kinds at {sizes}",
            measured + ("" if statuses == {200} else f" (statuses {sorted(statuses)})"),
            f"same at {smallest:,} and {plan.budget_size:,}, ≤ 6",
            holds=not differing and max(counts) <= 6 and statuses == {200},
        )

    def report_live(self) -> None:
        report = self.bench.report
        for (engine, size), stage in self.stages.items():
            if stage.live is None:
                continue
            live = stage.live
            how = (
                f"estimated from {live.pages} of {live.pages_total} pages"
                if live.sampled
                else f"{live.pages_total} page(s), measured"
            )
            plain = [
                s.latency.times("plain")
                for (label, _), s in self.stages.items()
                if label == engine and s.latency is not None
            ]
            p50 = percentile(plain[-1], 0.5) / 1000 if plain else math.nan
            report.add(
                "1",
                f"Inventory @ {size:,}: listing it live through the API instead (strict quota)",
                f"{seconds(live.estimated_seconds)} ({how}, {live.throttled} × 429) — "
                f"{ratio(live.estimated_seconds / p50)} the portal's plain-page p50",
            )

    def detail(self) -> None:
        plan = self.bench.plan
        sizes = " / ".join(f"{size:,}" for size in plan.stages)
        timed = " | ".join(f"p50 / p95 @ {size:,}" for size in plan.timed)
        lines = [
            "## Inventory detail",
            "",
            f"| Database | Page | Queries at {sizes} | {timed} "
            f"| gunicorn p50 / p95 @ {plan.budget_size:,} |",
            "|---|---|---|" + "---|" * len(plan.timed) + "---|",
        ]
        for engine in dict.fromkeys(label for label, _ in self.stages):
            stages = {size: s for (label, size), s in self.stages.items() if label == engine}
            top = stages[max(stages)]
            for kind, title in top.titles.items():
                queries = " / ".join(str(s.queries[kind]["later"]) for s in stages.values())
                cells = []
                for size in self.bench.plan.timed:
                    stage = stages.get(size)
                    times = stage.latency.times(kind) if stage and stage.latency else []
                    cells.append(f"{ms(percentile(times, 0.5))} / {ms(percentile(times, 0.95))}")
                server = top.server.get((top.tag, kind), []) if top.server else []
                lines.append(
                    f"| {engine} | {title} | {queries} | {' | '.join(cells)} "
                    f"| {ms(percentile(server, 0.5))} / {ms(percentile(server, 0.95))} |"
                )
        lines += [
            "",
            "One client takes the page kinds in turn (so whatever else the machine does hits "
            f"them alike), {self.bench.plan.per_kind_s:g} s per kind, after a warm-up with "
            "four clients; p50/p95 at the client (locust), gunicorn's from its access log "
            "(whole milliseconds). Queries: Django's test client as `viewer` under "
            "CaptureQueriesContext against the portal's database and cache (a later view). "
            f"Other load during the runs is in the header ({os.cpu_count()} cores).",
        ]
        self.bench.report.details += lines
