"""A small client for talking to a running sandbox over loopback, as the portal would."""

import requests

from sandbox.control_client import SandboxControl
from sandbox.options import SandboxOptions

DEFAULTS = SandboxOptions()
CREDENTIALS = {"client_id": DEFAULTS.client_id, "client_secret": DEFAULTS.client_secret}
TIMEOUT = 10


class Sandbox:
    def __init__(self, server):
        self.server = server
        self.base_url = server.base_url
        self.api_url = server.api_url
        self.token_url = server.token_url
        self.controller = SandboxControl(server.base_url)
        self._token: str | None = None

    # --- the API --------------------------------------------------------------------------

    def fetch_token(self, **form) -> requests.Response:
        return requests.post(self.token_url, data=form or CREDENTIALS, timeout=TIMEOUT)

    @property
    def token(self) -> str:
        """A token fetched once per test (the sandbox forgets them on reset)."""
        if self._token is None:
            response = self.fetch_token()
            response.raise_for_status()
            self._token = response.json()["access_token"]
        return self._token

    def bearer(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def get(self, path: str, params=None, *, headers=None, **kwargs) -> requests.Response:
        headers = self.bearer() if headers is None else headers
        timeout = kwargs.pop("timeout", TIMEOUT)
        url = self.api_url + path
        return requests.get(url, params=params, headers=headers, timeout=timeout, **kwargs)

    def post(self, path: str, data=None, *, headers=None, **kwargs) -> requests.Response:
        headers = self.bearer() if headers is None else headers
        timeout = kwargs.pop("timeout", TIMEOUT)
        url = self.api_url + path
        return requests.post(url, data=data, headers=headers, timeout=timeout, **kwargs)

    def owned_page(self, **params) -> dict:
        response = self.get("/account/numbers", params)
        assert response.status_code == 200, response.text
        return response.json()

    def search(self, **params) -> dict:
        response = self.get("/number/search", params)
        assert response.status_code == 200, response.text
        return response.json()

    def available(self, country: str = "GB", number_type: str = "mobile-lvn", **params) -> dict:
        """The first number on sale matching the filters, in API shape."""
        return self.search(country=country, type=number_type, size=1, **params)["numbers"][0]

    def buy(self, number: dict) -> requests.Response:
        return self.post("/number/buy", {"country": number["country"], "msisdn": number["msisdn"]})

    # --- the control surface --------------------------------------------------------------

    def control(self, method: str, path: str, **kwargs) -> requests.Response:
        """A raw control request, for tests about the control surface's own answers."""
        url = f"{self.base_url}/_sandbox/{path}"
        return requests.request(method, url, timeout=TIMEOUT, **kwargs)

    def reset(self, **overrides) -> dict:
        self._token = None
        return self.controller.reset(**overrides)

    def state(self, **params) -> dict:
        response = self.control("GET", "state", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def owned_numbers(self) -> list[dict]:
        return list(self.controller.owned().values())

    def owned_number(self, msisdn: str) -> dict | None:
        return self.controller.owned_number(msisdn)

    def fault(self, **spec) -> dict:
        return self.controller.fault(spec.pop("operation"), spec.pop("kind"), **spec)

    def change_account(self, **changes) -> dict:
        return self.controller.change_account(**changes)
