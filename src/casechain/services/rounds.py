"""``case rounds``: the scrutiny rounds of a case and the days each side held it."""

from __future__ import annotations

import json

from sqlmodel import select

from casechain.domain.holding import Move, days_held, scrutiny_rounds
from casechain.domain.timeutil import as_utc, iso_utc
from casechain.services.common import case_of, case_sop
from casechain.storage.tables import AuditEvent, Deficiency
from casechain.storage.uow import UnitOfWork


def rounds(uow: UnitOfWork, ref: str) -> dict:
    case = case_of(uow, ref)
    sop = case_sop(uow, case)
    moves = []
    for ev in uow.session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.action == "advance").order_by(AuditEvent.seq)
    ).all():
        p = json.loads(ev.payload)
        moves.append(Move(as_utc(ev.occurred_at), ev.actor, p["event"], p["from"], p["to"], p.get("report")))
    flagged = [
        (as_utc(d.raised_at), d.round, d.code)
        for d in uow.session.exec(select(Deficiency).where(Deficiency.case_id == case.id).order_by(Deficiency.id)).all()
    ]
    now = uow.now()
    new_round = {e.name for e in sop.events if e.new_round}
    found = scrutiny_rounds(sop, moves, new_round, flagged)
    t = lambda v: iso_utc(v) if v else None  # noqa: E731
    return {
        "ref": case.ref,
        "state": case.state,
        "days_held": days_held(sop, sop.initial, as_utc(case.reported_at), moves, now),
        "rounds": [
            {
                "ref": case.ref,
                "round": r.round,
                "report": r.report,
                "submitted_at": t(r.submitted_at),
                "submitted_by": r.submitted_by,
                "ended_at": t(r.ended_at),
                "ended_by": r.ended_by,
                "ended_with": r.ended_with,
                "days_with_prosecution": r.days_with_prosecution(now),
                "days_back_with_police": r.days_back_with_police(now),
                "deficiencies": r.deficiencies,
            }
            for r in found
        ],
    }
