"""For tests that need real commits (several connections, a live server)."""

from django.db import connections
from django.test import TransactionTestCase

from inventory import trail_guards


class TrailTransactionTestCase(TransactionTestCase):
    """Django empties every table after each of these tests; the audit trail's guards
    refuse that, so they are lifted for the emptying only and re-armed right after."""

    def _fixture_teardown(self):
        names = sorted(self.databases)
        for alias in names:
            trail_guards.lift(connections[alias])
        try:
            super()._fixture_teardown()
        finally:
            for alias in names:
                trail_guards.restore(connections[alias])
