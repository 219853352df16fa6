"""The first journey: log in, see the dashboard; a superuser sees the live API connection."""

from django.conf import settings
from playwright.sync_api import expect

from tests.browser.base import BrowserTestCase


class LoginJourney(BrowserTestCase):
    def test_an_operator_logs_in_and_sees_the_dashboard(self):
        self.user("olivia", "Operator")

        self.go("/")
        expect(self.page).to_have_url(f"{self.live_server_url}/login/?next=/")
        self.screenshot("login")
        self.log_in("olivia")

        expect(self.page.get_by_role("heading", name="Welcome, olivia")).to_be_visible()
        expect(self.page.get_by_test_id("spend-now")).to_be_visible()
        expect(self.page.get_by_test_id("sync-now")).to_be_visible()  # never synced yet
        self.screenshot("home")

    def test_a_superuser_sees_the_api_connection_on_the_system_page(self):
        self.user("root", is_staff=True, is_superuser=True)
        self.log_in("root")
        self.page.get_by_role("link", name="System").click()
        expect(self.page.get_by_test_id("token-status")).to_have_text("Token fetched")
        expect(self.page.get_by_text(self.sandbox_api_url())).to_be_visible()

    def test_a_wrong_password_is_refused_politely(self):
        self.user("olivia", "Operator")
        self.log_in("olivia", "not the password")
        expect(self.page.get_by_role("alert")).to_contain_text("didn't match")

    def sandbox_api_url(self):
        return settings.NUMBERS_API["BASE_URL"]
