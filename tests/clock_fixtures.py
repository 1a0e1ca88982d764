"""A fresh World per test without paying for ``init`` each time.

The world (schema, SOPs, stations, officers of conftest.World) is built once
per module and backend: each test gets a copy of the SQLite file, or the
PostgreSQL database with every case table emptied.
"""

from __future__ import annotations

import shutil
import uuid

import pytest
from conftest import World, _pg_server_url
from sqlalchemy import create_engine, text


def _admin(server: str):
    return create_engine(server, isolation_level="AUTOCOMMIT")


KEEP = {"station", "officer", "sop"}  # what World.setup made; every other table is emptied between tests


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


@pytest.fixture
def fast_world(world_template, tmp_path):
    kind, where = world_template
    if kind == "sqlite":
        path = tmp_path / "casechain.db"
        shutil.copyfile(where, path)
        w = World(f"sqlite:///{path}")
        yield w
        w.dispose()
        return
    from sqlmodel import SQLModel

    names = [t.name for t in SQLModel.metadata.sorted_tables if t.name not in KEEP]
    with where.engine.begin() as conn:  # DELETE: much quicker than TRUNCATE on tables this small
        for n in reversed(names):
            conn.execute(text(f'DELETE FROM "{n}"'))
    where.now = World(where.url).now  # the default present
    yield where
