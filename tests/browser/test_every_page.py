"""Every page, as each role sees it, at phone (390 px) and desktop (1366 px) widths, in light
and dark mode: the document never scrolls sideways, money and actions stay in the window, and
axe-core finds no violation. PORTAL_SCREENSHOTS=1 also writes a screenshot of each
(scripts/screenshots.sh)."""

import os
import re
from decimal import Decimal

from django.contrib.auth.models import User
from playwright.sync_api import expect

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import Budget, Destination, Operation, OwnedNumber
from inventory.services import batches
from inventory.services.configure import number_configure
from inventory.services.purchase import number_purchase
from tests.browser.base import DESKTOP, PHONE, SCHEMES, SCREENSHOTS, BrowserTestCase

SCREENSHOTS_WANTED = os.environ.get("PORTAL_SCREENSHOTS") == "1"
# What must never stand outside the window: prices, totals and the buttons that act.
MONEY_AND_ACTIONS = (
    "td.numeric, [data-testid=monthly-cost], [data-testid=setup-cost], [data-testid=saving], "
    "main [role=button], main button"
)


class EveryPage(BrowserTestCase):
    def setUp(self):
        super().setUp()
        self.problems = []

    def tearDown(self):
        super().tearDown()
        assert self.problems == [], "\n".join(self.problems)

    def a_bought_and_configured_number(self) -> OwnedNumber:
        olivia = User.objects.get(username="olivia")
        client = api.default_client()
        actor = Actor(user=olivia, username="olivia", ip="192.0.2.10", user_agent="Firefox")
        offer = client.search_available(country="GB", type="mobile-lvn", size=1).items[0]
        number_purchase(client=client, actor=actor, offer=offer, form_token="buy-1")
        number = OwnedNumber.objects.get(msisdn=offer.msisdn)
        number_configure(
            client=client,
            actor=actor,
            msisdn=number.msisdn,
            changes={"voiceCallbackType": "sip", "voiceCallbackValue": "sip:desk@example.com"},
            form_token="configure-1",
        )
        return number

    def check(self, name: str):
        """The page now open, at both widths and in both colour schemes."""
        self.page.wait_for_load_state("networkidle")
        for scheme in SCHEMES:
            # Reduced motion: Pico then drops its colour transitions, so axe measures the
            # colours a person sees once the scheme has switched, not the ones in between.
            self.page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
            for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                self.page.set_viewport_size(viewport)
                where = f"{name} ({label}, {scheme})"
                overflow = self.sideways_overflow()
                if overflow > 0:
                    self.problems.append(f"{where}: the document is {overflow} px too wide")
                for element in self.hidden_off_screen(MONEY_AND_ACTIONS):
                    self.problems.append(f"{where}: outside the window: {element}")
                for violation in self.axe_violations():
                    self.problems.append(f"{where}: axe: {violation}")
                if SCREENSHOTS_WANTED:
                    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                    suffix = "" if scheme == "light" else "-dark"
                    path = SCREENSHOTS / f"page-{name}-{label}{suffix}.png"
                    self.page.screenshot(path=path, full_page=True)
        self.page.emulate_media(color_scheme="light")
        self.page.set_viewport_size(DESKTOP)

    def visit(self, path: str, name: str):
        self.go(path)
        self.check(name)

    def test_the_login_page(self):
        self.visit("/login/", "login")

    def test_every_page_an_operator_opens(self):
        self.user("olivia", "Operator")
        number = self.a_bought_and_configured_number()
        msisdn = number.msisdn
        self.log_in("olivia")

        self.visit("/", "home")
        self.visit("/catalogue/", "catalogue")
        self.visit("/catalogue/?country=GB&type=mobile-lvn&features=SMS", "catalogue-results")
        self.visit("/catalogue/?country=NL&pattern=%2B44&page=0", "catalogue-errors")
        self.visit("/catalogue/?country=GB&type=mobile-lvn&page=999", "catalogue-no-such-page")
        self.go("/catalogue/?country=GB&type=mobile-lvn")
        self.page.locator("[data-testid^=buy-]").first.click()
        expect(self.page.get_by_role("heading", name=re.compile("^Buy "))).to_be_visible()
        self.check("purchase-confirm")
        purchase = Operation.objects.get(action="purchase", msisdn=msisdn)
        self.visit(f"/operations/{purchase.pk}/", "operation")
        self.visit("/inventory/", "inventory")
        self.visit("/inventory/?country=GB&sort=-monthly_cost", "inventory-filtered")
        self.visit("/inventory/?page=50", "inventory-no-such-page")
        self.visit(f"/numbers/{msisdn}/", "number")
        self.visit(f"/numbers/{msisdn}/configure/", "configure")
        self.page.get_by_label("Inbound SMS webhook").fill("https://hooks.example.com/sms")
        self.page.get_by_test_id("review-change").click()
        expect(self.page.get_by_test_id("change")).to_be_visible()
        self.check("configure-review")
        self.visit(f"/numbers/{msisdn}/cancel/", "cancel")
        self.visit("/profile/", "profile")
        self.page.get_by_label("Name").fill("inventory export")
        self.page.get_by_role("button", name="Create token").click()
        expect(self.page.get_by_test_id("new-token")).to_be_visible()
        self.check("profile-new-token")
        self.visit("/rate-card/", "rate-card")
        self.visit("/audit/", "refused")
        self.visit("/nothing-here/", "not-found")

    def test_every_page_an_auditor_opens(self):
        self.user("olivia", "Operator")
        self.user("audrey", "Auditor")
        number = self.a_bought_and_configured_number()
        self.log_in("audrey")
        purchase = Operation.objects.get(action="purchase", msisdn=number.msisdn)
        configure = Operation.objects.get(action="configure", msisdn=number.msisdn)

        self.visit("/", "auditor-home")
        self.visit("/audit/", "audit")
        self.visit(f"/audit/?number={number.msisdn}&action=configure", "audit-filtered")
        self.visit("/audit/?since=2025-02-01&until=2025-01-01", "audit-bad-filter")
        self.visit(f"/audit/{purchase.seq}/", "audit-entry-purchase")
        self.visit(f"/audit/{configure.seq}/", "audit-entry-configure")
        self.visit("/admin/", "admin-refused")

    def test_every_fleet_page_an_operator_opens(self):
        self.user("olivia", "Operator")
        number = self.a_bought_and_configured_number()
        olivia = User.objects.get(username="olivia")
        actor = Actor(user=olivia, username="olivia")
        offers = api.default_client().search_available(country="NL", size=3).items
        batches.selection_add(user=olivia, offers=list(offers))
        purchase = batches.batch_check(batch_id=batches.purchase_batch_create(actor=actor).pk)
        cancel = batches.cancel_batch_create(actor=actor, msisdns=[number.msisdn])
        trunk = Destination.objects.create(
            name="Amsterdam SIP trunk", kind="sip", value="sip:desk@example.com"
        )
        self.log_in("olivia")

        self.visit("/catalogue/selection/", "selection")
        self.visit(f"/batches/{purchase.pk}/", "batch-purchase-review")
        self.visit(f"/batches/{cancel.pk}/", "batch-cancel-review")
        self.visit("/batches/", "batches")
        self.visit("/destinations/", "destinations")
        self.visit(f"/destinations/{trunk.pk}/", "destination")
        batches.batch_confirm(actor=actor, batch_id=purchase.pk)
        batches.batch_run(batch_id=purchase.pk)
        self.visit(f"/batches/{purchase.pk}/", "batch-done")
        self.go("/inventory/")
        self.page.get_by_test_id(f"choose-{number.msisdn}").check()
        self.page.get_by_test_id("bulk-configure").click()
        self.check("bulk-configure")
        self.go("/inventory/")
        self.page.get_by_test_id(f"choose-{number.msisdn}").check()
        self.page.get_by_test_id("bulk-label").click()
        self.check("bulk-label")

    def test_every_governance_page(self):
        from decimal import Decimal

        from inventory.models import (
            ApprovalRules,
            Notification,
            NotificationDelivery,
            Webhook,
        )
        from inventory.services import approvals, batches, numbers

        self.user("olivia", "Operator")
        amber = self.user("amber", "Approver")
        self.user("root", is_staff=True, is_superuser=True)
        number = self.a_bought_and_configured_number()
        olivia = User.objects.get(username="olivia")
        actor = Actor(user=olivia, username="olivia")
        numbers.number_protect(actor=actor, number=number, reason="On the emergency leaflets")
        ApprovalRules.objects.create(pk=1, purchase_above=Decimal("0.00"), bulk_above=1)
        client = api.default_client()
        offers = list(client.search_available(country="GB", type="landline", size=3).items)
        request = approvals.purchase_request_create(
            actor=actor,
            offers=[offers[0]],
            rule="Purchases above €0.00 (set-up and the first month) need approval.",
            reason="The new support hotline, printed on the invoices from January.",
            form_token="every-page",
        )
        batches.selection_add(user=olivia, offers=offers[1:])
        batch = batches.batch_check(batch_id=batches.purchase_batch_create(actor=actor).pk)
        webhook = Webhook.objects.create(
            name="Operations channel",
            url="https://hooks.example.com/ops",
            secret="s" * 20,
            events=["sync_failing"],
        )
        notification = Notification.objects.create(
            event="sync_failing", key="k", subject="Syncs keep failing", text="No sync."
        )
        NotificationDelivery.objects.create(
            notification=notification,
            channel="webhook",
            webhook=webhook,
            status="failed",
            attempts=4,
            last_error="The receiver could not be reached (connection refused).",
        )

        self.log_in("olivia")
        self.visit("/approvals/", "approvals")
        self.visit(f"/approvals/{request.pk}/", "approval-requester")
        self.visit(f"/numbers/{number.msisdn}/", "number-protected")
        self.visit(f"/numbers/{number.msisdn}/cancel/", "cancel-protected")
        self.visit("/inventory/", "inventory-protected")
        offer = offers[2]
        self.visit(
            f"/catalogue/buy/?country=GB&type={offer.type}&msisdn={offer.msisdn}",
            "purchase-needs-approval",
        )
        self.visit(f"/batches/{batch.pk}/", "batch-needs-approval")
        self.visit("/profile/notifications/", "notification-settings")
        self.log_out()

        self.log_in(amber.username)
        self.visit(f"/approvals/{request.pk}/", "approval-approver")
        self.log_out()

        self.log_in("root")
        self.visit("/approvals/rules/", "approval-rules")
        self.visit("/notifications/webhooks/", "webhooks")
        self.visit(f"/notifications/webhooks/{webhook.pk}/", "webhook")
        self.visit("/notifications/failures/", "delivery-failures")

    def test_every_page_a_superuser_opens(self):
        self.user("olivia", "Operator")
        self.user("root", is_staff=True, is_superuser=True)
        self.a_bought_and_configured_number()
        Budget.objects.create(team="", monthly_amount=Decimal("50"))
        Budget.objects.create(team="Sales", monthly_amount=Decimal("0.50"))
        self.log_in("root")

        self.visit("/", "superuser-home")
        self.visit("/budgets/", "budgets")
        self.visit("/system/", "system-status")
