import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from sandbox.control_client import SandboxControl
from sandbox.server import SandboxOptions, SandboxServer

from .helpers import TIMEOUT

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_the_server_publishes_its_urls(server):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base_url)
    assert server.api_url == server.base_url + "/communication/nexmo/phone-numbers"
    assert server.token_url == (
        server.base_url + "/oauth/client_credential/accesstoken?grant_type=client_credentials"
    )


def test_port_zero_picks_a_free_port_each_time(tmp_path):
    first = SandboxServer(state_path=tmp_path / "a.sqlite3")
    second = SandboxServer(state_path=tmp_path / "b.sqlite3")
    try:
        assert first.port != second.port
        assert first.port > 0
    finally:
        first.stop()
        second.stop()


def test_start_returns_the_server_and_stop_can_be_repeated(tmp_path):
    server = SandboxServer(state_path=tmp_path / "state.sqlite3")

    assert server.start() is server
    assert requests.get(server.base_url + "/_sandbox/state", timeout=TIMEOUT).status_code == 200
    server.stop()
    server.stop()

    try:
        requests.get(server.base_url + "/_sandbox/state", timeout=1)
    except requests.ConnectionError:
        pass
    else:
        raise AssertionError("the server still answers after stop()")


def test_a_delayed_request_does_not_hold_up_the_others(sandbox):
    sandbox.token  # noqa: B018
    sandbox.fault(operation="GET /account/numbers", kind="delay", delay=2.0)
    slow_done = threading.Event()

    def slow_call():
        sandbox.get("/account/numbers")
        slow_done.set()

    slow = threading.Thread(target=slow_call)
    slow.start()
    time.sleep(0.1)

    response = sandbox.get("/number/search", {"country": "GB"})

    assert response.status_code == 200
    assert not slow_done.is_set()  # answered while the delayed call was still waiting
    slow.join()


def test_many_clients_at_once_are_all_served(sandbox):
    sandbox.token  # noqa: B018
    statuses = []

    def call():
        statuses.append(sandbox.get("/account/numbers").status_code)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 20
    assert sandbox.state()["calls"]["GET /account/numbers"] == 20


def test_none_of_the_portals_middleware_runs(sandbox):
    response = sandbox.post("/number/buy", {"country": "GB", "msisdn": "447700900123"})
    control = sandbox.control("GET", "state")

    assert response.status_code == 420  # no CSRF refusal, no login redirect
    for answered in (response, control):
        assert "X-Frame-Options" not in answered.headers
        assert "Content-Security-Policy" not in answered.headers
        assert "X-Request-ID" not in answered.headers
        assert "Set-Cookie" not in answered.headers


def test_responses_carry_a_content_length(sandbox):
    response = sandbox.get("/account/numbers")

    assert response.headers["Content-Length"] == str(len(response.content))


def test_latency_is_added_to_every_api_call(sandbox):
    sandbox.reset(latency_ms=300)
    sandbox.token  # noqa: B018

    started = time.monotonic()
    sandbox.get("/account/numbers")

    assert time.monotonic() - started >= 0.3


def test_the_options_refuse_nonsense():
    for bad in ({"quota": "lavish"}, {"owned": -1}, {"client_id": ""}):
        try:
            SandboxOptions(**bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")


def run_sandbox_command(*args: str) -> tuple[subprocess.Popen, str]:
    """Start `manage.py runsandbox` and return the process with the line it printed."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runsandbox", "--port", "0", *args],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    return process, line


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=10)


def test_the_command_serves_until_sigterm_and_exits_cleanly(tmp_path):
    state = tmp_path / "state.sqlite3"
    process, line = run_sandbox_command("--state", str(state), "--owned", "3", "--quota", "strict")
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        reply = requests.get(url + "/_sandbox/state", timeout=TIMEOUT).json()
    finally:
        code = stop(process)

    assert line.count("\n") == 1
    assert reply["owned_count"] == 3
    assert reply["options"]["quota"] == "strict"
    assert code == 0
    assert "/_sandbox/state" not in process.stderr.read()  # no line per request


def test_the_command_keeps_the_state_file_unless_told_to_reset(tmp_path):
    state = str(tmp_path / "state.sqlite3")
    process, _ = run_sandbox_command("--state", state, "--owned", "2")
    stop(process)

    process, line = run_sandbox_command("--state", state, "--owned", "5", "--reset")
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        count = SandboxControl(url).state(numbers=False)["owned_count"]
    finally:
        stop(process)

    assert count == 5


def test_a_port_in_use_is_refused_before_any_state_is_written(tmp_path, server):
    state = tmp_path / "state.sqlite3"

    with pytest.raises(OSError, match="in use"):
        SandboxServer(state_path=state, port=server.port)

    assert not state.exists()
