"""Custody of each accused: arrest, production, remand, release, proclamation.

The rights of an arrested person are time limits (see DOMAIN.md): production
before a Magistrate within 24 hours (Art.10(2), s.61), police (physical)
remand at most 15 days in the whole (s.167), judicial remand at most 15 days
per order (s.344). The limits are the SOP's clocks; this module refuses an
order beyond them (naming the limit and the days already used) unless a role
the SOP names overrides it with a reason, which is recorded and reported.
Entries for one accused must come in the order they happened.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from casechain.domain import clocks as dc
from casechain.domain.errors import BadInput, Refused
from casechain.domain.roles import Place, jurisdiction_problem
from casechain.domain.sop import Sop
from casechain.domain.timeutil import as_utc, iso_utc, local_text, parse_when
from casechain.services.clocks import late_reason_for
from casechain.services.common import (
    actor_of,
    case_of,
    case_sop,
    facts_of,
    need_text,
    record,
    when_of,
)
from casechain.storage.tables import Accused, Case, CustodyEvent, CustodyState
from casechain.storage.uow import UnitOfWork

IN_CUSTODY = ("arrested", "produced", "physical_remand", "judicial_remand")
REMAND_KINDS = ("physical", "judicial")
RELEASE_REASONS = ("bail", "discharge", "acquittal", "other")


def accused_of(uow: UnitOfWork, case: Case, name: str | None) -> Accused:
    """The accused of ``case`` called ``name`` (case-insensitive)."""
    rows = uow.session.exec(select(Accused).where(Accused.case_id == case.id).order_by(Accused.id)).all()
    wanted = (name or "").strip().casefold()
    hits = [a for a in rows if a.name.casefold() == wanted]
    if len(hits) == 1:
        return hits[0]
    names = ", ".join(a.name for a in rows) or "none recorded in the FIR"
    if not hits:
        raise BadInput(f"case {case.ref} has no accused {name!r}; accused: {names}")
    raise BadInput(f"case {case.ref} has {len(hits)} accused named {name!r}; custody entries need distinct names")


def _begin(uow: UnitOfWork, actor_badge: str, ref: str, name: str, at: str | None, act: str, expected_version: int | None):
    actor = actor_of(uow, actor_badge)
    case = case_of(uow, ref, expected_version)
    sop = case_sop(uow, case)
    if actor.role not in sop.custody_roles:
        allowed = ", ".join(r.value for r in sop.custody_roles)
        raise Refused(f"role {actor.role.value} may not record custody (SOP {sop.key}: {allowed})")
    problem = jurisdiction_problem(actor, Place(case.station, case.district, case.io))
    if problem:
        raise Refused(problem)
    person = accused_of(uow, case, name)
    state = uow.session.get(CustodyState, person.id)
    occurred = when_of(uow, case, at)
    if state is not None and occurred < as_utc(state.last_at):
        raise Refused(
            f"{act} of {person.name} at {local_text(occurred)} is before the last custody entry "
            f"({state.status.replace('_', ' ')}, {local_text(state.last_at)}): custody entries happen in order; check --at"
        )
    return actor, case, sop, person, state, occurred


def _write(uow, actor, case, person, state, occurred, act, payload, late_reason, expected_version, new_status, until=None, **event_fields) -> dict:
    late = late_reason_for(uow, case, occurred, late_reason)
    payload = {"accused": person.name, "accused_id": person.id, **payload}
    if late:
        payload["late_reason"] = late
    if state is None:
        state = CustodyState(accused_id=person.id, case_id=case.id, status=new_status, since=occurred, last_at=occurred)
    state.status, state.since, state.until, state.last_at = new_status, occurred, until, occurred
    if "court" in event_fields:
        state.court = event_fields["court"]
    uow.session.add(state)
    event = record(uow, case, f"custody_{act}", actor.badge, occurred, payload, {}, expected_version)
    uow.session.add(CustodyEvent(case_id=case.id, accused_id=person.id, seq=event.seq, act=act, at=occurred, until=until, by=actor.badge, override=payload.get("override"), **event_fields))
    uow.commit()
    out = {"ref": case.ref, "accused": person.name, "status": new_status, "at": iso_utc(occurred), "version": case.version}
    if until is not None:
        out["until"] = iso_utc(until)
    return out


def _in_custody(person: Accused, state: CustodyState | None, doing: str) -> None:
    if state is None or state.status not in IN_CUSTODY:
        now = "never arrested" if state is None else state.status.replace("_", " ")
        raise Refused(f"{person.name} is not in custody ({now}): record the arrest before {doing}")


def _override_check(actor, sop_specs_problems: list[tuple], override: str | None) -> tuple[str | None, list[str]]:
    """(override reason or None, names of clocks whose limit it overrides); Refused if not allowed."""
    problems = [p for _, ps in sop_specs_problems for p in ps]
    if not problems:
        if override is not None:
            raise BadInput("--override is not needed: the order is within the SOP's limits")
        return None, []
    if override is None:
        roles = sorted({r.value for spec, ps in sop_specs_problems if ps for r in spec.override_roles})
        raise Refused(problems + [f"only {' or '.join(roles) or 'nobody'} may record it anyway, with --override REASON"])
    for spec, ps in sop_specs_problems:
        if ps and actor.role not in spec.override_roles:
            who = ", ".join(r.value for r in spec.override_roles) or "nobody"
            raise Refused(problems + [f"role {actor.role.value} may not override {spec.name} (override roles: {who})"])
    return need_text(override, "--override"), [spec.name for spec, ps in sop_specs_problems if ps]


def _order_specs(uow, sop: Sop, case: Case, trigger: str) -> list:
    specs = [c for c in sop.clocks if trigger in c.starts_on and c.limit_from == "order"]
    facts = facts_of(uow, case) if specs else None
    return [c for c in specs if c.applies_when.holds(facts)]


# -- the actions -------------------------------------------------------------------------
def arrest(uow: UnitOfWork, actor_badge: str, ref: str, accused: str, at: str | None = None, late_reason: str | None = None, expected_version: int | None = None) -> dict:
    """An accused is arrested: the 24-hour production clock starts."""
    actor, case, _sop, person, state, occurred = _begin(uow, actor_badge, ref, accused, at, "arrest", expected_version)
    if state is not None and state.status in IN_CUSTODY:
        raise Refused(f"{person.name} is already in custody ({state.status.replace('_', ' ')} since {local_text(state.since)})")
    return _write(uow, actor, case, person, state, occurred, "arrest", {}, late_reason, expected_version, "arrested")


def produce(uow: UnitOfWork, actor_badge: str, ref: str, accused: str, court: str, at: str | None = None, late_reason: str | None = None, expected_version: int | None = None) -> dict:
    """The accused is produced before a Magistrate or court."""
    court = need_text(court, "--court")
    actor, case, _sop, person, state, occurred = _begin(uow, actor_badge, ref, accused, at, "production", expected_version)
    _in_custody(person, state, "the production")
    if state.status == "produced":
        raise Refused(f"{person.name} was produced at {local_text(state.since)} and has no remand or release since; record the court's order")
    return _write(uow, actor, case, person, state, occurred, "produce", {"court": court}, late_reason, expected_version, "produced", court=court)


def remand(uow: UnitOfWork, actor_badge: str, ref: str, accused: str, kind: str, days: int, at: str | None = None, override: str | None = None, late_reason: str | None = None, expected_version: int | None = None) -> dict:
    """A Magistrate remands the accused to physical (police) or judicial custody for N days."""
    if kind not in REMAND_KINDS:
        raise BadInput(f"bad --kind {kind!r}: physical or judicial")
    if not isinstance(days, int) or days < 1:
        raise BadInput(f"bad --days {days!r}: a whole number of days, at least 1")
    actor, case, sop, person, state, occurred = _begin(uow, actor_badge, ref, accused, at, f"{kind} remand", expected_version)
    _in_custody(person, state, "a remand")
    used = uow.session.exec(
        select(func.coalesce(func.sum(CustodyEvent.days), 0)).where(
            CustodyEvent.accused_id == person.id, CustodyEvent.act == "remand", CustodyEvent.kind == kind
        )
    ).one()
    specs = _order_specs(uow, sop, case, f"custody.remand.{kind}")
    checks = [(spec, dc.order_problems(spec, f"{kind} remand for {person.name}", days, int(used))) for spec in specs]
    override, exceeds = _override_check(actor, checks, override)
    until = dc.end_of_day(dc.local_date(occurred) + timedelta(days=days))
    payload = {"kind": kind, "days": days, "until": iso_utc(until)}
    if override:
        payload["override"], payload["exceeds"] = override, exceeds
    return _write(uow, actor, case, person, state, occurred, "remand", payload, late_reason, expected_version, f"{kind}_remand", until, kind=kind, days=days)


def release(uow: UnitOfWork, actor_badge: str, ref: str, accused: str, reason: str, at: str | None = None, note: str | None = None, late_reason: str | None = None, expected_version: int | None = None) -> dict:
    """The accused leaves custody: bail, discharge, acquittal or other."""
    if reason not in RELEASE_REASONS:
        raise BadInput(f"bad --reason {reason!r}: one of {'|'.join(RELEASE_REASONS)}")
    actor, case, _sop, person, state, occurred = _begin(uow, actor_badge, ref, accused, at, "release", expected_version)
    _in_custody(person, state, "a release")
    payload = {"reason": reason}
    if note:
        payload["note"] = need_text(note, "--note")
    return _write(uow, actor, case, person, state, occurred, "release", payload, late_reason, expected_version, "released", reason=reason)


def proclaim(uow: UnitOfWork, actor_badge: str, ref: str, accused: str, appear_by: str | None = None, at: str | None = None, override: str | None = None, late_reason: str | None = None, expected_version: int | None = None) -> dict:
    """A court proclaims an absconding accused (s.87); ``at`` is when it was published."""
    actor, case, sop, person, state, occurred = _begin(uow, actor_badge, ref, accused, at, "proclamation", expected_version)
    if state is not None and state.status in IN_CUSTODY:
        raise Refused(f"{person.name} is in custody ({state.status.replace('_', ' ')}); only an absconder is proclaimed")
    if state is not None and state.status == "proclaimed":
        raise Refused(f"{person.name} is already proclaimed (published {local_text(state.since)})")
    specs = _order_specs(uow, sop, case, "custody.proclaim")
    published = dc.local_date(occurred)
    if appear_by:
        appear = dc.local_date(parse_when(appear_by, "--appear-by"))
    elif specs:
        appear = published + timedelta(days=max(s.limit.days for s in specs))
    else:
        raise BadInput("give the date the proclamation requires the accused to appear: --appear-by DATE")
    days = (appear - published).days
    if days < 1:
        raise BadInput(f"--appear-by {appear_by} is not after the publication ({published}); give the appearance date")
    checks = [(spec, dc.order_problems(spec, f"proclamation for {person.name}", days)) for spec in specs]
    override, exceeds = _override_check(actor, checks, override)
    until = dc.start_of_day(appear)
    payload = {"days": days, "appear_by": appear.isoformat()}
    if override:
        payload["override"], payload["exceeds"] = override, exceeds
    return _write(uow, actor, case, person, state, occurred, "proclaim", payload, late_reason, expected_version, "proclaimed", until, days=days)


# -- reading -----------------------------------------------------------------------------
def custody_rows(uow: UnitOfWork, case: Case) -> list[dict]:
    """Each accused of the case with custody status and remand days used."""
    people = uow.session.exec(select(Accused).where(Accused.case_id == case.id).order_by(Accused.id)).all()
    states = {s.accused_id: s for s in uow.session.exec(select(CustodyState).where(CustodyState.case_id == case.id)).all()}
    used: dict[tuple[int, str], tuple[int, int]] = {}
    q = (
        select(CustodyEvent.accused_id, CustodyEvent.kind, func.coalesce(func.sum(CustodyEvent.days), 0), func.count())
        .where(CustodyEvent.case_id == case.id, CustodyEvent.act == "remand")
        .group_by(CustodyEvent.accused_id, CustodyEvent.kind)
    )
    for accused_id, kind, days, orders in uow.session.exec(q).all():
        used[(accused_id, kind)] = (int(days), int(orders))
    out = []
    for p in people:
        st = states.get(p.id)
        out.append(
            {
                "accused": p.name,
                "status": st.status if st else "not arrested",
                "since": iso_utc(st.since) if st else None,
                "until": iso_utc(st.until) if st and st.until else None,
                "court": st.court if st else None,
                "physical_days": used.get((p.id, "physical"), (0, 0))[0],
                "judicial_days": used.get((p.id, "judicial"), (0, 0))[0],
                "remand_orders": sum(used.get((p.id, k), (0, 0))[1] for k in REMAND_KINDS),
            }
        )
    return out


def history(uow: UnitOfWork, ref: str) -> list[dict]:
    """Every custody entry of a case, oldest first."""
    case = case_of(uow, ref)
    q = (
        select(CustodyEvent, Accused.name)
        .join(Accused, Accused.id == CustodyEvent.accused_id)
        .where(CustodyEvent.case_id == case.id)
        .order_by(CustodyEvent.at, CustodyEvent.id)
    )
    return [
        {
            "ref": case.ref,
            "accused": name,
            "act": e.act,
            "at": iso_utc(e.at),
            "kind": e.kind,
            "days": e.days,
            "until": iso_utc(e.until) if e.until else None,
            "court": e.court,
            "reason": e.reason,
            "override": e.override,
            "by": e.by,
            "seq": e.seq,
        }
        for e, name in uow.session.exec(q).all()
    ]
