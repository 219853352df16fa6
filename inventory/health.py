"""What /healthz reports to a load balancer and to the people who run the portal.

- 503 `unavailable`: the database does not answer, so this instance can serve nothing.
- 200 `degraded`: the instance serves, but the cache (Redis) does not answer (pages are
  slower; sessions live in the database), or no API token can be had (buying, searching
  and syncing fail; the inventory and the audit trail still work), or the last successful
  sync is older than SYNC_STALE_MINUTES (or there has been none). Taking every instance out
  of the load balancer would turn a partial outage into a total one, so these stay 200;
  monitoring alerts on the `status` field instead.
- 200 `ok`: all of the above is fine.

The report never raises: a check that fails unexpectedly reports its part as down (and
logs why). It names no secret, URL or error text: anyone can read it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone

from inventory import api_client as api
from inventory import selectors

log = logging.getLogger(__name__)

# A probe must answer within a load balancer's timeout even when the token service hangs.
PROBE_CONNECT_TIMEOUT = 1.0
PROBE_READ_TIMEOUT = 2.0
# After a failed token fetch, probes report the failure for this long without asking again,
# so a failing token service is not hit by every probe of every instance.
TOKEN_FAILURE_KEY = "healthz:token-failure"  # noqa: S105 - a cache key, not a secret
TOKEN_FAILURE_SECONDS = 30
# The cache probe's key lives this long (one key per process and thread).
CACHE_PROBE_SECONDS = 60


@dataclasses.dataclass(frozen=True)
class Health:
    status: str  # ok, degraded or unavailable
    checks: dict

    @property
    def http_status(self) -> int:
        return 503 if self.status == "unavailable" else 200

    def as_dict(self) -> dict:
        return {"status": self.status, **self.checks}


def health_report() -> Health:
    if not _database_answers():
        return Health("unavailable", {"database": "down"})
    cache_ok = _cache_answers()
    token_ok = _checked(token_available, "the API token")
    sync = _sync_freshness()
    healthy = cache_ok and token_ok and not sync["stale"]
    checks = {
        "database": "up",
        "cache": "up" if cache_ok else "down",
        "api_token": "ok" if token_ok else "unavailable",
        "sync": sync,
    }
    return Health("ok" if healthy else "degraded", checks)


def _checked(check, what: str) -> bool:
    """`check()`, or False when it raises: a probe answers whatever breaks."""
    try:
        return check()
    except Exception:
        log.exception("Health check of %s failed", what)
        return False


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    except Exception:
        log.exception("Health check of the database failed")
        return False
    return True


def _cache_answers() -> bool:
    """Whether the cache keeps what it is given. A key per process and thread, so probes
    running at once never read each other's value."""
    key = f"healthz:cache-probe:{os.getpid()}:{threading.get_ident()}"
    value = uuid.uuid4().hex

    def round_trip() -> bool:
        cache.set(key, value, timeout=CACHE_PROBE_SECONDS)
        return cache.get(key) == value

    return _checked(round_trip, "the cache")


def _probe_client() -> api.NumbersApiClient:
    """This thread's client with short timeouts (see api_client.default_client)."""
    return api.default_client(
        connect_timeout=PROBE_CONNECT_TIMEOUT, read_timeout=PROBE_READ_TIMEOUT
    )


def token_available() -> bool:
    """True when a token is cached, or can be fetched now (and is then cached for all).
    A failure is remembered for a while, so pages and probes do not wait on it each time:
    in the shared cache, and in this process for when the cache is down too."""
    if cache.get(TOKEN_FAILURE_KEY) or time.monotonic() < _token_failure.until:
        return False
    if _probe_client().check_token():
        return True
    cache.set(TOKEN_FAILURE_KEY, True, timeout=TOKEN_FAILURE_SECONDS)
    if not cache.get(TOKEN_FAILURE_KEY):  # the cache is down as well
        _token_failure.until = time.monotonic() + TOKEN_FAILURE_SECONDS
    return False


class _TokenFailure:
    until = 0.0  # monotonic time until which this process reports the token unavailable


_token_failure = _TokenFailure()


@dataclasses.dataclass(frozen=True)
class ApiConnection:
    base_url: str
    token_ok: bool
    quotas: dict[str, api.Quota]


def api_connection() -> ApiConnection:
    """The home page's view of the API: where it is, whether a token can be had, and the
    last quota figures any process saw. At most one short token fetch, never a data call."""
    client = _probe_client()
    return ApiConnection(
        base_url=client.config.base_url, token_ok=token_available(), quotas=client.last_quotas()
    )


def _sync_freshness() -> dict:
    try:
        status = selectors.sync_status()
    except Exception:
        log.exception("Health check of the last sync failed")
        status = selectors.SyncStatus(last_success=None, running_since=None, last_failure="")
    age = None
    if status.last_success is not None:
        age = max(int((timezone.now() - status.last_success).total_seconds()), 0)
    return {
        "last_success_age_seconds": age,
        "stale": status.is_stale,
        "stale_after_seconds": int(settings.SYNC_STALE_AFTER.total_seconds()),
        "running": status.running_since is not None,
    }
