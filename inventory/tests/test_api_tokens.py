"""Personal access tokens: they act as their user with the user's role; revoked, expired,
unknown and disabled users' tokens are refused (401) before anything happens."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from inventory.audit import Actor
from inventory.models import Action, ApiToken, Operation, Outcome
from inventory.services.tokens import api_token_create, api_token_revoke
from inventory.tests.base import ApiTestCase


class ApiTokenTestCase(ApiTestCase):
    def me(self, token: str):
        return self.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    def test_a_token_acts_as_its_user_with_the_users_role(self):
        response = self.api_get(self.viewer, "/api/v1/me")

        assert response.status_code == 200
        me = response.json()
        assert me["username"] == "victor"
        assert me["roles"] == ["Viewer"]
        assert "inventory.browse_inventory" in me["permissions"]
        assert "inventory.buy_number" not in me["permissions"]
        assert me["token"]["prefix"] == self.tokens["victor"][:11]

    def test_without_a_token_the_answer_is_401_with_a_bearer_challenge(self):
        response = self.client.get("/api/v1/numbers")

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="Numbers Portal API"'
        assert response["Content-Type"] == "application/problem+json"
        problem = response.json()
        assert problem["title"] == "Authentication needed"
        assert "Authorization: Bearer <token>" in problem["detail"]

    def test_a_made_up_token_is_refused(self):
        for token in ("nonsense", "np_00000000_" + "a" * 43, self.tokens["olivia"][:-1] + "x"):
            response = self.me(token)
            assert response.status_code == 401, token
            assert response.json()["detail"] == (
                "This API token is not valid. Create one on your profile page."
            )

    def test_a_revoked_token_is_refused(self):
        row = ApiToken.objects.get(user=self.operator)
        api_token_revoke(actor=self.actor(self.operator), token_id=row.pk)

        response = self.me(self.tokens["olivia"])

        assert response.status_code == 401
        assert response.json()["detail"].startswith("This API token was revoked on ")

    def test_an_expired_token_is_refused(self):
        ApiToken.objects.filter(user=self.operator).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )

        response = self.me(self.tokens["olivia"])

        assert response.status_code == 401
        assert response.json()["detail"].startswith("This API token expired on ")
        assert response.json()["detail"].endswith(". Create a new one.")

    def test_a_disabled_users_token_is_refused(self):
        self.operator.is_active = False
        self.operator.save()

        assert self.me(self.tokens["olivia"]).status_code == 401

    def test_a_refused_token_buys_nothing(self):
        ApiToken.objects.filter(user=self.operator).update(revoked_at=timezone.now())

        response = self.api_post(self.operator, "/api/v1/purchases", {"country": "GB"})

        assert response.status_code == 401
        assert self.sandbox.calls("POST /number/buy") == 0
        assert self.sandbox.calls("GET /number/search") == 0

    def test_the_token_records_when_it_was_last_used(self):
        row = ApiToken.objects.get(user=self.viewer)
        assert row.last_used_at is None

        self.me(self.tokens["victor"])

        row.refresh_from_db()
        assert row.last_used_at is not None

    def test_only_a_hash_of_the_token_is_kept(self):
        row, token = api_token_create(
            actor=Actor.system("tests"), user=self.viewer, name="x", days=1
        )

        stored = ApiToken.objects.filter(pk=row.pk).values().get()
        assert token not in str(stored)
        assert token.startswith(row.prefix + "_")

    def test_creation_and_revocation_are_audited_without_the_secret(self):
        row, token = api_token_create(
            actor=self.actor(self.viewer), user=self.viewer, name="export", days=7
        )
        api_token_revoke(actor=self.actor(self.viewer), token_id=row.pk)

        created, revoked = Operation.objects.filter(
            action__in=[Action.TOKEN_CREATED, Action.TOKEN_REVOKED], request__token=row.prefix
        ).order_by("seq")
        assert created.action == Action.TOKEN_CREATED
        assert created.outcome == revoked.outcome == Outcome.SUCCEEDED
        assert created.actor_username == revoked.actor_username == "victor"
        assert created.request["name"] == "export"
        assert created.reason.startswith(f"API token “export” ({row.prefix}…) of victor created")
        assert revoked.action == Action.TOKEN_REVOKED
        assert token not in str(Operation.objects.values_list("request", "reason"))

    def test_nobody_revokes_someone_elses_token(self):
        row = ApiToken.objects.get(user=self.viewer)

        self.login(self.operator)
        self.client.post(f"/profile/tokens/{row.pk}/revoke/")

        row.refresh_from_db()
        assert row.revoked_at is None

    def test_the_session_still_works_for_the_browser_and_needs_csrf_for_writes(self):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(self.operator)

        assert browser.get("/api/v1/me").json()["token"] is None
        response = browser.post("/api/v1/selection", {}, content_type="application/json")
        assert response.status_code == 403
        assert "CSRF" in response.json()["detail"]

    def test_times_are_given_in_utc(self):
        expires = self.api_get(self.viewer, "/api/v1/me").json()["token"]["expires_at"]

        assert expires.endswith("Z") or expires.endswith("+00:00")
