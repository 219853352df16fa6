"""Writes to the owned-number cache, and the cache's view of a number.

The cache changes only here (DESIGN §2.6), and every change tells the selectors that
totals computed before are stale."""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from inventory import api_client as api
from inventory.models import Operation, OwnedNumber
from inventory.selectors import INVENTORY_VERSION_KEY

# The API's names for a number's configuration, and the cache's.
CONFIG_FIELDS = {
    "moHttpUrl": "mo_http_url",
    "moSmppSysType": "mo_smpp_sys_type",
    "voiceCallbackType": "voice_callback_type",
    "voiceCallbackValue": "voice_callback_value",
    "voiceStatusCallback": "voice_status_callback",
}
# The API accepts these in an update but never shows them in the owned list: the cache keeps
# what the portal last sent, and neither read-backs nor syncs can check or overwrite them.
WRITE_ONLY_FIELDS = {"moSmppSysType", "voiceStatusCallback"}
SHOWN_CONFIG_FIELDS = {k: v for k, v in CONFIG_FIELDS.items() if k not in WRITE_ONLY_FIELDS}
# Settings the owned list shows but the portal does not change: someone else's change to
# them (the messages webhook, set in the provider's dashboard) is drift all the same.
LISTED_ONLY_FIELDS = {
    "messagesCallbackType": "messages_callback_type",
    "messagesCallbackValue": "messages_callback_value",
}

# The columns a sync copies from the owned list: every field the API returns has one, so
# drift detection compares them all ("api_fields" keeps the record verbatim besides).
CACHE_COLUMNS = (
    "country",
    "type",
    "has_sms",
    "has_voice",
    "has_mms",
    "app_id",
    "limitations",
    "listed_monthly_cost",
    "api_fields",
    *SHOWN_CONFIG_FIELDS.values(),
    *LISTED_ONLY_FIELDS.values(),
)
LOCAL_FIELDS = ("label", "team", "notes")


def inventory_changed() -> None:
    """Called by every write to the cache: totals computed before are stale. Once now, and
    again after the commit, so totals another request computes in between (from the data
    before the commit) are dropped too."""

    def new_version():
        cache.set(INVENTORY_VERSION_KEY, uuid.uuid4().hex, None)

    new_version()
    transaction.on_commit(new_version)


# --- the cache's view of a number -----------------------------------------------------------


def cache_fields(found: api.OwnedNumber) -> dict:
    """The cache columns for a number as the owned list shows it."""
    features = set(found.features)
    fields = {
        "country": found.country,
        "type": found.type,
        "has_sms": "SMS" in features,
        "has_voice": "VOICE" in features,
        "has_mms": "MMS" in features,
        "app_id": found.app_id,
        "limitations": [limitation.as_api() for limitation in found.limitations],
        # As text: compared and audited exactly as the API sent it (JSON has no decimals).
        "listed_monthly_cost": str(found.cost) if found.cost is not None else "",
        "api_fields": dict(found.raw),
    }
    columns = (*SHOWN_CONFIG_FIELDS.values(), *LISTED_ONLY_FIELDS.values())
    fields.update({column: getattr(found, column) for column in columns})
    return fields


def cache_snapshot(row: OwnedNumber) -> dict:
    """A cached number's API-side columns, as JSON for the audit trail."""
    return {name: getattr(row, name) for name in CACHE_COLUMNS if name != "api_fields"}


def owned_snapshot(number: api.OwnedNumber | None) -> dict | None:
    return dict(number.raw) if number is not None else None


def configuration_of(number: OwnedNumber) -> dict[str, str]:
    """A cached number's configuration, by the API's field names."""
    return {name: getattr(number, column) for name, column in CONFIG_FIELDS.items()}


def change_applied(request: dict, found: api.OwnedNumber) -> bool:
    """Whether the owned list shows what `request` asked for (of what it can show)."""
    return all(
        getattr(found, column) == request[name]
        for name, column in SHOWN_CONFIG_FIELDS.items()
        if name in request
    )


def local_fields_of(number: OwnedNumber) -> dict[str, str]:
    return {name: getattr(number, name) for name in LOCAL_FIELDS}


# --- writes ---------------------------------------------------------------------------------


def cache_purchase(*, offer: api.AvailableNumber, entry: Operation) -> None:
    features = set(offer.features)
    OwnedNumber.objects.update_or_create(
        msisdn=offer.msisdn,
        defaults={
            "country": offer.country,
            "type": offer.type,
            "has_sms": "SMS" in features,
            "has_voice": "VOICE" in features,
            "has_mms": "MMS" in features,
            "limitations": [limitation.as_api() for limitation in offer.limitations],
            "monthly_cost": entry.monthly_cost,
            "setup_cost": entry.setup_cost,
            "purchased_at": entry.completed_at or timezone.now(),
            "purchased_by": entry.actor,
        },
    )
    inventory_changed()


def cache_owned(found: api.OwnedNumber | None, *, sent: dict | None = None) -> None:
    """Store a number as the owned list shows it, plus the write-only settings in `sent`
    (the update the portal just made)."""
    if found is None:
        return
    fields = cache_fields(found)
    for name in WRITE_ONLY_FIELDS & (sent or {}).keys():
        fields[CONFIG_FIELDS[name]] = sent[name]
    OwnedNumber.objects.update_or_create(msisdn=found.msisdn, defaults=fields)
    inventory_changed()


def remove_from_cache(msisdn: str) -> None:
    OwnedNumber.objects.filter(msisdn=msisdn).delete()
    inventory_changed()


def cache_statistics_refresh() -> None:
    """After the cache grew or shrank a lot, let the database re-measure it: SQLite never
    does on its own, and without statistics it may sort a whole country to show one page."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {OwnedNumber._meta.db_table}")
