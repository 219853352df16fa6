"""The catalogue of numbers on sale: searches (cached) and exact offers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from inventory import api_client as api
from inventory.selectors import STOCK_CACHE_KEY

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

    def api_params(self) -> dict:
        """The query exactly as it goes to GET /number/search (shown to the user too)."""
        params = {"country": self.country}
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


def _catalogue_cache_key(query: CatalogueQuery) -> str:
    fingerprint = repr(sorted(query.api_params().items())).encode()
    return "catalogue:" + hashlib.sha256(fingerprint).hexdigest()


def catalogue_search(*, client: api.NumbersApiClient, query: CatalogueQuery) -> CatalogueResults:
    """Numbers on sale. A repeat of the same query within the cache window costs no call."""
    key = _catalogue_cache_key(query)
    cached = cache.get(key)
    if cached is not None:
        return CatalogueResults(page=cached, from_cache=True)
    page = client.search_available(
        country=query.country,
        type=query.type,
        features=query.features,
        pattern=query.pattern,
        search_pattern=query.search_pattern,
        index=query.page,
        size=query.size,
    )
    cache.set(key, page, timeout=settings.CATALOGUE_CACHE_SECONDS)
    catalogue_stock_seen(query=query, count=page.count)
    return CatalogueResults(page=page, from_cache=False)


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


def catalogue_stock_seen(*, query: CatalogueQuery, count: int) -> None:
    """Remember whether a plain search (no features or digits) found numbers, per country and
    type, so country pickers can say where numbers were on sale when last looked at."""
    if query.features or query.pattern or not query.type:
        return
    stock = cache.get(STOCK_CACHE_KEY) or {}
    seen = stock.get(query.country, {})
    if seen.get(query.type) == bool(count):
        return
    stock[query.country] = {**seen, query.type: bool(count)}
    cache.set(STOCK_CACHE_KEY, stock, timeout=STOCK_SECONDS)
