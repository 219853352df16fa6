"""Production mode, as a deployment starts it: `manage.py` in its own process with only the
environment a production host would give it (the PostgreSQL and Redis of this machine)."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import redis

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"
HOST = "numbers.example.com"


def _machine_url(name: str, default: str, scheme: str) -> str:
    value = os.environ.get(name, "")
    return value if value.startswith(scheme) else default


DATABASE_URL = _machine_url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test", "postgres")
CACHE_URL = _machine_url("CACHE_URL", "redis://127.0.0.1:6379/1", "redis")


def production_env(**changes) -> dict[str, str]:
    """Everything production mode needs; `changes` set (or with None, remove) variables."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(Path.home()),
        "DJANGO_PRODUCTION": "true",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "AUDIT_KEY": secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "DATABASE_URL": DATABASE_URL,
        "CACHE_URL": CACHE_URL,
        "NUMBERS_API_BASE_URL": "https://api-prd.kpn.com/communication/nexmo/phone-numbers",
        "NUMBERS_API_TOKEN_URL": "https://api-prd.kpn.com/oauth/client_credential/accesstoken"
        "?grant_type=client_credentials",
        "NUMBERS_API_CLIENT_ID": "kpn-app-key",
        "NUMBERS_API_CLIENT_SECRET": "kpn-app-secret-" + secrets.token_hex(8),
    }
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_the_deployment_checklist_is_clean_at_warning_level():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY must be set to a random value"),
        ({"DJANGO_SECRET_KEY": "short-but-not-empty"}, "DJANGO_SECRET_KEY must be set"),
        (
            {"DJANGO_SECRET_KEY": "django-insecure-development-only-never-use-in-production"},
            "DJANGO_SECRET_KEY must be set",
        ),
        ({"AUDIT_KEY": None}, "AUDIT_KEY must be set to a random value of 32+ characters"),
        ({"AUDIT_KEY": "short-audit-key"}, "AUDIT_KEY must be set"),
        (
            {"AUDIT_KEY": "development-only-audit-key-never-use-in-production"},
            "AUDIT_KEY must be set",
        ),
        ({"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ALLOWED_HOSTS must name the host"),
        ({"NUMBERS_API_CLIENT_SECRET": None}, "NUMBERS_API_CLIENT_SECRET must be set"),
        ({"NUMBERS_API_CLIENT_ID": None}, "NUMBERS_API_CLIENT_ID and NUMBERS_API_CLIENT_SECRET"),
        ({"DATABASE_URL": "sqlite:////tmp/portal.sqlite3"}, "DATABASE_URL must point at Postgre"),
        ({"CACHE_URL": "locmemcache://"}, "CACHE_URL must point at Redis"),
        ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG must be off"),
    ],
)
def test_production_mode_refuses_to_start_without_what_it_needs(changes, message):
    env = production_env(**changes)

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "Production mode refuses to start" in result.stderr
    assert message in result.stderr
    # The refusal names what is missing, never a value it was given.
    for name in ("NUMBERS_API_CLIENT_SECRET", "DJANGO_SECRET_KEY", "AUDIT_KEY"):
        if name in env:
            assert env[name] not in result.stderr


# Runs inside the production process: a plain-HTTP request, the same request as the proxy
# forwards it after TLS, and the cookies the portal sets, reported as JSON.
PROBE = f"""
import json
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

client = Client(HTTP_HOST="{HOST}")
plain = client.get("/login/")
proxied = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")

def view(request):
    request.session["probe"] = True
    return HttpResponse()

# The cookie's flags come from the SESSION_COOKIE_* settings whatever stores the session;
# a signed-cookie store needs no table in this (unmigrated) database.
request = RequestFactory().get("/", HTTP_HOST="{HOST}", HTTP_X_FORWARDED_PROTO="https")
with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
    with_session = SessionMiddleware(view)(request)

def cookie(response, name):
    morsel = response.cookies[name]
    return {{"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]),
             "path": morsel["path"], "domain": morsel["domain"], "samesite": morsel["samesite"]}}

print(json.dumps({{
    "plain": [plain.status_code, plain.get("Location", "")],
    "proxied": proxied.status_code,
    "hsts": proxied.get("Strict-Transport-Security", ""),
    "csrf_cookie": [settings.CSRF_COOKIE_NAME, cookie(proxied, settings.CSRF_COOKIE_NAME)],
    "session_cookie": [settings.SESSION_COOKIE_NAME,
                       cookie(with_session, settings.SESSION_COOKIE_NAME)],
    "proxy_header": settings.SECURE_PROXY_SSL_HEADER,
}}))
"""


@pytest.fixture(scope="module")
def probe() -> dict:
    try:
        redis.Redis.from_url(CACHE_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {CACHE_URL}: production sessions live there")
    # Production serves collectstatic's manifest; this process has none, so the pages render
    # with plain static names. Headers and cookies do not depend on it.
    env = production_env(DJANGO_STATIC_MANIFEST="false", LOG_LEVEL="WARNING")
    result = manage("shell", "--no-imports", "-c", PROBE, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_plain_http_is_redirected_to_https(probe):
    assert probe["plain"] == [301, f"https://{HOST}/login/"]


def test_https_behind_the_proxy_is_recognised_and_answered_with_a_year_of_hsts(probe):
    assert probe["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert probe["proxied"] == 200
    assert probe["hsts"] == "max-age=31536000; includeSubDomains; preload"


def test_cookies_are_secure_host_only_and_kept_from_scripts(probe):
    csrf_name, csrf = probe["csrf_cookie"]
    session_name, session = probe["session_cookie"]

    # __Host- cookies: Secure, Path=/, no Domain, so only this exact host over HTTPS gets them.
    assert (csrf_name, session_name) == ("__Host-csrftoken", "__Host-sessionid")
    for cookie in (csrf, session):
        assert cookie["secure"]
        assert cookie["path"] == "/"
        assert cookie["domain"] == ""
        assert cookie["httponly"]
        assert cookie["samesite"] == "Lax"
