import requests

from sandbox.server import SandboxOptions, SandboxServer

from .helpers import CREDENTIALS, TIMEOUT, Sandbox


def started(state_path, **options) -> SandboxServer:
    """A server on that state file; `with` starts it and stops it again."""
    return SandboxServer(state_path=state_path, options=SandboxOptions(**options))


def test_a_new_state_file_starts_with_the_owned_numbers_asked_for(tmp_path):
    with started(tmp_path / "state.sqlite3", owned=12) as server:
        assert Sandbox(server).state()["owned_count"] == 12


def test_the_account_survives_a_restart(tmp_path):
    path = tmp_path / "state.sqlite3"
    with started(path, owned=5) as server:
        sandbox = Sandbox(server)
        number = sandbox.available("NL", "landline")
        sandbox.buy(number)
        sandbox.post(
            "/number/update",
            {"country": "NL", "msisdn": number["msisdn"], "moHttpUrl": "https://example.com/mo"},
        )
        before = sandbox.state()

    with started(path, owned=5) as server:
        after = Sandbox(server).state()

    assert after["owned"] == before["owned"]
    assert after["owned_count"] == 6
    assert after["calls"] == before["calls"]
    assert after["responses"] == before["responses"]


def test_an_existing_state_file_keeps_its_account_whatever_owned_says(tmp_path):
    path = tmp_path / "state.sqlite3"
    with started(path, owned=3) as server:
        first = Sandbox(server).state()["owned"]

    with started(path, owned=40) as server:
        assert Sandbox(server).state()["owned"] == first


def test_tokens_survive_a_restart(tmp_path):
    path = tmp_path / "state.sqlite3"
    with started(path) as server:
        token = Sandbox(server).token

    with started(path) as server:
        sandbox = Sandbox(server)
        assert sandbox.get("/account/numbers", headers=sandbox.bearer(token)).status_code == 200


def test_a_reset_reseeds_the_account_from_the_options(tmp_path):
    path = tmp_path / "state.sqlite3"
    with started(path, owned=3) as server:
        sandbox = Sandbox(server)
        sandbox.change_account(add_random=10)
        sandbox.reset()
        assert sandbox.state()["owned_count"] == 3


def test_the_same_seed_gives_the_same_starting_account(tmp_path):
    with started(tmp_path / "a.sqlite3", owned=20, seed=7) as server:
        first = Sandbox(server).state()["owned"]
    with started(tmp_path / "b.sqlite3", owned=20, seed=7) as server:
        second = Sandbox(server).state()["owned"]
    with started(tmp_path / "c.sqlite3", owned=20, seed=8) as server:
        other = Sandbox(server).state()["owned"]

    assert first == second
    assert first != other


def test_the_state_file_is_its_own_sqlite_database(tmp_path):
    path = tmp_path / "state.sqlite3"
    with started(path, owned=2) as server:
        requests.post(server.token_url, data=CREDENTIALS, timeout=TIMEOUT)

    assert path.read_bytes()[:16] == b"SQLite format 3\x00"
