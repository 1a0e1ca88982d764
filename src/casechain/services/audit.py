"""``audit verify``: recompute every hash chain and compare each case row with
what its events say it should be."""

from __future__ import annotations

import json

from sqlmodel import select

from casechain.domain.audit import GENESIS, EventRecord, Snapshot, apply, link_hash
from casechain.domain.errors import IntegrityFailure
from casechain.domain.timeutil import iso_utc
from casechain.services.common import case_of, split_list
from casechain.storage.tables import Accused, AuditEvent, Case, ChecklistEntry
from casechain.storage.uow import UnitOfWork


def _fail(case: Case, seq, what: str):
    where = f"event {seq}" if seq else "case row"
    raise IntegrityFailure(f"audit chain broken: case {case.ref}, {where}: {what}")


def verify_case(uow: UnitOfWork, case: Case, events: list[AuditEvent] | None = None) -> int:
    """Raise IntegrityFailure at the first broken link; return the event count."""
    events = uow.events(case.id) if events is None else events
    prev = GENESIS
    snap = Snapshot()
    accused: list[str] = []
    for expected_seq, ev in enumerate(events, start=1):
        if ev.seq != expected_seq:
            _fail(case, ev.seq, f"sequence gap: expected event {expected_seq}")
        if ev.prev_hash != prev:
            _fail(case, ev.seq, "prev_hash does not match the hash of the event before it")
        try:
            payload = json.loads(ev.payload)
        except ValueError:
            _fail(case, ev.seq, "payload is not valid JSON")
        rec = EventRecord(case.ref, ev.seq, ev.action, ev.actor, iso_utc(ev.occurred_at), iso_utc(ev.recorded_at), payload)
        digest = link_hash(prev, rec)
        if digest != ev.hash:
            _fail(case, ev.seq, "hash does not match the event's content (an event was altered)")
        try:
            snap = apply(snap, ev.action, payload)
        except (KeyError, TypeError):
            _fail(case, ev.seq, f"payload of {ev.action} lacks what replay needs")
        if ev.action == "register":
            accused = list(payload.get("accused", []))
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
        "occurred_at": iso_utc(case.occurred_at),
        "reported_at": iso_utc(case.reported_at),
    }
    for key, value in stored.items():
        if getattr(snap, key) != value:
            _fail(case, None, f"{key} is {value!r} but the audit trail says {getattr(snap, key)!r}")
    entries = uow.session.exec(select(ChecklistEntry).where(ChecklistEntry.case_id == case.id)).all()
    ticked = {e.item: (e.status, e.detail) for e in entries}
    if ticked != snap.checklist:
        bad = sorted(set(ticked.items()) ^ set(snap.checklist.items()))
        _fail(case, None, f"checklist differs from the audit trail at item {bad[0][0]}")
    names = list(uow.session.exec(select(Accused.name).where(Accused.case_id == case.id).order_by(Accused.id)).all())
    if names != accused:
        _fail(case, None, "accused differ from the FIR as registered")
    return len(events)


def verify(uow: UnitOfWork, ref: str | None = None, batch: int = 500) -> dict:
    if ref:
        case = case_of(uow, ref)
        return {"cases": 1, "events": verify_case(uow, case)}
    cases = events = 0
    last_id = 0
    while True:
        chunk = uow.session.exec(select(Case).where(Case.id > last_id).order_by(Case.id).limit(batch)).all()
        if not chunk:
            break
        ids = [c.id for c in chunk]
        by_case: dict[int, list] = {i: [] for i in ids}
        rows = uow.session.exec(
            select(AuditEvent).where(AuditEvent.case_id.in_(ids)).order_by(AuditEvent.case_id, AuditEvent.seq)
        ).all()
        for ev in rows:
            by_case[ev.case_id].append(ev)
        for case in chunk:
            events += verify_case(uow, case, by_case[case.id])
            cases += 1
        last_id = ids[-1]
        uow.session.expunge_all()
    return {"cases": cases, "events": events}
