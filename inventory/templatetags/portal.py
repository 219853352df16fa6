"""Template filters for numbers, countries and money."""

from decimal import Decimal
from urllib.parse import urlencode

from django import template

from inventory import phone
from inventory.models import Feature, NumberType

register = template.Library()


@register.filter
def intl(msisdn: str) -> str:
    return phone.international(msisdn)


@register.filter
def national(msisdn: str) -> str:
    return phone.national(msisdn)


@register.filter
def flag(country_code: str) -> str:
    return phone.flag(country_code)


@register.filter
def country_name(country_code: str) -> str:
    return phone.country_name(country_code)


@register.filter
def number_type(value: str) -> str:
    try:
        return NumberType(value).label
    except ValueError:
        return value


@register.filter
def feature_names(features) -> str:
    labels = dict(Feature.choices)
    return ", ".join(labels.get(f, f) for f in features) or "–"


@register.filter
def eur(amount) -> str:
    """€1.25 — money as the API gives it, in EUR; a dash when unknown."""
    if amount is None or amount == "":
        return "–"
    return f"€{Decimal(amount):,.2f}"


@register.simple_tag(takes_context=True)
def page_url(context, page: int) -> str:
    """The current URL's query with another page number."""
    query = context["request"].GET.copy()
    query["page"] = page
    return "?" + query.urlencode()


@register.filter
def as_query(params: dict) -> str:
    return urlencode(params)
