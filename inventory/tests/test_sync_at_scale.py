"""The sync at any size of account: each page goes to a staging table and is dropped from
memory; the cache is reconciled by set-based statements (one INSERT for every number that
appeared, however many); the lease is renewed by an UPDATE; nothing staged outlives the run."""

import re

from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from inventory import api_client as api
from inventory.audit import Actor
from inventory.models import ListedNumber, OwnedNumber, SyncRun
from inventory.services.sync import owned_numbers_sync
from inventory.tests.base import BaseTestCase

LIST = "GET /account/numbers"
CACHE = OwnedNumber._meta.db_table


def statements(captured, verb: str, table: str) -> list[str]:
    pattern = re.compile(rf'^\s*{verb}\b.*?\b"?{table}"?[\s(]', re.IGNORECASE | re.DOTALL)
    return [q["sql"] for q in captured.captured_queries if pattern.match(q["sql"])]


class SyncAtScaleTestCase(BaseTestCase):
    def sync(self) -> SyncRun:
        return owned_numbers_sync(client=api.default_client(), actor=Actor.system("tests"))

    def test_every_number_of_a_first_sync_is_written_by_one_insert(self):
        self.sandbox.reset(owned=1234)

        with CaptureQueriesContext(connection) as captured:
            run = self.sync()

        assert run.status == SyncRun.Status.SUCCEEDED, run.message
        assert OwnedNumber.objects.count() == 1234
        assert len(statements(captured, "INSERT", CACHE)) == 1

    def test_the_lease_is_renewed_by_an_update_after_each_page(self):
        self.sandbox.reset(owned=450)

        with CaptureQueriesContext(connection) as captured:
            self.sync()

        lease = "inventory_lease"
        assert len(statements(captured, "INSERT", lease)) == 1  # taken once
        assert len(statements(captured, "UPDATE", lease)) >= 5  # renewed after each page

    def test_nothing_staged_outlives_a_run_that_succeeded_or_failed(self):
        self.sandbox.reset(owned=250)
        self.sync()
        assert not ListedNumber.objects.exists()

        self.sandbox.fault(LIST, "reset", count=50, skip=2)  # page 3 never arrives
        run = self.sync()

        assert run.status == SyncRun.Status.FAILED
        assert not ListedNumber.objects.exists()
        assert OwnedNumber.objects.count() == 250

    def test_a_later_sync_that_changes_nothing_writes_nothing_to_the_cache(self):
        self.sandbox.reset(owned=300)
        self.sync()
        written = OwnedNumber.objects.aggregate(last=Max("updated_at"))["last"]

        run = self.sync()

        assert (run.appeared, run.disappeared, run.changed) == (0, 0, 0)
        assert not OwnedNumber.objects.filter(updated_at__gt=written).exists()
        assert OwnedNumber.objects.count() == 300
