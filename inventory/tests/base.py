"""The shared test case: a small named cast of users, one per role."""

import json
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.test import TestCase
from django.utils import timezone

from inventory.audit import Actor

PASSWORD = "correct horse battery staple"


def make_user(username: str, *groups: str, **flags) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, **flags)
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


class BaseTestCase(TestCase):
    """olivia operates, victor views, audrey audits, amber approves, root is a superuser."""

    @classmethod
    def setUpTestData(cls):
        cls.operator = make_user("olivia", "Operator")
        cls.viewer = make_user("victor", "Viewer")
        cls.auditor = make_user("audrey", "Auditor")
        cls.approver = make_user("amber", "Approver")
        cls.superuser = make_user("root", is_staff=True, is_superuser=True)

    @pytest.fixture(autouse=True)
    def _attach_sandbox(self, sandbox):
        """The sandbox's control surface, reset for this test (see conftest.py)."""
        self.sandbox = sandbox

    def login(self, user):
        self.client.force_login(user)

    @staticmethod
    def actor(user) -> Actor:
        return Actor(user=user, username=user.username, ip="127.0.0.1", user_agent="tests")


def clear_of_a_login_failure_window_end(*, margin: timedelta = timedelta(minutes=1)) -> None:
    """Failed logins are counted per window; a test that counts entries must not straddle
    two. Wait out the current window if it ends within `margin` (with the day-long windows
    these tests use, that is only ever just before midnight UTC)."""
    from inventory.services.events import window_start

    now = timezone.now()
    ends = window_start(now) + settings.LOGIN_FAILURE_WINDOW
    if ends - now < margin:
        time.sleep((ends - now).total_seconds() + 0.1)


class ApiTestCase(BaseTestCase):
    """The JSON API as scripts call it: each of the cast with a personal access token."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        from inventory.services.tokens import api_token_create

        cls.tokens = {
            user.username: api_token_create(
                actor=Actor.system("tests"), user=user, name="tests", days=30
            )[1]
            for user in (cls.operator, cls.viewer, cls.auditor, cls.superuser, cls.approver)
        }

    def bearer(self, user) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user.username]}"}

    def api_get(self, user, path: str, params=None, **headers):
        return self.client.get(path, params or {}, headers={**self.bearer(user), **headers})

    def api_post(self, user, path: str, body=None, *, key: str | None = None, **headers):
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.post(
            path,
            data=json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers={**self.bearer(user), **headers},
        )

    def api_delete(self, user, path: str):
        return self.client.delete(path, headers=self.bearer(user))
