"""Eight people buy the same number at the same moment, each on their own connection."""

import threading

import pytest
from django.db import connection

from inventory import api_client as api
from inventory.audit import Actor, verify_chain
from inventory.models import Operation, Outcome, OwnedNumber
from inventory.services.operations import OperationRefused
from inventory.services.purchase import number_purchase
from inventory.tests.base import make_user
from inventory.tests.transactional import TrailTransactionTestCase

BUY = "POST /number/buy"
BUYERS = 8


class ConcurrentPurchaseTestCase(TrailTransactionTestCase):
    @pytest.fixture(autouse=True)
    def _attach_sandbox(self, sandbox):
        self.sandbox = sandbox

    def test_eight_parallel_buyers_make_exactly_one_purchase(self):
        users = [make_user(f"buyer{i}", "Operator") for i in range(BUYERS)]
        offer = api.default_client().search_available(country="GB", size=1).items[0]
        # A slow provider keeps the first purchase open while the others arrive.
        self.sandbox.fault(BUY, "delay", delay=0.5)
        start = threading.Barrier(BUYERS)
        outcomes: list = [None] * BUYERS

        def buy(i):
            try:
                start.wait()
                outcomes[i] = number_purchase(
                    client=api.NumbersApiClient(api.ApiConfig.from_settings()),
                    actor=Actor(user=users[i], username=users[i].username),
                    offer=offer,
                    form_token=f"form-{i}",
                )
            except OperationRefused as refused:
                outcomes[i] = refused
            finally:
                connection.close()  # each thread had its own connection

        threads = [threading.Thread(target=buy, args=(i,)) for i in range(BUYERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert self.sandbox.calls(BUY) == 1
        bought = [o for o in outcomes if isinstance(o, Operation)]
        refused = [o for o in outcomes if isinstance(o, OperationRefused)]
        assert [o.outcome for o in bought] == [Outcome.SUCCEEDED]
        assert len(refused) == BUYERS - 1
        assert all("Someone else" in str(r) or "already owns" in str(r) for r in refused)
        assert OwnedNumber.objects.filter(msisdn=offer.msisdn).count() == 1
        assert Operation.objects.filter(outcome=Outcome.FAILED).count() == BUYERS - 1
        assert verify_chain() == (BUYERS, None)
