"""Shared fixtures: a database on each backend, and a small world of officers.

PostgreSQL tests run when CASECHAIN_TEST_PG_URL is set (``.ci/run`` sets it);
each test session creates its own database on that server and drops it at the
end, so runs never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text

from casechain.storage.db import make_engine
from casechain.storage.uow import UnitOfWork

PG_ENV = "CASECHAIN_TEST_PG_URL"
CHALLAN_ITEMS = ["fir_copy", "site_plan", "statements_161", "post_mortem", "forensic_report", "arrest_status", "witness_list", "case_diary"]
FIXED_NOW = datetime(2024, 3, 20, 5, 0, tzinfo=timezone.utc)  # 10:00 PKT


def _pg_server_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:
        return None
    host = urlsplit(url.replace("postgresql+psycopg", "postgresql")).hostname
    assert host in ("127.0.0.1", "localhost", "::1"), f"{PG_ENV} must point at 127.0.0.1, not {host}"
    return url


@pytest.fixture(scope="session")
def pg_database():
    """URL of a fresh PostgreSQL database for this test session (dropped afterwards)."""
    server = _pg_server_url()
    if server is None:
        if os.environ.get("CASECHAIN_REQUIRE_PG"):
            pytest.fail(f"CASECHAIN_REQUIRE_PG is set but {PG_ENV} is not")
        pytest.skip(f"{PG_ENV} not set: PostgreSQL tests skipped")
    name = f"casechain_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = server.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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

    def two_cases(self) -> tuple[str, str, int, int]:
        """Case CLN/123/2024 under investigation (IO-101, fir_copy ticked, accused
        Bilal); case CLN/124/2024 under scrutiny with deficiency d1 resolved and d2 open."""
        from casechain.services import cases, checklist, deficiencies

        a = self.register(123)
        self.run(cases.assign, "SHO-1", a, "IO-101")
        self.run(cases.advance, "IO-101", a, "start_investigation")
        self.run(checklist.tick, "IO-101", a, "fir_copy", "DD 12")
        b = self.register(124)
        self.run(cases.assign, "SHO-1", b, "IO-101")
        self.run(cases.advance, "IO-101", b, "start_investigation")
        for item in CHALLAN_ITEMS:
            self.run(checklist.tick, "IO-101", b, item, f"ref {item}")
        for item in ("recovery_memos", "case_property"):
            self.run(checklist.not_applicable, "IO-101", b, item, "none")
        self.run(cases.advance, "IO-101", b, "submit_challan")
        d1 = self.run(deficiencies.flag, "PP-7", b, "WITNESS_LIST_MISSING", None)["id"]
        self.run(deficiencies.resolve, "PP-7", b, d1)
        d2 = self.run(deficiencies.flag, "PP-7", b, "FORENSIC_MISSING", None)["id"]
        return a, b, d1, d2

    def dispose(self):
        self.engine.dispose()


@pytest.fixture
def world(db_url):
    w = World(db_url).setup()
    yield w
    w.dispose()


@pytest.fixture
def sqlite_world(sqlite_url):
    w = World(sqlite_url).setup()
    yield w
    w.dispose()
