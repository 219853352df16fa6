"""What the portal remembers for each person, in their session: the countries they searched
lately (offered first in country pickers) and their last catalogue search (so "Back to the
catalogue" returns to it)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

RECENT_COUNTRIES = "recent_countries"
LAST_SEARCH = "catalogue_search"
KEEP = 5


def catalogue_searched(session, *, query: dict[str, object]) -> None:
    """After a search: its country goes to the front of the recent ones; the query is kept."""
    country = str(query.get("country") or "")
    if country:
        recent = [country, *(c for c in session.get(RECENT_COUNTRIES, []) if c != country)]
        if recent != session.get(RECENT_COUNTRIES):
            session[RECENT_COUNTRIES] = recent[:KEEP]
    kept = {name: value for name, value in query.items() if value not in (None, "", [], ())}
    if session.get(LAST_SEARCH) != kept:
        session[LAST_SEARCH] = kept


def recent_countries(session) -> list[str]:
    return list(session.get(RECENT_COUNTRIES, [])) if session is not None else []


def catalogue_url(session, *, country: str = "") -> str:
    """The catalogue with the last search in it, or with `country` when there was none."""
    query = dict(session.get(LAST_SEARCH, {})) if session is not None else {}
    if country and query.get("country") != country:
        query = {"country": country}
    return reverse("catalogue") + (f"?{urlencode(query, doseq=True)}" if query else "")
