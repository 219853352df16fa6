"""gunicorn settings, read from the environment (see .env.example).

gunicorn numbersportal.wsgi --config gunicorn.conf.py
"""

import os
from pathlib import Path

import environ

# The same optional .env file settings.py reads; variables set in the environment win.
environ.Env.read_env(Path(__file__).resolve().with_name(".env"))


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"
# Processes, and threads in each (more than one thread selects the gthread worker). Every
# worker shares the OAuth token, the quota view and sessions through Redis (CACHE_URL).
workers = _int("WEB_CONCURRENCY", 2)
threads = _int("GUNICORN_THREADS", 4)
# A request's API calls and their retries end within NUMBERS_API_DEADLINE (20 s) first.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM, requests in flight get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = 5
# Heartbeat files in memory: a slow container filesystem must not look like a hung worker.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# Access lines to stdout ("-"), a file, or nowhere when empty: the portal itself writes a
# structured line per request (logger inventory.requests) to stderr.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
# The request id the portal puts on every response ties access lines to the app's lines.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
# Only these proxies may say which client and scheme a request came from.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No runtime control socket: it would live in $HOME (the image's user has none), and several
# gunicorns on one machine (tests, `make run`) would fight over the same path.
control_socket_disable = True


def post_worker_init(worker):
    """Once the worker has loaded the portal, move everything it has made so far (Django,
    the phone number and country metadata, the URL and template caches: hundreds of
    thousands of objects that live as long as the worker) out of the garbage collector's
    sight. A full collection walks every tracked object; over those it took 40-100 ms, a
    pause that landed on whichever request was running and made the pages' p95 (one page
    kind's above all, in a round robin that met the collector's rhythm)."""
    import gc

    gc.freeze()
