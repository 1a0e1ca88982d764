"""Hypothesis strategies for SOPs.

``sop_dicts()`` draws SOP documents (plain dicts, as a YAML file would hold)
that are valid by construction: one initial state, every state reachable from
it, every non-terminal state with a way out, no event leaving a terminal state,
every checklist item required by some event, deficiency codes and clocks that
point at things that exist. Tests check that ``sop_problems`` agrees, and fire
random events on the engine built from them.
"""

from __future__ import annotations

from hypothesis import strategies as st

ROLES = ["io", "sho", "prosecutor", "supervisor"]  # admins never act on cases
FLAGS = ["sgbv", "juvenile", "terrorism"]
SECTIONS = ["302", "302(b)", "379", "447", "376", "489-F", "506(ii)", "34"]
REPORTS = ["challan", "interim", "cancellation"]


@st.composite
def conditions(draw) -> dict:
    """A Condition as data: usually empty, sometimes one or two parts."""
    parts = {
        "sections_any": st.lists(st.sampled_from(SECTIONS), min_size=1, max_size=2, unique=True),
        "sections_all_in": st.lists(st.sampled_from(SECTIONS), min_size=1, max_size=5, unique=True),
        "flags_any": st.lists(st.sampled_from(FLAGS), min_size=1, max_size=2, unique=True),
        "flags_none": st.lists(st.sampled_from(FLAGS), min_size=1, max_size=2, unique=True),
        "reports": st.lists(st.sampled_from(REPORTS), min_size=1, max_size=2, unique=True),
        "io_assigned": st.booleans(),
    }
    n = draw(st.sampled_from([0, 0, 1, 2]))  # mostly none, so that moves do happen
    chosen = draw(st.lists(st.sampled_from(sorted(parts)), min_size=n, max_size=n, unique=True))
    return {name: draw(parts[name]) for name in chosen}


@st.composite
def sop_dicts(draw) -> dict:
    n_active = draw(st.integers(1, 5))
    n_terminal = draw(st.integers(1, 3))
    active = [f"s{i}" for i in range(n_active)]
    terminal = [f"t{i}" for i in range(n_terminal)]
    everything = active + terminal
    roles = st.lists(st.sampled_from(ROLES), min_size=1, max_size=3, unique=True)
    events: list[dict] = []

    def event(sources: list[str], dest: str) -> dict:
        ev = {"name": f"e{len(events)}", "from": sources, "roles": draw(roles)}
        if draw(st.integers(0, 3)) == 0:  # an event whose user names the outcome
            other = draw(st.sampled_from(everything))
            ev["outcomes"] = {"won": dest, "lost": {"to": other, "when": draw(conditions())}}
        else:
            ev["to"] = dest
        when = draw(conditions())
        if when:
            ev["when"] = when
        report = draw(st.sampled_from([None, None, *REPORTS]))
        if report:
            ev["report"] = report
        rule = draw(st.sampled_from([None, None, None, "none_open", "some_open", "all_answered"]))
        if rule:
            ev["deficiencies"] = rule
        if draw(st.booleans()):
            ev["new_round"] = True
        events.append(ev)
        return ev

    # A way in for every state: from a non-terminal state reached before it.
    reached = [active[0]]
    for name in draw(st.permutations(active[1:])) + terminal:
        event([draw(st.sampled_from(reached))], name)
        if name in active:
            reached.append(name)
    # A way out of every non-terminal state.
    for name in active:
        if not any(name in ev["from"] for ev in events):
            event([name], draw(st.sampled_from(everything)))
    for _ in range(draw(st.integers(0, 3))):
        event(draw(st.lists(st.sampled_from(active), min_size=1, max_size=3, unique=True)), draw(st.sampled_from(everything)))

    items = [f"item{i}" for i in range(draw(st.integers(0, 4)))]
    checklist = []
    for item in items:
        entry = {"id": item, "step": "investigation", "text": f"Item {item}", "na_allowed": draw(st.booleans())}
        applies = draw(conditions())
        if applies:
            entry["applies_when"] = applies
        checklist.append(entry)
        for ev in draw(st.lists(st.sampled_from(events), min_size=1, max_size=2, unique_by=lambda e: e["name"])):
            ev.setdefault("requires", []).append(item)

    doc = {
        "name": "generated",
        "version": draw(st.integers(1, 3)),
        "title": "A generated SOP",
        "sensitive_flags": draw(st.lists(st.sampled_from(FLAGS), max_size=2, unique=True)),
        "states": [{"name": s, "initial": s == active[0]} for s in active] + [{"name": t, "terminal": True} for t in terminal],
        "events": events,
        "checklist": checklist,
        "checklist_open_in": draw(st.lists(st.sampled_from(active), max_size=n_active, unique=True)),
        "scrutiny_states": draw(st.lists(st.sampled_from(active), max_size=n_active, unique=True)),
        "deficiency_codes": [{"code": f"CODE_{i}", "text": f"Defect {i}", "item": draw(st.sampled_from([None, *items]))} for i in range(draw(st.integers(0, 3)))],
        "clocks": [
            {
                "name": "report",
                "title": "Report",
                "section": "s.1",
                "starts_on": "register",
                "limit": {"days": draw(st.integers(1, 30))},
                "met_by": draw(st.lists(st.sampled_from([e["name"] for e in events]), min_size=1, max_size=2, unique=True)),
            }
        ],
    }
    states = draw(st.permutations(doc["states"]))  # declaration order must not matter
    doc["states"] = list(states)
    return doc
