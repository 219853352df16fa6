"""Hardening: login throttling, idle sessions, CSRF, the content security policy, security
headers, and secrets that never leave the server."""

import logging
import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import serializers
from django.core.cache import cache
from django.test import Client, override_settings

from inventory import api_client as api
from inventory.audit import audit_append
from inventory.models import Action, Operation, Outcome, OwnedNumber
from inventory.tests.base import PASSWORD, BaseTestCase, clear_of_a_login_failure_window_end
from inventory.tests.factories import owned_number

LIMIT = settings.AXES_FAILURE_LIMIT


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = (part.split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in directives}


@override_settings(LOGIN_FAILURE_WINDOW=timedelta(days=1))
class LoginThrottlingTestCase(BaseTestCase):
    def setUp(self):
        clear_of_a_login_failure_window_end()  # the trail's entries are counted per window

    def log_in(self, password, *, username="olivia", ip="198.51.100.20", **extra):
        return self.client.post(
            "/login/", {"username": username, "password": password}, REMOTE_ADDR=ip, **extra
        )

    def failures(self) -> list[str]:
        failed = Operation.objects.filter(action=Action.LOGIN_FAILED).order_by("seq")
        return list(failed.values_list("reason", flat=True))

    def test_repeated_failures_lock_the_username_with_429(self):
        for _ in range(LIMIT - 1):
            response = self.log_in("wrong")
            self.assertContains(response, "didn't match")

        locked = self.log_in("wrong")

        assert locked.status_code == 429
        self.assertContains(locked, "Too many failed logins", status_code=429)
        self.assertContains(locked, "Wait 15 minutes", status_code=429)
        assert "frame-ancestors" in policy(locked)
        refused = self.log_in(PASSWORD)
        assert refused.status_code == 429
        assert "_auth_user_id" not in self.client.session

    def test_the_trail_shows_the_first_failure_and_the_lockout_and_counts_the_rest(self):
        for _ in range(LIMIT + 1):
            self.log_in("wrong")

        reasons = self.failures()
        assert reasons == [
            f"Wrong username or password (failure 1 of {LIMIT} before a lockout).",
            f"Wrong username or password; failure {LIMIT} of {LIMIT}, so this username and "
            "this address are now locked out for 15 minutes.",
        ]
        assert not Operation.objects.filter(action=Action.LOGIN).exists()

    def test_a_username_is_locked_from_every_address(self):
        for n in range(LIMIT):
            self.log_in("wrong", ip=f"198.51.100.{n + 1}")

        assert self.log_in(PASSWORD, ip="203.0.113.9").status_code == 429
        assert self.failures()[-2:] == [
            f"Wrong username or password; failure {LIMIT} of {LIMIT}, so this username is now "
            "locked out, from every address, for 15 minutes.",
            "Locked out: refused without checking the password, because this username has had "
            f"{LIMIT} failed logins, from any address; the lockout lasts 15 minutes.",
        ]
        assert self.log_in(PASSWORD, username="victor", ip="203.0.113.9").status_code == 302

    def test_an_address_is_locked_for_every_username(self):
        for n in range(LIMIT):
            self.log_in("wrong", username=f"guess-{n}")

        assert self.log_in(PASSWORD, username="victor").status_code == 429
        assert self.failures()[-1] == (
            "Locked out: refused without checking the password, because this address has had "
            f"{LIMIT} failed logins, for any username; the lockout lasts 15 minutes."
        )
        assert self.log_in(PASSWORD, username="victor", ip="203.0.113.9").status_code == 302

    @override_settings(PROXY_COUNT=1)
    def test_behind_a_proxy_each_client_is_counted_at_its_own_address(self):
        proxy = "10.0.0.2"
        for n in range(LIMIT):
            self.log_in("wrong", username=f"guess-{n}", ip=proxy,
                        HTTP_X_FORWARDED_FOR="198.51.100.66")  # fmt: skip

        neighbour = self.log_in(
            PASSWORD, username="victor", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7"
        )

        assert neighbour.status_code == 302
        assert Operation.objects.get(action=Action.LOGIN).ip == "203.0.113.7"
        tried = Operation.objects.filter(action=Action.LOGIN_FAILED).first()
        assert tried.ip == "198.51.100.66"

    @override_settings(PROXY_COUNT=1)
    def test_behind_a_proxy_what_the_client_claims_before_it_proves_nothing(self):
        response = self.log_in(
            PASSWORD, username="victor", ip="10.0.0.2",
            HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7",
        )  # fmt: skip

        assert response.status_code == 302
        assert Operation.objects.get(action=Action.LOGIN).ip == "203.0.113.7"

    def test_a_successful_login_resets_the_count(self):
        for _ in range(LIMIT - 1):
            self.log_in("wrong")
        assert self.log_in(PASSWORD).status_code == 302
        self.client.logout()

        for _ in range(LIMIT - 1):
            assert self.log_in("wrong").status_code == 200
        assert self.log_in(PASSWORD).status_code == 302

    def test_a_very_long_username_is_counted_under_its_first_150_characters(self):
        tried = "x" * 10_000

        for _ in range(LIMIT):
            response = self.log_in("wrong", username=tried, ip=f"198.51.100.{_ + 1}")

        assert response.status_code == 429
        attempts = AccessAttempt.objects.all()
        assert {attempt.username for attempt in attempts} == {"x" * 150}
        assert sum(attempt.failures_since_start for attempt in attempts) == LIMIT
        entry = Operation.objects.filter(action=Action.LOGIN_FAILED).first()
        assert entry.actor_username == "x" * 150


class SessionTestCase(BaseTestCase):
    def test_every_request_renews_the_session_and_its_cookie(self):
        self.client.post("/login/", {"username": "victor", "password": PASSWORD})

        for _ in range(2):
            response = self.client.get("/inventory/")
            cookie = response.cookies[settings.SESSION_COOKIE_NAME]
            assert cookie.value == self.client.cookies[settings.SESSION_COOKIE_NAME].value
            assert cookie["httponly"]
            assert cookie["samesite"] == "Lax"
            # A browser-session cookie: the server decides when the session expires.
            assert cookie["max-age"] == ""
        assert self.client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
        assert settings.SESSION_COOKIE_AGE == 30 * 60

    @override_settings(SESSION_COOKIE_AGE=2)
    def test_a_session_ends_after_the_idle_time_but_not_while_in_use(self):
        # The one test that waits: idleness cannot be shown without letting time pass.
        self.client.post("/login/", {"username": "victor", "password": PASSWORD})
        time.sleep(1.2)
        assert self.client.get("/inventory/").status_code == 200
        time.sleep(1.2)  # 2.4 s after logging in, but only 1.2 s idle
        assert self.client.get("/inventory/").status_code == 200

        time.sleep(2.5)
        response = self.client.get("/inventory/")

        assert response.status_code == 302
        assert response["Location"] == "/login/?next=/inventory/"


class DatabaseSessionTestCase(BaseTestCase):
    """Sessions live in the database: emptying (or losing) the cache logs nobody out."""

    def test_a_session_outlives_the_cache(self):
        self.client.post("/login/", {"username": "victor", "password": PASSWORD})

        cache.clear()

        assert self.client.get("/inventory/").status_code == 200

    def test_page_views_do_not_rewrite_an_unchanged_session_every_time(self):
        self.client.post("/login/", {"username": "victor", "password": PASSWORD})
        self.client.get("/inventory/")
        stored = Session.objects.get().expire_date

        for _ in range(3):
            assert self.client.get("/inventory/").status_code == 200

        # Rewritten at most once a minute (a tenth of the idle time, if shorter).
        assert Session.objects.get().expire_date == stored

    @override_settings(SESSION_COOKIE_AGE=2)
    def test_an_unchanged_session_is_rewritten_once_its_expiry_has_moved_on(self):
        self.client.post("/login/", {"username": "victor", "password": PASSWORD})
        stored = Session.objects.get().expire_date
        time.sleep(0.3)  # more than a tenth of the 2 s idle time

        self.client.get("/inventory/")

        assert Session.objects.get().expire_date > stored


class PrivateResponsesTestCase(BaseTestCase):
    """What a signed-in user is shown is never kept by a browser or a proxy cache."""

    def test_every_authenticated_page_and_export_says_no_store_private(self):
        number = owned_number("447700900123")
        entry = audit_append(
            action=Action.ANNOTATE, actor=self.actor(self.operator), outcome=Outcome.SUCCEEDED
        )
        self.login(self.operator)
        pages = ["/", "/rate-card/", "/catalogue/?country=GB&type=mobile-lvn", "/inventory/",
                 "/inventory/numbers.csv", f"/numbers/{number.msisdn}/",
                 f"/numbers/{number.msisdn}/configure/", f"/numbers/{number.msisdn}/cancel/",
                 f"/operations/{entry.pk}/", "/no/such/page/", "/admin/"]  # fmt: skip
        for path in pages:
            self.assert_private(self.client.get(path), path)
        saved = self.client.post(f"/numbers/{number.msisdn}/notes/", {"label": "Desk"})
        self.assert_private(saved, "a redirect after a post")
        self.login(self.auditor)
        for path in ("/admin/inventory/operation/", "/admin/inventory/operation/export.csv"):
            self.assert_private(self.client.get(path), path)

    def test_static_files_and_healthz_keep_their_own_caching(self):
        self.login(self.viewer)

        static = self.client.get("/static/css/portal.css")
        healthz = self.client.get("/healthz")

        assert "no-store" not in static.get("Cache-Control", "")
        assert healthz["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"

    def assert_private(self, response, what):
        directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
        assert {"no-store", "private"} <= directives, (what, response.get("Cache-Control"))


class CsrfTestCase(BaseTestCase):
    def setUp(self):
        self.client = Client(enforce_csrf_checks=True)
        self.number = owned_number("447700900123")

    def test_every_form_post_without_the_token_is_refused(self):
        self.login(self.operator)
        msisdn = self.number.msisdn
        posts = {
            "/catalogue/buy/confirm/": {"offer": "x"},
            "/inventory/sync/": {},
            f"/numbers/{msisdn}/notes/": {"label": "changed"},
            f"/numbers/{msisdn}/configure/": {"moHttpUrl": "https://x.example.com/"},
            f"/numbers/{msisdn}/configure/confirm/": {"change": "x"},
            f"/numbers/{msisdn}/cancel/": {"typed": msisdn, "token": "t"},
            "/logout/": {},
            f"/admin/inventory/operation/{Operation.objects.latest('seq').pk}/delete/": {},
        }
        for path, data in posts.items():
            response = self.client.post(path, data)
            assert response.status_code == 403, path
            self.assertContains(response, "This form could not be accepted", status_code=403)
            assert "frame-ancestors" in policy(response)
        self.number.refresh_from_db()
        assert self.number.label == ""
        assert "_auth_user_id" in self.client.session  # the logout did not happen either

    def test_the_login_form_needs_its_token_too(self):
        response = self.client.post("/login/", {"username": "olivia", "password": PASSWORD})
        assert response.status_code == 403
        assert not Operation.objects.filter(action=Action.LOGIN).exists()

    def test_a_post_with_the_token_goes_through(self):
        self.login(self.operator)
        page = self.client.get(f"/numbers/{self.number.msisdn}/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())

        response = self.client.post(
            f"/numbers/{self.number.msisdn}/notes/",
            {"label": "Reception", "team": "", "notes": "", "csrfmiddlewaretoken": token[1]},
        )

        assert response.status_code == 302
        self.number.refresh_from_db()
        assert self.number.label == "Reception"


class HeadersTestCase(BaseTestCase):
    """The policy and the security headers are on everything the portal serves."""

    def responses(self):
        anonymous = Client()
        yield "login page", anonymous.get("/login/")
        yield "static CSS", anonymous.get("/static/css/portal.css")
        yield "static SVG", anonymous.get("/static/img/favicon.svg")
        yield "admin static", anonymous.get("/static/admin/js/theme.js")
        for _ in range(LIMIT):
            locked = anonymous.post("/login/", {"username": "x", "password": "y"})
        yield "lockout page", locked
        self.login(self.viewer)
        yield "home page", self.client.get("/")
        yield "inventory", self.client.get("/inventory/")
        yield "404 page", self.client.get("/no/such/page/")
        yield "403 page", self.client.get("/catalogue/buy/")
        yield "CSV download", self.client.get("/inventory/numbers.csv")
        yield "CSRF failure", Client(enforce_csrf_checks=True).post("/login/", {})
        self.login(self.superuser)
        yield "admin list", self.client.get("/admin/inventory/operation/")
        self.login(self.auditor)
        yield "admin 403", self.client.get("/admin/")

    def test_a_strict_content_security_policy_is_on_pages_errors_and_static_files(self):
        seen = []
        for name, response in self.responses():
            csp = policy(response)
            assert csp, f"no Content-Security-Policy on the {name}"
            assert csp["default-src"] == ["'none'"], name
            assert csp["script-src"] == ["'self'"], name
            assert csp["style-src"] == ["'self'"], name
            assert csp["frame-ancestors"] == ["'none'"], name
            assert csp["base-uri"] == ["'none'"], name
            assert csp["form-action"] == ["'self'"], name
            header = response["Content-Security-Policy"]
            assert "unsafe-inline" not in header, name
            assert "unsafe-eval" not in header, name
            seen.append((name, response.status_code))
        assert [status for _, status in seen] == [
            200, 200, 200, 200, 429, 200, 200, 404, 403, 200, 403, 200, 403,
        ]  # fmt: skip

    def test_the_security_headers_are_on_pages_errors_and_static_files(self):
        for name, response in self.responses():
            assert response["X-Content-Type-Options"] == "nosniff", name
            assert response["Referrer-Policy"] == "same-origin", name
            assert response["X-Frame-Options"] == "DENY", name
            assert response["Cross-Origin-Opener-Policy"] == "same-origin", name

    def test_pages_carry_no_inline_script_or_style(self):
        number = owned_number("447700900123")
        self.login(self.operator)
        pages = ["/", "/rate-card/", "/catalogue/?country=GB&type=mobile-lvn", "/inventory/",
                 f"/numbers/{number.msisdn}/", f"/numbers/{number.msisdn}/configure/",
                 f"/numbers/{number.msisdn}/cancel/", "/no/such/page/"]  # fmt: skip
        self.login(self.superuser)
        admin = [
            "/",
            "/budgets/",
            "/system/",
            "/admin/",
            "/admin/inventory/operation/",
            "/admin/auth/user/",
        ]
        for path in pages + admin:
            html = self.client.get(path).content.decode()
            # A JSON data block (the dashboard's figures) is never run: only its script reads it.
            inline = r"<script(?![^>]*\ssrc=)(?![^>]*\stype=\"application/json\")[^>]*>"
            assert not re.search(inline, html), path
            assert not re.search(r"<style", html), path
            assert not re.search(r"\sstyle=", html), path
            assert not re.search(r"\son[a-z]+=", html), path


class SecretsTestCase(BaseTestCase):
    """The API client secret and its tokens never reach a log line, a page, an audit entry
    or an error message."""

    @pytest.fixture(autouse=True)
    def _capture_everything(self, caplog):
        caplog.set_level(logging.DEBUG)
        for name in ("urllib3", "authlib", "requests", "inventory", "django", "sandbox"):
            caplog.set_level(logging.DEBUG, logger=name)
        self.caplog = caplog

    def everything_said(self, *responses) -> str:
        lines = [self.caplog.text]
        lines += [repr(vars(record)) for record in self.caplog.records]
        lines += [r.content.decode() + repr(dict(r.headers)) for r in responses]
        lines.append(serializers.serialize("json", Operation.objects.all()))
        return "\n".join(lines)

    def test_a_full_purchase_leaks_neither_the_client_secret_nor_the_token(self):
        self.login(self.operator)
        offer = api.default_client().search_available(country="GB", size=1).items[0]
        first_token = cache.get(api.TOKEN_CACHE_KEY)
        self.sandbox.expire_tokens()  # so the purchase fetches a second token mid-way

        search = self.client.get(f"/catalogue/?country=GB&type={offer.type}")
        confirm = self.client.get(
            f"/catalogue/buy/?country=GB&type={offer.type}&msisdn={offer.msisdn}"
        )
        signed = re.search(r'name="offer" value="([^"]+)"', confirm.content.decode())[1]
        bought = self.client.post("/catalogue/buy/confirm/", {"offer": signed}, follow=True)
        number = self.client.get(f"/numbers/{offer.msisdn}/")

        assert OwnedNumber.objects.filter(msisdn=offer.msisdn).exists()
        second_token = cache.get(api.TOKEN_CACHE_KEY)
        assert first_token
        assert second_token not in (None, first_token)
        assert any(r.name.startswith("urllib3") for r in self.caplog.records)
        said = self.everything_said(search, confirm, bought, number)
        for secret in (settings.NUMBERS_API["CLIENT_SECRET"], first_token, second_token):
            assert secret not in said

    def test_rejected_credentials_are_explained_without_the_secret(self):
        wrong = {**settings.NUMBERS_API, "CLIENT_SECRET": "wrong-secret-8c1f0e2d9b"}
        self.login(self.operator)

        with override_settings(NUMBERS_API=wrong):
            search = self.client.get("/catalogue/?country=GB&type=mobile-lvn")
            home = self.client.get("/")
            with pytest.raises(api.ApiCredentialsRejected) as error:
                api.default_client().search_available(country="GB")

        self.assertContains(search, "refused")
        assert "NUMBERS_API_CLIENT_SECRET" in str(error.value)
        said = self.everything_said(search, home) + str(error.value) + repr(error.value.args)
        assert "wrong-secret-8c1f0e2d9b" not in said
