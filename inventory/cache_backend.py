"""A Redis cache that degrades instead of failing (DESIGN §2.12).

The cache only ever makes the portal faster: sessions live in the database, and every value
in the cache can be computed again. So when Redis cannot be reached, or answers with an
error, a read is a miss, a write is skipped and `add` reports that nothing was added; the
page is slower, never a 500. Settings use it for every `redis://` CACHE_URL.

- One warning per outage and process, not one per call, and one line when Redis answers
  again. (Django gives each thread its own cache object; what they know of an outage is
  shared by every thread of the process.)
- After a failure, calls go straight to their fallback for `RETRY_AFTER` seconds (an
  OPTIONS entry, default 5): a page with ten cache calls must not wait ten connect
  timeouts while Redis is away.
- A write that was skipped (or whose answer was lost) leaves Redis holding an older value,
  or a value that should have been deleted. Those keys are deleted as soon as Redis answers
  again, so nothing written before the outage is served as current after it.
- `incr`/`decr` raise ValueError, as for a missing key. `clear` is not guarded: emptying
  the cache is a deliberate act that must not quietly not happen.
- Each connection pool's client object is built once and kept (Django builds a new
  `redis.Redis` for every call, which costs more CPU than the GET itself).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

log = logging.getLogger("inventory.cache")

DEFAULT_RETRY_AFTER = 5.0
# Keys to delete once Redis is back; past this many, the rest keep their old values until
# they expire (a warning says so).
MAX_STALE_KEYS = 10_000


class _Outage:
    """What this process knows of one Redis being away."""

    def __init__(self):
        self.lock = threading.Lock()
        self.down_since: float | None = None  # monotonic time of the first failure
        self.skip_until = 0.0
        self.stale_keys: set[str] = set()
        self.stale_overflow = False


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_of(server) -> _Outage:
    with _outages_lock:
        return _outages.setdefault(str(server), _Outage())


class _KeptClients(RedisCacheClient):
    """Django's Redis client, with one `redis.Redis` per connection pool kept rather than a
    new one built for every call. A `redis.Redis` on a pool holds no connection of its own
    (it takes one from the pool for each command), so sharing it is as safe as sharing the
    pool; a connection that broke is replaced by the pool, as before."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key=None, *, write=False):
        # django-stubs leaves out the private parts of Django's client.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            self._clients[id(pool)] = client
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("RETRY_AFTER", DEFAULT_RETRY_AFTER))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = _KeptClients
        self._outage = _outage_of(server)

    # --- reads: a failure is a miss ---

    def get(self, key, default=None, version=None):
        return self._guarded(super().get, default, key, default, version)

    def get_many(self, keys, version=None):
        return self._guarded(super().get_many, {}, keys, version)

    def has_key(self, key, version=None):
        return self._guarded(super().has_key, False, key, version)

    # --- writes: a failure is skipped, and the key deleted once Redis is back ---

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(
            super().add, False, key, value, timeout, version, written=[key], version=version
        )

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._guarded(
            super().set, None, key, value, timeout, version, written=[key], version=version
        )

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # Django's contract: set_many returns the keys it could not set.
        return self._guarded(
            super().set_many, list(data), data, timeout, version, written=data, version=version
        )

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(super().touch, False, key, timeout, version)

    def delete(self, key, version=None):
        return self._guarded(super().delete, False, key, version, written=[key], version=version)

    def delete_many(self, keys, version=None):
        keys = list(keys)
        self._guarded(super().delete_many, None, keys, version, written=keys, version=version)

    def incr(self, key, delta=1, version=None):
        unreachable = object()
        value = self._guarded(
            super().incr, unreachable, key, delta, version, written=[key], version=version
        )
        if value is unreachable:
            raise ValueError(f"Key '{key}' not found: the cache cannot be reached.")
        return value

    # --- the outage ---

    def _guarded(
        self,
        call: Callable,
        fallback: Any,
        *args: Any,
        written: Iterable[str] = (),
        version: int | None = None,
    ) -> Any:
        """`call(*args)`, or `fallback` when Redis fails (or failed moments ago). `written`
        (of `version`) are the keys the call changes: if it fails, they are deleted once
        Redis is back."""
        outage = self._outage
        if time.monotonic() < outage.skip_until:
            self._remember_stale(written, version)
            return fallback
        try:
            deleted = self._delete_stale() if outage.down_since is not None else None
            result = call(*args)
        except RedisError as error:
            self._failed(error)
            self._remember_stale(written, version)
            return fallback
        if deleted is not None:
            self._recovered(deleted)
        return result

    def _failed(self, error: RedisError) -> None:
        outage = self._outage
        with outage.lock:
            first = outage.down_since is None
            if first:
                outage.down_since = time.monotonic()
            outage.skip_until = time.monotonic() + self.retry_after
        if first:
            # redis-py's messages name the host and port, never a password.
            log.warning(
                "The cache cannot be used (%s: %s); carrying on without it.",
                type(error).__name__,
                error,
            )

    def _delete_stale(self) -> int:
        """Before the first call after an outage: delete the keys changed meanwhile, so
        that call already sees no stale value. Raises RedisError if Redis is still away."""
        outage = self._outage
        with outage.lock:
            stale, outage.stale_keys = outage.stale_keys, set()
        try:
            if stale:
                self._cache.delete_many(list(stale))
        except RedisError:
            with outage.lock:
                outage.stale_keys |= stale
            raise
        return len(stale)

    def _recovered(self, deleted: int) -> None:
        outage = self._outage
        with outage.lock:
            if outage.down_since is None:  # another thread said so already
                return
            down_for = time.monotonic() - outage.down_since
            outage.down_since, outage.stale_overflow = None, False
        log.warning(
            "The cache answers again after %d s; %d key(s) changed meanwhile were deleted.",
            down_for,
            deleted,
        )

    def _remember_stale(self, keys: Iterable[str], version: int | None) -> None:
        made = [self.make_and_validate_key(key, version=version) for key in keys]
        if not made:
            return
        outage = self._outage
        with outage.lock:
            room = max(MAX_STALE_KEYS - len(outage.stale_keys), 0)
            outage.stale_keys.update(made[:room])
            warn = room < len(made) and not outage.stale_overflow
            outage.stale_overflow = outage.stale_overflow or warn
        if warn:
            log.warning(
                "More than %d cache keys changed during the outage; the rest keep their "
                "old values until they expire.",
                MAX_STALE_KEYS,
            )
