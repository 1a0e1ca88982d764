"""The workflow as a table generated from the SOP files.

For every shipped SOP, every event (and outcome) x every state x every role,
``Workflow.fire`` must move the case to the SOP's destination exactly when
the SOP lists the state in the event's ``from`` and the role in its ``roles``
(an admin never acts on cases), and refuse otherwise, naming what was wrong.
Every expectation below is read from the SOP data; nothing restates the flow.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from casechain.domain.errors import BadInput, Refused
from casechain.domain.roles import Actor, Role
from casechain.domain.sop import (
    CaseFacts,
    Condition,
    Event,
    ReportKind,
    Sop,
    section_base,
)
from casechain.domain.workflow import Workflow
from casechain.sops import load_sop_file, shipped_sop_files

SOP_DIR = Path(__file__).resolve().parents[1] / "sops"
SOPS: dict[str, Sop] = {p.stem: load_sop_file(p) for p in sorted(SOP_DIR.glob("*.yaml"))}
FLOWS: dict[str, Workflow] = {name: Workflow(sop) for name, sop in SOPS.items()}
REPORTS: tuple[str, ...] = get_args(ReportKind)

STATION, DISTRICT = "CLN", "Lahore"
OTHER_IO = "IO-999"
KNOWN_CONDITION_PARTS = {"sections_any", "sections_all_in", "flags_any", "flags_none", "reports", "io_assigned"}


def test_the_default_sop_and_every_shipped_sop_are_tabled():
    assert "default" in SOPS
    assert {p.stem for p in shipped_sop_files()} <= set(SOPS)


def test_helpers_know_every_condition_part():
    """satisfying() and violating() below must learn any new part of Condition."""
    assert set(Condition.model_fields) == KNOWN_CONDITION_PARTS


def actor_for(role: Role, district: str = DISTRICT) -> Actor:
    """An officer of ``role`` whose jurisdiction covers the case."""
    if role in (Role.IO, Role.SHO):
        return Actor(f"{role.value.upper()}-1", "Officer", role, district, STATION)
    return Actor(f"{role.value.upper()}-1", "Officer", role, district, None)


def satisfying(*conds: Condition, io: str | None) -> dict:
    """Case facts (sections, flags, report, io) under which every condition holds."""
    allowed = None  # sections_all_in: every charged section must be in each list
    for c in conds:
        if c.sections_all_in:
            listed = {s.strip().upper() for s in c.sections_all_in}
            allowed = listed if allowed is None else allowed & listed
    fits = lambda s: allowed is None or s.strip().upper() in allowed
    sections = []
    for c in conds:
        if c.sections_any:
            sections.append(next(s for s in c.sections_any if fits(s)))
    if not sections:
        pool = ["379"] + [s for c in conds for s in c.sections_all_in]
        sections.append(next(s for s in pool if fits(s)))
    flags, banned, report = set(), set(), None
    want_io: bool | None = None
    for c in conds:
        flags.update(c.flags_any[:1])
        banned.update(c.flags_none)
        if c.reports:
            report = c.reports[0] if report is None or report not in c.reports else report
        if c.io_assigned is not None:
            want_io = c.io_assigned
    return {
        "sections": tuple(sections),
        "flags": frozenset(flags - banned),
        "report": report,
        "io": (io if want_io is not False else None),
    }


def all_ticked(sop: Sop) -> dict[str, str]:
    return {i.id: ("na" if i.na_allowed else "done") for i in sop.checklist}


def deficiency_counts(ev: Event) -> dict:
    """open/unanswered deficiency counts that satisfy the event's rule."""
    return {
        None: {"open_deficiencies": 0, "unanswered_deficiencies": 0},
        "none_open": {"open_deficiencies": 0, "unanswered_deficiencies": 0},
        "some_open": {"open_deficiencies": 2, "unanswered_deficiencies": 0},
        "all_answered": {"open_deficiencies": 1, "unanswered_deficiencies": 0},
    }[ev.deficiencies]


def good_facts(sop: Sop, ev: Event, outcome, state: str, actor: Actor, checklist=None, check=True, **override) -> CaseFacts:
    """Facts under which only the event's from/roles can stop ``actor``."""
    conds = [ev.when] + ([ev.outcomes[outcome].when] if outcome else [])
    io = actor.badge if actor.role is Role.IO else OTHER_IO
    kw = dict(
        state=state,
        station=STATION,
        district=DISTRICT,
        checklist=all_ticked(sop) if checklist is None else checklist,
        **satisfying(*conds, io=io),
        **deficiency_counts(ev),
    )
    kw.update(override)
    facts = CaseFacts(**kw)
    for c in conds if check else ():
        assert c.holds(facts), c.failures(facts)
    return facts


def label(ev: Event, outcome) -> str:
    return f"{ev.name}={outcome}" if outcome else ev.name


# -- the table --------------------------------------------------------------------
CELLS = [
    pytest.param(name, ev, outcome, dest.to, state.name, id=f"{name}:{label(ev, outcome)}-{state.name}")
    for name, sop in SOPS.items()
    for ev in sop.events
    for outcome, dest in ev.destinations()
    for state in sop.states
]


def test_table_is_complete():
    for name, sop in SOPS.items():
        n_dest = sum(len(ev.destinations()) for ev in sop.events)
        assert len([c for c in CELLS if c.values[0] == name]) == n_dest * len(sop.states)
        assert n_dest > len(sop.events), name  # some event has outcomes


@pytest.mark.parametrize("sop_name, ev, outcome, dest, state", CELLS)
def test_fire_table(sop_name, ev: Event, outcome, dest, state):
    """One event/outcome in one state, fired by every role."""
    sop, flow = SOPS[sop_name], FLOWS[sop_name]
    for role in Role:
        actor = actor_for(role)
        facts = good_facts(sop, ev, outcome, state, actor)
        legal_state = state in ev.sources
        legal_role = role in ev.roles and role is not Role.ADMIN
        where = f"{sop_name}: {label(ev, outcome)} in {state} by {role.value}"
        opt = next(o for o in flow.options(facts, actor) if o.event == ev.name and o.outcome == outcome)
        if legal_state and legal_role:
            move = flow.fire(ev.name, facts, actor, outcome=outcome)
            assert move.dest == dest, where
            assert (move.event, move.source, move.outcome) == (ev.name, state, outcome), where
            assert move.report == ev.report, where
            assert move.new_round == ev.new_round, where
            assert move.override is None and move.waived == (), where
            # ``case events`` agrees with ``fire``.
            assert opt.allowed and opt.dest == dest, where
            continue
        with pytest.raises(Refused) as err:
            flow.fire(ev.name, facts, actor, outcome=outcome)
        reasons = err.value.reasons
        assert reasons and str(err.value) == "\n".join(reasons), where
        assert ev.name in str(err.value), where
        if not legal_state:
            assert any(ev.name in r and f"state {state}" in r for r in reasons), (where, reasons)
        if role is Role.ADMIN:
            assert any("admin" in r for r in reasons), (where, reasons)
        elif not legal_role:
            assert any(f"role {role.value}" in r and ev.name in r for r in reasons), (where, reasons)
        # Nothing else blocks: only the state, role and admin reasons.
        expected = int(not legal_state) + int(role not in ev.roles) + int(role is Role.ADMIN)
        assert len(reasons) == expected, (where, reasons)
        assert not opt.allowed and list(opt.blockers) == reasons, where


def test_every_sop_has_legal_and_illegal_cells():
    for name, sop in SOPS.items():
        legal = [
            (ev.name, s.name, r)
            for ev in sop.events
            for s in sop.states
            for r in Role
            if s.name in ev.sources and r in ev.roles and r is not Role.ADMIN
        ]
        assert legal, name
        assert len(legal) < len(sop.events) * len(sop.states) * len(Role), name


# -- checklist requirements -----------------------------------------------------
def legal_start(ev: Event, *, prefer_not_io: bool = False):
    """A (state, role) pair from which ``ev`` may be fired."""
    roles = [r for r in ev.roles if r is not Role.ADMIN]
    if prefer_not_io and any(r is not Role.IO for r in roles):
        roles = [r for r in roles if r is not Role.IO]
    return ev.sources[0], roles[0]


def first_outcome(ev: Event):
    return ev.destinations()[0][0]


def legal_attempt(sop_name: str, ev: Event):
    """(sop, workflow, state, actor, outcome): a legal start for ``ev`` and an officer who may fire it."""
    state, role = legal_start(ev)
    return SOPS[sop_name], FLOWS[sop_name], state, actor_for(role), first_outcome(ev)


def everything_applies(sop: Sop, ev: Event, outcome, state, actor, checklist) -> CaseFacts:
    """Facts where every checklist item the event requires applies to the case."""
    facts = good_facts(sop, ev, outcome, state, actor, checklist=checklist)
    sections = set(facts.sections)
    flags = set(facts.flags)
    for item_id in ev.requires:
        cond = sop.item(item_id).applies_when
        if cond.sections_any:
            sections.add(section_base(cond.sections_any[0]))
        flags.update(cond.flags_any[:1])
    facts = CaseFacts(**{**facts.__dict__, "sections": tuple(sorted(sections)), "flags": frozenset(flags)})
    assert all(sop.item(i).applies_when.holds(facts) for i in ev.requires)
    return facts


def per_event(pred):
    return [pytest.param(name, ev, id=f"{name}:{ev.name}") for name, sop in SOPS.items() for ev in sop.events if pred(sop, ev)]


EVENTS_WITH_REQUIREMENTS = per_event(lambda sop, ev: ev.requires)
EVENTS_WITH_CONDITIONAL_ITEMS = per_event(lambda sop, ev: any(sop.item(i).applies_when != Condition() for i in ev.requires))


def test_some_events_require_items_some_conditionally():
    for name in SOPS:
        assert any(p.values[0] == name for p in EVENTS_WITH_REQUIREMENTS), name
        assert any(p.values[0] == name for p in EVENTS_WITH_CONDITIONAL_ITEMS), name


@pytest.mark.parametrize("sop_name, ev", EVENTS_WITH_REQUIREMENTS)
def test_unticked_items_block_and_each_is_named(sop_name, ev: Event):
    sop, flow, state, actor, outcome = legal_attempt(sop_name, ev)
    facts = everything_applies(sop, ev, outcome, state, actor, checklist={})
    with pytest.raises(Refused) as err:
        flow.fire(ev.name, facts, actor, outcome=outcome)
    reasons = err.value.reasons
    assert len(reasons) == len(ev.requires)
    for item_id in ev.requires:
        assert any(f"checklist item {item_id} " in r and sop.item(item_id).text in r for r in reasons), (item_id, reasons)


@pytest.mark.parametrize("sop_name, ev", EVENTS_WITH_REQUIREMENTS)
def test_each_missing_item_alone_blocks(sop_name, ev: Event):
    sop, flow, state, actor, outcome = legal_attempt(sop_name, ev)
    for missing in ev.requires:
        ticked = {i: "done" for i in ev.requires if i != missing}
        facts = everything_applies(sop, ev, outcome, state, actor, checklist=ticked)
        with pytest.raises(Refused) as err:
            flow.fire(ev.name, facts, actor, outcome=outcome)
        assert len(err.value.reasons) == 1 and f"checklist item {missing} " in err.value.reasons[0]
    # "done" and "na" both count.
    for status in ("done", "na"):
        facts = everything_applies(sop, ev, outcome, state, actor, checklist={i: status for i in ev.requires})
        assert flow.fire(ev.name, facts, actor, outcome=outcome).dest == ev.destinations()[0][1].to


@pytest.mark.parametrize("sop_name, ev", EVENTS_WITH_CONDITIONAL_ITEMS)
def test_items_that_do_not_apply_do_not_block(sop_name, ev: Event):
    sop, flow, state, actor, outcome = legal_attempt(sop_name, ev)
    facts = good_facts(sop, ev, outcome, state, actor, checklist={}, sections=("999",), flags=frozenset())
    inapplicable = {i for i in ev.requires if not sop.item(i).applies_when.holds(facts)}
    applicable = [i for i in ev.requires if i not in inapplicable]
    assert inapplicable
    with pytest.raises(Refused) as err:
        flow.fire(ev.name, facts, actor, outcome=outcome)
    text = str(err.value)
    for item_id in inapplicable:
        assert f"checklist item {item_id} " not in text
    assert len(err.value.reasons) == len(applicable)
    facts = good_facts(sop, ev, outcome, state, actor, checklist={i: "done" for i in applicable}, sections=("999",), flags=frozenset())
    assert flow.fire(ev.name, facts, actor, outcome=outcome).dest


# -- overrides ------------------------------------------------------------------
@pytest.mark.parametrize("sop_name, ev", EVENTS_WITH_REQUIREMENTS)
def test_override_roles_waive_unticked_items(sop_name, ev: Event):
    sop, flow = SOPS[sop_name], FLOWS[sop_name]
    state, _ = legal_start(ev)
    outcome = first_outcome(ev)
    assert ev.override_roles
    for role in Role:
        actor = actor_for(role)
        facts = everything_applies(sop, ev, outcome, state, actor, checklist={})
        if role in ev.override_roles and role is not Role.ADMIN:
            move = flow.fire(ev.name, facts, actor, outcome=outcome, override="court deadline; items follow")
            assert move.dest == ev.destinations()[0][1].to
            assert move.override == "court deadline; items follow"
            assert list(move.waived) == list(ev.requires)
        else:
            with pytest.raises(Refused) as err:
                flow.fire(ev.name, facts, actor, outcome=outcome, override="please")
            if role is Role.ADMIN:
                assert any("admin" in r for r in err.value.reasons)
            else:
                assert any(f"role {role.value} may not override {ev.name}" in r for r in err.value.reasons), err.value.reasons
                # A refused override still lists the items that block.
                assert all(any(f"checklist item {i} " in r for r in err.value.reasons) for i in ev.requires)


@pytest.mark.parametrize("sop_name", sorted(SOPS))
def test_override_waives_open_deficiencies_only_for_override_roles(sop_name):
    sop, flow = SOPS[sop_name], FLOWS[sop_name]
    events = [ev for ev in sop.events if ev.deficiencies == "none_open"]
    assert events
    for ev in events:
        state, role = legal_start(ev)
        facts = good_facts(sop, ev, first_outcome(ev), state, actor_for(role), open_deficiencies=2, unanswered_deficiencies=1)
        with pytest.raises(Refused, match=r"2 deficiency\(ies\) still open"):
            flow.fire(ev.name, facts, actor_for(role), outcome=first_outcome(ev))
        boss = next(r for r in ev.override_roles if r is not Role.ADMIN)
        move = flow.fire(ev.name, facts, actor_for(boss), outcome=first_outcome(ev), override="trial date fixed")
        assert move.waived == ("open_deficiencies",)


@pytest.mark.parametrize("sop_name", sorted(SOPS))
def test_override_does_not_bypass_state_conditions_or_jurisdiction(sop_name):
    sop, flow = SOPS[sop_name], FLOWS[sop_name]
    ev = next(ev for ev in sop.events if ev.requires)
    boss = actor_for(next(r for r in ev.override_roles if r is not Role.ADMIN))
    outcome = first_outcome(ev)
    wrong_state = next(s.name for s in sop.states if s.name not in ev.sources)
    facts = good_facts(sop, ev, outcome, wrong_state, boss, checklist={})
    with pytest.raises(Refused, match=f"state {wrong_state}"):
        flow.fire(ev.name, facts, boss, outcome=outcome, override="urgent")
    facts = good_facts(sop, ev, outcome, ev.sources[0], boss, checklist={}, district="Karachi South")
    with pytest.raises(Refused, match="works in district"):
        flow.fire(ev.name, facts, boss, outcome=outcome, override="urgent")
    some_open = next(ev for ev in sop.events if ev.deficiencies == "some_open")
    facts = good_facts(sop, some_open, None, some_open.sources[0], boss, open_deficiencies=0)
    with pytest.raises(Refused, match="at least one open deficiency"):
        flow.fire(some_open.name, facts, boss, override="urgent")


@pytest.mark.parametrize("reason", ["", "   ", "\t"])
def test_override_needs_a_reason(reason):
    sop, flow = SOPS["default"], FLOWS["default"]
    ev = next(ev for ev in sop.events if ev.requires)
    boss = actor_for(ev.override_roles[0])
    facts = good_facts(sop, ev, None, ev.sources[0], boss, checklist={})
    with pytest.raises(BadInput, match="--override needs a reason"):
        flow.fire(ev.name, facts, boss, override=reason)


# -- conditions -----------------------------------------------------------------
def violating(cond: Condition) -> list[tuple[str, dict]]:
    """(what, fact changes) that each break one part of ``cond``."""
    out = []
    if cond.sections_any:
        out.append(("sections", {"sections": ("999",)}))
    if cond.sections_all_in:
        any_bases = {section_base(a) for a in cond.sections_any}
        listed = [s for s in cond.sections_all_in if not any_bases or section_base(s) in any_bases]
        out.append(("sections", {"sections": (*listed[:1], "999")}))
    if cond.flags_any:
        out.append(("flags", {"flags": frozenset()}))
    if cond.flags_none:
        out += [("flags", {"flags": frozenset({flag})}) for flag in cond.flags_none]
    if cond.reports:
        others = [r for r in (None, *REPORTS) if r not in cond.reports]
        out += [("report", {"report": r}) for r in others]
    if cond.io_assigned is True:
        out.append(("io", {"io": None}))
    if cond.io_assigned is False:
        out.append(("io", {"io": OTHER_IO}))
    return out


CONDITIONAL = [
    pytest.param(name, ev, outcome, id=f"{name}:{label(ev, outcome)}")
    for name, sop in SOPS.items()
    for ev in sop.events
    for outcome, dest in ev.destinations()
    if ev.when != Condition() or dest.when != Condition()
]


def test_some_events_are_conditional():
    for name in SOPS:
        assert any(p.values[0] == name for p in CONDITIONAL), name


@pytest.mark.parametrize("sop_name, ev, outcome", CONDITIONAL)
def test_conditions_block(sop_name, ev: Event, outcome):
    sop, flow = SOPS[sop_name], FLOWS[sop_name]
    state, role = legal_start(ev, prefer_not_io=True)
    actor = actor_for(role)
    parts = [(ev.when, ev.name)]
    if outcome:
        parts.append((ev.outcomes[outcome].when, f"{ev.name} --outcome {outcome}"))
    checked = 0
    for cond, prefix in parts:
        for what, change in violating(cond):
            facts = good_facts(sop, ev, outcome, state, actor, check=False, **change)
            assert not cond.holds(facts)
            with pytest.raises(Refused) as err:
                flow.fire(ev.name, facts, actor, outcome=outcome)
            assert any(r.startswith(f"{prefix}: ") for r in err.value.reasons), (what, err.value.reasons)
            assert all(r.startswith(prefix) or "not the IO" in r for r in err.value.reasons), err.value.reasons
            checked += 1
    assert checked


def test_outcome_conditions_pick_between_outcomes():
    """An outcome whose condition fails is refused while a sibling outcome succeeds."""
    checked = 0
    for name, sop in SOPS.items():
        flow = FLOWS[name]
        for ev in sop.events:
            guarded = [(o, d) for o, d in ev.destinations() if o and d.when != Condition()]
            for outcome, dest in guarded:
                state, role = legal_start(ev)
                actor = actor_for(role)
                for _, change in violating(dest.when):
                    facts = good_facts(sop, ev, outcome, state, actor, check=False, **change)
                    with pytest.raises(Refused):
                        flow.fire(ev.name, facts, actor, outcome=outcome)
                    for other in [o for o, d in ev.destinations() if o != outcome and d.when.holds(facts)]:
                        assert flow.fire(ev.name, facts, actor, outcome=other).dest == ev.outcomes[other].to
                        checked += 1
    assert checked


@pytest.mark.parametrize("sop_name", sorted(SOPS))
def test_deficiency_rules_block(sop_name):
    sop, flow = SOPS[sop_name], FLOWS[sop_name]
    bad = {
        "none_open": {"open_deficiencies": 1, "unanswered_deficiencies": 0},
        "some_open": {"open_deficiencies": 0, "unanswered_deficiencies": 0},
        "all_answered": {"open_deficiencies": 2, "unanswered_deficiencies": 1},
    }
    seen = set()
    for ev in sop.events:
        if not ev.deficiencies:
            continue
        seen.add(ev.deficiencies)
        state, role = legal_start(ev)
        actor = actor_for(role)
        outcome = first_outcome(ev)
        facts = good_facts(sop, ev, outcome, state, actor, **bad[ev.deficiencies])
        with pytest.raises(Refused) as err:
            flow.fire(ev.name, facts, actor, outcome=outcome)
        assert len(err.value.reasons) == 1 and "deficienc" in err.value.reasons[0]
    assert seen


# -- bad input ------------------------------------------------------------------
@pytest.mark.parametrize("sop_name", sorted(SOPS))
def test_unknown_event_is_bad_input(sop_name):
    sop, flow = SOPS[sop_name], FLOWS[sop_name]
    actor = actor_for(Role.SHO)
    facts = good_facts(sop, sop.events[0], None, sop.initial, actor)
    with pytest.raises(BadInput) as err:
        flow.fire("submit_chalan", facts, actor)
    assert "unknown event 'submit_chalan'" in str(err.value)
    for ev in sop.events:
        assert ev.name in str(err.value)


EVENTS_WITH_OUTCOMES = per_event(lambda sop, ev: ev.outcomes)


def test_some_event_has_outcomes():
    assert EVENTS_WITH_OUTCOMES


@pytest.mark.parametrize("sop_name, ev", EVENTS_WITH_OUTCOMES)
def test_missing_or_unknown_outcome_is_bad_input(sop_name, ev: Event):
    sop, flow, state, actor, outcome = legal_attempt(sop_name, ev)
    facts = good_facts(sop, ev, outcome, state, actor)
    with pytest.raises(BadInput) as err:
        flow.fire(ev.name, facts, actor)
    assert "none given" in str(err.value)
    for outcome in ev.outcomes:
        assert outcome in str(err.value)
    with pytest.raises(BadInput) as err:
        flow.fire(ev.name, facts, actor, outcome="mistrial")
    assert "'mistrial' is not one" in str(err.value)
    # Bad input is reported even where the move is illegal anyway.
    wrong = next(s.name for s in sop.states if s.name not in ev.sources)
    with pytest.raises(BadInput):
        flow.fire(ev.name, good_facts(sop, ev, first_outcome(ev), wrong, actor), actor, outcome="mistrial")


@pytest.mark.parametrize("sop_name", sorted(SOPS))
def test_outcome_on_an_event_without_outcomes_is_bad_input(sop_name):
    sop, flow = SOPS[sop_name], FLOWS[sop_name]
    ev = next(ev for ev in sop.events if not ev.outcomes)
    state, role = legal_start(ev)
    actor = actor_for(role)
    with pytest.raises(BadInput, match="takes no --outcome"):
        flow.fire(ev.name, good_facts(sop, ev, None, state, actor), actor, outcome="convicted")
