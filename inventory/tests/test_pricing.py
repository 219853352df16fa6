"""A price for every number, with its source: bought, listed, rate card (contract, then
catalogue), unknown — in that order; kept in columns by every write, totalled by the
database's inventory totals."""

import csv
import io
from decimal import Decimal

from django.db import connection
from django.db.models import Sum

from inventory import api_client as api
from inventory import cache_triggers
from inventory.audit import Actor
from inventory.models import (
    Action,
    InventoryTotal,
    Operation,
    OwnedNumber,
    PriceSource,
    RateCard,
    RateCardRefresh,
)
from inventory.selectors import InventoryFilter, inventory_totals
from inventory.services import pricing
from inventory.services.cancel import number_cancel
from inventory.services.catalogue import CatalogueQuery, catalogue_search
from inventory.services.numbers import number_annotate
from inventory.services.purchase import number_purchase
from inventory.services.sync import owned_numbers_sync
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import owned_number, owned_numbers
from inventory.tests.tasks import run_queued_tasks

SEARCH = "GET /number/search"


def rate(country="GB", type="mobile-lvn", **prices) -> RateCard:
    return RateCard.objects.create(country=country, type=type, **prices)


def tally() -> list[tuple]:
    """The totals by country, type, team, price source and routing, as the dashboard reads them."""
    dimensions = ("country", "type", "team", "price_source", "configured")
    rows = InventoryTotal.objects.values_list(*dimensions).annotate(
        held=Sum("numbers"), monthly=Sum("monthly_total")
    )
    return sorted(row for row in rows.order_by() if row[-2])


class PriceSourcesTestCase(BaseTestCase):
    def price(self, msisdn):
        row = OwnedNumber.objects.get(msisdn=msisdn)
        return row.effective_monthly_cost, row.price_source

    def test_a_number_bought_through_the_portal_costs_what_it_was_bought_for(self):
        rate(catalogue_monthly_cost=Decimal("0.90"), contract_monthly_cost=Decimal("0.50"))
        owned_number("447700900001", monthly_cost=Decimal("1.25"), listed_monthly_cost="2.00")
        assert self.price("447700900001") == (Decimal("1.25"), PriceSource.BOUGHT)

    def test_the_rent_the_account_lists_comes_next(self):
        rate(catalogue_monthly_cost=Decimal("0.90"), contract_monthly_cost=Decimal("0.50"))
        owned_number("447700900001", listed_monthly_cost="2.00")
        assert self.price("447700900001") == (Decimal("2.00"), PriceSource.LISTED)

    def test_a_contract_price_beats_the_catalogue_price(self):
        rate(catalogue_monthly_cost=Decimal("0.90"), contract_monthly_cost=Decimal("0.50"))
        owned_number("447700900001")
        assert self.price("447700900001") == (Decimal("0.50"), PriceSource.CONTRACT)

    def test_the_catalogue_price_comes_last(self):
        rate(catalogue_monthly_cost=Decimal("0.90"))
        owned_number("447700900001")
        assert self.price("447700900001") == (Decimal("0.90"), PriceSource.CATALOGUE)

    def test_without_any_the_price_is_unknown(self):
        rate(country="NL")  # another country's rate does not apply
        owned_number("447700900001")
        assert self.price("447700900001") == (None, PriceSource.UNKNOWN)

    def test_a_contract_price_reprices_the_numbers_it_applies_to_and_is_audited(self):
        rate(catalogue_monthly_cost=Decimal("0.90"))
        owned_numbers(3, monthly_cost=None)
        owned_number("447700900999", monthly_cost=Decimal("1.25"))
        changed = pricing.rate_card_set(
            actor=self.actor(self.operator),
            prices=[pricing.ContractPrice("GB", "mobile-lvn", Decimal("0.40"), Decimal("0"))],
        )
        assert changed == 1
        prices = set(OwnedNumber.objects.values_list("effective_monthly_cost", "price_source"))
        assert prices == {(Decimal("0.40"), "contract"), (Decimal("1.25"), "bought")}
        entry = Operation.objects.get(action=Action.RATE_CARD)
        assert (entry.country, entry.actor_username) == ("GB", "olivia")
        assert entry.before["contract_monthly"] is None
        assert Decimal(entry.after["contract_monthly"]) == Decimal("0.40")

        pricing.rate_card_set(
            actor=self.actor(self.operator),
            prices=[pricing.ContractPrice("GB", "mobile-lvn", None)],
        )
        assert set(OwnedNumber.objects.values_list("price_source", flat=True)) == {
            "catalogue",
            "bought",
        }

    def test_the_number_page_says_where_the_price_comes_from(self):
        rate(catalogue_monthly_cost=Decimal("0.90"), catalogue_setup_cost=Decimal("0"))
        owned_number("447700900001")
        self.login(self.viewer)
        response = self.client.get("/numbers/447700900001/")
        self.assertContains(response, "€0.90")
        self.assertContains(response, "an estimate: the catalogue price of mobile numbers")

    def test_the_inventory_and_its_export_show_the_price_and_its_source(self):
        rate(catalogue_monthly_cost=Decimal("0.90"))
        owned_number("447700900001")
        owned_number("447700900002", monthly_cost=Decimal("1.25"))
        self.login(self.viewer)
        page = self.client.get("/inventory/")
        self.assertContains(page, "catalogue (est.)")
        self.assertContains(page, "€2.15</strong> a month")
        self.assertContains(page, "€0.90 of it estimated from the")
        export = self.client.get("/inventory/numbers.csv")
        rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
        assert [(r["monthly_cost_eur"], r["price_source"], r["price_estimated"]) for r in rows] == [
            ("0.9000", "catalogue", "yes"),
            ("1.2500", "bought", "no"),
        ]

    def test_sorting_by_price_sorts_by_the_price_counted(self):
        rate(catalogue_monthly_cost=Decimal("0.90"))
        owned_number("447700900001")
        owned_number("447700900002", monthly_cost=Decimal("1.25"))
        owned_number("447700900003", listed_monthly_cost="0.10")
        self.login(self.viewer)
        rows = self.client.get("/inventory/", {"sort": "-monthly_cost"}).context["listing"].rows
        assert [r.msisdn for r in rows] == ["447700900002", "447700900001", "447700900003"]


class TallyTestCase(BaseTestCase):
    """The triggers keep the tally equal to a count of the cache, whatever writes it."""

    def assert_tally_matches_a_recount(self):
        kept = tally()
        cache_triggers.rebuild(connection)
        assert kept == tally()

    def test_the_tally_follows_every_kind_of_write(self):
        rate(catalogue_monthly_cost=Decimal("0.90"))
        first, second, *_ = owned_numbers(5, monthly_cost=None)
        owned_number("447700900100", monthly_cost=Decimal("1.25"), team="Sales")
        self.assert_tally_matches_a_recount()
        assert sum(n for *_, n, _ in tally()) == 6

        number = OwnedNumber.objects.get(msisdn="447700900100")
        number_annotate(actor=self.actor(self.operator), number=number, values={"team": "Ops"})
        OwnedNumber.objects.filter(pk=first.pk).update(mo_http_url="https://x.test/")
        pricing.rate_card_set(
            actor=self.actor(self.operator),
            prices=[pricing.ContractPrice("GB", "mobile-lvn", Decimal("0.3333"))],
        )
        OwnedNumber.objects.filter(pk=second.pk).delete()
        self.assert_tally_matches_a_recount()
        monthly = InventoryTotal.objects.aggregate(m=Sum("monthly_total"))["m"]
        assert monthly == 4 * Decimal("0.3333") + Decimal("1.25")

    def test_a_purchase_and_a_cancellation_move_the_totals(self):
        client = api.default_client()
        offer = client.search_available(country="GB", type="mobile-lvn", size=1).items[0]
        number_purchase(
            client=client,
            actor=self.actor(self.operator),
            offer=offer,
            form_token="buy-1",
            team="Sales",
        )
        assert OwnedNumber.objects.get(msisdn=offer.msisdn).team == "Sales"
        assert pricing.spend_committed(team="Sales") == offer.cost
        number_cancel(
            actor=self.actor(self.operator),
            msisdn=offer.msisdn,
            typed_msisdn=offer.msisdn,
            form_token="cancel-1",
        )
        assert pricing.spend_committed() == 0
        self.assert_tally_matches_a_recount()


class DemoAccountTestCase(BaseTestCase):
    def test_after_a_sync_and_the_rate_card_task_every_number_has_a_price_with_a_source(self):
        self.sandbox.reset(owned=40)
        owned_numbers_sync(client=api.default_client(), actor=Actor.system("tests"))
        assert not OwnedNumber.objects.filter(price_source=PriceSource.BOUGHT).exists()
        listed = OwnedNumber.objects.filter(price_source=PriceSource.LISTED).count()
        assert 0 < listed < 40  # the account lists a rent for some numbers only

        run_queued_tasks()  # the sync queued the rate-card refresh

        kinds = len(pricing.held_kinds())
        assert self.sandbox.calls(SEARCH) == kinds  # one search per country and type held
        assert not OwnedNumber.objects.filter(price_source=PriceSource.UNKNOWN).exists()
        assert not OwnedNumber.objects.filter(effective_monthly_cost__isnull=True).exists()
        totals = inventory_totals(filters=InventoryFilter())
        assert (totals.count, totals.priced, totals.estimated) == (40, 40, 40 - listed)

        self.login(self.viewer)
        home = self.client.get("/")
        self.assertContains(home, f"for {40 - listed} numbers")
        self.assertContains(home, "estimated from the")
        page = self.client.get("/inventory/")
        self.assertContains(
            page,
            f'estimated from the <a href="/rate-card/">rate card</a> for {40 - listed} numbers',
        )

    def test_the_refresh_asks_each_kind_at_most_once_a_day(self):
        self.sandbox.reset(owned=10)
        owned_numbers_sync(client=api.default_client(), actor=Actor.system("tests"))
        run_queued_tasks()
        asked = self.sandbox.calls(SEARCH)
        assert pricing.rate_card_due() == []
        assert pricing.rate_card_refresh_request() is False
        owned_numbers_sync(client=api.default_client(), actor=Actor.system("tests"))
        run_queued_tasks()
        assert self.sandbox.calls(SEARCH) == asked
        assert RateCardRefresh.objects.count() == 1

    def test_a_busy_api_stops_the_refresh_and_says_so(self):
        owned_numbers(3, monthly_cost=None)
        self.sandbox.fault(operation=SEARCH, kind="error", status=503, count=10)
        run = pricing.rate_card_refresh(client=api.default_client())
        assert "rate card refresh did not run" in run.message
        assert OwnedNumber.objects.filter(price_source=PriceSource.UNKNOWN).count() == 3


class CatalogueLearningTestCase(BaseTestCase):
    def test_a_plain_search_teaches_the_rate_card_its_usual_price(self):
        owned_numbers(2, monthly_cost=None)
        catalogue_search(query=CatalogueQuery(country="GB", type="mobile-lvn", size=20))
        card = RateCard.objects.get(country="GB", type="mobile-lvn")
        assert card.catalogue_monthly_cost == Decimal("0.90")  # not a memorable number's price
        assert card.catalogue_seen_at is not None
        assert set(OwnedNumber.objects.values_list("price_source", flat=True)) == {"catalogue"}

    def test_a_search_by_digits_teaches_nothing(self):
        catalogue_search(
            query=CatalogueQuery(country="GB", type="mobile-lvn", pattern="000", search_pattern=2)
        )
        assert not RateCard.objects.exists()

    def test_the_usual_price_is_the_most_common_one(self):
        def offer(cost, setup="0"):
            return api.AvailableNumber(
                "GB", "4477", "mobile-lvn", (), Decimal(cost), Decimal(setup)
            )

        offers = [offer("2.70", "25"), offer("0.90"), offer("0.90"), offer("1.00")]
        assert pricing.usual_price(offers) == (Decimal("0.90"), Decimal("0"))
        assert pricing.usual_price([]) is None
