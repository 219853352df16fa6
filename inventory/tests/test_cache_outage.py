"""Redis away: the portal is slower, never down (DESIGN §2.12). Each test that needs Redis to
die starts a redis-server of its own; the shared one is never touched."""

import re
import sys
import threading
import time

import pytest
import requests
from django.contrib.sessions.models import Session
from django.core.cache.backends.redis import RedisCache

from inventory import api_client as api
from inventory.api_client import client as client_module
from inventory.cache_backend import ResilientRedisCache
from inventory.models import Action, Operation, Outcome, OwnedNumber
from inventory.tests.base import PASSWORD, BaseTestCase, make_user
from inventory.tests.factories import owned_number
from inventory.tests.processes import PortalProcess, RedisServer, free_port, portal_environment
from inventory.tests.transactional import TrailTransactionTestCase

TOKEN = "POST /oauth/client_credential/accesstoken"
BUY = "POST /number/buy"


def resilient(url: str, **options) -> ResilientRedisCache:
    return ResilientRedisCache(url, {"OPTIONS": {"socket_connect_timeout": 0.5, **options}})


def nothing_listening() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


class ResilientRedisCacheTestCase(BaseTestCase):
    def test_without_redis_reads_miss_and_writes_are_skipped_without_raising(self):
        down = resilient(nothing_listening(), RETRY_AFTER=0)

        assert down.get("key") is None
        assert down.get("key", "default") == "default"
        assert down.get_many(["a", "b"]) == {}
        assert down.has_key("key") is False
        down.set("key", "value")
        assert down.add("key", "value") is False
        assert down.set_many({"a": 1, "b": 2}) == ["a", "b"]
        assert down.get_or_set("key", "computed") == "computed"
        assert down.delete("key") is False
        down.delete_many(["a", "b"])
        assert down.touch("key") is False
        with pytest.raises(ValueError, match="cannot be reached"):
            down.incr("counter")

    def test_it_warns_once_per_outage_and_once_when_redis_is_back(self):
        with RedisServer() as redis_server, self.assertLogs("inventory.cache") as logs:
            shared = resilient(redis_server.url, RETRY_AFTER=0)
            other_thread = resilient(redis_server.url, RETRY_AFTER=0)  # Django's per thread
            shared.set("key", "before")
            redis_server.stop()
            for _ in range(5):
                shared.get("key")
                other_thread.get("key")
            redis_server.start()

            assert shared.get("key") is None  # redis-server started empty

        assert len(logs.records) == 2
        assert logs.records[0].getMessage().startswith("The cache cannot be used (ConnectionError")
        assert logs.records[1].getMessage().startswith("The cache answers again after")

    def test_after_a_failure_it_leaves_redis_alone_for_a_while(self):
        with RedisServer() as redis_server:
            shared = resilient(redis_server.url, RETRY_AFTER=3600)
            redis_server.stop()
            shared.get("key")
            redis_server.start()
            RedisCache(redis_server.url, {}).set("key", "in redis")

            assert shared.get("key") is None  # not asked: the failure was moments ago

    def test_a_value_changed_during_the_outage_is_not_served_after_it(self):
        with RedisServer(persist=True) as redis_server:
            shared = resilient(redis_server.url, RETRY_AFTER=0)
            shared.set("version", "before")
            shared.set("gone", "before")
            redis_server.stop()  # saves a snapshot holding both
            shared.set("version", "during")  # skipped: Redis is away
            shared.delete("gone")
            redis_server.start()  # loads the snapshot: "before", twice
            assert RedisCache(redis_server.url, {}).get("version") == "before"

            assert shared.get("version") is None
            assert shared.get("gone") is None


class PortalWithoutRedisTestCase(BaseTestCase):
    """The portal in this process, with its cache pointing at a Redis that is not there."""

    def setUp(self):
        self.enterContext(
            self.settings(
                CACHES={
                    "default": {
                        "BACKEND": "inventory.cache_backend.ResilientRedisCache",
                        "LOCATION": nothing_listening(),
                        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
                    }
                }
            )
        )
        # A token this process kept while the cache was down outlives the test otherwise.
        self.addCleanup(client_module._process_tokens._tokens.clear)

    def test_healthz_says_the_cache_is_down_in_json_and_answers_200(self):
        response = self.client.get("/healthz")

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert body["status"] == "degraded"
        assert body["cache"] == "down"
        assert body["database"] == "up"
        assert body["api_token"] == "ok"

    def test_a_correct_login_works_and_every_page_answers(self):
        number = owned_number("447700900123")
        logged_in = self.client.post("/login/", {"username": "olivia", "password": PASSWORD})
        assert logged_in.status_code == 302

        msisdn = number.msisdn
        pages = ["/", "/catalogue/?country=GB&type=mobile-lvn", "/inventory/",
                 "/inventory/numbers.csv", f"/numbers/{msisdn}/",
                 f"/numbers/{msisdn}/configure/", f"/numbers/{msisdn}/cancel/"]  # fmt: skip
        for path in pages:
            assert self.client.get(path).status_code == 200, path
        assert Session.objects.count() == 1

    def test_a_purchase_goes_through_and_is_recorded(self):
        self.login(self.operator)
        offer = api.default_client().search_available(country="GB", type="mobile-lvn").items[0]
        confirm = self.client.get(
            f"/catalogue/buy/?country=GB&type=mobile-lvn&msisdn={offer.msisdn}"
        )
        signed = re.search(r'name="offer" value="([^"]+)"', confirm.content.decode())[1]

        bought = self.client.post("/catalogue/buy/confirm/", {"offer": signed}, follow=True)

        assert bought.status_code == 200
        entry = Operation.objects.get(action=Action.PURCHASE)
        assert entry.outcome == Outcome.SUCCEEDED
        assert OwnedNumber.objects.filter(msisdn=offer.msisdn).exists()
        assert offer.msisdn in self.sandbox.owned()

    def test_this_process_keeps_its_own_token_while_the_cache_is_down(self):
        self.login(self.viewer)

        for pattern in ("11", "22", "33"):
            query = f"/catalogue/?country=GB&type=mobile-lvn&match=contains&pattern={pattern}"
            assert self.client.get(query).status_code == 200

        assert self.sandbox.calls(TOKEN) == 1
        assert self.sandbox.calls("GET /number/search") == 3


@pytest.mark.processes
class RedisOutageTestCase(TrailTransactionTestCase):
    """gunicorn on the test's database and a redis-server of the test's own, which stops
    mid-purchase and starts again."""

    @pytest.fixture(autouse=True)
    def _attach_sandbox(self, sandbox):
        self.sandbox = sandbox

    def setUp(self):
        self.redis = RedisServer().start()
        self.addCleanup(self.redis.stop)
        port = free_port()
        environment = portal_environment(
            GUNICORN_BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY="1",
            GUNICORN_THREADS="4",
            GUNICORN_ACCESS_LOG="",
            CACHE_URL=self.redis.url,
            # Room for the purchase's answer to be held back while Redis is stopped.
            NUMBERS_API_READ_TIMEOUT="15",
            NUMBERS_API_DEADLINE="30",
        )
        self.gunicorn = PortalProcess(
            sys.executable, "-m", "gunicorn", "numbersportal.wsgi", "-c", "gunicorn.conf.py",
            env=environment,
        )  # fmt: skip
        self.addCleanup(self.gunicorn.stop)
        self.base = f"http://127.0.0.1:{port}"
        self.wait_until(lambda: self.get("/login/").status_code == 200, "gunicorn never answered")

    def get(self, path, session=None):
        try:
            return (session or requests).get(self.base + path, timeout=30, allow_redirects=False)
        except requests.ConnectionError:
            return requests.Response()  # status_code None: not answering yet

    def wait_until(self, condition, failure: str, timeout: float = 60) -> None:
        give_up = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < give_up, f"{failure}:\n{self.gunicorn.output[-3000:]}"
            assert self.gunicorn.process.poll() is None, f"exited:\n{self.gunicorn.output}"
            time.sleep(0.1)

    def log_in(self, username: str) -> requests.Session:
        session = requests.Session()
        session.get(f"{self.base}/login/", timeout=30)
        response = session.post(
            f"{self.base}/login/",
            data={"username": username, "password": PASSWORD,
                  "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            allow_redirects=False,
            timeout=30,
        )  # fmt: skip
        assert response.status_code == 302, response.text[:500]
        return session

    def test_redis_dying_mid_purchase_costs_no_500_no_login_and_no_session(self):
        make_user("olivia", "Operator")
        make_user("victor", "Viewer")
        olivia = self.log_in("olivia")
        offer = api.default_client().search_available(country="GB", type="mobile-lvn").items[0]
        confirm = olivia.get(
            f"{self.base}/catalogue/buy/",
            params={"country": "GB", "type": "mobile-lvn", "msisdn": offer.msisdn},
            timeout=30,
        )
        assert confirm.status_code == 200, confirm.text[:500]
        signed = re.search(r'name="offer" value="([^"]+)"', confirm.text)[1]
        # The sandbox holds the purchase's answer back while the test stops Redis.
        self.sandbox.fault(BUY, "delay", delay=3)
        bought = {}

        def purchase():
            bought["response"] = olivia.post(
                f"{self.base}/catalogue/buy/confirm/",
                data={"offer": signed, "csrfmiddlewaretoken": olivia.cookies["csrftoken"]},
                timeout=60,
            )

        buyer = threading.Thread(target=purchase)
        buyer.start()
        self.wait_until(lambda: self.sandbox.calls(BUY) == 1, "the purchase never reached the API")
        self.redis.stop()
        assert buyer.is_alive(), "the answer came before Redis stopped: lengthen the delay"
        buyer.join(timeout=60)

        assert bought["response"].status_code == 200, bought["response"].text[:1000]
        assert "/operations/" in bought["response"].url
        entry = Operation.objects.get(action=Action.PURCHASE)
        assert entry.outcome == Outcome.SUCCEEDED
        assert OwnedNumber.objects.filter(msisdn=offer.msisdn).exists()

        health = self.get("/healthz")
        assert health.status_code == 200
        assert health.json()["cache"] == "down"
        assert health.json()["status"] == "degraded"
        for path in ("/", "/inventory/", f"/numbers/{offer.msisdn}/",
                     "/catalogue/?country=GB&type=mobile-lvn"):  # fmt: skip
            assert self.get(path, olivia).status_code == 200, path
        victor = self.log_in("victor")  # a correct login, with Redis down
        assert self.get("/inventory/", victor).status_code == 200

        self.redis.start()  # empty: nothing it held survived
        assert self.get("/inventory/", olivia).status_code == 200  # still logged in
        assert self.get("/inventory/", victor).status_code == 200
        self.wait_until(
            lambda: self.get("/healthz").json()["cache"] == "up", "the cache never came back"
        )
        assert "Traceback" not in self.gunicorn.output
        assert "-> 500" not in self.gunicorn.output
