"""What only the portal keeps about an owned number: its label, team and notes, and
whether it is protected from cancellation."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from inventory.audit import Actor, audit_append
from inventory.models import Action, Outcome, OwnedNumber
from inventory.services.cache import LOCAL_FIELDS
from inventory.services.operations import ServiceError


def number_annotate(*, actor: Actor, number: OwnedNumber, values: dict[str, str]) -> OwnedNumber:
    """Change what only the portal knows about a number (label, team, notes)."""
    before = {name: getattr(number, name) for name in LOCAL_FIELDS}
    after = {name: values.get(name, before[name]) for name in LOCAL_FIELDS}
    if after == before:
        return number
    with transaction.atomic():
        # The team is a totals group and the text index covers all three: the database
        # moves both in this same statement.
        OwnedNumber.objects.filter(pk=number.pk).update(**after, updated_at=timezone.now())
        audit_append(
            action=Action.ANNOTATE,
            actor=actor,
            country=number.country,
            msisdn=number.msisdn,
            before=before,
            after=after,
            outcome=Outcome.SUCCEEDED,
            reason="Local notes changed (no API call).",
        )
    number.refresh_from_db()
    return number


def number_protect(*, actor: Actor, number: OwnedNumber, reason: str) -> OwnedNumber:
    """Protect a number from cancellation, by any path, until someone removes it."""
    reason = reason.strip()
    if not reason:
        raise ServiceError("Say why the number is protected: it is shown to whoever tries.")
    if number.is_protected and number.protected_reason == reason:
        return number
    before = {"protected": number.protected_reason or None}
    with transaction.atomic():
        OwnedNumber.objects.filter(pk=number.pk).update(
            protected_reason=reason,
            protected_by=actor.user,
            protected_at=timezone.now(),
            updated_at=timezone.now(),
        )
        audit_append(
            action=Action.PROTECT,
            actor=actor,
            country=number.country,
            msisdn=number.msisdn,
            before=before,
            after={"protected": reason},
            outcome=Outcome.SUCCEEDED,
            reason=f"Protected from cancellation: {reason}",
        )
    number.refresh_from_db()
    return number


def number_unprotect(*, actor: Actor, number: OwnedNumber) -> OwnedNumber:
    """Remove a number's protection: it can be cancelled again."""
    if not number.is_protected:
        return number
    before = {"protected": number.protected_reason}
    with transaction.atomic():
        OwnedNumber.objects.filter(pk=number.pk).update(
            protected_reason="", protected_by=None, protected_at=None, updated_at=timezone.now()
        )
        audit_append(
            action=Action.UNPROTECT,
            actor=actor,
            country=number.country,
            msisdn=number.msisdn,
            before=before,
            after={"protected": None},
            outcome=Outcome.SUCCEEDED,
            reason="Protection removed: the number can be cancelled again.",
        )
    number.refresh_from_db()
    return number
