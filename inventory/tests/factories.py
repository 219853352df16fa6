"""Rows for tests that need a cache of a given size without syncing it."""

from decimal import Decimal

from inventory.models import OwnedNumber


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
            monthly_cost=Decimal("1.25"),
            **fields,
        )
        for i in range(count)
    ]
    return OwnedNumber.objects.bulk_create(rows, batch_size=2000)


def owned_number(msisdn: str, **fields) -> OwnedNumber:
    defaults = {"country": "GB", "type": "mobile-lvn", "has_sms": True, "has_voice": True}
    return OwnedNumber.objects.create(msisdn=msisdn, **{**defaults, **fields})
