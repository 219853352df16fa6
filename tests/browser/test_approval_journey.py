"""Four eyes in two browsers: an operator asks to buy a number, an approver approves, and
the task worker buys it, once."""

import re
from decimal import Decimal

from playwright.sync_api import expect

from inventory import api_client as api
from inventory.models import ApprovalRules, OwnedNumber, PurchaseRequest
from inventory.tests.base import PASSWORD
from tests.browser.base import DESKTOP, BrowserTestCase

BUY = "POST /number/buy"


class ApprovalJourney(BrowserTestCase):
    def second_browser(self, username: str):
        """Another person at another computer: a browser context of its own."""
        context = self.browser.new_context(viewport=DESKTOP)
        self.addCleanup(context.close)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", self._watch_console)
        page.goto(self.live_server_url + "/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return page

    def test_an_operator_asks_an_approver_approves_and_the_number_is_bought(self):
        self.user("olivia", "Operator")
        self.user("amber", "Approver")
        ApprovalRules.objects.create(pk=1, purchase_above=Decimal("0.00"))
        offer = api.default_client().search_available(country="GB", size=1).items[0]
        self.start_task_worker()

        # The operator: the confirmation page asks for a reason instead of buying.
        self.log_in("olivia")
        self.go(f"/catalogue/buy/?country=GB&type={offer.type}&msisdn={offer.msisdn}")
        expect(self.page.get_by_test_id("approval-rule")).to_contain_text("needs approval")
        self.screenshot("approval-ask", schemes=("light", "dark"))
        self.page.get_by_label(re.compile("Why is it needed")).fill("The new support hotline.")
        self.page.get_by_test_id("ask-approval").click()
        expect(self.page.get_by_test_id("request-status")).to_have_text("Waiting for approval")
        expect(self.page.get_by_test_id("not-yours")).to_be_visible()
        assert self.sandbox.calls(BUY) == 0

        # The approver, in a browser of their own.
        approver = self.second_browser("amber")
        approver.goto(self.live_server_url + "/approvals/")
        queue = approver.get_by_test_id("queue")
        expect(queue).to_contain_text("olivia")
        self.page, operator = approver, self.page
        self.screenshot("approval-queue", schemes=("light", "dark"))
        queue.get_by_role("link", name=re.compile("^Request #")).click()
        expect(approver.get_by_test_id("request-reason")).to_have_text("The new support hotline.")
        self.screenshot("approval-request", schemes=("light", "dark"))
        approver.get_by_label(re.compile("^Reason")).fill("Budgeted.")
        approver.get_by_test_id("approve").click()

        # The task worker buys it; both pages follow the request until it is carried out.
        expect(approver.get_by_test_id("request-status")).to_have_text("Carried out")
        expect(operator.get_by_test_id("request-status")).to_have_text("Carried out")
        self.screenshot("approval-done", schemes=("light", "dark"))
        self.page = operator
        expect(self.page.get_by_test_id("request-trail")).to_contain_text("Purchase approved")
        assert self.sandbox.calls(BUY) == 1
        assert OwnedNumber.objects.get(msisdn=offer.msisdn).purchased_by.username == "olivia"
        assert PurchaseRequest.objects.get().status == PurchaseRequest.Status.DONE
