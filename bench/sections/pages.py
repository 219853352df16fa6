"""§2: home (the dashboard) and the audit trail's pages — the admin's list for superusers
(plain, each filter, search, date links, a deep page) and an entry's own pages — at each
timed stage: p95 ≤ 50 ms at 1,000,000 numbers and 1,000,000 audit entries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.context import SUPERUSER, VIEWER, Bench
from bench.loadgen import Samples, percentile
from bench.report import ms

ADMIN = "/admin/inventory/operation/"
PAGE = "</html>"  # a whole page answered 200 (refusals and errors are not 200)


def pages(targets: dict) -> dict[str, dict[str, tuple[str, str, str]]]:
    """Login -> page kind -> (title, path, text the page must contain)."""
    year = datetime.now(tz=UTC).year
    return {
        VIEWER: {
            "home": ("home (dashboard)", "/", PAGE),
            "operation": ("an operation's page", f"/operations/{targets['entry_id']}/", PAGE),
        },
        SUPERUSER: {
            "audit-list": ("audit list", ADMIN, 'id="changelist"'),
            "audit-action": ("audit list by action", f"{ADMIN}?action=purchase", 'id="changelist"'),
            "audit-user": (
                "audit list by user",
                f"{ADMIN}?user={targets['entry_user']}",
                'id="changelist"',
            ),
            "audit-country": (
                "audit list by country",
                f"{ADMIN}?country={targets['entry_country']}",
                'id="changelist"',
            ),
            "audit-unsettled": (
                "audit list, unknown outcomes not settled",
                f"{ADMIN}?unsettled=yes",
                'id="changelist"',
            ),
            "audit-search": (
                "audit search by number",
                f"{ADMIN}?q={targets['entry_msisdn']}",
                'id="changelist"',
            ),
            "audit-dates": (
                "audit list of a year (date links)",
                f"{ADMIN}?created_at__year={year}",
                'id="changelist"',
            ),
            "audit-deep": ("audit list, page 150", f"{ADMIN}?p=150", 'id="changelist"'),
            "audit-entry": ("an audit entry", f"{ADMIN}{targets['entry_id']}/change/", PAGE),
        },
    }


@dataclass
class Stage:
    titles: dict[str, str]
    queries: dict[str, dict]
    latency: dict[str, Samples]  # login -> samples


class Pages:
    def __init__(self, bench: Bench):
        self.bench = bench
        self.stages: dict[tuple[str, int], Stage] = {}

    def measure(self, size: int, targets: dict) -> None:
        bench, plan = self.bench, self.bench.plan
        engine = bench.current
        kinds = pages(targets)
        titles = {kind: t for group in kinds.values() for kind, (t, _, _) in group.items()}
        asked = {
            kind: [p, login] for login, group in kinds.items() for kind, (_, p, _) in group.items()
        }
        bench.log(f"home and audit pages at {size:,} on {engine.label}: queries per page")
        stage = Stage(
            titles=titles, queries=bench.django_task("queries", json.dumps(asked)), latency={}
        )
        if size in plan.timed:
            for login, group in kinds.items():
                paths = {kind: [path, marker] for kind, (_, path, marker) in group.items()}
                tag = f"pages-{login}-{engine.name}-{size}"
                bench.locust(
                    f"warm-{tag}", "PageUser", 2, plan.warmup_s, login=login, BENCH_PATHS=paths
                )
                stage.latency[login] = bench.locust(
                    tag, "PageUser", 1, plan.per_kind_s * len(paths), login=login, BENCH_PATHS=paths
                )
        self.stages[(engine.label, size)] = stage

    def report(self) -> None:
        plan, report = self.bench.plan, self.bench.report
        for (engine, size), stage in self.stages.items():
            if size != plan.budget_size or not stage.latency:
                continue
            for samples in stage.latency.values():
                for kind in {row["name"] for row in samples.rows} & stage.titles.keys():
                    times = samples.times(kind)
                    p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
                    report.add(
                        "2",
                        f"{stage.titles[kind].capitalize()} @ {size:,} numbers and entries on "
                        f"{engine}, p50 / p95",
                        f"{ms(p50)} / {ms(p95)} ({len(times)} requests; "
                        f"{stage.queries[kind]['later']} queries)",
                        f"p95 ≤ 50 ms at {plan.budget_size:,}",
                        holds=p95 <= 50 and not samples.failures(kind),
                    )
                failures = samples.failures(*stage.titles)
                if failures:
                    report.notes.append(
                        f"§2 {engine}: {len(failures)} requests failed, e.g. {failures[0]['error']}"
                    )
        self.detail()

    def detail(self) -> None:
        plan = self.bench.plan
        sizes = " / ".join(f"{size:,}" for size in plan.stages)
        timed = " | ".join(f"p50 / p95 @ {size:,}" for size in plan.timed)
        lines = [
            "## Home and audit pages detail",
            "",
            f"| Database | Page | Queries at {sizes} | {timed} |",
            "|---|---|---|" + "---|" * len(plan.timed),
        ]
        for engine in dict.fromkeys(label for label, _ in self.stages):
            stages = {size: s for (label, size), s in self.stages.items() if label == engine}
            last = stages[max(stages)]
            for kind, title in last.titles.items():
                queries = " / ".join(str(s.queries[kind]["later"]) for s in stages.values())
                cells = []
                for size in plan.timed:
                    stage = stages.get(size)
                    times = (
                        [t for s in stage.latency.values() for t in s.times(kind)] if stage else []
                    )
                    cells.append(f"{ms(percentile(times, 0.5))} / {ms(percentile(times, 0.95))}")
                lines.append(f"| {engine} | {title} | {queries} | {' | '.join(cells)} |")
        lines += [
            "",
            "Home and the operation page as `viewer`; the audit pages as the superuser `admin` "
            "(the admin's audit list is for superusers). Each login's pages are taken in turn "
            "by one client after a warm-up, as for the inventory.",
        ]
        self.bench.report.details += lines
