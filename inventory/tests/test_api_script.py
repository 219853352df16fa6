"""A script's journey over HTTP with plain `requests`, against a live portal, the session's
sandbox and a real task worker (`manage.py run_worker`): search, a bulk buy with
Idempotency-Keys polled to the end, and a purchase sent again after the script gave up
waiting for it, which buys nothing twice."""

import time

import pytest
import requests
from django.conf import settings
from django.test import LiveServerTestCase

from inventory.audit import Actor
from inventory.models import Action, Operation, OwnedNumber
from inventory.services.tokens import api_token_create
from inventory.tests.base import make_user
from inventory.tests.processes import PortalProcess, portal_environment
from inventory.tests.transactional import TrailTransactionTestCase

pytestmark = pytest.mark.processes

BUY = "POST /number/buy"
SAFETY_NET = 90  # seconds: a hung test fails instead of waiting for ever; nothing is timed


def pick(offer: dict) -> dict:
    """A search result as the selection takes it: at most the price it was offered at."""
    fields = {name: offer[name] for name in ("country", "msisdn", "type", "features")}
    return {
        **fields,
        "max_monthly_cost": offer["monthly_cost"],
        "max_setup_cost": offer["setup_cost"],
    }


class ScriptJourneyTestCase(TrailTransactionTestCase, LiveServerTestCase):
    @pytest.fixture(autouse=True)
    def _attach_sandbox(self, sandbox):
        self.sandbox = sandbox

    def setUp(self):
        operator = make_user("olivia", "Operator")
        token = api_token_create(actor=Actor.system("tests"), user=operator, name="s", days=1)[1]
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.addCleanup(self.http.close)

    def url(self, path: str) -> str:
        return f"{self.live_server_url}{path}"

    def post(self, path: str, body=None, *, key: str, timeout: float = 30) -> requests.Response:
        return self.http.post(
            self.url(path), json=body or {}, headers={"Idempotency-Key": key}, timeout=timeout
        )

    def poll(self, path: str, until) -> dict:
        give_up = time.monotonic() + SAFETY_NET
        while True:
            answer = self.http.get(self.url(path), timeout=30).json()
            if until(answer):
                return answer
            assert time.monotonic() < give_up, f"still {answer}"
            time.sleep(0.2)

    def start_worker(self) -> None:
        worker = PortalProcess.manage("run_worker", "--interval", "0.1", env=portal_environment())
        self.addCleanup(worker.stop)

    def test_search_then_a_bulk_buy_polled_to_the_end(self):
        self.start_worker()
        search = self.http.get(
            self.url("/api/v1/catalogue/numbers"),
            params={"country": "GB", "type": "mobile-lvn", "size": 10},
            timeout=30,
        )
        offers = search.json()["results"][:3]
        picks = [pick(offer) for offer in offers]
        assert self.post("/api/v1/selection", {"numbers": picks}, key="pick-1").ok

        created = self.post("/api/v1/batches/purchase", key="bulk-1")
        assert created.status_code == 202
        batch_url = created.json()["url"]
        assert self.post("/api/v1/batches/purchase", key="bulk-1").json() == created.json()

        review = self.poll(batch_url, lambda batch: batch["status"] != "checking")
        assert review["status"] == "review"
        assert review["totals"]["count"] == 3
        confirmed = self.post(f"{batch_url}/confirm", key="bulk-1-confirm")
        assert confirmed.status_code == 200
        done = self.poll(batch_url, lambda batch: batch["state"] in ("done", "failed"))

        assert done["status"] == "done"
        assert done["message"] == "3 done, 0 failed."
        assert self.sandbox.calls(BUY) == 3
        assert OwnedNumber.objects.count() == 3
        items = self.http.get(self.url(f"{batch_url}/items"), timeout=30).json()["items"]
        assert {item["outcome"] for item in items} == {"succeeded"}

    def test_a_purchase_sent_again_after_a_client_timeout_buys_once(self):
        offer = self.http.get(
            self.url("/api/v1/catalogue/numbers"),
            params={"country": "GB", "type": "mobile-lvn", "size": 10},
            timeout=30,
        ).json()["results"][0]
        body = {
            "country": "GB",
            "msisdn": offer["msisdn"],
            "type": offer["type"],
            "max_monthly_cost": offer["monthly_cost"],
            "max_setup_cost": offer["setup_cost"],
        }
        # The portal waits longer for the provider than the script waits for the portal.
        patient = {**settings.NUMBERS_API, "READ_TIMEOUT": 10.0, "DEADLINE": 20.0}
        self.sandbox.fault(BUY, "delay", delay=3)
        with self.settings(NUMBERS_API=patient):
            with pytest.raises(requests.Timeout):
                self.post("/api/v1/purchases", body, key="buy-once", timeout=1)
            give_up = time.monotonic() + SAFETY_NET
            retried = self.post("/api/v1/purchases", body, key="buy-once")
            while retried.status_code == 409:  # still in progress: as a script would, wait
                assert retried.json()["type"].endswith("idempotency-key-in-progress")
                assert time.monotonic() < give_up
                time.sleep(float(retried.headers["Retry-After"]))
                retried = self.post("/api/v1/purchases", body, key="buy-once")

        assert retried.status_code == 201, retried.json()
        assert retried.json()["outcome"] == "succeeded"
        assert self.sandbox.calls(BUY) == 1
        assert Operation.objects.filter(action=Action.PURCHASE).count() == 1
        again = self.post("/api/v1/purchases", body, key="buy-once")
        assert again.json() == retried.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert self.sandbox.calls(BUY) == 1
