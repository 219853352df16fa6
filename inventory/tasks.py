"""Background work, run by the task workers (`manage.py run_worker`) through Django's task
framework (the django-tasks backport; django-tasks-db keeps the queue in the database).

A task holds no state outside the database and may run more than once: after its worker
is killed, the task goes back to the queue and the next run settles what the first one
started before it sends anything (DESIGN §2.11).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tasks import TaskContext, task

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import Event, SyncRun
from inventory.services import (
    approvals,
    background,
    batches,
    notifications,
    operations,
    pricing,
    purchase,
    settlement,
    sync,
)


def _actor(user_id: int | None, *, fallback: str) -> Actor:
    """Who the work is done for: the user who asked for it, else the system."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    if user is None:
        return Actor.system(fallback)
    return Actor(user=user, username=user.get_username())


def _is_retry(context: TaskContext) -> bool:
    """Whether an earlier run of this task was cut short (its worker stopped)."""
    return len(context.task_result.worker_ids) > 1


@background.does("sync")
@task()
def sync_numbers_task(*, run_id: int, user_id: int | None = None) -> str:
    """Carry out a sync someone queued with "Sync now"."""
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None or run.status not in SyncRun.OPEN:
        return "This sync had already ended."
    try:
        run = sync.owned_numbers_sync(actor=_actor(user_id, fallback="sync"), run=run)
    except sync.SyncAlreadyRunning as busy:
        sync.sync_skip(run, reason=str(busy))
        return str(busy)
    return run.message


@background.does("purchase")
@task(takes_context=True)
def purchase_task(
    context: TaskContext,
    *,
    user_id: int,
    form_token: str,
    offer: dict,
) -> str:
    """Buy one number at the confirmed price (an approved request, a script)."""
    actor = _actor(user_id, fallback="portal")
    available = api.AvailableNumber.from_plain(offer)
    earlier = operations.operation_replay(form_token=form_token, actor=actor)
    if earlier is not None and _is_retry(context):
        entry = settlement.operation_resume(entry=earlier, actor=actor)
    else:
        entry = purchase.number_purchase(actor=actor, offer=available, form_token=form_token)
    return entry.final_outcome


@background.does("settle unknown")
@task()
def settle_unknown_task() -> int:
    """Settle every unknown outcome whose grace period has passed, by exact lookups."""
    return settlement.unknown_operations_settle(actor=Actor.system("settle"))


@background.does("batch check")
@task()
def batch_check_task(*, batch_id: int) -> str:
    """Ask the catalogue again for each offer of a bulk purchase, before it is confirmed."""
    return batches.batch_check(batch_id=batch_id).get_status_display()


@background.does("batch run")
@task()
def batch_run_task(*, batch_id: int) -> str:
    """Carry out a confirmed batch; run again after a crash, it settles before it sends."""
    return batches.batch_run(batch_id=batch_id).message


@background.does("purchase request run")
@task()
def purchase_request_run_task(*, request_id: int) -> str:
    """Carry out an approved purchase request, at the approved prices (or not at all)."""
    return approvals.purchase_request_run(request_id=request_id).message


@background.does("notification send")
@task()
def notification_send_task(
    *,
    event: str,
    key: str,
    subject: str,
    text: str,
    link: str = "",
    user_ids: list[int] | None = None,
) -> str:
    """Record a notification and queue a delivery to each of its receivers (once per key)."""
    notification = notifications.notification_send(
        event=Event(event), key=key, subject=subject, text=text, link=link, user_ids=user_ids
    )
    return "Told already." if notification is None else f"{notification.deliveries.count()} queued."


@background.does("notification deliver")
@task()
def notification_deliver_task(*, delivery_id: int) -> str:
    """One attempt at delivering one notification; a failure queues the next attempt."""
    delivery = notifications.notification_deliver(delivery_id=delivery_id)
    return delivery.get_status_display() if delivery is not None else "No such delivery."


@background.does("rate card refresh")
@task()
def rate_card_refresh_task() -> str:
    """Ask the catalogue for the price of each kind of number the account holds (those not
    asked about today); safe to run again: a second run finds nothing due."""
    return pricing.rate_card_refresh().message
