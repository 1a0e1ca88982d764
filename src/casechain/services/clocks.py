"""Statutory clocks in the database: started and met by what happens to a case.

``on_record`` is called by ``services.common.record()`` for every audit event,
inside the same transaction. It starts and meets the SOP's clocks, keeps the
per-case report figures (``case_track``: who holds the file, rounds,
overrides, late entries), marks late entries and refuses steps recorded out
of order (a verdict dated before the filing). It writes only derived tables,
never an audit event, so a case's version is unchanged by it.

The user actions ``case pause|resume|extend`` are here too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import select

from casechain.calendars import load_calendar
from casechain.domain import clocks as dc
from casechain.domain.errors import BadInput, Refused
from casechain.domain.roles import Place, Role, jurisdiction_problem
from casechain.domain.sop import ClockSpec, Condition, Sop
from casechain.domain.timeutil import as_utc, iso_utc, local_text
from casechain.services.common import (
    actor_of,
    case_of,
    case_sop,
    facts_of,
    need_text,
    record,
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

_NO_CONDITION = Condition()


def fir_month(at: datetime) -> str:
    """YYYY-MM of an instant in Pakistan time (the cohort an FIR belongs to)."""
    return dc.local_date(at).strftime("%Y-%m")


def calendar_of(sop: Sop) -> dc.Calendar:
    return load_calendar(sop.calendar) if sop.calendar else dc.NO_HOLIDAYS


def holder_of(sop: Sop, state: str) -> str:
    """Who has the file in ``state``: the SOP's ``holder``, else police/prosecution
    from the states where each works on it, court, or nobody (closed)."""
    st = sop.state(state)
    if st is not None and st.holder:
        return st.holder
    if st is not None and st.terminal:
        return "closed"
    if state in sop.scrutiny_states:
        return "prosecution"
    if state in sop.checklist_open_in:
        return "police"
    return "court"


# -- rows <-> domain -------------------------------------------------------------
def state_of(row: Clock) -> dc.ClockState:
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


def _save(row: Clock, state: dc.ClockState, calendar: dc.Calendar) -> None:
    row.due_at = state.due(calendar)
    row.met_from, row.breached_after = dc.window(state, row.due_at)
    row.paused_at, row.paused_days, row.paused_seconds, row.pauses = state.paused_at, state.paused_days, state.paused_seconds, state.pauses
    row.extra_days, row.extra_hours = state.extra_days, state.extra_hours
    row.met_at = state.met_at


# -- the hook ------------------------------------------------------------------------
def on_record(uow: UnitOfWork, case: Case, event: AuditEvent, payload: dict) -> None:
    """Bring clocks and report figures up to date with one new audit event."""
    sop = case_sop(uow, case)
    at = as_utc(event.occurred_at)
    action = event.action
    track = uow.session.get(CaseTrack, case.id)
    if track is None:
        track = CaseTrack(
            case_id=case.id,
            station=case.station,
            district=case.district,
            io=None if action == "register" else case.io,
            reported_at=as_utc(case.reported_at),
            fir_month=fir_month(case.reported_at),
            holder=holder_of(sop, payload["state"] if action == "register" else payload["from"] if action == "advance" else case.state),
            holder_since=as_utc(case.reported_at),
            moved_at=as_utc(case.reported_at),
        )
        uow.session.add(track)
    _mark_late(uow, sop, case, event, payload, track)
    if payload.get("override"):
        track.overrides += 1
    if action == "advance":
        _advance(sop, track, at, payload)
    elif action == "assign" and track.io != payload["io"]:
        track.io = payload["io"]
        uow.session.exec(update(Clock).where(Clock.case_id == case.id).values(io=track.io).execution_options(synchronize_session=False))
    elif action == "clock_pause":
        track.pauses += 1
    elif action == "clock_extend":
        track.extensions += 1
    officer = uow.session.get(Officer, event.actor)
    if officer is not None and officer.role == Role.PROSECUTOR.value and track.prosecutor != officer.badge:
        track.prosecutor = officer.badge
        uow.session.exec(update(Clock).where(Clock.case_id == case.id).values(prosecutor=track.prosecutor).execution_options(synchronize_session=False))
    fired = set(dc.triggers(action, payload))
    if fired:
        _meet(uow, sop, case, event, payload, fired, at)
        _start(uow, sop, case, event, payload, fired, at, track)


def _mark_late(uow, sop: Sop, case: Case, event: AuditEvent, payload: dict, track: CaseTrack) -> None:
    # An FIR's own time is its entry in the station register (s.154); a delay in
    # registering is a different figure from a step logged after the fact.
    if event.action == "register" or sop.late_entry_hours is None:
        return
    hours = (as_utc(event.recorded_at) - as_utc(event.occurred_at)).total_seconds() / 3600
    if hours > sop.late_entry_hours:
        uow.session.add(LateEntry(case_id=case.id, seq=event.seq, action=event.action, hours_late=round(hours, 2), reason=payload.get("late_reason")))
        track.late_entries += 1


def _advance(sop: Sop, track: CaseTrack, at: datetime, payload: dict) -> None:
    moved_at = as_utc(track.moved_at)
    if at < moved_at:
        raise Refused(
            f"{payload['event']} at {local_text(at)} is before {track.moved_by} at {local_text(moved_at)}: "
            "the steps of a case happen in order; check --at"
        )
    track.moved_at, track.moved_by = at, payload["event"]
    new_holder = holder_of(sop, payload["to"])
    if new_holder != track.holder:
        spent = max(0, int((at - as_utc(track.holder_since)).total_seconds()))
        if track.holder == "police":
            track.police_seconds += spent
        elif track.holder == "prosecution":
            track.prosecution_seconds += spent
        track.holder, track.holder_since = new_holder, at
    if "round" in payload:
        track.rounds = payload["round"]


def _meet(uow, sop: Sop, case: Case, event: AuditEvent, payload: dict, fired: set, at: datetime) -> None:
    specs = {c.name: c for c in sop.clocks if fired & set(c.met_by)}
    if not specs:
        return
    q = select(Clock).where(Clock.case_id == case.id, Clock.name.in_(list(specs)), Clock.met_at.is_(None))
    calendar = calendar_of(sop)
    for row in uow.session.exec(q).all():
        if specs[row.name].per == "accused" and row.accused_id != payload.get("accused_id"):
            continue
        state = dc.meet(state_of(row), at)
        _save(row, state, calendar)
        row.met_by, row.met_seq = max(fired & set(specs[row.name].met_by)), event.seq
        uow.session.add(row)


def _start(uow, sop: Sop, case: Case, event: AuditEvent, payload: dict, fired: set, at: datetime, track: CaseTrack) -> None:
    facts = None
    for spec in sop.clocks:
        if not fired & set(spec.starts_on):
            continue
        if spec.applies_when != _NO_CONDITION:
            facts = facts or facts_of(uow, case)
            if not spec.applies_when.holds(facts):
                continue
        accused_id = payload.get("accused_id") if spec.per == "accused" else None
        if spec.per == "accused" and accused_id is None:
            continue
        order_days = payload.get("days") if spec.limit_from == "order" else None
        if spec.limit_from == "order" and order_days is None:
            continue
        calendar = calendar_of(sop) if spec.holidays != "count" else dc.NO_HOLIDAYS
        state = dc.start(spec, at, order_days, violated=spec.name in payload.get("exceeds", ()))
        due = state.due(calendar)
        met_from, breached_after = dc.window(state, due)
        uow.session.add(
            Clock(
                case_id=case.id,
                name=spec.name,
                accused_id=accused_id,
                station=track.station,
                district=track.district,
                io=track.io,
                prosecutor=track.prosecutor,
                reported_at=track.reported_at,
                fir_month=track.fir_month,
                kind=spec.kind,
                holidays=spec.holidays,
                responsible=spec.responsible,
                started_at=state.started_at,
                due_at=due,
                base_due_at=state.base_due(calendar),
                met_from=met_from,
                breached_after=breached_after,
                limit_days=state.days,
                limit_hours=state.hours,
                violated=state.violated,
                start_seq=event.seq,
            )
        )


def rebuild(uow: UnitOfWork, case: Case) -> int:
    """Recompute a case's clocks and report figures from its audit trail.

    For loaders that insert audit events in bulk, and to check that the
    figures kept step by step equal a replay. Returns the events replayed.
    """
    import json

    from sqlalchemy import delete

    for table in (Clock, LateEntry, CaseTrack):
        uow.session.exec(delete(table).where(table.case_id == case.id))
    uow.session.flush()
    events = uow.events(case.id)
    for ev in events:
        payload = json.loads(ev.payload)
        on_record(uow, case, ev, payload)
        uow.session.flush()
        if ev.action in ("clock_pause", "clock_resume", "clock_extend"):
            _replay_clock_action(uow, case, ev, payload)
    return len(events)


def rebuild_all(uow: UnitOfWork, batch: int = 500) -> dict:
    """``rebuild`` for every case, committing each batch (for bulk loaders)."""
    cases = events = 0
    last_id = 0
    while True:
        chunk = uow.session.exec(select(Case).where(Case.id > last_id).order_by(Case.id).limit(batch)).all()
        if not chunk:
            return {"cases": cases, "events": events}
        for case in chunk:
            events += rebuild(uow, case)
            cases += 1
        last_id = chunk[-1].id
        uow.commit()
        uow.session.expunge_all()


def _replay_clock_action(uow, case: Case, ev: AuditEvent, payload: dict) -> None:
    sop = case_sop(uow, case)
    spec = sop.clock(payload["clock"])
    row = uow.session.exec(
        select(Clock).where(Clock.case_id == case.id, Clock.start_seq == payload["start_seq"], Clock.name == payload["clock"])
    ).first()
    if row is None or spec is None:
        return
    at = as_utc(ev.occurred_at)
    calendar = calendar_of(sop)
    state = state_of(row)
    if ev.action == "clock_pause":
        state = dc.pause(state, at, calendar)
    elif ev.action == "clock_resume":
        state = dc.resume(state, at)
    else:
        state = dc.extend(state, spec, at, payload.get("days"), payload.get("hours"), calendar)
    _save(row, state, calendar)
    uow.session.add(row)


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
def _clock_action(uow, actor_badge: str, ref: str, clock: str, accused: str | None, roles, doing: str, precheck=None):
    actor = actor_of(uow, actor_badge)
    case = case_of(uow, ref)
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
    calendar = calendar_of(sop)
    late = late_reason_for(uow, case, occurred, late_reason)
    _save(row, state, calendar)
    uow.session.add(row)
    payload = {"clock": spec.name, "start_seq": row.start_seq, **payload, "due": iso_utc(row.due_at)}
    if late:
        payload["late_reason"] = late
    record(uow, case, action, actor.badge, occurred, payload, {}, expected_version)
    uow.commit()
    return {"ref": case.ref, "clock": spec.name, "due": iso_utc(row.due_at), "due_local": local_text(row.due_at), "paused": row.paused_at is not None, "version": case.version}


def _pausable(sop: Sop, spec: ClockSpec) -> None:
    if not spec.pausable:
        raise Refused(f"clock {spec.name} cannot be paused: SOP {sop.key} allows no stay of it ({spec.section})")


def _extendable(sop: Sop, spec: ClockSpec) -> None:
    if not spec.extendable_by:
        raise Refused(f"clock {spec.name} cannot be extended: SOP {sop.key} names nobody who may extend it ({spec.section})")


def pause(uow: UnitOfWork, actor_badge: str, ref: str, clock: str, reason: str, accused: str | None = None, at: str | None = None, late_reason: str | None = None, expected_version: int | None = None) -> dict:
    """Stop a clock where the SOP allows it (e.g. a court stayed the proceedings)."""
    actor, case, sop, spec, row = _clock_action(uow, actor_badge, ref, clock, accused, lambda s: s.pause_roles, "pause", _pausable)
    reason = need_text(reason, "--reason")
    occurred = when_of(uow, case, at)
    state = dc.pause(state_of(row), occurred, calendar_of(sop))
    return _finish(uow, actor, case, sop, spec, row, "clock_pause", occurred, {"reason": reason}, late_reason, expected_version, state)


def resume(uow: UnitOfWork, actor_badge: str, ref: str, clock: str, accused: str | None = None, note: str | None = None, at: str | None = None, late_reason: str | None = None, expected_version: int | None = None) -> dict:
    """Restart a paused clock; its deadline moves by the time it was paused."""
    actor, case, sop, spec, row = _clock_action(uow, actor_badge, ref, clock, accused, lambda s: s.pause_roles, "resume")
    occurred = when_of(uow, case, at)
    state = dc.resume(state_of(row), occurred)
    extra = {"note": need_text(note, "--note")} if note else {}
    return _finish(uow, actor, case, sop, spec, row, "clock_resume", occurred, extra, late_reason, expected_version, state)


def extend(uow: UnitOfWork, actor_badge: str, ref: str, clock: str, reason: str, days: int | None = None, hours: int | None = None, accused: str | None = None, at: str | None = None, late_reason: str | None = None, expected_version: int | None = None) -> dict:
    """Move a clock's deadline, by a role and up to a total the SOP declares."""
    actor, case, sop, spec, row = _clock_action(uow, actor_badge, ref, clock, accused, lambda s: s.extendable_by, "extend", _extendable)
    if (days is None) == (hours is None):
        raise BadInput("say how long: --days N or --hours N")
    reason = need_text(reason, "--reason")
    occurred = when_of(uow, case, at)
    state = dc.extend(state_of(row), spec, occurred, days, hours, calendar_of(sop))
    extra = {"reason": reason, **({"days": days} if days is not None else {"hours": hours})}
    return _finish(uow, actor, case, sop, spec, row, "clock_extend", occurred, extra, late_reason, expected_version, state)


__all__ = ["ClockSpec", "clock_rows", "extend", "late_reason_for", "on_record", "pause", "rebuild", "rebuild_all", "resume"]
