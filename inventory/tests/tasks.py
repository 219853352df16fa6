"""Running the task queue inside a test: each ready task claimed and run by the same code
`run_worker` runs it with, on the test's own database connection (the worker's outer loop
closes connections between tasks, which a test's transaction cannot survive)."""

from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


def run_queued_tasks(*, worker_id: str = "test-worker") -> int:
    """Run every ready task, those that become ready meanwhile too; returns how many ran."""
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    ran = 0
    while (task := DBTaskResult.objects.ready().first()) is not None:
        task.claim(worker_id)
        worker.run_task(task)
        ran += 1
    return ran
