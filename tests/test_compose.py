"""docker-compose.yml: the production-like stack it describes (no Docker engine needed)."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = (ROOT / "docker-compose.yml").read_text()


def test_the_secrets_must_be_given_and_have_no_default():
    for name in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD"):
        uses = re.findall(r"\$\{" + name + r"(.?.?)", COMPOSE)
        assert uses, name
        assert all(use == ":?" for use in uses), f"{name} must be required (${{{name}:?...}})"


def test_every_variable_it_reads_is_explained_in_env_example():
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    read = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", COMPOSE))
    assert read - listed == set()


@pytest.fixture(scope="module")
def stack() -> dict:
    return yaml.safe_load(COMPOSE)


def test_it_describes_the_portal_the_sync_worker_postgresql_redis_and_a_migration(stack):
    services = stack["services"]
    assert {"portal", "sync", "worker", "db", "redis", "migrate", "sandbox"} <= set(services)
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["sync"]["command"][-3:] == ["sync_numbers", "--every", "${SYNC_EVERY:-15m}"]
    assert services["worker"]["command"][-1] == "run_worker"


def test_the_portal_and_the_sync_start_only_after_the_migration_succeeded(stack):
    services = stack["services"]
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    for name in ("portal", "sync", "worker"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


def test_the_portal_runs_in_production_mode_on_postgresql_and_redis(stack):
    for name in ("portal", "sync", "worker", "migrate"):
        environment = stack["services"][name]["environment"]
        assert environment["DJANGO_PRODUCTION"] == "true"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["CACHE_URL"].startswith("redis://")


def test_the_sandbox_starts_only_when_asked_for(stack):
    assert stack["services"]["sandbox"]["profiles"] == ["sandbox"]
