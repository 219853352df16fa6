"""Telling people what happened: by email (Django's email framework) and by webhook (a
signed JSON POST whose `text` Slack and its look-alikes show as it is).

Services call the event functions below (`operation_done`, `approval_requested`, ...). Each
records one `Notification` per thing that happened — its key keeps a condition seen again
from being told twice — and one `NotificationDelivery` per receiver, after the caller's
transaction commits. Every delivery is its own task: a receiver that is slow or down
delays nobody's operation, only its own message, which is tried again after each wait in
NOTIFICATION_RETRY_SECONDS and then recorded as failed (the failed deliveries page).
Delivery is at least once: a task run again after its worker died may send again.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import smtplib
import time
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from inventory import phone, wording
from inventory.audit import Actor, audit_append
from inventory.models import (
    Action,
    Batch,
    Event,
    Notification,
    NotificationDelivery,
    NotificationPreference,
    Operation,
    Outcome,
    PurchaseRequest,
    SyncRun,
    Webhook,
)
from inventory.services import background
from inventory.services.operations import ServiceError

log = logging.getLogger(__name__)

# Who may hear of each event: the permission a receiver needs (a superuser has them all).
AUDIENCE = {
    Event.PURCHASE_DONE: "inventory.browse_inventory",
    Event.CANCEL_DONE: "inventory.browse_inventory",
    Event.APPROVAL_REQUESTED: "inventory.approve_purchase",
    Event.APPROVAL_DECIDED: "inventory.buy_number",
    Event.DRIFT_FOUND: "inventory.browse_inventory",
    Event.SYNC_FAILING: "inventory.browse_inventory",
    Event.OPERATION_UNKNOWN: "inventory.browse_inventory",
    Event.BUDGET_80: "inventory.browse_inventory",
    Event.BUDGET_100: "inventory.browse_inventory",
}
# (connect, read) seconds for a webhook: a receiver that takes longer is retried later.
WEBHOOK_TIMEOUTS = (3.05, 5)
SIGNATURE_HEADER = "X-Portal-Signature"
TIMESTAMP_HEADER = "X-Portal-Timestamp"
# At most this many long-unknown operations are told about per sweep.
UNKNOWN_PER_SWEEP = 20


class DeliveryFailed(Exception):
    """A receiver did not take the message; the text says why, without its address."""


def events_for(user) -> list[Event]:
    """The events this person may receive."""
    return [event for event, permission in AUDIENCE.items() if user.has_perm(permission)]


def notification_preferences_set(*, user, events: list[str]) -> NotificationPreference:
    """The events this person receives by email (only those they may receive)."""
    allowed = {event.value for event in events_for(user)}
    chosen = [event for event in Event.values if event in events and event in allowed]
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"events": chosen}
    )
    return preference


def _webhook_facts(webhook: Webhook) -> dict:
    """A webhook as the trail records it: its host only (the URL may hold a secret)."""
    return {
        "webhook": webhook.name,
        "url": webhook.address_shown,
        "events": list(webhook.events),
        "active": webhook.active,
    }


def webhook_save(
    *,
    actor: Actor,
    webhook: Webhook | None,
    name: str,
    url: str,
    secret: str,
    events: list[str],
    active: bool,
) -> Webhook:
    """Add a webhook (`webhook` None) or change one; an empty `secret` keeps the current."""
    before = _webhook_facts(webhook) if webhook is not None else None
    webhook = webhook or Webhook(created_by=actor.user)
    webhook.name, webhook.url, webhook.active = name, url, active
    webhook.events = [event for event in Event.values if event in events]
    if secret:
        webhook.secret = secret
    if not webhook.secret:
        raise ServiceError("Choose a signing secret of 16 characters or more.")
    if Webhook.objects.filter(name=name).exclude(pk=webhook.pk).exists():
        raise ServiceError(f"There is a webhook called “{name}” already: choose another name.")
    with transaction.atomic():
        webhook.save()
        audit_append(
            action=Action.WEBHOOK,
            actor=actor,
            before=before,
            after=_webhook_facts(webhook),
            outcome=Outcome.SUCCEEDED,
            reason=f"Webhook “{name}” {'changed' if before else 'added'}"
            + (", with a new signing secret." if secret and before else "."),
        )
    return webhook


def webhook_delete(*, actor: Actor, webhook: Webhook) -> None:
    with transaction.atomic():
        audit_append(
            action=Action.WEBHOOK,
            actor=actor,
            before=_webhook_facts(webhook),
            outcome=Outcome.SUCCEEDED,
            reason=f"Webhook “{webhook.name}” removed.",
        )
        webhook.delete()


# --- recording and queueing -----------------------------------------------------------------


def notify(
    *,
    event: Event,
    key: str,
    subject: str,
    text: str,
    link: str = "",
    user_ids: Iterable[int] | None = None,
) -> None:
    """Tell everyone who asked to hear of `event` (only `user_ids`, when given, by email).
    Queued once the current transaction commits, and worked out by a task: the operation
    told of waits for nothing but that one insert. Never raises: a notification must not
    undo or fail what it tells of."""
    message = {
        "event": str(event),
        "key": key,
        "subject": subject,
        "text": text,
        "link": link,
        "user_ids": None if user_ids is None else list(user_ids),
    }
    transaction.on_commit(functools.partial(_queue_safely, message))


def _queue_safely(message: dict) -> None:
    try:
        background.enqueue("notification send", **message)
    except Exception:
        log.exception("Could not queue the notification %s", message.get("key"))


def notification_send(
    *,
    event: Event,
    key: str,
    subject: str,
    text: str,
    link: str = "",
    user_ids: list[int] | None = None,
) -> Notification | None:
    """Record the notification and a delivery per receiver, and queue each delivery. None
    when this key was told already."""
    with transaction.atomic():
        notification, created = Notification.objects.get_or_create(
            key=key, defaults={"event": event, "subject": subject, "text": text, "link": link}
        )
        if not created:
            return None
        deliveries = [
            NotificationDelivery(
                notification=notification,
                channel=NotificationDelivery.Channel.EMAIL,
                user=user,
                address=user.email,
            )
            for user in _email_receivers(event, user_ids)
        ]
        deliveries += [
            NotificationDelivery(
                notification=notification, channel=NotificationDelivery.Channel.WEBHOOK, webhook=w
            )
            for w in Webhook.objects.filter(active=True)
            if event in w.events
        ]
        created_deliveries = NotificationDelivery.objects.bulk_create(deliveries)
    for delivery in created_deliveries:
        background.enqueue("notification deliver", delivery_id=delivery.pk)
    return notification


def _email_receivers(event: Event, user_ids: list[int] | None) -> list:
    if not settings.EMAIL_ENABLED:
        return []
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if user_ids is not None:
        users = users.filter(pk__in=user_ids)
    from inventory.selectors import notification_events_of

    return [
        user
        for user in users.order_by("pk")
        if user.has_perm(AUDIENCE[event]) and event in notification_events_of(user=user)
    ]


# --- delivering -----------------------------------------------------------------------------


def notification_deliver(*, delivery_id: int) -> NotificationDelivery | None:
    """One attempt at one delivery; a failure is recorded and tried again later (a new task
    that runs after the next wait), until the waits run out."""
    delivery = (
        NotificationDelivery.objects.select_related("notification", "webhook")
        .filter(pk=delivery_id)
        .first()
    )
    done = (NotificationDelivery.Status.DELIVERED, NotificationDelivery.Status.FAILED)
    if delivery is None or delivery.status in done:
        return delivery
    try:
        if delivery.channel == NotificationDelivery.Channel.EMAIL:
            _send_email(delivery)
        else:
            _post_webhook(delivery)
    except DeliveryFailed as failure:
        _record_failure(delivery, str(failure))
    else:
        now = timezone.now()
        delivery.status = NotificationDelivery.Status.DELIVERED
        delivery.attempts += 1
        delivery.last_attempt_at = delivery.delivered_at = now
        delivery.next_attempt_at = None
        delivery.save()
    return delivery


def _record_failure(delivery: NotificationDelivery, error: str) -> None:
    now = timezone.now()
    waits = settings.NOTIFICATION_RETRY_SECONDS
    delivery.attempts += 1
    delivery.last_error = error
    delivery.last_attempt_at = now
    if delivery.attempts <= len(waits):
        delivery.status = NotificationDelivery.Status.RETRYING
        delivery.next_attempt_at = now + timedelta(seconds=waits[delivery.attempts - 1])
        delivery.save()
        background.enqueue(
            "notification deliver", run_after=delivery.next_attempt_at, delivery_id=delivery.pk
        )
    else:
        delivery.status = NotificationDelivery.Status.FAILED
        delivery.next_attempt_at = None
        delivery.save()
        log.warning(
            "Notification delivery #%s failed for good after %s attempts: %s",
            delivery.pk,
            delivery.attempts,
            error,
        )


def _message_text(notification: Notification) -> str:
    text = notification.text
    if notification.link:
        text += f"\n\n{settings.PORTAL_BASE_URL}{notification.link}"
    return text


def _send_email(delivery: NotificationDelivery) -> None:
    notification = delivery.notification
    message = EmailMessage(
        subject=notification.subject, body=_message_text(notification), to=[delivery.address]
    )
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as refused:
        raise DeliveryFailed("The mail server refused the address.") from refused
    except smtplib.SMTPException as error:
        raise DeliveryFailed(f"The mail server refused the message ({error}).") from error
    except OSError as error:  # refused, unreachable, timed out
        raise DeliveryFailed(f"The mail server could not be reached ({error}).") from error


def webhook_payload(notification: Notification) -> dict:
    """What a webhook receives: `text` as Slack shows it, and the same facts as fields."""
    return {
        "text": f"{notification.subject}\n{_message_text(notification)}",
        "event": notification.event,
        "subject": notification.subject,
        "link": f"{settings.PORTAL_BASE_URL}{notification.link}" if notification.link else "",
        "occurred_at": notification.created_at.isoformat(),
        "id": notification.pk,
    }


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The value of X-Portal-Signature: HMAC-SHA256 over "<timestamp>.<body>"."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _post_webhook(delivery: NotificationDelivery) -> None:
    webhook = delivery.webhook
    if webhook is None or not webhook.active:
        raise DeliveryFailed("The webhook was removed or switched off.")
    body = json.dumps(webhook_payload(delivery.notification), ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "NumbersPortal/1",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: webhook_signature(secret=webhook.secret, timestamp=timestamp, body=body),
    }
    # The URL may hold a secret (Slack's do): no message below names it.
    try:
        response = requests.post(
            webhook.url,
            data=body,
            headers=headers,
            timeout=WEBHOOK_TIMEOUTS,
            allow_redirects=False,
        )
    except requests.Timeout as error:
        raise DeliveryFailed(
            f"The receiver did not answer within {WEBHOOK_TIMEOUTS[1]} seconds."
        ) from error
    except requests.ConnectionError as error:
        raise DeliveryFailed(
            "The receiver could not be reached (connection refused, or no such host)."
        ) from error
    except requests.RequestException as error:
        raise DeliveryFailed(f"The request failed ({type(error).__name__}).") from error
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"The receiver answered HTTP {response.status_code}.")


# --- what is told ---------------------------------------------------------------------------


def operation_done(*, entry: Operation, event: Event) -> None:
    """A purchase or cancellation ended (whatever its outcome)."""
    entry.refresh_from_db()
    number = phone.international(entry.msisdn)
    done = {
        Outcome.SUCCEEDED: "Bought" if event == Event.PURCHASE_DONE else "Cancelled",
        Outcome.FAILED: "Not bought" if event == Event.PURCHASE_DONE else "Not cancelled",
        Outcome.UNKNOWN: "Outcome unknown",
    }.get(Outcome(entry.outcome), entry.get_outcome_display())
    what = entry.get_action_display().lower()
    text = f"{done}: the {what} of {number} by {entry.actor_username or 'the portal'}."
    if entry.outcome == Outcome.SUCCEEDED and event == Event.PURCHASE_DONE:
        text += (
            f" It costs {wording.money(entry.setup_cost)} to set up and "
            f"{wording.money(entry.monthly_cost)} a month."
        )
    elif entry.reason:
        text += f" {_sentence(entry.reason)}"
    notify(
        event=event,
        key=f"operation:{entry.seq}",
        subject=f"{done}: {number}",
        text=text,
        link=f"/operations/{entry.pk}/",
    )


def batch_done(*, batch: Batch) -> None:
    """A bulk purchase or cancellation ended."""
    event = {Batch.Kind.PURCHASE: Event.PURCHASE_DONE, Batch.Kind.CANCEL: Event.CANCEL_DONE}
    if batch.kind not in event:
        return
    batch.refresh_from_db()
    title = f"{batch.get_kind_display()} #{batch.pk} {batch.get_status_display().lower()}"
    notify(
        event=event[Batch.Kind(batch.kind)],
        key=f"batch:{batch.pk}",
        subject=title,
        text=f"{title}: {batch.message}",
        link=f"/batches/{batch.pk}/",
    )


def _request_words(request: PurchaseRequest) -> str:
    if request.count == 1:
        item = request.items.first()
        numbers = phone.international(item.msisdn) if item else "a number"
    else:
        numbers = f"{request.count} numbers"
    return (
        f"{numbers} for {wording.money(request.setup_cost)} now and "
        f"{wording.money(request.monthly_cost)} a month"
    )


def approval_requested(*, request: PurchaseRequest) -> None:
    requester = request.requester.get_username() if request.requester else "someone"
    users = get_user_model().objects.filter(is_active=True)
    if request.requester_id is not None:
        users = users.exclude(pk=request.requester_id)
    approvers = [user.pk for user in users if user.has_perm("inventory.approve_purchase")]
    notify(
        event=Event.APPROVAL_REQUESTED,
        key=f"approval-requested:{request.pk}",
        subject=f"Purchase request #{request.pk} waits for approval",
        text=(
            f"{requester} asks to buy {_request_words(request)}. {_sentence(request.rule)} "
            f"Their reason: “{request.reason}”. It expires "
            f"{timezone.localtime(request.expires_at):%d %b %Y %H:%M %Z}."
        ),
        link=f"/approvals/{request.pk}/",
        user_ids=approvers,
    )


def approval_decided(*, request: PurchaseRequest) -> None:
    """Approved, rejected, expired, or approved but not carried out: told to the requester."""
    by = request.decided_by.get_username() if request.decided_by else "an approver"
    outcome = {
        PurchaseRequest.Status.APPROVED: f"was approved by {by}; the task worker buys it now",
        PurchaseRequest.Status.REJECTED: f"was rejected by {by}",
        PurchaseRequest.Status.EXPIRED: "expired: nobody decided on it in time",
        PurchaseRequest.Status.REFUSED: "was approved, but nothing was bought",
    }.get(PurchaseRequest.Status(request.status), f"is {request.get_status_display().lower()}")
    text = f"Your purchase request #{request.pk} ({_request_words(request)}) {outcome}."
    if request.decision_reason:
        text += f" Their reason: “{request.decision_reason}”."
    if request.message:
        text += f" {_sentence(request.message)}"
    notify(
        event=Event.APPROVAL_DECIDED,
        key=f"approval-decided:{request.pk}:{request.status}",
        subject=f"Purchase request #{request.pk} {outcome.split(';')[0].split(':')[0]}",
        text=text,
        link=f"/approvals/{request.pk}/",
        user_ids=[request.requester_id] if request.requester_id else [],
    )


def drift_found(*, run: SyncRun) -> None:
    """A sync saw numbers appear, disappear or change outside the portal."""
    notify(
        event=Event.DRIFT_FOUND,
        key=f"drift:{run.pk}",
        subject="The sync found changes made outside the portal",
        text=(
            f"The sync of {timezone.localtime(run.started_at):%d %b %Y %H:%M %Z} found "
            f"{run.appeared} number(s) that appeared, {run.disappeared} that disappeared and "
            f"{run.changed} changed outside the portal. Each is in the audit trail."
        ),
        link="/inventory/",
    )


def conditions_watch() -> None:
    """For the workers' housekeeping: syncs that keep failing, outcomes that stay unknown."""
    _sync_failing_watch()
    _unknown_watch()


def _sync_failing_watch() -> None:
    last_success = (
        SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).order_by("-finished_at").first()
    )
    failures = SyncRun.objects.filter(status=SyncRun.Status.FAILED)
    if last_success is not None and last_success.finished_at:
        failures = failures.filter(finished_at__gt=last_success.finished_at)
    first = failures.order_by("finished_at").first()
    if first is None or first.finished_at is None:
        return
    failing_for = timezone.now() - first.finished_at
    if failing_for < settings.NOTIFY_SYNC_FAILING_AFTER:
        return
    key = f"sync-failing:{first.pk}"
    if Notification.objects.filter(key=key).exists():
        return
    latest = failures.order_by("-finished_at").first()
    since = timezone.localtime(first.finished_at)
    notify(
        event=Event.SYNC_FAILING,
        key=key,
        subject="Syncs keep failing",
        text=(
            f"No sync has succeeded since {since:%d %b %Y %H:%M %Z} "
            f"({wording.in_minutes(failing_for)}): the inventory may not show what the account "
            f"has. The last one said: {latest.message if latest else first.message}"
        ),
        link="/inventory/",
    )


def _unknown_watch() -> None:
    cutoff = timezone.now() - settings.NOTIFY_UNKNOWN_AFTER
    unknown = Operation.objects.filter(
        outcome=Outcome.UNKNOWN, settlement__isnull=True, completed_at__lt=cutoff
    ).order_by("seq")
    told = set(
        Notification.objects.filter(event=Event.OPERATION_UNKNOWN).values_list("key", flat=True)
    )
    fresh = [entry for entry in unknown[:200] if f"unknown:{entry.seq}" not in told]
    for entry in fresh[:UNKNOWN_PER_SWEEP]:
        notify(
            event=Event.OPERATION_UNKNOWN,
            key=f"unknown:{entry.seq}",
            subject=f"Outcome still unknown: {phone.international(entry.msisdn)}",
            text=(
                f"The outcome of the {entry.get_action_display().lower()} of "
                f"{phone.international(entry.msisdn)} by {entry.actor_username or 'the portal'} "
                f"has been unknown since {_when(entry.completed_at)}. "
                "A sync settles it once the account can be read; until then it may be billed."
            ),
            link=f"/operations/{entry.pk}/",
        )


def budget_threshold_reached(
    *, team: str, percent: int, spent: Decimal, budget: Decimal, period: str = ""
) -> None:
    """A team's spending reached 80 % or 100 % of its budget: told once per team, threshold
    and period (`period`, such as "2026-12"; this month by default)."""
    event = Event.BUDGET_100 if percent >= 100 else Event.BUDGET_80
    period = period or f"{timezone.localdate():%Y-%m}"
    reached = "its budget" if event == Event.BUDGET_100 else f"{percent} % of its budget"
    notify(
        event=event,
        key=f"budget:{event}:{team}:{period}",
        subject=f"{team or 'A team'} reached {reached}",
        text=(
            f"{team or 'A team'} has spent {wording.money(spent)} of its "
            f"{wording.money(budget)} budget for {period}."
        ),
        link="/inventory/",
    )


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%d %b %Y %H:%M %Z}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?", "”")) else text + "."
