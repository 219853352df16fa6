"""What every section of the bench shares: the processes it started (the sandbox, the
portal under gunicorn on one database at a time), the environment they run in, the load
generator, Redis, and the report being written."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import redis
import requests

from bench.engines import Engine
from bench.loadgen import Samples, run_locust
from bench.plan import Plan
from bench.procs import PROJECT_DIR, CpuWatch, Processes, free_port, wait_for_url
from bench.report import Report
from sandbox.control_client import SandboxControl

CLIENT_ID = "numbers-portal-demo"
CLIENT_SECRET = "sandbox-secret-change-me"  # noqa: S105 - the sandbox's public demo secret
PASSWORD = "portal-demo"  # noqa: S105 - create_demo_users' public demo password
VIEWER, SUPERUSER = "viewer", "admin"
TOKEN_OP = "POST /oauth/client_credential/accesstoken"  # noqa: S105 - an operation name
LIST_OP = "GET /account/numbers"
SEARCH_OP = "GET /number/search"
REDIS_MARKER = "numbers-portal-bench:owner"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


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
        changed = subprocess.run(
            ["git", "diff-index", "--quiet", "HEAD", "--"],  # noqa: S607
            cwd=PROJECT_DIR,
            capture_output=True,
            timeout=10,
            check=False,
        ).returncode
    except (OSError, subprocess.SubprocessError):
        return "unknown source version"
    return f"commit {head}" + (" plus uncommitted changes" if changed else "")


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
        self.gunicorn: subprocess.Popen | None = None
        self.database_url = ""
        self.engine: Engine | None = None
        self.results: dict = {}  # section -> what it measured, for its report

    # --- plumbing ---------------------------------------------------------------------------

    def log(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[bench {elapsed:7.1f}s] {message}", file=sys.stderr, flush=True)

    def env(self, database_url: str | None = None) -> dict[str, str]:
        """The portal's environment (gunicorn, manage.py, bench.djangotasks)."""
        cache_url = self.redis_url if self.redis else "locmemcache://numbers-portal-bench"
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "numbersportal.settings",
            "DJANGO_PRODUCTION": "false",
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url or self.database_url,
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

    def django_task(self, *args: str, database_url: str | None = None, timeout=3600) -> dict:
        name = f"task-{args[0]}"
        proc = self.procs.start(
            name, [sys.executable, "-m", "bench.djangotasks", *args], env=self.env(database_url)
        )
        if self.procs.wait(proc, timeout=timeout) != 0:
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

    def locust(
        self, tag: str, user_class: str, users: int, run_time: float, *, login=VIEWER, **env
    ) -> Samples:
        base = {
            "BENCH_USERNAME": login,
            "BENCH_PASSWORD": PASSWORD,
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
            env={**base, **{k: v if isinstance(v, str) else json.dumps(v) for k, v in env.items()}},
        )
        self.other_load[tag] = self.cpu.cores(started)
        return samples

    def session(self, login: str) -> requests.Session:
        """A browser-like session signed in through the login form."""
        session = requests.Session()
        page = session.get(f"{self.portal_url}/login/", timeout=30)
        token = _CSRF.search(page.text)
        if token is None:
            raise RuntimeError("no CSRF token on the portal's login page")
        answer = session.post(
            f"{self.portal_url}/login/",
            data={"username": login, "password": PASSWORD, "csrfmiddlewaretoken": token[1]},
            headers={"Referer": f"{self.portal_url}/login/"},
            allow_redirects=False,
            timeout=30,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"the portal refused the {login} login ({answer.status_code})")
        return session

    def workers_of_gunicorn(self) -> list[psutil.Process]:
        return psutil.Process(self.gunicorn.pid).children() if self.gunicorn else []

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

        self.log(f"starting the sandbox on {self.sandbox_url}")
        sandbox_argv = [
            *(sys.executable, "manage.py", "runsandbox", "--port", str(self.sandbox_port)),
            *("--state", str(self.workdir / "sandbox.sqlite3"), "--reset"),
        ]
        self.sandbox = self.procs.start("sandbox", sandbox_argv, env=self.env("sqlite://"))
        wait_for_url(f"{self.sandbox_url}/_sandbox/state?numbers=0", self.sandbox)
        self.control = SandboxControl(self.sandbox_url, timeout=300)
        self.cpu = CpuWatch(
            lambda: [
                self.sandbox.pid,
                *([self.gunicorn.pid] if self.gunicorn else []),
                *(w.pid for w in self.workers_of_gunicorn()),
            ]
        )
        cache = "Redis " + self.redis_url if self.redis else "in-process (locmem)"
        self.report.header += [
            f"Run {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}"
            f" ({os.cpu_count()} cores, Python {platform.python_version()}), "
            f"{source_version()}.",
            f"Portal: gunicorn (gunicorn.conf.py) with {self.workers} worker(s) × {self.threads}"
            f" threads on loopback; cache: {cache}. Sandbox: `manage.py runsandbox` in its own "
            "process.",
            "Load: locust (FastHttpUser), each simulated user signed in through the login form.",
        ]
        if self.redis_problem:
            self.report.notes.append(
                f"**{self.redis_problem}**: the portal ran with an in-process cache and one "
                "worker, and the token burst across workers (§8) was not measured."
            )

    def start_portal(self, engine: Engine, database: str) -> None:
        """gunicorn on `database` (stopping the one that served another)."""
        self.stop_portal()
        self.engine, self.database_url = engine, engine.url(database)
        self.log(
            f"starting the portal under gunicorn on {self.portal_url} ({engine.label}, "
            f"{self.workers} workers × {self.threads} threads)"
        )
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "numbersportal.wsgi",
            "--config",
            "gunicorn.conf.py",
        ]
        self.gunicorn = self.procs.start(f"gunicorn-{engine.name}", argv, env=self.env())
        # The login page, not /healthz: the health check asks for an API token.
        wait_for_url(f"{self.portal_url}/login/", self.gunicorn)

    def stop_portal(self) -> None:
        if self.gunicorn is not None:
            self.procs.stop(self.gunicorn)
            self.gunicorn = None

    def gunicorn_log(self) -> Path:
        assert self.gunicorn is not None, "the portal is not running"
        return self.procs.log_of(self.gunicorn)

    @property
    def current(self) -> Engine:
        """The database the portal runs on now."""
        assert self.engine is not None, "the portal is not running"
        return self.engine

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
