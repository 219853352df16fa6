#!/usr/bin/env bash
# Starts the sandbox API, the portal and a task worker side by side; Ctrl-C (or TERM) stops them.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
PORT="${PORT:-8000}"
SANDBOX_PORT="${SANDBOX_PORT:-8001}"
pids=()
# The portal, the task worker and the sandbox are separate processes: they share one cache
# (the OAuth token, totals, sync status), in files here unless CACHE_URL names Redis.
export CACHE_URL="${CACHE_URL:-filecache://$PWD/.cache/django}"

stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping the portal, the task worker and the sandbox..."
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# A demo account starts with a few numbers to sync (only when its state file is new).
"$PY" manage.py runsandbox --port "$SANDBOX_PORT" --owned "${SANDBOX_OWNED:-40}" &
pids+=($!)

# One gunicorn worker with threads is plenty for a demo.
.venv/bin/gunicorn numbersportal.wsgi --config gunicorn.conf.py \
  --bind "127.0.0.1:$PORT" --workers 1 --threads 8 &
pids+=($!)

# The task worker: "Sync now", bulk operations and notifications run here. On a cache that
# was never synced it queues the first sync itself.
"$PY" manage.py run_worker --interval 0.5 &
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
                              (a simulator: no money is spent)
  Task worker:                running (syncs, bulk operations, approved purchases,
                              notifications: emails are printed in this terminal)

  Demo logins (password: portal-demo)
    operator  buys, configures, cancels and syncs numbers
    approver  approves or rejects purchases that the approval rules hold back
    viewer    browses the catalogue and the inventory
    auditor   reviews, filters and exports the audit trail
    admin     superuser: sets approval rules and budgets, manages users in the admin

  Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
