"""Named leases in the database: one holder at a time across processes and hosts.

A lease is short-lived and must be renewed by its holder while it works (a heartbeat). A
holder that dies stops renewing, and its lease expires within `seconds`: nothing waits long
on a dead holder (DESIGN §2.11). Whoever takes an expired lease learns who held it, so what
the dead holder left behind can be marked as abandoned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.models import Lease


@dataclass(frozen=True)
class Taken:
    """A lease just taken; `previous` names a holder whose lease had expired, if any."""

    name: str
    holder: str
    expires_at: datetime
    previous: str = ""


def lease_acquire(*, name: str, holder: str, seconds: int) -> Taken | None:
    """Take the lease unless someone else holds an unexpired one (then None). The holder
    that already has it renews it."""
    now = timezone.now()
    expires = now + timedelta(seconds=seconds)
    current = Lease.objects.filter(name=name).first()
    if current is None:
        try:
            with transaction.atomic():
                Lease.objects.create(name=name, holder=holder, expires_at=expires)
        except IntegrityError:  # taken at the same moment by someone else
            return None
        return Taken(name=name, holder=holder, expires_at=expires)
    if current.holder == holder or current.expires_at < now:
        # Conditional on what was read, so two claimants of an expired lease cannot both win.
        taken = Lease.objects.filter(
            pk=current.pk, holder=current.holder, expires_at=current.expires_at
        ).update(holder=holder, expires_at=expires)
        if not taken:
            return None
        previous = current.holder if current.holder != holder else ""
        return Taken(name=name, holder=holder, expires_at=expires, previous=previous)
    return None


def lease_renew(*, name: str, holder: str, seconds: int) -> bool:
    """The heartbeat: push the expiry forward. False when the lease is no longer ours
    (it expired and someone else took it), so the holder must stop."""
    expires = timezone.now() + timedelta(seconds=seconds)
    return Lease.objects.filter(name=name, holder=holder).update(expires_at=expires) == 1


def lease_release(*, name: str, holder: str) -> None:
    Lease.objects.filter(name=name, holder=holder).delete()


def lease_holder(*, name: str) -> Lease | None:
    """The live holder of a lease, or None when it is free or its holder stopped renewing."""
    return Lease.objects.filter(name=name, expires_at__gte=timezone.now()).first()


def live_holders(*, prefix: str) -> set[str]:
    """The holders of every unexpired lease whose name starts with `prefix`."""
    leases = Lease.objects.filter(name__startswith=prefix, expires_at__gte=timezone.now())
    return set(leases.values_list("holder", flat=True))
