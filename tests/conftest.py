"""Shared fixtures: a database on each backend, and a small world of officers.

PostgreSQL tests run when CASECHAIN_TEST_PG_URL is set (``.ci/run`` sets it);
each test session creates its own database on that server and drops it at the
end, so runs never see each other's data.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text

from casechain.storage.db import make_engine
from casechain.storage.uow import UnitOfWork

PG_ENV = "CASECHAIN_TEST_PG_URL"
# What a 302,34 case needs ticked for its challan, and what may be marked not applicable.
CHALLAN_ITEMS = ["fir_copy", "site_plan", "statements_161", "post_mortem", "forensic_report", "arrest_status", "witness_list", "case_diary"]
NA_ITEMS = ["recovery_memos", "case_property"]
FIXED_NOW = datetime(2024, 3, 20, 5, 0, tzinfo=timezone.utc)  # 10:00 PKT


def pytest_collection_modifyitems(session, config, items):
    """Long-running tests (marked ``slow``) first: under pytest-xdist they start at
    once on the workers instead of being the last ones left running on one."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _pg_server_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:
        return None
    host = urlsplit(url.replace("postgresql+psycopg", "postgresql")).hostname
    assert host in ("127.0.0.1", "localhost", "::1"), f"{PG_ENV} must point at 127.0.0.1, not {host}"
    return url


def pg_server_or_skip() -> str:
    """The PostgreSQL server URL; skips the test when there is none (fails it under CASECHAIN_REQUIRE_PG)."""
    server = _pg_server_url()
    if server is None:
        if os.environ.get("CASECHAIN_REQUIRE_PG"):
            pytest.fail(f"CASECHAIN_REQUIRE_PG is set but {PG_ENV} is not")
        pytest.skip(f"{PG_ENV} not set: PostgreSQL tests skipped")
    return server


@contextmanager
def scratch_pg_database(prefix: str = "casechain_test"):
    """URL of a new, empty PostgreSQL database of its own (a unique name, so parallel
    test processes never meet), dropped afterwards."""
    server = pg_server_or_skip()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"{server.rsplit('/', 1)[0]}/{name}"
        try:
            yield url
        finally:
            release_engine(url)
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database():
    """URL of a fresh PostgreSQL database for this test session (dropped afterwards)."""
    with scratch_pg_database() as url:
        yield url


def _reset_pg(url: str) -> None:
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    eng.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """An empty database URL on each backend (PostgreSQL only when enabled)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'casechain.db'}"
        return
    url = request.getfixturevalue("pg_database")
    _reset_pg(url)
    yield url


# -- the database as a whole: release, copy, compare -----------------------------------
def release_engine(url: str) -> None:
    """Close the engine the command line cached for ``url``, so that the file can be
    copied or the PostgreSQL database reset or dropped."""
    from casechain import bootstrap

    bootstrap.engine_for(url).dispose()
    bootstrap.engine_for.cache_clear()


def checkpoint(path: Path) -> None:
    """Fold an SQLite file's write-ahead log into the file, so that copying the file copies the database."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def sqlite_copy(template: Path, folder: Path) -> str:
    """URL of a private copy of an SQLite template database (checkpointed) in ``folder``."""
    path = folder / "casechain.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def sqlite_dump(path: Path) -> list[str]:
    """Every schema statement and row of an SQLite file, as SQL text."""
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def pg_rows(db) -> dict[str, list]:
    """Every row of every table of a PostgreSQL database (``db``: a URL or an engine),
    as the server prints it, sorted per table: two dumps are equal when no row of
    any table was added, removed or changed. One round trip for all the rows."""
    eng = create_engine(db) if isinstance(db, str) else db
    try:
        with eng.connect() as conn:
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).scalars().all()
            out: dict[str, list] = {t: [] for t in tables}
            if tables:
                union = " UNION ALL ".join(f"SELECT {i} AS t, r::text AS row FROM public.\"{t}\" r" for i, t in enumerate(tables))
                for i, row in conn.execute(text(union)).all():
                    out[tables[i]].append(row)
            return {t: sorted(rows) for t, rows in out.items()}
    finally:
        if isinstance(db, str):
            eng.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'casechain.db'}"


class World:
    """A database with stations and officers in two districts.

    Lahore: stations CLN (SHO-1, IO-101, IO-102) and MDL (SHO-3, IO-301);
    prosecutor PP-7, supervisor SP-1. Karachi South: station KHI (SHO-2,
    IO-201); prosecutor PP-9. Admin ADM-1.
    """

    def __init__(self, url: str, now: datetime = FIXED_NOW):
        self.url = url
        self.engine = make_engine(url)
        self.now = now

    def uow(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, now=lambda: self.now, readonly=readonly)

    def run(self, action, *args, **kwargs):
        with self.uow() as uow:
            return action(uow, *args, **kwargs)

    def setup(self) -> "World":
        from casechain.services import admin

        self.run(admin.init, "ADM-1", "System Admin")
        for code, name, district in [("CLN", "PS Civil Lines", "Lahore"), ("MDL", "PS Model Town", "Lahore"), ("KHI", "PS Artillery Maidan", "Karachi South")]:
            self.run(admin.add_station, "ADM-1", code, name, district)
        for badge, role, district, station in [
            ("SHO-1", "sho", "Lahore", "CLN"),
            ("IO-101", "io", "Lahore", "CLN"),
            ("IO-102", "io", "Lahore", "CLN"),
            ("SHO-3", "sho", "Lahore", "MDL"),
            ("IO-301", "io", "Lahore", "MDL"),
            ("PP-7", "prosecutor", "Lahore", None),
            ("SP-1", "supervisor", "Lahore", None),
            ("SHO-2", "sho", "Karachi South", "KHI"),
            ("IO-201", "io", "Karachi South", "KHI"),
            ("PP-9", "prosecutor", "Karachi South", None),
        ]:
            self.run(admin.add_officer, "ADM-1", badge, f"Officer {badge}", role, district, station)
        return self

    def register(self, fir_no: int, station: str = "CLN", sections: str = "302,34", flags=(), accused=("Bilal",), sho: str | None = None) -> str:
        from casechain.services import cases

        sho = sho or {"CLN": "SHO-1", "MDL": "SHO-3", "KHI": "SHO-2"}[station]
        return self.run(
            cases.register, sho, station, fir_no, 2024, sections, "2024-03-01T22:15", "2024-03-02T01:10", "Muhammad Aslam", list(accused), list(flags)
        )["ref"]

    def under_investigation(self, fir_no: int, **register) -> str:
        """A case registered at CLN (``register`` as for :meth:`register`), assigned to IO-101, under investigation."""
        from casechain.services import cases

        ref = self.register(fir_no, **register)
        self.run(cases.assign, "SHO-1", ref, "IO-101")
        self.run(cases.advance, "IO-101", ref, "start_investigation")
        return ref

    def complete_challan(self, ref: str, na_reason: str = "none") -> None:
        """IO-101 ticks every item a 302 challan needs (CHALLAN_ITEMS) and marks the rest not applicable."""
        from casechain.services import checklist

        for item in CHALLAN_ITEMS:
            self.run(checklist.tick, "IO-101", ref, item, f"ref {item}")
        for item in NA_ITEMS:
            self.run(checklist.not_applicable, "IO-101", ref, item, na_reason)

    def two_cases(self) -> tuple[str, str, int, int]:
        """Case CLN/123/2024 under investigation (IO-101, fir_copy ticked, accused
        Bilal); case CLN/124/2024 under scrutiny with deficiency d1 resolved and d2 open."""
        from casechain.services import cases, checklist, deficiencies

        a = self.under_investigation(123)
        self.run(checklist.tick, "IO-101", a, "fir_copy", "DD 12")
        b = self.under_investigation(124)
        self.complete_challan(b)
        self.run(cases.advance, "IO-101", b, "submit_challan")
        d1 = self.run(deficiencies.flag, "PP-7", b, "WITNESS_LIST_MISSING", None)["id"]
        self.run(deficiencies.resolve, "PP-7", b, d1)
        d2 = self.run(deficiencies.flag, "PP-7", b, "FORENSIC_MISSING", None)["id"]
        return a, b, d1, d2

    def dispose(self):
        self.engine.dispose()


# The two cases of World.two_cases(), as the command-line tests name them.
CASE_A, CASE_B = "CLN/123/2024", "CLN/124/2024"


def build_two_cases(url: str) -> dict:
    """The World and its two cases at ``url``: {"D1", "D2"}, the deficiency ids as text."""
    w = World(url).setup()
    try:
        a, b, d1, d2 = w.two_cases()
    finally:
        w.dispose()
    assert (a, b) == (CASE_A, CASE_B)
    return {"D1": str(d1), "D2": str(d2)}


@pytest.fixture(scope="session")
def two_case_template(tmp_path_factory) -> dict:
    """An SQLite database built once per test process: the World and its two cases,
    checkpointed so that a test copies the file (``sqlite_copy``) instead of building
    it again: {"path", "D1", "D2"}."""
    path = tmp_path_factory.mktemp("two-cases") / "template.db"
    ids = build_two_cases(f"sqlite:///{path}")
    checkpoint(path)
    return {"path": path, **ids}


# -- a World per test, built once per test process -------------------------------------------
# World.setup() (init: schema, SOPs; stations; officers) is the same for every
# test, so it runs once per process and backend: a test gets a copy of the SQLite
# file, or the PostgreSQL database put back row for row (every table, every
# sequence) as it was right after setup. What the test sees is what setup()
# would have built.


@pytest.fixture(scope="session")
def sqlite_world_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("world") / "world.db"
    World(f"sqlite:///{path}").setup().dispose()
    checkpoint(path)
    return path


class PgSnapshot:
    """Every row of every table and the position of every sequence of a PostgreSQL
    database, to put it back exactly as it was (the schema itself must not change)."""

    def __init__(self, engine):
        from sqlalchemy import MetaData, select

        self.meta = MetaData()
        with engine.connect() as conn:
            self.meta.reflect(bind=conn)
            self.rows = {t.name: [dict(r) for r in conn.execute(select(t)).mappings()] for t in self.meta.sorted_tables}
            self.sequences = conn.execute(text("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")).all()

    def fits(self, engine) -> bool:
        with engine.connect() as conn:
            now = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
        return now == set(self.rows)

    def restore(self, engine) -> None:
        with engine.begin() as conn:
            for t in reversed(self.meta.sorted_tables):  # DELETE: quicker than TRUNCATE on tables this small
                conn.execute(t.delete())
            for t in self.meta.sorted_tables:
                if self.rows[t.name]:
                    conn.execute(t.insert(), self.rows[t.name])
            for name, last in self.sequences:
                if last is None:
                    conn.execute(text(f'ALTER SEQUENCE public."{name}" RESTART'))
                else:
                    conn.execute(text("SELECT setval(:s, :v, true)"), {"s": f'public."{name}"', "v": last})


@pytest.fixture(scope="session")
def pg_world_database():
    """A PostgreSQL database of its own for World tests: {"url", "snapshot"}."""
    with scratch_pg_database("casechain_world") as url:
        yield {"url": url, "snapshot": None}


def fresh_world(kind: str, request, tmp_path) -> World:
    """A World as ``World(url).setup()`` builds it, on ``kind`` (sqlite or postgres)."""
    if kind == "sqlite":
        return World(sqlite_copy(request.getfixturevalue("sqlite_world_template"), tmp_path))
    db = request.getfixturevalue("pg_world_database")
    w = World(db["url"])
    snap = db["snapshot"]
    if snap is not None and snap.fits(w.engine):
        snap.restore(w.engine)
        return w
    w.dispose()
    _reset_pg(db["url"])
    w = World(db["url"]).setup()
    db["snapshot"] = PgSnapshot(w.engine)
    return w


@pytest.fixture(params=["sqlite", "postgres"])
def world(request, tmp_path):
    w = fresh_world(request.param, request, tmp_path)
    yield w
    w.dispose()


@pytest.fixture
def sqlite_world(request, tmp_path):
    w = fresh_world("sqlite", request, tmp_path)
    yield w
    w.dispose()
