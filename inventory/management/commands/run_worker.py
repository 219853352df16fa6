"""Run a task worker: django-tasks-db's `db_worker`, plus a heartbeat.

    python manage.py run_worker            # until SIGTERM or Ctrl-C (a task in progress ends first)

Run as many as you like, on as many hosts: each task goes to exactly one worker. While it
lives, a worker renews its lease every TASK_WORKER_HEARTBEAT_SECONDS; a worker that dies
(killed, host lost) stops renewing, and within TASK_WORKER_LEASE_SECONDS another worker
puts its unfinished task back in the queue, where it settles what was started before it
sends anything. On its first start against a never-synced cache, a worker queues a sync.
"""

import logging
import threading

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from inventory.audit import Actor
from inventory.services import sync, workers

log = logging.getLogger("inventory.worker")


class Heartbeat:
    """A daemon thread renewing this worker's lease and looking after dead workers' work.
    A failure (the database away) is logged and tried again at the next beat."""

    def __init__(self, worker_id: str):
        self.worker_id = worker_id
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat_until_stopped, name="heartbeat", daemon=True
        )

    def start(self) -> None:
        self._beat()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=settings.TASK_WORKER_HEARTBEAT_SECONDS * 2)
        try:
            workers.worker_stopped(worker_id=self.worker_id)
        except Exception:
            log.warning("Could not release the lease of worker %s", self.worker_id, exc_info=True)

    def _beat_until_stopped(self) -> None:
        try:
            while not self._stop.wait(settings.TASK_WORKER_HEARTBEAT_SECONDS):
                self._beat()
        finally:
            connection.close()  # this thread's own connection

    def _beat(self) -> None:
        try:
            workers.worker_heartbeat(worker_id=self.worker_id)
            workers.worker_housekeeping()
        except Exception:
            log.warning("Worker heartbeat failed; trying again shortly.", exc_info=True)


class Command(DatabaseWorkerCommand):
    help = (
        "Run a background task worker with a heartbeat (tasks of workers that died are "
        "queued again). SIGTERM or Ctrl-C stops it once its current task ends."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(worker_id=workers.worker_id_new(), reload=False)

    def handle(self, *args, worker_id: str, **options):
        heartbeat = Heartbeat(worker_id)
        heartbeat.start()
        log.info("Task worker %s started.", worker_id)
        try:
            sync.sync_first_request(actor=Actor.system("first sync"))
        except Exception:
            log.warning("Could not queue the first sync", exc_info=True)
        try:
            super().handle(*args, worker_id=worker_id, **options)
        finally:
            heartbeat.stop()
            log.info("Task worker %s stopped.", worker_id)
