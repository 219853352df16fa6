"""Failed logins in the audit trail: bounded however many there are (anyone can fail to log
in), with every failure still counted, and nothing already recorded ever changing."""

import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from inventory.audit import Actor, verify_chain
from inventory.models import Action, LoginFailureCount, LoginFailureWindow, Operation
from inventory.services import events
from inventory.services.events import COUNTERS_KEPT
from inventory.tests.base import PASSWORD, BaseTestCase, clear_of_a_login_failure_window_end
from inventory.tests.transactional import TrailTransactionTestCase

CAP = settings.LOGIN_FAILURES_ITEMISED_PER_WINDOW
LIMIT = settings.AXES_FAILURE_LIMIT


@override_settings(LOGIN_FAILURE_WINDOW=timedelta(days=1))
class LoginFailuresTestCase(BaseTestCase):
    def setUp(self):
        clear_of_a_login_failure_window_end()

    def fail(self, times: int, *, username=lambda n: "olivia", ip=lambda n: "198.51.100.20"):
        for n in range(times):
            response = self.client.post(
                "/login/", {"username": username(n), "password": "wrong"}, REMOTE_ADDR=ip(n)
            )
            assert response.status_code in (200, 429)

    def entries(self):
        return Operation.objects.filter(action=Action.LOGIN_FAILED).order_by("seq")

    def close_the_window(self) -> int:
        """What the first login after the window's end does."""
        self.closed_at = timezone.now() + settings.LOGIN_FAILURE_WINDOW
        return events.login_failures_summarise(now=self.closed_at)

    def test_a_hundred_failures_for_one_username_make_three_entries(self):
        self.fail(100)

        assert self.entries().count() == 2  # the first failure, and the one that locked
        assert self.close_the_window() == 1
        assert self.entries().count() == 3

    def test_the_summary_counts_every_failure_by_username_and_address(self):
        self.fail(100)
        self.fail(3, username=lambda n: "root", ip=lambda n: "203.0.113.5")

        self.close_the_window()

        summary = self.entries().last()
        window = LoginFailureWindow.objects.get()
        assert summary.actor_username == ""
        assert summary.request["summary"]["failures"] == 103
        assert summary.request["summary"]["itemised"] == 3
        assert summary.request["summary"]["counts"] == [
            {"username": "olivia", "ip": "198.51.100.20", "failures": 100},
            {"username": "root", "ip": "203.0.113.5", "failures": 3},
        ]
        end = window.started_at + settings.LOGIN_FAILURE_WINDOW
        assert summary.reason == (
            f"103 failed logins from {window.started_at:%Y-%m-%d %H:%M} to "
            f"{end:%Y-%m-%d %H:%M} UTC, 3 of them recorded one by one: "
            "100 for “olivia” from 198.51.100.20; 3 for “root” from 203.0.113.5."
        )

    def test_a_hundred_usernames_from_one_address_add_at_most_the_cap_and_a_summary(self):
        self.fail(100, username=lambda n: f"guess-{n}")

        assert self.entries().count() == CAP
        self.close_the_window()
        assert self.entries().count() == CAP + 1
        summary = self.entries().last()
        assert summary.request["summary"]["failures"] == 100
        assert len(summary.request["summary"]["counts"]) == 20
        assert summary.request["summary"]["more_pairs"] == 80
        assert summary.reason.endswith("; 80 for 80 more pairs.")

    def test_one_username_from_a_hundred_addresses_adds_at_most_the_cap_and_a_summary(self):
        self.fail(100, ip=lambda n: f"198.51.100.{n + 1}")

        self.close_the_window()

        assert self.entries().count() == CAP + 1

    def test_the_first_failure_of_another_username_from_the_same_address_has_its_own_entry(self):
        self.fail(3)
        self.fail(1, username=lambda n: "victor")

        assert [e.actor_username for e in self.entries()] == ["olivia", "victor"]

    def test_a_window_whose_failures_all_have_entries_needs_no_summary(self):
        self.fail(1)

        assert self.close_the_window() == 0
        assert self.entries().count() == 1
        assert LoginFailureWindow.objects.get().summarised_at is not None

    def test_the_summary_is_a_new_entry_and_the_trail_stays_intact(self):
        self.fail(10)
        before = list(self.entries().values_list("pk", "hash", "reason"))

        self.close_the_window()

        assert list(self.entries().values_list("pk", "hash", "reason"))[:-1] == before
        checked, broken = verify_chain()
        assert broken is None
        assert checked == Operation.objects.count()

    def test_the_next_login_after_the_window_writes_its_summary_once(self):
        self.fail(10)
        LoginFailureWindow.objects.update(
            started_at=timezone.now() - 2 * settings.LOGIN_FAILURE_WINDOW
        )

        self.client.post("/login/", {"username": "victor", "password": PASSWORD})
        self.client.logout()
        self.client.post("/login/", {"username": "victor", "password": PASSWORD})

        summaries = [e for e in self.entries() if "summary" in e.request]
        assert len(summaries) == 1
        assert summaries[0].request["summary"]["failures"] == 10

    def test_the_counters_are_forgotten_long_after_their_summary(self):
        self.fail(2)
        self.close_the_window()

        events.login_failures_summarise(now=self.closed_at + COUNTERS_KEPT + timedelta(hours=1))

        assert not LoginFailureWindow.objects.exists()
        assert not LoginFailureCount.objects.exists()
        assert self.entries().count() == 2  # the trail keeps the entry and the summary


@override_settings(LOGIN_FAILURE_WINDOW=timedelta(days=1))
class ConcurrentLoginFailuresTestCase(TrailTransactionTestCase):
    """Failures arriving at the same moment, each on its own connection, are all counted
    and never take more entries than the cap."""

    def test_parallel_failures_are_each_counted_once_and_the_cap_holds(self):
        clear_of_a_login_failure_window_end()
        workers, each = 8, 5
        start = threading.Barrier(workers)
        errors: list[BaseException] = []

        def fail(worker: int):
            try:
                start.wait()
                for n in range(each):
                    events.login_failure_record(
                        actor=Actor(ip=f"198.51.100.{worker + 1}"),
                        username=f"guess-{worker}-{n}",
                        reason="Wrong username or password.",
                    )
            except BaseException as error:  # reported below, in the test's own thread
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=fail, args=(w,)) for w in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        window = LoginFailureWindow.objects.get()
        assert window.failures == workers * each
        assert LoginFailureCount.objects.count() == workers * each
        assert Operation.objects.filter(action=Action.LOGIN_FAILED).count() == CAP
        assert window.itemised == CAP
        assert verify_chain()[1] is None
