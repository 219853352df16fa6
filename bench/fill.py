"""Filling the portal's database as a large account looks after years of use: up to millions
of owned numbers (spread over countries, types, features, routing, teams, labels, prices)
and an audit trail of millions of entries, hash-chained like any other.

Numbers are written the way the sync writes them (the sync's own field mapping, raw API
record included) in chunks of plain INSERTs, so the database's triggers keep the totals and
the text index as they do for every write. Everything is the same for a given size: the
generator is seeded, and growing from 100,000 to 1,000,000 adds the same 900,000 rows a
fill of 1,000,000 starts with after its first 100,000.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

# (country, calling code, share of the account)
COUNTRIES = [
    ("GB", "44", 22),
    ("NL", "31", 14),
    ("US", "1", 14),
    ("DE", "49", 10),
    ("FR", "33", 7),
    ("ES", "34", 5),
    ("IT", "39", 5),
    ("BE", "32", 4),
    ("SE", "46", 3),
    ("CA", "1", 3),
    ("AU", "61", 3),
    ("IE", "353", 2),
    ("AT", "43", 2),
    ("CH", "41", 2),
    ("DK", "45", 1),
    ("NO", "47", 1),
    ("PL", "48", 1),
    ("PT", "351", 1),
]
TYPES = [("mobile-lvn", "7", 55), ("landline", "2", 35), ("landline-toll-free", "8", 10)]
TEAMS = [
    f"{area} {where}"
    for area in ("Sales", "Support", "Billing", "Logistics", "Marketing")
    for where in ("NL", "DE", "UK", "US", "FR", "Nordics", "South", "HQ")
]
COSTS = [Decimal(value) for value in ("0.9900", "1.2500", "2.5000", "4.0000", "12.0000")]
# Text the bench searches for: common (a team word), rare (one label), absent.
SEARCH_COMMON, SEARCH_RARE, SEARCH_ABSENT = "Support", "Front desk 4242", "zebracorn"


def _weighted(pairs):
    return [item for item in pairs for _ in range(item[-1])]


_COUNTRY_DRAW = _weighted(COUNTRIES)
_TYPE_DRAW = _weighted(TYPES)


def number_record(position: int) -> tuple[dict, dict]:
    """The API's record of the account's `position`-th number, and what only the portal
    knows about it (price, purchase, label, team, notes)."""
    rnd = random.Random(position)  # noqa: S311 - sample data, not secrets
    country, calling, _ = rnd.choice(_COUNTRY_DRAW)
    kind, digit, _ = rnd.choice(_TYPE_DRAW)
    msisdn = f"{calling}{digit}{position:09d}"
    features = ["VOICE"]
    if kind == "mobile-lvn":
        features = ["SMS", "VOICE"] + (["MMS"] if country in ("US", "CA") else [])
    elif kind == "landline" and rnd.random() < 0.3:
        features = ["SMS", "VOICE"]
    record = {"country": country, "msisdn": msisdn, "type": kind, "features": features}
    if rnd.random() < 0.15:
        record["moHttpUrl"] = f"https://hooks.example.com/sms/{position % 97}"
    if rnd.random() < 0.10:
        record["voiceCallbackType"] = "sip"
        record["voiceCallbackValue"] = f"sip:desk{position % 89}@pbx.example.com"
    local: dict[str, Any] = {
        "label": f"Front desk {position}" if rnd.random() < 0.15 else "",
        "team": rnd.choice(TEAMS) if rnd.random() < 0.7 else "",
        "notes": "Keep: printed on the brochures." if rnd.random() < 0.02 else "",
        "monthly_cost": None,
        "setup_cost": None,
        "purchased_at": None,
    }
    if position % 3 == 0:
        local["monthly_cost"] = rnd.choice(COSTS)
        local["setup_cost"] = Decimal("0.5000")
        local["days_ago"] = rnd.randrange(3 * 365)
    return record, local


def _cache_rows(start: int, stop: int, now) -> Iterator[tuple]:
    from inventory import api_client as api
    from inventory.services.cache import cache_fields

    for position in range(start, stop):
        record, local = number_record(position)
        fields = {"msisdn": record["msisdn"], **cache_fields(api.parse_owned(record))}
        days = local.pop("days_ago", None)
        bought = now - timedelta(days=days) if days is not None else None
        yield fields, {**local, "purchased_at": bought}


COLUMNS = (
    "msisdn",
    "country",
    "country_name",
    "type",
    "has_sms",
    "has_voice",
    "has_mms",
    "mo_http_url",
    "voice_callback_type",
    "voice_callback_value",
    "messages_callback_type",
    "messages_callback_value",
    "app_id",
    "limitations",
    "listed_monthly_cost",
    "api_fields",
    "mo_smpp_sys_type",
    "voice_status_callback",
    "monthly_cost",
    "setup_cost",
    "purchased_at",
    "effective_monthly_cost",
    "price_source",
    "renewal_day",
    "protected_reason",
    "label",
    "team",
    "notes",
    "first_seen_at",
    "updated_at",
)


def _unlisted_columns(local: dict) -> dict:
    """What the portal writes besides the listing: a bought number is priced at what it
    was bought for and renews on the day of the month it was bought (no rate card here)."""
    bought = local["purchased_at"]
    return {
        "mo_smpp_sys_type": "",
        "voice_status_callback": "",
        "protected_reason": "",
        "effective_monthly_cost": local["monthly_cost"],
        "price_source": "bought" if local["monthly_cost"] is not None else "",
        "renewal_day": bought.day if bought is not None else None,
    }


def fill_numbers(target: int, *, chunk: int = 20_000) -> int:
    """Grow the cache to `target` numbers (positions 0 … target − 1). Returns how many were
    added."""
    import json

    from django.db import connection, transaction
    from django.utils import timezone

    from inventory.models import OwnedNumber

    have = OwnedNumber.objects.count()
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    table = OwnedNumber._meta.db_table
    sql = (
        f"INSERT INTO {table} ({', '.join(COLUMNS)}) "  # noqa: S608 - our own names
        f"VALUES ({', '.join(['%s'] * len(COLUMNS))})"
    )
    for start in range(have, target, chunk):
        rows = []
        for fields, local in _cache_rows(start, min(start + chunk, target), now):
            values = {**fields, **local, **_unlisted_columns(local)}
            values["api_fields"] = json.dumps(values["api_fields"])
            values["limitations"] = json.dumps(values["limitations"])
            bought = values["purchased_at"]
            values["purchased_at"] = connection.ops.adapt_datetimefield_value(bought)
            for money in ("monthly_cost", "setup_cost", "effective_monthly_cost"):
                if values[money] is not None:
                    values[money] = connection.ops.adapt_decimalfield_value(values[money], 10, 4)
            values["first_seen_at"] = values["updated_at"] = stamp
            rows.append(tuple(values[name] for name in COLUMNS))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
    return max(0, target - have)


def fill_trail(target: int, *, chunk: int = 5_000) -> int:
    """Grow the audit trail to `target` entries, through the trail's own append (hash
    chain and all): a year of a busy portal — logins, refusals, syncs and their drift, buys,
    configuration changes, cancellations, notes, a few unknown outcomes each settled."""
    from inventory.audit import Actor, audit_append_many
    from inventory.models import Operation

    have = Operation.objects.count()
    users = [f"user{n:02d}" for n in range(40)]
    position = have
    while position < target:
        rnd = random.Random(position)  # noqa: S311 - sample data, not secrets
        first = (Operation.objects.order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
        for _ in range(0, min(chunk, target - position), 100):  # users take turns
            rows = []
            for _ in range(min(100, target - position)):
                record, local = number_record(rnd.randrange(1_000_000))
                rows.append(_trail_entry(rnd, record, local))
                position += 1
            audit_append_many(rows, actor=Actor.system(rnd.choice(users)))
        # Each unknown outcome is settled by a later entry, but for one in a hundred, which
        # the home page lists as needing attention.
        unknown = Operation.objects.filter(seq__gte=first, outcome="unknown").order_by("seq")
        settlements = [
            {
                "action": "settle",
                "country": entry.country,
                "msisdn": entry.msisdn,
                "settles_id": entry.pk,
                "outcome": "succeeded",
                "reason": "Seen by the sync.",
            }
            for entry in unknown
            if entry.seq % 100
        ]
        audit_append_many(settlements[: target - position], actor=Actor.system("sync_numbers"))
        position += min(len(settlements), target - position)
    return max(0, target - have)


_ACTIONS = [
    ("login", 30),
    ("configure", 20),
    ("purchase", 12),
    ("drift_changed", 10),
    ("sync", 8),
    ("annotate", 6),
    ("cancel", 5),
    ("denied", 4),
    ("login_failed", 3),
    ("drift_appeared", 2),
]
_ACTION_DRAW = _weighted(_ACTIONS)


def _trail_entry(rnd: random.Random, record: dict, local: dict) -> dict:
    action = rnd.choice(_ACTION_DRAW)[0]
    entry = {"action": action, "outcome": "succeeded", "reason": ""}
    if action in ("login", "login_failed", "sync", "denied"):
        entry["outcome"] = {"login_failed": "failed", "denied": "denied"}.get(action, "succeeded")
        if action == "denied":
            entry["request"] = {"method": "POST", "path": "/catalogue/buy/confirm/"}
        return entry
    entry.update(country=record["country"], msisdn=record["msisdn"])
    if action in ("purchase", "cancel", "configure"):
        entry["request"] = {"msisdn": record["msisdn"], "country": record["country"]}
        entry["outcome"] = rnd.choice(["succeeded"] * 180 + ["failed"] * 10 + ["unknown"])
        if action == "purchase":
            entry["monthly_cost"] = local["monthly_cost"] or COSTS[1]
    if action in ("configure", "drift_changed"):
        entry["before"] = {"mo_http_url": ""}
        entry["after"] = {"mo_http_url": "https://hooks.example.com/sms/1"}
    return entry
