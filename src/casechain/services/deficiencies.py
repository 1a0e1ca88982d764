"""Prosecutor scrutiny: deficiencies flagged, answered by the IO, resolved.

A deficiency is a defect the prosecutor found in a police report (wrong
sections, missing statements, a broken chain of custody...). Codes come from
the SOP. Flagging a code tied to a checklist item reopens that item: the IO
must tick it again with new evidence.
"""

from __future__ import annotations

from sqlmodel import select

from casechain.domain.errors import BadInput, Refused
from casechain.domain.events import flag_payload, resolve_payload, respond_payload
from casechain.domain.roles import Place, Role, jurisdiction_problem
from casechain.domain.timeutil import as_utc, iso_utc
from casechain.services.common import actor_of, case_of, case_sop, need_text, record, require_role, when_of
from casechain.storage.tables import Case, ChecklistEntry, Deficiency
from casechain.storage.uow import UnitOfWork


def deficiency_rows(uow: UnitOfWork, case: Case) -> list[dict]:
    rows = uow.session.exec(select(Deficiency).where(Deficiency.case_id == case.id).order_by(Deficiency.id)).all()
    return [_row(case, d) for d in rows]


def _row(case: Case, d: Deficiency, now=None) -> dict:
    out = {
        "ref": case.ref,
        "id": d.id,
        "round": d.round,
        "code": d.code,
        "detail": d.detail,
        "status": d.status,
        "raised_by": d.raised_by,
        "raised_at": iso_utc(d.raised_at),
        "response": d.response,
        "response_evidence": d.response_evidence,
        "responded_at": iso_utc(d.responded_at) if d.responded_at else None,
        "resolved_at": iso_utc(d.resolved_at) if d.resolved_at else None,
    }
    if now is not None:
        out["days_open"] = round((now - as_utc(d.raised_at)).total_seconds() / 86400, 1)
    return out


def _allowed(actor, case, *roles, doing):
    require_role(actor, *roles, doing=doing)
    problem = jurisdiction_problem(actor, Place(case.station, case.district, case.io))
    if problem:
        raise Refused(problem)


def flag(uow: UnitOfWork, actor_badge: str, ref: str, code: str, detail: str | None, at=None, expected_version=None) -> dict:
    actor = actor_of(uow, actor_badge)
    case = case_of(uow, ref, expected_version)
    sop = case_sop(uow, case)
    _allowed(actor, case, Role.PROSECUTOR, doing="flag deficiencies")
    spec = sop.deficiency(code or "")
    if spec is None:
        raise BadInput(f"unknown deficiency code {code!r}; codes are: {', '.join(d.code for d in sop.deficiency_codes)}")
    if case.state not in sop.scrutiny_states:
        raise Refused(f"deficiencies are flagged during scrutiny ({', '.join(sop.scrutiny_states)}); {case.ref} is {case.state}")
    detail = (detail or "").strip()
    if spec.detail_required:
        detail = need_text(detail, f"--detail (code {spec.code} needs the specifics)")
    elif detail:
        detail = need_text(detail, "--detail")
    occurred = when_of(uow, case, at)
    row = Deficiency(case_id=case.id, round=case.round + 1, code=spec.code, detail=detail, raised_by=actor.badge, raised_at=as_utc(occurred))
    uow.session.add(row)
    uow.session.flush()
    reopens = None
    if spec.item:
        entry = uow.session.get(ChecklistEntry, (case.id, spec.item))
        if entry is not None:
            uow.session.delete(entry)
            reopens = spec.item
    payload = flag_payload(row.id, spec.code, detail, row.round, reopens)
    record(uow, case, "deficiency_flag", actor.badge, occurred, payload, {}, expected_version)
    uow.commit()
    return {"ref": case.ref, "id": row.id, "code": spec.code, "reopened": payload.get("reopens")}


def _deficiency(uow, case, dif_id) -> Deficiency:
    text = str(dif_id).strip()
    # ASCII digits only, and few enough to fit a database integer ("²".isdigit() is True)
    row = uow.session.get(Deficiency, int(text)) if text.isascii() and text.isdigit() and len(text) <= 15 else None
    if row is None or row.case_id != case.id:
        raise BadInput(f"case {case.ref} has no deficiency {dif_id!r}: see deficiency list {case.ref}")
    return row


def respond(uow: UnitOfWork, actor_badge: str, ref: str, dif_id, note: str, evidence: str | None = None, at=None, expected_version=None) -> dict:
    actor = actor_of(uow, actor_badge)
    case = case_of(uow, ref, expected_version)
    sop = case_sop(uow, case)
    _allowed(actor, case, Role.IO, Role.SHO, doing="respond to deficiencies")
    row = _deficiency(uow, case, dif_id)
    if row.status == "resolved":
        raise Refused(f"deficiency {row.id} is already resolved")
    if case.state not in sop.checklist_open_in:
        raise Refused(f"{case.ref} is {case.state}: deficiencies are answered once the file is returned to the police")
    note = need_text(note, "--note")
    evidence = need_text(evidence, "--evidence") if evidence else None
    occurred = when_of(uow, case, at)
    row.status, row.response, row.response_evidence = "answered", note, evidence
    row.responded_by, row.responded_at = actor.badge, as_utc(occurred)
    payload = respond_payload(row.id, note, evidence)
    record(uow, case, "deficiency_respond", actor.badge, occurred, payload, {}, expected_version)
    uow.commit()
    return {"ref": case.ref, "id": row.id, "status": row.status}


def resolve(uow: UnitOfWork, actor_badge: str, ref: str, dif_id, at=None, expected_version=None) -> dict:
    actor = actor_of(uow, actor_badge)
    case = case_of(uow, ref, expected_version)
    sop = case_sop(uow, case)
    _allowed(actor, case, Role.PROSECUTOR, doing="resolve deficiencies")
    row = _deficiency(uow, case, dif_id)
    if row.status == "resolved":
        raise Refused(f"deficiency {row.id} is already resolved")
    if case.state not in sop.scrutiny_states:
        raise Refused(f"deficiencies are resolved during scrutiny; {case.ref} is {case.state}")
    occurred = when_of(uow, case, at)
    row.status, row.resolved_by, row.resolved_at = "resolved", actor.badge, as_utc(occurred)
    record(uow, case, "deficiency_resolve", actor.badge, occurred, resolve_payload(row.id), {}, expected_version)
    uow.commit()
    return {"ref": case.ref, "id": row.id, "status": row.status}


def list_deficiencies(uow: UnitOfWork, ref: str | None = None, actor_badge: str | None = None, open_only: bool = False) -> list[dict]:
    """One case's deficiencies, or the acting officer's queue across cases (oldest first)."""
    q = select(Deficiency, Case).join(Case, Case.id == Deficiency.case_id)
    if ref:
        q = q.where(Case.id == case_of(uow, ref).id)
    elif actor_badge:
        actor = actor_of(uow, actor_badge)
        if actor.role is Role.IO:
            q = q.where(Case.io == actor.badge)
        elif actor.role is Role.SHO:
            q = q.where(Case.station == actor.station)
        elif actor.role in (Role.PROSECUTOR, Role.SUPERVISOR):
            q = q.where(Case.district == actor.district)
    else:
        raise BadInput("give a case reference, or --as BADGE for your own queue")
    if open_only:
        q = q.where(Deficiency.status != "resolved")
    now = uow.now()
    return [_row(c, d, now) for d, c in uow.session.exec(q.order_by(Deficiency.raised_at, Deficiency.id)).all()]
