"""Writes. Every buy, cancel and configure follows the operation protocol (DESIGN §2):

1. claim   — a short transaction commits a `pending` trail entry (one open per number);
2. call    — the API is called with no transaction or lock held;
3. record  — a short transaction writes the outcome and updates the cache together.

An ambiguous answer makes the operation `unknown`; it is settled by an exact lookup of the
number in the owned list, never by sending the request again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inventory import api_client as api
from inventory.audit import Actor, audit_append, audit_append_many, audit_complete
from inventory.models import Action, Lease, Operation, Outcome, OwnedNumber, SyncRun
from inventory.selectors import (
    SYNC_STATUS_CACHE_KEY,
    inventory_changed,
    sync_status_from_database,
)

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A request the portal refuses before anything is sent; the message is for people."""


class OperationRefused(ServiceError):
    pass


# --- the protocol ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Intent:
    """What an operation is about to do, as it will be recorded."""

    action: Action
    country: str
    msisdn: str
    request: dict
    before: dict | None = None
    after: dict | None = None
    monthly_cost: Decimal | None = None
    setup_cost: Decimal | None = None


def operation_for_form(*, form_token: str, actor: Actor) -> Operation | None:
    """The operation a confirmation form already started: a resubmitted form (back button,
    double click, reload) shows it instead of starting another."""
    entry = Operation.objects.filter(form_token=form_token).first()
    if entry is not None and entry.actor_id != getattr(actor.user, "pk", None):
        raise OperationRefused("This confirmation form has already been used.")
    return entry


def unsettled_unknown(msisdn: str) -> Operation | None:
    return (
        Operation.objects.filter(msisdn=msisdn, outcome=Outcome.UNKNOWN, settlement__isnull=True)
        .order_by("seq")
        .first()
    )


def _claim(
    intent: Intent, *, actor: Actor, form_token: str, refusal: Callable[[], str]
) -> tuple[Operation, bool]:
    """Commit the pending entry and return it with True; return the operation this form
    already started with False; or record why the operation was refused and raise."""
    fields = {
        "action": intent.action,
        "actor": actor,
        "country": intent.country,
        "msisdn": intent.msisdn,
        "request": intent.request,
        "before": intent.before,
        "after": intent.after,
        "monthly_cost": intent.monthly_cost,
        "setup_cost": intent.setup_cost,
        "form_token": form_token,
    }
    try:
        with transaction.atomic():
            entry = audit_append(**fields)
            # Checked after the insert: by then any concurrent operation on this number has
            # either been refused by the constraint or committed its outcome.
            reason = _blocking_unknown(intent.msisdn) or refusal()
            if reason:
                raise OperationRefused(reason)
    except IntegrityError:
        replay = operation_for_form(form_token=form_token, actor=actor)
        if replay is not None:
            return replay, False
        reason = "Someone else is working on this number right now; nothing was sent."
    except OperationRefused as refused:
        reason = str(refused)
    else:
        return entry, True
    audit_append(**fields, outcome=Outcome.FAILED, reason=reason)
    raise OperationRefused(reason)


def _blocking_unknown(msisdn: str) -> str:
    earlier = unsettled_unknown(msisdn)
    if earlier is None:
        return ""
    return (
        f"The outcome of an earlier {earlier.get_action_display().lower()} of this number "
        "is still unknown. Sync the inventory to settle it, then try again."
    )


def _api_fields(error: api.ApiError | None = None, confirmation=None) -> dict:
    if confirmation is not None:
        return {
            "provider_code": confirmation.code,
            "provider_label": confirmation.label,
            "http_status": confirmation.http_status,
            "duration_ms": confirmation.duration_ms,
        }
    return {
        "provider_code": error.code,
        "provider_label": error.label,
        "http_status": error.status,
    }


def _run(
    entry: Operation,
    call: Callable[[], api.Confirmation],
    *,
    on_success: Callable[[api.OwnedNumber | None], None],
    on_declined: Callable[[api.ApiMethodFailed], str],
    settle: Callable[[], object],
    verify: Callable[[], tuple[api.OwnedNumber | None, str]] | None = None,
) -> Operation:
    """Call the API for a claimed operation and record how it ended. `verify` reads the
    result back from the API (outside any transaction) and names what did not take effect."""
    try:
        confirmation = _call(entry, call, on_declined=on_declined, settle=settle)
        if confirmation is None:
            return entry
        found, not_applied = None, ""
        if verify is not None:
            found, not_applied = verify()
    except api.ApiError as error:  # only the read-back raises here: the change was accepted
        reason = f"The API accepted the change, but reading it back failed: {error}"
        audit_complete(entry, outcome=Outcome.UNKNOWN, reason=reason)
        return entry
    except BaseException:
        # A bug or an interrupt between claim and record: the call may have gone out.
        if entry.outcome == Outcome.PENDING:
            audit_complete(entry, outcome=Outcome.UNKNOWN, reason="The portal was interrupted.")
        raise
    fields = _api_fields(confirmation=confirmation)
    if not_applied:
        audit_complete(entry, outcome=Outcome.FAILED, reason=not_applied, **fields)
        return entry
    with transaction.atomic():
        audit_complete(entry, outcome=Outcome.SUCCEEDED, **fields)
        on_success(found)
    return entry


def _call(entry, call, *, on_declined, settle) -> api.Confirmation | None:
    """The API call itself. Returns the confirmation, or None once a failure is recorded."""
    try:
        return call()
    except api.ApiOutcomeUnknown as error:
        audit_complete(entry, outcome=Outcome.UNKNOWN, reason=str(error), **_api_fields(error))
        settle()
    except api.ApiMethodFailed as error:
        reason = on_declined(error)
        audit_complete(entry, outcome=Outcome.FAILED, reason=reason, **_api_fields(error))
    except api.ApiError as error:  # refused before it took effect: nothing happened
        reason = f"{error} Nothing was changed."
        audit_complete(entry, outcome=Outcome.FAILED, reason=reason, **_api_fields(error))
    return None


def _record_settlement(
    entry: Operation, found: api.OwnedNumber | None, *, actor: Actor, lookup: dict
) -> None:
    """Append the settlement of an unknown operation and bring the cache in line with it,
    in one transaction. `found` is the number as the owned list shows it (None: not owned)."""
    decide = {
        Action.PURCHASE: _decide_purchase,
        Action.CANCEL: _decide_cancel,
        Action.CONFIGURE: _decide_configure,
    }[entry.action](entry)
    outcome, reason, apply = decide(found)
    with transaction.atomic():
        audit_append(
            action=Action.SETTLE,
            actor=actor,
            country=entry.country,
            msisdn=entry.msisdn,
            request=lookup,
            after=_owned_snapshot(found),
            settles=entry,
            outcome=outcome,
            reason=reason,
        )
        apply()


def operation_settle(*, client: api.NumbersApiClient, entry: Operation, actor: Actor) -> bool:
    """Settle an `unknown` operation by an exact lookup of its number in the owned list.
    Returns False when the lookup itself failed: the operation stays unknown."""
    try:
        found = client.find_owned(msisdn=entry.msisdn)
    except api.ApiError as error:
        log.warning("Could not settle operation #%s: %s", entry.seq, error)
        return False
    lookup = {"lookup": "GET /account/numbers", "pattern": entry.msisdn}
    with contextlib.suppress(IntegrityError):  # settled concurrently by someone else
        _record_settlement(entry, found, actor=actor, lookup=lookup)
    return True


def access_denied_record(
    *, actor: Actor, permission: str = "", method: str, path: str
) -> Operation:
    """Audit a refused action (the user lacked the permission; the admin does not say which)."""
    if permission:
        reason = f"Refused: the user lacks the permission {permission}."
    else:
        reason = "Refused: the user's role does not allow this."
    return audit_append(
        action=Action.DENIED,
        actor=actor,
        outcome=Outcome.DENIED,
        request={"method": method, "path": path, "permission": permission},
        reason=reason,
    )


def login_record(*, actor: Actor) -> Operation:
    """Audit a successful login."""
    return audit_append(action=Action.LOGIN, actor=actor, outcome=Outcome.SUCCEEDED)


def login_failure_record(*, actor: Actor, username: str, reason: str) -> Operation:
    """Audit a refused login under the username that was tried (never the password)."""
    return audit_append(
        action=Action.LOGIN_FAILED,
        actor=replace(actor, user=None, username=username[:150]),
        outcome=Outcome.FAILED,
        request={"username": username[:150]},
        reason=reason,
    )


def logout_record(*, actor: Actor) -> Operation:
    """Audit a logout."""
    return audit_append(action=Action.LOGOUT, actor=actor, outcome=Outcome.SUCCEEDED)


# --- snapshots and cache writes -------------------------------------------------------------


def _owned_snapshot(number: api.OwnedNumber | None) -> dict | None:
    return dict(number.raw) if number is not None else None


def _cache_purchase(*, offer: api.AvailableNumber, entry: Operation) -> None:
    features = set(offer.features)
    OwnedNumber.objects.update_or_create(
        msisdn=offer.msisdn,
        defaults={
            "country": offer.country,
            "type": offer.type,
            "has_sms": "SMS" in features,
            "has_voice": "VOICE" in features,
            "has_mms": "MMS" in features,
            "monthly_cost": entry.monthly_cost,
            "setup_cost": entry.setup_cost,
            "purchased_at": entry.completed_at or timezone.now(),
            "purchased_by": entry.actor,
        },
    )
    inventory_changed()


def _remove_from_cache(msisdn: str) -> None:
    OwnedNumber.objects.filter(msisdn=msisdn).delete()
    inventory_changed()


# --- catalogue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueQuery:
    country: str
    type: str = ""
    features: tuple[str, ...] = ()
    pattern: str = ""
    search_pattern: int = 0
    page: int = 1
    size: int = 20

    def api_params(self) -> dict:
        """The query exactly as it goes to GET /number/search (shown to the user too)."""
        params = {"country": self.country}
        if self.type:
            params["type"] = self.type
        if self.features:
            params["features"] = ",".join(self.features)
        if self.pattern:
            params.update(pattern=self.pattern, search_pattern=self.search_pattern)
        params.update(index=self.page, size=self.size)
        return params


@dataclass(frozen=True)
class CatalogueResults:
    page: api.Page[api.AvailableNumber]
    from_cache: bool


def _catalogue_cache_key(query: CatalogueQuery) -> str:
    fingerprint = repr(sorted(query.api_params().items())).encode()
    return "catalogue:" + hashlib.sha256(fingerprint).hexdigest()


def catalogue_search(*, client: api.NumbersApiClient, query: CatalogueQuery) -> CatalogueResults:
    """Numbers on sale. A repeat of the same query within the cache window costs no call."""
    key = _catalogue_cache_key(query)
    cached = cache.get(key)
    if cached is not None:
        return CatalogueResults(page=cached, from_cache=True)
    page = client.search_available(
        country=query.country,
        type=query.type,
        features=query.features,
        pattern=query.pattern,
        search_pattern=query.search_pattern,
        index=query.page,
        size=query.size,
    )
    cache.set(key, page, timeout=settings.CATALOGUE_CACHE_SECONDS)
    return CatalogueResults(page=page, from_cache=False)


def catalogue_offer(
    *, client: api.NumbersApiClient, country: str, type: str, msisdn: str
) -> api.AvailableNumber | None:
    """The number on sale with exactly this msisdn, at its current price; None if it is
    not (or no longer) on sale."""
    page = client.search_available(
        country=country, type=type, pattern=msisdn, search_pattern=0, size=10
    )
    return next((item for item in page.items if item.msisdn == msisdn), None)


# --- purchase -------------------------------------------------------------------------------


def number_purchase(
    *,
    client: api.NumbersApiClient,
    actor: Actor,
    offer: api.AvailableNumber,
    form_token: str,
) -> Operation:
    """Buy the number the user confirmed, at the prices they were shown."""
    replay = operation_for_form(form_token=form_token, actor=actor)
    if replay is not None:
        return replay
    intent = Intent(
        action=Action.PURCHASE,
        country=offer.country,
        msisdn=offer.msisdn,
        request={"country": offer.country, "msisdn": offer.msisdn},
        after={"type": offer.type, "features": list(offer.features)},
        monthly_cost=offer.cost,
        setup_cost=offer.initial_price,
    )

    def already_owned() -> str:
        if OwnedNumber.objects.filter(msisdn=offer.msisdn).exists():
            return "The account already owns this number; nothing was bought."
        return ""

    entry, claimed = _claim(intent, actor=actor, form_token=form_token, refusal=already_owned)
    if not claimed:
        return entry
    return _run(
        entry,
        lambda: client.buy(country=offer.country, msisdn=offer.msisdn),
        on_success=lambda _found: _cache_purchase(offer=offer, entry=entry),
        on_declined=lambda _: _why_purchase_failed(client, offer),
        settle=lambda: operation_settle(client=client, entry=entry, actor=actor),
    )


def _why_purchase_failed(client: api.NumbersApiClient, offer: api.AvailableNumber) -> str:
    """The API only says "method failed"; find out what the user most likely needs to know."""
    try:
        if client.find_owned(msisdn=offer.msisdn) is not None:
            return "The account already owns this number."
        if (
            catalogue_offer(
                client=client, country=offer.country, type=offer.type, msisdn=offer.msisdn
            )
            is None
        ):
            return "This number is no longer available: someone else has bought it."
    except api.ApiError:
        pass
    return (
        "The provider declined the purchase (“method failed”). The account may lack credit, "
        "or numbers in this country may need an address on file."
    )


def _decide_purchase(entry: Operation):
    def decide(found: api.OwnedNumber | None):
        if found is None:
            return Outcome.FAILED, "The number is not in the account: it was not bought.", _noop
        offer = api.AvailableNumber(
            country=found.country,
            msisdn=found.msisdn,
            type=found.type,
            features=found.features,
            cost=entry.monthly_cost,
            initial_price=entry.setup_cost,
        )
        return (
            Outcome.SUCCEEDED,
            "The number is in the account: the purchase went through.",
            lambda: _cache_purchase(offer=offer, entry=entry),
        )

    return decide


def _decide_cancel(entry: Operation):
    def decide(found: api.OwnedNumber | None):
        if found is not None:
            return Outcome.FAILED, "The number is still in the account: not cancelled.", _noop
        return (
            Outcome.SUCCEEDED,
            "The number is no longer in the account: the cancellation went through.",
            lambda: _remove_from_cache(entry.msisdn),
        )

    return decide


def _decide_configure(entry: Operation):
    def decide(found: api.OwnedNumber | None):
        if found is None:
            return Outcome.FAILED, "The number is no longer in the account.", _noop
        if _applied(entry.request, found):
            return (
                Outcome.SUCCEEDED,
                "The API shows the change: it was applied.",
                lambda: _cache_owned(found),
            )
        return Outcome.FAILED, "The API does not show the change: it was not applied.", _noop

    return decide


def _noop() -> None:
    return None


# --- the cache's view of a number -----------------------------------------------------------

# The API's names for a number's configuration, and the cache's.
CONFIG_FIELDS = {
    "moHttpUrl": "mo_http_url",
    "moSmppSysType": "mo_smpp_sys_type",
    "voiceCallbackType": "voice_callback_type",
    "voiceCallbackValue": "voice_callback_value",
    "voiceStatusCallback": "voice_status_callback",
}


def _cache_fields(found: api.OwnedNumber) -> dict:
    features = set(found.features)
    fields = {
        "country": found.country,
        "type": found.type,
        "has_sms": "SMS" in features,
        "has_voice": "VOICE" in features,
        "has_mms": "MMS" in features,
        "app_id": found.app_id,
        "api_fields": dict(found.raw),
    }
    fields.update({column: getattr(found, column) for column in CONFIG_FIELDS.values()})
    return fields


def _cache_owned(found: api.OwnedNumber | None) -> None:
    if found is not None:
        OwnedNumber.objects.update_or_create(msisdn=found.msisdn, defaults=_cache_fields(found))
        inventory_changed()


def _applied(request: dict, found: api.OwnedNumber) -> bool:
    return all(
        getattr(found, column) == request[name]
        for name, column in CONFIG_FIELDS.items()
        if name in request
    )


def configuration_of(number: OwnedNumber) -> dict[str, str]:
    """A cached number's configuration, by the API's field names."""
    return {name: getattr(number, column) for name, column in CONFIG_FIELDS.items()}


# --- configure ------------------------------------------------------------------------------


def number_configure(
    *,
    client: api.NumbersApiClient,
    actor: Actor,
    number: OwnedNumber,
    changes: dict[str, str],
    form_token: str,
) -> Operation:
    """Send only the fields that change (an empty string clears one), then read the number
    back: the change counts as made only when the API shows it."""
    replay = operation_for_form(form_token=form_token, actor=actor)
    if replay is not None:
        return replay
    if not changes:
        raise OperationRefused("Nothing to change: the form matches the current configuration.")
    current = configuration_of(number)
    intent = Intent(
        action=Action.CONFIGURE,
        country=number.country,
        msisdn=number.msisdn,
        request={"country": number.country, "msisdn": number.msisdn, **changes},
        before={name: current[name] for name in changes},
        after=dict(changes),
    )
    entry, claimed = _claim(
        intent, actor=actor, form_token=form_token, refusal=_not_in_cache(number.msisdn)
    )
    if not claimed:
        return entry

    def read_back() -> tuple[api.OwnedNumber | None, str]:
        found = client.find_owned(msisdn=number.msisdn)
        if found is None:
            return None, "The API accepted the change, but the number is no longer in the account."
        if not _applied(intent.request, found):
            return found, "The API accepted the change but did not apply it."
        return found, ""

    return _run(
        entry,
        lambda: client.update(country=number.country, msisdn=number.msisdn, changes=changes),
        verify=read_back,
        on_success=_cache_owned,
        on_declined=lambda error: _why_update_failed(client, number, error),
        settle=lambda: operation_settle(client=client, entry=entry, actor=actor),
    )


def _not_in_cache(msisdn: str) -> Callable[[], str]:
    def refusal() -> str:
        if not OwnedNumber.objects.filter(msisdn=msisdn).exists():
            return "This number is no longer in the inventory; nothing was sent."
        return ""

    return refusal


def _why_update_failed(
    client: api.NumbersApiClient, number: OwnedNumber, error: api.ApiMethodFailed
) -> str:
    label = error.label if error.label and error.label != "method failed" else ""
    try:
        if client.find_owned(msisdn=number.msisdn) is None:
            return "The account no longer owns this number, so it cannot be changed."
    except api.ApiError:
        pass
    if label:
        return f"The provider declined the change: {label}."
    return (
        "The provider declined the change (“method failed”). A webhook URL must answer "
        "HTTP 200 before the provider accepts it."
    )


# --- cancel ---------------------------------------------------------------------------------


def number_cancel(
    *,
    client: api.NumbersApiClient,
    actor: Actor,
    number: OwnedNumber,
    typed_msisdn: str,
    form_token: str,
) -> Operation:
    """Cancel a number the user named in full. The API is addressed by the exact msisdn only."""
    replay = operation_for_form(form_token=form_token, actor=actor)
    if replay is not None:
        return replay
    if typed_msisdn != number.msisdn:
        raise OperationRefused("The number typed does not match; nothing was cancelled.")
    intent = Intent(
        action=Action.CANCEL,
        country=number.country,
        msisdn=number.msisdn,
        request={"country": number.country, "msisdn": number.msisdn},
        before={**configuration_of(number), "type": number.type, "label": number.label},
        monthly_cost=number.monthly_cost,
        setup_cost=number.setup_cost,
    )
    entry, claimed = _claim(
        intent, actor=actor, form_token=form_token, refusal=_not_in_cache(number.msisdn)
    )
    if not claimed:
        return entry
    return _run(
        entry,
        lambda: client.cancel(country=number.country, msisdn=number.msisdn),
        on_success=lambda _found: _remove_from_cache(number.msisdn),
        on_declined=lambda _error: _why_cancel_failed(client, number),
        settle=lambda: operation_settle(client=client, entry=entry, actor=actor),
    )


def _why_cancel_failed(client: api.NumbersApiClient, number: OwnedNumber) -> str:
    try:
        if client.find_owned(msisdn=number.msisdn) is None:
            return (
                "The account no longer owns this number (it was cancelled or released "
                "elsewhere). The next sync removes it from the inventory."
            )
    except api.ApiError:
        pass
    return "The provider declined the cancellation (“method failed”)."


# --- local notes ----------------------------------------------------------------------------

LOCAL_FIELDS = ("label", "team", "notes")


def local_fields_of(number: OwnedNumber) -> dict[str, str]:
    return {name: getattr(number, name) for name in LOCAL_FIELDS}


def number_annotate(*, actor: Actor, number: OwnedNumber, values: dict[str, str]) -> OwnedNumber:
    """Change what only the portal knows about a number (label, team, notes)."""
    before = {name: getattr(number, name) for name in LOCAL_FIELDS}
    after = {name: values.get(name, before[name]) for name in LOCAL_FIELDS}
    if after == before:
        return number
    with transaction.atomic():
        OwnedNumber.objects.filter(pk=number.pk).update(**after, updated_at=timezone.now())
        inventory_changed()
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


# --- sync -----------------------------------------------------------------------------------


class SyncAlreadyRunning(ServiceError):
    pass


class SyncIncomplete(ServiceError):
    pass


SYNC_LEASE = "sync_numbers"
SYNC_LEASE_SECONDS = 300


def lease_acquire(*, name: str, holder: str, seconds: int) -> bool:
    """Take a named database lease unless someone else holds an unexpired one."""
    now = timezone.now()
    expires = now + timedelta(seconds=seconds)
    taken = Lease.objects.filter(name=name, expires_at__lt=now).update(
        holder=holder, expires_at=expires
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, expires_at=expires)
    except IntegrityError:
        return Lease.objects.filter(name=name, holder=holder).update(expires_at=expires) == 1
    return True


def lease_release(*, name: str, holder: str) -> None:
    Lease.objects.filter(name=name, holder=holder).delete()


def lease_holder(*, name: str) -> Lease | None:
    return Lease.objects.filter(name=name, expires_at__gte=timezone.now()).first()


@dataclass(frozen=True)
class Listing:
    numbers: dict[str, api.OwnedNumber]
    calls: int


def _list_account(client: api.NumbersApiClient, *, on_page: Callable[[int, int], None]) -> Listing:
    """Every owned number, 100 a page, or SyncIncomplete: a partial listing proves nothing."""
    numbers: dict[str, api.OwnedNumber] = {}
    index, calls, expected = 1, 0, None
    while True:
        page = client.list_owned(index=index, size=100)
        calls += 1
        if expected is None:
            expected = page.count
        elif page.count != expected:
            raise SyncIncomplete(
                f"The account changed during the sync ({expected} numbers, then {page.count})."
            )
        numbers.update((number.msisdn, number) for number in page.items)
        on_page(len(numbers), expected)
        if not page.items or index * 100 >= expected:
            break
        index += 1
    if len(numbers) != expected:
        raise SyncIncomplete(
            f"The API said the account has {expected} numbers but listed {len(numbers)} "
            "distinct ones."
        )
    return Listing(numbers=numbers, calls=calls)


def owned_numbers_sync(
    *, client: api.NumbersApiClient, actor: Actor, run: SyncRun | None = None
) -> SyncRun:
    """Mirror the account into the cache. One sync at a time across processes and hosts;
    a failed or partial listing changes no row. Raises SyncAlreadyRunning."""
    holder = f"{actor.username or 'portal'}:{uuid.uuid4().hex[:8]}"
    if run is None:
        run = sync_claim(actor=actor, holder=holder)
    else:
        holder = run.holder
    try:
        listing = _list_account(
            client, on_page=lambda seen, total: _sync_progress(run, holder, seen)
        )
        with transaction.atomic():
            settled = _settle_from_listing(listing.numbers, actor=actor)
            changes = _reconcile(listing.numbers, actor=actor, baseline=_is_first_sync())
            _sync_finish(run, listing=listing, settled=settled, changes=changes, actor=actor)
    except (api.ApiError, ServiceError) as error:
        _sync_fail(run, reason=str(error), actor=actor)
    except BaseException:
        _sync_fail(run, reason="The sync was interrupted.", actor=actor)
        raise
    finally:
        lease_release(name=SYNC_LEASE, holder=holder)
        _publish_sync_status()
    return run


def sync_claim(*, actor: Actor, holder: str) -> SyncRun:
    """Take the sync lease and open a run, or raise SyncAlreadyRunning."""
    if not lease_acquire(name=SYNC_LEASE, holder=holder, seconds=SYNC_LEASE_SECONDS):
        current = lease_holder(name=SYNC_LEASE)
        who = f" (started by {current.holder.split(':')[0]})" if current else ""
        raise SyncAlreadyRunning(f"A sync is already running{who}; it will finish on its own.")
    run = SyncRun.objects.create(started_by=actor.username, holder=holder)
    _publish_sync_status()
    return run


def _sync_progress(run: SyncRun, holder: str, seen: int) -> None:
    run.numbers_seen = seen
    run.list_calls += 1
    SyncRun.objects.filter(pk=run.pk).update(numbers_seen=seen, list_calls=run.list_calls)
    lease_acquire(name=SYNC_LEASE, holder=holder, seconds=SYNC_LEASE_SECONDS)  # still alive


def _is_first_sync() -> bool:
    return not SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists()


def _settle_from_listing(numbers: dict[str, api.OwnedNumber], *, actor: Actor) -> int:
    """A complete listing settles every unknown operation without another call."""
    unknown = Operation.objects.filter(outcome=Outcome.UNKNOWN, settlement__isnull=True)
    settled = 0
    for entry in unknown.order_by("seq"):
        lookup = {"lookup": "sync", "operation": entry.seq}
        try:
            _record_settlement(entry, numbers.get(entry.msisdn), actor=actor, lookup=lookup)
        except IntegrityError:  # settled meanwhile by the operation's own lookup
            continue
        settled += 1
    return settled


@dataclass(frozen=True)
class Drift:
    appeared: int
    disappeared: int
    changed: int


def _reconcile(numbers: dict[str, api.OwnedNumber], *, actor: Actor, baseline: bool) -> Drift:
    """Make the cache match the listing; each difference the portal did not cause is an
    audit event (except on the very first sync, which is the baseline)."""
    cached = {row.msisdn: row for row in OwnedNumber.objects.all()}
    in_flight = set(
        Operation.objects.filter(outcome=Outcome.PENDING).values_list("msisdn", flat=True)
    )
    appeared = [numbers[m] for m in numbers.keys() - cached.keys() if m not in in_flight]
    disappeared = [cached[m] for m in cached.keys() - numbers.keys() if m not in in_flight]
    changed = []
    for msisdn in numbers.keys() & cached.keys():
        fresh = _cache_fields(numbers[msisdn])
        row = cached[msisdn]
        if any(getattr(row, name) != value for name, value in fresh.items()):
            changed.append((row, fresh))

    before = {row.msisdn: _snapshot(row) for row, _ in changed}
    before.update({row.msisdn: _snapshot(row) for row in disappeared})
    now = timezone.now()
    OwnedNumber.objects.bulk_create(
        [OwnedNumber(msisdn=n.msisdn, first_seen_at=now, **_cache_fields(n)) for n in appeared],
        batch_size=1000,
    )
    OwnedNumber.objects.filter(pk__in=[row.pk for row in disappeared]).delete()
    for row, fresh in changed:
        for name, value in fresh.items():
            setattr(row, name, value)
        row.updated_at = now
    OwnedNumber.objects.bulk_update(
        [row for row, _ in changed], fields=[*_CACHE_COLUMNS, "updated_at"], batch_size=1000
    )
    inventory_changed()
    if not baseline:
        _record_drift(appeared, disappeared, changed, before, actor=actor)
    return Drift(appeared=len(appeared), disappeared=len(disappeared), changed=len(changed))


_CACHE_COLUMNS = (
    "country",
    "type",
    "has_sms",
    "has_voice",
    "has_mms",
    "app_id",
    "api_fields",
    *CONFIG_FIELDS.values(),
)


def _snapshot(row: OwnedNumber) -> dict:
    return {name: getattr(row, name) for name in _CACHE_COLUMNS if name != "api_fields"}


def _record_drift(appeared, disappeared, changed, before, *, actor: Actor) -> None:
    events = [
        {"action": Action.DRIFT_APPEARED, "number": n.country, "msisdn": n.msisdn,
         "after": dict(n.raw)}
        for n in appeared
    ]  # fmt: skip
    events += [
        {"action": Action.DRIFT_DISAPPEARED, "number": row.country, "msisdn": row.msisdn,
         "before": _snapshot(row), "monthly_cost": row.monthly_cost}
        for row in disappeared
    ]  # fmt: skip
    for row, fresh in changed:
        old = before[row.msisdn]
        names = [n for n, value in fresh.items() if n != "api_fields" and old[n] != value]
        if not names:  # only the raw API record changed shape: nothing to report
            continue
        events.append(
            {"action": Action.DRIFT_CHANGED, "number": row.country, "msisdn": row.msisdn,
             "before": {n: old[n] for n in names}, "after": {n: fresh[n] for n in names}}
        )  # fmt: skip
    audit_append_many(
        [
            {
                "action": event.pop("action"),
                "country": event.pop("number"),
                "outcome": Outcome.SUCCEEDED,
                "reason": "Seen by the sync: this happened outside the portal.",
                **event,
            }
            for event in events
        ],
        actor=actor,
    )


def _sync_finish(run: SyncRun, *, listing: Listing, settled: int, changes: Drift, actor) -> None:
    run.status = SyncRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.numbers_seen = len(listing.numbers)
    run.list_calls = listing.calls
    run.appeared, run.disappeared, run.changed = (
        changes.appeared,
        changes.disappeared,
        changes.changed,
    )
    run.settled = settled
    run.message = (
        f"{run.numbers_seen} numbers in {run.list_calls} list calls: {run.appeared} appeared, "
        f"{run.disappeared} disappeared, {run.changed} changed, {settled} unknown outcomes settled."
    )
    run.save()
    audit_append(
        action=Action.SYNC,
        actor=actor,
        outcome=Outcome.SUCCEEDED,
        after={
            "numbers": run.numbers_seen,
            "list_calls": run.list_calls,
            "appeared": run.appeared,
            "disappeared": run.disappeared,
            "changed": run.changed,
            "settled": settled,
        },
        reason=run.message,
    )


def _sync_fail(run: SyncRun, *, reason: str, actor: Actor) -> None:
    message = f"The sync stopped and changed nothing: {reason}"
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.FAILED, finished_at=timezone.now(), message=message
    )
    run.refresh_from_db()
    audit_append(action=Action.SYNC, actor=actor, outcome=Outcome.FAILED, reason=message)


def _publish_sync_status() -> None:
    cache.set(SYNC_STATUS_CACHE_KEY, sync_status_from_database(), timeout=300)


def sync_start_in_background(*, actor: Actor) -> SyncRun:
    """For the "Sync now" button: claim the sync here (so the user hears at once if one is
    running), then run it in a thread so the page does not wait for minutes."""
    holder = f"{actor.username or 'portal'}:{uuid.uuid4().hex[:8]}"
    run = sync_claim(actor=actor, holder=holder)

    def work():
        try:
            owned_numbers_sync(client=api.default_client(), actor=actor, run=run)
        finally:
            connection.close()  # this thread's own connection

    threading.Thread(target=work, name=f"sync-{run.pk}", daemon=True).start()
    return run
