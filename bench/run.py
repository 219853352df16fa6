"""The benchmark: sets up, fills the portal's database stage by stage on each engine, lets
each section of DESIGN §7 measure at the right moment, then has each report."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.context import Bench
from bench.engines import available
from bench.report import Report, seconds
from bench.sections.batches import Batches
from bench.sections.catalogue import Catalogue
from bench.sections.exports import Exports
from bench.sections.inventory import Inventory
from bench.sections.memory import Memory
from bench.sections.pages import Pages
from bench.sections.sync import Sync
from bench.sections.tokens import Tokens
from bench.sections.verify import Verify


def run(bench: Bench) -> Report:
    plan, report = bench.plan, bench.report
    bench.setup()
    inventory, pages, exports, verify = (
        Inventory(bench),
        Pages(bench),
        Exports(bench),
        Verify(bench),
    )
    catalogue, tokens, sync, memory = Catalogue(bench), Tokens(bench), Sync(bench), Memory(bench)
    batches = Batches(bench)
    engines = available(plan.engines, bench.workdir)
    measured = []
    for engine in engines:
        if engine.problem:
            report.notes.append(f"**{engine.problem}**: nothing was measured on it.")
            continue
        measured.append(engine.label)
        bench.log(f"preparing a {engine.label} database (migrate, demo logins)")
        engine.create("template")
        bench.django_task("prepare", database_url=engine.url("template"))
        engine.create("portal", template="template")
        bench.start_portal(engine, "portal")
        if len(measured) == 1:  # these do not depend on the database
            tokens.measure()
            catalogue.measure()
        for size in plan.stages:
            bench.log(f"filling the {engine.label} database to {size:,} numbers and entries")
            filled = bench.django_task("fill", str(size))
            report.notes.append(
                f"Fill on {engine.label} to {size:,}: {filled['added']:,} numbers in "
                f"{seconds(filled['numbers_seconds'])}, {filled['entries']:,} audit entries in "
                f"{seconds(filled['trail_seconds'])}."
            )
            targets = bench.django_task("targets")
            inventory.measure(size, targets)
            pages.measure(size, targets)
            exports.measure(size)
            verify.measure(size)
        memory.measure()
        bench.stop_portal()
        sync.measure(engine)
        batches.measure(engine)
        engine.drop("portal")
        engine.drop("template")
    for section in (inventory, pages, exports, verify, catalogue, sync, batches, tokens, memory):
        section.report()
    report.header.append(
        f"Databases: {', '.join(measured) or 'none'} (each a database of the bench's own); "
        f"stages of {' → '.join(f'{size:,}' for size in plan.stages)} cached numbers and "
        "audit entries; budgets judged at the last."
    )
    report.header.append(f"Total bench time: {seconds(time.monotonic() - bench.started)}.")
    bench.describe_other_load()
    report.figures.sort(key=lambda f: f.section)  # stable: keeps each section's order
    return report


def clean_workdir(root: Path) -> Path:
    """A fresh directory for this run's files; older runs' are removed."""
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("run-*"):
        shutil.rmtree(old, ignore_errors=True)
    workdir = root / f"run-{datetime.now(tz=UTC):%Y%m%d-%H%M%S}"
    workdir.mkdir()
    return workdir
