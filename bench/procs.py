"""The processes the bench starts: each in a process group of its own, logged to a file, and
stopped (by that group's id) when the bench ends, fails or is interrupted."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

PROJECT_DIR = Path(__file__).resolve().parent.parent


class Processes:
    def __init__(self, logdir: Path):
        self.logdir = logdir
        self._running: list[subprocess.Popen] = []
        self._logs: dict[int, Path] = {}
        self._programs: dict[int, str] = {}  # what each process runs, for messages

    def start(self, name: str, argv: list[str], *, env: dict[str, str]) -> subprocess.Popen:
        log = self.logdir / f"{name}.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                argv,
                cwd=PROJECT_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: Ctrl-C reaches only the bench
            )
        self._running.append(proc)
        self._logs[proc.pid] = log
        self._programs[proc.pid] = argv[0]
        return proc

    def log_of(self, proc: subprocess.Popen) -> Path:
        return self._logs[proc.pid]

    def wait(self, proc: subprocess.Popen, *, timeout: float) -> int:
        """Wait for a process that ends by itself; stop it if it overruns."""
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(proc)
            raise RuntimeError(
                f"{self._programs[proc.pid]} … ran over {timeout:.0f} s and was stopped; "
                f"see {self.log_of(proc)}"
            ) from None
        finally:
            if proc.poll() is not None and proc in self._running:
                self._running.remove(proc)

    def stop(self, proc: subprocess.Popen, *, grace: float = 15) -> None:
        """SIGTERM to the process's group (it and its children), SIGKILL after `grace`."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if proc in self._running:
            self._running.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self._running)):
            self.stop(proc)

    def run_measured(self, name: str, argv: list[str], *, env: dict[str, str], timeout: float):
        """Run a process to its end and return what it cost: exit code, wall time, CPU time
        (user + system) and peak resident memory, as the kernel accounted them."""
        started = time.monotonic()
        proc = self.start(name, argv, env=env)
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - started > timeout:
                    self.stop(proc)
                    raise RuntimeError(f"{name} ran over {timeout:.0f} s; see {self.log_of(proc)}")
                time.sleep(0.05)
        finally:
            if proc in self._running:
                self._running.remove(proc)
        proc.returncode = os.waitstatus_to_exitcode(status)
        return Usage(
            code=proc.returncode,
            wall=time.monotonic() - started,
            cpu=usage.ru_utime + usage.ru_stime,
            peak_mib=usage.ru_maxrss / 1024,
            log=self.log_of(proc),
        )


@dataclass(frozen=True)
class Usage:
    code: int
    wall: float  # seconds
    cpu: float  # seconds of CPU, user + system
    peak_mib: float  # peak resident memory
    log: Path


def _status(pid: int) -> dict[str, str]:
    text = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def rss_mib(pid: int) -> float:
    return int(_status(pid)["VmRSS"].split()[0]) / 1024


def peak_mib(pid: int) -> float:
    """A process's peak resident memory (VmHWM) since it started or since `peak_reset`."""
    return int(_status(pid)["VmHWM"].split()[0]) / 1024


def peak_reset(pid: int) -> bool:
    """Start a process's peak memory over from its current size (Linux: clear_refs 5)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5", encoding="utf-8")
    except OSError:
        return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_url(url: str, proc: subprocess.Popen, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process serving it exited ({proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback only
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


class CpuWatch:
    """How busy the rest of the machine was while something was measured: CPU time used by
    processes the bench did not start, per second of wall time, in cores. The bench's own
    processes are itself, its waited-for children (locust, tasks), `own_pids()` (the sandbox,
    gunicorn and its workers) and the Redis server, whose work is mostly the portal's."""

    def __init__(self, own_pids):
        self.own_pids = own_pids

    def _own(self) -> float:
        times = psutil.Process().cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        pids = set(self.own_pids())
        pids |= {p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server"}
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                own = psutil.Process(pid).cpu_times()
                total += own.user + own.system
        return total

    @staticmethod
    def _busy() -> float:
        times = psutil.cpu_times()
        return times.user + times.nice + times.system + times.irq + times.softirq

    def start(self) -> tuple[float, float, float]:
        return time.monotonic(), self._busy(), self._own()

    def cores(self, started: tuple[float, float, float]) -> float:
        wall, busy, own = started
        elapsed = time.monotonic() - wall
        other = (self._busy() - busy) - (self._own() - own)
        return max(0.0, other / elapsed) if elapsed > 0 else 0.0
