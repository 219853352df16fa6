import pytest

from sandbox.server import SandboxServer

from .helpers import Sandbox


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One sandbox for the whole run, on a free port, with its own state file."""
    state_path = tmp_path_factory.mktemp("sandbox") / "state.sqlite3"
    with SandboxServer(state_path=state_path) as running:
        yield running


@pytest.fixture
def sandbox(server) -> Sandbox:
    """The shared sandbox, reset to its options (no numbers owned, no faults, no tokens)."""
    sandbox = Sandbox(server)
    sandbox.reset()
    return sandbox
