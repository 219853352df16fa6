"""Bench steps that need Django, run in a child process with the bench's environment:

    python -m bench.djangotasks prepare
    python -m bench.djangotasks fill SANDBOX_BASE_URL
    python -m bench.djangotasks queries '["/inventory/", ...]'
    python -m bench.djangotasks syncrun

Each prints one JSON object on its last line of output.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from decimal import Decimal

import django


def prepare() -> dict:
    """Migrate a new database and create the demo logins (the bench signs in as `viewer`)."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    call_command("create_demo_users", verbosity=0)
    if connection.vendor == "sqlite":  # so the file can be copied on its own
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"ok": True}


def fill(sandbox_url: str) -> dict:
    """Make the owned-number cache hold exactly the sandbox account's numbers, written as the
    sync writes them (parse_owned + the sync's own field mapping, raw record included), with a
    price on every third number as if it had been bought through the portal; then record a
    successful sync so the page looks as it does in everyday use, and invalidate what the
    portal derived from the cache (the sync status, and totals where the portal keeps them).
    Reads the account from the sandbox's control surface: no API call, no quota."""
    import requests
    from django.core.cache import cache
    from django.db import transaction
    from django.utils import timezone

    from inventory import api_client as api
    from inventory import selectors
    from inventory.models import OwnedNumber, SyncRun
    from inventory.services.cache import (
        cache_fields,
        cache_statistics_refresh,
        inventory_changed,
    )
    from inventory.services.pricing import prices_refresh

    owned = requests.get(f"{sandbox_url}/_sandbox/state", timeout=120).json()["owned"]
    started = time.monotonic()
    now = timezone.now()
    rows = []
    for position, item in enumerate(owned):
        number = api.parse_owned(item)
        fields = cache_fields(number)
        if position % 3 == 0:
            fields.update(
                monthly_cost=Decimal("1.2500"), setup_cost=Decimal("0.5000"), purchased_at=now
            )
        rows.append(OwnedNumber(msisdn=number.msisdn, first_seen_at=now, **fields))
    with transaction.atomic():
        OwnedNumber.objects.all().delete()
        OwnedNumber.objects.bulk_create(rows, batch_size=2000)
        prices_refresh()  # as the sync prices what it writes (the tally follows by trigger)
        SyncRun.objects.create(
            status=SyncRun.Status.SUCCEEDED,
            started_at=now,
            finished_at=now,
            started_by="bench",
            numbers_seen=len(rows),
            list_calls=math.ceil(len(rows) / 100),
            message="Cache filled by the benchmark.",
        )
    cache_statistics_refresh()  # as a sync does after the cache grew
    cache.delete(selectors.SYNC_STATUS_CACHE_KEY)
    inventory_changed()  # what every write to the cache does: totals counted before are dropped
    return {"numbers": OwnedNumber.objects.count(), "seconds": time.monotonic() - started}


def queries(paths_json: str) -> dict:
    """Database queries per page, counted server-side: Django's test client requests each page
    as the `viewer` login, against the same database and cache as the portal, under
    CaptureQueriesContext. The first request may fill caches (the sync status); the second is
    what every later page view costs."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    viewer = get_user_model().objects.get(username="viewer")
    client.force_login(viewer, backend="django.contrib.auth.backends.ModelBackend")
    result = {}
    for path in json.loads(paths_json):
        counts, statuses, db_ms = [], [], []
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
            counts.append(len(captured))
            statuses.append(response.status_code)
            db_ms.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
        result[path] = {
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


TASKS = {"prepare": prepare, "fill": fill, "queries": queries, "syncrun": syncrun}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "numbersportal.settings")
    django.setup()
    task, *args = sys.argv[1:]
    print(json.dumps(TASKS[task](*args), default=str))


if __name__ == "__main__":
    main()
