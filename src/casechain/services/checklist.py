"""SOP checklist actions: the IO ticks items with evidence references.

A tick without an evidence reference is refused: a checklist must show where
the proof is (a memo number, a report number), not just that someone clicked.
"""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import select

from casechain.domain import events
from casechain.domain.errors import BadInput, Refused
from casechain.domain.roles import Place, Role, jurisdiction_problem
from casechain.domain.sop import Condition, Sop
from casechain.domain.timeutil import as_utc, iso_utc
from casechain.services.common import actor_of, case_of, case_sop, facts_of, need_text, record, require_role, when_of
from casechain.storage.tables import Case, ChecklistEntry
from casechain.storage.uow import UnitOfWork


_UNCONDITIONAL = Condition()


def checklist_rows(uow: UnitOfWork, case: Case, sop: Sop) -> list[dict]:
    """Every item that applies to this case, with its status and evidence."""
    from casechain.domain.workflow import workflow

    facts = facts_of(uow, case)
    entries = {e.item: e for e in uow.session.exec(select(ChecklistEntry).where(ChecklistEntry.case_id == case.id)).all()}
    rows = []
    for item in workflow(sop).applicable_items(facts):
        entry = entries.get(item.id)
        rows.append(
            {
                "item": item.id,
                "step": item.step,
                "text": item.text,
                "status": entry.status if entry else "open",
                "evidence": entry.detail if entry else None,
                "by": entry.by if entry else None,
                "at": iso_utc(entry.at) if entry else None,
                "na_allowed": item.na_allowed,
                "required_by": sop.required_by(item.id),
            }
        )
    return rows


def _editable(uow: UnitOfWork, actor_badge: str, ref: str, item_id: str, expected_version: int | None = None):
    actor = actor_of(uow, actor_badge)
    case = case_of(uow, ref, expected_version)
    sop = case_sop(uow, case)
    require_role(actor, Role.IO, Role.SHO, doing="change the checklist")
    problem = jurisdiction_problem(actor, Place(case.station, case.district, case.io))
    if problem:
        raise Refused(problem)
    item = sop.item(item_id or "")
    if item is None:
        known = ", ".join(i.id for i in sop.checklist)
        raise BadInput(f"unknown checklist item {item_id!r} in SOP {sop.key}; items are: {known}")
    if case.state not in sop.checklist_open_in:
        raise Refused(
            f"the checklist of {case.ref} cannot change in state {case.state} "
            f"(only in: {', '.join(sop.checklist_open_in)})"
        )
    if item.applies_when != _UNCONDITIONAL:  # the facts cost a query; most items need none
        failures = item.applies_when.failures(facts_of(uow, case))
        if failures:
            raise Refused(f"item {item.id} does not apply to {case.ref}: {'; '.join(failures)}")
    return actor, case, item


_entry = ChecklistEntry.__table__
_UPDATE_ENTRY = _entry.update().where(_entry.c.case_id == bindparam("b_case"), _entry.c.item == bindparam("b_item"))
_INSERT_ENTRY = _entry.insert()


def _put(uow, case, item_id, status, detail, actor, occurred):
    # Core, portable upsert: re-ticking replaces the entry, the first tick adds it.
    values = {"status": status, "detail": detail, "by": actor.badge, "at": as_utc(occurred)}
    conn = uow.connection()
    if conn.execute(_UPDATE_ENTRY, {"b_case": case.id, "b_item": item_id, **values}).rowcount == 0:
        conn.execute(_INSERT_ENTRY, {"case_id": case.id, "item": item_id, **values})


def tick(uow: UnitOfWork, actor_badge: str, ref: str, item_id: str, evidence: str, at=None, expected_version=None) -> dict:
    """Mark an item done, with the reference of the evidence (re-ticking replaces it)."""
    actor, case, item = _editable(uow, actor_badge, ref, item_id, expected_version)
    evidence = need_text(evidence, "--evidence (the reference of the document or memo)")
    occurred = when_of(uow, case, at)
    _put(uow, case, item.id, "done", evidence, actor, occurred)
    record(uow, case, "tick", actor.badge, occurred, events.tick_payload(item.id, evidence), {}, expected_version)
    uow.commit()
    return {"ref": case.ref, "item": item.id, "status": "done", "version": case.version}


def not_applicable(uow: UnitOfWork, actor_badge: str, ref: str, item_id: str, reason: str, at=None, expected_version=None) -> dict:
    """Mark an item not applicable, where the SOP allows it, with the reason."""
    actor, case, item = _editable(uow, actor_badge, ref, item_id, expected_version)
    if not item.na_allowed:
        raise Refused(f"item {item.id} ({item.text}) may not be marked not applicable: tick it with evidence")
    reason = need_text(reason, "--reason")
    occurred = when_of(uow, case, at)
    _put(uow, case, item.id, "na", reason, actor, occurred)
    record(uow, case, "na", actor.badge, occurred, events.na_payload(item.id, reason), {}, expected_version)
    uow.commit()
    return {"ref": case.ref, "item": item.id, "status": "na", "version": case.version}


def untick(uow: UnitOfWork, actor_badge: str, ref: str, item_id: str, reason: str, at=None, expected_version=None) -> dict:
    """Reopen an item (wrong evidence entered); the old entry stays in the audit trail."""
    actor, case, item = _editable(uow, actor_badge, ref, item_id, expected_version)
    reason = need_text(reason, "--reason")
    entry = uow.session.get(ChecklistEntry, (case.id, item.id))
    if entry is None:
        raise Refused(f"item {item.id} of {case.ref} is not ticked")
    occurred = when_of(uow, case, at)
    uow.session.delete(entry)
    record(uow, case, "untick", actor.badge, occurred, {"item": item.id, "reason": reason}, {}, expected_version)
    uow.commit()
    return {"ref": case.ref, "item": item.id, "status": "open", "version": case.version}


def show(uow: UnitOfWork, ref: str) -> list[dict]:
    case = case_of(uow, ref)
    return [{"ref": case.ref, **row} for row in checklist_rows(uow, case, case_sop(uow, case))]
