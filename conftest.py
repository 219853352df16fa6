"""Test harness shared by every test: one sandbox API per test run, on an ephemeral
loopback port, reset before each test; the portal's API settings pointed at it."""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import override_settings

from sandbox.control_client import SandboxControl
from sandbox.server import SandboxOptions, SandboxServer

# Short timeouts keep fault tests quick; they are still far above loopback latency.
TEST_TIMEOUTS = {"CONNECT_TIMEOUT": 2.0, "READ_TIMEOUT": 1.5, "DEADLINE": 6.0}


@pytest.fixture(scope="session")
def sandbox_server():
    state_dir = Path(tempfile.mkdtemp(prefix="np-sandbox-"))
    server = SandboxServer(state_path=state_dir / "sandbox.sqlite3", options=SandboxOptions())
    server.start()
    api = {
        "BASE_URL": server.api_url,
        "TOKEN_URL": server.token_url,
        "CLIENT_ID": SandboxOptions.client_id,
        "CLIENT_SECRET": SandboxOptions.client_secret,
        **TEST_TIMEOUTS,
    }
    # Tests settle "did not happen" at once; the grace period has tests of its own.
    with override_settings(NUMBERS_API=api, SETTLE_GRACE=timedelta(0)):
        yield server
    server.stop()


@pytest.fixture(autouse=True)
def sandbox(sandbox_server) -> SandboxControl:
    """A fresh sandbox account and an empty cache (no token, no quota, no searches)."""
    control = SandboxControl(sandbox_server.base_url)
    control.reset()
    cache.clear()
    return control


@pytest.fixture(scope="session")
def chromium_path():
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(path).exists():
        pytest.skip(f"no Chromium at {path} (set CHROMIUM_PATH, or apt-get install chromium)")
    return path
