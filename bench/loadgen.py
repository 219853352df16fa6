"""Runs locust (headless, one user class at a time) and turns its raw samples into figures."""

from __future__ import annotations

import json
import math
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.procs import Processes

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass(frozen=True)
class Samples:
    """The requests of one locust run, by name, as (start epoch s, duration ms, ok)."""

    rows: list[dict]
    notes: dict

    def named(self, name: str) -> list[dict]:
        return [row for row in self.rows if row["name"] == name]

    def times(self, name: str) -> list[float]:
        return [row["ms"] for row in self.named(name) if row["ok"]]

    def failures(self, *names: str) -> list[dict]:
        return [row for row in self.rows if row["name"] in names and not row["ok"]]

    def throughput(self, *names: str) -> float:
        """Requests per second over the span of the named requests (logins excluded)."""
        rows = [row for name in names for row in self.named(name)]
        if len(rows) < 2:
            return 0.0
        first = min(row["start"] for row in rows)
        last = max(row["start"] + row["ms"] / 1000 for row in rows)
        return len([row for row in rows if row["ok"]]) / (last - first)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (the value below which `fraction` of the samples fall)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def run_locust(
    processes: Processes,
    *,
    tag: str,
    workdir: Path,
    host: str,
    user_class: str,
    users: int,
    run_time: float,
    env: dict[str, str],
) -> Samples:
    """Run locust headless for at most `run_time` seconds and return its samples.
    `tag` names the output and log files in `workdir`."""
    out = workdir / f"locust-{tag}.json"
    out.unlink(missing_ok=True)
    argv = [
        *(sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary"),
        *("--host", host, "--users", str(users), "--spawn-rate", str(users)),
        *("--run-time", f"{max(1, round(run_time))}s", "--stop-timeout", "10"),
        *("--loglevel", "WARNING", "--exit-code-on-error", "0", user_class),
    ]
    child_env = {
        **os.environ,
        **env,
        "BENCH_OUT": str(out),
        "BENCH_USERS": str(users),
        "BENCH_TAG": tag,
    }
    proc = processes.start(f"locust-{tag}", argv, env=child_env)
    processes.wait(proc, timeout=run_time + 60)
    if not out.exists():
        raise RuntimeError(f"locust ({tag}) wrote no results; see {processes.log_of(proc)}")
    data = json.loads(out.read_text(encoding="utf-8"))
    return Samples(rows=data["samples"], notes=data["notes"])


# gunicorn.conf.py's access line: ... "GET /path HTTP/1.1" 200 35757 38ms rid=<request id>
_ACCESS_LINE = re.compile(r'" (\d{3}) \S+ (\d+)ms rid=bench\.([^.\s]+)\.([^.\s]+)\.')


def server_times(gunicorn_log: Path) -> dict[tuple[str, str], list[float]]:
    """gunicorn's own time (ms) for each bench page request answered 200, by locust run tag
    and page kind."""
    times: dict[tuple[str, str], list[float]] = {}
    with open(gunicorn_log, encoding="utf-8", errors="replace") as log:
        for line in log:
            found = _ACCESS_LINE.search(line)
            if found and found.group(1) == "200":
                key = (found.group(3), found.group(4))
                times.setdefault(key, []).append(float(found.group(2)))
    return times


_ACCESS_BY_ID = re.compile(r'" 200 \S+ (\d+)ms rid=(bench\.catalogue\.[a-z]+\.\d+)\b')
# An API call as the portal logs it: "[<request id> <user>] GET /number/search -> 200 in 55 ms"
_API_CALL = re.compile(
    r"\[(bench\.catalogue\.[a-z]+\.\d+) [^\]]*\] GET /number/search -> 200 in (\d+) ms"
)


def request_overheads(gunicorn_log: Path, phase: str) -> list[float]:
    """For each catalogue request of `phase` that made an API call: gunicorn's time for the
    whole request minus the API call's time, as the portal itself logged it (both whole ms).
    That difference is the portal's own work around the call, measured on the server."""
    request_ms: dict[str, float] = {}
    api_ms: dict[str, float] = {}
    with open(gunicorn_log, encoding="utf-8", errors="replace") as log:
        for line in log:
            if found := _ACCESS_BY_ID.search(line):
                request_ms[found.group(2)] = float(found.group(1))
            elif found := _API_CALL.search(line):
                api_ms[found.group(1)] = api_ms.get(found.group(1), 0.0) + float(found.group(2))
    prefix = f"bench.catalogue.{phase}."
    return [
        request_ms[rid] - api_ms[rid]
        for rid in request_ms
        if rid.startswith(prefix) and rid in api_ms
    ]
