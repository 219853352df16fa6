"""Writes to the owned-number cache, and the cache's view of a number.

The cache changes only here (DESIGN §2.6). Its totals and text index follow each write in
the same statement: the database keeps them (inventory/cache_triggers.py)."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from inventory import api_client as api
from inventory import cache_triggers, phone
from inventory.models import Operation, OwnedNumber, RetiredNumber, feature_flags
from inventory.services import pricing

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
# What a cancelled number's tombstone keeps: everything only the portal knew about it.
RETIRED_FIELDS = (
    *LOCAL_FIELDS,
    "monthly_cost",
    "setup_cost",
    "purchased_at",
    "purchased_by_id",
)


# --- the cache's view of a number -----------------------------------------------------------


def cache_fields(found: api.OwnedNumber) -> dict:
    """The cache columns for a number as the owned list shows it."""
    fields = {
        "country": found.country,
        "country_name": phone.country_name(found.country),
        "type": found.type,
        **feature_flags(found.features),
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


def cache_purchase(
    *,
    entry: Operation,
    found: api.OwnedNumber | None,
    offer: api.AvailableNumber | None = None,
) -> None:
    """A number the portal bought: as the account shows it (or as it was offered, when the
    account could not be asked), with the price, date and buyer only the portal knows."""
    if found is not None:
        fields = cache_fields(found)
    else:
        fields = {
            "country": entry.country,
            "country_name": phone.country_name(entry.country),
            "type": offer.type if offer else "",
            **feature_flags(offer.features if offer else ()),
            "limitations": [limitation.as_api() for limitation in offer.limitations]
            if offer
            else [],
        }
    fields.update(
        monthly_cost=entry.monthly_cost,
        setup_cost=entry.setup_cost,
        purchased_at=entry.completed_at or timezone.now(),
        purchased_by_id=entry.actor_id,
    )
    team = (entry.after or {}).get("team")
    if team:  # bought for a team (and counted in its budget)
        fields["team"] = team
    OwnedNumber.objects.update_or_create(msisdn=entry.msisdn, defaults=fields)
    RetiredNumber.objects.filter(msisdn=entry.msisdn).delete()  # a new life, not the old one
    pricing.number_reprice(msisdn=entry.msisdn)


def cache_owned(found: api.OwnedNumber | None, *, sent: dict | None = None) -> None:
    """Store a number as the owned list shows it, plus the write-only settings in `sent`
    (the update the portal just made)."""
    if found is None:
        return
    fields = cache_fields(found)
    sent = sent or {}
    for name in WRITE_ONLY_FIELDS & sent.keys():
        fields[CONFIG_FIELDS[name]] = sent[name]
    OwnedNumber.objects.update_or_create(msisdn=found.msisdn, defaults=fields)
    pricing.number_reprice(msisdn=found.msisdn)


def remove_from_cache(msisdn: str, *, entry: Operation | None = None) -> None:
    """The number left the account. What only the portal knew about it is kept as a
    tombstone: if the number turns out to be still there, a sync restores it."""
    row = OwnedNumber.objects.filter(msisdn=msisdn).first()
    if row is None:
        return
    RetiredNumber.objects.update_or_create(
        msisdn=msisdn,
        defaults={
            **{name: getattr(row, name) for name in RETIRED_FIELDS},
            "retired_at": timezone.now(),
            "retired_by": entry,
        },
    )
    row.delete()


def cache_totals_fold() -> None:
    """Sum each totals group's rows into one (PostgreSQL appends a row per change; SQLite
    keeps one per group already). Background work: the sync calls it when it is done."""
    cache_triggers.fold(connection)


def cache_statistics_refresh() -> None:
    """After the cache grew or shrank a lot, let the database re-measure it: SQLite never
    does on its own, and without statistics it may sort a whole country to show one page."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {OwnedNumber._meta.db_table}")
