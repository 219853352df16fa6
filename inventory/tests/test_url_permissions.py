"""Every URL of the project, for every role: who may open it, who is refused, who must log in.

The table below is the access policy, written out. A new URL pattern without a row fails
`test_every_url_pattern_has_a_row`, so nobody adds a page without deciding who may see it.
Pages are opened with GET: a view that only takes POST answers an allowed user 405 (the
permission check runs first, so a refused user gets 403 whatever the method).

The JSON API's routes (/api/v1/) are in the same table, opened with the browser's session;
anonymous callers get 401 there, not a login redirect. The same table holds for personal
access tokens, and every write of the API refuses a viewer's token before anything happens.
"""

import re
from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from inventory.audit import audit_append
from inventory.models import (
    Action,
    Batch,
    Destination,
    Operation,
    Outcome,
    PurchaseRequest,
    Webhook,
)
from inventory.services.tokens import api_token_create
from inventory.tasks import settle_unknown_task
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import owned_number

LOGIN = "login"  # redirected to /login/?next=…
API = 401  # the JSON API: authentication needed (a token, or the session)
ADMIN_LOGIN = "admin login"  # redirected to /admin/login/?next=…
ROLES = ("anonymous", "viewer", "operator", "auditor", "superuser", "approver")

# The admin is for superusers only: everyone else who is logged in gets the portal's own 403
# page, and the refusal is audited. Anonymous visitors of the admin's own pages go to the
# admin login; its model pages are left to LoginRequiredMiddleware, which sends them to the
# portal's login (which returns them to the page afterwards).
REFUSED = (403, 403, 403)  # viewer, operator, auditor
SITE = (ADMIN_LOGIN, *REFUSED)
MODEL = (LOGIN, *REFUSED)
SUPERUSER_ONLY = (*MODEL, 200)
# The admin redirects /<object_id>/ to /<object_id>/change/ before checking anything else.
ADMIN_REDIRECT = (*MODEL, 302)

# route: (anonymous, viewer, operator, auditor, superuser)
EXPECTED = {
    # --- the portal ---
    "": (LOGIN, 200, 200, 200, 200),
    "healthz": (200, 200, 200, 200, 200),
    "login/": (200, 302, 302, 302, 302),  # a logged-in user goes on to the home page
    "logout/": (LOGIN, 405, 405, 405, 405),  # POST only
    "catalogue/": (LOGIN, 200, 200, 403, 200),
    "catalogue/buy/": (LOGIN, 403, 302, 403, 302),  # no number chosen: back to the catalogue
    "catalogue/buy/confirm/": (LOGIN, 403, 405, 403, 405),
    "inventory/": (LOGIN, 200, 200, 403, 200),
    "inventory/numbers.csv": (LOGIN, 200, 200, 403, 200),
    "inventory/sync/": (LOGIN, 403, 405, 403, 405),
    "inventory/sync/state.json": (LOGIN, 200, 200, 403, 200),
    "^numbers/(?P<msisdn>[1-9][0-9]{6,14})/$": (LOGIN, 200, 200, 403, 200),
    "^numbers/(?P<msisdn>[1-9][0-9]{6,14})/notes/$": (LOGIN, 403, 405, 403, 405),
    "^numbers/(?P<msisdn>[1-9][0-9]{6,14})/configure/$": (LOGIN, 403, 200, 403, 200),
    "^numbers/(?P<msisdn>[1-9][0-9]{6,14})/configure/confirm/$": (LOGIN, 403, 405, 403, 405),
    "^numbers/(?P<msisdn>[1-9][0-9]{6,14})/cancel/$": (LOGIN, 403, 200, 403, 200),
    "operations/<int:pk>/": (LOGIN, 200, 200, 403, 200),
    "^numbers/(?P<msisdn>[1-9][0-9]{6,14})/protect/$": (LOGIN, 403, 405, 403, 405),
    "^numbers/(?P<msisdn>[1-9][0-9]{6,14})/unprotect/$": (LOGIN, 403, 405, 403, 405),
    # --- approvals and notifications ---
    "approvals/": (LOGIN, 200, 200, 403, 200),
    "approvals/rules/": (LOGIN, 403, 403, 403, 200),  # superusers set the rules
    "approvals/<int:pk>/": (LOGIN, 200, 200, 403, 200),
    "approvals/<int:pk>/state.json": (LOGIN, 200, 200, 403, 200),
    "approvals/<int:pk>/approve/": (LOGIN, 403, 403, 403, 405),  # approvers: see APPROVER
    "approvals/<int:pk>/reject/": (LOGIN, 403, 403, 403, 405),
    "approvals/<int:pk>/withdraw/": (LOGIN, 403, 405, 403, 405),  # the requester's own
    "profile/notifications/": (LOGIN, 200, 200, 200, 200),
    "notifications/webhooks/": (LOGIN, 403, 403, 403, 200),
    "notifications/webhooks/<int:pk>/": (LOGIN, 403, 403, 403, 200),
    "notifications/webhooks/<int:pk>/delete/": (LOGIN, 403, 403, 403, 405),
    "notifications/failures/": (LOGIN, 403, 403, 403, 200),
    # --- fleet work: the selection, bulk actions, batches, destinations ---
    "catalogue/selection/": (LOGIN, 403, 200, 403, 200),
    "catalogue/selection/add/": (LOGIN, 403, 405, 403, 405),
    "catalogue/selection/clear/": (LOGIN, 403, 405, 403, 405),
    "catalogue/selection/review/": (LOGIN, 403, 405, 403, 405),
    "^catalogue/selection/(?P<msisdn>[1-9][0-9]{6,14})/remove/$": (LOGIN, 403, 405, 403, 405),
    "inventory/bulk/configure/": (LOGIN, 403, 405, 403, 405),
    "inventory/bulk/cancel/": (LOGIN, 403, 405, 403, 405),
    "inventory/bulk/label/": (LOGIN, 403, 405, 403, 405),
    "inventory/bulk/numbers.csv": (LOGIN, 405, 405, 403, 405),
    "batches/": (LOGIN, 200, 200, 403, 200),
    "batches/<int:pk>/": (LOGIN, 200, 200, 403, 200),
    "batches/<int:pk>/state.json": (LOGIN, 200, 200, 403, 200),
    "batches/<int:pk>/results.csv": (LOGIN, 200, 200, 403, 200),
    # POST only; the kind of batch decides who may (see test_batch_views).
    "batches/<int:pk>/confirm/": (LOGIN, 405, 405, 403, 405),
    "batches/<int:pk>/stop/": (LOGIN, 405, 405, 403, 405),
    "destinations/": (LOGIN, 200, 200, 403, 200),
    "destinations/<int:pk>/": (LOGIN, 200, 200, 403, 200),
    "destinations/<int:pk>/edit/": (LOGIN, 403, 405, 403, 405),
    "destinations/<int:pk>/delete/": (LOGIN, 403, 405, 403, 405),
    "destinations/<int:pk>/move/": (LOGIN, 403, 405, 403, 405),
    # --- spend: operators keep the rate card; superusers set budgets and watch the system ---
    "rate-card/": (LOGIN, 200, 200, 403, 200),
    "rate-card/edit/": (LOGIN, 403, 405, 403, 405),
    "rate-card/import/": (LOGIN, 403, 405, 403, 405),
    "budgets/": (LOGIN, 403, 403, 403, 200),
    "system/": (LOGIN, 403, 403, 403, 200),
    # --- the audit trail: auditors and superusers read it, nobody changes it ---
    "audit/": (LOGIN, 403, 403, 200, 200),
    "audit/export.csv": (LOGIN, 403, 403, 200, 200),
    "audit/<int:seq>/": (LOGIN, 403, 403, 200, 200),
    # --- your profile: API tokens, for everyone signed in ---
    "profile/": (LOGIN, 200, 200, 200, 200),
    "profile/tokens/": (LOGIN, 405, 405, 405, 405),  # POST only
    "profile/tokens/<int:pk>/revoke/": (LOGIN, 405, 405, 405, 405),
    # --- the JSON API for scripts: the same permissions as the pages ---
    "api/v1/schema": (API, 200, 200, 200, 200),
    "api/v1/docs/": (LOGIN, 200, 200, 200, 200),  # a page for people: log in first
    "api/v1/me": (API, 200, 200, 200, 200),
    "api/v1/catalogue/numbers": (API, 400, 400, 403, 400),  # no country given: 400
    "api/v1/purchases": (API, 403, 405, 403, 405),
    "api/v1/selection": (API, 403, 200, 403, 200),
    "api/v1/selection/(?P<msisdn>[1-9][0-9]{6,14})$": (API, 403, 405, 403, 405),
    "api/v1/numbers": (API, 200, 200, 403, 200),
    "api/v1/numbers/(?P<msisdn>[1-9][0-9]{6,14})$": (API, 200, 200, 403, 200),
    "api/v1/numbers/(?P<msisdn>[1-9][0-9]{6,14})/configure$": (API, 403, 405, 403, 405),
    "api/v1/numbers/(?P<msisdn>[1-9][0-9]{6,14})/cancel$": (API, 403, 405, 403, 405),
    "api/v1/numbers/(?P<msisdn>[1-9][0-9]{6,14})/notes$": (API, 403, 405, 403, 405),
    "api/v1/operations/<int:pk>": (API, 200, 200, 403, 200),
    "api/v1/batches": (API, 200, 200, 403, 200),
    "api/v1/batches/purchase": (API, 403, 405, 403, 405),
    "api/v1/batches/configure": (API, 403, 405, 403, 405),
    "api/v1/batches/cancel": (API, 403, 405, 403, 405),
    "api/v1/batches/<int:pk>": (API, 200, 200, 403, 200),
    "api/v1/batches/<int:pk>/items": (API, 200, 200, 403, 200),
    # POST only; the kind of batch decides who may, as on the batch's page.
    "api/v1/batches/<int:pk>/confirm": (API, 405, 405, 403, 405),
    "api/v1/batches/<int:pk>/stop": (API, 405, 405, 403, 405),
    "api/v1/approval-requests": (API, 200, 200, 403, 200),
    "api/v1/approval-requests/<int:pk>": (API, 200, 200, 403, 200),
    "api/v1/approval-requests/<int:pk>/approve": (API, 403, 403, 403, 405),  # see APPROVER
    "api/v1/approval-requests/<int:pk>/reject": (API, 403, 403, 403, 405),
    "api/v1/approval-requests/<int:pk>/withdraw": (API, 403, 405, 403, 405),
    "api/v1/sync": (API, 200, 200, 403, 200),
    "api/v1/tasks": (API, 200, 200, 403, 200),
    "api/v1/audit": (API, 403, 403, 200, 200),
    "api/v1/audit/<int:seq>": (API, 403, 403, 200, 200),
    # --- the admin: superusers manage accounts and roles ---
    "admin/": (*SITE, 200),
    "admin/login/": (200, *REFUSED, 302),  # a superuser already logged in goes to the index
    "admin/logout/": (*SITE, 405),  # POST only
    "admin/password_change/": (*SITE, 200),
    "admin/password_change/done/": (*SITE, 200),
    "admin/autocomplete/": (*SITE, 403),  # only for fields this admin has none of
    "admin/jsi18n/": (*SITE, 200),
    "admin/r/<path:content_type_id>/<path:object_id>/": (*SITE, 404),
    "admin/(?P<app_label>auth|axes|django_tasks_database|inventory)/$": (*SITE, 200),
    "admin/(?P<url>.*)$": (*SITE, 404),
    "admin/auth/group/": SUPERUSER_ONLY,
    "admin/auth/group/add/": SUPERUSER_ONLY,
    "admin/auth/group/<path:object_id>/history/": SUPERUSER_ONLY,
    "admin/auth/group/<path:object_id>/delete/": SUPERUSER_ONLY,
    "admin/auth/group/<path:object_id>/change/": SUPERUSER_ONLY,
    "admin/auth/group/<path:object_id>/": ADMIN_REDIRECT,
    "admin/auth/user/": SUPERUSER_ONLY,
    "admin/auth/user/add/": SUPERUSER_ONLY,
    "admin/auth/user/<id>/password/": SUPERUSER_ONLY,
    "admin/auth/user/<path:object_id>/history/": SUPERUSER_ONLY,
    "admin/auth/user/<path:object_id>/delete/": SUPERUSER_ONLY,
    "admin/auth/user/<path:object_id>/change/": SUPERUSER_ONLY,
    "admin/auth/user/<path:object_id>/": ADMIN_REDIRECT,
    "admin/axes/accessattempt/": SUPERUSER_ONLY,
    "admin/axes/accessattempt/add/": (*MODEL, 403),  # axes records, nobody adds
    "admin/axes/accessattempt/<path:object_id>/history/": SUPERUSER_ONLY,
    "admin/axes/accessattempt/<path:object_id>/delete/": SUPERUSER_ONLY,  # unlocks a user
    "admin/axes/accessattempt/<path:object_id>/change/": SUPERUSER_ONLY,
    "admin/axes/accessattempt/<path:object_id>/": ADMIN_REDIRECT,
    "admin/axes/accesslog/": SUPERUSER_ONLY,
    "admin/axes/accesslog/add/": (*MODEL, 403),
    "admin/axes/accesslog/<path:object_id>/history/": SUPERUSER_ONLY,
    "admin/axes/accesslog/<path:object_id>/delete/": SUPERUSER_ONLY,
    "admin/axes/accesslog/<path:object_id>/change/": SUPERUSER_ONLY,
    "admin/axes/accesslog/<path:object_id>/": ADMIN_REDIRECT,
    "admin/axes/accessfailurelog/": SUPERUSER_ONLY,
    "admin/axes/accessfailurelog/add/": (*MODEL, 403),
    "admin/axes/accessfailurelog/<path:object_id>/history/": SUPERUSER_ONLY,
    "admin/axes/accessfailurelog/<path:object_id>/delete/": SUPERUSER_ONLY,
    "admin/axes/accessfailurelog/<path:object_id>/change/": SUPERUSER_ONLY,
    "admin/axes/accessfailurelog/<path:object_id>/": ADMIN_REDIRECT,
    # The task queue: superusers look at it (a task's row is the worker's to change).
    "admin/django_tasks_database/dbtaskresult/": SUPERUSER_ONLY,
    "admin/django_tasks_database/dbtaskresult/add/": (*MODEL, 403),
    "admin/django_tasks_database/dbtaskresult/<path:object_id>/history/": SUPERUSER_ONLY,
    "admin/django_tasks_database/dbtaskresult/<path:object_id>/delete/": (*MODEL, 403),
    "admin/django_tasks_database/dbtaskresult/<path:object_id>/change/": SUPERUSER_ONLY,
    "admin/django_tasks_database/dbtaskresult/<path:object_id>/": ADMIN_REDIRECT,
    # The trail in the admin, for superusers: read-only for them too.
    "admin/inventory/operation/": SUPERUSER_ONLY,
    "admin/inventory/operation/export.csv": SUPERUSER_ONLY,
    "admin/inventory/operation/add/": (*MODEL, 403),
    "admin/inventory/operation/<path:object_id>/history/": SUPERUSER_ONLY,
    "admin/inventory/operation/<path:object_id>/delete/": (*MODEL, 403),
    "admin/inventory/operation/<path:object_id>/change/": SUPERUSER_ONLY,
    "admin/inventory/operation/<path:object_id>/": ADMIN_REDIRECT,
}
# An approver sees what a viewer sees (the viewer's column), and may decide on requests.
APPROVER = {
    "approvals/<int:pk>/approve/": 405,  # POST only
    "approvals/<int:pk>/reject/": 405,
    "api/v1/approval-requests/<int:pk>/approve": 405,
    "api/v1/approval-requests/<int:pk>/reject": 405,
}


def expected_for(route: str, role: str):
    if role == "approver":
        return APPROVER.get(route, EXPECTED[route][ROLES.index("viewer")])
    return EXPECTED[route][ROLES.index(role)]


# The token column differs from the session's only where a page is for people.
TOKEN_EXCEPTIONS = {"api/v1/docs/": LOGIN}
# Reachable without logging in: the health check and the two login pages.
PUBLIC = {"healthz", "login/", "admin/login/"}


def every_route(patterns=None, prefix=""):
    """The full route of every URL pattern the project answers, resolvers walked through."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        own = str(pattern.pattern)
        route = prefix + own.removeprefix("^") if prefix else own  # joined as Django does
        if isinstance(pattern, URLResolver):
            yield from every_route(pattern.url_patterns, route)
        else:
            assert isinstance(pattern, URLPattern)
            yield route


class UrlPermissionsTestCase(BaseTestCase):
    def setUp(self):
        self.number = owned_number("447700900123")
        self.batch = Batch.objects.create(kind=Batch.Kind.CANCEL, status=Batch.Status.DONE)
        self.destination = Destination.objects.create(
            name="Front desk", kind=Destination.Kind.SIP, value="sip:desk@example.com"
        )
        self.purchase_request = PurchaseRequest.objects.create(
            requester=self.operator,
            expires_at=timezone.now() + timedelta(days=1),
            reason="A hotline.",
            rule="A rule.",
            form_token="url-table",
        )
        self.webhook = Webhook.objects.create(
            name="Team chat", url="https://hooks.example.com/chat", secret="s" * 20
        )
        self.entry = audit_append(
            action=Action.PURCHASE, actor=self.actor(self.operator), country="GB",
            msisdn=self.number.msisdn, outcome=Outcome.SUCCEEDED,
        )  # fmt: skip
        attempt = {"username": "mallory", "ip_address": "198.51.100.9", "user_agent": "x"}
        # One object of each kind an admin page can show, to open its pages by id.
        self.objects = {
            "auth/group": Group.objects.get(name="Viewer"),
            "auth/user": self.viewer,
            "axes/accessattempt": AccessAttempt.objects.create(
                **attempt,
                get_data="",
                post_data="",
                http_accept="",
                path_info="/login/",
                failures_since_start=1,
            ),
            "axes/accesslog": AccessLog.objects.create(**attempt, http_accept="", path_info="/"),
            "axes/accessfailurelog": AccessFailureLog.objects.create(
                **attempt, http_accept="", path_info="/login/", locked_out=False
            ),
            "inventory/operation": self.entry,
            "django_tasks_database/dbtaskresult": DBTaskResult.objects.get(
                id=settle_unknown_task.enqueue().id
            ),
        }
        self.token, self.token_secret = api_token_create(
            actor=self.actor(self.viewer), user=self.viewer, name="table", days=1
        )
        self.users = {
            "viewer": self.viewer,
            "operator": self.operator,
            "auditor": self.auditor,
            "superuser": self.superuser,
            "approver": self.approver,
        }

    def sample_path(self, route: str) -> str:
        """The route with a real value in each of its parameters."""
        model = re.search(r"admin/(\w+/\w+)/", route)
        obj = self.objects.get(model.group(1) if model else "", self.entry)
        own_pks = {
            "batches/": self.batch.pk,
            "api/v1/batches/": self.batch.pk,
            "destinations/": self.destination.pk,
            "approvals/": self.purchase_request.pk,
            "api/v1/approval-requests/": self.purchase_request.pk,
            "notifications/webhooks/": self.webhook.pk,
            "profile/": self.token.pk,
        }
        pk = next((v for prefix, v in own_pks.items() if route.startswith(prefix)), self.entry.pk)
        values = {
            "msisdn": self.number.msisdn,
            "pk": str(pk),
            "seq": str(self.entry.seq),
            "object_id": str(obj.pk),
            "id": str(self.viewer.pk),
            "content_type_id": str(ContentType.objects.get_for_model(Operation).pk),
            "app_label": "inventory",
            "url": "nothing-here/",
        }
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], route)
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], path)
        path = "/" + path.replace("^", "").replace("$", "")
        assert resolve(path).route == route, f"{path} does not stand for {route}"
        return path

    def outcome(self, response, path: str):
        if response.status_code == 302:
            location = response["Location"]
            if location.startswith("/login/?next="):
                return LOGIN
            if location.startswith("/admin/login/?next="):
                return ADMIN_LOGIN
        return response.status_code

    def test_every_url_pattern_has_a_row(self):
        routes = list(every_route())
        assert len(routes) == len(set(routes))
        assert sorted(set(routes) - EXPECTED.keys()) == [], "add these routes to EXPECTED"
        assert sorted(EXPECTED.keys() - set(routes)) == [], "these routes no longer exist"

    def test_anonymous_visitors_are_sent_to_log_in_everywhere_but_the_public_pages(self):
        for route in every_route():
            expected = expected_for(route, "anonymous")
            if route in PUBLIC:
                assert expected == 200, route
            elif route.startswith("api/v1/") and route != "api/v1/docs/":
                assert expected == API, route
            else:
                assert expected in (LOGIN, ADMIN_LOGIN), route

    def test_each_role_gets_exactly_what_the_table_says_and_every_refusal_is_audited(self):
        paths = {route: self.sample_path(route) for route in every_route()}
        wrong = []
        for role in ROLES:
            self.client.logout()
            if role != "anonymous":
                self.login(self.users[role])
            for route, path in paths.items():
                denials = Operation.objects.filter(action=Action.DENIED).count()
                got = self.outcome(self.client.get(path), path)
                expected = expected_for(route, role)
                if got != expected:
                    wrong.append(f"{role:9} GET {path}: expected {expected}, got {got}")
                refusal = Operation.objects.filter(action=Action.DENIED).order_by("-seq").first()
                if got == 403:
                    audited = Operation.objects.filter(action=Action.DENIED).count() == denials + 1
                    if not (audited and refusal.request["path"] == path):
                        wrong.append(f"{role:9} GET {path}: refused, but the refusal not audited")
                        continue
                    assert refusal.actor_username == self.users[role].username
                    assert refusal.outcome == Outcome.DENIED
        assert wrong == [], "\n".join(wrong)

    def test_a_refused_post_is_refused_before_anything_happens(self):
        msisdn = self.number.msisdn
        posts = [
            "/catalogue/buy/confirm/", "/inventory/sync/", f"/numbers/{msisdn}/notes/",
            f"/numbers/{msisdn}/configure/", f"/numbers/{msisdn}/configure/confirm/",
            f"/numbers/{msisdn}/cancel/",
        ]  # fmt: skip
        for user in (self.viewer, self.auditor):
            self.login(user)
            for path in posts:
                assert self.client.post(path, {"label": "x"}).status_code == 403, path
        self.number.refresh_from_db()
        assert self.number.label == ""
        assert Operation.objects.filter(action=Action.DENIED).count() == 2 * len(posts)
        assert self.sandbox.calls("POST /number/update") == 0
        assert self.sandbox.calls("POST /number/cancel") == 0

    def test_the_operation_page_shows_operations_on_numbers_and_no_other_trail_entry(self):
        self.login(self.viewer)
        login_entry = Operation.objects.filter(action=Action.LOGIN).latest("seq")

        assert self.client.get(f"/operations/{self.entry.pk}/").status_code == 200
        assert self.client.get(f"/operations/{login_entry.pk}/").status_code == 404

    def test_links_and_buttons_a_role_may_not_use_are_not_shown(self):
        number_page = f"/numbers/{self.number.msisdn}/"
        self.login(self.viewer)
        page = self.client.get(number_page).content.decode()
        assert 'data-testid="configure"' not in page
        assert 'data-testid="cancel"' not in page
        assert "Audit trail" not in page
        assert 'data-testid="sync-now"' not in self.client.get("/inventory/").content.decode()

        self.login(self.operator)
        page = self.client.get(number_page).content.decode()
        assert 'data-testid="configure"' in page
        assert 'data-testid="cancel"' in page
        assert 'data-testid="sync-now"' in self.client.get("/inventory/").content.decode()

        self.login(self.auditor)
        home = self.client.get("/").content.decode()
        assert "Audit trail" in home
        assert 'href="/inventory/"' not in home
        assert 'href="/catalogue/"' not in home

    def token_of(self, user) -> str:
        return api_token_create(actor=self.actor(user), user=user, name="table", days=1)[1]

    def api_routes(self) -> list[str]:
        return [route for route in every_route() if route.startswith("api/v1/")]

    def test_every_api_route_answers_a_token_as_the_table_says(self):
        wrong = []
        secrets = {role: self.token_of(user) for role, user in self.users.items()}
        self.client.logout()
        for route in self.api_routes():
            path = self.sample_path(route)
            for column, role in enumerate(ROLES):
                headers = {"Authorization": f"Bearer {secrets[role]}"} if column else {}
                expected = TOKEN_EXCEPTIONS.get(route, expected_for(route, role))
                got = self.outcome(self.client.get(path, headers=headers), path)
                if got != expected:
                    wrong.append(
                        f"{role:9} GET {path} with a token: expected {expected}, got {got}"
                    )
        assert wrong == [], "\n".join(wrong)

    def test_a_viewers_token_is_refused_on_every_write_before_anything_happens(self):
        self.client.logout()
        headers = {"Authorization": f"Bearer {self.token_secret}"}
        calls = self.sandbox.state(numbers=False)["calls"]
        writes = []
        for route in self.api_routes():
            view = resolve(self.sample_path(route)).func.cls
            for method in ("post", "delete"):
                if hasattr(view, method) and route != "api/v1/schema":
                    writes.append((method, self.sample_path(route)))
        assert len(writes) >= 13
        denials = Operation.objects.filter(action=Action.DENIED).count()

        for method, path in writes:
            response = getattr(self.client, method)(
                path, data="{}", content_type="application/json", headers=headers
            )
            # (A batch's confirm and stop: its kind decides, here a cancellation.)
            assert response.status_code == 403, f"{method} {path}"
            assert response["Content-Type"] == "application/problem+json"

        assert Operation.objects.filter(action=Action.DENIED).count() == denials + len(writes)
        assert self.sandbox.state(numbers=False)["calls"] == calls
        self.number.refresh_from_db()
        assert self.number.label == ""
        assert not Batch.objects.exclude(pk=self.batch.pk).exists()
