"""SOP actions: which SOPs are loaded, what one says (as a table or a graph),
whether a file is valid, which SOP a new case follows, and moving cases in
flight to a newer version of their SOP."""

from __future__ import annotations

import re
from dataclasses import replace

from sqlmodel import select

from casechain.domain.errors import BadInput, Refused
from casechain.domain.roles import Role
from casechain.domain.sop import Condition, Sop
from casechain.services.common import actor_of, facts_of, record, require_role, sop_of
from casechain.sops import load_sop
from casechain.storage.tables import Case, ChecklistEntry, SopRecord
from casechain.storage.uow import UnitOfWork

KEY_RE = re.compile(r"^([a-z][a-z0-9_-]*)@(\d{1,6})$")


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


def sop_for_province(uow: UnitOfWork, province: str | None, fallback: str) -> Sop:
    """The newest version of the SOP whose ``province`` is this one (first by
    name if several), else the newest ``fallback`` SOP."""
    if province:
        newest: dict[str, int] = {}
        for name, version in uow.session.exec(select(SopRecord.name, SopRecord.version).order_by(SopRecord.name, SopRecord.version.desc())).all():
            newest.setdefault(name, version)
        for name, version in newest.items():
            sop = sop_of(uow, name, version)
            if sop.province and sop.province.casefold() == province.casefold():
                return sop
    return sop_of(uow, fallback)


# -- what an SOP says -----------------------------------------------------------
def _few(items, n: int = 6) -> str:
    items = [str(i) for i in items]
    return ", ".join(items) if len(items) <= n else ", ".join(items[:n]) + f", ... (+{len(items) - n})"


def condition_text(cond: Condition) -> str:
    """A condition in words, short enough for a table cell."""
    parts = []
    if cond.sections_any:
        parts.append(f"sections any of {_few(cond.sections_any)}")
    if cond.sections_all_in:
        parts.append(f"every section one of {_few(cond.sections_all_in)}")
    if cond.flags_any:
        parts.append(f"flagged {' or '.join(cond.flags_any)}")
    if cond.flags_none:
        parts.append(f"not flagged {', '.join(cond.flags_none)}")
    if cond.reports:
        parts.append(f"{' or '.join(cond.reports)} report")
    if cond.io_assigned is not None:
        parts.append("IO assigned" if cond.io_assigned else "no IO yet")
    return "; ".join(parts)


def describe(sop: Sop) -> dict:
    return {
        "sop": sop.key,
        "title": sop.title,
        "province": sop.province,
        "states": [
            {"name": s.name, "initial": s.initial, "terminal": s.terminal, "holder": s.holder, "description": s.description}
            for s in sop.states
        ],
        "events": [
            {
                "event": e.name,
                "from": list(e.sources),
                "to": e.to or ", ".join(f"{k}->{o.to}" for k, o in e.outcomes.items()),
                "roles": [r.value for r in e.roles],
                "requires": list(e.requires),
                "when": e.when.model_dump(exclude_defaults=True),
                "conditions": condition_text(e.when),
            }
            for e in sop.events
        ],
        "checklist": [{"item": i.id, "step": i.step, "text": i.text, "na_allowed": i.na_allowed} for i in sop.checklist],
        "deficiency_codes": [{"code": d.code, "text": d.text, "item": d.item} for d in sop.deficiency_codes],
    }


def _arrows(sop: Sop):
    """(source, dest, event label, roles, required items), one per arrow."""
    for ev in sop.events:
        roles = [r.value for r in ev.roles]
        for outcome, dest in ev.destinations():
            label = f"{ev.name} [{outcome}]" if outcome else ev.name
            for src in ev.sources:
                yield src, dest.to, label, roles, list(ev.requires)


def graph_mermaid(sop: Sop) -> str:
    """A Mermaid state diagram: arrows labelled with event, roles and required items."""
    lines = ["---", f"title: {sop.key}", "---", "stateDiagram-v2"]
    lines.append(f"    [*] --> {sop.initial}")
    for src, dest, label, roles, needs in _arrows(sop):
        text = f"{label} ({', '.join(roles)})"
        if needs:
            text += f" needs {', '.join(needs)}"
        lines.append(f"    {src} --> {dest} : {text}")
    for s in sop.states:
        if s.terminal:
            lines.append(f"    {s.name} --> [*]")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def graph_dot(sop: Sop) -> str:
    """A Graphviz digraph: terminal states double-bordered, arrows labelled
    with event, roles and required items (render: dot -Tsvg)."""
    lines = [
        f"digraph {_dot_quote(sop.key)} {{",
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
        '  "__start" [shape=point, label=""];',
        f'  "__start" -> {_dot_quote(sop.initial)};',
    ]
    for s in sop.states:
        attrs = ["peripheries=2"] if s.terminal else []
        if s.holder:
            attrs.append(f"tooltip={_dot_quote('held by ' + s.holder)}")
        lines.append(f"  {_dot_quote(s.name)}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    for src, dest, label, roles, needs in _arrows(sop):
        text = f"{label}\nroles: {', '.join(roles)}"
        if needs:
            text += f"\nneeds: {', '.join(needs)}"
        lines.append(f"  {_dot_quote(src)} -> {_dot_quote(dest)} [label={_dot_quote(text)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


GRAPHS = {"mermaid": graph_mermaid, "dot": graph_dot}


def _sop_named(uow: UnitOfWork, name: str) -> Sop:
    name, _, version = (name or "").partition("@")
    return sop_of(uow, name, int(version) if version.isdigit() else None)


def show_sop(uow: UnitOfWork, name: str) -> dict:
    return describe(_sop_named(uow, name))


def graph_sop(uow: UnitOfWork, name: str, kind: str) -> str:
    if kind not in GRAPHS:
        raise BadInput(f"unknown graph kind {kind!r}: use {' or '.join(GRAPHS)}")
    return GRAPHS[kind](_sop_named(uow, name))


def validate_file(path: str) -> dict:
    loaded = load_sop(path)
    sop = loaded.sop
    return {
        "file": path,
        "sop": sop.key,
        "states": len(sop.states),
        "events": len(sop.events),
        "checklist_items": len(sop.checklist),
        "extends": loaded.extends,
    }


# -- moving cases in flight to a new version --------------------------------------
def _key(text: str, option: str) -> tuple[str, int]:
    m = KEY_RE.match((text or "").strip())
    if not m:
        raise BadInput(f"{option} {text!r}: write NAME@VERSION, e.g. default@1 (see sop list)")
    return m.group(1), int(m.group(2))


def _required(sop: Sop, facts) -> list[str]:
    """Items the moves out of the case's state need (those that apply to it)."""
    out: list[str] = []
    for ev in sop.events:
        if facts.state in ev.sources:
            for item_id in ev.requires:
                item = sop.item(item_id)
                if item is not None and item.applies_when.holds(facts) and item_id not in out:
                    out.append(item_id)
    return out


def migration_plan(uow: UnitOfWork, old: Sop, new: Sop) -> tuple[list[tuple[Case, dict]], int]:
    """Per case in flight on ``old``: its new state, the checklist items that
    become required and are not done, and why it cannot move (if it cannot).
    Closed cases are not in flight: they stay on the version that closed them."""
    spec = new.migrates_from
    cases = uow.session.exec(
        select(Case).where(Case.sop_name == old.name, Case.sop_version == old.version).order_by(Case.id)
    ).all()
    plan, closed = [], 0
    for case in cases:
        here = old.state(case.state)
        if here is not None and here.terminal:
            closed += 1
            continue
        target = spec.states.get(case.state, case.state if new.state(case.state) else None)
        row = {"ref": case.ref, "from_state": case.state, "to_state": target, "newly_required": [], "items_not_in_new_sop": [], "problem": None}
        if here is None:
            row["problem"] = f"state {case.state} is not a state of {old.key}"
        elif target is None:
            row["problem"] = f"state {case.state} has no counterpart in {new.key}: map it in migrates_from.states"
        elif new.state(target).terminal:
            row["problem"] = f"state {case.state} would map to {target}, which closes the case: a migration never closes a case"
        else:
            facts = facts_of(uow, case)
            before = set(_required(old, facts))
            after = _required(new, replace(facts, state=target))
            row["newly_required"] = [i for i in after if i not in before and i not in facts.checklist]
            ticks = uow.session.exec(select(ChecklistEntry.item).where(ChecklistEntry.case_id == case.id)).all()
            row["items_not_in_new_sop"] = sorted(i for i in ticks if new.item(i) is None)
        plan.append((case, row))
    return plan, closed


def migrate(uow: UnitOfWork, actor_badge: str, from_key: str, to_key: str, dry_run: bool = False) -> dict:
    """Move every case in flight from one SOP version to the next, by the state
    mapping the new version declares (``migrates_from``). All or nothing: if
    any case cannot be mapped, none moves. Each moved case gets an audit event
    (``sop_migrate``)."""
    actor = actor_of(uow, actor_badge)
    require_role(actor, Role.ADMIN, doing="migrate cases to another SOP version")
    old_name, old_version = _key(from_key, "--from")
    new_name, new_version = _key(to_key, "--to")
    if old_name != new_name:
        raise BadInput(f"--from {from_key} and --to {to_key} name different SOPs: a migration moves cases between versions of one SOP")
    if new_version <= old_version:
        raise BadInput(f"--to {to_key} is not newer than --from {from_key}")
    old = sop_of(uow, old_name, old_version)
    new = sop_of(uow, new_name, new_version)
    spec = new.migrates_from
    if spec is None or spec.version != old.version:
        declared = f"declares migration from version {spec.version}" if spec else "declares no migration"
        raise BadInput(
            f"{new.key} {declared}, not from {old.key}: add migrates_from: {{version: {old.version}, states: {{OLD: NEW}}}} to its file"
        )
    strangers = [s for s in spec.states if old.state(s) is None]
    if strangers:
        raise BadInput(f"{new.key} migrates_from.states names state(s) {', '.join(strangers)} that {old.key} does not have")
    plan, closed = migration_plan(uow, old, new)
    stuck = [row for _, row in plan if row["problem"]]
    result = {
        "from": old.key,
        "to": new.key,
        "dry_run": dry_run,
        "cases": [row for _, row in plan],
        "movable": len(plan) - len(stuck),
        "cannot_move": len(stuck),
        "closed_cases_stay": closed,
        "migrated": 0,
    }
    if dry_run:
        return result
    if stuck:
        raise Refused([f"{row['ref']}: {row['problem']}" for row in stuck] + [f"nothing was migrated: {len(stuck)} case(s) cannot move to {new.key}"])
    now = uow.now()
    for case, row in plan:
        payload = {
            "from": old.key,
            "to": new.key,
            "from_state": row["from_state"],
            "to_state": row["to_state"],
            "newly_required": row["newly_required"],
        }
        record(uow, case, "sop_migrate", actor.badge, now, payload, {"sop_version": new.version, "state": row["to_state"]})
    uow.commit()
    result["migrated"] = len(plan)
    return result
