"""The shared test case: a small named cast of users, one per role."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import TestCase

from inventory.audit import Actor

PASSWORD = "correct horse battery staple"


def make_user(username: str, *groups: str, **flags) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, **flags)
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


class BaseTestCase(TestCase):
    """olivia operates, victor views, audrey audits, root is a superuser."""

    @classmethod
    def setUpTestData(cls):
        cls.operator = make_user("olivia", "Operator")
        cls.viewer = make_user("victor", "Viewer")
        cls.auditor = make_user("audrey", "Auditor")
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
