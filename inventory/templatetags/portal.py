"""Template filters for numbers, countries and money."""

import html
import json
from datetime import UTC
from functools import cache, lru_cache
from urllib.parse import urlencode

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from inventory import phone, remembered, selectors, wording
from inventory.models import Feature, NumberType, VoiceCallbackType
from inventory.wording import in_minutes

register = template.Library()


@register.filter
def intl(msisdn: str) -> str:
    return phone.international(msisdn)


@register.filter
def national(msisdn: str) -> str:
    return phone.national(msisdn)


@register.filter
def tel(msisdn: str) -> str:
    """+44 7700 900123 in running text, never broken across lines."""
    return format_html('<span class="msisdn">{}</span>', phone.international(msisdn))


@register.filter
def tel_national(msisdn: str) -> str:
    return format_html('<span class="msisdn">{}</span>', phone.national(msisdn))


@register.filter
def flag(country_code: str) -> str:
    """Decoration only: hidden from screen readers (the name stands beside it) and from
    screens without a font that draws it."""
    emoji = phone.flag(country_code)
    return format_html('<span class="flag" aria-hidden="true">{}</span>', emoji) if emoji else ""


@register.filter
def country_name(country_code: str) -> str:
    return phone.country_name(country_code)


@register.filter
def number_type(value: str) -> str:
    try:
        return NumberType(value).label
    except ValueError:
        return value


@cache
def _feature_labels() -> dict[str, str]:
    return dict(Feature.choices)  # built once: the enum's choices are a new list each time


@register.filter
def feature_names(features) -> str:
    labels = _feature_labels()
    return ", ".join(labels.get(f, f) for f in features) or "–"


_DIRECTIONS = {"INBOUND": "inbound only", "OUTBOUND": "outbound only"}
_REACHES = {"DOMESTIC": "domestic", "INTERNATIONAL": "international"}


@register.filter
def limitations_in_words(limitations) -> list[str]:
    """The API's limitations (the client's results, or the cache's JSON) in words:
    "SMS: outbound only (international)"."""
    labels = _feature_labels()
    words = []
    for item in limitations or ():
        shape = item if isinstance(item, dict) else item.as_api()
        feature, direction = str(shape.get("feature", "")), str(shape.get("type", ""))
        reach = str(shape.get("reach", ""))
        said = _DIRECTIONS.get(direction, direction.lower() or "limited")
        if reach:
            said += f" ({_REACHES.get(reach, reach.lower())})"
        words.append(f"{labels.get(feature, feature.title())}: {said}")
    return words


@register.filter
def eur(amount) -> str:
    """€1.25 — money as the API gives it, in EUR; a dash when unknown."""
    return wording.money(amount)


# How the inventory's price column names a price's source, in a word or two.
_SOURCE_SHORT = {
    "bought": "bought",
    "listed": "listed",
    "contract": "contract (est.)",
    "catalogue": "catalogue (est.)",
    "": "",
}


@register.filter
def price_source_short(number) -> str:
    """ "bought", "listed", "contract (est.)" or "catalogue (est.)" for a cached number."""
    return _SOURCE_SHORT.get(number.price_source, "")


@register.filter
def ago(moment) -> str:
    """ "just now" or "5 minutes ago"."""
    return wording.ago(moment)


@register.filter
def reason_words(reason: str) -> str:
    return wording.reason_in_words(reason)


@register.filter
def changes_in_words(entry) -> list:
    return wording.changes_in_words(entry.before, entry.after)


@register.filter
def field_label(name: str) -> str:
    return wording.field_label(name)


@register.filter
def value_words(value, name: str = "") -> str:
    return wording.value_in_words(name, value)


@register.simple_tag(takes_context=True)
def page_url(context, page: int) -> str:
    """The current URL's query with another page number."""
    query = context["request"].GET.copy()
    query["page"] = page
    return "?" + query.urlencode()


@register.filter
def as_query(params: dict) -> str:
    return urlencode(params)


@register.simple_tag(takes_context=True)
def sort_url(context, key: str) -> str:
    """The current URL sorted by `key`, or by `-key` when it is sorted by `key` already."""
    query = context["request"].GET.copy()
    query["sort"] = f"-{key}" if query.get("sort", "msisdn") == key else key
    query.pop("page", None)
    return "?" + query.urlencode()


@register.simple_tag(takes_context=True)
def sort_mark(context, key: str) -> str:
    current = context["request"].GET.get("sort", "msisdn")
    return {key: " ↑", f"-{key}": " ↓"}.get(current, "")


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key, "") if isinstance(mapping, dict) else ""


@register.filter
def minutes(duration) -> str:
    return in_minutes(duration)


@register.simple_tag(takes_context=True)
def country_options(context, selected, *, blank: str = "") -> str:
    """The <option>s of a country <select>: the person's recent countries first, then every
    country by name, marked where the last searches found numbers on sale or none.

    A native <select> on purpose: it answers typing ("Neth" chooses the Netherlands, as the
    names come first), works with every keyboard and screen reader and without script. Built
    in Python and remembered: ~250 options through the widget templates would cost more than
    the rest of the page."""
    request = context.get("request")
    recent = remembered.recent_countries(getattr(request, "session", None))
    # A page that read the marks already (the catalogue, with its search) passes them on.
    stock = context.get("countries_on_sale")
    if stock is None:
        stock = selectors.countries_on_sale()
    return _country_options(
        selected if isinstance(selected, str) else "",
        blank,
        tuple(c for c in recent if c in phone.country_codes()),
        tuple(sorted(stock.items())),
    )


_STOCK_MARK = {True: " — numbers on sale", False: " — none on sale when last searched"}


@lru_cache(maxsize=256)
def _country_options(selected: str, blank: str, recent: tuple, stock: tuple) -> str:
    marks = {code: _STOCK_MARK[on_sale] for code, on_sale in stock}
    labels = dict(phone.country_choices())

    def options(codes, chosen):
        return format_html_join(
            "\n",
            '<option value="{}"{}>{}{}</option>',
            (
                (
                    code,
                    mark_safe(" selected") if code == chosen else "",
                    labels[code],
                    marks.get(code, ""),
                )
                for code in codes
            ),
        )

    blank_option = format_html('<option value="">{}</option>\n', blank) if blank else ""
    if not recent:
        return blank_option + options(labels, selected)
    # The selected country is marked once: in the recent group when it is there.
    return format_html(
        '{}<optgroup label="Searched lately">{}</optgroup>\n'
        '<optgroup label="All countries">{}</optgroup>',
        blank_option,
        options(recent, selected),
        options(labels, "" if selected in recent else selected),
    )


def _chosen(field) -> set[str]:
    value = field.value()
    values = value if isinstance(value, list | tuple) else [value]
    return {str(v) for v in values if v not in (None, "")}


@register.simple_tag
def choice_inputs(field, kind: str) -> str:
    """A field's choices as checkboxes or radio buttons, each in its label. Built in Python:
    Django's widget templates cost more than the rest of a search page."""
    chosen = _chosen(field)
    return format_html_join(
        "\n",
        '<label for="{0}"><input type="{1}" name="{2}" value="{3}" id="{0}"{4}> {5}</label>',
        (
            (
                f"{field.auto_id}_{i}",
                kind,
                field.html_name,
                value,
                mark_safe(" checked") if str(value) in chosen else "",
                label,
            )
            for i, (value, label) in enumerate(field.field.choices)
        ),
    )


@register.simple_tag
def select_options(field) -> str:
    """A choice field's <option>s, the current value selected (see choice_inputs)."""
    chosen = _chosen(field)
    return format_html_join(
        "\n",
        '<option value="{}"{}>{}</option>',
        (
            (value, mark_safe(" selected") if str(value) in chosen else "", label)
            for value, label in field.field.choices
        ),
    )


@register.filter
def routing_summary(config) -> str:
    """A number's routing in words: where messages and calls go ("nothing" when neither)."""
    if not isinstance(config, dict):
        return "–"
    parts = []
    if config.get("moHttpUrl"):
        parts.append(f"messages to {config['moHttpUrl']}")
    kind = config.get("voiceCallbackType")
    if kind:
        label = dict(VoiceCallbackType.choices).get(kind, kind)
        parts.append(f"calls to {label} {_voice_value(kind, config.get('voiceCallbackValue', ''))}")
    return "; ".join(parts) or "nothing set"


@register.filter
def routing_after(changes, before) -> str:
    """The routing a number will have once `changes` are applied to `before`."""
    if not isinstance(changes, dict) or not isinstance(before, dict):
        return "–"
    return routing_summary({**before, **changes})


def _voice_value(kind: str, value: str) -> str:
    return phone.international(value) if kind == VoiceCallbackType.TEL and value else value


@register.simple_tag
def routing_badges(number) -> str:
    """Where a number's messages and calls go, by destination name where one matches (the
    inventory's rows carry the names: selectors.owned_number_list)."""
    badges = []
    if number.mo_http_url:
        name = getattr(number, "sms_destination", None)
        badges.append(("badge badge-ok", f"SMS → {name}" if name else "SMS webhook"))
    if number.voice_callback_type:
        label = dict(VoiceCallbackType.choices).get(number.voice_callback_type, "")
        name = getattr(number, "voice_destination", None)
        badges.append(("badge badge-ok", f"Calls → {name or label}"))
    if not badges:
        return mark_safe('<span class="muted">–</span>')
    return format_html_join(" ", '<span class="{}">{}</span>', badges)


@register.filter
def offer_pick(offer) -> str:
    """A search result's checkbox value: the offer as shown, signed (see bulk_forms)."""
    from inventory.bulk_forms import offer_pick as signed_pick

    return signed_pick(offer)


# A catalogue result's row. Built in Python, as the country options are: twenty rows of a
# dozen filtered values through the template engine cost more than the rest of the page.
# Every value is escaped with the standard library's html.escape (what Django's escape
# does, without its lazy-string checks, which cost more than the escaping here).
_OFFER_ROW = (
    "<tr>{pick}"
    '<td class="card-title" data-label="Number"><div><strong class="msisdn">{national}</strong>'
    '<br><small class="muted msisdn">{intl}</small></div></td>'
    '<td data-label="Type">{type}</td>'
    '<td data-label="Features">{features}</td>'
    '<td data-label="Limitations" data-testid="limitations-{msisdn}">{limitations}</td>'
    '<td class="numeric" data-label="Monthly" data-testid="monthly-{msisdn}">{monthly}</td>'
    '<td class="numeric" data-label="Setup">{setup}</td>'
    "{buy}</tr>"
)
_OFFER_PICK = (
    '<td data-label="Pick"><input type="checkbox" name="picks" value="{pick}"'
    ' aria-label="Pick {intl}" data-testid="pick-{msisdn}"></td>'
)
_OFFER_BUY = (
    '<td class="card-actions"><a href="{url}" role="button" class="small"'
    ' data-testid="buy-{msisdn}" aria-label="Buy {intl}">Buy…</a></td>'
)
_NO_LIMITATIONS = '<span class="muted">none</span>'


@register.simple_tag
def offer_row(offer, *, can_buy: bool = False, buy_url: str = "") -> str:
    """One search result as a table row; for people who may buy, with its checkbox for the
    selection and its Buy… link (to `buy_url`, the confirmation page)."""
    escape = html.escape
    msisdn, intl = escape(offer.msisdn), escape(phone.international(offer.msisdn))
    words = limitations_in_words(offer.limitations)
    pick = buy = ""
    if can_buy:
        pick = _OFFER_PICK.format(pick=escape(offer_pick(offer)), intl=intl, msisdn=msisdn)
        asked = urlencode({"country": offer.country, "type": offer.type, "msisdn": offer.msisdn})
        url = escape(f"{buy_url}?{asked}")
        buy = _OFFER_BUY.format(url=url, msisdn=msisdn, intl=intl)
    row = _OFFER_ROW.format(
        pick=pick,
        national=escape(phone.national(offer.msisdn)),
        intl=intl,
        type=escape(number_type(offer.type)),
        features=escape(feature_names(offer.features)),
        msisdn=msisdn,
        limitations="<br>".join(escape(w) for w in words) or _NO_LIMITATIONS,
        monthly=escape(eur(offer.cost)),
        setup=escape(eur(offer.initial_price)),
        buy=buy,
    )
    return mark_safe(row)  # noqa: S308 - every value in it is escaped above


@register.simple_tag
def audit_url(filters, **cursor) -> str:
    """The audit list with these filters and another cursor (before=…, after=…, or none)."""
    return "?" + urlencode(filters.query(**cursor))


@register.simple_tag
def audit_export_url(filters) -> str:
    query = filters.query()
    return "?" + urlencode(query) if query else ""


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@register.filter
def utc_iso(moment) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else ""


@register.simple_tag(takes_context=True)
def catalogue_back_url(context, country: str = "") -> str:
    """The catalogue with the person's last search in it (the same country's, if any)."""
    request = context.get("request")
    return remembered.catalogue_url(getattr(request, "session", None), country=country)
