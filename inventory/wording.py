"""Small pieces of wording shared by pages and audit entries: durations, and the trail's
fields and values as people read them (never an API field name or a Python list)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.timesince import timesince


def in_minutes(duration) -> str:
    """A timedelta in whole minutes, for people: "15 minutes", "1 minute"; "" when unknown."""
    if not duration:
        return ""
    count = max(1, round(duration.total_seconds() / 60))
    return f"{count} minute{'' if count == 1 else 's'}"


def ago(moment: datetime | None) -> str:
    """ "just now", "3 minutes ago", "2 days, 4 hours ago"; "" when unknown."""
    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"


# The names a trail entry or an API record uses, as people say them: the API's own names
# (moHttpUrl) and the cache's columns (mo_http_url) alike.
FIELD_LABELS = {
    "moHttpUrl": "inbound SMS webhook",
    "mo_http_url": "inbound SMS webhook",
    "moSmppSysType": "SMPP system type",
    "mo_smpp_sys_type": "SMPP system type",
    "voiceCallbackType": "voice routing type",
    "voice_callback_type": "voice routing type",
    "voiceCallbackValue": "calls go to",
    "voice_callback_value": "calls go to",
    "voiceStatusCallback": "call status webhook",
    "voice_status_callback": "call status webhook",
    "app_id": "application",
    "appId": "application",
    "messagesCallbackType": "messages routing type",
    "messagesCallbackValue": "messages go to",
    "country": "country",
    "msisdn": "number",
    "type": "number type",
    "features": "features",
    "has_sms": "SMS",
    "has_voice": "voice",
    "has_mms": "MMS",
    "label": "label",
    "team": "owner / team",
    "notes": "notes",
    "numbers": "numbers in the account",
    "list_calls": "list calls made",
    "appeared": "appeared",
    "disappeared": "disappeared",
    "changed": "changed",
    "settled": "unknown outcomes settled",
    "method": "method",
    "path": "page",
    "permission": "permission needed",
    "username": "username tried",
    "protected": "protected because",
    "purchase_above": "approval needed above (set-up and first month, €)",
    "over_budget": "approval needed over budget",
    "bulk_above": "approval needed for bulk purchases of more than (numbers)",
    "purchase_request": "purchase request",
    "rule": "rule",
    "expires_at": "expires",
    "webhook": "webhook",
    "url": "address",
    "events": "events",
    "active": "active",
}
VALUE_WORDS = {
    "voiceCallbackType": {"sip": "a SIP URI", "tel": "a phone number", "app": "an application"},
    "type": {"landline": "Landline", "landline-toll-free": "Toll-free", "mobile-lvn": "Mobile"},
    "features": {"SMS": "SMS", "VOICE": "Voice", "MMS": "MMS"},
}
VALUE_WORDS["voice_callback_type"] = VALUE_WORDS["voiceCallbackType"]


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " "))


def value_in_words(name: str, value) -> str:
    """One recorded value for people: "not set" for nothing, "yes"/"no", lists joined."""
    words = VALUE_WORDS.get(name, {})
    if value is None or value == "" or value == [] or value == {}:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(words.get(str(item), str(item)) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {value_in_words(k, v)}" for k, v in value.items())
    return words.get(str(value), str(value))


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str
    changed: bool


def changes_in_words(before: dict | None, after: dict | None) -> list[Change]:
    """Each field an entry recorded, before → after, in words; the fields in recorded order."""
    before, after = before or {}, after or {}
    names = list(dict.fromkeys([*before, *after]))
    return [
        Change(
            label=field_label(name),
            before=value_in_words(name, before.get(name)) if name in before else "",
            after=value_in_words(name, after.get(name)) if name in after else "",
            changed=before.get(name) != after.get(name),
        )
        for name in names
    ]


# "...its answer was lost (ReadTimeout); ..." -> the class name is for the technical details.
_EXCEPTION_NAME = re.compile(r"\s*\([A-Z][A-Za-z]*(?:Error|Timeout|Exception)\)")


def reason_in_words(reason: str) -> str:
    return _EXCEPTION_NAME.sub("", reason or "")


def money(amount) -> str:
    """€1.25; a dash when unknown."""
    if amount is None or amount == "":
        return "–"
    try:
        return f"€{Decimal(amount):,.2f}"
    except InvalidOperation:
        return str(amount)


# The kinds of API call, as people say them (the system status page's quota figures).
CALL_NAMES = {
    "GET /number/search": "Catalogue searches",
    "GET /account/numbers": "Listing the account's numbers",
    "POST /number/buy": "Buying numbers",
    "POST /number/cancel": "Cancelling numbers",
    "POST /number/update": "Changing numbers",
    "POST token endpoint": "Access tokens",
}
_WINDOW_UNITS = {"second", "minute", "hour", "day", "week"}


@dataclass(frozen=True)
class QuotaWords:
    call: str  # the API's name of the call, for the technically minded
    name: str
    left: str
    resets: str
    seen: str


def quota_in_words(call: str, quota) -> QuotaWords:
    """ "2 of 3 calls left this second", "the window resets at 10:02:03 (in 4 seconds)"."""
    unit = (quota.time_unit or "").strip().lower().rstrip("s")
    if quota.interval and quota.interval != 1 and unit in _WINDOW_UNITS:
        window = f"in this window of {quota.interval} {unit}s"
    elif unit in _WINDOW_UNITS:
        window = f"this {unit}"
    else:
        window = "in this window"
    if quota.remaining is not None:
        calls = "call" if quota.limit == 1 else "calls"
        left = f"{quota.remaining:,} of {quota.limit:,} {calls} left {window}"
    elif quota.limit is not None:
        left = f"at most {quota.limit:,} calls {window}; how many are used is not said"
    else:
        left = "the API did not say how many calls are left"
    resets = ""
    if quota.reset_at is not None:
        seconds = (quota.reset_at - timezone.now()).total_seconds()
        when = timezone.localtime(quota.reset_at).strftime("%H:%M:%S")
        if seconds > 0:
            resets = f"The window resets at {when} (in {_seconds(seconds)})."
        else:
            resets = f"The window reset at {when}: all calls are available again."
    return QuotaWords(call, CALL_NAMES.get(call, call), left, resets, ago(quota.seen_at))


def _seconds(seconds: float) -> str:
    whole = max(1, round(seconds))
    if whole < 120:
        return f"{whole} second{'' if whole == 1 else 's'}"
    return f"{round(whole / 60)} minutes"
