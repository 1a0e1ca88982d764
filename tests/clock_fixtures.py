"""A World built once per module and backend, for module-scoped scenarios
(test_reports' data): the SQLite file to copy, or the PostgreSQL World.
Per-test worlds come from conftest's ``world`` fixture."""

from __future__ import annotations

import uuid

import pytest
from conftest import World, _pg_server_url
from sqlalchemy import create_engine, text


def _admin(server: str):
    return create_engine(server, isolation_level="AUTOCOMMIT")




@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world_template(request, tmp_path_factory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("template") / "casechain.db"
        World(f"sqlite:///{path}").setup().dispose()
        yield ("sqlite", path)
        return
    request.getfixturevalue("pg_database")  # skips (or fails, where PostgreSQL is required) without a server
    server = _pg_server_url()
    name = f"casechain_tpl_{uuid.uuid4().hex[:10]}"
    admin = _admin(server)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    w = World(f"{server.rsplit('/', 1)[0]}/{name}").setup()
    yield ("postgres", w)
    w.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
