"""The container's HEALTHCHECK: healthy while /healthz answers 200 (`ok` or `degraded`);
unhealthy on 503 (the database is down) or no answer.

Django refuses a Host it does not serve, so the probe names the first of
DJANGO_ALLOWED_HOSTS, as a browser would.
"""

import os
import sys
import urllib.error
import urllib.request


def probe_host() -> str:
    hosts = os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")
    named = [host.strip().lstrip(".") for host in hosts if host.strip() not in ("", "*")]
    return named[0] if named else "localhost"


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz"
    request = urllib.request.Request(url, headers={"Host": probe_host()})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 - loopback only
            print(response.read(500).decode(errors="replace"))
    except (urllib.error.URLError, OSError) as problem:
        print(f"{url}: {problem}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
