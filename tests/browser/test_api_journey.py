"""A person's side of the JSON API: a token made on the profile page, shown once, used by a
script and revoked; the API's documentation served by the portal itself, under its policy."""

import re

import requests
from playwright.sync_api import expect

from tests.browser.base import BrowserTestCase


class ApiJourney(BrowserTestCase):
    def test_a_token_is_made_shown_once_used_and_revoked(self):
        self.user("olivia", "Operator")
        self.log_in("olivia")
        self.page.get_by_role("link", name="Profile").click()
        self.page.get_by_label("Name").fill("inventory export")
        self.page.get_by_role("button", name="Create token").click()

        token = self.page.get_by_role("textbox", name="New token").input_value()
        assert re.fullmatch(r"np_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", token)
        expect(self.page.get_by_text("Copy it now: it is not shown again.")).to_be_visible()
        me = requests.get(
            f"{self.live_server_url}/api/v1/me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert me.json()["username"] == "olivia"

        self.page.get_by_role("button", name=re.compile("^Revoke")).click()
        expect(self.page.get_by_text("is revoked: it no longer works.")).to_be_visible()
        assert token not in self.page.content()
        refused = requests.get(
            f"{self.live_server_url}/api/v1/me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert refused.status_code == 401

    def test_the_documentation_renders_from_the_portals_own_files(self):
        self.user("victor", "Viewer")
        self.log_in("victor")
        requested = []
        self.page.on("request", lambda request: requested.append(request.url))

        self.go("/api/v1/docs/")

        expect(self.page.get_by_text("Buy a number").first).to_be_visible()
        assert requested
        assert all(url.startswith(self.live_server_url) for url in requested), requested
        # tearDown asserts that the page's Content-Security-Policy refused nothing.
