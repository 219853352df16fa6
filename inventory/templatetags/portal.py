"""Template filters for numbers, countries and money."""

from decimal import Decimal
from functools import lru_cache
from urllib.parse import urlencode

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from inventory import phone
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


_DIRECTIONS = {"INBOUND": "inbound only", "OUTBOUND": "outbound only"}
_REACHES = {"DOMESTIC": "domestic", "INTERNATIONAL": "international"}


@register.filter
def limitations_in_words(limitations) -> list[str]:
    """The API's limitations (the client's results, or the cache's JSON) in words:
    "SMS: outbound only (international)"."""
    labels = dict(Feature.choices)
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


SETTING_LABELS = {
    "moHttpUrl": "Inbound SMS webhook",
    "moSmppSysType": "SMPP system type",
    "voiceCallbackType": "Calls go to (kind)",
    "voiceCallbackValue": "Calls go to",
    "voiceStatusCallback": "Call status webhook",
}


@register.filter
def setting_label(name: str) -> str:
    return SETTING_LABELS.get(name, name)


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key, "") if isinstance(mapping, dict) else ""


@register.filter
def minutes(duration) -> str:
    return in_minutes(duration)


@register.simple_tag
def country_options(selected, *, blank: str = "") -> str:
    """The <option>s of a country <select>. Built in Python and remembered: ~250 options
    through the widget templates would cost more than the rest of the page."""
    return _country_options(selected if isinstance(selected, str) else "", blank)


@lru_cache(maxsize=1024)
def _country_options(selected: str, blank: str) -> str:
    options = [("", blank)] if blank else []
    options += phone.country_choices()
    return format_html_join(
        "\n",
        '<option value="{}"{}>{}</option>',
        (
            (code, mark_safe(" selected") if code == selected else "", label)
            for code, label in options
        ),
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
            (f"{field.auto_id}_{i}", kind, field.html_name, value,
             mark_safe(" checked") if str(value) in chosen else "", label)
            for i, (value, label) in enumerate(field.field.choices)
        ),
    )  # fmt: skip


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
def routing_badges(number, names: dict) -> str:
    """Where a number's messages and calls go, by destination name where one matches."""
    badges = []
    if number.mo_http_url:
        name = names.get(("webhook", number.mo_http_url), "SMS webhook")
        badges.append(("badge badge-ok", f"SMS → {name}" if name != "SMS webhook" else name))
    if number.voice_callback_type:
        key = (number.voice_callback_type, number.voice_callback_value)
        label = dict(VoiceCallbackType.choices).get(number.voice_callback_type, "")
        badges.append(("badge badge-ok", f"Calls → {names.get(key, label)}"))
    if not badges:
        return mark_safe('<span class="muted">–</span>')
    return format_html_join(" ", '<span class="{}">{}</span>', badges)


@register.filter
def offer_pick(offer) -> str:
    """A search result's checkbox value: the offer as shown, signed (see bulk_forms)."""
    from inventory.bulk_forms import offer_pick as signed_pick

    return signed_pick(offer)
