"""Case actions: register an FIR, assign the IO, move the case, read it back."""

from __future__ import annotations

from sqlmodel import select

from casechain.domain.errors import BadInput, Refused
from casechain.domain.events import advance_payload, assign_payload, register_payload
from casechain.domain.roles import Place, Role, jurisdiction_problem
from casechain.domain.timeutil import as_utc, iso_utc, parse_when
from casechain.domain.workflow import workflow
from casechain.services.common import (
    actor_of,
    case_of,
    case_sop,
    facts_of,
    make_ref,
    need_text,
    record,
    require_role,
    sop_of,
    split_list,
    when_of,
)
from casechain.services.reference import parse_flags, parse_sections
from casechain.storage.tables import Accused, Case, Officer
from casechain.storage.uow import UnitOfWork

DEFAULT_SOP = "default"


def register(
    uow: UnitOfWork,
    actor_badge: str,
    station: str,
    fir_no: int,
    year: int,
    sections: str,
    occurred_at: str,
    reported_at: str,
    complainant: str,
    accused: list[str] | tuple = (),
    flags: list[str] | tuple = (),
    sop: str | None = None,
) -> dict:
    """Record an FIR (s.154 CrPC) as a new case; returns its reference CODE/N/Y."""
    actor = actor_of(uow, actor_badge)
    require_role(actor, Role.SHO, Role.IO, doing="register FIRs")
    st = uow.station(station or "")
    if st is None:
        raise BadInput(f"unknown station {station!r}: see station list")
    if actor.station != st.code:
        raise Refused(f"{actor.badge} belongs to station {actor.station}; FIRs of {st.code} are registered there")
    result = record_fir(uow, actor, st, fir_no, year, sections, occurred_at, reported_at, complainant, accused, flags, sop)
    uow.commit()
    return result


def record_fir(uow: UnitOfWork, actor, st, fir_no, year, sections, occurred_at, reported_at, complainant, accused=(), flags=(), sop=None, source=None) -> dict:
    """Check and record an FIR of station ``st`` for ``actor``, without committing.

    ``register`` calls it for the officer at the station; ``import`` for the
    admin loading cases from another system (``source`` then notes where from).
    """
    if not (1 <= int(fir_no) <= 9_999_999):
        raise BadInput(f"bad FIR number {fir_no}: a positive whole number")
    occurred = parse_when(occurred_at, "--occurred-at")
    reported = parse_when(reported_at, "--reported-at")
    now = uow.now()
    if reported > now:
        raise BadInput(f"--reported-at {reported_at} lies in the future")
    if occurred > reported:
        raise BadInput("--occurred-at is after --reported-at: an offence is reported after it happens")
    from casechain.domain.timeutil import LOCAL

    if reported.astimezone(LOCAL).year != int(year):
        raise BadInput(f"--year {year} does not match --reported-at ({reported.astimezone(LOCAL).year}): an FIR is numbered in the year it is recorded")
    from casechain.services.sops import sop_for_province

    # Without --sop: the SOP of the station's province, else the default one.
    the_sop = sop_of(uow, sop) if sop else sop_for_province(uow, st.province, DEFAULT_SOP)
    ref = make_ref(st.code, int(fir_no), int(year))
    if uow.case(ref) is not None:
        raise BadInput(f"FIR {fir_no}/{year} of {st.code} is already registered as {ref}")
    secs = parse_sections(sections)
    flag_list = parse_flags(flags)
    names = [need_text(a, "--accused") for a in accused]
    complainant = need_text(complainant, "--complainant")
    case = Case(
        ref=ref,
        station=st.code,
        district=st.district,
        fir_no=int(fir_no),
        year=int(year),
        sop_name=the_sop.name,
        sop_version=the_sop.version,
        state=the_sop.initial,
        sections=",".join(secs),
        flags=",".join(flag_list),
        complainant=complainant,
        occurred_at=as_utc(occurred),
        reported_at=as_utc(reported),
        registered_at=as_utc(now),
    )
    uow.session.add(case)
    uow.session.flush()
    for name in names:
        uow.session.add(Accused(case_id=case.id, name=name))
    payload = register_payload(ref, the_sop.key, the_sop.initial, st.code, fir_no, year, secs, flag_list, complainant, names, occurred, reported, source)
    record(uow, case, "register", actor.badge, reported, payload)
    return {"ref": ref, "state": case.state, "sop": the_sop.key}


def assign(uow: UnitOfWork, actor_badge: str, ref: str, io_badge: str, at: str | None = None, expected_version=None) -> dict:
    """The SHO (or a supervisor) makes an IO responsible for the investigation."""
    actor = actor_of(uow, actor_badge)
    case = case_of(uow, ref, expected_version)
    require_role(actor, Role.SHO, Role.SUPERVISOR, doing="assign IOs")
    problem = jurisdiction_problem(actor, Place(case.station, case.district, case.io))
    if problem:
        raise Refused(problem)
    sop = case_sop(uow, case)
    if sop.state(case.state).terminal:
        raise Refused(f"case {case.ref} is closed ({case.state}); it cannot get a new IO")
    io = uow.officer(io_badge or "")
    if io is None:
        raise BadInput(f"unknown officer {io_badge!r}: check the badge number (officer list)")
    if io.role != Role.IO.value or not io.active:
        raise Refused(f"{io.badge} is a {io.role}{'' if io.active else ' (deactivated)'}, not an active IO")
    if io.station != case.station:
        raise Refused(f"{io.badge} is posted at {io.station}; the case belongs to {case.station}")
    if io.badge == case.io:
        raise Refused(f"{io.badge} is already the IO of {case.ref}")
    occurred = when_of(uow, case, at)
    payload, changes = assign_payload(io.badge, case.io)
    record(uow, case, "assign", actor.badge, occurred, payload, changes, expected_version)
    uow.commit()
    return {"ref": case.ref, "io": io.badge, "version": case.version}


def advance(
    uow: UnitOfWork,
    actor_badge: str,
    ref: str,
    event: str,
    note: str | None = None,
    at: str | None = None,
    override: str | None = None,
    outcome: str | None = None,
    expected_version: int | None = None,
    late_reason: str | None = None,
) -> dict:
    """Fire an SOP event on a case, if the rules allow it for this officer now."""
    actor = actor_of(uow, actor_badge)
    case = case_of(uow, ref, expected_version)
    sop = case_sop(uow, case)
    flow = workflow(sop)
    if override is not None and override.strip():
        override = need_text(override, "--override")  # the reason is kept in the audit trail: plain text
    move = flow.fire(event, facts_of(uow, case), actor, outcome=outcome, override=override)
    ev = sop.event(event)
    if ev.note_required and not (note or "").strip():
        raise BadInput(f"{event} needs --note (e.g. the court's order or the terms of the compromise)")
    occurred = when_of(uow, case, at)
    note = need_text(note, "--note") if note else None
    from casechain.services.clocks import late_reason_for

    late = late_reason_for(uow, case, occurred, late_reason)  # logged long after it happened: say why
    payload, changes = advance_payload(move, case.round, note, late)
    record(uow, case, "advance", actor.badge, occurred, payload, changes, expected_version)
    uow.commit()
    return {"ref": case.ref, "event": move.event, "from": move.source, "to": move.dest, "version": case.version, "waived": list(move.waived)}


def events(uow: UnitOfWork, actor_badge: str, ref: str) -> dict:
    """Every move of the case's SOP, and for each why ``actor`` may not make it now."""
    actor = actor_of(uow, actor_badge)
    case = case_of(uow, ref)
    flow = workflow(case_sop(uow, case))
    options = flow.options(facts_of(uow, case), actor)
    return {
        "ref": case.ref,
        "state": case.state,
        "actor": actor.badge,
        "role": actor.role.value,
        "events": [
            {
                "event": o.event,
                "outcome": o.outcome,
                "to": o.dest,
                "roles": list(o.roles),
                "allowed": o.allowed,
                "blocked_by": list(o.blockers),
            }
            for o in options
        ],
    }


def show(uow: UnitOfWork, ref: str) -> dict:
    from casechain.services.checklist import checklist_rows

    case = case_of(uow, ref)
    sop = case_sop(uow, case)
    from casechain.services.clocks import clock_rows
    from casechain.services.custody import custody_rows
    from casechain.services.deficiencies import deficiency_rows

    return {
        "ref": case.ref,
        "state": case.state,
        "sop": sop.key,
        "station": case.station,
        "district": case.district,
        "fir_no": case.fir_no,
        "year": case.year,
        "io": case.io,
        "sections": list(split_list(case.sections)),
        "flags": list(split_list(case.flags)),
        "complainant": case.complainant,
        "occurred_at": iso_utc(case.occurred_at),
        "reported_at": iso_utc(case.reported_at),
        "registered_at": iso_utc(case.registered_at),
        "report": case.report,
        "round": case.round,
        "version": case.version,
        "head_hash": case.head_hash,
        "clocks": clock_rows(uow, case),
        "checklist": checklist_rows(uow, case, sop),
        "deficiencies": deficiency_rows(uow, case),
        "custody": custody_rows(uow, case),
    }


def list_cases(
    uow: UnitOfWork,
    state: str | None = None,
    station: str | None = None,
    district: str | None = None,
    io: str | None = None,
    limit: int | None = None,
    overdue: bool = False,
) -> list[dict]:
    q = select(Case).order_by(Case.station, Case.year, Case.fir_no)
    if overdue:  # a statutory clock is running past its deadline now
        from casechain.reports import overdue_case_ids

        q = q.where(Case.id.in_(overdue_case_ids(uow.now(), uow.session.get_bind().dialect.name == "sqlite")))
    if state:
        q = q.where(Case.state == state)
    if station:
        q = q.where(Case.station == station.upper())
    if district:
        from casechain.services.reference import district_row

        q = q.where(Case.district == district_row(district)["district"])
    if io:
        q = q.where(Case.io == io)
    if limit:
        q = q.limit(limit)
    return [
        {
            "ref": c.ref,
            "state": c.state,
            "station": c.station,
            "district": c.district,
            "io": c.io,
            "sections": c.sections,
            "reported_at": iso_utc(c.reported_at),
            "round": c.round,
            "version": c.version,
        }
        for c in uow.session.exec(q).all()
    ]


def history(uow: UnitOfWork, ref: str) -> list[dict]:
    import json

    case = case_of(uow, ref)
    names = dict(uow.session.exec(select(Officer.badge, Officer.name)).all())
    return [
        {
            "ref": case.ref,
            "seq": e.seq,
            "action": e.action,
            "actor": e.actor,
            "actor_name": names.get(e.actor, ""),
            "occurred_at": iso_utc(e.occurred_at),
            "recorded_at": iso_utc(e.recorded_at),
            "payload": json.loads(e.payload),
            "hash": e.hash,
        }
        for e in uow.events(case.id)
    ]

