"""Task workers: who is alive, and what the dead ones left running.

django-tasks-db hands each task to one worker; a worker killed mid-task leaves it marked
running for ever. Each of the portal's workers (`manage.py run_worker`) therefore holds a
lease it renews every few seconds; a task still marked running by a worker whose lease has
expired goes back to the queue. Every task is safe to run again: it settles what its dead
predecessor started before it sends anything (DESIGN §2.11).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from inventory.models import Lease, Operation, Outcome
from inventory.services import approvals, background, notifications, pricing
from inventory.services.events import login_failures_summarise
from inventory.services.idempotency import idempotency_keys_sweep
from inventory.services.leases import lease_acquire, lease_release, live_holders
from inventory.services.operations import stale_operations_interrupt

log = logging.getLogger(__name__)

WORKER_LEASE_PREFIX = "worker:"


def worker_id_new() -> str:
    """Unique across hosts and restarts, and readable on the System status page."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def worker_heartbeat(*, worker_id: str) -> bool:
    """Renew this worker's lease; False if another process took its id (never expected)."""
    taken = lease_acquire(
        name=WORKER_LEASE_PREFIX + worker_id,
        holder=worker_id,
        seconds=settings.TASK_WORKER_LEASE_SECONDS,
    )
    return taken is not None


def worker_stopped(*, worker_id: str) -> None:
    lease_release(name=WORKER_LEASE_PREFIX + worker_id, holder=worker_id)


@dataclass(frozen=True)
class WorkerInfo:
    worker_id: str
    seen_until: datetime


def workers_alive() -> list[WorkerInfo]:
    leases = Lease.objects.filter(
        name__startswith=WORKER_LEASE_PREFIX, expires_at__gte=timezone.now()
    ).order_by("holder")
    return [WorkerInfo(worker_id=lease.holder, seen_until=lease.expires_at) for lease in leases]


def tasks_of_dead_workers_requeue() -> int:
    """Put back in the queue every task still marked running by a worker that stopped
    renewing its lease. Returns how many."""
    alive = live_holders(prefix=WORKER_LEASE_PREFIX)
    requeued = 0
    for task in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING):
        owner = task.worker_ids[-1] if task.worker_ids else ""
        if owner in alive:
            continue
        with transaction.atomic():
            requeued += DBTaskResult.objects.filter(
                pk=task.pk, status=TaskResultStatus.RUNNING
            ).update(status=TaskResultStatus.READY, started_at=None)
        log.warning(
            "Task %s was left running by worker %s, which stopped; queued again.",
            task.pk,
            owner or "(unknown)",
        )
    return requeued


def worker_housekeeping() -> None:
    """What a live worker does every beat. For the dead: their tasks back in the queue,
    their pending operations marked unknown, a settlement queued for every unknown outcome.
    For the living: purchase requests nobody decided on expire, people hear of syncs that
    keep failing and of outcomes that stay unknown, the summaries of closed failed-login
    windows are written, the JSON API's idempotency keys past their time forgotten, and the
    spend history and the rate card kept current."""
    idempotency_keys_sweep()
    tasks_of_dead_workers_requeue()
    stale_operations_interrupt()
    approvals.purchase_requests_expire()
    notifications.conditions_watch()
    login_failures_summarise()  # so a window's summary is written even when nobody logs in
    unsettled = Operation.objects.filter(outcome=Outcome.UNKNOWN, settlement__isnull=True)
    queued = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=background.task_path("settle unknown")
    )
    if unsettled.exists() and not queued.exists():
        background.enqueue("settle unknown")
    pricing.spend_housekeeping()  # the month's spend recorded, rate-card refreshes when due
