"""The bulk demo path builds exactly what the services build, row for row.

``casechain demo`` runs one case script through either executor: the
services, one unit of work per action (the reference), or the bulk path
(cases in memory, clocks and report figures folded from each case's trail
by the fold rebuild_all uses, rows written in batches).
For a fixed seed and end date both must leave identical databases: the same
cases, audit trails byte for byte (hashes included), checklist, deficiencies,
accused, clocks and report rows.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlmodel import SQLModel

from casechain import demo
from casechain.cli import cli
from casechain.services import audit
from casechain.services.transfer import _dump
from casechain.storage.db import make_engine
from casechain.storage.uow import UnitOfWork

END = datetime(2024, 6, 29, 19, 0, tzinfo=timezone.utc)  # 2024-06-30 00:00 PKT
N = 40


def dump(engine) -> dict[str, list[str]]:
    """Every row of every table (ids included), times as UTC text, sorted."""
    out = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows = conn.execute(select(table)).mappings().all()
            out[table.name] = sorted(json.dumps({k: _dump(v) for k, v in r.items()}, sort_keys=True, ensure_ascii=False) for r in rows)
    return out


def schema(engine) -> list[tuple]:
    """SQLite's own record of the tables and indexes (the bulk writer drops
    and builds again the secondary indexes)."""
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.exec_driver_sql("SELECT type, name, tbl_name, sql FROM sqlite_master"))


def _build(url, bulk: bool, seed: int = 5, n: int = N):
    engine = make_engine(url, durable=False)
    result = demo.build(engine, n, seed, end=END, bulk=bulk)
    return engine, result


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The service path's database (SQLite), built once for the module."""
    path = tmp_path_factory.mktemp("ref") / "services.db"
    engine, result = _build(f"sqlite:///{path}", bulk=False)
    yield dump(engine), result, schema(engine)
    engine.dispose()


def test_bulk_path_builds_the_same_database_as_the_services(reference, db_url):
    expected, ref_result, ref_schema = reference
    engine, result = _build(db_url, bulk=True)
    try:
        got = dump(engine)
        if engine.dialect.name == "sqlite":
            assert schema(engine) == ref_schema  # every index is back
        assert (result.actions, result.refused) == (ref_result.actions, ref_result.refused)
        assert result.bulk and not ref_result.bulk
        for table in expected:
            assert got[table] == expected[table], f"table {table} differs between the bulk and the service path"
        assert len(got["audit_event"]) > 10 * N and got["deficiency"] and got["clock"] and got["checklistentry"]
        with UnitOfWork(engine, now=lambda: END) as uow:
            assert audit.verify(uow) == {"cases": N, "events": len(got["audit_event"])}
    finally:
        engine.dispose()


@pytest.mark.parametrize("text", ["plain", 'quote " and \\ backslash', "Urdu \u0645\u062d\u0645\u062f, \u2028 line sep", "tab\t\x01"])
def test_the_ledger_hashes_as_the_audit_chain(text):
    """CaseLedger lays out canonical JSON and the event body by hand: byte for
    byte what domain.audit.canonical and link_hash give, odd text included."""
    from datetime import timedelta

    from casechain.domain.audit import GENESIS, EventRecord, canonical, link_hash
    from casechain.domain.events import CaseLedger
    from casechain.domain.timeutil import iso_utc

    at = END.replace(microsecond=123)
    later = at + timedelta(hours=3)
    payload = {"z": text, "a": [1, None, True, 2.5, {"k": text}], text: {}}
    ledger = CaseLedger(f"PS/{text}", {})
    ledger.append("tick", f"IO-{text}", at, at, payload)
    ledger.append(text, "IO", at, later, {})
    first = EventRecord(f"PS/{text}", 1, "tick", f"IO-{text}", iso_utc(at), iso_utc(at), payload)
    second = EventRecord(f"PS/{text}", 2, text, "IO", iso_utc(at), iso_utc(later), {})
    assert ledger.events[0][5].encode() == canonical(payload)
    assert ledger.events[0][7] == link_hash(GENESIS, first)
    assert ledger.events[1][6:8] == (ledger.events[0][7], link_hash(ledger.events[0][7], second))
    assert iso_utc(at) == at.strftime("%Y-%m-%dT%H:%M:%S.%fZ") == iso_utc(at.astimezone(timezone(timedelta(hours=5))))


def test_bulk_path_is_reproducible_and_seeds_differ(tmp_path):
    a, _ = _build(f"sqlite:///{tmp_path / 'a.db'}", bulk=True, seed=9, n=300)
    b, _ = _build(f"sqlite:///{tmp_path / 'b.db'}", bulk=True, seed=9, n=300)
    c, _ = _build(f"sqlite:///{tmp_path / 'c.db'}", bulk=True, seed=10, n=300)
    try:
        da = dump(a)
        assert da == dump(b)
        assert da["audit_event"] != dump(c)["audit_event"]
        states = {json.loads(r)["state"] for r in da["case"]}
        assert {"under_investigation", "in_court", "returned_for_deficiencies", "untraced"} <= states
    finally:
        for e in (a, b, c):
            e.dispose()


def test_cli_bulk_demo_verifies_and_reports(tmp_path):
    env = {"CASECHAIN_NOW": "2024-06-30T12:00"}
    runner = CliRunner()
    db = str(tmp_path / "bulk.db")
    r = runner.invoke(cli, ["--db", db, "demo", "--cases", "150", "--seed", "2", "--bulk"], env=env)
    assert r.exit_code == 0, r.output
    assert "Demo: 150 cases at 10 stations" in r.output and "built in bulk" in r.output
    assert "Compliance by district" in r.output
    verify = runner.invoke(cli, ["--db", db, "audit", "verify"], env=env)
    assert verify.exit_code == 0 and "150 case(s)" in verify.output
    # the database goes on working through the services: ids were taken past the bulk rows
    listing = runner.invoke(cli, ["--db", db, "case", "list", "--state", "under_scrutiny", "--format", "json"], env=env)
    ref = json.loads(listing.output)[0]["ref"]
    shown = json.loads(runner.invoke(cli, ["--db", db, "case", "show", ref, "--format", "json"], env=env).output)
    badge = next(o["badge"] for o in json.loads(runner.invoke(cli, ["--db", db, "officer", "list", "--format", "json"], env=env).output)
                 if o["role"] == "prosecutor" and o["district"] == shown["district"])
    flagged = runner.invoke(cli, ["--db", db, "--as", badge, "deficiency", "flag", ref, "--code", "OTHER", "--detail", "x"], env=env)
    assert flagged.exit_code == 0, flagged.output
    assert runner.invoke(cli, ["--db", db, "audit", "verify", ref], env=env).exit_code == 0
