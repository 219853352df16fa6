"""One running simulation: its options, its stored state, its quota windows and its faults."""

import threading
import time
from dataclasses import replace
from pathlib import Path

from .catalogue import Listing, catalogue_for, starter_numbers
from .faults import FaultBook
from .options import SandboxOptions
from .quota import QuotaBook
from .state import OwnedNumber, Store

# Where the WSGI environ carries the simulator to the views.
ENVIRON_KEY = "sandbox.simulator"


class Simulator:
    def __init__(self, state_path: Path, options: SandboxOptions):
        self.base_options = options
        # Bumped by every reset: a call still in flight from before a reset must not touch
        # (or be counted in) the world that replaced the one it started in.
        self.generation = 0
        self.store = Store(state_path)
        self._reset_lock = threading.Lock()
        self._install(options)
        # A state file that already holds an account keeps it: that is what persistence means.
        if not self.store.is_seeded():
            self.store.reset(starters(options.seed, options.owned))

    def reset(self, overrides: dict | None = None) -> None:
        """Start over from the server's options, with `overrides` until the next reset."""
        options = replace(self.base_options, **(overrides or {}))
        with self._reset_lock:
            self.store.reset(starters(options.seed, options.owned))
            self._install(options)
            self.generation += 1

    def pause(self) -> None:
        """The fixed extra latency of every API call, for benchmarks."""
        if self.options.latency_ms:
            time.sleep(self.options.latency_ms / 1000)

    def close(self) -> None:
        self.store.close()

    def _install(self, options: SandboxOptions) -> None:
        self.options = options
        self.catalogue = catalogue_for(options.seed)
        self.quota = QuotaBook(options.quota)
        self.faults = FaultBook(options.seed)
        # Prices changed on the control surface (msisdn -> (cost, initialPrice)), until the
        # next reset: the provider raising a price between two searches.
        self.prices: dict[str, tuple[str, str]] = {}

    def priced(self, listing: Listing) -> Listing:
        """The listing at its current price."""
        changed = self.prices.get(listing.msisdn)
        if changed is None:
            return listing
        return replace(listing, cost=changed[0], initial_price=changed[1])


def starters(seed: int, count: int, **kwargs) -> list[OwnedNumber]:
    return [
        OwnedNumber(
            country=s.country,
            msisdn=s.msisdn,
            type=s.type,
            features=s.features,
            config=(
                {"messagesCallbackType": "app", "messagesCallbackValue": s.messages_app}
                if s.messages_app
                else {}
            ),
            limitations=s.limitations,
            cost=s.cost,
        )
        for s in starter_numbers(seed, count, **kwargs)
    ]
