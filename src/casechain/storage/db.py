"""Engine set-up: which database, and how to talk to it.

Default: an SQLite file in the user's data directory (platformdirs), in WAL
mode so readers never block the writer. ``--db``/``CASECHAIN_DB`` takes any
SQLAlchemy URL (``postgresql+psycopg://user@127.0.0.1/db``) or a file path.
"""

from __future__ import annotations

import os
import time
from datetime import timezone
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: SQLite's busy timeout alone
    fcntl = None

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from casechain.domain.errors import BadInput


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("casechain", appauthor=False)) / "casechain.db"


def resolve_url(db: str | None) -> str:
    """A URL from --db / CASECHAIN_DB / the default; a plain path means SQLite."""
    db = db or os.environ.get("CASECHAIN_DB") or str(default_db_path())
    if "://" not in db:
        path = Path(db).expanduser()
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    try:
        make_url(db)
    except ArgumentError:
        raise BadInput(f"bad database URL {db!r}: use sqlite:///path.db or postgresql+psycopg://user@host/db") from None
    return db


def _sqlite_pragmas(dbapi_conn, durable: bool):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: an action reported done survives a power cut. Bulk builds of
    # throw-away data (the demo) may trade that for speed.
    cur.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str, durable: bool = True) -> Engine:
    if url.startswith("sqlite"):
        # isolation_level=None + explicit BEGIN IMMEDIATE (see uow) gives one
        # writer at a time without the deferred-upgrade deadlock of pysqlite.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", lambda conn, _rec: _sqlite_pragmas(conn, durable))

        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # Writers take the lock up front; read-only units of work do not block them.
            readonly = conn.get_execution_options().get("casechain_readonly")
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def _writer_lock_path(engine: Engine) -> str | None:
    if engine.url.get_backend_name() != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}.writer-lock"


@contextmanager
def writer_turn(engine: Engine, timeout: float = 10.0):
    """Writers to one SQLite file take turns on an OS file lock beside it.

    SQLite's own busy handler makes a waiting writer sleep longer and longer
    (up to 100 ms a try), so with several processes writing the lock is often
    free while everyone sleeps. Waiting here in short steps hands the database
    to the next writer within milliseconds. Past ``timeout`` we go on and let
    SQLite's busy timeout report "database is busy" (exit 3). The lock is an
    optimisation only: correctness still rests on BEGIN IMMEDIATE. PostgreSQL
    needs none of this.
    """
    path = _writer_lock_path(engine)
    fd = None
    if path is not None and fcntl is not None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:  # a read-only folder: fall back to SQLite's busy handler
            fd = None
    try:
        if fd is not None:
            deadline = time.monotonic() + timeout
            delay = 0.0005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(delay)
                    delay = min(delay * 2, 0.004)
        yield
    finally:
        if fd is not None:
            os.close(fd)  # closing the file releases the lock


def create_schema(engine: Engine) -> None:
    """Create or upgrade the schema: by the shipped alembic revisions once there
    are any (storage/migrate.py), else from the models."""
    from sqlmodel import SQLModel

    from casechain.storage import migrate, tables  # noqa: F401  (registers the tables)

    if migrate.has_revisions():
        migrate.upgrade(engine)
    else:
        SQLModel.metadata.create_all(engine)


def sqlite_datetime_text(value):
    """The text SQLAlchemy stores on SQLite for sqlmodel's ``UTCDateTime``
    (naive UTC, to the microsecond), for bulk writers that hand rows straight
    to the driver. An aware instant in another zone gets the same text as
    its UTC equal; a naive value is refused, as the column type refuses it."""
    if value is None:
        return None
    if value.tzinfo is not timezone.utc:
        if value.utcoffset() is None:
            raise ValueError("Datetime values must have timezone information")
        value = value.astimezone(timezone.utc)
    return value.isoformat(" ", "microseconds")[:26]
