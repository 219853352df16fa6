"""The profile page: personal access tokens made (shown once), listed and revoked."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory.models import Action, ApiToken, Operation
from inventory.tests.base import BaseTestCase

TOKEN = re.compile(r"np_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


class ProfileTestCase(BaseTestCase):
    def test_every_role_has_a_profile_page(self):
        for user in (self.viewer, self.operator, self.auditor, self.superuser):
            self.login(user)
            response = self.client.get("/profile/")
            assert response.status_code == 200
            assert "You have no API token yet." in response.content.decode()

    def test_a_new_token_is_shown_once_and_then_only_by_its_prefix(self):
        self.login(self.auditor)

        made = self.client.post("/profile/tokens/", {"name": "trail export", "days": "30"})

        page = made.content.decode()
        token = TOKEN.search(page).group(0)
        assert "Copy it now: it is not shown again." in page
        assert made["Cache-Control"].startswith("no-store")
        row = ApiToken.objects.get(user=self.auditor)
        assert row.name == "trail export"
        assert (row.expires_at - row.created_at).days == 30
        later = self.client.get("/profile/").content.decode()
        assert token not in later
        assert f"{row.prefix}…" in later
        answer = self.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.json()["username"] == "audrey"

    def test_a_token_needs_a_name(self):
        self.login(self.viewer)

        response = self.client.post("/profile/tokens/", {"name": "", "days": "7"})

        assert response.status_code == 400
        assert "Fill in the name." in response.content.decode()
        assert not ApiToken.objects.exists()

    def test_revoking_stops_the_token_at_once(self):
        self.login(self.viewer)
        page = self.client.post("/profile/tokens/", {"name": "x", "days": "7"}).content.decode()
        token = TOKEN.search(page).group(0)
        row = ApiToken.objects.get()

        response = self.client.post(f"/profile/tokens/{row.pk}/revoke/", follow=True)

        assert "The token “x” is revoked: it no longer works." in response.content.decode()
        answer = self.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401
        assert Operation.objects.filter(action=Action.TOKEN_REVOKED).count() == 1


class CreateApiTokenCommandTestCase(BaseTestCase):
    def test_it_prints_only_the_token_and_audits_its_creation(self):
        out, err = StringIO(), StringIO()

        arguments = ["olivia", "--name", "nightly", "--expires", "10"]
        call_command("create_api_token", *arguments, stdout=out, stderr=err)

        token = out.getvalue().strip()
        assert TOKEN.fullmatch(token)
        assert "shown only now" in err.getvalue()
        row = ApiToken.objects.get(user=self.operator)
        assert row.name == "nightly"
        assert (row.expires_at - row.created_at).days == 10
        entry = Operation.objects.get(action=Action.TOKEN_CREATED)
        assert entry.actor_username.startswith("manage.py create_api_token")
        assert entry.request["user"] == "olivia"
        answer = self.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.json()["username"] == "olivia"

    def test_it_refuses_an_unknown_user_and_an_impossible_lifetime(self):
        with pytest.raises(CommandError, match="no active user “nobody”"):
            call_command("create_api_token", "nobody", stdout=StringIO())
        with pytest.raises(CommandError, match="--expires takes 1 to"):
            call_command("create_api_token", "olivia", "--expires", "0", stdout=StringIO())
        assert not ApiToken.objects.exists()
