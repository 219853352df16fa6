"""Three gunicorn workers on PostgreSQL and Redis, as in production: a burst of concurrent
searches that all need the API shares one OAuth token (one fetch in all) and nothing fails.

CI runs the suite a second time with DATABASE_URL (PostgreSQL) and CACHE_URL (Redis); on the
default SQLite and in-process cache each worker would have its own token, so it is skipped."""

import os
import re
import sys
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings

from inventory.tests.base import PASSWORD, make_user
from inventory.tests.processes import PortalProcess, free_port, portal_environment
from inventory.tests.transactional import TrailTransactionTestCase

TOKEN = "POST /oauth/client_credential/accesstoken"
SEARCH = "GET /number/search"
WORKERS = 3
BURST = 30

ON_POSTGRESQL_AND_REDIS = settings.DATABASES["default"]["ENGINE"].endswith(
    "postgresql"
) and settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


@pytest.mark.processes
@unittest.skipUnless(
    ON_POSTGRESQL_AND_REDIS,
    "needs DATABASE_URL on PostgreSQL and CACHE_URL on Redis, as in production "
    "(e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test "
    "CACHE_URL=redis://127.0.0.1:6379/1)",
)
class MultiWorkerTestCase(TrailTransactionTestCase):
    @pytest.fixture(autouse=True)
    def _attach_sandbox(self, sandbox):
        self.sandbox = sandbox

    def start_gunicorn(self) -> str:
        port = free_port()
        environment = portal_environment(
            GUNICORN_BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY=str(WORKERS),
            GUNICORN_THREADS="4",
            GUNICORN_ACCESS_LOG="",
            CACHE_URL=os.environ["CACHE_URL"],
        )
        gunicorn = PortalProcess(
            sys.executable, "-m", "gunicorn", "numbersportal.wsgi", "-c", "gunicorn.conf.py",
            env=environment,
        )  # fmt: skip
        self.addCleanup(gunicorn.stop)
        self.gunicorn = gunicorn
        base = f"http://127.0.0.1:{port}"
        # The login page needs no API (/healthz would fetch the token this test counts).
        give_up = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/login/", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < give_up, f"gunicorn never answered:\n{gunicorn.output}"
            assert gunicorn.process.poll() is None, f"gunicorn exited:\n{gunicorn.output}"
            time.sleep(0.1)
        return base

    def log_in(self, base: str, username: str) -> dict[str, str]:
        session = requests.Session()
        session.get(f"{base}/login/", timeout=10)
        response = session.post(
            f"{base}/login/",
            data={
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text[:500]
        return session.cookies.get_dict()

    def test_a_burst_on_three_workers_fetches_one_token_and_never_fails(self):
        make_user("victor", "Viewer")
        base = self.start_gunicorn()
        cookies = self.log_in(base, "victor")
        assert self.sandbox.calls(TOKEN) == 0
        queries = [
            {"country": "GB", "type": "mobile-lvn", "match": "contains", "pattern": f"{n}"}
            for n in range(10, 10 + BURST)
        ]

        def search(query):
            return requests.get(f"{base}/catalogue/", params=query, cookies=cookies, timeout=60)

        with ThreadPoolExecutor(max_workers=BURST) as pool:
            responses = list(pool.map(search, queries))

        statuses = [response.status_code for response in responses]
        assert statuses == [200] * BURST, self.gunicorn.output[-5000:]
        assert self.sandbox.calls(TOKEN) == 1
        assert self.sandbox.calls(SEARCH) == BURST
        assert not [r for r in responses if "could not be reached" in r.text]
        booted = re.findall(r"Booting worker with pid: (\d+)", self.gunicorn.output)
        assert len(set(booted)) == WORKERS
