"""The metadata database of a test deployment, behind one small interface so the backend can change.

SQLite is the default: nothing to install or start, and enough for one scheduler with the LocalExecutor or
a few Celery workers. PostgreSQL is what production deployments run, and Airflow's code differs there
(row locks with ``SKIP LOCKED``, ``ON CONFLICT`` upserts of queued asset events): the event-driven tests
run on both (``make test-events DATABASE=...``). Another backend plugs in as another
:class:`MetadataDatabase`: start or reach a server in :meth:`~MetadataDatabase.create` (on 127.0.0.1
only), copy a migrated database in :meth:`~MetadataDatabase.copy_from`, hand Airflow its SQLAlchemy URL,
drop what was made in :meth:`~MetadataDatabase.drop`, and register the class in :data:`BACKENDS`.
``VTEX_TEST_DATABASE`` picks the backend by name.

Each deployment has a database of its own, but Airflow's schema is migrated only once per test process:
into a template database of the same backend (``tests.deployment.airflow``), which every deployment's
database is then copied from (SQLite: the file; PostgreSQL: ``CREATE DATABASE ... TEMPLATE``). A
migration takes 20 to 40 s on a busy 2-core machine; a copy, a fraction of a second.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import shutil
from pathlib import Path
from typing import Protocol

ENV_VAR = "VTEX_TEST_DATABASE"


class MetadataDatabase(Protocol):
    """What a deployment needs from its metadata database."""

    name: str

    def create(self) -> None:
        """Make an empty database Airflow can migrate (start a server if the backend needs one)."""

    def copy_from(self, template: MetadataDatabase) -> None:
        """Make this database a copy of ``template``, a migrated database of the same backend."""

    def url(self) -> str:
        """The SQLAlchemy URL for ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``."""

    def environment(self) -> dict[str, str]:
        """Extra Airflow settings this backend needs (pool sizes, connect arguments...)."""

    def drop(self) -> None:
        """Remove what :meth:`create` made and stop what it started; safe to call twice."""


class SqliteDatabase:
    """A SQLite file inside the deployment's AIRFLOW_HOME (removed with it)."""

    name = "sqlite"

    def __init__(self, home: Path) -> None:
        self.path = home / "airflow.db"

    def create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def copy_from(self, template: MetadataDatabase) -> None:
        if not isinstance(template, SqliteDatabase):
            raise TypeError(f"a SQLite database is copied from another, not from {template.name}")
        self.create()
        shutil.copyfile(template.path, self.path)

    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def environment(self) -> dict[str, str]:
        return {}

    def drop(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


#: Names of this process's PostgreSQL databases: one per deployment (and per template), on one server.
_postgres_numbers = itertools.count(1)


class PostgresDatabase:
    """A database of its own on this test process's PostgreSQL server (:mod:`tests.deployment.postgres`:
    started with the first database, on a free loopback port; stopped at the end of the process), created
    in :meth:`create` or :meth:`copy_from` and dropped in :meth:`drop`.

    Airflow talks to it through psycopg 3 (``postgresql+psycopg``), for its synchronous engine and for
    the API server's asynchronous one (Airflow would otherwise pick asyncpg for the latter): one driver,
    installed into the test virtualenv by ``make test-events``, not a dependency of the provider.
    """

    name = "postgresql"

    def __init__(self, home: Path) -> None:
        from tests.deployment.postgres import shared_server

        if importlib.util.find_spec("psycopg") is None:
            raise RuntimeError(
                f"{ENV_VAR}=postgresql needs the psycopg driver in this virtualenv: `make test-events "
                "DATABASE=postgresql` installs it (pip install 'psycopg[binary]')"
            )
        self.server = shared_server()
        self.database = f"airflow_{next(_postgres_numbers)}"
        self.created = False

    def _create(self, template: str | None) -> None:
        if not self.server.started:
            self.server.start()
        self.server.create_database(self.database, template)
        self.created = True

    def create(self) -> None:
        self._create(None)

    def copy_from(self, template: MetadataDatabase) -> None:
        if not isinstance(template, PostgresDatabase) or template.server is not self.server:
            raise TypeError("a PostgreSQL database is copied from another on the same server")
        self._create(template.database)

    def url(self) -> str:
        from tests.deployment.postgres import USER

        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.server.port}/{self.database}"

    def environment(self) -> dict[str, str]:
        return {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": self.url()}

    def drop(self) -> None:
        if self.created and self.server.started:
            self.server.drop_database(self.database)
        self.created = False


#: Backends by the name ``VTEX_TEST_DATABASE`` gives.
BACKENDS: dict[str, type[SqliteDatabase] | type[PostgresDatabase]] = {
    "sqlite": SqliteDatabase,
    "postgresql": PostgresDatabase,
    "postgres": PostgresDatabase,
}


def database_for(home: Path, name: str | None = None) -> MetadataDatabase:
    """The backend named by ``name`` or ``$VTEX_TEST_DATABASE`` (default ``sqlite``)."""
    chosen = (name or os.environ.get(ENV_VAR) or "sqlite").lower()
    backend = BACKENDS.get(chosen)
    if backend is None:
        raise ValueError(
            f"{ENV_VAR}={chosen!r} is not a metadata database backend of tests/deployment: known are "
            f"{sorted(BACKENDS)}. Add one as a MetadataDatabase in tests/deployment/database.py."
        )
    return backend(home)
