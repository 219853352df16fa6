"""How far apart to send one kind of call, from every window known to apply to it.

The gateway's quota headers describe only the tightest of the windows a call counts against
(the one with the fewest calls left), so the latest answer alone may not describe the window
behind a call's spike arrest: after a burst of changes a listing's headers describe the
API-wide window (180 a minute, a third of a second apart) while the listing's own spike
arrest still allows one a second. A `Pace` therefore keeps every window its answers have
described, and lets one go only when an answer proves it no longer applies: an answer
that leaves more calls than that window's whole limit (the described window leaves the
fewest, so no window with a smaller limit can be in force).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from inventory.api_client.results import Quota, spacing_for

# A spike arrest announces no wait; its window is about a second (rates per second or
# minute are smoothed to one call per slot).
SPIKE_ARREST_SECONDS = 1.0
# How long a spike-arrest refusal keeps a kind of call a second apart: it does not say
# which window refused it, so no answer can prove it gone; it is forgotten instead.
ARRESTED_FOR_SECONDS = 300.0


@dataclass(frozen=True)
class Window:
    """A quota window by its allowance: `limit` calls every `seconds`."""

    limit: int
    seconds: int

    @property
    def spacing(self) -> float:
        return spacing_for(self.limit, self.seconds)


# What upstream publishes and a gateway's headers may hide (reference/API-FACTS.md): the
# owned list at most once a second, as the per-minute window a gateway smooths to that pace.
# A client starts with it, so even its first listings after a burst of changes are paced.
UPSTREAM_WINDOWS: dict[str, tuple[Window, ...]] = {
    "GET /account/numbers": (Window(limit=60, seconds=60),),
}


class Pace:
    def __init__(self, windows: tuple[Window, ...] = ()):
        self._windows = set(windows)
        self._arrested_until = 0.0  # time.monotonic() until which a spike arrest applies

    @property
    def windows(self) -> frozenset[Window]:
        return frozenset(self._windows)

    def learn(self, quota: Quota) -> None:
        """What one answer's headers say: the window they describe applies, and none whose
        whole limit is below the calls that window leaves."""
        remaining = quota.remaining
        if remaining is not None:
            self._windows = {window for window in self._windows if window.limit >= remaining}
        seconds = quota.window_seconds
        if quota.limit and seconds and spacing_for(quota.limit, seconds):
            self._windows.add(Window(limit=quota.limit, seconds=seconds))

    def arrested(self) -> None:
        """The gateway refused a call of this kind for coming too soon."""
        self._arrested_until = time.monotonic() + ARRESTED_FOR_SECONDS

    def spacing(self) -> float:
        """Seconds to leave between two calls of this kind: the slowest of its windows."""
        spacing = max((window.spacing for window in self._windows), default=0.0)
        if time.monotonic() < self._arrested_until:
            spacing = max(spacing, SPIKE_ARREST_SECONDS)
        return spacing
