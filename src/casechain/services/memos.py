"""Handover memos: the paper that travels with a case between offices.

``memo()`` reads the case, builds a plain dict (the memo context) and renders
it with ``casechain.memos``. Reading needs no role. The acting officer (``--as``)
is named on the memo when given.

Sensitive cases (a case flag among the SOP's ``sensitive_flags``) show the
complainant, who stands for the victim, by initials, and every word of that
name is replaced in free text (evidence references, deficiency details and
answers). Juvenile cases (``redaction.ACCUSED_PROTECTED_FLAGS``) also show
every accused by number ("Accused 1 (juvenile)") and replace their names in
free text (Juvenile Justice System Act 2018). An officer whose role is in the
SOP's ``unredacted_roles`` may ask for the names in full; that memo is
recorded in the case's audit trail (``memo_unredacted``) before it is
printed, and carries the new head hash.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from casechain.domain.errors import BadInput, Refused
from casechain.domain import redaction
from casechain.domain.redaction import Redactor
from casechain.domain.roles import Actor, Place, Role, jurisdiction_problem
from casechain.domain.sop import Sop, section_base
from casechain.domain.timeutil import as_utc, local_text, parse_when
from casechain.memos import FORMATS, KINDS, render
from casechain.services.common import actor_of, case_of, case_sop, record, split_list
from casechain.storage.tables import Accused, AuditEvent, Case, Officer
from casechain.storage.uow import UnitOfWork

# The IO's time to answer a returned report when the SOP has no clock for it.
# The one place this number lives; an SOP sets its own with a clock that starts
# on its returning event (the one with ``new_round: true``).
REPLY_DAYS = 3

# Checklist items whose evidence text the memos quote.
WITNESS_ITEM = "witness_list"
STATEMENTS_ITEM = "statements_161"
INTERIM_REASONS_ITEM = "interim_reasons"


def memo(uow: UnitOfWork, actor_badge: str | None, ref: str, kind: str, fmt: str, unredacted: bool = False) -> str:
    """The text of a handover memo of ``kind`` for case ``ref`` in ``fmt`` (md or html)."""
    kind = (kind or "").strip().lower()
    if kind not in KINDS:
        raise BadInput(f"unknown memo kind {kind!r}: use one of {', '.join(KINDS)}")
    if fmt == "pdf":
        raise BadInput("PDF is not available in this version: use --format html and print it (A4) from a browser")
    if fmt not in FORMATS:
        raise BadInput(f"unknown memo format {fmt!r}: use one of {', '.join(FORMATS)}")
    actor = actor_of(uow, actor_badge) if actor_badge else None
    if unredacted and actor is None:
        raise BadInput("--unredacted needs --as BADGE: the audit trail records who saw the name")
    case = case_of(uow, ref)
    sop = case_sop(uow, case)
    now = uow.now()
    flags = split_list(case.flags)
    sensitive = redaction.protected_flags(flags, sop.sensitive_flags)
    revealed = False
    if unredacted and sensitive:
        _may_reveal(actor, case, sop, sensitive)
        record(uow, case, "memo_unredacted", actor.badge, now, {"kind": kind, "format": fmt, "flags": sensitive})
        revealed = True
    accused = uow.session.exec(select(Accused.name).where(Accused.case_id == case.id).order_by(Accused.id)).all()
    protect = redaction.for_case(flags, sop.sensitive_flags, case.complainant, accused, revealed)
    context = memo_context(uow, case, sop, kind, actor, protect, sensitive, revealed)
    text = render(kind, fmt, context)
    if revealed:
        uow.commit()  # only once the memo exists: a failed render records nothing
    return text


def _may_reveal(actor: Actor, case: Case, sop: Sop, sensitive: list[str]) -> None:
    if actor.role not in sop.unredacted_roles:
        allowed = ", ".join(r.value for r in sop.unredacted_roles) or "nobody"
        whose = " and ".join(
            w for w, on in (("the victim's name", set(sensitive) & set(sop.sensitive_flags)), ("the accused's names", redaction.protects_accused(sensitive))) if on
        )
        raise Refused(
            f"role {actor.role.value} may not print {whose} in memos of case {case.ref} "
            f"(flagged {', '.join(sensitive)}; allowed: {allowed}); leave out --unredacted for the protected memo"
        )
    problem = jurisdiction_problem(actor, Place(case.station, case.district, case.io))
    if problem:
        raise Refused(problem)


# -- the context -------------------------------------------------------------
def memo_context(
    uow: UnitOfWork,
    case: Case,
    sop: Sop,
    kind: str,
    actor: Actor | None,
    protect: Redactor,
    sensitive: list[str],
    revealed: bool,
) -> dict:
    """Everything a memo template may print, as plain values (times in PKT)."""
    from casechain.services import cases

    view = cases.show(uow, case.ref)
    now = uow.now()
    station = uow.station(case.station)
    rows = [
        {
            "item": r["item"],
            "text": r["text"],
            "step": r["step"],
            "status": r["status"],
            "evidence": protect.text(r["evidence"]),
            "at": _local(r["at"]),
        }
        for r in view["checklist"]
    ]
    # The documents of the report submitted (not every item of the SOP); all before one is.
    checklist = [r for r in rows if r["item"] in _report_items(sop, case.report)] if case.report else rows
    context = {
        "memo": {"kind": kind, "generated_at": local_text(now)},
        "case": {
            "ref": case.ref,
            "fir_no": case.fir_no,
            "year": case.year,
            "station_code": case.station,
            "station_name": station.name if station else case.station,
            "district": case.district,
            "province": station.province if station else None,
            "sections": [{"section": s, "title": _offence_title(s)} for s in split_list(case.sections)],
            "sections_text": ", ".join(split_list(case.sections)),
            "flags": list(split_list(case.flags)),
            "sop": sop.key,
            "state": case.state,
            "report": case.report,
            "round": case.round,
            "complainant": protect.person(case.complainant),
            "occurred_at": local_text(case.occurred_at),
            "reported_at": local_text(case.reported_at),
            "registered_at": local_text(case.registered_at),
        },
        "officers": {
            "io": _officer(uow, case.io),
            "sho": _sho_of(uow, case.station),
            "acting": {"badge": actor.badge, "name": actor.name, "role": actor.role.value} if actor else None,
        },
        "protection": {
            "sensitive": bool(sensitive),
            "flags": sensitive,
            "redacted": protect.active,
            "victim_redacted": protect.victim_protected,
            "accused_redacted": protect.accused_protected,
            "revealed_to": actor.badge if revealed else None,
        },
        "accused": [_accused(n, a, protect) for n, a in enumerate(view["custody"], start=1)],
        "checklist": checklist,
        "audit": {"version": case.version, "head_hash": case.head_hash},
    }
    if kind == "deficiency":
        context["deficiency"] = _deficiency_part(uow, case, sop, view, protect, now)
    elif kind == "court-submission":
        context["court"] = {
            "witnesses": _evidence(rows, WITNESS_ITEM),
            "statements": _evidence(rows, STATEMENTS_ITEM),
            "documents": [r for r in checklist if r["status"] in ("done", "na")],
        }
    elif kind == "interim-report":
        context["interim"] = {
            "reasons": _evidence(rows, INTERIM_REASONS_ITEM),
            "days_since_fir": int((now - as_utc(case.reported_at)).total_seconds() // 86400),
            # what the final report still lacks
            "pending": [r for r in rows if r["status"] == "open" and r["item"] in _report_items(sop, "challan")],
        }
    return context


def _accused(number: int, row: dict, protect: Redactor) -> dict:
    """One accused as the case view gives it: name (or number, when protected), custody status, since when, which court."""
    return {
        "name": protect.accused_name(number, row["accused"]),
        "status": str(row.get("status") or "not recorded").replace("_", " "),
        "since": _local(row.get("since")),
        "until": _local(row.get("until")),
        "court": protect.text(row.get("court")),
    }


def _report_items(sop: Sop, report: str) -> set[str]:
    """Checklist items the SOP requires for submitting a report of this kind."""
    return {item for ev in sop.events if ev.report == report for item in ev.requires}


def _local(iso: str | None) -> str | None:
    return local_text(parse_when(iso)) if iso else None


def _offence_title(section: str) -> str | None:
    from casechain.services.reference import offences

    row = offences().get(section) or offences().get(section_base(section))
    return row["title"] if row else None


def _officer(uow: UnitOfWork, badge: str | None) -> dict | None:
    row = uow.officer(badge) if badge else None
    if row is None:
        return None
    return {"badge": row.badge, "name": row.name, "role": row.role}


def _sho_of(uow: UnitOfWork, station: str) -> dict | None:
    q = select(Officer).where(Officer.station == station, Officer.role == Role.SHO.value, Officer.active == True)
    row = uow.session.exec(q.order_by(Officer.badge)).first()
    return {"badge": row.badge, "name": row.name, "role": row.role} if row else None


def _evidence(checklist: list[dict], item: str) -> str | None:
    row = next((r for r in checklist if r["item"] == item), None)
    return row["evidence"] if row and row["status"] == "done" else None


def reply_limit(sop: Sop) -> tuple[timedelta, str]:
    """How long the police have to answer a returned report, and why."""
    returning = {e.name for e in sop.events if e.new_round}
    for clock in sop.clocks:
        starts = [clock.starts_on] if isinstance(clock.starts_on, str) else list(clock.starts_on)
        if returning & set(starts):
            span = timedelta(days=clock.limit.days or 0, hours=clock.limit.hours or 0)
            return span, f"{clock.title} ({clock.section})"
    return timedelta(days=REPLY_DAYS), f"{REPLY_DAYS} days from the return"


def _deficiency_part(uow: UnitOfWork, case: Case, sop: Sop, view: dict, protect: Redactor, now) -> dict:
    rows = view["deficiencies"]
    if not rows:
        raise BadInput(f"case {case.ref} has no deficiencies: flag them first (deficiency flag {case.ref} --code CODE)")
    latest = max(r["round"] for r in rows)
    returned = _return_event(uow, case, latest)
    span, basis = reply_limit(sop)
    start = as_utc(returned.occurred_at) if returned else now
    entries = []
    for r in (r for r in rows if r["round"] == latest):
        spec = sop.deficiency(r["code"])
        item = sop.item(spec.item) if spec and spec.item else None
        entries.append(
            {
                "id": r["id"],
                "code": r["code"],
                "text": spec.text if spec else None,
                "detail": protect.text(r["detail"]) or None,
                "item": item.id if item else None,
                "item_text": item.text if item else None,
                "status": r["status"],
                "raised_by": _officer(uow, r["raised_by"]),
                "raised_at": _local(r["raised_at"]),
                "response": protect.text(r["response"]),
                "response_evidence": protect.text(r["response_evidence"]),
            }
        )
    return {
        "round": latest,
        "returned": returned is not None,
        "returned_at": local_text(returned.occurred_at) if returned else None,
        "returned_by": _officer(uow, returned.actor) if returned else None,
        "reply_due": local_text(start + span),
        "reply_basis": basis,
        "entries": entries,
    }


def _return_event(uow: UnitOfWork, case: Case, round_no: int) -> AuditEvent | None:
    """The event that returned the report for round ``round_no`` (None: not returned yet)."""
    for ev in reversed(uow.events(case.id)):
        if ev.action == "advance" and json.loads(ev.payload).get("round") == round_no:
            return ev
    return None
