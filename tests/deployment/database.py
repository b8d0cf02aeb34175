"""The metadata database of a test deployment, behind one small interface so the backend can change.

SQLite is the default: nothing to install or start, and enough for one scheduler with the LocalExecutor or
a few Celery workers. PostgreSQL is what production deployments run, and Airflow's code differs there
(row locks with ``SKIP LOCKED``, ``ON CONFLICT`` upserts of queued asset events): the event-driven tests
run on both (``make test-events DATABASE=...``). Another backend plugs in as another
:class:`MetadataDatabase`: start or reach a server in :meth:`~MetadataDatabase.create` (on 127.0.0.1
only), hand Airflow its SQLAlchemy URL, drop what was made in :meth:`~MetadataDatabase.drop`, and register
the class in :data:`BACKENDS`. ``VTEX_TEST_DATABASE`` picks the backend by name.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Protocol

ENV_VAR = "VTEX_TEST_DATABASE"


class MetadataDatabase(Protocol):
    """What a deployment needs from its metadata database."""

    name: str

    def create(self) -> None:
        """Make an empty database Airflow can migrate (start a server if the backend needs one)."""

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

    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def environment(self) -> dict[str, str]:
        return {}

    def drop(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


class PostgresDatabase:
    """A PostgreSQL server of its own (:mod:`tests.deployment.postgres`), started in :meth:`create` on a
    free loopback port and deleted in :meth:`drop`.

    Airflow talks to it through psycopg 3 (``postgresql+psycopg``), for its synchronous engine and for
    the API server's asynchronous one (Airflow would otherwise pick asyncpg for the latter): one driver,
    installed into the test virtualenv by ``make test-events``, not a dependency of the provider.
    """

    name = "postgresql"

    def __init__(self, home: Path) -> None:
        from tests.deployment.postgres import PostgresServer

        if importlib.util.find_spec("psycopg") is None:
            raise RuntimeError(
                f"{ENV_VAR}=postgresql needs the psycopg driver in this virtualenv: `make test-events "
                "DATABASE=postgresql` installs it (pip install 'psycopg[binary]')"
            )
        self.server = PostgresServer()

    def create(self) -> None:
        self.server.start()

    def url(self) -> str:
        from tests.deployment.postgres import DATABASE, USER

        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.server.port}/{DATABASE}"

    def environment(self) -> dict[str, str]:
        return {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": self.url()}

    def drop(self) -> None:
        self.server.stop()


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
