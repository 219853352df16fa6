""".env.example stays true: every variable the portal or gunicorn reads is listed there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def listed() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


def test_every_setting_read_from_the_environment_is_listed():
    settings = (ROOT / "numbersportal" / "settings.py").read_text()
    read = set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]+)\"", settings))
    assert read, "the pattern no longer finds how settings.py reads the environment"
    assert read - listed() == set()


def test_every_gunicorn_variable_is_listed():
    config = (ROOT / "gunicorn.conf.py").read_text()
    read = set(re.findall(r"(?:environ\.get|_int)\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']", config))
    assert {"WEB_CONCURRENCY", "GUNICORN_TIMEOUT"} <= read
    assert read - listed() == set()
