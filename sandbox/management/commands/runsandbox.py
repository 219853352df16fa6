"""`manage.py runsandbox`: serve the Phone Numbers API simulator until interrupted."""

import signal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sandbox.options import QUOTA_MODES
from sandbox.server import SandboxOptions, SandboxServer

# The project directory, found from this file: the sandbox reads no Django settings.
PROJECT_DIR = Path(__file__).resolve().parents[3]
DEFAULTS = SandboxOptions()


class Command(BaseCommand):
    help = "Serve the Phone Numbers API sandbox until Ctrl-C or SIGTERM."
    # The sandbox needs none of the portal's system checks, and must start even while the
    # portal is broken.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument(
            "--state",
            type=Path,
            default=PROJECT_DIR / "sandbox.sqlite3",
            help="SQLite file holding the sandbox's account (default: %(default)s).",
        )
        parser.add_argument(
            "--owned",
            type=int,
            default=DEFAULTS.owned,
            help="Numbers owned at start, when the state file is new (or with --reset).",
        )
        parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
        parser.add_argument("--token-ttl", type=int, default=DEFAULTS.token_ttl, metavar="SECONDS")
        parser.add_argument("--quota", choices=QUOTA_MODES, default=DEFAULTS.quota)
        parser.add_argument("--client-id", default=DEFAULTS.client_id)
        parser.add_argument("--client-secret", default=DEFAULTS.client_secret)
        parser.add_argument("--latency-ms", type=int, default=DEFAULTS.latency_ms)
        parser.add_argument(
            "--reset", action="store_true", help="Start over, even if the state file exists."
        )

    def handle(self, *args, **opts):
        server = self._server(opts)
        if opts["reset"]:
            server.simulator.reset()
        self.stdout.write(
            f"Sandbox serving {server.api_url} (state: {server.state_path}); Ctrl-C to stop."
        )
        self.stdout.flush()
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()

    def _server(self, opts) -> SandboxServer:
        try:
            options = SandboxOptions(
                seed=opts["seed"],
                owned=opts["owned"],
                token_ttl=opts["token_ttl"],
                quota=opts["quota"],
                client_id=opts["client_id"],
                client_secret=opts["client_secret"],
                latency_ms=opts["latency_ms"],
            )
            return SandboxServer(
                state_path=opts["state"], options=options, host=opts["host"], port=opts["port"]
            )
        except (ValueError, OSError) as problem:
            raise CommandError(f"Cannot start the sandbox: {problem}") from problem


def _interrupt(signum, frame):
    # Leave serve_forever() the way Ctrl-C does, so the same clean-up runs.
    raise KeyboardInterrupt
