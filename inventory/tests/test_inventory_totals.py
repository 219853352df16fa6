"""The inventory's totals table and text index follow every write to the cache: after each
write path (buy, configure, notes, cancel, sync with drift and tombstones, bulk writes) the
totals equal a real count of the cache, and the text index finds exactly what is there."""

from collections import Counter
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from inventory import api_client as api
from inventory import cache_triggers, selectors
from inventory.audit import Actor
from inventory.models import (
    ESTIMATED_SOURCES,
    InventorySpend,
    InventoryTotal,
    Operation,
    OwnedNumber,
    PriceSource,
)
from inventory.services.cache import (
    cache_owned,
    cache_purchase,
    cache_totals_fold,
    remove_from_cache,
)
from inventory.services.cancel import number_cancel
from inventory.services.configure import number_configure
from inventory.services.numbers import number_annotate
from inventory.services.purchase import number_purchase
from inventory.services.sync import owned_numbers_sync
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import owned_numbers, varied_numbers

GROUP = cache_triggers.GROUP


def counted() -> dict:
    """The totals by group, counted from the cache itself."""
    totals: Counter = Counter()
    for number in OwnedNumber.objects.all():
        cost = number.effective_monthly_cost  # the price the portal counts, of any source
        key = (*(getattr(number, name) for name in GROUP), cost is not None)
        totals[(*key, "numbers")] += 1
        totals[(*key, "priced")] += cost is not None
        totals[(*key, "total")] += cost or Decimal(0)
    return {key: value for key, value in totals.items() if value}


def kept() -> dict:
    """The totals by group as the totals table has them."""
    rows = InventoryTotal.objects.values(*GROUP, "price_known").annotate(
        n=Sum("numbers"), p=Sum("priced"), t=Sum("monthly_total")
    )
    totals = {}
    for row in rows:
        key = tuple(row[name] for name in (*GROUP, "price_known"))
        for measure, value in (("numbers", row["n"]), ("priced", row["p"]), ("total", row["t"])):
            if value:
                totals[(*key, measure)] = value
    return totals


def spend_counted() -> dict:
    """The spend by country, type and team, counted from the cache itself."""
    spend: Counter = Counter()
    for number in OwnedNumber.objects.all():
        cost = number.effective_monthly_cost or Decimal(0)
        source = number.price_source
        measures = {
            "numbers": (True, 1),
            "monthly_total": (True, cost),
            "priced": (source != PriceSource.UNKNOWN, 1),
            "estimated": (source in ESTIMATED_SOURCES, 1),
            "estimated_total": (source in ESTIMATED_SOURCES, cost),
            "unrouted": (not number.configured and cost > 0, 1),
            "unrouted_total": (not number.configured and cost > 0, cost),
            "bought": (source == PriceSource.BOUGHT, 1),
            "bought_total": (source == PriceSource.BOUGHT, cost),
        }
        for dimension in cache_triggers.SPEND_DIMENSIONS:
            for measure, (counts, value) in measures.items():
                spend[(dimension, getattr(number, dimension), measure)] += value if counts else 0
    return {key: value for key, value in spend.items() if value}


def spend_kept() -> dict:
    """The spend as its table has it."""
    names = [name for name, _, _ in cache_triggers.SPEND_MEASURES]
    rows = InventorySpend.objects.values_list("dimension", "key").annotate(
        *(Sum(name) for name in names)
    )
    return {
        (dimension, key, name): value
        for dimension, key, *values in rows
        for name, value in zip(names, values, strict=True)
        if value
    }


def text_matches(**search) -> set[str]:
    ids = selectors.text_index_candidates(**{"q": "", "digits": "", "ends": False, **search})
    return set(OwnedNumber.objects.filter(pk__in=ids).values_list("msisdn", flat=True))


class CacheFollowersTestCase(BaseTestCase):
    """After each write path: totals equal a real count, the text index finds what is there."""

    def assert_in_step(self):
        assert kept() == counted()
        assert spend_kept() == spend_counted()
        if connection.vendor == "sqlite":  # the index against its content, row by row
            with connection.cursor() as cursor:
                table = cache_triggers.TEXT_TABLE
                check = f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)"  # noqa: S608
                cursor.execute(check)
        cache_totals_fold()
        assert kept() == counted()
        assert spend_kept() == spend_counted()

    def sync(self):
        return owned_numbers_sync(client=api.default_client(), actor=Actor.system("tests"))

    def buy(self, token="t1"):
        offer = api.default_client().search_available(country="GB", size=1).items[0]
        number_purchase(actor=self.actor(self.operator), offer=offer, form_token=token)
        return offer.msisdn

    def test_the_triggers_that_keep_them_are_installed(self):
        assert cache_triggers.installed(connection) >= cache_triggers.expected(connection)

    def test_a_purchase_counts_the_number_and_its_price_and_indexes_its_digits(self):
        msisdn = self.buy()

        self.assert_in_step()
        assert selectors.inventory_totals(filters=selectors.InventoryFilter()).priced == 1
        assert msisdn in text_matches(digits=msisdn[-6:])

    def test_a_configuration_moves_the_number_to_the_configured_group(self):
        msisdn = self.buy()
        number_configure(
            actor=self.actor(self.operator),
            msisdn=msisdn,
            changes={"moHttpUrl": "https://hooks.example.com/sms"},
            form_token="t2",
        )

        self.assert_in_step()
        configured = selectors.InventoryFilter(configured="yes")
        assert selectors.inventory_totals(filters=configured).count == 1

    def test_notes_move_the_team_and_the_text_index_with_them(self):
        msisdn = self.buy()
        number = OwnedNumber.objects.get(msisdn=msisdn)
        values = {"label": "Lobby", "team": "Front desk", "notes": "by the door"}
        number_annotate(actor=self.actor(self.operator), number=number, values=values)
        self.assert_in_step()
        assert text_matches(q="front desk") == {msisdn}
        assert text_matches(q="the door") == {msisdn}

        values = {"label": "Hall", "team": "Facilities", "notes": ""}
        number_annotate(actor=self.actor(self.operator), number=number, values=values)

        self.assert_in_step()
        assert text_matches(q="front desk") == set()
        assert text_matches(q="facilities") == {msisdn}

    def test_a_cancellation_takes_the_number_out_of_both(self):
        msisdn = self.buy()
        number_annotate(
            actor=self.actor(self.operator),
            number=OwnedNumber.objects.get(msisdn=msisdn),
            values={"team": "Sales"},
        )
        number_cancel(
            actor=self.actor(self.operator), msisdn=msisdn, typed_msisdn=msisdn, form_token="t3"
        )

        self.assert_in_step()
        assert not kept()
        assert text_matches(q="sales") == set()
        assert text_matches(digits=msisdn[-6:]) == set()

    def test_a_sync_with_drift_and_a_restored_tombstone_keeps_both_in_step(self):
        self.sandbox.reset(owned=150)
        self.sync()
        self.assert_in_step()
        owned = sorted(self.sandbox.owned())
        msisdn = self.buy()
        number_annotate(
            actor=self.actor(self.operator),
            number=OwnedNumber.objects.get(msisdn=msisdn),
            values={"team": "Returning"},
        )
        number_cancel(
            actor=self.actor(self.operator), msisdn=msisdn, typed_msisdn=msisdn, form_token="t4"
        )
        record = {"country": "GB", "msisdn": msisdn, "type": "mobile-lvn", "features": ["SMS"]}
        self.sandbox.change_account(
            add=[record],
            add_random=3,
            remove=owned[:4],
            change=[{"msisdn": owned[5], "moHttpUrl": "https://elsewhere.example.com/in"}],
        )

        run = self.sync()

        assert (run.appeared, run.disappeared, run.changed) == (4, 4, 1)
        self.assert_in_step()
        assert text_matches(q="returning") == {msisdn}  # the tombstone's team is back
        assert text_matches(digits=owned[0][-7:]) == set()

    def test_bulk_writes_outside_the_services_are_counted_too(self):
        varied_numbers(400)
        owned_numbers(50, team="Bulk")
        OwnedNumber.objects.filter(country="NL").update(
            effective_monthly_cost=Decimal("4.0001"), price_source="contract"
        )
        OwnedNumber.objects.filter(country="US").delete()

        self.assert_in_step()
        assert text_matches(q="bulk") == set(
            OwnedNumber.objects.filter(team="Bulk").values_list("msisdn", flat=True)
        )


MSISDNS = st.sampled_from([f"4477009{n:05d}" for n in range(12)])
COSTS = st.sampled_from([None, Decimal("1.25"), Decimal("0.1000"), Decimal("3.3333")])
WRITES = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), MSISDNS, COSTS, st.sampled_from(["GB", "NL"])),
        st.tuples(
            st.just("owned"),
            MSISDNS,
            st.sampled_from(["", "https://a.example.com/"]),
            st.lists(st.sampled_from(["SMS", "VOICE", "MMS"]), unique=True),
        ),
        st.tuples(st.just("notes"), MSISDNS, st.sampled_from(["", "Sales", "Ops"])),
        st.tuples(st.just("remove"), MSISDNS),
        st.tuples(st.just("reprice"), st.sampled_from(["GB", "NL"]), COSTS),
    ),
    max_size=25,
)


class TotalsPropertyTestCase(HypothesisTestCase, BaseTestCase):
    """Any sequence of writes through the cache's services (and a bulk reprice, as the rate
    card makes) leaves the totals and the spend equal to a real count. Each example runs in
    its own transaction."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(writes=WRITES)
    def test_any_sequence_of_writes_keeps_the_totals_equal_to_a_count(self, writes):
        actor = self.actor(self.operator)
        for write in writes:
            kind, *args = write
            if kind == "buy":
                msisdn, cost, country = args
                entry = Operation(
                    msisdn=msisdn,
                    country=country,
                    monthly_cost=cost,
                    completed_at=timezone.now(),
                    actor=self.operator,
                )
                cache_purchase(entry=entry, found=None)
            elif kind == "owned":
                msisdn, url, features = args
                found = api.OwnedNumber(
                    country="GB",
                    msisdn=msisdn,
                    type="mobile-lvn",
                    features=tuple(features),
                    mo_http_url=url,
                )
                cache_owned(found)
            elif kind == "notes":
                msisdn, team = args
                number = OwnedNumber.objects.filter(msisdn=msisdn).first()
                if number is not None:
                    number_annotate(actor=actor, number=number, values={"team": team})
            elif kind == "remove":
                remove_from_cache(args[0])
            else:
                country, cost = args
                OwnedNumber.objects.filter(country=country).update(
                    effective_monthly_cost=cost, price_source="contract" if cost else ""
                )
            assert kept() == counted(), write
            assert spend_kept() == spend_counted(), write
        cache_totals_fold()
        assert kept() == counted()
        assert spend_kept() == spend_counted()
