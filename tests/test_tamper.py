"""Tamper evidence: change one stored value behind casechain's back, and
``audit verify`` exits 4 naming the case and the event (or "case row").

Every column of the audit table and of the case row that the chain covers is
altered in turn (the case's surrogate ``id`` is not: rows of other tables
point at it), and so are the rows the chain also vouches for: checklist
entries, deficiencies and accused. Events are deleted, forged and moved too.
Runs on SQLite (a fresh copy per alteration) and PostgreSQL (each alteration
undone after it was detected, and the trail checked intact again).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from conftest import CASE_A, CASE_B, build_two_cases, release_engine, scratch_pg_database, sqlite_copy
from sqlalchemy import and_, create_engine, select, text

from casechain.cli import cli
from casechain.storage.tables import (
    Accused,
    AuditEvent,
    Case,
    ChecklistEntry,
    Deficiency,
)

NOW = "2024-03-20T10:00"
A, B = CASE_A, CASE_B  # the World's two cases (conftest.World.two_cases)


def _flip(h: str) -> str:
    return ("1" if h[0] != "1" else "2") + h[1:]


def _later(v: datetime) -> datetime:
    return v + timedelta(hours=1)


# (id, table, which row, column, new value from old, what verify must say)
EV2 = {"case": A, "seq": 2}  # A's event 2: assign IO-101
COLUMNS = [
    # every column of the audit table
    ("event-case_id", AuditEvent, {"case": B, "seq": "last"}, "case_id", "case:A", rf"case {A}, event \d+: sequence gap"),
    ("event-seq", AuditEvent, EV2, "seq", lambda v: 99, rf"case {A}, event 3: sequence gap: expected event 2"),
    ("event-action", AuditEvent, EV2, "action", lambda v: "advance", rf"case {A}, event 2: hash does not match"),
    ("event-actor", AuditEvent, EV2, "actor", lambda v: "SP-1", rf"case {A}, event 2: hash does not match"),
    ("event-occurred_at", AuditEvent, EV2, "occurred_at", _later, rf"case {A}, event 2: hash does not match"),
    ("event-recorded_at", AuditEvent, EV2, "recorded_at", lambda v: v - timedelta(seconds=1), rf"case {A}, event 2: hash does not match"),
    ("event-payload", AuditEvent, EV2, "payload", lambda v: v.replace("IO-101", "IO-102"), rf"case {A}, event 2: hash does not match"),
    ("event-payload-not-json", AuditEvent, EV2, "payload", lambda v: v[:-1], rf"case {A}, event 2: payload is not valid JSON"),
    ("event-prev_hash", AuditEvent, EV2, "prev_hash", _flip, rf"case {A}, event 2: prev_hash does not match"),
    ("event-hash", AuditEvent, EV2, "hash", _flip, rf"case {A}, event 2: hash does not match"),
    # every column of the case row but its surrogate id
    ("case-ref", Case, {"case": A}, "ref", lambda v: "CLN/999/2024", r"case CLN/999/2024, event 1: hash does not match"),
    ("case-station", Case, {"case": A}, "station", lambda v: "MDL", rf"case {A}, case row: station is 'MDL'"),
    ("case-district", Case, {"case": A}, "district", lambda v: "Karachi South", rf"case {A}, case row: district is 'Karachi South' but station CLN is in 'Lahore'"),
    ("case-fir_no", Case, {"case": A}, "fir_no", lambda v: v + 1000, rf"case {A}, case row: fir_no is 1123"),
    ("case-year", Case, {"case": A}, "year", lambda v: v - 1, rf"case {A}, case row: year is 2023"),
    ("case-sop_name", Case, {"case": A}, "sop_name", "other-sop", rf"case {A}, case row: sop is 'other-sop@1' but the audit trail says"),
    ("case-sop_version", Case, {"case": A}, "sop_version", lambda v: v + 1, rf"case {A}, case row: sop is '\w+@2'"),
    ("case-state", Case, {"case": A}, "state", lambda v: "in_court", rf"case {A}, case row: state is 'in_court' but the audit trail says 'under_investigation'"),
    ("case-report", Case, {"case": A}, "report", lambda v: "challan", rf"case {A}, case row: report is 'challan' but the audit trail says None"),
    ("case-round", Case, {"case": A}, "round", lambda v: v + 1, rf"case {A}, case row: round is 1"),
    ("case-sections", Case, {"case": A}, "sections", lambda v: "379", rf"case {A}, case row: sections is \('379',\)"),
    ("case-flags", Case, {"case": A}, "flags", lambda v: "sgbv", rf"case {A}, case row: flags is \('sgbv',\)"),
    ("case-complainant", Case, {"case": A}, "complainant", lambda v: v + " Khan", rf"case {A}, case row: complainant is 'Muhammad Aslam Khan'"),
    ("case-occurred_at", Case, {"case": A}, "occurred_at", _later, rf"case {A}, case row: occurred_at is"),
    ("case-reported_at", Case, {"case": A}, "reported_at", _later, rf"case {A}, case row: reported_at is"),
    ("case-registered_at", Case, {"case": A}, "registered_at", _later, rf"case {A}, case row: registered_at is .* but the FIR was recorded at"),
    ("case-io", Case, {"case": A}, "io", lambda v: "IO-102", rf"case {A}, case row: io is 'IO-102' but the audit trail says 'IO-101'"),
    ("case-version", Case, {"case": A}, "version", lambda v: v + 1, rf"case {A}, case row: version 5 but 4 events"),
    ("case-head_hash", Case, {"case": A}, "head_hash", _flip, rf"case {A}, case row: head_hash is not the hash of the last event"),
    # what the chain also vouches for
    ("checklist-item", ChecklistEntry, {"case": A, "item": "fir_copy"}, "item", lambda v: "site_plan", rf"case {A}, case row: checklist differs from the audit trail at item"),
    ("checklist-status", ChecklistEntry, {"case": A, "item": "fir_copy"}, "status", lambda v: "na", rf"case {A}, case row: checklist differs from the audit trail at item fir_copy"),
    ("checklist-detail", ChecklistEntry, {"case": A, "item": "fir_copy"}, "detail", lambda v: "DD 13", rf"case {A}, case row: checklist differs from the audit trail at item fir_copy"),
    ("checklist-by", ChecklistEntry, {"case": A, "item": "fir_copy"}, "by", lambda v: "IO-102", rf"case {A}, case row: checklist item fir_copy: who or when differs"),
    ("checklist-at", ChecklistEntry, {"case": A, "item": "fir_copy"}, "at", _later, rf"case {A}, case row: checklist item fir_copy: who or when differs"),
    ("accused-name", Accused, {"case": A, "first": True}, "name", lambda v: "Somebody Else", rf"case {A}, case row: accused differ from the FIR as registered"),
    ("deficiency-code", Deficiency, {"case": B, "deficiency": "D2"}, "code", lambda v: "OTHER", rf"case {B}, case row: deficiency \d+: code is 'OTHER'"),
    ("deficiency-detail", Deficiency, {"case": B, "deficiency": "D2"}, "detail", lambda v: "nothing", rf"case {B}, case row: deficiency \d+: detail is 'nothing'"),
    ("deficiency-status", Deficiency, {"case": B, "deficiency": "D2"}, "status", lambda v: "resolved", rf"case {B}, case row: deficiency \d+: status is 'resolved' but the audit trail says 'open'"),
    ("deficiency-round", Deficiency, {"case": B, "deficiency": "D2"}, "round", lambda v: v + 1, rf"case {B}, case row: deficiency \d+: round is 2"),
    ("deficiency-raised_by", Deficiency, {"case": B, "deficiency": "D2"}, "raised_by", lambda v: "PP-9", rf"case {B}, case row: deficiency \d+: raised_by is 'PP-9'"),
    ("deficiency-raised_at", Deficiency, {"case": B, "deficiency": "D2"}, "raised_at", _later, rf"case {B}, case row: deficiency \d+: raised_at is"),
    ("deficiency-response", Deficiency, {"case": B, "deficiency": "D2"}, "response", lambda v: "all fixed", rf"case {B}, case row: deficiency \d+: response is 'all fixed'"),
    ("deficiency-resolved_by", Deficiency, {"case": B, "deficiency": "D1"}, "resolved_by", lambda v: "PP-9", rf"case {B}, case row: deficiency \d+: resolved_by is 'PP-9'"),
    ("deficiency-resolved_at", Deficiency, {"case": B, "deficiency": "D1"}, "resolved_at", _later, rf"case {B}, case row: deficiency \d+: resolved_at is"),
]

# whole rows deleted, forged or duplicated: (id, SQL, what verify must say)
ROWS = [
    ("delete-middle-event", "DELETE FROM audit_event WHERE case_id = {A_id} AND seq = 2", rf"case {A}, event 3: sequence gap: expected event 2"),
    ("delete-last-event", "DELETE FROM audit_event WHERE case_id = {A_id} AND seq = 4", rf"case {A}, case row: version 4 but 3 events"),
    ("delete-all-events", "DELETE FROM audit_event WHERE case_id = {A_id}", rf"case {A}, case row: version 4 but 0 events"),
    ("forged-event", (
        "INSERT INTO audit_event (case_id, seq, action, actor, occurred_at, recorded_at, payload, prev_hash, hash) "
        "SELECT case_id, 5, action, actor, occurred_at, recorded_at, payload, hash, hash FROM audit_event WHERE case_id = {A_id} AND seq = 4"
     ), rf"case {A}, event 5: hash does not match"),
    ("delete-checklist-entry", "DELETE FROM checklistentry WHERE case_id = {A_id}", rf"case {A}, case row: checklist differs from the audit trail at item fir_copy"),
    ("forged-checklist-entry", "INSERT INTO checklistentry (case_id, item, status, detail, \"by\", at) SELECT case_id, 'site_plan', status, detail, \"by\", at FROM checklistentry WHERE case_id = {A_id}",
     rf"case {A}, case row: checklist differs from the audit trail at item site_plan"),
    ("delete-deficiency", "DELETE FROM deficiency WHERE id = {D2}", rf"case {B}, case row: deficiency \d+ of the audit trail is missing"),
    ("forged-deficiency", "INSERT INTO deficiency (case_id, round, code, detail, status, raised_by, raised_at) SELECT case_id, round, code, detail, 'open', raised_by, raised_at FROM deficiency WHERE id = {D2}",
     rf"case {B}, case row: deficiency \d+ is not in the audit trail"),
    ("delete-accused", "DELETE FROM accused WHERE case_id = {A_id}", rf"case {A}, case row: accused differ from the FIR as registered"),
    ("swap-events-between-cases", "UPDATE audit_event SET payload = (SELECT payload FROM audit_event WHERE case_id = {B_id} AND seq = 1) WHERE case_id = {A_id} AND seq = 1",
     rf"case {A}, event 1: hash does not match"),
]


def _ids(conn) -> dict:
    ids = dict(conn.execute(select(Case.ref, Case.id)).all())
    d = sorted(conn.execute(select(Deficiency.id).where(Deficiency.case_id == ids[B])).scalars().all())
    return {"A_id": ids[A], "B_id": ids[B], "D1": d[0], "D2": d[1]}


def _where(table, spec: dict, conn):
    ids = _ids(conn)
    case_id = ids["A_id"] if spec["case"] == A else ids["B_id"]
    if table is AuditEvent:
        seq = spec["seq"]
        if seq == "last":
            seq = conn.execute(text("SELECT MAX(seq) FROM audit_event WHERE case_id = :c"), {"c": case_id}).scalar()
        return (AuditEvent.case_id == case_id) & (AuditEvent.seq == seq)
    if table is Case:
        return Case.id == case_id
    if table is ChecklistEntry:
        return (ChecklistEntry.case_id == case_id) & (ChecklistEntry.item == spec["item"])
    if table is Accused:
        first = conn.execute(select(Accused.id).where(Accused.case_id == case_id).order_by(Accused.id)).scalars().first()
        return Accused.id == first
    return Deficiency.id == ids[spec["deficiency"]]


def _tamper(engine, table, spec, column, change) -> tuple:
    """Apply one change; return what undoes it."""
    t = table.__table__
    with engine.begin() as conn:
        where = _where(table, spec, conn)
        row = conn.execute(select(t).where(where)).mappings().one()
        old = row[column]
        if change == "case:A":
            new = _ids(conn)["A_id"]
        elif isinstance(change, str):
            new = change
        else:
            new = change(old)
        conn.execute(t.update().where(where).values({column: new}))
    # the row's key afterwards (the change may have been to a key column)
    after = {c.name: (new if c.name == column else row[c.name]) for c in t.primary_key.columns}
    undo_where = and_(*(t.c[k] == v for k, v in after.items()))
    return t, column, old, new, undo_where


def _verify(url: str):
    return CliRunner().invoke(cli, ["--db", url, "audit", "verify"], env={"CASECHAIN_NOW": NOW, "CASECHAIN_DB": None})


def _assert_detected(result, says: str):
    import re

    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 4, f"exit {result.exit_code}: {result.stdout}{result.stderr}"
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: audit chain broken: case "), result.stderr
    assert re.search(says, lines[0]), f"{says!r} not in {lines[0]!r}"


@pytest.fixture
def sqlite_url_of_two_cases(two_case_template, tmp_path):
    """A private copy of the two-case template database."""
    url = sqlite_copy(two_case_template["path"], tmp_path)
    yield url
    release_engine(url)


def test_the_template_verifies(sqlite_url_of_two_cases):
    r = _verify(sqlite_url_of_two_cases)
    assert r.exit_code == 0 and r.stdout.startswith("audit trail intact: 2 case(s), "), r.stdout + r.stderr


@pytest.mark.parametrize("name,table,spec,column,change,says", COLUMNS, ids=[c[0] for c in COLUMNS])
def test_a_changed_column_is_detected_on_sqlite(sqlite_url_of_two_cases, name, table, spec, column, change, says):
    engine = create_engine(sqlite_url_of_two_cases)
    try:
        _tamper(engine, table, spec, column, change)
    finally:
        engine.dispose()
    _assert_detected(_verify(sqlite_url_of_two_cases), says)


@pytest.mark.parametrize("name,sql,says", ROWS, ids=[r[0] for r in ROWS])
def test_a_deleted_or_forged_row_is_detected_on_sqlite(sqlite_url_of_two_cases, name, sql, says):
    engine = create_engine(sqlite_url_of_two_cases)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql.format(**_ids(conn))))
    finally:
        engine.dispose()
    _assert_detected(_verify(sqlite_url_of_two_cases), says)


def test_every_column_of_the_audit_table_and_case_row_is_tried():
    tried = {(t.__tablename__, col) for _, t, _, col, _, _ in COLUMNS}
    for table in (AuditEvent, Case):
        for col in table.__table__.columns:
            if (table, col.name) != (Case, "id"):
                assert (table.__tablename__, col.name) in tried, f"no tamper case for {table.__tablename__}.{col.name}"


# -- PostgreSQL: one database, each change undone after it was detected ---------------------
@pytest.fixture(scope="module")
def pg_url():
    with scratch_pg_database("casechain_tamper") as url:
        build_two_cases(url)
        yield url


@pytest.mark.parametrize("name,table,spec,column,change,says", COLUMNS, ids=[c[0] for c in COLUMNS])
def test_a_changed_column_is_detected_on_postgres(pg_url, name, table, spec, column, change, says):
    engine = create_engine(pg_url)
    try:
        t, col, old, _new, where = _tamper(engine, table, spec, column, change)
        try:
            _assert_detected(_verify(pg_url), says)
        finally:
            with engine.begin() as conn:
                conn.execute(t.update().where(where).values({col: old}))
    finally:
        engine.dispose()
    after = _verify(pg_url)
    assert after.exit_code == 0, f"undoing {name} left the trail broken: {after.stderr}"
