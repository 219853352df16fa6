"""Background work the services ask for, by name. inventory/tasks.py says which task does
each piece of work (it is imported when the app is ready), so the services queue work
without importing the tasks that call them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

_TASKS: dict[str, Any] = {}


def does(name: str):
    """Mark a task of inventory/tasks.py as the one that does the work called `name`."""

    def register(task):
        _TASKS[name] = task
        return task

    return register


def enqueue(name: str, *, run_after: datetime | None = None, **arguments) -> str:
    """Queue the work (for `run_after`, or as soon as a worker is free); returns the id of
    its task result, which pages follow."""
    task = _TASKS[name]
    if run_after is not None:
        task = task.using(run_after=run_after)
    return str(task.enqueue(**arguments).id)


def task_path(name: str) -> str:
    """The dotted path the queue records for this work (to ask whether it is queued)."""
    return _TASKS[name].module_path
