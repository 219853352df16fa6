"""What only the portal keeps about an owned number: its label, team and notes."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from inventory.audit import Actor, audit_append
from inventory.models import Action, Outcome, OwnedNumber
from inventory.services.cache import LOCAL_FIELDS


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
