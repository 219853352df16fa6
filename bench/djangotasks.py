"""Bench steps that need Django, run in a child process with the bench's environment:

    python -m bench.djangotasks prepare
    python -m bench.djangotasks fill SIZE
    python -m bench.djangotasks targets
    python -m bench.djangotasks queries '{"kind": ["/path", "username"], ...}'
    python -m bench.djangotasks syncrun
    python -m bench.djangotasks batch-prepare buy|configure SIZE
    python -m bench.djangotasks batch-run BATCH_ID

Each prints one JSON object on its last line of output.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable

import django


def prepare() -> dict:
    """Migrate a new database and create the demo logins (the bench signs in with them)."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    call_command("create_demo_users", verbosity=0)
    if connection.vendor == "sqlite":  # so the file can be copied on its own
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"ok": True}


def fill(size: str) -> dict:
    """Grow the cache to SIZE numbers and the audit trail to SIZE entries (bench.fill), then
    do what a sync does after the cache grew: fold the totals, refresh the statistics,
    record a successful sync run, and publish the sync status."""
    from django.core.cache import cache
    from django.db import connection
    from django.utils import timezone

    from bench.fill import fill_numbers, fill_trail
    from inventory import cache_triggers, selectors
    from inventory.models import OwnedNumber, SyncRun
    from inventory.services.cache import cache_statistics_refresh, cache_totals_fold

    target = int(size)
    started = time.monotonic()
    added = fill_numbers(target)
    numbers_s = time.monotonic() - started
    entries = fill_trail(target)
    trail_s = time.monotonic() - started - numbers_s
    cache_totals_fold()
    cache_statistics_refresh()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A row-by-row fill appended totals and spend rows per row; a sync's one INSERT
            # a page does not.
            cursor.execute(f"VACUUM FULL {cache_triggers.TOTALS}")
            cursor.execute(f"VACUUM FULL {cache_triggers.SPEND}")
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would after so many inserts
        else:
            cursor.execute("ANALYZE")  # the trail's statistics too
    now = timezone.now()
    SyncRun.objects.create(
        status=SyncRun.Status.SUCCEEDED,
        started_at=now,
        finished_at=now,
        started_by="bench",
        numbers_seen=target,
        list_calls=math.ceil(target / 100),
        message="Cache filled by the benchmark.",
    )
    cache.delete(selectors.SYNC_STATUS_CACHE_KEY)
    return {
        "numbers": OwnedNumber.objects.count(),
        "added": added,
        "entries": entries,
        "numbers_seconds": numbers_s,
        "trail_seconds": trail_s,
        "seconds": time.monotonic() - started,
    }


def targets() -> dict:
    """What the measured pages point at: the middle of the inventory (a deep page by its
    cursor), the last page, an entry of the trail and a number and a user in it."""
    from bench.fill import number_record
    from inventory import selectors
    from inventory.models import Operation, OwnedNumber

    count = OwnedNumber.objects.count()
    middle = OwnedNumber.objects.order_by("msisdn")[count // 2] if count else None
    # An operation on a number, a thousand entries back (or the oldest there is).
    recent = Operation.objects.exclude(msisdn="").order_by("-seq")
    entry = list(recent[:1001])[-1]
    return {
        "count": count,
        "middle_page": max(1, count // 2 // 50 + 1),
        "middle_cursor": selectors.inventory_order("msisdn").cursor_of(middle) if middle else "",
        "last_page": max(1, math.ceil(count / 50)),
        "entry_id": entry.pk,
        "entry_msisdn": entry.msisdn,
        "entry_user": entry.actor_username,
        "entry_country": entry.country or "GB",
        "starts": "+" + number_record(7)[0]["msisdn"][:5],
    }


def queries(paths_json: str) -> dict:
    """Database queries per page, counted server-side: Django's test client requests each
    page as the given login, against the same database and cache as the portal, under
    CaptureQueriesContext. The first request may fill caches (the sync status); the second
    is what every later page view costs."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients = {}
    result = {}
    for kind, (path, username) in json.loads(paths_json).items():
        if username not in clients:
            clients[username] = Client(HTTP_HOST="127.0.0.1")
            user = get_user_model().objects.get(username=username)
            clients[username].force_login(user, backend="inventory.auth_backend.RoleBackend")
        client = clients[username]
        counts, statuses, db_ms = [], [], []
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
            counts.append(len(captured))
            statuses.append(response.status_code)
            db_ms.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
        result[kind] = {
            "first": counts[0],
            "later": counts[1],
            "statuses": statuses,
            "db_ms": db_ms[1],
            "sql": [q["sql"][:300] for q in captured.captured_queries],
        }
    return result


def syncrun() -> dict:
    """The latest sync run, as the sync itself recorded it."""
    from inventory.models import SyncRun

    run = SyncRun.objects.order_by("-started_at").first()
    if run is None:
        return {}
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return {
        "status": run.status,
        "seconds": seconds,
        "list_calls": run.list_calls,
        "numbers_seen": run.numbers_seen,
        "message": run.message,
    }


def batch_prepare(kind: str, size: str) -> dict:
    """A confirmed bulk purchase of SIZE numbers on sale (picked and price-checked as the
    pages do it), or a confirmed bulk configuration of the SIZE numbers the account holds
    (synced into the cache first), queued for a worker; its id."""
    from django.contrib.auth.models import User

    from inventory import api_client as api
    from inventory.audit import Actor
    from inventory.models import OwnedNumber
    from inventory.services import batches
    from inventory.services.sync import owned_numbers_sync

    user = User.objects.get(username="operator")
    actor = Actor(user=user, username=user.username)
    client = api.default_client()
    count = int(size)
    if kind == "buy":
        offers: list = []
        index = 1
        while len(offers) < count:
            page = client.search_available(country="GB", index=index, size=100)
            if not page.items:
                raise RuntimeError(f"the catalogue has only {len(offers)} numbers on sale")
            offers += page.items[: count - len(offers)]
            index += 1
        batches.selection_add(user=user, offers=offers)
        batch = batches.purchase_batch_create(actor=actor)
        batches.batch_check(batch_id=batch.pk, client=client)
    else:
        owned_numbers_sync(client=client, actor=Actor.system("bench"))
        msisdns = [number.msisdn for number in OwnedNumber.objects.order_by("msisdn")[:count]]
        changes = {"moHttpUrl": "https://hooks.example.com/bench/inbound"}
        batch = batches.configure_batch_create(actor=actor, msisdns=msisdns, changes=changes)
    batch = batches.batch_confirm(actor=actor, batch_id=batch.pk)
    return {"batch": batch.pk, "status": batch.status, "items": batch.items.count()}


def batch_run(batch_id: str) -> dict:
    """Carry out a queued batch as a task worker does, timed; how its items ended."""
    from django.db.models import Count

    from inventory.services import batches

    started = time.monotonic()
    batch = batches.batch_run(batch_id=int(batch_id))
    seconds = time.monotonic() - started
    states = dict(batch.items.order_by().values_list("state").annotate(n=Count("pk")))
    return {"status": batch.status, "seconds": seconds, "states": states, "message": batch.message}


TASKS: dict[str, Callable[..., dict]] = {
    "batch-prepare": batch_prepare,
    "batch-run": batch_run,
    "prepare": prepare,
    "fill": fill,
    "targets": targets,
    "queries": queries,
    "syncrun": syncrun,
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "numbersportal.settings")
    django.setup()
    task, *args = sys.argv[1:]
    print(json.dumps(TASKS[task](*args), default=str))


if __name__ == "__main__":
    main()
