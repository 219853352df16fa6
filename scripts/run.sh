#!/usr/bin/env bash
# Starts the sandbox API and the portal side by side; Ctrl-C (or TERM) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
PORT="${PORT:-8000}"
SANDBOX_PORT="${SANDBOX_PORT:-8001}"
pids=()

stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping the portal and the sandbox..."
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# A demo account starts with a few numbers to sync (only when its state file is new).
"$PY" manage.py runsandbox --port "$SANDBOX_PORT" --owned "${SANDBOX_OWNED:-40}" &
pids+=($!)

# One worker with threads: in development the cache is per process, so one process
# keeps the shared OAuth token and sessions consistent.
.venv/bin/gunicorn numbersportal.wsgi --config gunicorn.conf.py \
  --bind "127.0.0.1:$PORT" --workers 1 --threads 8 &
pids+=($!)

"$PY" - "$PORT" "$SANDBOX_PORT" <<'PYEOF'
import sys, time, urllib.request
port, sandbox_port = sys.argv[1], sys.argv[2]
for url in (f"http://127.0.0.1:{sandbox_port}/_sandbox/state?numbers=0",
            f"http://127.0.0.1:{port}/healthz"):
    for _ in range(150):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        sys.exit(f"{url} did not answer; see the messages above.")
PYEOF

cat <<MSG

  Numbers Portal is running:  http://127.0.0.1:${PORT}/
  Sandbox API:                http://127.0.0.1:${SANDBOX_PORT}/communication/nexmo/phone-numbers

  Demo logins (password: portal-demo)
    operator  buys, configures, cancels and syncs numbers
    viewer    browses the catalogue and the inventory
    auditor   reviews the audit trail in the admin
    admin     superuser

  Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
