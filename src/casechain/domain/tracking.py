"""Report figures and statutory clocks, folded from a case's audit events.

One fold, two callers: ``services.clocks.on_record`` applies each new event to
the stored figures of its case as it is recorded, and
``services.clocks.rebuild_all`` replays whole audit trails in memory (bulk
loaders, and the proof that the figures kept step by step equal a replay).
Both go through :func:`apply`, so they cannot drift apart.

Pure: the caller hands in the SOP, its holiday calendar, the actor's role and
(lazily) the facts of the case; storage maps :class:`Track` and
:class:`ClockInstance` to rows (their field names are the column names).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from casechain.domain import clocks as dc
from casechain.domain.errors import Refused
from casechain.domain.sop import CaseFacts, Condition, Sop
from casechain.domain.timeutil import as_utc, local_text

CLOCK_ACTIONS = ("clock_pause", "clock_resume", "clock_extend")
_NO_CONDITION = Condition()


def fir_month(at: datetime) -> str:
    """YYYY-MM of an instant in Pakistan time (the cohort an FIR belongs to)."""
    return dc.local_date(at).strftime("%Y-%m")


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


@dataclass
class Event:
    """What the fold needs of one audit event (payload already decoded)."""

    seq: int
    action: str
    actor: str
    occurred_at: datetime
    recorded_at: datetime
    payload: dict


@dataclass
class Track:
    """The per-case report figures (the ``case_track`` row, less its key)."""

    station: str
    district: str
    io: str | None
    prosecutor: str | None
    reported_at: datetime
    fir_month: str
    holder_since: datetime
    moved_at: datetime
    holder: str = "police"
    moved_by: str = "register"
    rounds: int = 0
    police_seconds: int = 0
    prosecution_seconds: int = 0
    late_entries: int = 0
    overrides: int = 0
    pauses: int = 0
    extensions: int = 0


def new_track(sop: Sop, station: str, district: str, io: str | None, reported_at: datetime, state: str, ev: Event) -> Track:
    """The figures of a case that has none yet: normally at its ``register``
    event; for a case loaded without them, from its state as it stands."""
    reported_at = as_utc(reported_at)
    if ev.action == "register":
        state, io = ev.payload["state"], None
    elif ev.action == "advance":
        state = ev.payload["from"]
    return Track(station, district, io, None, reported_at, fir_month(reported_at), reported_at, reported_at, holder=holder_of(sop, state))


@dataclass
class ClockInstance:
    """One running or finished clock (the ``clock`` row, less the grouping
    facts it copies from the track and the derived due/window columns)."""

    state: dc.ClockState
    responsible: str
    start_seq: int
    accused_id: int | None = None
    met_by: str | None = None
    met_seq: int | None = None
    id: int | None = None  # the stored row; None until written


@dataclass
class LateMark:
    seq: int
    action: str
    hours_late: float
    reason: str | None


@dataclass
class Effects:
    """What one event changed, for a caller that writes step by step."""

    started: list[ClockInstance] = field(default_factory=list)
    changed: list[ClockInstance] = field(default_factory=list)
    late: LateMark | None = None


def touches_clocks(action: str, payload: dict) -> bool:
    """Whether the event can start, meet or change a clock (else the open
    clocks of the case need not be read to apply it)."""
    return action in CLOCK_ACTIONS or bool(dc.triggers(action, payload))


def apply(
    sop: Sop,
    calendar: dc.Calendar,
    track: Track,
    clocks: list[ClockInstance],
    ev: Event,
    actor_role: str | None,
    facts: Callable[[], CaseFacts],
) -> Effects:
    """Bring ``track`` and ``clocks`` (the case's open clocks, at least) up to
    date with one more event, in place; returns what changed.

    Refused when the event is a step dated before the previous one (a verdict
    dated before the filing): the steps of a case happen in order.
    """
    out = Effects()
    action, payload = ev.action, ev.payload
    at = as_utc(ev.occurred_at)
    # An FIR's own time is its entry in the station register (s.154); a delay in
    # registering is a different figure from a step logged after the fact.
    if action != "register" and sop.late_entry_hours is not None:
        hours = (as_utc(ev.recorded_at) - at).total_seconds() / 3600
        if hours > sop.late_entry_hours:
            out.late = LateMark(ev.seq, action, round(hours, 2), payload.get("late_reason"))
            track.late_entries += 1
    if payload.get("override"):
        track.overrides += 1
    if action == "advance":
        _advance(sop, track, at, payload)
    elif action == "assign":
        track.io = payload["io"]
    elif action == "clock_pause":
        track.pauses += 1
    elif action == "clock_extend":
        track.extensions += 1
    if actor_role == "prosecutor":
        track.prosecutor = ev.actor
    triggers = dc.triggers(action, payload)
    if triggers:
        fired = set(triggers)
        meets, starts = _specs(sop, fired)
        if meets:
            _meet(meets, clocks, ev, fired, at, out)
        if starts:
            _start(starts, track, clocks, ev, at, facts, out)
    if action in CLOCK_ACTIONS:
        _clock_action(sop, calendar, clocks, ev, at, out)
    return out


def fold(
    sop: Sop,
    calendar: dc.Calendar,
    head,
    events,
    prosecutors,
    facts: Callable[[], CaseFacts],
) -> tuple[Track | None, list[ClockInstance], list[LateMark]]:
    """A whole audit trail through :func:`apply`, event by event: the case's
    figures, every clock it started (in order) and its late entries.

    ``head`` has the case's ``station``, ``district``, ``io``, ``reported_at``
    and ``state`` (for a trail that does not start at ``register``);
    ``prosecutors`` the badges whose role is prosecutor (the only role the fold
    looks at). ``services.clocks.rebuild_all`` replays stored trails with it,
    and the bulk demo folds the trails it has just built."""
    track, clocks, lates = None, [], []
    for ev in events:
        if track is None:
            track = new_track(sop, head.station, head.district, head.io, head.reported_at, head.state, ev)
        fx = apply(sop, calendar, track, clocks, ev, "prosecutor" if ev.actor in prosecutors else None, facts)
        if fx.late:
            lates.append(fx.late)
    return track, clocks, lates


def _advance(sop: Sop, track: Track, at: datetime, payload: dict) -> None:
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


_SPECS: dict[tuple, tuple] = {}


def _specs(sop: Sop, fired: set) -> tuple[dict, list]:
    """(clock name -> spec met by one of ``fired``, [(spec, has a condition)]
    started by one of ``fired``, in SOP order): worked out once per SOP and
    set of triggers."""
    key = (id(sop), frozenset(fired))
    hit = _SPECS.get(key)
    if hit is None or hit[0] is not sop:
        meets = {c.name: c for c in sop.clocks if fired & set(c.met_by)}
        starts = [(c, c.applies_when != _NO_CONDITION) for c in sop.clocks if fired & set(c.starts_on)]
        hit = _SPECS[key] = (sop, meets, starts)  # the SOP kept, so its id is not reused
    return hit[1], hit[2]


def _meet(specs: dict, clocks: list[ClockInstance], ev: Event, fired: set, at: datetime, out: Effects) -> None:
    for clock in clocks:
        spec = specs.get(clock.state.name)
        if spec is None or clock.state.met_at is not None:
            continue
        if spec.per == "accused" and clock.accused_id != ev.payload.get("accused_id"):
            continue
        clock.state = dc.meet(clock.state, at)
        clock.met_by, clock.met_seq = max(fired & set(spec.met_by)), ev.seq
        out.changed.append(clock)


def _start(specs: list, track: Track, clocks: list[ClockInstance], ev: Event, at: datetime, facts, out: Effects) -> None:
    payload = ev.payload
    case_facts = None
    for spec, conditional in specs:
        if conditional:
            case_facts = case_facts or facts()
            if not spec.applies_when.holds(case_facts):
                continue
        accused_id = payload.get("accused_id") if spec.per == "accused" else None
        if spec.per == "accused" and accused_id is None:
            continue
        order_days = payload.get("days") if spec.limit_from == "order" else None
        if spec.limit_from == "order" and order_days is None:
            continue
        state = dc.start(spec, at, order_days, violated=spec.name in payload.get("exceeds", ()))
        clock = ClockInstance(state, spec.responsible, ev.seq, accused_id)
        clocks.append(clock)
        out.started.append(clock)


def _clock_action(sop: Sop, calendar: dc.Calendar, clocks: list[ClockInstance], ev: Event, at: datetime, out: Effects) -> None:
    """A stay, its end, or an extension of the clock the event names. The
    service checked it against the same functions before recording it."""
    payload = ev.payload
    spec = sop.clock(payload["clock"])
    clock = next((c for c in clocks if c.start_seq == payload["start_seq"] and c.state.name == payload["clock"]), None)
    if clock is None or spec is None:
        return
    if ev.action == "clock_pause":
        clock.state = dc.pause(clock.state, at, calendar)
    elif ev.action == "clock_resume":
        clock.state = dc.resume(clock.state, at)
    else:
        clock.state = dc.extend(clock.state, spec, at, payload.get("days"), payload.get("hours"), calendar)
    out.changed.append(clock)


# -- the stored form --------------------------------------------------------------
def clock_columns(clock: ClockInstance, calendar: dc.Calendar) -> dict:
    """The columns of a clock row that change as it runs (due and window derived)."""
    s = clock.state
    due = s.due(calendar)
    met_from, breached_after = dc.window(s, due)
    return {
        "due_at": due,
        "met_from": met_from,
        "breached_after": breached_after,
        "paused_at": s.paused_at,
        "paused_days": s.paused_days,
        "paused_seconds": s.paused_seconds,
        "pauses": s.pauses,
        "extra_days": s.extra_days,
        "extra_hours": s.extra_hours,
        "met_at": s.met_at,
        "met_by": clock.met_by,
        "met_seq": clock.met_seq,
    }


def new_clock_row(clock: ClockInstance, track: Track, calendar: dc.Calendar) -> dict:
    """Every column of a new clock row, with the case's grouping facts from ``track``."""
    s = clock.state
    columns = clock_columns(clock, calendar)
    if s.paused_days or s.paused_seconds or s.extra_days or s.extra_hours:
        base_due = s.base_due(calendar)
    else:  # nothing moved it: the deadline as the law set it is the deadline
        base_due = columns["due_at"]
    return {
        "name": s.name,
        "accused_id": clock.accused_id,
        "station": track.station,
        "district": track.district,
        "io": track.io,
        "prosecutor": track.prosecutor,
        "reported_at": track.reported_at,
        "fir_month": track.fir_month,
        "kind": s.kind,
        "holidays": s.holidays,
        "responsible": clock.responsible,
        "started_at": s.started_at,
        "base_due_at": base_due,
        "limit_days": s.days,
        "limit_hours": s.hours,
        "violated": s.violated,
        "start_seq": clock.start_seq,
        **columns,
    }
