"""Rows for tests that need a cache of a given size without syncing it."""

from decimal import Decimal

from inventory.models import OwnedNumber
from inventory.services.cache import inventory_changed
from inventory.services.pricing import number_reprice, prices_refresh


def owned_numbers(count: int, *, start: int = 0, **fields) -> list[OwnedNumber]:
    """`count` distinct UK mobile-looking numbers, bulk-inserted."""
    rows = [
        OwnedNumber(
            msisdn=f"447700{start + i:07d}"[:15],
            country="GB",
            type="mobile-lvn",
            has_sms=True,
            has_voice=True,
            **{"monthly_cost": Decimal("1.25"), **fields},
        )
        for i in range(count)
    ]
    created = OwnedNumber.objects.bulk_create(rows, batch_size=2000)
    prices_refresh()  # priced as the services price what they write
    inventory_changed()  # as the services do after every write to the cache
    return created


def owned_number(msisdn: str, **fields) -> OwnedNumber:
    defaults = {"country": "GB", "type": "mobile-lvn", "has_sms": True, "has_voice": True}
    number = OwnedNumber.objects.create(msisdn=msisdn, **{**defaults, **fields})
    number_reprice(msisdn=msisdn)
    number.refresh_from_db()
    inventory_changed()
    return number
