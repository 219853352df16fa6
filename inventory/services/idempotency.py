"""Idempotency keys for the JSON API's POSTs, as Stripe keeps them: per user, the first
request with a key is answered and its answer kept; the same key with the same request gets
that answer again and causes nothing; with a different request it is refused.

A key still being answered is refused as "in progress" (the script retried too early),
unless its request has been running longer than any request can: then its process stopped,
and the next request with the key takes it over. That is safe because every operation a
keyed request starts carries a form token derived from the key, so the operation protocol
replays what the first one started instead of sending it again.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.models import IdempotencyKey
from inventory.services.operations import ServiceError


class IdempotencyKeyReused(ServiceError):
    pass


class IdempotencyKeyInProgress(ServiceError):
    pass


def idempotency_claim(
    *, user, key: str, method: str, path: str, fingerprint: str
) -> tuple[IdempotencyKey, bool]:
    """The key's record, and whether this request is to answer it (True) or to replay the
    answer it already got (False). Raises IdempotencyKeyReused or IdempotencyKeyInProgress."""
    now = timezone.now()
    # An expired key is a new key: its old answer is gone.
    IdempotencyKey.objects.filter(user=user, key=key, expires_at__lte=now).delete()
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(
                user=user,
                key=key,
                fingerprint=fingerprint,
                method=method,
                path=path[:300],
                created_at=now,
                expires_at=now + timedelta(hours=settings.API_IDEMPOTENCY_HOURS),
            )
        return record, True
    except IntegrityError:
        pass
    found = IdempotencyKey.objects.filter(user=user, key=key).first()
    if found is None:  # released by its first request just now
        raise IdempotencyKeyInProgress(_IN_PROGRESS)
    record = found
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"This Idempotency-Key was already used for another request ({record.method} "
            f"{record.path} with a different body). Use a new key for a new request."
        )
    if record.is_answered:
        return record, False
    if now - record.created_at < settings.PENDING_STALE_AFTER:
        raise IdempotencyKeyInProgress(_IN_PROGRESS)
    taken = IdempotencyKey.objects.filter(
        pk=record.pk, status_code__isnull=True, created_at=record.created_at
    ).update(created_at=now)
    if not taken:
        raise IdempotencyKeyInProgress(_IN_PROGRESS)
    record.created_at = now
    return record, True


_IN_PROGRESS = (
    "A request with this Idempotency-Key is still being answered. Send it again in a few "
    "seconds to get its answer; nothing more is done meanwhile."
)


def idempotency_answer(
    *, record: IdempotencyKey, status_code: int, content_type: str, body, headers: dict
) -> None:
    """Keep the answer a keyed request got, to give it again to the same request."""
    IdempotencyKey.objects.filter(pk=record.pk).update(
        status_code=status_code, content_type=content_type, body=body, headers=headers
    )


def idempotency_release(*, record: IdempotencyKey) -> None:
    """The request was not taken up (its input was invalid) or broke before it answered:
    the key may be sent again, with this request or another."""
    IdempotencyKey.objects.filter(pk=record.pk, status_code__isnull=True).delete()


def idempotency_keys_sweep() -> int:
    """Forget keys past their time (task workers do this in their housekeeping)."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
