#!/usr/bin/env bash
# Screenshots of every page at 1366 and 390 px, light and dark, for people to look at:
# runs the every-page browser test with PORTAL_SCREENSHOTS=1 and the journeys (which take
# their own), writing PNGs to test-artifacts/screenshots/ (not kept in git).
set -euo pipefail
cd "$(dirname "$0")/.."
PORTAL_SCREENSHOTS=1 .venv/bin/python -m pytest -q -p no:cacheprovider -m browser tests/browser "$@"
echo "Screenshots in test-artifacts/screenshots/"
