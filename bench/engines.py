"""The databases the bench runs the portal on: SQLite (a file of the bench's own, the
default engine) and PostgreSQL (a database of the bench's own on the server of
BENCH_POSTGRES_URL, created for the run and dropped after it)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
MARKER = "numbers-portal-bench"  # the comment on every database the bench created


@dataclass
class Engine:
    name: str  # "sqlite" or "postgresql"
    label: str  # "SQLite", "PostgreSQL 15.2"
    workdir: Path
    server_url: str = ""  # PostgreSQL: where to create databases
    problem: str = ""  # why it cannot be used, if it cannot

    def url(self, database: str) -> str:
        if self.name == "sqlite":
            return f"sqlite:///{self.workdir / (database + '.sqlite3')}"
        parts = urlsplit(self.server_url)
        return urlunsplit(parts._replace(path=f"/{database}"))

    def create(self, database: str, *, template: str = "") -> None:
        """An empty database (or a copy of `template`, a prepared one)."""
        if self.name == "sqlite":
            target = self.workdir / f"{database}.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            if template:
                shutil.copyfile(self.workdir / f"{template}.sqlite3", target)
            return
        self.drop(database)
        copy = f" TEMPLATE {template}" if template else ""
        self._admin(f'CREATE DATABASE "{database}"{copy}')
        self._admin(f"COMMENT ON DATABASE \"{database}\" IS '{MARKER}'")

    def drop(self, database: str) -> None:
        if self.name == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.workdir / (database + '.sqlite3')}{suffix}").unlink(missing_ok=True)
            return
        rows = self._admin(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [database],
        )
        if rows and rows[0][0] != MARKER:
            raise RuntimeError(f"database {database} exists and is not the bench's own")
        if rows:
            self._admin(f'DROP DATABASE "{database}" WITH (FORCE)')

    def _admin(self, sql: str, params=None):
        import psycopg

        with psycopg.connect(self.server_url, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


def available(names: tuple[str, ...], workdir: Path) -> list[Engine]:
    engines = []
    for name in names:
        if name == "sqlite":
            engines.append(Engine("sqlite", "SQLite", workdir))
            continue
        url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
        engine = Engine("postgresql", "PostgreSQL", workdir, server_url=url)
        try:
            [(version,)] = engine._admin("SHOW server_version")
            engine.label = f"PostgreSQL {version.split()[0]}"
        except Exception as problem:  # any failure means: not measured
            engine.problem = f"PostgreSQL at {url} is unavailable ({problem})"
        engines.append(engine)
    return engines
