"""A tool without a cache: it lists the account live, 100 numbers a page, every time someone
wants to see it. It behaves as well as a client can: it gets its token once, paces itself by
the gateway's quota headers (waiting for the window to reset rather than spend a call on a
certain 429), and honours Retry-After if it gets a 429 all the same."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import requests

PAGE_SIZE = 100


@dataclass(frozen=True)
class Listing:
    numbers: int  # numbers listed (all of them, or those of the pages sampled)
    pages: int  # pages listed
    pages_total: int  # pages the whole account takes
    seconds: float  # measured, token included
    estimated_seconds: float  # the whole listing: measured, or extrapolated from the sample
    throttled: int  # 429s received

    @property
    def sampled(self) -> bool:
        return self.pages < self.pages_total


def _wait_for_window(headers, sleep=time.sleep) -> None:
    try:
        limit, used = int(headers["quota-limit"]), int(headers["quota-used"])
        reset_at = int(headers["quota-reset-UTC"]) / 1000
    except (KeyError, ValueError):
        return
    if used >= limit:
        sleep(max(0.0, reset_at - time.time()) + 0.01)


def list_live(
    *,
    api_url: str,
    token_url: str,
    client_id: str,
    client_secret: str,
    total: int,
    max_pages: int | None = None,
) -> Listing:
    """List `total` numbers page by page; with `max_pages`, list only that many and estimate
    the whole listing from their steady pace."""
    pages_total = max(1, math.ceil(total / PAGE_SIZE))
    pages_wanted = min(pages_total, max_pages or pages_total)
    session = requests.Session()
    started = time.monotonic()
    answer = session.post(
        token_url, data={"client_id": client_id, "client_secret": client_secret}, timeout=30
    )
    answer.raise_for_status()
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    listed, throttled, call_starts = 0, 0, []
    index = 1
    while index <= pages_wanted:
        call_starts.append(time.monotonic())
        response = session.get(
            f"{api_url}/account/numbers",
            params={"index": index, "size": PAGE_SIZE},
            headers=headers,
            timeout=30,
        )
        if response.status_code == 429:
            throttled += 1
            time.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        response.raise_for_status()
        listed += len(response.json().get("numbers", []))
        index += 1
        if index <= pages_wanted:
            _wait_for_window(response.headers)
    seconds = time.monotonic() - started
    estimate = seconds
    if pages_wanted < pages_total and len(call_starts) > 1:
        pace = (call_starts[-1] - call_starts[0]) / (len(call_starts) - 1)
        estimate = seconds + (pages_total - pages_wanted) * pace
    return Listing(
        numbers=listed,
        pages=pages_wanted,
        pages_total=pages_total,
        seconds=seconds,
        estimated_seconds=estimate,
        throttled=throttled,
    )
