"""Notifications reach real receivers: an SMTP server and an HTTP receiver on loopback,
started by the test. A dead receiver is retried and recorded; operations carry on."""

from datetime import timedelta
from decimal import Decimal

from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from inventory import api_client as api
from inventory.audit import audit_append
from inventory.models import (
    Action,
    Event,
    Notification,
    NotificationDelivery,
    NotificationPreference,
    Operation,
    Outcome,
    OwnedNumber,
    SyncRun,
    Webhook,
)
from inventory.selectors import notification_failures_recent
from inventory.services import approvals, notifications, sync, workers
from inventory.services.purchase import number_purchase
from inventory.tests.base import BaseTestCase
from inventory.tests.receivers import SmtpServer, WebhookReceiver, dead_url
from inventory.tests.tasks import run_queued_tasks

BUY = "POST /number/buy"
SECRET = "a-receiver-secret-of-some-length"


def smtp_settings(server: SmtpServer) -> override_settings:
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=server.port,
        EMAIL_USE_TLS=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_ENABLED=True,
        PORTAL_BASE_URL="https://numbers.example.com",
    )


class NotificationTestCase(BaseTestCase):
    def setUp(self):
        self.api = api.default_client()
        self.offer = self.api.search_available(country="GB", size=1).items[0]

    def wants(self, user, *events, email=None):
        user.email = email or f"{user.username}@example.com"
        user.save()
        NotificationPreference.objects.update_or_create(
            user=user, defaults={"events": [str(e) for e in events]}
        )

    def webhook(self, url, *events) -> Webhook:
        return Webhook.objects.create(
            name="Team chat", url=url, secret=SECRET, events=[str(e) for e in events]
        )

    def buy(self, token="n-1"):
        with self.captureOnCommitCallbacks(execute=True):
            return number_purchase(
                actor=self.actor(self.operator), offer=self.offer, form_token=token
            )


class EmailTestCase(NotificationTestCase):
    def test_a_purchase_is_told_by_email_through_a_real_smtp_server(self):
        self.wants(self.operator, Event.PURCHASE_DONE)
        with SmtpServer() as server, smtp_settings(server):
            entry = self.buy()
            run_queued_tasks()

        assert len(server.messages) == 1
        received = server.messages[0]
        assert received["to"] == ["olivia@example.com"]
        message = received["message"]
        assert message["Subject"].startswith("Bought: +44")
        body = message.get_content()
        assert f"https://numbers.example.com/operations/{entry.pk}/" in body
        assert f"€{self.offer.cost:.2f} a month" in body
        delivery = NotificationDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == (NotificationDelivery.Status.DELIVERED, 1)

    def test_nobody_is_emailed_about_what_they_did_not_choose(self):
        self.wants(self.operator, Event.CANCEL_DONE)
        with SmtpServer() as server, smtp_settings(server):
            self.buy()
            run_queued_tasks()

        assert server.messages == []
        assert Notification.objects.get().event == Event.PURCHASE_DONE

    def test_a_request_is_told_to_the_approvers_and_its_decision_to_the_requester(self):
        self.wants(self.operator, Event.APPROVAL_REQUESTED, Event.APPROVAL_DECIDED)
        self.wants(self.approver, Event.APPROVAL_REQUESTED, Event.APPROVAL_DECIDED)
        with SmtpServer() as server, smtp_settings(server):
            with self.captureOnCommitCallbacks(execute=True):
                request = approvals.purchase_request_create(
                    actor=self.actor(self.operator),
                    offers=[self.offer],
                    rule="A rule.",
                    reason="For the helpdesk.",
                    form_token="ask-1",
                )
            run_queued_tasks()
            asked = [m["to"] for m in server.messages]
            with self.captureOnCommitCallbacks(execute=True):
                approvals.purchase_request_reject(
                    actor=self.actor(self.approver), request_id=request.pk, reason="No budget."
                )
            run_queued_tasks()

        assert asked == [["amber@example.com"]]  # not the requester, who asked
        decided = server.messages[1]
        assert decided["to"] == ["olivia@example.com"]
        assert "rejected" in decided["message"]["Subject"]
        assert "No budget." in decided["message"].get_content()

    def test_a_mail_server_that_is_down_is_retried_and_recorded(self):
        self.wants(self.operator, Event.PURCHASE_DONE)
        with SmtpServer() as server:
            port = server.port  # nothing listens there once it stopped
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_ENABLED=True,
            NOTIFICATION_RETRY_SECONDS=[0],
        ):
            self.buy()
            run_queued_tasks()

        delivery = NotificationDelivery.objects.get()
        assert delivery.status == NotificationDelivery.Status.FAILED
        assert delivery.attempts == 2
        assert "could not be reached" in delivery.last_error


class WebhookTestCase(NotificationTestCase):
    def test_a_webhook_receives_a_signed_slack_compatible_message(self):
        with WebhookReceiver(secret=SECRET) as receiver:
            self.webhook(receiver.url, Event.PURCHASE_DONE)
            self.buy()
            run_queued_tasks()

        assert len(receiver.received) == 1
        got = receiver.received[0]
        assert got.signature_ok
        assert got.headers["Content-Type"].startswith("application/json")
        assert got.body["event"] == "purchase_done"
        assert got.body["text"].startswith("Bought: +44")
        assert NotificationDelivery.objects.get().status == NotificationDelivery.Status.DELIVERED

    def test_a_signature_made_with_another_secret_does_not_pass(self):
        with WebhookReceiver(secret="not-the-secret-the-portal-has") as receiver:
            self.webhook(receiver.url, Event.PURCHASE_DONE)
            self.buy()
            run_queued_tasks()

        assert not receiver.received[0].signature_ok

    def test_a_dead_receiver_is_retried_with_backoff_while_operations_carry_on(self):
        self.webhook(dead_url(), Event.PURCHASE_DONE)

        entry = self.buy()
        run_queued_tasks()

        # The purchase went through as if nobody was listening.
        assert entry.outcome == Outcome.SUCCEEDED
        assert OwnedNumber.objects.filter(msisdn=self.offer.msisdn).exists()
        assert self.sandbox.calls(BUY) == 1
        delivery = NotificationDelivery.objects.get()
        assert delivery.status == NotificationDelivery.Status.RETRYING
        assert delivery.attempts == 1
        assert "could not be reached" in delivery.last_error
        assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=20)
        waiting = DBTaskResult.objects.filter(status="READY").get()
        assert waiting.run_after == delivery.next_attempt_at
        assert notification_failures_recent() == [delivery]

    def test_a_receiver_that_stays_down_ends_recorded_as_failed_on_the_failures_page(self):
        self.webhook(dead_url(), Event.PURCHASE_DONE)
        with override_settings(NOTIFICATION_RETRY_SECONDS=[0, 0]):
            self.buy()
            second = self.offer = self.api.search_available(country="GB", size=2).items[1]
            self.buy(token="n-2")  # the next operation is not held up either
            run_queued_tasks()

        assert OwnedNumber.objects.filter(msisdn=second.msisdn).exists()
        deliveries = NotificationDelivery.objects.all()
        assert [d.status for d in deliveries] == [NotificationDelivery.Status.FAILED] * 2
        assert [d.attempts for d in deliveries] == [3, 3]
        self.login(self.superuser)
        page = self.client.get("/notifications/failures/")
        self.assertContains(page, "could not be reached", count=2)
        self.assertContains(page, "Team chat")
        self.assertNotContains(page, dead_url().rsplit(":", 1)[0] + ":")

    def test_a_receiver_answering_an_error_is_retried_and_delivered_once_it_recovers(self):
        with WebhookReceiver(secret=SECRET, status=503) as receiver:
            self.webhook(receiver.url, Event.PURCHASE_DONE)
            with override_settings(NOTIFICATION_RETRY_SECONDS=[0]):
                self.buy()
                task = DBTaskResult.objects.filter(status="READY").first()
                run_queued_tasks()  # the first attempt, then the retry: both 503
            assert task is not None
            delivery = NotificationDelivery.objects.get()
            assert delivery.status == NotificationDelivery.Status.FAILED
            assert delivery.last_error == "The receiver answered HTTP 503."
            assert len(receiver.received) == 2


class ConditionsTestCase(NotificationTestCase):
    def setUp(self):
        super().setUp()
        self.receiver = WebhookReceiver(secret=SECRET).__enter__()
        self.addCleanup(self.receiver.__exit__)
        self.webhook(self.receiver.url, *Event.values)

    def told(self, event) -> list[str]:
        return list(Notification.objects.filter(event=event).values_list("subject", flat=True))

    def test_syncs_failing_for_longer_than_the_setting_are_told_once(self):
        long_ago = timezone.now() - timedelta(minutes=61)
        SyncRun.objects.create(
            status=SyncRun.Status.FAILED, finished_at=long_ago, message="The API is down."
        )

        with self.captureOnCommitCallbacks(execute=True):
            workers.worker_housekeeping()
        with self.captureOnCommitCallbacks(execute=True):
            workers.worker_housekeeping()
        run_queued_tasks()

        assert self.told(Event.SYNC_FAILING) == ["Syncs keep failing"]
        assert "The API is down." in self.receiver.received[0].body["text"]

    def test_a_recent_failure_is_not_told_yet(self):
        SyncRun.objects.create(status=SyncRun.Status.FAILED, finished_at=timezone.now())

        with self.captureOnCommitCallbacks(execute=True):
            workers.worker_housekeeping()
        run_queued_tasks()

        assert self.told(Event.SYNC_FAILING) == []

    def test_an_operation_unknown_for_longer_than_the_setting_is_told_once(self):
        entry = audit_append(
            action=Action.PURCHASE,
            actor=self.actor(self.operator),
            country="GB",
            msisdn="447700900555",
            outcome=Outcome.UNKNOWN,
            reason="The answer was lost.",
        )
        assert entry.completed_at is not None

        with override_settings(NOTIFY_UNKNOWN_AFTER=timedelta(minutes=30)):
            with self.captureOnCommitCallbacks(execute=True):
                notifications.conditions_watch()
            run_queued_tasks()
            assert self.told(Event.OPERATION_UNKNOWN) == []  # unknown for a moment only
        with override_settings(NOTIFY_UNKNOWN_AFTER=timedelta(0)):
            for _ in range(2):
                with self.captureOnCommitCallbacks(execute=True):
                    notifications.conditions_watch()
                run_queued_tasks()

        assert self.told(Event.OPERATION_UNKNOWN) == ["Outcome still unknown: +44 7700 900555"]

    def test_drift_found_by_a_sync_is_told(self):
        actor = self.actor(self.operator)
        sync.owned_numbers_sync(actor=actor)  # the baseline tells nothing
        self.sandbox.change_account(add_random=2)

        with self.captureOnCommitCallbacks(execute=True):
            sync.owned_numbers_sync(actor=actor)
        run_queued_tasks()

        assert self.told(Event.DRIFT_FOUND) == ["The sync found changes made outside the portal"]
        assert "2 number(s) that appeared" in self.receiver.received[0].body["text"]

    def test_a_budget_threshold_is_told_once_per_team_and_month(self):
        for _ in range(2):
            with self.captureOnCommitCallbacks(execute=True):
                notifications.budget_threshold_reached(
                    team="Support", percent=80, spent=Decimal("80"), budget=Decimal("100")
                )
            run_queued_tasks()

        assert self.told(Event.BUDGET_80) == ["Support reached 80 % of its budget"]


class PagesTestCase(NotificationTestCase):
    def test_each_person_chooses_among_the_events_their_role_may_receive(self):
        self.login(self.viewer)

        page = self.client.get("/profile/notifications/")
        self.assertContains(page, "A sync found changes made outside the portal")
        self.assertNotContains(page, "A purchase waits for approval")
        refused = self.client.post("/profile/notifications/", {"events": ["approval_requested"]})
        self.assertContains(refused, "not one of the email me when choices", status_code=400)
        self.client.post("/profile/notifications/", {"events": ["drift_found", "sync_failing"]})

        assert NotificationPreference.objects.get(user=self.viewer).events == [
            "drift_found",
            "sync_failing",
        ]

    def test_a_superuser_adds_a_webhook_the_change_is_audited_and_the_secret_never_shown(self):
        self.login(self.superuser)

        response = self.client.post(
            "/notifications/webhooks/",
            {
                "name": "Ops channel",
                "url": "https://hooks.example.com/services/T0/B0/secret-path",
                "secret": SECRET,
                "events": ["sync_failing", "drift_found"],
                "active": "on",
            },
            follow=True,
        )

        self.assertContains(response, "Webhook “Ops channel” saved.")
        self.assertNotContains(response, SECRET)
        self.assertNotContains(response, "secret-path")
        webhook = Webhook.objects.get()
        assert webhook.events == ["drift_found", "sync_failing"]
        entry = Operation.objects.get(action=Action.WEBHOOK)
        assert entry.after["url"] == "https://hooks.example.com/…"
        assert SECRET not in str(entry.after)

    def test_a_webhook_without_a_long_enough_secret_is_refused(self):
        self.login(self.superuser)

        response = self.client.post(
            "/notifications/webhooks/",
            {"name": "Chat", "url": "https://hooks.example.com/x", "secret": "short"},
        )

        assert response.status_code == 400
        assert not Webhook.objects.exists()
