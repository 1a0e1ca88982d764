"""``audit verify``: recompute every hash chain and compare each case row with
what its events say it should be.

What the chain covers, and so what ``verify`` proves was not altered:

- every column of every audit event (``case_id`` through the case reference in
  the hash, ``seq``, ``action``, ``actor``, both times, ``payload``,
  ``prev_hash``, ``hash``);
- the case row: reference, SOP and version, state, station, FIR number and
  year, IO, report, round, sections, flags, complainant, both FIR times,
  ``version`` and ``head_hash``; ``district`` against the station's district;
  ``registered_at`` against the time the FIR was recorded (within a second);
- the checklist (item, status, evidence or reason, who and when), the accused
  as registered, and every deficiency (code, detail, round, who raised,
  answered and resolved it, when, and what was answered).

:func:`check_case` is pure (it reads nothing from the database), so the
importer checks a case from a file with the very rules ``verify`` applies to
stored ones.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select as sa_select
from sqlmodel import select

from casechain.domain.audit import GENESIS, Replay, event_hash
from casechain.domain.errors import IntegrityFailure
from casechain.domain.timeutil import as_utc, iso_utc
from casechain.services.common import case_of, split_list
from casechain.storage.tables import (
    Accused,
    AuditEvent,
    Case,
    ChecklistEntry,
    Deficiency,
    Station,
)
from casechain.storage.uow import UnitOfWork

REGISTERED_SLACK = timedelta(seconds=1)  # registered_at is read a moment before the event is stamped


def _fail(case, seq, what: str):
    where = f"event {seq}" if seq else "case row"
    raise IntegrityFailure(f"audit chain broken: case {case.ref}, {where}: {what}")


class _Texts(dict):
    """Canonical text of instants (:func:`iso_utc`), each worked out once: a case's
    rows repeat its events' times (an event's two times are mostly one, a tick's
    time is the checklist row's)."""

    def __missing__(self, value) -> str:
        text = self[value] = iso_utc(value)
        return text

    def when(self, value) -> str | None:
        return self[value] if value is not None else None


def _deficiencies_from(events: list[tuple[object, dict, str]]) -> dict[int, dict]:
    """The deficiency rows the events say exist (id -> columns), for comparison.
    ``events``: (event, its payload, when it occurred as canonical text)."""
    out: dict[int, dict] = {}
    for ev, payload, at in events:
        if ev.action == "deficiency_flag":
            out[payload["id"]] = {
                "round": payload["round"], "code": payload["code"], "detail": payload.get("detail", ""), "status": "open",
                "raised_by": ev.actor, "raised_at": at, "response": None, "response_evidence": None,
                "responded_by": None, "responded_at": None, "resolved_by": None, "resolved_at": None,
            }  # fmt: skip
        elif ev.action == "deficiency_respond" and payload.get("id") in out:
            out[payload["id"]].update(
                status="answered", response=payload.get("note"), response_evidence=payload.get("evidence"), responded_by=ev.actor, responded_at=at
            )
        elif ev.action == "deficiency_resolve" and payload.get("id") in out:
            out[payload["id"]].update(status="resolved", resolved_by=ev.actor, resolved_at=at)
    return out


_DEFICIENCY_ACTIONS = frozenset({"deficiency_flag", "deficiency_respond", "deficiency_resolve"})


def _deficiency_columns(d, when) -> dict:
    return {
        "round": d.round, "code": d.code, "detail": d.detail or "", "status": d.status,
        "raised_by": d.raised_by, "raised_at": when(d.raised_at), "response": d.response,
        "response_evidence": d.response_evidence, "responded_by": d.responded_by,
        "responded_at": when(d.responded_at), "resolved_by": d.resolved_by, "resolved_at": when(d.resolved_at),
    }  # fmt: skip


def check_case(case, events, checklist, accused: list[str], deficiencies, station_district: str | None = None) -> int:
    """Raise IntegrityFailure at the first broken link; return the event count.

    ``case`` and ``events`` are rows (or anything with the same attributes);
    ``checklist`` and ``deficiencies`` the case's rows of those tables;
    ``accused`` the names in id order; ``station_district`` the district of the
    case's station, when known.
    """
    prev = GENESIS
    snap = Replay()
    ref = case.ref
    names: list[str] = []
    ticked_by: dict[str, tuple[str, str]] = {}  # item -> (actor, occurred_at) of the tick that stands
    flagged: list[tuple[object, dict, str]] = []  # deficiency events: (event, payload, occurred_at)
    registered_at = None
    loads = json.loads
    texts = _Texts()
    for expected_seq, ev in enumerate(events, start=1):
        seq = ev.seq
        if seq != expected_seq:
            _fail(case, seq, f"sequence gap: expected event {expected_seq}")
        if ev.prev_hash != prev:
            _fail(case, seq, "prev_hash does not match the hash of the event before it")
        try:
            payload = loads(ev.payload)
        except (TypeError, ValueError):
            _fail(case, seq, "payload is not valid JSON")
        if not isinstance(payload, dict):
            _fail(case, seq, "payload is not a JSON object")
        action, actor, occurred = ev.action, ev.actor, texts[ev.occurred_at]
        digest = event_hash(prev, ref, seq, action, actor, occurred, texts[ev.recorded_at], payload)
        if digest != ev.hash:
            _fail(case, seq, "hash does not match the event's content (an event was altered)")
        try:
            snap.apply(action, payload)
        except (KeyError, TypeError):
            _fail(case, seq, f"payload of {action} lacks what replay needs")
        if action == "register":
            names = list(payload.get("accused", []))
            registered_at = as_utc(ev.recorded_at)
        elif action == "tick" or action == "na":
            ticked_by[payload.get("item")] = (actor, occurred)
        elif action == "untick" or (action == "deficiency_flag" and "reopens" in payload):
            ticked_by.pop(payload.get("item") or payload.get("reopens"), None)
        if action in _DEFICIENCY_ACTIONS:
            flagged.append((ev, payload, occurred))
        prev = digest
    if case.version != len(events):
        _fail(case, None, f"version {case.version} but {len(events)} events")
    if (case.head_hash or GENESIS) != prev:
        _fail(case, None, "head_hash is not the hash of the last event")
    stored = {
        "ref": case.ref,
        "sop": f"{case.sop_name}@{case.sop_version}",
        "state": case.state,
        "station": case.station,
        "fir_no": case.fir_no,
        "year": case.year,
        "io": case.io,
        "report": case.report,
        "round": case.round,
        "sections": split_list(case.sections),
        "flags": split_list(case.flags),
        "complainant": case.complainant,
        "occurred_at": texts[case.occurred_at],
        "reported_at": texts[case.reported_at],
    }
    for key, value in stored.items():
        if getattr(snap, key) != value:
            _fail(case, None, f"{key} is {value!r} but the audit trail says {getattr(snap, key)!r}")
    if station_district is not None and case.district != station_district:
        _fail(case, None, f"district is {case.district!r} but station {case.station} is in {station_district!r}")
    if registered_at is not None and abs(as_utc(case.registered_at) - registered_at) > REGISTERED_SLACK:
        _fail(case, None, f"registered_at is {iso_utc(case.registered_at)} but the FIR was recorded at {iso_utc(registered_at)}")
    ticked = {e.item: (e.status, e.detail) for e in checklist}
    if ticked != snap.checklist:
        bad = sorted(set(ticked.items()) ^ set(snap.checklist.items()))
        _fail(case, None, f"checklist differs from the audit trail at item {bad[0][0]}")
    for e in sorted(checklist, key=lambda e: e.item):
        if (e.by, texts[e.at]) != ticked_by.get(e.item):
            _fail(case, None, f"checklist item {e.item}: who or when differs from the audit trail")
    if list(accused) != names:
        _fail(case, None, "accused differ from the FIR as registered")
    expected = _deficiencies_from(flagged)
    rows = {d.id: _deficiency_columns(d, texts.when) for d in deficiencies}
    for dif_id in sorted(set(rows) | set(expected)):
        if rows.get(dif_id) != expected.get(dif_id):
            if dif_id not in rows:
                _fail(case, None, f"deficiency {dif_id} of the audit trail is missing")
            if dif_id not in expected:
                _fail(case, None, f"deficiency {dif_id} is not in the audit trail")
            key = next(k for k in rows[dif_id] if rows[dif_id][k] != expected[dif_id][k])
            _fail(case, None, f"deficiency {dif_id}: {key} is {rows[dif_id][key]!r} but the audit trail says {expected[dif_id][key]!r}")
    return len(events)


def _grouped(uow: UnitOfWork, model, ids: list[int], *order) -> dict[int, list]:
    """Rows of a case table for some cases, grouped by case id: plain rows (their
    columns as attributes), which check_case reads as it reads ORM objects, and
    which cost a fraction of them to load."""
    table = model.__table__
    out: dict[int, list] = {i: [] for i in ids}
    query = sa_select(table).where(table.c.case_id.in_(ids)).order_by(table.c.case_id, *(table.c[c] for c in order))
    for row in uow.session.connection().execute(query):
        out[row.case_id].append(row)
    return out


def _check_cases(uow: UnitOfWork, cases: list, districts) -> int:
    """check_case for each of some cases (rows or objects), their rows read in one query per table."""
    ids = [c.id for c in cases]
    events = _grouped(uow, AuditEvent, ids, "seq")
    checklist, accused = _grouped(uow, ChecklistEntry, ids, "item"), _grouped(uow, Accused, ids, "id")
    deficiencies = _grouped(uow, Deficiency, ids, "id")
    count = 0
    for case in cases:
        names = [a.name for a in accused[case.id]]
        count += check_case(case, events[case.id], checklist[case.id], names, deficiencies[case.id], districts(case.station))
    return count


def verify_case(uow: UnitOfWork, case: Case) -> int:
    """Raise IntegrityFailure at the first broken link; return the event count."""
    return _check_cases(uow, [case], lambda code: uow.session.exec(select(Station.district).where(Station.code == code)).first())


def verify(uow: UnitOfWork, ref: str | None = None, batch: int = 500) -> dict:
    if ref:
        case = case_of(uow, ref)
        return {"cases": 1, "events": verify_case(uow, case)}
    cases = events = 0
    last_id = 0
    districts = dict(uow.session.exec(select(Station.code, Station.district)).all())
    table = Case.__table__
    conn = uow.session.connection()
    while True:
        chunk = conn.execute(sa_select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch)).all()
        if not chunk:
            break
        events += _check_cases(uow, chunk, districts.get)
        cases += len(chunk)
        last_id = chunk[-1].id
    return {"cases": cases, "events": events}


__all__ = ["check_case", "verify", "verify_case"]
