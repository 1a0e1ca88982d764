"""A hypothesis state machine over the service layer, on a real database.

Rules register cases, assign IOs, change the checklist, flag, answer and
resolve deficiencies, and fire every SOP event as every officer (the right
one, someone from another station or district, an admin, a supervisor with
--override). A small reference model in plain dicts predicts, from the data
of the case's SOP alone (its province's, else the default: from/to lists,
roles, checklist requirements, conditions), whether each action succeeds, is
refused or is bad input; the services must agree.
After every step the stored cases must be consistent with the model, with
their audit trail and with a replay of it.

Runs on SQLite always and on PostgreSQL when CASECHAIN_TEST_PG_URL is set
(the ``world`` fixture). Examples share one World and never share a case:
each registers fresh FIR numbers.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import func, select

from casechain.domain.audit import replay
from casechain.domain.errors import BadInput, Refused
from casechain.domain.sop import Condition, Sop
from casechain.services import admin, audit, cases, checklist, deficiencies
from casechain.services.common import sop_of
from casechain.storage.tables import AuditEvent, Case, ChecklistEntry, Deficiency

SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

SECTIONS = ["302,34", "302(b),34", "379", "376", "324,34", "392", "489-F"]
FLAGS = [(), (), ("sgbv",), ("juvenile",), ("sgbv", "juvenile"), ("terrorism",)]
OVERRIDE = "trial date fixed by the court; papers follow"
NOTE = "order of the court dated 20.03.2024"
BOGUS_ITEM = "ghost_item"
BOGUS_DEFICIENCY = 987654

FIR_NUMBERS = itertools.count(1)

OK, REFUSED, BAD = "ok", "refused", "bad input"


def outcome_of(exc: BaseException | None) -> str:
    if exc is None:
        return OK
    if isinstance(exc, Refused):
        return REFUSED
    if isinstance(exc, BadInput):
        return BAD
    raise exc


# -- the reference model (plain data, no casechain logic) ---------------------
@dataclass
class Officer:
    badge: str
    role: str
    district: str
    station: str | None


@dataclass
class ModelCase:
    ref: str
    station: str
    district: str
    sections: tuple
    flags: frozenset
    sop: Sop
    state: str
    io: str | None = None
    report: str | None = None
    round: int = 0
    version: int = 1
    checklist: dict = field(default_factory=dict)  # item -> "done" | "na"
    deficiencies: dict = field(default_factory=dict)  # id -> "open" | "answered" | "resolved"

    def open_deficiencies(self) -> int:
        return sum(1 for s in self.deficiencies.values() if s != "resolved")

    def unanswered(self) -> int:
        return sum(1 for s in self.deficiencies.values() if s == "open")


def base(section: str) -> str:
    return section.split("(")[0].strip().upper()


def cond_ok(cond, case: ModelCase) -> bool:
    """The SOP condition, evaluated on the model by this test's own reading."""
    if cond.sections_any and not {base(s) for s in cond.sections_any} & {base(s) for s in case.sections}:
        return False
    if cond.sections_all_in and not {s.upper() for s in case.sections} <= {s.strip().upper() for s in cond.sections_all_in}:
        return False
    if cond.flags_any and not set(cond.flags_any) & case.flags:
        return False
    if set(cond.flags_none) & case.flags:
        return False
    if cond.reports and case.report not in cond.reports:
        return False
    if cond.io_assigned is True and not case.io:
        return False
    return not (cond.io_assigned is False and case.io)


MODELLED_CONDITION_PARTS = {"sections_any", "sections_all_in", "flags_any", "flags_none", "reports", "io_assigned"}


def in_jurisdiction(o: Officer, case: ModelCase) -> bool:
    if o.role == "admin":
        return False
    if o.role in ("io", "sho"):
        return o.station == case.station and (o.role != "io" or case.io == o.badge)
    return o.district == case.district


class CaseMachine(RuleBasedStateMachine):
    world = None  # set by the test: a World shared by all examples
    registered: ClassVar[list] = []  # set by the test: refs registered by all examples

    cases = Bundle("cases")

    def __init__(self):
        super().__init__()
        w = self.world
        with w.uow(readonly=True) as uow:
            self.officers = {o["badge"]: Officer(o["badge"], o["role"], o["district"], o["station"]) for o in admin.list_officers(uow)}
            self.stations = {s["code"]: s["district"] for s in admin.list_stations(uow)}
            self.provinces = {s["code"]: s["province"] for s in admin.list_stations(uow)}
        self.badges = sorted(self.officers)
        self.model: dict[str, ModelCase] = {}
        self.touched: set[str] = set()  # cases acted on since the last invariant check

    # -- database helpers --------------------------------------------------
    def run(self, action, *args, **kwargs):
        """Run a service; return (outcome, result or exception)."""
        try:
            return OK, self.world.run(action, *args, **kwargs)
        except (Refused, BadInput) as err:
            return outcome_of(err), err

    def read(self, action, *args, **kwargs):
        with self.world.uow(readonly=True) as uow:
            return action(uow, *args, **kwargs)

    def snapshot(self, ref: str, verify: bool = False, events: bool = True) -> dict:
        """The stored case, straight from the tables, in one read-only transaction."""
        with self.world.uow(readonly=True) as uow:
            case = uow.case(ref)
            entries = uow.session.exec(select(ChecklistEntry).where(ChecklistEntry.case_id == case.id)).all()
            defs = uow.session.exec(select(Deficiency).where(Deficiency.case_id == case.id)).all()
            out = {
                "state": case.state,
                "version": case.version,
                "round": case.round,
                "io": case.io,
                "report": case.report,
                "head_hash": case.head_hash,
                "checklist": {e.item: (e.status, e.detail) for e in entries},
                "deficiencies": {d.id: d.status for d in defs},
            }
            if events:
                out["events"] = [(e.seq, e.action, e.actor, json.loads(e.payload)) for e in uow.events(case.id)]
                out["n_events"] = len(out["events"])
            else:
                out["n_events"] = uow.session.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case.id)).one()
            if verify:
                out["verified"] = audit.verify(uow, ref)
            return out

    def who(self, choice: str, right: list[str]) -> Officer:
        """``choice`` is a badge, or 'right:N' for the N-th officer who should be able to act."""
        if choice.startswith("right:"):
            pool = right or self.badges
            return self.officers[pool[int(choice[6:]) % len(pool)]]
        return self.officers[choice]

    def check(self, what: str, predicted: str, got: str, result, case: ModelCase) -> None:
        self.touched.add(case.ref)
        assert got == predicted, f"{what}: predicted {predicted}, got {got}: {result}"
        if got != OK:
            # A refused action changed nothing: the model did not move, nor may
            # the case row (the invariant compares the rest after the step).
            with self.world.uow(readonly=True) as uow:
                row = uow.session.exec(select(Case.state, Case.version, Case.round, Case.io, Case.report).where(Case.ref == case.ref)).one()
            assert tuple(row) == (case.state, case.version, case.round, case.io, case.report), f"{what} was refused but changed the case"

    def assert_matches_model(self, case: ModelCase, view: dict) -> None:
        assert view["state"] in {s.name for s in case.sop.states}
        assert view["state"] == case.state
        assert view["version"] == case.version == view["n_events"]
        assert (view["io"], view["report"], view["round"]) == (case.io, case.report, case.round)
        assert {k: v[0] for k, v in view["checklist"].items()} == case.checklist
        assert view["deficiencies"] == case.deficiencies

    # -- rules -------------------------------------------------------------
    def _register(self, station: str, sections: str, flags, registrar: str):
        actor = self.who(registrar, [b for b, o in self.officers.items() if o.station == station and o.role in ("sho", "io")])
        fir_no = next(FIR_NUMBERS)
        predicted = OK if actor.role in ("sho", "io") and actor.station == station else REFUSED
        got, result = self.run(
            cases.register, actor.badge, station, fir_no, 2024, sections, "2024-03-01T22:15", "2024-03-02T01:10", "Muhammad Aslam", ["Bilal"], list(flags)
        )
        assert got == predicted, f"register by {actor.badge} at {station}: predicted {predicted}, got {got}: {result}"
        if got != OK:
            return multiple()
        ref = result["ref"]
        assert ref == f"{station}/{fir_no}/2024"
        # The case is pinned to the SOP it was registered under (its province's, or the default).
        name, _, version = result["sop"].partition("@")
        with self.world.uow(readonly=True) as uow:
            sop = sop_of(uow, name, int(version))
        assert sop.province is None or sop.province.casefold() == (self.provinces[station] or "").casefold()
        assert result["state"] == sop.initial
        secs = tuple(s.strip() for s in sections.split(","))
        self.model[ref] = ModelCase(ref, station, self.stations[station], secs, frozenset(flags), sop, sop.initial)
        self.touched.add(ref)
        self.registered.append(ref)
        return ref

    @initialize(target=cases, station=st.sampled_from(["CLN", "CLN", "MDL", "KHI"]), sections=st.sampled_from(SECTIONS), flags=st.sampled_from(FLAGS))
    def first_case(self, station, sections, flags):
        return self._register(station, sections, flags, "right:0")

    @precondition(lambda self: len(self.model) < 3)
    @rule(
        target=cases,
        station=st.sampled_from(["CLN", "CLN", "MDL", "KHI"]),
        sections=st.sampled_from(SECTIONS),
        flags=st.sampled_from(FLAGS),
        registrar=st.sampled_from(["right:0", "right:1", "SHO-1", "SHO-2", "IO-301", "PP-7", "ADM-1"]),
    )
    def register(self, station, sections, flags, registrar):
        return self._register(station, sections, flags, registrar)

    @rule(ref=cases, who=st.sampled_from(["right:0", "right:0", "SP-1", "SHO-3", "IO-101", "PP-7", "ADM-1"]), pick=st.integers(0, 9))
    def assign(self, ref, who, pick):
        case = self.model[ref]
        actor = self.who(who, self._shos(case))
        ios = sorted(b for b, o in self.officers.items() if o.role == "io")
        local = [b for b in ios if self.officers[b].station == case.station and b != case.io]
        io = local[pick % len(local)] if pick < 6 and local else ios[pick % len(ios)]
        self._assign(case, actor, io)

    def _shos(self, case: ModelCase) -> list[str]:
        return [b for b, o in self.officers.items() if o.role == "sho" and o.station == case.station]

    def _assign(self, case: ModelCase, actor: Officer, io: str) -> str:
        ok = (
            actor.role in ("sho", "supervisor")
            and in_jurisdiction(actor, case)
            and not case.sop.state(case.state).terminal
            and self.officers[io].role == "io"
            and self.officers[io].station == case.station
            and io != case.io
        )
        got, result = self.run(cases.assign, actor.badge, case.ref, io)
        self.check(f"assign {io} by {actor.badge}", OK if ok else REFUSED, got, result, case)
        if got == OK:
            case.io = io
            case.version += 1
        return got

    def _checklist(self, kind: str, actor: Officer, case: ModelCase, item_id: str):
        item = case.sop.item(item_id)
        if actor.role not in ("io", "sho") or not in_jurisdiction(actor, case):
            predicted = REFUSED
        elif item is None:
            predicted = BAD
        elif (
            case.state not in case.sop.checklist_open_in
            or not cond_ok(item.applies_when, case)
            or (kind == "na" and not item.na_allowed)
            or (kind == "untick" and item_id not in case.checklist)
        ):
            predicted = REFUSED
        else:
            predicted = OK
        action = {"tick": checklist.tick, "na": checklist.not_applicable, "untick": checklist.untick}[kind]
        detail = {"tick": f"memo {item_id}/24", "na": "nothing of the kind in this case", "untick": "wrong memo number"}[kind]
        got, result = self.run(action, actor.badge, case.ref, item_id, detail)
        self.check(f"{kind} {item_id} by {actor.badge}", predicted, got, result, case)
        if got == OK:
            case.version += 1
            if kind == "untick":
                del case.checklist[item_id]
            else:
                case.checklist[item_id] = "done" if kind == "tick" else "na"
        return got

    def _police(self, case: ModelCase) -> list[str]:
        return [b for b, o in self.officers.items() if o.role in ("io", "sho") and in_jurisdiction(o, case)]

    @rule(
        ref=cases,
        kind=st.sampled_from(["tick", "tick", "na", "untick"]),
        who=st.sampled_from(["right:0", "right:1", "right:0", "IO-102", "SHO-3", "PP-7", "ADM-1"]),
        pick=st.integers(0, 99),
    )
    def change_checklist(self, ref, kind, who, pick):
        case = self.model[ref]
        items = [i.id for i in case.sop.checklist] + [BOGUS_ITEM]
        self._checklist(kind, self.who(who, self._police(case)), case, items[pick % len(items)])

    @rule(ref=cases, pick=st.integers(0, 99), use_na=st.booleans(), who=st.sampled_from(["right:0", "right:1"]))
    def prepare_for_next_move(self, ref, pick, use_na, who):
        """The police tick every applicable item a move from the current state needs."""
        case = self.model[ref]
        needing = [ev for ev in case.sop.events if case.state in ev.sources and ev.requires]
        if needing:
            self._prepare(case, needing[pick % len(needing)], self.who(who, self._police(case)), use_na)

    def _prepare(self, case: ModelCase, ev, actor: Officer, use_na: bool) -> None:
        for item_id in ev.requires:
            item = case.sop.item(item_id)
            if item_id in case.checklist or not cond_ok(item.applies_when, case):
                continue
            kind = "na" if use_na and item.na_allowed else "tick"
            if self._checklist(kind, actor, case, item_id) != OK:
                break

    def _prosecutors(self, case: ModelCase) -> list[str]:
        return [b for b, o in self.officers.items() if o.role == "prosecutor" and in_jurisdiction(o, case)]

    @rule(
        ref=cases,
        who=st.sampled_from(["right:0", "right:0", "PP-9", "PP-7", "SP-1", "SHO-1", "ADM-1"]),
        pick=st.integers(0, 99),
    )
    def flag(self, ref, who, pick):
        case = self.model[ref]
        self._flag(case, self.who(who, self._prosecutors(case)), case.sop.deficiency_codes[pick % len(case.sop.deficiency_codes)])

    def _flag(self, case: ModelCase, actor: Officer, code) -> str:
        ok = actor.role == "prosecutor" and in_jurisdiction(actor, case) and case.state in case.sop.scrutiny_states
        got, result = self.run(deficiencies.flag, actor.badge, case.ref, code.code, "see the scrutiny note")
        self.check(f"flag {code.code} by {actor.badge}", OK if ok else REFUSED, got, result, case)
        if got == OK:
            case.version += 1
            case.deficiencies[result["id"]] = "open"
            reopened = code.item if case.checklist.pop(code.item, None) else None
            assert result["reopened"] == reopened
        return got

    def _deficiency_id(self, case: ModelCase, pick: int) -> int:
        ids = sorted(case.deficiencies)
        if not ids or pick == 0:
            return BOGUS_DEFICIENCY
        return ids[pick % len(ids)]

    @rule(ref=cases, who=st.sampled_from(["right:0", "right:1", "right:0", "IO-102", "SHO-2", "PP-7"]), pick=st.integers(0, 20))
    def respond(self, ref, who, pick):
        case = self.model[ref]
        self._respond(case, self.who(who, self._police(case)), self._deficiency_id(case, pick))

    def _respond(self, case: ModelCase, actor: Officer, dif: int) -> str:
        if actor.role not in ("io", "sho") or not in_jurisdiction(actor, case):
            predicted = REFUSED
        elif dif not in case.deficiencies:
            predicted = BAD
        elif case.deficiencies[dif] == "resolved" or case.state not in case.sop.checklist_open_in:
            predicted = REFUSED
        else:
            predicted = OK
        got, result = self.run(deficiencies.respond, actor.badge, case.ref, dif, "cured: statement recorded", "memo 7/24")
        self.check(f"respond {dif} by {actor.badge}", predicted, got, result, case)
        if got == OK:
            case.version += 1
            case.deficiencies[dif] = "answered"
        return got

    @rule(ref=cases, who=st.sampled_from(["right:0", "right:0", "PP-9", "SP-1", "SHO-1"]), pick=st.integers(0, 20))
    def resolve(self, ref, who, pick):
        case = self.model[ref]
        self._resolve(case, self.who(who, self._prosecutors(case)), self._deficiency_id(case, pick))

    def _resolve(self, case: ModelCase, actor: Officer, dif: int) -> str:
        if actor.role != "prosecutor" or not in_jurisdiction(actor, case):
            predicted = REFUSED
        elif dif not in case.deficiencies:
            predicted = BAD
        elif case.deficiencies[dif] == "resolved" or case.state not in case.sop.scrutiny_states:
            predicted = REFUSED
        else:
            predicted = OK
        got, result = self.run(deficiencies.resolve, actor.badge, case.ref, dif)
        self.check(f"resolve {dif} by {actor.badge}", predicted, got, result, case)
        if got == OK:
            case.version += 1
            case.deficiencies[dif] = "resolved"
        return got

    # -- moves -------------------------------------------------------------
    def _predict_move(self, actor: Officer, case: ModelCase, ev, outcome, override, note):
        """(predicted outcome, destination, waived items) from the SOP's data."""
        if (ev.outcomes and outcome not in ev.outcomes) or (not ev.outcomes and outcome is not None):
            return BAD, None, []
        may_override = override is not None and actor.role in [r.value for r in ev.override_roles]
        roles = [r.value for r in ev.roles]
        hard = [
            case.state not in ev.sources,
            override is not None and not may_override,
            actor.role not in roles and not may_override,
            not in_jurisdiction(actor, case),
            not cond_ok(ev.when, case),
            outcome is not None and not cond_ok(ev.outcomes[outcome].when, case),
            ev.deficiencies == "some_open" and case.open_deficiencies() == 0,
            ev.deficiencies == "all_answered" and case.unanswered() > 0,
        ]
        unmet = [i for i in ev.requires if cond_ok(case.sop.item(i).applies_when, case) and i not in case.checklist]
        if ev.deficiencies == "none_open" and case.open_deficiencies():
            unmet.append("open_deficiencies")
        if any(hard) or (unmet and not may_override):
            return REFUSED, None, []
        if ev.note_required and not note:
            return BAD, None, []
        dest = ev.outcomes[outcome].to if outcome else ev.to
        return OK, dest, (unmet if may_override else [])

    def _advance(self, case: ModelCase, ev, outcome, actor: Officer, override, note):
        predicted, dest, waived = self._predict_move(actor, case, ev, outcome, override, note)
        if override is None and outcome_ok(ev, outcome):
            # ``case events`` must agree with the move (it ignores --note).
            listing = self.read(cases.events, actor.badge, case.ref)
            opt = next(o for o in listing["events"] if o["event"] == ev.name and o["outcome"] == outcome)
            would = predicted == OK or (predicted == BAD and ev.note_required and not note)
            assert opt["allowed"] == would, (ev.name, outcome, actor.badge, opt)
            assert opt["allowed"] == (not opt["blocked_by"])
        source, ticked, old_round, old_version = case.state, dict(case.checklist), case.round, case.version
        got, result = self.run(cases.advance, actor.badge, case.ref, ev.name, note=note, override=override, outcome=outcome)
        self.check(f"{ev.name}/{outcome} by {actor.badge} override={override is not None}", predicted, got, result, case)
        if got != OK:
            return
        # A success happened only with an allowed role (or a permitted
        # override), from a listed state, with every required applicable item
        # ticked or N/A (the model equals the stored case before the move).
        overriding = override is not None and actor.role in [r.value for r in ev.override_roles]
        assert actor.role in [r.value for r in ev.roles] or overriding
        missing = [i for i in ev.requires if i not in ticked and cond_ok(case.sop.item(i).applies_when, case)]
        assert not missing or overriding, missing
        assert source in ev.sources
        assert (result["from"], result["to"]) == (source, dest)
        assert result["waived"] == waived
        case.state = dest
        case.version += 1
        if ev.report:
            case.report = ev.report
        if ev.new_round:
            case.round += 1
        after = self.snapshot(case.ref)
        self.assert_matches_model(case, after)
        assert after["round"] == old_round + (1 if ev.new_round else 0)
        assert after["version"] == old_version + 1
        _, action, by, payload = after["events"][-1]
        assert (action, by) == ("advance", actor.badge)
        assert (payload["event"], payload["from"], payload["to"]) == (ev.name, source, dest)
        assert payload.get("override") == override
        assert payload.get("waived", []) == waived
        assert payload.get("outcome") == outcome

    @rule(
        ref=cases,
        pick=st.integers(0, 99),
        mode=st.sampled_from(["right", "right", "right", "anyone", "anyone", "override"]),
        who=st.integers(0, 99),  # any officer of the World, admin included
        with_override=st.sampled_from([False, False, False, True]),
        with_note=st.sampled_from([True, True, False]),
        bad_outcome=st.sampled_from([False] * 9 + [True]),
    )
    def advance_from_here(self, ref, pick, mode, who, with_override, with_note, bad_outcome):
        """Fire one of the moves the SOP lists from the case's current state."""
        case = self.model[ref]
        who = self.badges[who % len(self.badges)]
        here = [(ev, o) for ev, o in moves(case.sop) if case.state in ev.sources]
        if not here:  # terminal: try anything
            here = moves(case.sop)
        ev, outcome = here[pick % len(here)]
        if bad_outcome:
            outcome = None if ev.outcomes else "convicted"
        override = None
        right = self._right_movers(case, ev)
        if mode == "right":
            actor = self.officers[right[pick % len(right)]] if right else self.officers[who]
        elif mode == "override":
            # Mostly a supervisor; sometimes an officer who may fire the move
            # but not override it, or a supervisor of another district.
            bosses = [b for b, o in self.officers.items() if o.role == "supervisor"]
            pool = bosses * 2 + right + ["PP-9"]
            actor = self.officers[pool[pick % len(pool)]]
            override = OVERRIDE
        else:
            actor = self.officers[who]
            override = OVERRIDE if with_override else None
        self._advance(case, ev, outcome, actor, override, NOTE if with_note else None)

    @rule(
        ref=cases,
        pick=st.integers(0, 999),
        who=st.integers(0, 99),  # any officer of the World, admin included
        with_override=st.sampled_from([False, False, True]),
    )
    def advance_anything(self, ref, pick, who, with_override):
        """Any SOP event (and outcome) in any state, as any officer."""
        case = self.model[ref]
        every = moves(case.sop)
        ev, outcome = every[pick % len(every)]
        actor = self.officers[self.badges[who % len(self.badges)]]
        self._advance(case, ev, outcome, actor, OVERRIDE if with_override else None, NOTE)

    # -- the way cases normally go -------------------------------------------
    def _right_movers(self, case: ModelCase, ev) -> list[str]:
        return [b for b, o in self.officers.items() if o.role in [r.value for r in ev.roles] and in_jurisdiction(o, case)]

    def _drive_once(self, ref: str, pick: int, use_na: bool) -> None:
        """Take the case one natural step further, with the right officers
        doing what the next move needs first (every call still predicted)."""
        case = self.model[ref]
        here = [(ev, o) for ev, o in moves(case.sop) if case.state in ev.sources]
        if not here:
            return
        ev, outcome = here[pick % len(here)]
        if ev.outcomes:  # a verdict the case's report allows, when there is one
            fitting = [o for o in ev.outcomes if cond_ok(ev.outcomes[o].when, case)]
            outcome = fitting[pick % len(fitting)] if fitting else outcome
        police = self._police(case)
        prosecutors = self._prosecutors(case)
        if ev.when.io_assigned and not case.io and self._shos(case):
            local = sorted(b for b, o in self.officers.items() if o.role == "io" and o.station == case.station)
            if local:
                self._assign(case, self.officers[self._shos(case)[0]], local[pick % len(local)])
                police = self._police(case)
        if ev.requires and police:
            self._prepare(case, ev, self.officers[police[pick % len(police)]], use_na)
        if ev.deficiencies == "some_open" and not case.open_deficiencies() and prosecutors:
            code = case.sop.deficiency_codes[pick % len(case.sop.deficiency_codes)]
            self._flag(case, self.officers[prosecutors[0]], code)
        if ev.deficiencies == "all_answered" and police:
            for dif, status in sorted(case.deficiencies.items()):
                if status == "open":
                    self._respond(case, self.officers[police[-1]], dif)
        if ev.deficiencies == "none_open" and prosecutors:
            for dif, status in sorted(case.deficiencies.items()):
                if status == "answered":
                    self._resolve(case, self.officers[prosecutors[0]], dif)
        right = self._right_movers(case, ev)
        if right:
            self._advance(case, ev, outcome, self.officers[right[pick % len(right)]], None, NOTE)

    @rule(ref=cases, picks=st.lists(st.integers(0, 99), min_size=1, max_size=4), use_na=st.booleans())
    def drive(self, ref, picks, use_na):
        for pick in picks:
            self._drive_once(ref, pick, use_na)

    @rule(ref=cases, picks=st.lists(st.integers(0, 99), min_size=1, max_size=4), use_na=st.booleans())
    def drive_more(self, ref, picks, use_na):
        for pick in picks:
            self._drive_once(ref, pick, use_na)

    # -- invariants --------------------------------------------------------
    @invariant()
    def acted_on_cases_match_model_and_audit_trail(self):
        for ref in sorted(self.touched):
            self.check_case(ref)
        self.touched.clear()

    def teardown(self):
        # Cases not acted on in the last step were checked when they were;
        # check every case of the example once more at the end.
        for ref in self.model:
            self.check_case(ref)
            # ``case show`` agrees with the tables.
            view, stored = self.read(cases.show, ref), self.snapshot(ref, events=False)
            assert (view["state"], view["version"], view["round"], view["io"], view["report"]) == (
                stored["state"],
                stored["version"],
                stored["round"],
                stored["io"],
                stored["report"],
            )
            assert {r["item"]: (r["status"], r["evidence"]) for r in view["checklist"] if r["status"] != "open"} == stored["checklist"]
            assert {d["id"]: d["status"] for d in view["deficiencies"]} == stored["deficiencies"]

    def check_case(self, ref: str) -> None:
        case = self.model[ref]
        view = self.snapshot(ref, verify=True)
        self.assert_matches_model(case, view)
        hist = view["events"]
        assert [h[0] for h in hist] == list(range(1, len(hist) + 1))
        # Every return to the police started a new round, and nothing else did.
        new_round = {e.name for e in case.sop.events if e.new_round}
        moves = [p for _, action, _, p in hist if action == "advance"]
        returns = [p for p in moves if p["event"] in new_round]
        assert [p["round"] for p in returns] == list(range(1, len(returns) + 1))
        assert view["round"] == len(returns)
        assert all("round" not in p for p in moves if p["event"] not in new_round)
        # Nothing is in court with an open deficiency unless an override put it there.
        if view["state"] == "in_court" and any(s != "resolved" for s in view["deficiencies"].values()):
            into_court = [p for p in moves if p["to"] == "in_court"]
            assert into_court and "override" in into_court[-1]
            assert "open_deficiencies" in into_court[-1]["waived"]
        # The chain verifies, and replaying the log rebuilds the case.
        assert view["verified"] == {"cases": 1, "events": case.version}
        snap = replay((action, payload) for _, action, _, payload in hist)
        assert (snap.ref, snap.state, snap.version, snap.io, snap.report, snap.round) == (
            ref,
            view["state"],
            view["version"],
            view["io"],
            view["report"],
            view["round"],
        )
        assert snap.checklist == view["checklist"]
        assert (snap.sop, snap.station, snap.sections, frozenset(snap.flags)) == (case.sop.key, case.station, case.sections, case.flags)


def moves(sop: Sop) -> list:
    """Every (event, outcome) of the SOP."""
    return [(ev, outcome) for ev in sop.events for outcome, _ in ev.destinations()]


def outcome_ok(ev, outcome) -> bool:
    return (outcome in ev.outcomes) if ev.outcomes else outcome is None


def test_reference_model_knows_every_condition_part():
    assert set(Condition.model_fields) == MODELLED_CONDITION_PARTS


@pytest.mark.slow
def test_case_lifecycle_state_machine(world):
    registered: list[str] = []
    machine = type("CaseMachineOnThisBackend", (CaseMachine,), {"world": world, "registered": registered})
    run_state_machine_as_test(machine, settings=SETTINGS)
    # The whole database, every case of every example, still verifies.
    assert registered
    assert world.run(audit.verify)["cases"] == len(registered)
