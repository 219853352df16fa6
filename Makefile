# Numbers Portal: `make run` to try it, `make test` to test it.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
SANDBOX_PORT ?= 8001
export PORT SANDBOX_PORT

.PHONY: run test lint format bench lock clean

$(STAMP): requirements.lock requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.lock
	@touch $(STAMP)

## Start the sandbox API and the portal; Ctrl-C stops both.
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py create_demo_users
	@bash scripts/run.sh

## The whole test suite (SQLite unless DATABASE_URL says otherwise).
test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint Dockerfile

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Measure the portal against the budgets in DESIGN §7 (writes bench/results.md).
bench: $(STAMP)
	$(PY) -m bench

## Re-pin every dependency from pyproject.toml into the lock files.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet .
	( echo "# Runtime dependencies, every package pinned (direct ones are listed in pyproject.toml)."; \
	  echo "# Regenerate: make lock"; .lock-venv/bin/pip freeze --exclude numbers-portal ) > requirements.lock
	.lock-venv/bin/pip install --quiet '.[dev]'
	( echo "# Development and test dependencies on top of the runtime lock."; \
	  echo "# Regenerate: make lock"; echo "-r requirements.lock"; \
	  .lock-venv/bin/pip freeze --exclude numbers-portal | grep -v -x -F -f requirements.lock ) > requirements-dev.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache
