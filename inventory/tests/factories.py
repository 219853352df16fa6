"""Rows for tests that need a cache of a given size without syncing it."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from inventory.models import OwnedNumber
from inventory.services.pricing import number_reprice, prices_refresh


def owned_numbers(count: int, *, start: int = 0, **fields) -> list[OwnedNumber]:
    """`count` distinct UK mobile-looking numbers, bulk-inserted."""
    rows = [
        OwnedNumber(
            msisdn=f"447700{start + i:07d}"[:15],
            country="GB",
            country_name="United Kingdom",
            type="mobile-lvn",
            has_sms=True,
            has_voice=True,
            **{"monthly_cost": Decimal("1.25"), **fields},
        )
        for i in range(count)
    ]
    created = OwnedNumber.objects.bulk_create(rows, batch_size=2000)
    prices_refresh()  # priced as the services price what they write
    return created


def owned_number(msisdn: str, **fields) -> OwnedNumber:
    defaults = {"country": "GB", "type": "mobile-lvn", "has_sms": True, "has_voice": True}
    number = OwnedNumber.objects.create(msisdn=msisdn, **{**defaults, **fields})
    number_reprice(msisdn=msisdn)
    number.refresh_from_db()
    return number


COUNTRIES = [
    ("GB", "44", "United Kingdom"),
    ("NL", "31", "Netherlands"),
    ("US", "1", "United States"),
    ("DE", "49", "Germany"),
    ("FR", "33", "France"),
]


def varied_numbers(count: int, *, seed: int = 1) -> list[OwnedNumber]:
    """`count` numbers spread over countries, types, features, routing, prices (a third
    known, with ties), purchase dates, labels and teams, as an account looks."""
    rnd = random.Random(seed)
    now = timezone.now()
    rows = []
    for i in range(count):
        country, code, name = rnd.choice(COUNTRIES)
        known = i % 3 == 0
        rows.append(
            OwnedNumber(
                msisdn=f"{code}7{i:08d}",
                country=country,
                country_name=name,
                type=rnd.choice(["mobile-lvn", "landline", "landline-toll-free"]),
                has_sms=rnd.random() < 0.7,
                has_voice=rnd.random() < 0.8,
                has_mms=rnd.random() < 0.1,
                mo_http_url="https://hooks.example.com/in" if rnd.random() < 0.1 else "",
                monthly_cost=rnd.choice([Decimal("1.25"), Decimal("2.50"), Decimal("0.99")])
                if known
                else None,
                purchased_at=now - timedelta(days=rnd.randrange(400)) if known else None,
                label=rnd.choice(["", "", "Reception", "Support line", "Sales desk"]),
                team=rnd.choice(["", "Operations", "Billing"]),
                notes=rnd.choice(["", "", "keep: hotline for the lobby"]),
            )
        )
    created = OwnedNumber.objects.bulk_create(rows, batch_size=500)
    prices_refresh()
    return created
