"""Who may do what, where: every role x command x jurisdiction, generated from the SOP.

For each event of the SOP (and each outcome), and each command that acts on a
case, the test brings a case to a state where everything *but* the actor is
in order (the source state, the report and sections the event needs, every
required checklist item ticked, deficiencies as the event wants them). Then
each of twelve officers tries it:

    io          IO-101 the assigned IO, IO-102 same station not assigned,
                IO-301 other station same district, IO-201 other district
    sho         SHO-1 own station, SHO-3 other station, SHO-2 other district
    prosecutor  PP-7 own district, PP-9 other district
    supervisor  SP-1 own district, SP-2 other district
    admin       ADM-1

Only the officers whose role the SOP (or, for commands the SOP does not
govern, the service) allows *and* who are within jurisdiction succeed;
every other attempt is refused (exit 1) for role or jurisdiction reasons
only, and changes nothing.
"""

from __future__ import annotations

import itertools
from collections import deque
from functools import partial

import pytest
from conftest import World

from casechain.domain.errors import Refused
from casechain.domain.sop import Sop
from casechain.services import admin, cases, checklist, custody, deficiencies
from casechain.services.common import sop_of

ACTORS = {
    "IO-101": "io", "IO-102": "io", "IO-301": "io", "IO-201": "io",
    "SHO-1": "sho", "SHO-3": "sho", "SHO-2": "sho",
    "PP-7": "prosecutor", "PP-9": "prosecutor",
    "SP-1": "supervisor", "SP-2": "supervisor",
    "ADM-1": "admin",
}  # fmt: skip
# within jurisdiction of a CLN (Lahore) case assigned to IO-101
IN_JURISDICTION = {"IO-101", "SHO-1", "PP-7", "SP-1"}
GOOD = {"io": "IO-101", "sho": "SHO-1", "prosecutor": "PP-7", "supervisor": "SP-1"}
ROLE_OR_PLACE = ("may not", "belongs to station", "is not the IO of this case", "works in district", "is an admin")
PROVINCIAL = ["punjab"]  # the SOP of the test station's province (Lahore)


class Probe:
    """Brings cases of one SOP to where a move is possible, and tries it."""

    def __init__(self, w: World, sop: Sop):
        self.w, self.sop = w, sop
        self.fir = itertools.count(1000)

    # -- the path to a state ---------------------------------------------------
    def path(self, goal) -> list[tuple]:
        """Events (with outcome) from the initial state to a (state, report) accepted by ``goal``."""
        start = (self.sop.initial, None)
        seen, queue = {start}, deque([(start, [])])
        while queue:
            (state, report), steps = queue.popleft()
            if goal(state, report):
                return steps
            for ev in self.sop.events:
                if state not in ev.sources or ev.when.sections_all_in or ev.when.sections_any or ev.when.flags_any:
                    continue
                for outcome, dest in ev.destinations():
                    wanted = ev.when.reports + dest.when.reports
                    if wanted and report not in wanted:
                        continue
                    nxt = (dest.to, ev.report or report)
                    if nxt not in seen and not self.sop.state(dest.to).terminal:
                        seen.add(nxt)
                        queue.append((nxt, steps + [(ev, outcome)]))
        raise AssertionError(f"no path in {self.sop.key} to the goal")

    def sections_for(self, ev) -> str:
        if ev is not None and ev.when.sections_all_in:
            return next(s for s in ev.when.sections_all_in if s[0].isdigit() and "(" not in s)
        return "302,34"

    def new_case(self, goal, ev=None) -> str:
        n = next(self.fir)
        ref = self.w.run(
            cases.register, "SHO-1", "CLN", n, 2024, self.sections_for(ev), "2024-03-01T22:15", "2024-03-02T01:10", "Muhammad Aslam", ["Bilal"], [], self.sop.name
        )["ref"]
        self.w.run(cases.assign, "SHO-1", ref, "IO-101")
        for step, outcome in self.path(goal):
            self.ready(ref, step)
            actor = GOOD[next(r.value for r in step.roles if r.value in GOOD)]
            self.w.run(cases.advance, actor, ref, step.name, note="as needed" if step.note_required else None, outcome=outcome)
        return ref

    def ready(self, ref: str, ev) -> None:
        """Everything but the actor in order for ``ev``: items ticked, deficiencies as wanted."""
        view = self.w.run(cases.show, ref)
        if view["state"] in self.sop.checklist_open_in:
            for row in view["checklist"]:
                if row["status"] == "open" and row["item"] in ev.requires:
                    self.w.run(checklist.tick, "IO-101", ref, row["item"], f"ref {row['item']}")
        open_ = [d for d in view["deficiencies"] if d["status"] != "resolved"]
        if ev.deficiencies == "some_open" and not open_:
            self.w.run(deficiencies.flag, "PP-7", ref, "OTHER", "see note")
        elif ev.deficiencies == "all_answered":
            for d in open_:
                if d["status"] == "open":
                    self.w.run(deficiencies.respond, "IO-101", ref, d["id"], "cured")
        elif ev.deficiencies == "none_open":
            for d in open_:
                self.w.run(deficiencies.resolve, "PP-7", ref, d["id"])

    # -- one attempt --------------------------------------------------------------
    def stamp(self, ref: str) -> tuple:
        """The case's version and audit head hash: any change to the case moves both."""
        with self.w.uow(readonly=True) as uow:
            case = uow.case(ref)
            return case.version, case.head_hash

    def attempt(self, ref: str, badge: str, action) -> bool:
        before = self.stamp(ref)
        try:
            action(badge, ref)
        except Refused as err:
            off = [r for r in err.reasons if not any(p in r for p in ROLE_OR_PLACE)]
            assert not off, f"{badge} refused for more than role or jurisdiction: {off}"
            assert self.stamp(ref) == before, "a refused action changed the case"
            return False
        return True


def _event_commands(sop: Sop):
    """(name, goal, event, allowed roles, action) for every event and outcome of the SOP."""
    for ev in sop.events:
        if ev.when.flags_any:
            continue
        for outcome, dest in ev.destinations():
            wanted = ev.when.reports + dest.when.reports

            def goal(state, report, ev=ev, wanted=wanted):
                return state in ev.sources and (not wanted or report in wanted)

            def action(badge, ref, ev=ev, outcome=outcome):
                return cases.advance, (badge, ref, ev.name), {"outcome": outcome, "note": "as needed" if ev.note_required else None}

            name = f"advance {ev.name}" + (f" --outcome {outcome}" if outcome else "")
            yield name, goal, ev, {r.value for r in ev.roles}, action


def _other_commands(sop: Sop):
    """Commands on a case that are not SOP events. Roles: from the SOP where it
    names them (custody), else the rule each service enforces."""
    first_open = sop.checklist_open_in[0] if "under_investigation" not in sop.checklist_open_in else "under_investigation"
    scrutiny = sop.scrutiny_states[0]
    returned = next(e.to for e in sop.events if e.new_round)
    in_state = lambda s: (lambda state, report: state == s)

    yield "checklist tick", in_state(first_open), None, {"io", "sho"}, lambda b, r: (checklist.tick, (b, r, "site_plan", "SP-17"), {})
    yield "checklist na", in_state(first_open), None, {"io", "sho"}, lambda b, r: (checklist.not_applicable, (b, r, "site_plan", "no place"), {})
    yield "checklist untick", in_state(first_open), "tick", {"io", "sho"}, lambda b, r: (checklist.untick, (b, r, "fir_copy", "wrong DD"), {})
    yield "case assign", in_state(first_open), None, {"sho", "supervisor"}, lambda b, r: (cases.assign, (b, r, "IO-102"), {})
    yield "deficiency flag", in_state(scrutiny), None, {"prosecutor"}, lambda b, r: (deficiencies.flag, (b, r, "OTHER", "role of accused"), {})
    yield "deficiency resolve", in_state(scrutiny), "flag", {"prosecutor"}, lambda b, r: (deficiencies.resolve, (b, r, "$D"), {})
    yield "deficiency respond", in_state(returned), "returned", {"io", "sho"}, lambda b, r: (deficiencies.respond, (b, r, "$D", "cured"), {})
    yield "custody arrest", in_state(first_open), None, {r.value for r in sop.custody_roles}, lambda b, r: (custody.arrest, (b, r, "Bilal"), {})


def _probe_world(url: str):
    w = World(url).setup()
    w.run(admin.add_officer, "ADM-1", "SP-2", "Officer SP-2", "supervisor", "Karachi South", None)
    return w


@pytest.fixture
def probe_world(db_url):
    w = _probe_world(db_url)
    yield w
    w.dispose()


@pytest.fixture
def sqlite_probe_world(sqlite_url):
    w = _probe_world(sqlite_url)
    yield w
    w.dispose()


def _fresh_case(probe: Probe, sop: Sop, goal, ev, extra) -> str:
    """A new case where the command can be tried."""
    w = probe.w
    if extra == "returned":  # back with the police, with a deficiency to answer
        ret = next(e for e in sop.events if e.new_round)
        ref = probe.new_case(lambda s, r: s in ret.sources)
        probe.ready(ref, ret)
        w.run(cases.advance, "PP-7", ref, ret.name)
        return ref
    ref = probe.new_case(goal, ev)
    if ev is not None:
        probe.ready(ref, ev)
    if extra == "tick":
        w.run(checklist.tick, "IO-101", ref, "fir_copy", "DD 12")
    if extra == "flag":
        w.run(deficiencies.flag, "PP-7", ref, "OTHER", "see note")
    return ref


def _perform(w: World, make, badge: str, ref: str):
    fn, args, kw = make(badge, ref)
    if "$D" in args:  # the case's unresolved deficiency
        dif = next(d["id"] for d in w.run(cases.show, ref)["deficiencies"] if d["status"] != "resolved")
        args = tuple(dif if a == "$D" else a for a in args)
    return w.run(fn, *args, **kw)


def _run_matrix(w: World, sop_name: str) -> dict:
    with w.uow(readonly=True) as uow:
        sop = sop_of(uow, sop_name)
    probe = Probe(w, sop)
    tried = 0
    commands = [(n, g, ev, roles, act, None) for n, g, ev, roles, act in _event_commands(sop)]
    commands += [(n, g, None, roles, act, extra) for n, g, extra, roles, act in _other_commands(sop)]
    assert len(commands) >= len(sop.events) + 8
    for name, goal, ev, roles, make, extra in commands:
        allowed = {b for b, role in ACTORS.items() if role in roles and b in IN_JURISDICTION}
        assert allowed, f"{name}: nobody may do it?"
        ref = _fresh_case(probe, sop, goal, ev, extra)
        for badge in sorted(ACTORS, key=lambda b: b in allowed):  # refused ones first: they change nothing
            if ref is None:
                ref = _fresh_case(probe, sop, goal, ev, extra)
            ok = probe.attempt(ref, badge, partial(_perform, w, make))
            tried += 1
            expected = "allowed" if badge in allowed else "refused"
            assert ok == (badge in allowed), f"{sop.key}: {name} by {badge} ({ACTORS[badge]}): {'allowed' if ok else 'refused'}, expected {expected}"
            if ok:
                ref = None  # the case moved on: the next allowed officer gets a fresh one
    return {"commands": len(commands), "attempts": tried}


def test_every_role_command_and_jurisdiction(probe_world):
    """The default SOP, on every backend."""
    result = _run_matrix(probe_world, "default")
    assert result["attempts"] == result["commands"] * len(ACTORS)


@pytest.mark.parametrize("sop_name", PROVINCIAL)
def test_every_role_command_and_jurisdiction_of_a_provincial_sop(sqlite_probe_world, sop_name):
    """The SOP the test station's province follows (backend-neutral: SQLite only)."""
    result = _run_matrix(sqlite_probe_world, sop_name)
    assert result["attempts"] == result["commands"] * len(ACTORS)


def test_register_needs_an_officer_of_the_station(probe_world):
    """Registering an FIR: only the station's own SHO and IOs."""
    allowed = {"SHO-1", "IO-101", "IO-102"}
    for n, badge in enumerate(sorted(ACTORS), start=1):
        try:
            probe_world.run(cases.register, badge, "CLN", 500 + n, 2024, "379", "2024-03-01T22:15", "2024-03-02T01:10", "Asma", [], [])
            ok = True
        except Refused as err:
            assert all(any(p in r for p in ROLE_OR_PLACE + ("FIRs of CLN are registered there",)) for r in err.reasons), err.reasons
            ok = False
        assert ok == (badge in allowed), badge
