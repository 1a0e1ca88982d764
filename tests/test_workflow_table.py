"""The workflow as a table generated from the SOP file.

For every event (and outcome) x every state x every role, ``Workflow.fire``
must move the case to the SOP's destination exactly when the SOP lists the
state in the event's ``from`` and the role in its ``roles`` (an admin never
acts on cases), and refuse otherwise, naming what was wrong. Every
expectation below is read from the SOP data; nothing restates the flow.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from casechain.domain.errors import BadInput, Refused
from casechain.domain.roles import Actor, Role
from casechain.domain.sop import CaseFacts, Condition, Event, ReportKind, section_base
from casechain.domain.workflow import Workflow
from casechain.sops import load_sop_file

SOP_FILE = Path(__file__).resolve().parents[1] / "sops" / "default.yaml"
SOP = load_sop_file(SOP_FILE)
FLOW = Workflow(SOP)
REPORTS: tuple[str, ...] = get_args(ReportKind)

STATION, DISTRICT = "CLN", "Lahore"
OTHER_IO = "IO-999"


def actor_for(role: Role) -> Actor:
    """An officer of ``role`` whose jurisdiction covers the case."""
    if role in (Role.IO, Role.SHO):
        return Actor(f"{role.value.upper()}-1", "Officer", role, DISTRICT, STATION)
    return Actor(f"{role.value.upper()}-1", "Officer", role, DISTRICT, None)


def satisfying(*conds: Condition, io: str | None) -> dict:
    """Case facts (sections, flags, report, io) under which every condition holds."""
    sections, flags, banned, report = ["379"], set(), set(), None
    want_io: bool | None = None
    for c in conds:
        if c.sections_any:
            sections.append(section_base(c.sections_any[0]))
        flags.update(c.flags_any[:1])
        banned.update(c.flags_none)
        if c.reports:
            report = c.reports[0] if report is None or report not in c.reports else report
        if c.io_assigned is not None:
            want_io = c.io_assigned
    out = {
        "sections": tuple(sections),
        "flags": frozenset(flags - banned),
        "report": report,
        "io": (io if want_io is not False else None),
    }
    return out


def all_ticked() -> dict[str, str]:
    return {i.id: ("na" if i.na_allowed else "done") for i in SOP.checklist}


def deficiency_counts(ev: Event) -> dict:
    """open/unanswered deficiency counts that satisfy the event's rule."""
    return {
        None: {"open_deficiencies": 0, "unanswered_deficiencies": 0},
        "none_open": {"open_deficiencies": 0, "unanswered_deficiencies": 0},
        "some_open": {"open_deficiencies": 2, "unanswered_deficiencies": 0},
        "all_answered": {"open_deficiencies": 1, "unanswered_deficiencies": 0},
    }[ev.deficiencies]


def good_facts(ev: Event, outcome: str | None, state: str, actor: Actor, checklist=None, check=True, **override) -> CaseFacts:
    """Facts under which only the event's from/roles can stop ``actor``."""
    conds = [ev.when] + ([ev.outcomes[outcome].when] if outcome else [])
    io = actor.badge if actor.role is Role.IO else OTHER_IO
    kw = dict(
        state=state,
        station=STATION,
        district=DISTRICT,
        checklist=all_ticked() if checklist is None else checklist,
        **satisfying(*conds, io=io),
        **deficiency_counts(ev),
    )
    kw.update(override)
    facts = CaseFacts(**kw)
    for c in conds if check else ():
        assert c.holds(facts), c.failures(facts)
    return facts


CASES = [
    pytest.param(ev, outcome, dest.to, state.name, role, id=f"{ev.name}{'=' + outcome if outcome else ''}-{state.name}-{role.value}")
    for ev in SOP.events
    for outcome, dest in ev.destinations()
    for state in SOP.states
    for role in Role
]


def test_table_is_complete():
    n_dest = sum(len(ev.destinations()) for ev in SOP.events)
    assert len(CASES) == n_dest * len(SOP.states) * len(Role)
    assert n_dest > len(SOP.events)  # some event has outcomes
    legal = [p for p in CASES if p.values[3] in p.values[0].sources and p.values[4] in p.values[0].roles and p.values[4] is not Role.ADMIN]
    assert legal and len(legal) < len(CASES)


@pytest.mark.parametrize("ev, outcome, dest, state, role", CASES)
def test_fire_table(ev: Event, outcome, dest, state, role):
    actor = actor_for(role)
    facts = good_facts(ev, outcome, state, actor)
    legal_state = state in ev.sources
    legal_role = role in ev.roles and role is not Role.ADMIN
    if legal_state and legal_role:
        move = FLOW.fire(ev.name, facts, actor, outcome=outcome)
        assert move.dest == dest
        assert (move.event, move.source, move.outcome) == (ev.name, state, outcome)
        assert move.report == ev.report
        assert move.new_round == ev.new_round
        assert move.override is None and move.waived == ()
        # ``case events`` agrees with ``fire``.
        opt = next(o for o in FLOW.options(facts, actor) if o.event == ev.name and o.outcome == outcome)
        assert opt.allowed and opt.dest == dest
        return
    with pytest.raises(Refused) as err:
        FLOW.fire(ev.name, facts, actor, outcome=outcome)
    reasons = err.value.reasons
    text = str(err.value)
    assert reasons and text == "\n".join(reasons)
    assert ev.name in text
    if not legal_state:
        assert any(ev.name in r and f"state {state}" in r for r in reasons), reasons
    if role is Role.ADMIN:
        assert any("admin" in r for r in reasons), reasons
    elif not legal_role:
        assert any(f"role {role.value}" in r and ev.name in r for r in reasons), reasons
    # Nothing else blocks: only state/role/admin reasons.
    expected = int(not legal_state) + int(role not in ev.roles) + int(role is Role.ADMIN)
    assert len(reasons) == expected, reasons
    opt = next(o for o in FLOW.options(facts, actor) if o.event == ev.name and o.outcome == outcome)
    assert not opt.allowed and list(opt.blockers) == reasons


# -- checklist requirements -----------------------------------------------------
def legal_start(ev: Event, *, prefer_not_io: bool = False):
    """A (state, role) pair from which ``ev`` may be fired."""
    roles = [r for r in ev.roles if r is not Role.ADMIN]
    if prefer_not_io and any(r is not Role.IO for r in roles):
        roles = [r for r in roles if r is not Role.IO]
    return ev.sources[0], roles[0]


def everything_applies(ev: Event, outcome, state, actor, checklist) -> CaseFacts:
    """Facts where every checklist item of the SOP applies to the case."""
    facts = good_facts(ev, outcome, state, actor, checklist=checklist)
    sections = set(facts.sections)
    flags = set(facts.flags)
    for item in SOP.checklist:
        cond = item.applies_when
        if cond.sections_any:
            sections.add(section_base(cond.sections_any[0]))
        flags.update(cond.flags_any[:1])
    facts = CaseFacts(**{**facts.__dict__, "sections": tuple(sorted(sections)), "flags": frozenset(flags)})
    assert all(i.applies_when.holds(facts) for i in SOP.checklist)
    return facts


EVENTS_WITH_REQUIREMENTS = [pytest.param(ev, id=ev.name) for ev in SOP.events if ev.requires]


def first_outcome(ev: Event):
    return ev.destinations()[0][0]


def test_some_event_requires_items():
    assert EVENTS_WITH_REQUIREMENTS


@pytest.mark.parametrize("ev", EVENTS_WITH_REQUIREMENTS)
def test_unticked_items_block_and_each_is_named(ev: Event):
    state, role = legal_start(ev)
    actor = actor_for(role)
    outcome = first_outcome(ev)
    facts = everything_applies(ev, outcome, state, actor, checklist={})
    with pytest.raises(Refused) as err:
        FLOW.fire(ev.name, facts, actor, outcome=outcome)
    reasons = err.value.reasons
    assert len(reasons) == len(ev.requires)
    for item_id in ev.requires:
        assert any(f"checklist item {item_id} " in r and SOP.item(item_id).text in r for r in reasons), (item_id, reasons)


@pytest.mark.parametrize("ev", EVENTS_WITH_REQUIREMENTS)
def test_each_missing_item_alone_blocks(ev: Event):
    state, role = legal_start(ev)
    actor = actor_for(role)
    outcome = first_outcome(ev)
    for missing in ev.requires:
        ticked = {i: "done" for i in ev.requires if i != missing}
        facts = everything_applies(ev, outcome, state, actor, checklist=ticked)
        with pytest.raises(Refused) as err:
            FLOW.fire(ev.name, facts, actor, outcome=outcome)
        assert len(err.value.reasons) == 1 and f"checklist item {missing} " in err.value.reasons[0]
    # "done" and "na" both count.
    for status in ("done", "na"):
        facts = everything_applies(ev, outcome, state, actor, checklist={i: status for i in ev.requires})
        assert FLOW.fire(ev.name, facts, actor, outcome=outcome).dest == ev.destinations()[0][1].to


EVENTS_WITH_CONDITIONAL_ITEMS = [
    pytest.param(ev, id=ev.name) for ev in SOP.events if any(SOP.item(i).applies_when != Condition() for i in ev.requires)
]


def test_some_required_items_are_conditional():
    assert EVENTS_WITH_CONDITIONAL_ITEMS


@pytest.mark.parametrize("ev", EVENTS_WITH_CONDITIONAL_ITEMS)
def test_items_that_do_not_apply_do_not_block(ev: Event):
    state, role = legal_start(ev)
    actor = actor_for(role)
    outcome = first_outcome(ev)
    facts = good_facts(ev, outcome, state, actor, checklist={}, sections=("999",), flags=frozenset())
    inapplicable = {i for i in ev.requires if not SOP.item(i).applies_when.holds(facts)}
    applicable = [i for i in ev.requires if i not in inapplicable]
    assert inapplicable
    with pytest.raises(Refused) as err:
        FLOW.fire(ev.name, facts, actor, outcome=outcome)
    text = str(err.value)
    for item_id in inapplicable:
        assert f"checklist item {item_id} " not in text
    assert len(err.value.reasons) == len(applicable)
    facts = good_facts(ev, outcome, state, actor, checklist={i: "done" for i in applicable}, sections=("999",), flags=frozenset())
    assert FLOW.fire(ev.name, facts, actor, outcome=outcome).dest


def test_applicability_is_visible_in_the_default_sop():
    """The SOP's conditional items (post-mortem only for death sections...) are honoured."""
    conditional = [i for i in SOP.checklist if i.applies_when != Condition()]
    assert conditional
    for item in conditional:
        facts = good_facts(SOP.events[0], None, SOP.initial, actor_for(Role.SHO), sections=("999",), flags=frozenset())
        assert item not in FLOW.applicable_items(facts)


# -- overrides ------------------------------------------------------------------
@pytest.mark.parametrize("ev", EVENTS_WITH_REQUIREMENTS)
def test_override_roles_waive_unticked_items(ev: Event):
    state, _ = legal_start(ev)
    outcome = first_outcome(ev)
    assert ev.override_roles
    for role in Role:
        actor = actor_for(role)
        facts = everything_applies(ev, outcome, state, actor, checklist={})
        if role in ev.override_roles and role is not Role.ADMIN:
            move = FLOW.fire(ev.name, facts, actor, outcome=outcome, override="court deadline; items follow")
            assert move.dest == ev.destinations()[0][1].to
            assert move.override == "court deadline; items follow"
            assert list(move.waived) == list(ev.requires)
        else:
            with pytest.raises(Refused) as err:
                FLOW.fire(ev.name, facts, actor, outcome=outcome, override="please")
            if role is Role.ADMIN:
                assert any("admin" in r for r in err.value.reasons)
            else:
                assert any(f"role {role.value} may not override {ev.name}" in r for r in err.value.reasons), err.value.reasons
                # A refused override still lists the items that block.
                assert all(any(f"checklist item {i} " in r for r in err.value.reasons) for i in ev.requires)


def test_override_waives_open_deficiencies_only_for_override_roles():
    events = [ev for ev in SOP.events if ev.deficiencies == "none_open"]
    assert events
    for ev in events:
        state, role = legal_start(ev)
        facts = good_facts(ev, first_outcome(ev), state, actor_for(role), open_deficiencies=2, unanswered_deficiencies=1)
        with pytest.raises(Refused, match=r"2 deficiency\(ies\) still open"):
            FLOW.fire(ev.name, facts, actor_for(role), outcome=first_outcome(ev))
        boss = next(r for r in ev.override_roles if r is not Role.ADMIN)
        move = FLOW.fire(ev.name, facts, actor_for(boss), outcome=first_outcome(ev), override="trial date fixed")
        assert move.waived == ("open_deficiencies",)


def test_override_does_not_bypass_state_conditions_or_jurisdiction():
    ev = next(ev for ev in SOP.events if ev.requires)
    boss = actor_for(next(r for r in ev.override_roles if r is not Role.ADMIN))
    outcome = first_outcome(ev)
    wrong_state = next(s.name for s in SOP.states if s.name not in ev.sources)
    facts = good_facts(ev, outcome, wrong_state, boss, checklist={})
    with pytest.raises(Refused, match=f"state {wrong_state}"):
        FLOW.fire(ev.name, facts, boss, outcome=outcome, override="urgent")
    facts = good_facts(ev, outcome, ev.sources[0], boss, checklist={}, district="Karachi South")
    with pytest.raises(Refused, match="works in district"):
        FLOW.fire(ev.name, facts, boss, outcome=outcome, override="urgent")
    some_open = next(ev for ev in SOP.events if ev.deficiencies == "some_open")
    facts = good_facts(some_open, None, some_open.sources[0], boss, open_deficiencies=0)
    with pytest.raises(Refused, match="at least one open deficiency"):
        FLOW.fire(some_open.name, facts, boss, override="urgent")


@pytest.mark.parametrize("reason", ["", "   ", "\t"])
def test_override_needs_a_reason(reason):
    ev = next(ev for ev in SOP.events if ev.requires)
    boss = actor_for(ev.override_roles[0])
    facts = good_facts(ev, None, ev.sources[0], boss, checklist={})
    with pytest.raises(BadInput, match="--override needs a reason"):
        FLOW.fire(ev.name, facts, boss, override=reason)


# -- conditions -----------------------------------------------------------------
def violating(cond: Condition) -> list[tuple[str, dict]]:
    """(what, fact changes) that each break one part of ``cond``."""
    out = []
    if cond.sections_any:
        out.append(("sections", {"sections": ("999",)}))
    if cond.flags_any:
        out.append(("flags", {"flags": frozenset()}))
    if cond.flags_none:
        out.append(("flags", {"flags": frozenset(cond.flags_none[:1])}))
    if cond.reports:
        others = [r for r in (None, *REPORTS) if r not in cond.reports]
        out += [("report", {"report": r}) for r in others]
    if cond.io_assigned is True:
        out.append(("io", {"io": None}))
    if cond.io_assigned is False:
        out.append(("io", {"io": OTHER_IO}))
    return out


CONDITIONAL = [
    pytest.param(ev, outcome, id=f"{ev.name}{'=' + outcome if outcome else ''}")
    for ev in SOP.events
    for outcome, dest in ev.destinations()
    if ev.when != Condition() or dest.when != Condition()
]


def test_some_events_are_conditional():
    assert CONDITIONAL


@pytest.mark.parametrize("ev, outcome", CONDITIONAL)
def test_conditions_block(ev: Event, outcome):
    state, role = legal_start(ev, prefer_not_io=True)
    actor = actor_for(role)
    parts = [(ev.when, ev.name)]
    if outcome:
        parts.append((ev.outcomes[outcome].when, f"{ev.name} --outcome {outcome}"))
    checked = 0
    for cond, prefix in parts:
        for what, change in violating(cond):
            facts = good_facts(ev, outcome, state, actor, check=False, **change)
            assert not cond.holds(facts)
            with pytest.raises(Refused) as err:
                FLOW.fire(ev.name, facts, actor, outcome=outcome)
            assert any(r.startswith(f"{prefix}: ") for r in err.value.reasons), (what, err.value.reasons)
            assert all(r.startswith(prefix) or "not the IO" in r for r in err.value.reasons), err.value.reasons
            checked += 1
    assert checked


def test_outcome_conditions_pick_between_outcomes():
    """An outcome whose condition fails is refused while a sibling outcome succeeds."""
    checked = 0
    for ev in SOP.events:
        guarded = [(o, d) for o, d in ev.destinations() if o and d.when != Condition()]
        for outcome, dest in guarded:
            state, role = legal_start(ev)
            actor = actor_for(role)
            for _, change in violating(dest.when):
                facts = good_facts(ev, outcome, state, actor, check=False, **change)
                others = [o for o, d in ev.destinations() if o != outcome and d.when.holds(facts)]
                with pytest.raises(Refused):
                    FLOW.fire(ev.name, facts, actor, outcome=outcome)
                for other in others:
                    assert FLOW.fire(ev.name, facts, actor, outcome=other).dest == ev.outcomes[other].to
                    checked += 1
    assert checked


def test_deficiency_rules_block():
    for ev in SOP.events:
        if not ev.deficiencies:
            continue
        state, role = legal_start(ev)
        actor = actor_for(role)
        outcome = first_outcome(ev)
        bad = {
            "none_open": {"open_deficiencies": 1, "unanswered_deficiencies": 0},
            "some_open": {"open_deficiencies": 0, "unanswered_deficiencies": 0},
            "all_answered": {"open_deficiencies": 2, "unanswered_deficiencies": 1},
        }[ev.deficiencies]
        facts = good_facts(ev, outcome, state, actor, **bad)
        with pytest.raises(Refused) as err:
            FLOW.fire(ev.name, facts, actor, outcome=outcome)
        assert len(err.value.reasons) == 1 and "deficienc" in err.value.reasons[0]


# -- bad input ------------------------------------------------------------------
def test_unknown_event_is_bad_input():
    actor = actor_for(Role.SHO)
    facts = good_facts(SOP.events[0], None, SOP.initial, actor)
    with pytest.raises(BadInput) as err:
        FLOW.fire("submit_chalan", facts, actor)
    assert "unknown event 'submit_chalan'" in str(err.value)
    for ev in SOP.events:
        assert ev.name in str(err.value)


EVENTS_WITH_OUTCOMES = [pytest.param(ev, id=ev.name) for ev in SOP.events if ev.outcomes]


def test_some_event_has_outcomes():
    assert EVENTS_WITH_OUTCOMES


@pytest.mark.parametrize("ev", EVENTS_WITH_OUTCOMES)
def test_missing_or_unknown_outcome_is_bad_input(ev: Event):
    state, role = legal_start(ev)
    actor = actor_for(role)
    facts = good_facts(ev, first_outcome(ev), state, actor)
    with pytest.raises(BadInput) as err:
        FLOW.fire(ev.name, facts, actor)
    assert "none given" in str(err.value)
    for outcome in ev.outcomes:
        assert outcome in str(err.value)
    with pytest.raises(BadInput) as err:
        FLOW.fire(ev.name, facts, actor, outcome="mistrial")
    assert "'mistrial' is not one" in str(err.value)
    # Bad input is reported even where the move is illegal anyway.
    wrong = next(s.name for s in SOP.states if s.name not in ev.sources)
    with pytest.raises(BadInput):
        FLOW.fire(ev.name, good_facts(ev, first_outcome(ev), wrong, actor), actor, outcome="mistrial")


def test_outcome_on_an_event_without_outcomes_is_bad_input():
    ev = next(ev for ev in SOP.events if not ev.outcomes)
    state, role = legal_start(ev)
    actor = actor_for(role)
    with pytest.raises(BadInput, match="takes no --outcome"):
        FLOW.fire(ev.name, good_facts(ev, None, state, actor), actor, outcome="convicted")
