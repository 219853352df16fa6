"""The catalogue of numbers on sale: searches (cached) and exact offers."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache

from inventory import api_client as api
from inventory.selectors import STOCK_CACHE_KEY, on_sale_by_country
from inventory.services import pricing
from inventory.services.operations import ApiProblem

SOLD_KEY = "catalogue:sold:"

# --- catalogue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueQuery:
    country: str
    type: str = ""
    features: tuple[str, ...] = ()
    pattern: str = ""
    search_pattern: int = 0
    page: int = 1
    size: int = 20

    @classmethod
    def from_form(cls, data: dict) -> CatalogueQuery:
        """The query a valid CatalogueSearchForm asks for."""
        pattern = data.get("digit_pattern")
        return cls(
            country=data["country"],
            type=data["type"],
            features=tuple(data["features"]),
            pattern=pattern.digits if pattern else "",
            search_pattern=pattern.search_pattern if pattern else 0,
            page=data["page"],
            size=data["size"],
        )

    def api_params(self) -> dict:
        """The query exactly as it goes to GET /number/search (shown to the user too)."""
        params: dict[str, str | int] = {"country": self.country}
        if self.type:
            params["type"] = self.type
        if self.features:
            params["features"] = ",".join(self.features)
        if self.pattern:
            params.update(pattern=self.pattern, search_pattern=self.search_pattern)
        params.update(index=self.page, size=self.size)
        return params


@dataclass(frozen=True)
class CatalogueResults:
    page: api.Page[api.AvailableNumber]
    from_cache: bool
    # Per country, whether the last plain searches found numbers on sale, as the page's
    # country picker marks them (read with the cached page: one round trip, not two).
    countries_on_sale: dict[str, bool] = dataclasses.field(default_factory=dict)


def _catalogue_cache_key(query: CatalogueQuery) -> str:
    fingerprint = repr(sorted(query.api_params().items())).encode()
    return "catalogue:" + hashlib.sha256(fingerprint).hexdigest()


def catalogue_search(
    *, query: CatalogueQuery, client: api.NumbersApiClient | None = None
) -> CatalogueResults:
    """Numbers on sale. A repeat of the same query within the cache window costs no call;
    numbers bought since it was cached are left out. Raises ApiProblem."""
    key = _catalogue_cache_key(query)
    found = cache.get_many([key, STOCK_CACHE_KEY])
    stock = found.get(STOCK_CACHE_KEY) or {}
    cached = found.get(key)
    if cached is not None:
        return CatalogueResults(
            page=_without_sold(cached), from_cache=True, countries_on_sale=on_sale_by_country(stock)
        )
    client = client if client is not None else api.default_client()
    try:
        page = client.search_available(
            country=query.country,
            type=query.type,
            features=query.features,
            pattern=query.pattern,
            search_pattern=query.search_pattern,
            index=query.page,
            size=query.size,
        )
    except api.ApiError as error:
        raise ApiProblem.from_error(error, doing="search") from error
    cache.set(key, page, timeout=settings.CATALOGUE_CACHE_SECONDS)
    stock = catalogue_stock_seen(query=query, count=page.count) or stock
    if not query.pattern:  # a digit pattern may find only the dearer, memorable numbers
        pricing.rate_card_learn_from_search(country=query.country, offers=page.items)
    return CatalogueResults(
        page=page, from_cache=False, countries_on_sale=on_sale_by_country(stock)
    )


def catalogue_sold(*, msisdn: str) -> None:
    """A number the portal just bought: cached searches stop offering it."""
    cache.set(SOLD_KEY + msisdn, True, timeout=settings.CATALOGUE_CACHE_SECONDS)


def _without_sold(page: api.Page[api.AvailableNumber]) -> api.Page[api.AvailableNumber]:
    sold = cache.get_many([SOLD_KEY + item.msisdn for item in page.items])
    if not sold:
        return page
    items = tuple(item for item in page.items if SOLD_KEY + item.msisdn not in sold)
    return dataclasses.replace(page, items=items, count=page.count - len(page.items) + len(items))


def offer_price_check(
    *, country: str, type: str, msisdn: str, client: api.NumbersApiClient | None = None
) -> api.AvailableNumber | None:
    """The offer a confirmation page shows: asked afresh, never from the cache. None when
    the number is no longer on sale. Raises ApiProblem."""
    client = client if client is not None else api.default_client()
    try:
        return catalogue_offer(client=client, country=country, type=type, msisdn=msisdn)
    except api.ApiError as error:
        raise ApiProblem.from_error(error, doing="price check") from error


def offer_over_budget(
    *, offer: api.AvailableNumber, max_monthly: Decimal | None, max_setup: Decimal | None
) -> str:
    """Why `offer` costs more than someone agreed to pay ('' when it does not): a price
    the catalogue does not give is not taken as dearer, as for a bulk purchase's check."""
    over = []
    if max_monthly is not None and offer.cost is not None and offer.cost > max_monthly:
        over.append(f"{_eur(offer.cost)} a month (you agreed to at most {_eur(max_monthly)})")
    if (
        max_setup is not None
        and offer.initial_price is not None
        and offer.initial_price > max_setup
    ):
        over.append(
            f"{_eur(offer.initial_price)} to set up (you agreed to at most {_eur(max_setup)})"
        )
    if not over:
        return ""
    return f"The number now costs {' and '.join(over)}; nothing was bought."


def _eur(amount: Decimal) -> str:
    return f"€{amount:.2f}"


def catalogue_offer(
    *, client: api.NumbersApiClient, country: str, type: str, msisdn: str
) -> api.AvailableNumber | None:
    """The number on sale with exactly this msisdn, at its current price; None if it is
    not (or no longer) on sale."""
    page = client.search_available(
        country=country, type=type, pattern=msisdn, search_pattern=0, size=10
    )
    return next((item for item in page.items if item.msisdn == msisdn), None)


# --- what is on sale where ------------------------------------------------------------------

STOCK_SECONDS = 6 * 3600


def catalogue_stock_seen(*, query: CatalogueQuery, count: int) -> dict | None:
    """Remember whether a plain search (no features or digits) found numbers, per country and
    type, so country pickers can say where numbers were on sale when last looked at. Returns
    what is remembered now (None for a search that teaches nothing). Read again here, not
    taken from before the API call: another search may have added to it meanwhile."""
    if query.features or query.pattern or not query.type:
        return None
    stock = cache.get(STOCK_CACHE_KEY) or {}
    seen = stock.get(query.country, {})
    if seen.get(query.type) == bool(count):
        return stock
    stock[query.country] = {**seen, query.type: bool(count)}
    cache.set(STOCK_CACHE_KEY, stock, timeout=STOCK_SECONDS)
    return stock
