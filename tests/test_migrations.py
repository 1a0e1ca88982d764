"""Schema migrations: the alembic wiring in casechain.storage.migrate.

The package ships its revisions in storage/migrations/versions/ (made with
``python -m casechain.storage.migrate revision "..."``). These tests build
revisions of their own from the real models, in a temporary folder, so that
they test the machinery whatever the shipped history holds:

- an empty database upgraded to head has exactly the models' schema;
- a database at the first revision, holding data, upgrades to head with
  nothing lost (every row of every table it had, the audit chains intact),
  and casechain works on it afterwards;
- a database made before migrations (create_all) is stamped and upgraded;
- the shipped revisions, once there are any, build the models' schema.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from conftest import World
from sqlalchemy import MetaData, create_engine, inspect, select
from sqlmodel import SQLModel

from casechain.services import audit, cases, checklist
from casechain.storage import migrate, tables  # noqa: F401
from casechain.storage.db import make_engine

# the tables of the first case engine, before clocks, custody and report figures
FIRST = ["sop", "station", "officer", "case", "accused", "checklistentry", "deficiency", "audit_event"]


def _subset(names) -> MetaData:
    md = MetaData()
    for name in names:
        SQLModel.metadata.tables[name].to_metadata(md)
    return md


def _diff(engine, metadata=None) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, metadata or SQLModel.metadata)


def _rows(engine, names) -> dict:
    out = {}
    with engine.connect() as conn:
        for name in names:
            t = SQLModel.metadata.tables[name]
            rows = conn.execute(select(t).order_by(*t.primary_key.columns)).mappings().all()
            out[name] = [json.dumps({k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()}, sort_keys=True) for r in rows]
    return out


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Two revisions made from the models: the first engine's tables, then the rest."""
    folder = tmp_path_factory.mktemp("versions")
    first = migrate.revision("the first case engine", versions=folder, metadata=_subset(FIRST), rev_id="0001")
    second = migrate.revision("clocks, custody, report figures", versions=folder, rev_id="0002")
    assert first.exists() and second.exists()
    assert migrate.revisions(folder) == ["0001", "0002"]
    return folder


def test_an_empty_database_upgraded_to_head_has_the_models_schema(db_url, history):
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine, versions=history)
        assert migrate.current(engine) == "0002"
        assert _diff(engine) == []
        migrate.upgrade(engine, versions=history)  # again: nothing to do
        assert migrate.current(engine) == "0002"
    finally:
        engine.dispose()


def test_a_database_at_the_first_revision_upgrades_with_nothing_lost(db_url, history, tmp_path):
    # the data: a case engine's worth of rows, made through the services elsewhere
    source = World(f"sqlite:///{tmp_path / 'source.db'}").setup()
    ref = source.register(123, accused=("Bilal", "Unknown (2)"))
    source.run(cases.assign, "SHO-1", ref, "IO-101")
    source.run(cases.advance, "IO-101", ref, "start_investigation")
    source.run(checklist.tick, "IO-101", ref, "fir_copy", "DD 12 \u0645\u062d\u0645\u062f")
    before = _rows(source.engine, FIRST)
    source.dispose()

    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine, target="0001", versions=history)
        assert migrate.current(engine) == "0001"
        assert set(inspect(engine).get_table_names()) == set(FIRST) | {"alembic_version"}
        src = create_engine(f"sqlite:///{tmp_path / 'source.db'}")
        with src.connect() as s, engine.begin() as d:
            for name in FIRST:  # parents first
                t = SQLModel.metadata.tables[name]
                rows = [dict(r) for r in s.execute(select(t)).mappings()]
                if rows:
                    d.execute(t.insert(), rows)
        src.dispose()
        if engine.dialect.name == "postgresql":  # ids came with the rows
            with engine.begin() as d:
                for name in ("case", "accused", "deficiency"):
                    d.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), COALESCE((SELECT MAX(id) FROM \"{name}\"), 1))")

        migrate.upgrade(engine, versions=history)
        assert migrate.current(engine) == "0002"
        assert _diff(engine) == []
        assert _rows(engine, FIRST) == before, "a row changed or went missing in the upgrade"
    finally:
        engine.dispose()
    w = World(db_url)
    try:
        assert w.run(audit.verify) == {"cases": 1, "events": 4}
        w.run(checklist.tick, "IO-101", ref, "site_plan", "SP-17")  # and it works
        assert w.run(cases.show, ref)["version"] == 5
    finally:
        w.dispose()


def test_a_database_made_before_migrations_is_stamped_and_upgraded(sqlite_url, tmp_path, monkeypatch):
    """The first shipped revision is the baseline: the schema create_all made."""
    history = tmp_path / "versions"
    migrate.revision("baseline", versions=history, rev_id="0001")
    migrate.revision("nothing new yet", versions=history, rev_id="0002")
    with monkeypatch.context() as m:  # init as casechain did before it had migrations: create_all
        m.setattr(migrate, "has_revisions", lambda versions=None: False)
        w = World(sqlite_url).setup()
        ref = w.register(7)
        w.dispose()
    engine = make_engine(sqlite_url)
    try:
        assert migrate.current(engine) is None
        before = _rows(engine, FIRST)
        migrate.upgrade(engine, versions=history)
        assert migrate.current(engine) == "0002"
        assert _rows(engine, FIRST) == before
    finally:
        engine.dispose()
    w = World(sqlite_url)
    assert w.run(cases.show, ref)["version"] == 1
    w.dispose()


def test_the_shipped_schema_matches_the_models(db_url):
    """``casechain init`` builds exactly the models' tables: through the shipped
    revisions when there are any (then they must be complete), else create_all."""
    from casechain.services import admin

    w = World(db_url)
    w.run(admin.init, "ADM-1", "System Admin")
    try:
        assert _diff(w.engine) == [], "the models changed without a revision: python -m casechain.storage.migrate revision '...'"
        assert (migrate.current(w.engine) is not None) == migrate.has_revisions()
    finally:
        w.dispose()


def test_the_shipped_revisions_upgrade_a_database_holding_data(db_url, monkeypatch):
    """An office on the first release (revision 0001) installs the new one and
    runs ``casechain init``: every row stays, the chains verify, work goes on."""
    from casechain.services import admin

    shipped = migrate.revisions()
    assert shipped[0] == "0001" and len(shipped) >= 2, shipped
    upgrade = migrate.upgrade
    with monkeypatch.context() as m:  # casechain as it was at the first revision
        m.setattr(migrate, "upgrade", lambda engine, target="head", versions=None: upgrade(engine, "0001", versions))
        w = World(db_url).setup()
        ref_a, ref_b, _, _ = w.two_cases()
        w.dispose()
    engine = make_engine(db_url)
    try:
        assert migrate.current(engine) == "0001"
        names = [n for n in SQLModel.metadata.tables if n in set(inspect(engine).get_table_names())]
        before = _rows(engine, names)
        assert sum(map(len, before.values())) > 20
    finally:
        engine.dispose()
    w = World(db_url)
    try:
        w.run(admin.init, "ADM-1", "System Admin")  # the upgrade an office runs
        assert migrate.current(w.engine) == shipped[-1]
        assert _diff(w.engine) == []
        assert _rows(w.engine, names) == before, "a row changed or went missing in the upgrade"
        assert w.run(audit.verify)["cases"] == 2
        w.run(checklist.tick, "IO-101", ref_a, "site_plan", "SP-18")
        assert w.run(cases.show, ref_b)["ref"] == ref_b
    finally:
        w.dispose()
