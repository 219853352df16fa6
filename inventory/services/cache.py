"""Writes to the owned-number cache, and the cache's view of a number.

The cache changes only here (DESIGN §2.6), and every change tells the selectors that
totals computed before are stale."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from inventory import api_client as api
from inventory.models import Operation, OwnedNumber
from inventory.selectors import (
    inventory_changed,
)

# --- snapshots and cache writes -------------------------------------------------------------


def _owned_snapshot(number: api.OwnedNumber | None) -> dict | None:
    return dict(number.raw) if number is not None else None


def _cache_purchase(*, offer: api.AvailableNumber, entry: Operation) -> None:
    features = set(offer.features)
    OwnedNumber.objects.update_or_create(
        msisdn=offer.msisdn,
        defaults={
            "country": offer.country,
            "type": offer.type,
            "has_sms": "SMS" in features,
            "has_voice": "VOICE" in features,
            "has_mms": "MMS" in features,
            "monthly_cost": entry.monthly_cost,
            "setup_cost": entry.setup_cost,
            "purchased_at": entry.completed_at or timezone.now(),
            "purchased_by": entry.actor,
        },
    )
    inventory_changed()


def _remove_from_cache(msisdn: str) -> None:
    OwnedNumber.objects.filter(msisdn=msisdn).delete()
    inventory_changed()


# --- the cache's view of a number -----------------------------------------------------------

# The API's names for a number's configuration, and the cache's.
CONFIG_FIELDS = {
    "moHttpUrl": "mo_http_url",
    "moSmppSysType": "mo_smpp_sys_type",
    "voiceCallbackType": "voice_callback_type",
    "voiceCallbackValue": "voice_callback_value",
    "voiceStatusCallback": "voice_status_callback",
}


def _cache_fields(found: api.OwnedNumber) -> dict:
    features = set(found.features)
    fields = {
        "country": found.country,
        "type": found.type,
        "has_sms": "SMS" in features,
        "has_voice": "VOICE" in features,
        "has_mms": "MMS" in features,
        "app_id": found.app_id,
        "api_fields": dict(found.raw),
    }
    fields.update({column: getattr(found, column) for column in CONFIG_FIELDS.values()})
    return fields


def _cache_owned(found: api.OwnedNumber | None) -> None:
    if found is not None:
        OwnedNumber.objects.update_or_create(msisdn=found.msisdn, defaults=_cache_fields(found))
        inventory_changed()


def _applied(request: dict, found: api.OwnedNumber) -> bool:
    return all(
        getattr(found, column) == request[name]
        for name, column in CONFIG_FIELDS.items()
        if name in request
    )


def configuration_of(number: OwnedNumber) -> dict[str, str]:
    """A cached number's configuration, by the API's field names."""
    return {name: getattr(number, column) for name, column in CONFIG_FIELDS.items()}


_CACHE_COLUMNS = (
    "country",
    "type",
    "has_sms",
    "has_voice",
    "has_mms",
    "app_id",
    "api_fields",
    *CONFIG_FIELDS.values(),
)


def _snapshot(row: OwnedNumber) -> dict:
    return {name: getattr(row, name) for name in _CACHE_COLUMNS if name != "api_fields"}


# --- local notes ----------------------------------------------------------------------------

LOCAL_FIELDS = ("label", "team", "notes")


def local_fields_of(number: OwnedNumber) -> dict[str, str]:
    return {name: getattr(number, name) for name in LOCAL_FIELDS}


def cache_statistics_refresh() -> None:
    """After the cache grew or shrank a lot, let the database re-measure it: SQLite never
    does on its own, and without statistics it may sort a whole country to show one page."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {OwnedNumber._meta.db_table}")
