"""Statutory clocks in the database: started and met by what happens to a case.

``on_record`` is called by ``services.common.record()`` for every audit event,
inside the same transaction. It starts and meets the SOP's clocks, keeps the
per-case report figures (``case_track``: who holds the file, rounds,
overrides, late entries), marks late entries and refuses steps recorded out
of order (a verdict dated before the filing). It writes only derived tables,
never an audit event, so a case's version is unchanged by it. ``rebuild`` and
``rebuild_all`` derive the same rows by replaying audit trails; both go
through one fold, ``domain.tracking.apply``.

The user actions ``case pause|resume|extend`` are here too.
"""

from __future__ import annotations

import json
from datetime import datetime
from itertools import groupby

from sqlalchemy import bindparam, delete
from sqlmodel import select

from casechain.domain import clocks as dc
from casechain.domain import tracking
from casechain.domain.errors import BadInput, Refused
from casechain.domain.roles import Place, Role, jurisdiction_problem
from casechain.domain.sop import ClockSpec, Sop
from casechain.domain.timeutil import as_utc, iso_utc, local_text
from casechain.services.common import (
    actor_of,
    case_of,
    case_sop,
    facts_of,
    need_text,
    record,
    sop_of,
    when_of,
)
from casechain.storage.tables import (
    Accused,
    AuditEvent,
    Case,
    CaseTrack,
    Clock,
    LateEntry,
    Officer,
)
from casechain.storage.uow import UnitOfWork


def calendar_of(sop: Sop) -> dc.Calendar:
    if not sop.calendar:
        return dc.NO_HOLIDAYS
    from casechain.calendars import load_calendar  # YAML: only for SOPs that name a calendar

    return load_calendar(sop.calendar)


def state_of(row) -> dc.ClockState:
    """The domain state of a stored clock (an ORM row or a Core row)."""
    return dc.ClockState(
        name=row.name,
        started_at=as_utc(row.started_at),
        days=row.limit_days,
        hours=row.limit_hours,
        kind=row.kind,
        holidays=row.holidays,
        paused_at=as_utc(row.paused_at) if row.paused_at else None,
        paused_days=row.paused_days,
        paused_seconds=row.paused_seconds,
        pauses=row.pauses,
        extra_days=row.extra_days,
        extra_hours=row.extra_hours,
        met_at=as_utc(row.met_at) if row.met_at else None,
        violated=bool(row.violated),
    )


# -- the hook ------------------------------------------------------------------------
# Core statements built once: the hook runs inside every action (see uow.py).
_track = CaseTrack.__table__
_clock = Clock.__table__
_TRACK_FIELDS = [f for f in tracking.Track.__dataclass_fields__]
_SELECT_TRACK = select(*(_track.c[f] for f in _TRACK_FIELDS)).where(_track.c.case_id == bindparam("cid"))
_INSERT_TRACK = _track.insert()
_UPDATE_TRACK = _track.update().where(_track.c.case_id == bindparam("b_case"))
_CLOCK_FIELDS = ("id", "name", "accused_id", "responsible", "start_seq", "met_by", "met_seq", "started_at", "limit_days", "limit_hours", "kind",
                 "holidays", "paused_at", "paused_days", "paused_seconds", "pauses", "extra_days", "extra_hours", "met_at", "violated")
_OPEN_CLOCKS = select(*(_clock.c[f] for f in _CLOCK_FIELDS)).where(_clock.c.case_id == bindparam("cid"), _clock.c.met_at.is_(None))
_INSERT_CLOCK = _clock.insert()
_UPDATE_CLOCK = _clock.update().where(_clock.c.id == bindparam("b_id"))
_CLOCK_HOLDERS = _clock.update().where(_clock.c.case_id == bindparam("b_case"))
_INSERT_LATE = LateEntry.__table__.insert()


def _instance(row) -> tracking.ClockInstance:
    return tracking.ClockInstance(state_of(row), row.responsible, row.start_seq, row.accused_id, row.met_by, row.met_seq, row.id)


def _late_row(case_id: int, late: tracking.LateMark) -> dict:
    return {"case_id": case_id, "seq": late.seq, "action": late.action, "hours_late": late.hours_late, "reason": late.reason}


def on_record(uow: UnitOfWork, case: Case, event: tracking.Event) -> None:
    """Bring clocks and report figures up to date with one new audit event:
    one read of the case's figures, the open clocks only when the event can
    touch a clock, and a write only of what changed."""
    sop = case_sop(uow, case)
    calendar = calendar_of(sop)
    conn = uow.connection()
    row = conn.execute(_SELECT_TRACK, {"cid": case.id}).first()
    if row is None:
        track = tracking.new_track(sop, case.station, case.district, case.io, case.reported_at, case.state, event)
        before = None
    else:
        track = tracking.Track(**row._mapping)
        before = dict(vars(track))
    clocks = []
    if tracking.touches_clocks(event.action, event.payload):
        clocks = [_instance(r) for r in conn.execute(_OPEN_CLOCKS, {"cid": case.id})]
    officer = uow.officer(event.actor)
    fx = tracking.apply(sop, calendar, track, clocks, event, officer.role if officer else None, lambda: facts_of(uow, case))
    if before is None:
        conn.execute(_INSERT_TRACK, {"case_id": case.id, **vars(track)})
    else:
        changed = {k: v for k, v in vars(track).items() if v != before[k]}
        if changed:
            conn.execute(_UPDATE_TRACK, {"b_case": case.id, **changed})
        if "io" in changed or "prosecutor" in changed:  # the clocks carry them for reports
            conn.execute(_CLOCK_HOLDERS, {"b_case": case.id, "io": track.io, "prosecutor": track.prosecutor})
    if fx.changed:
        conn.execute(_UPDATE_CLOCK, [{"b_id": c.id, **tracking.clock_columns(c, calendar)} for c in fx.changed])
    if fx.started:
        conn.execute(_INSERT_CLOCK, [{"case_id": case.id, **tracking.new_clock_row(c, track, calendar)} for c in fx.started])
    if fx.late:
        conn.execute(_INSERT_LATE, _late_row(case.id, fx.late))


# -- replay -----------------------------------------------------------------------------
_HEAD_FIELDS = ("id", "station", "district", "io", "reported_at", "state", "sop_name", "sop_version", "sections", "flags", "report")
_CASE_HEADS = select(*(Case.__table__.c[f] for f in _HEAD_FIELDS)).where(Case.id > bindparam("after")).order_by(Case.id).limit(bindparam("n"))
_EVENTS = (
    select(AuditEvent.case_id, AuditEvent.seq, AuditEvent.action, AuditEvent.actor, AuditEvent.occurred_at, AuditEvent.recorded_at, AuditEvent.payload)
    .where(AuditEvent.case_id.between(bindparam("lo"), bindparam("hi")))
    .order_by(AuditEvent.case_id, AuditEvent.seq)
)
_PROSECUTORS = select(Officer.badge).where(Officer.role == Role.PROSECUTOR.value)


def _replay(uow: UnitOfWork, heads: list) -> int:
    """Recompute clocks, late entries and figures of ``heads`` (case rows with
    consecutive ids, no case between them left out) from their audit trails:
    one query for all their events, the same fold as the hook, bulk writes.
    Returns the number of events replayed."""
    conn = uow.connection()
    lo, hi = heads[0].id, heads[-1].id
    for table in (Clock, LateEntry, CaseTrack):
        conn.execute(delete(table).where(table.case_id.between(lo, hi)))
    prosecutors = set(conn.execute(_PROSECUTORS).scalars())
    rows = conn.execute(_EVENTS, {"lo": lo, "hi": hi}).all()
    by_id = {h.id: h for h in heads}
    tracks, clock_rows, lates = [], [], []
    for case_id, group in groupby(rows, key=lambda r: r.case_id):
        head = by_id[case_id]
        sop = sop_of(uow, head.sop_name, head.sop_version)
        calendar = calendar_of(sop)
        events = (tracking.Event(r.seq, r.action, r.actor, r.occurred_at, r.recorded_at, json.loads(r.payload)) for r in group)
        track, clocks, marks = tracking.fold(sop, calendar, head, events, prosecutors, lambda head=head: facts_of(uow, head))
        lates.extend(_late_row(case_id, m) for m in marks)
        tracks.append({"case_id": case_id, **vars(track)})
        clock_rows.extend({"case_id": case_id, **tracking.new_clock_row(c, track, calendar)} for c in clocks)
    for stmt, values in ((_INSERT_TRACK, tracks), (_INSERT_CLOCK, clock_rows), (_INSERT_LATE, lates)):
        if values:
            conn.execute(stmt, values)
    return len(rows)


def rebuild(uow: UnitOfWork, case: Case) -> int:
    """Recompute a case's clocks and report figures from its audit trail.

    For loaders that insert audit events in bulk, and to check that the
    figures kept step by step equal a replay. Returns the events replayed.
    """
    return _replay(uow, [case])


def rebuild_all(uow: UnitOfWork, batch: int = 500) -> dict:
    """``rebuild`` for every case, committing each batch of ``batch`` cases
    (for bulk loaders). Returns ``{"cases": n, "events": m}``."""
    cases = events = 0
    last_id = 0
    while True:
        heads = uow.connection().execute(_CASE_HEADS, {"after": last_id, "n": batch}).all()
        if not heads:
            return {"cases": cases, "events": events}
        events += _replay(uow, heads)
        cases += len(heads)
        last_id = heads[-1].id
        uow.commit()


# -- late entries --------------------------------------------------------------------
def late_reason_for(uow: UnitOfWork, case: Case, occurred: datetime, late_reason: str | None) -> str | None:
    """The reason an entry is late, required when it is recorded more than the
    SOP's ``late_entry_hours`` after it happened; None when it is not late."""
    limit = case_sop(uow, case).late_entry_hours
    hours = (uow.now() - as_utc(occurred)).total_seconds() / 3600
    if limit is None or hours <= limit:
        return None
    if not (late_reason or "").strip():
        raise BadInput(
            f"this entry is recorded {hours:.0f} hours after it happened (more than {limit}): "
            "say why with --late-reason TEXT; it will be marked as a late entry"
        )
    return need_text(late_reason, "--late-reason")


# -- reading -----------------------------------------------------------------------
def clock_rows(uow: UnitOfWork, case: Case, as_of: datetime | None = None) -> list[dict]:
    """Every clock of a case with its status as of ``as_of`` (default now)."""
    as_of = as_utc(as_of or uow.now())
    sop = case_sop(uow, case)
    calendar = calendar_of(sop)
    q = (
        select(Clock, Accused.name)
        .join(Accused, Accused.id == Clock.accused_id, isouter=True)
        .where(Clock.case_id == case.id)
        .order_by(Clock.started_at, Clock.id)
    )
    out = []
    for row, accused in uow.session.exec(q).all():
        state = state_of(row)
        due = as_utc(row.due_at)
        status = dc.status(state, due, as_of)
        if status is None:
            continue
        spec = sop.clock(row.name)
        out.append(
            {
                "name": row.name,
                "title": spec.title if spec else row.name,
                "section": spec.section if spec else None,
                "accused": accused,
                "started_at": iso_utc(row.started_at),
                "due": iso_utc(due),
                "base_due": iso_utc(row.base_due_at),
                "met_at": iso_utc(row.met_at) if row.met_at else None,
                "status": status,
                "kind": row.kind,
                "paused": row.paused_at is not None,
                "paused_days": row.paused_days,
                "paused_hours": round(row.paused_seconds / 3600, 2),
                "extended_days": row.extra_days,
                "extended_hours": row.extra_hours,
                "hours_over": dc.hours_over(due, as_of) if row.met_at is None and row.kind == "deadline" and row.paused_at is None else None,
                "due_local": local_text(state.due(calendar)),
            }
        )
    return out


# -- user actions: pause, resume, extend -------------------------------------------------
def _clock_action(uow, actor_badge: str, ref: str, clock: str, accused: str | None, roles, doing: str, expected_version: int | None, precheck=None):
    actor = actor_of(uow, actor_badge)
    case = case_of(uow, ref, expected_version)
    sop = case_sop(uow, case)
    spec = sop.clock((clock or "").strip())
    if spec is None:
        known = ", ".join(c.name for c in sop.clocks) or "none"
        raise BadInput(f"unknown clock {clock!r} in SOP {sop.key}; clocks are: {known}")
    if precheck:
        precheck(sop, spec)
    allowed = roles(spec)
    if actor.role not in allowed:
        who = ", ".join(r.value for r in allowed) or "nobody"
        raise Refused(f"role {actor.role.value} may not {doing} clock {spec.name} (SOP {sop.key}: {who})")
    problem = jurisdiction_problem(actor, Place(case.station, case.district, case.io))
    if problem:
        raise Refused(problem)
    q = select(Clock).where(Clock.case_id == case.id, Clock.name == spec.name, Clock.met_at.is_(None))
    who = ""
    if spec.per == "accused":
        if not accused:
            raise BadInput(f"clock {spec.name} runs per accused: name one with --accused NAME")
        from casechain.services.custody import accused_of

        person = accused_of(uow, case, accused)
        q = q.where(Clock.accused_id == person.id)
        who = f" for {person.name}"
    elif accused:
        raise BadInput(f"clock {spec.name} runs for the whole case: leave out --accused")
    row = uow.session.exec(q.order_by(Clock.started_at.desc(), Clock.id.desc())).first()
    if row is None:
        raise Refused(f"case {case.ref} has no running {spec.name} clock{who}")
    return actor, case, sop, spec, row


def _finish(uow, actor, case, sop, spec, row, action, occurred, payload, late_reason, expected_version, state):
    late = late_reason_for(uow, case, occurred, late_reason)
    due = state.due(calendar_of(sop))
    payload = {"clock": spec.name, "start_seq": row.start_seq, **payload, "due": iso_utc(due)}
    if late:
        payload["late_reason"] = late
    # The clock hook applies this event to the stored clock (domain.tracking),
    # as a replay of the audit trail does: ``state`` only checked it here.
    record(uow, case, action, actor.badge, occurred, payload, {}, expected_version)
    uow.commit()
    return {"ref": case.ref, "clock": spec.name, "due": iso_utc(due), "due_local": local_text(due), "paused": state.paused_at is not None, "version": case.version}


def _pausable(sop: Sop, spec: ClockSpec) -> None:
    if not spec.pausable:
        raise Refused(f"clock {spec.name} cannot be paused: SOP {sop.key} allows no stay of it ({spec.section})")


def _extendable(sop: Sop, spec: ClockSpec) -> None:
    if not spec.extendable_by:
        raise Refused(f"clock {spec.name} cannot be extended: SOP {sop.key} names nobody who may extend it ({spec.section})")


def pause(uow: UnitOfWork, actor_badge: str, ref: str, clock: str, reason: str, accused: str | None = None, at: str | None = None, late_reason: str | None = None, expected_version: int | None = None) -> dict:
    """Stop a clock where the SOP allows it (e.g. a court stayed the proceedings)."""
    actor, case, sop, spec, row = _clock_action(uow, actor_badge, ref, clock, accused, lambda s: s.pause_roles, "pause", expected_version, _pausable)
    reason = need_text(reason, "--reason")
    occurred = when_of(uow, case, at)
    state = dc.pause(state_of(row), occurred, calendar_of(sop))
    return _finish(uow, actor, case, sop, spec, row, "clock_pause", occurred, {"reason": reason}, late_reason, expected_version, state)


def resume(uow: UnitOfWork, actor_badge: str, ref: str, clock: str, accused: str | None = None, note: str | None = None, at: str | None = None, late_reason: str | None = None, expected_version: int | None = None) -> dict:
    """Restart a paused clock; its deadline moves by the time it was paused."""
    actor, case, sop, spec, row = _clock_action(uow, actor_badge, ref, clock, accused, lambda s: s.pause_roles, "resume", expected_version)
    occurred = when_of(uow, case, at)
    state = dc.resume(state_of(row), occurred)
    extra = {"note": need_text(note, "--note")} if note else {}
    return _finish(uow, actor, case, sop, spec, row, "clock_resume", occurred, extra, late_reason, expected_version, state)


def extend(uow: UnitOfWork, actor_badge: str, ref: str, clock: str, reason: str, days: int | None = None, hours: int | None = None, accused: str | None = None, at: str | None = None, late_reason: str | None = None, expected_version: int | None = None) -> dict:
    """Move a clock's deadline, by a role and up to a total the SOP declares."""
    actor, case, sop, spec, row = _clock_action(uow, actor_badge, ref, clock, accused, lambda s: s.extendable_by, "extend", expected_version, _extendable)
    if (days is None) == (hours is None):
        raise BadInput("say how long: --days N or --hours N")
    reason = need_text(reason, "--reason")
    occurred = when_of(uow, case, at)
    state = dc.extend(state_of(row), spec, occurred, days, hours, calendar_of(sop))
    extra = {"reason": reason, **({"days": days} if days is not None else {"hours": hours})}
    return _finish(uow, actor, case, sop, spec, row, "clock_extend", occurred, extra, late_reason, expected_version, state)


__all__ = ["ClockSpec", "clock_rows", "extend", "late_reason_for", "on_record", "pause", "rebuild", "rebuild_all", "resume"]
