"""Personal access tokens for the JSON API: made on the profile page (or by
`manage.py create_api_token`), shown once, kept as a hash, revocable, and audited.

A token reads `np_<8 hex>_<43 random characters>`: the first part is public (it names the
token in lists and finds its row), the whole is the secret. Only the SHA-256 of the whole is
stored: 256 random bits need no slow hash, and a stolen table holds nothing to log in with.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.audit import Actor, audit_append
from inventory.models import Action, ApiToken, Outcome
from inventory.services.operations import ServiceError

TOKEN_PATTERN = re.compile(r"^(np_[0-9a-f]{8})_[A-Za-z0-9_-]{43}$")
# `last_used_at` is written at most this often per token, not on every request.
LAST_USED_EVERY = timedelta(seconds=60)


class TokenRefused(ServiceError):
    """A token that does not let its bearer in; the message says why, for people."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(*, actor: Actor, user, name: str, days: int) -> tuple[ApiToken, str]:
    """A new token for `user`, valid for `days`. Returns the row and the whole token, which
    is never available again."""
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise TokenRefused(f"A token lives from 1 to {settings.API_TOKEN_MAX_DAYS} days.")
    name = name.strip() or "API token"
    now = timezone.now()
    for _attempt in range(5):  # a clash of two 32-bit prefixes is rare; try another
        prefix = f"np_{secrets.token_hex(4)}"
        token = f"{prefix}_{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                row = ApiToken.objects.create(
                    user=user,
                    name=name,
                    prefix=prefix,
                    secret_hash=_digest(token),
                    created_at=now,
                    expires_at=now + timedelta(days=days),
                )
                _record(Action.TOKEN_CREATED, actor, row, f"created, valid until {_day(row)}")
        except IntegrityError:
            continue
        return row, token
    raise TokenRefused("No token could be made just now; try again.")


def api_token_revoke(*, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens: it stops working at once. Revoking it again
    changes nothing."""
    row = ApiToken.objects.filter(pk=token_id, user=actor.user).first()
    if row is None:
        raise TokenRefused("You have no such token.")
    if row.revoked_at is not None:
        return row
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        row.refresh_from_db()
        if revoked:
            _record(Action.TOKEN_REVOKED, actor, row, "revoked")
    return row


def api_token_authenticate(*, presented: str) -> ApiToken:
    """The usable token `presented` is (its user with it), or TokenRefused saying why not."""
    match = TOKEN_PATTERN.match(presented)
    row = None
    if match:
        row = ApiToken.objects.select_related("user").filter(prefix=match.group(1)).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(presented)):
        raise TokenRefused("This API token is not valid. Create one on your profile page.")
    if row.revoked_at is not None:
        raise TokenRefused(f"This API token was revoked on {_day(row, 'revoked_at')}.")
    now = timezone.now()
    if row.expires_at <= now:
        raise TokenRefused(f"This API token expired on {_day(row)}. Create a new one.")
    if not row.user.is_active:
        raise TokenRefused("This API token's user account is disabled.")
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


def _day(row: ApiToken, field: str = "expires_at") -> str:
    return f"{timezone.localtime(getattr(row, field)):%Y-%m-%d %H:%M}"


def _record(action: Action, actor: Actor, row: ApiToken, what: str) -> None:
    owner = row.user.get_username()
    audit_append(
        action=action,
        actor=actor,
        outcome=Outcome.SUCCEEDED,
        request={
            "token": row.prefix,
            "name": row.name,
            "user": owner,
            "expires_at": row.expires_at.isoformat(),
        },
        reason=f"API token “{row.name}” ({row.prefix}…) of {owner} {what}.",
    )
