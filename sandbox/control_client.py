"""A small client for the sandbox's control surface (`/_sandbox/...`), for tests, demos
and the benchmark. It speaks HTTP like any other client of the sandbox."""

from typing import Any

import requests


class SandboxControl:
    def __init__(self, base_url: str, *, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()

    def _call(self, method: str, path: str, **kwargs) -> Any:
        response = self._http.request(
            method, f"{self.base_url}/_sandbox/{path}", timeout=self.timeout, **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self, **options: Any) -> None:
        """Start over: `owned`, `seed`, `token_ttl`, `quota`, `latency_ms` may be overridden."""
        self._call("POST", "reset", json=options)

    def state(self, *, numbers: bool = True, msisdn: str | None = None) -> dict[str, Any]:
        params: dict[str, str] = {} if numbers else {"numbers": "0"}
        if msisdn:
            params["msisdn"] = msisdn
        return self._call("GET", "state", params=params)

    def calls(self, operation: str) -> int:
        """How many requests the sandbox received for e.g. "POST /number/buy"."""
        return self.state(numbers=False)["calls"].get(operation, 0)

    def responses(self, operation: str) -> dict[str, int]:
        return self.state(numbers=False)["responses"].get(operation, {})

    def owned(self) -> dict[str, dict[str, Any]]:
        return {number["msisdn"]: number for number in self.state()["owned"]}

    def fault(self, operation: str, kind: str, **options: Any) -> Any:
        return self._call("POST", "faults", json={"operation": operation, "kind": kind, **options})

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def change_account(self, **changes: Any) -> Any:
        """Out-of-band changes: `add`, `add_random`, `remove`, `change` (see the README)."""
        return self._call("POST", "owned", json=changes)

    def expire_tokens(self) -> None:
        self._call("POST", "expire-tokens")
