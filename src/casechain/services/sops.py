"""SOP read actions: which SOPs are loaded, what one says, whether a file is valid."""

from __future__ import annotations

from sqlmodel import select

from casechain.services.common import sop_of
from casechain.sops import load_sop_file
from casechain.storage.tables import Case, SopRecord
from casechain.storage.uow import UnitOfWork


def list_sops(uow: UnitOfWork) -> list[dict]:
    from sqlmodel import func

    counts = dict(
        ((n, v), c)
        for n, v, c in uow.session.exec(
            select(Case.sop_name, Case.sop_version, func.count()).group_by(Case.sop_name, Case.sop_version)
        ).all()
    )
    rows = uow.session.exec(select(SopRecord).order_by(SopRecord.name, SopRecord.version)).all()
    out = []
    for r in rows:
        sop = sop_of(uow, r.name, r.version)
        out.append(
            {
                "sop": sop.key,
                "title": sop.title,
                "province": sop.province,
                "states": len(sop.states),
                "events": len(sop.events),
                "checklist_items": len(sop.checklist),
                "cases": counts.get((r.name, r.version), 0),
            }
        )
    return out


def describe(sop) -> dict:
    return {
        "sop": sop.key,
        "title": sop.title,
        "states": [{"name": s.name, "initial": s.initial, "terminal": s.terminal, "description": s.description} for s in sop.states],
        "events": [
            {
                "event": e.name,
                "from": list(e.sources),
                "to": e.to or ", ".join(f"{k}->{o.to}" for k, o in e.outcomes.items()),
                "roles": [r.value for r in e.roles],
                "requires": list(e.requires),
            }
            for e in sop.events
        ],
        "checklist": [{"item": i.id, "step": i.step, "text": i.text, "na_allowed": i.na_allowed} for i in sop.checklist],
        "deficiency_codes": [{"code": d.code, "text": d.text, "item": d.item} for d in sop.deficiency_codes],
    }


def show_sop(uow: UnitOfWork, name: str) -> dict:
    name, _, version = name.partition("@")
    return describe(sop_of(uow, name, int(version) if version.isdigit() else None))


def validate_file(path: str) -> dict:
    sop = load_sop_file(path)
    return {"file": path, "sop": sop.key, "states": len(sop.states), "events": len(sop.events), "checklist_items": len(sop.checklist)}
