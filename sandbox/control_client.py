"""A small Python client for a running sandbox's control surface (/_sandbox/...).

For tests, scripts and benchmarks: read the account and the call counters, queue faults,
reset the simulation, change the account behind the portal's back.
"""

import requests

CONTROL_PREFIX = "/_sandbox"


class SandboxControlError(requests.HTTPError):
    """The control surface refused a request; the message carries its explanation."""


class SandboxControl:
    def __init__(self, base_url: str, *, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        # Generous: a reset that seeds 100,000 numbers takes a few seconds.
        self.timeout = timeout

    def reset(self, **overrides) -> dict:
        """Start over; `overrides` (owned, seed, token_ttl, quota, latency_ms, ...) last
        until the next reset."""
        return self._call("POST", "reset", json=overrides)

    def state(self, *, numbers: bool = True, msisdn: str | None = None) -> dict:
        params = {"numbers": "1" if numbers else "0"}
        if msisdn:
            params["msisdn"] = msisdn
        return self._call("GET", "state", params=params)

    def owned(self) -> dict[str, dict]:
        """Every owned number in API shape, keyed by msisdn (ordered by msisdn)."""
        return {number["msisdn"]: number for number in self.state()["owned"]}

    def owned_number(self, msisdn: str) -> dict | None:
        found = self.state(msisdn=msisdn)["owned"]
        return found[0] if found else None

    def calls(self, operation: str) -> int:
        """Calls received for an operation such as "POST /number/buy", refused ones too."""
        return self.state(numbers=False)["calls"].get(operation, 0)

    def responses(self, operation: str) -> dict[str, int]:
        """How often each status (or "timeout"/"reset") was the outcome of the operation."""
        return self.state(numbers=False)["responses"].get(operation, {})

    def fault(self, operation: str, kind: str, **options) -> dict:
        """Queue a fault (kinds in sandbox/faults.py and the README: delay, timeout, reset,
        error, throttle, malformed, ignore, quota, spike_arrest, not_subscribed, forbidden,
        kpn_error, invalid_client, provider_code, empty_list, broken_record); options are
        status, delay, after_effect, count, rate, skip, code, label, shape and drop."""
        return self._call("POST", "faults", json={"operation": operation, "kind": kind, **options})

    def faults(self) -> list[dict]:
        return self._call("GET", "faults")["faults"]

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def expire_tokens(self) -> int:
        return self._call("POST", "expire-tokens")["expired"]

    def spend_quota(self, bucket: str, calls: int) -> int:
        """Count calls against the portal's current window of `bucket` ("api", "list" in
        the strict mode, "token"), as another user of the same app would; the window's
        count after it (0 when the mode has no such window)."""
        return self._call("POST", "quota", json={"bucket": bucket, "calls": calls})["used"]

    def change_account(self, *, add=(), add_random: int = 0, remove=(), change=()) -> dict:
        """Add numbers (API shape), add random ones, remove msisdns or change configuration,
        as another tool using the same account would."""
        body = {"add": list(add), "add_random": add_random}
        body |= {"remove": list(remove), "change": list(change)}
        return self._call("POST", "owned", json=body)

    def set_price(self, *, country: str, msisdn: str, cost: str, initial_price: str) -> dict:
        """Change what a number on sale costs (until the next reset)."""
        body = {"country": country, "msisdn": msisdn, "cost": cost}
        return self._call("POST", "prices", json={**body, "initial_price": initial_price})

    def _call(self, method: str, path: str, **kwargs) -> dict:
        url = f"{self.base_url}{CONTROL_PREFIX}/{path}"
        response = requests.request(method, url, timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            message = f"{method} {url} -> {response.status_code}: {response.text}"
            raise SandboxControlError(message, response=response)
        return response.json()
