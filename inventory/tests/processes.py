"""Real portal processes for tests (the sync worker, gunicorn), pointed at the test's own
database and the session's sandbox. Use them from a TrailTransactionTestCase: a subprocess
sees only committed rows."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

PROJECT_DIR = Path(settings.BASE_DIR)
# Safety nets only: no test asserts how long anything took.
START_TIMEOUT = 60
STOP_TIMEOUT = 30


def database_url() -> str:
    """The URL of the database this test is using (the test database, not the real one)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{host}/{quote(db['NAME'], safe='')}"


def portal_environment(**overrides: str) -> dict[str, str]:
    """The environment of a portal process in development mode, on this test's database and
    the session sandbox (with the suite's short API timeouts)."""
    api = settings.NUMBERS_API
    return {
        **os.environ,
        "DJANGO_PRODUCTION": "false",
        "DATABASE_URL": database_url(),
        "NUMBERS_API_BASE_URL": api["BASE_URL"],
        "NUMBERS_API_TOKEN_URL": api["TOKEN_URL"],
        "NUMBERS_API_CLIENT_ID": api["CLIENT_ID"],
        "NUMBERS_API_CLIENT_SECRET": api["CLIENT_SECRET"],
        "NUMBERS_API_CONNECT_TIMEOUT": str(api["CONNECT_TIMEOUT"]),
        "NUMBERS_API_READ_TIMEOUT": str(api["READ_TIMEOUT"]),
        "NUMBERS_API_DEADLINE": str(api["DEADLINE"]),
        "LOG_FORMAT": "plain",
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PortalProcess:
    """A child process whose output (stdout and stderr together) goes to a file the test can
    read while it runs. Always stopped: use as a context manager, or call stop()."""

    def __init__(self, *args: str, env: dict[str, str]):
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="np-process-", suffix=".log", delete=False
        )
        self.args = args
        self.process = subprocess.Popen(
            args, cwd=PROJECT_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    @classmethod
    def manage(cls, *args: str, env: dict[str, str]) -> PortalProcess:
        return cls(sys.executable, "manage.py", *args, env=env)

    @property
    def output(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def wait_for(self, text: str, *, timeout: float = START_TIMEOUT) -> str:
        """Wait until `text` appears in the output; fail with the output if it never does."""
        give_up = time.monotonic() + timeout
        while text not in self.output:
            if self.process.poll() is not None:
                raise AssertionError(f"exited ({self.process.returncode}):\n{self.output}")
            if time.monotonic() > give_up:
                raise AssertionError(f"no {text!r} within {timeout} s:\n{self.output}")
            time.sleep(0.05)
        return self.output

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after {timeout} s:\n{self.output}") from None

    def stop(self) -> None:
        """Terminate (then kill) if still running; remove the output file."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def __enter__(self) -> PortalProcess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


class RedisServer:
    """A redis-server of the test's own on a free loopback port, to stop and start again
    (never the shared one). With `persist`, it saves its data when stopped and loads it when
    started, as a production Redis with snapshots does."""

    def __init__(self, *, persist: bool = False):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="np-redis-")
        self._persist = persist
        self._process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self._dir, "--appendonly", "no",
                "--save", "3600 1" if self._persist else ""]  # fmt: skip
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        give_up = time.monotonic() + START_TIMEOUT
        while not self.answers():
            if self._process.poll() is not None:
                raise AssertionError(f"redis-server exited ({self._process.returncode})")
            if time.monotonic() > give_up:
                raise AssertionError("redis-server never answered")
            time.sleep(0.05)
        return self

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """SIGTERM: Redis shuts down (saving first, with `persist`) and the port closes."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=STOP_TIMEOUT)
        self._process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
