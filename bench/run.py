"""The benchmark itself: starts the sandbox and the portal, measures, and reports."""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import psutil
import redis

from bench import live_listing
from bench.loadgen import Samples, percentile, request_overheads, run_locust, server_times
from bench.procs import PROJECT_DIR, CpuWatch, Processes, free_port, wait_for_url
from bench.report import Report, count, ms, ratio, seconds
from sandbox.control_client import SandboxControl

CLIENT_ID = "numbers-portal-demo"
CLIENT_SECRET = "sandbox-secret-change-me"  # noqa: S105 - the sandbox's public demo secret
VIEWER, VIEWER_PASSWORD = "viewer", "portal-demo"  # create_demo_users' demo login
TOKEN_OP = "POST /oauth/client_credential/accesstoken"  # noqa: S105 - an operation name
LIST_OP = "GET /account/numbers"
SEARCH_OP = "GET /number/search"
REDIS_MARKER = "numbers-portal-bench:owner"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"

# The inventory pages measured, as paths for a cache of `size` numbers (50 rows a page).
FILTER = "type=mobile-lvn&features=SMS&pattern=12&match=contains"


def source_version() -> str:
    """The commit measured, and whether the work tree differs from it (read-only git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        clean = (
            subprocess.run(
                ["git", "diff-index", "--quiet", "HEAD", "--"],  # noqa: S607
                cwd=PROJECT_DIR,
                capture_output=True,
                timeout=10,
                check=False,
            ).returncode
            == 0
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown source version"
    return f"commit {head}" + ("" if clean else " plus uncommitted changes")


# "home" is the dashboard, which the inventory's budget covers too (DESIGN §7).
PAGE_KINDS = ("plain", "filtered", "last", "home")


@dataclass(frozen=True)
class InventoryRun:
    queries: dict[str, dict]  # page kind -> bench.djangotasks.queries' figures
    latency: Samples  # one client, the page kinds in turn
    throughput: Samples  # four clients, the plain page
    api_calls: int
    live: live_listing.Listing
    failures: list[dict]


def inventory_paths(size: int) -> dict[str, str]:
    last = max(1, math.ceil(size / 50))
    return {
        "plain": "/inventory/",
        "filtered": f"/inventory/?{FILTER}",
        "last": f"/inventory/?page={last}",
        "home": "/",
    }


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...] = (100, 10_000, 100_000)
    sync_sizes: tuple[int, ...] = (1_000, 10_000)
    warmup_s: float = 3
    latency_run_s: float = 8  # one client, per page kind and size (the kinds taken in turn)
    throughput_run_s: float = 10  # four clients, per size
    live_full_up_to: int = 10_000  # larger accounts: list a sample and extrapolate
    live_sample_pages: int = 15
    catalogue_queries: int = 20
    sandbox_latency_ms: int = 50
    burst_users: int = 16
    burst_searches: int = 3
    workers: int = 2  # gunicorn.conf.py's defaults
    threads: int = 4


QUICK = Plan(
    sizes=(100, 2_000),
    sync_sizes=(300, 1_000),
    warmup_s=2,
    latency_run_s=3,
    throughput_run_s=3,
    live_full_up_to=500,
    live_sample_pages=3,
    catalogue_queries=5,
    burst_users=8,
    burst_searches=2,
)


class Bench:
    def __init__(self, plan: Plan, workdir: Path, processes: Processes, redis_url: str):
        self.plan = plan
        self.workdir = workdir
        self.procs = processes
        self.redis_url = redis_url
        self.report = Report()
        self.started = time.monotonic()
        self.redis: redis.Redis | None = None
        self.redis_problem = ""
        self.other_load: dict[str, float] = {}  # locust run -> cores used by other processes
        self.server_ms: dict[tuple[str, str], list[float]] = {}  # (run, page kind) -> ms

    # --- plumbing ---------------------------------------------------------------------------

    def log(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[bench {elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)

    def env(self, database: Path) -> dict[str, str]:
        """The portal's environment (gunicorn, manage.py, bench.djangotasks)."""
        cache_url = self.redis_url if self.redis else "locmemcache://numbers-portal-bench"
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "numbersportal.settings",
            "DJANGO_PRODUCTION": "false",
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"sqlite:///{database}",
            "CACHE_URL": cache_url,
            "SANDBOX_PORT": str(self.sandbox_port),
            "NUMBERS_API_BASE_URL": self.api_url,
            "NUMBERS_API_TOKEN_URL": self.token_url,
            "NUMBERS_API_CLIENT_ID": CLIENT_ID,
            "NUMBERS_API_CLIENT_SECRET": CLIENT_SECRET,
            "GUNICORN_BIND": f"127.0.0.1:{self.portal_port}",
            "WEB_CONCURRENCY": str(self.workers),
            "GUNICORN_THREADS": str(self.threads),
            "GUNICORN_ACCESS_LOG": "-",  # the bench reads gunicorn's times from it
            "PYTHONUNBUFFERED": "1",
        }

    def django_task(self, database: Path, *args: str) -> dict:
        name = f"task-{args[0]}"
        proc = self.procs.start(
            name, [sys.executable, "-m", "bench.djangotasks", *args], env=self.env(database)
        )
        if self.procs.wait(proc, timeout=600) != 0:
            raise RuntimeError(f"bench.djangotasks {args[0]} failed; see {self.procs.log_of(proc)}")
        lines = self.procs.log_of(proc).read_text(encoding="utf-8").strip().splitlines()
        return json.loads(lines[-1])

    def reset_sandbox(self, **options) -> None:
        """Start the sandbox over with these options. A reset forgets every token it issued,
        which a real gateway never does to a live token: drop the one the portal cached, so
        no figure counts a call refused for that (the next call fetches a new token)."""
        self.control.reset(**options)
        if self.redis is not None:
            for key in self.redis.scan_iter(match="*numbers-api:token*"):
                self.redis.delete(key)

    def calls(self) -> tuple[dict, dict]:
        state = self.control.state(numbers=False)
        return state["calls"], state["responses"]

    def locust(self, tag: str, user_class: str, users: int, run_time: float, **env) -> Samples:
        base = {
            "BENCH_USERNAME": VIEWER,
            "BENCH_PASSWORD": VIEWER_PASSWORD,
            "BENCH_SANDBOX": self.sandbox_url,
            "BENCH_CLIENT_ID": CLIENT_ID,
            "BENCH_CLIENT_SECRET": CLIENT_SECRET,
        }
        started = self.cpu.start()
        samples = run_locust(
            self.procs,
            tag=tag,
            workdir=self.workdir,
            host=self.portal_url,
            user_class=user_class,
            users=users,
            run_time=run_time,
            env={**base, **{k: str(v) for k, v in env.items()}},
        )
        self.other_load[tag] = self.cpu.cores(started)
        return samples

    def workers_of_gunicorn(self) -> list[psutil.Process]:
        return psutil.Process(self.gunicorn.pid).children()

    # --- setting up -------------------------------------------------------------------------

    def connect_redis(self) -> None:
        try:
            client = redis.Redis.from_url(self.redis_url, socket_timeout=2)
            client.ping()
        except (redis.RedisError, ValueError) as problem:
            self.redis_problem = f"Redis at {self.redis_url} is unavailable ({problem})"
            return
        owner = client.get(REDIS_MARKER)
        if client.dbsize() and owner is None:
            self.redis_problem = (
                f"Redis database {self.redis_url} holds keys the bench did not write; "
                "set BENCH_REDIS_URL to an empty database"
            )
            return
        if owner is not None and int(owner) != os.getpid() and psutil.pid_exists(int(owner)):
            self.redis_problem = (
                f"another bench (process {int(owner)}) is using Redis database "
                f"{self.redis_url}; set BENCH_REDIS_URL to another database"
            )
            return
        client.flushdb()  # only this database, which the marker says is the bench's own
        client.set(REDIS_MARKER, str(os.getpid()))
        self.redis = client

    def setup(self) -> None:
        plan = self.plan
        self.connect_redis()
        # Several workers need a shared cache (sessions, the token); without Redis the portal
        # runs as `make run` does: one process with threads.
        self.workers, self.threads = (plan.workers, plan.threads) if self.redis else (1, 8)
        self.sandbox_port, self.portal_port = free_port(), free_port()
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.api_url = f"{self.sandbox_url}/communication/nexmo/phone-numbers"
        self.token_url = (
            f"{self.sandbox_url}/oauth/client_credential/accesstoken?grant_type=client_credentials"
        )
        self.portal_url = f"http://127.0.0.1:{self.portal_port}"
        self.template_db = self.workdir / "template.sqlite3"
        self.portal_db = self.workdir / "portal.sqlite3"

        self.log("preparing the portal database (migrate, demo logins)")
        self.django_task(self.template_db, "prepare")
        shutil.copyfile(self.template_db, self.portal_db)

        self.log(f"starting the sandbox on {self.sandbox_url}")
        sandbox_argv = [
            sys.executable,
            "manage.py",
            "runsandbox",
            "--port",
            str(self.sandbox_port),
            "--state",
            str(self.workdir / "sandbox.sqlite3"),
            "--reset",
        ]
        self.sandbox = self.procs.start("sandbox", sandbox_argv, env=self.env(self.portal_db))
        wait_for_url(f"{self.sandbox_url}/_sandbox/state?numbers=0", self.sandbox)
        self.control = SandboxControl(self.sandbox_url, timeout=120)

        self.log(
            f"starting the portal under gunicorn on {self.portal_url} "
            f"({self.workers} workers × {self.threads} threads)"
        )
        gunicorn_argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "numbersportal.wsgi",
            "--config",
            "gunicorn.conf.py",
        ]
        self.gunicorn = self.procs.start("gunicorn", gunicorn_argv, env=self.env(self.portal_db))
        # The login page, not /healthz: the health check asks for an API token.
        wait_for_url(f"{self.portal_url}/login/", self.gunicorn)
        self.cpu = CpuWatch(
            lambda: [
                self.sandbox.pid,
                self.gunicorn.pid,
                *(w.pid for w in self.workers_of_gunicorn()),
            ]
        )

        cache = "Redis " + self.redis_url if self.redis else "in-process (locmem)"
        self.report.header += [
            f"Run {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}"
            f" ({os.cpu_count()} cores, Python {platform.python_version()}), "
            f"{source_version()}.",
            f"Portal: gunicorn (gunicorn.conf.py) with {self.workers} worker(s) × {self.threads}"
            f" threads on loopback; SQLite (a file of the bench's own; the default engine); "
            f"cache: {cache}. Sandbox: `manage.py runsandbox` in its own process.",
            "Load: locust (FastHttpUser), each simulated user signed in through the login form.",
        ]
        if self.redis_problem:
            self.report.notes.append(
                f"**{self.redis_problem}**: the portal ran with an in-process cache and one "
                "worker, and the token burst across workers (§4) was not measured."
            )

    # --- 4. the OAuth token across workers ----------------------------------------------------

    def token_burst(self) -> None:
        plan = self.plan
        budget = "1 fetch per expiry for all workers together"
        if not self.redis:
            self.report.add(
                "4", "Token fetches in a burst across workers", "not measured", budget, skipped=True
            )
            return
        self.reset_sandbox(quota="generous", latency_ms=plan.sandbox_latency_ms)
        workers = self.workers_of_gunicorn()
        cpu_before = {w.pid: sum(w.cpu_times()[:2]) for w in workers}
        self.log(
            f"token burst: {plan.burst_users} users, {plan.burst_searches} new searches each, "
            "with no token cached, then again after the sandbox expired every token"
        )
        samples = self.locust(
            "burst",
            "BurstUser",
            plan.burst_users,
            run_time=120,
            BENCH_BURST_SEARCHES=plan.burst_searches,
        )
        busy = sum(1 for w in workers if sum(w.cpu_times()[:2]) - cpu_before[w.pid] > 0.2)
        bursts = samples.notes.get("bursts") or [{}, {}]
        failures = samples.failures("burst-0", "burst-1")
        for number, (burst, title) in enumerate(
            zip(bursts, ("cold start (no token cached)", "after every token expired"), strict=True)
        ):
            fetched = burst.get("token_calls")
            searches = burst.get("searches", 0)
            times = samples.times(f"burst-{number}")
            self.report.add(
                "4",
                f"Token fetches, burst {number + 1}: {title}",
                f"{fetched} fetch(es) for {searches} concurrent new searches "
                f"({plan.burst_users} clients, {busy} of {len(workers)} workers busy; "
                f"p95 {ms(percentile(times, 0.95))})",
                budget,
                holds=fetched == 1 and not failures,
            )
        if failures:
            self.report.notes.append(
                f"§4: {len(failures)} burst searches failed, e.g. {failures[0]['error']}"
            )

    # --- 2. catalogue ---------------------------------------------------------------------------

    def catalogue(self) -> None:
        plan = self.plan
        self.reset_sandbox(quota="generous", latency_ms=plan.sandbox_latency_ms)
        queries = []
        for n in range(plan.catalogue_queries):
            digits = f"{10 + n:02d}"
            queries.append(
                {
                    "portal": f"country=GB&type=mobile-lvn&pattern={digits}&match=contains",
                    "api": urlencode(
                        {
                            "country": "GB",
                            "type": "mobile-lvn",
                            "pattern": digits,
                            "search_pattern": 1,
                            "index": 1,
                            "size": 20,
                        }
                    ),
                    "warm": "country=GB&type=landline&pattern=9&match=contains",
                }
            )
        self.log(
            f"catalogue: {len(queries)} new searches, then their repeats; sandbox latency "
            f"{plan.sandbox_latency_ms} ms"
        )
        samples = self.locust(
            "catalogue", "CatalogueUser", 1, run_time=120, BENCH_QUERIES=json.dumps(queries)
        )
        phases = samples.notes.get("phases", {})
        failures = samples.failures("new", "repeat", "direct")
        for phase, title, expected in (("new", "new", 1), ("repeat", "repeated", 0)):
            got = phases.get(phase, {})
            per = got.get("api_calls", math.nan) / max(got.get("searches", 0), 1)
            self.report.add(
                "2",
                f"Catalogue: API calls per {title} search",
                f"{per:g} ({got.get('api_calls')} for {got.get('searches')} searches)",
                f"{expected} per {title} search",
                holds=per == expected and not failures,
            )
        direct, new, repeat = (samples.times(p) for p in ("direct", "new", "repeat"))
        pairs = [n - d for n, d in zip(new, direct, strict=False)]
        server = request_overheads(self.procs.log_of(self.gunicorn), "new")
        overhead = percentile(server, 0.5) if server else math.nan
        self.report.add(
            "2",
            f"Catalogue: portal overhead on a new search, on the server (sandbox latency "
            f"{plan.sandbox_latency_ms} ms)",
            f"{ms(overhead)} p50, {ms(percentile(server, 0.95)) if server else '–'} p95 over "
            f"{len(server)} searches (gunicorn's time for each request − the API call's time "
            "the portal logged for it)",
            "≤ 10 ms (p50) on top of the API",
            holds=overhead <= 10 and not failures,
        )
        self.report.add(
            "2",
            "Catalogue: the same, seen from the load generator",
            f"{ms(percentile(pairs, 0.5))} p50, {ms(percentile(pairs, 0.95))} p95 (portal p50 "
            f"{ms(percentile(new, 0.5))} − sandbox p50 {ms(percentile(direct, 0.5))}, each "
            "with its own connection and client-side costs); a repeated search, with no API "
            f"call, takes {ms(percentile(repeat, 0.5))} p50",
            "–",
            holds=None,
        )
        if failures:
            self.report.notes.append(
                f"§2: {len(failures)} catalogue requests failed, e.g. {failures[0]['error']}"
            )

    # --- 1. inventory ---------------------------------------------------------------------------

    def inventory(self) -> None:
        plan = self.plan
        results = [self.inventory_at(size) for size in plan.sizes]
        self.server_ms = server_times(self.procs.log_of(self.gunicorn))
        largest = max(plan.sizes)
        for size, got in zip(plan.sizes, results, strict=True):
            label = f"Inventory @ {size:,}"
            for kind in PAGE_KINDS:
                times = got.latency.times(kind)
                p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
                server = self.server_ms.get((f"latency-{size}", kind), [])
                budget, holds = "", None
                if size == largest:
                    budget, holds = "p95 ≤ 50 ms at 100,000", p95 <= 50 and not got.failures
                self.report.add(
                    "1",
                    f"{label}: {kind} page, response time p50 / p95",
                    f"{ms(p50)} / {ms(p95)} ({len(times)} requests, 1 client; gunicorn's own "
                    f"time {ms(percentile(server, 0.5))} / {ms(percentile(server, 0.95))})",
                    budget,
                    holds,
                )
            self.report.add(
                "1",
                f"{label}: requests/s, 4 concurrent clients (plain page)",
                f"{got.throughput.throughput('plain'):.0f} req/s",
                "",
                None,
            )
            self.report.add(
                "1",
                f"{label}: API calls while serving the pages",
                str(got.api_calls),
                "no API call",
                got.api_calls == 0,
            )
            plain_p50 = percentile(got.latency.times("plain"), 0.5) / 1000
            live = got.live
            how = (
                f"estimated from {live.pages} of {live.pages_total} pages"
                if live.sampled
                else f"{live.pages_total} page(s), measured"
            )
            self.report.add(
                "1",
                f"{label}: live listing without a cache (strict quota)",
                f"{seconds(live.estimated_seconds)} ({how}, {live.throttled} × 429) — "
                f"{ratio(live.estimated_seconds / plain_p50)} the portal's plain-page p50",
                "",
                None,
            )
            if got.failures:
                self.report.notes.append(
                    f"§1 @ {size:,}: {len(got.failures)} page requests failed, "
                    f"e.g. {got.failures[0]['error']}"
                )

        smallest = min(plan.sizes)
        for kind in PAGE_KINDS:
            later = {
                size: got.queries[kind]["later"]
                for size, got in zip(plan.sizes, results, strict=True)
            }
            first = max(got.queries[kind]["first"] for got in results)
            statuses = {code for got in results for code in got.queries[kind]["statuses"]}
            self.report.add(
                "1",
                f"Inventory: queries per {kind} page at "
                + " / ".join(f"{size:,}" for size in plan.sizes),
                " / ".join(str(later[size]) for size in plan.sizes)
                + f" (first view after a cache change: {first})",
                f"same at {smallest:,} and {largest:,}, ≤ 6",
                holds=later[smallest] == later[largest]
                and max(later.values()) <= 6
                and statuses == {200},
            )
        self.inventory_detail(plan.sizes, results)

    def inventory_at(self, size: int) -> InventoryRun:
        plan = self.plan
        self.log(f"inventory at {size:,} numbers: filling the cache")
        self.reset_sandbox(owned=size, quota="strict", latency_ms=0)
        self.django_task(self.portal_db, "fill", self.sandbox_url)
        paths = inventory_paths(size)
        counted = self.django_task(self.portal_db, "queries", json.dumps(list(paths.values())))
        calls_before, _ = self.calls()
        self.log(
            f"inventory at {size:,}: load (warm-up; 1 client taking the pages in turn; "
            "4 clients on the plain page)"
        )
        pages = json.dumps(paths)
        self.locust(f"warm-{size}", "PageUser", 4, plan.warmup_s, BENCH_PATHS=pages)
        latency = self.locust(
            f"latency-{size}", "PageUser", 1, plan.latency_run_s * len(paths), BENCH_PATHS=pages
        )
        throughput = self.locust(
            f"rps-{size}",
            "PageUser",
            4,
            plan.throughput_run_s,
            BENCH_PATHS=json.dumps({"plain": paths["plain"]}),
        )
        calls_after, _ = self.calls()

        sample = None if size <= plan.live_full_up_to else plan.live_sample_pages
        self.log(
            f"inventory at {size:,}: live listing through the API under the strict quota"
            + (f" ({sample} pages, then extrapolated)" if sample else "")
        )
        live = live_listing.list_live(
            api_url=self.api_url,
            token_url=self.token_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            total=size,
            max_pages=sample,
        )
        return InventoryRun(
            queries={kind: counted[path] for kind, path in paths.items()},
            latency=latency,
            throughput=throughput,
            api_calls=sum(calls_after.values()) - sum(calls_before.values()),
            live=live,
            failures=latency.failures(*PAGE_KINDS) + throughput.failures(*PAGE_KINDS),
        )

    def inventory_detail(self, sizes, results) -> None:
        lines = [
            "## Inventory detail",
            "",
            "| Numbers cached | Page | Queries | DB time | p50 | p95 | gunicorn p50 | gunicorn p95 "
            "| Other load | Live listing | Ratio |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for size, got in zip(sizes, results, strict=True):
            load = self.other_load.get(f"latency-{size}", math.nan)
            for kind in PAGE_KINDS:
                times = got.latency.times(kind)
                server = self.server_ms.get((f"latency-{size}", kind), [])
                p50 = percentile(times, 0.5)
                lines.append(
                    f"| {count(size)} | {kind} | {got.queries[kind]['later']} "
                    f"| {ms(got.queries[kind]['db_ms'])} | {ms(p50)} "
                    f"| {ms(percentile(times, 0.95))} "
                    f"| {ms(percentile(server, 0.5))} | {ms(percentile(server, 0.95))} "
                    f"| {load:.2f} cores | {seconds(got.live.estimated_seconds)} "
                    f"| {ratio(got.live.estimated_seconds * 1000 / p50)} |"
                )
        lines += [
            "",
            "Pages: plain `/inventory/`; filtered `/inventory/?" + FILTER + "`; last: the last "
            "page of 50; home: the dashboard `/`; taken in turn by one client for "
            f"{self.plan.latency_run_s * len(PAGE_KINDS):.0f} s. p50/p95: response times at the "
            "client (locust); gunicorn p50/p95: the server's own time for the same requests, "
            "from its access log (whole milliseconds). Queries and DB time: Django test client "
            "as `viewer` under CaptureQueriesContext against the portal's database and cache "
            "(a later view; the first view after the cache changed also recounts the totals "
            "and reads the sync status). "
            "Other load: CPU used by processes the bench did not start during that "
            f"measurement, in cores of the machine's {os.cpu_count()}. Live listing: a client "
            "without a cache listing the same account through the API, 100 a page, paced by "
            "the quota headers; ratio = live listing ÷ the portal's p50 for that page.",
        ]
        self.report.details += lines

    # --- 3. sync ------------------------------------------------------------------------------

    def sync(self) -> None:
        for size in self.plan.sync_sizes:
            pages = math.ceil(size / 100)
            floor = pages - 1
            self.log(f"sync of {size:,} owned numbers under the strict quota (floor {floor} s)")
            self.reset_sandbox(owned=size, quota="strict", latency_ms=0)
            database = self.workdir / f"sync-{size}.sqlite3"
            shutil.copyfile(self.template_db, database)
            calls_before, responses_before = self.calls()
            started = time.monotonic()
            proc = self.procs.start(
                f"sync-{size}",
                [sys.executable, "manage.py", "sync_numbers"],
                env=self.env(database),
            )
            code = self.procs.wait(proc, timeout=pages * 3 + 120)
            process_seconds = time.monotonic() - started
            calls_after, responses_after = self.calls()
            run = self.django_task(database, "syncrun")
            list_calls = calls_after.get(LIST_OP, 0) - calls_before.get(LIST_OP, 0)
            refused = responses_after.get(LIST_OP, {}).get("401", 0) - responses_before.get(
                LIST_OP, {}
            ).get("401", 0)
            throttled = sum(
                counts.get("429", 0) - responses_before.get(op, {}).get("429", 0)
                for op, counts in responses_after.items()
            )
            wall = run.get("seconds") or math.nan
            ok = code == 0 and run.get("status") == "succeeded"
            label = f"Sync of {size:,}"
            self.report.add(
                "3",
                f"{label}: list calls",
                f"{list_calls} (⌈N/100⌉ = {pages}"
                + (f"; {refused} refused with 401)" if refused else ")"),
                f"exactly ⌈N/100⌉ = {pages}",
                holds=ok and list_calls == pages,
            )
            self.report.add(
                "3", f"{label}: 429s received", str(throttled), "0", holds=ok and throttled == 0
            )
            self.report.add(
                "3",
                f"{label}: wall time vs the quota's floor",
                f"{seconds(wall)} = {wall / floor:.3f}× the floor of {floor} s "
                f"(sync_numbers process: {seconds(process_seconds)})",
                f"≤ 1.10 × floor = {floor * 1.1:.1f} s",
                holds=ok and wall <= floor * 1.1,
            )
            if not ok:
                self.report.notes.append(
                    f"§3: the sync of {size:,} ended {run.get('status')}: {run.get('message')}"
                )
            database.unlink(missing_ok=True)
        self.report.notes.append(
            "§3 floor: the strict quota allows one `GET /account/numbers` per one-second window, "
            "so ⌈N/100⌉ calls span about ⌈N/100⌉ − 1 s (up to a second less: the windows are "
            "aligned to whole seconds, and the first call may come late in one). Wall time is "
            "the sync's own (SyncRun started → finished: token, listing, writing the cache), from "
            "`manage.py sync_numbers` against an empty cache."
        )

    # --- 5. memory ------------------------------------------------------------------------------

    def memory(self) -> None:
        peaks = []
        for worker in self.workers_of_gunicorn():
            status = Path(f"/proc/{worker.pid}/status").read_text(encoding="utf-8")
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
        self.report.add(
            "5",
            "Peak RSS of a gunicorn worker after the runs (VmHWM)",
            " / ".join(f"{peak:.0f} MiB" for peak in sorted(peaks, reverse=True)),
            "",
            None,
        )

    def describe_other_load(self) -> None:
        loads = [v for k, v in self.other_load.items() if not k.startswith("warm")]
        if not loads:
            return
        mean, peak = sum(loads) / len(loads), max(loads)
        self.report.header.append(
            f"Other processes on this machine used {mean:.2f} cores on average (at most "
            f"{peak:.2f}) during the load runs."
        )
        if peak > 0.25:
            self.report.notes.insert(
                0,
                f"**The machine was not quiet**: other processes used up to {peak:.2f} of its "
                f"{os.cpu_count()} cores during the load runs (see 'Other load'). Response "
                "times and requests/s are then higher and lower than on a quiet machine, and "
                "p95s suffer most.",
            )

    # --- the whole run ----------------------------------------------------------------------

    def run(self) -> Report:
        self.setup()
        self.token_burst()
        self.catalogue()
        self.inventory()
        self.sync()
        self.memory()
        total = time.monotonic() - self.started
        self.report.header.append(f"Total bench time: {seconds(total)}.")
        self.describe_other_load()
        self.report.figures.sort(key=lambda f: f.section)  # stable: keeps each section's order
        return self.report


def clean_workdir(root: Path) -> Path:
    """A fresh directory for this run's files; older runs' are removed."""
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("run-*"):
        shutil.rmtree(old, ignore_errors=True)
    workdir = root / f"run-{datetime.now(tz=UTC):%Y%m%d-%H%M%S}"
    workdir.mkdir()
    return workdir


def remove_databases(workdir: Path) -> None:
    for path in workdir.glob("*.sqlite3*"):
        path.unlink(missing_ok=True)
