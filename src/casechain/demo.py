"""``casechain demo``: a fresh database with realistic synthetic cases.

Stations in Punjab, Sindh, Balochistan and Khyber Pakhtunkhwa, their officers,
and N cases. Stations differ in diligence, so compliance varies between them.
The same seed gives the same data.

Each case follows one *script* (:func:`_drive`: which actions, by whom, when)
written against an executor with one method per user action. Two executors
carry it out:

- :class:`ServiceActions` calls the real services, one unit of work per
  action (nothing is written behind their back): the reference path, used
  for small N;
- :class:`BulkActions` (large N) keeps the case in memory and decides every
  move with the same domain rules the services use (the SOP workflow, the
  payload builders of :mod:`casechain.domain.events`, the hash chain of
  :mod:`casechain.domain.audit`), folds each finished case's audit trail
  into its clocks and report figures (``domain.tracking.fold``, the fold of
  ``services.clocks.rebuild_all`` and of the per-action hook), and hands
  whole cases to a writer that inserts rows in batches.

Both produce the same database for the same seed (tests/test_demo_bulk.py
compares table dumps), and ``audit verify`` passes on either.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from casechain.domain.errors import CasechainError
from casechain.domain.timeutil import LOCAL, UTC

STATIONS = [
    # code, name, district, diligence (0..1: how complete and prompt its files are)
    ("CLN", "PS Civil Lines", "Lahore", 0.85),
    ("MDL", "PS Model Town", "Lahore", 0.6),
    ("RWP", "PS Saddar Rawalpindi", "Rawalpindi", 0.7),
    ("KHS", "PS Artillery Maidan", "Karachi South", 0.55),
    ("HYD", "PS Market Hyderabad", "Hyderabad", 0.65),
    ("JCB", "PS City Jacobabad", "Jacobabad", 0.45),
    ("QTA", "PS City Quetta", "Quetta East", 0.6),
    ("TBT", "PS Turbat", "Kech", 0.5),
    ("PSH", "PS Gulbahar", "Peshawar", 0.7),
    ("MRD", "PS Sheikh Maltoon", "Mardan", 0.6),
]

# (sections, weight, flags): a mix like a district register, theft and hurt first.
OFFENCES = [
    ("379", 22, ()),
    ("380", 8, ()),
    ("381-A", 8, ()),
    ("392", 10, ()),
    ("337-A(ii),34", 8, ()),
    ("337-F(iii)", 6, ()),
    ("324,34", 6, ()),
    ("302,34", 6, ()),
    ("489-F", 7, ()),
    ("420,468,471", 5, ()),
    ("376", 3, ("sgbv",)),
    ("354", 3, ("sgbv",)),
    ("363", 3, ()),
    ("506(ii)", 5, ()),
]

FIRST = ["Muhammad", "Ali", "Ahmed", "Bilal", "Imran", "Asif", "Tariq", "Khalid", "Zahid", "Naveed", "Sajid", "Farooq",
         "Ayesha", "Fatima", "Sana", "Nasreen", "Rukhsana", "Shazia", "Gul", "Abdul", "Ghulam", "Noor", "Sher", "Wali"]
LAST = ["Khan", "Aslam", "Hussain", "Shah", "Baloch", "Memon", "Butt", "Qureshi", "Jatoi", "Kakar", "Afridi", "Yousafzai",
        "Chaudhry", "Abbasi", "Soomro", "Mengal", "Bugti", "Marwat", "Akhtar", "Iqbal"]

CHALLAN_EVIDENCE = {
    "fir_copy": "FIR copy with DD No. {n}",
    "site_plan": "Site plan SP-{n}",
    "statements_161": "s.161 statements of {k} witnesses",
    "recovery_memos": "Recovery memo RM-{n}, attested by 2 witnesses",
    "medico_legal": "MLC {n}/{y} DHQ Hospital",
    "post_mortem": "PMR {n}/{y}",
    "forensic_report": "Forensic receipt FSA-{n}",
    "dna_report": "DNA report FSA-D-{n}",
    "age_determination": "Birth certificate NADRA {n}",
    "arrest_status": "Accused arrested; remand order {n}",
    "witness_list": "List of {k} witnesses",
    "case_property": "Malkhana register No.19 entry {n}",
    "case_diary": "Zimni No. {k}",
    "interim_reasons": "Forensic report awaited",
    "cancellation_grounds": "Civil dispute over land; statements of both parties",
    "untraced_efforts": "Raids on {k} locations; informers engaged",
}


BULK_FROM = 2_000  # `casechain demo` builds more cases than this with the bulk path


@dataclass
class DemoResult:
    cases: int
    stations: int
    officers: int
    actions: int
    refused: int
    bulk: bool = False


class _Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def build(
    engine, n_cases: int = 300, seed: int = 1, end: datetime | None = None, progress=None,
    bulk: bool | None = None, phase=None, batch: int = 2_000,
) -> DemoResult:  # fmt: skip
    """Fill an empty database. ``progress(i)`` after case i (every few hundred
    cases in bulk); ``phase(text)`` when the bulk path moves on to building
    indexes. ``bulk``: None chooses the bulk path above :data:`BULK_FROM` cases."""
    from casechain.services import admin
    from casechain.storage.uow import UnitOfWork

    rng = random.Random(seed)
    # The cases end "today" (CASECHAIN_NOW or the clock, at the start of the
    # day), so that reports run afterwards see live clocks; the same seed on
    # the same day gives the same data.
    if end is None:
        from casechain.services.common import system_now

        end = system_now().astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    start = end - timedelta(days=120)
    clock = _Clock(start - timedelta(days=1))
    if bulk is None:
        bulk = n_cases > BULK_FROM

    def run(action, *args, **kwargs):
        with UnitOfWork(engine, now=clock) as uow:
            return action(uow, *args, **kwargs)

    run(admin.init, "ADM-1", "System Administrator")
    setup_actions = 1
    districts = sorted({s[2] for s in STATIONS})
    officers = 1
    for code, name, district, _ in STATIONS:
        run(admin.add_station, "ADM-1", code, name, district)
        run(admin.add_officer, "ADM-1", f"SHO-{code}", _name(rng, "Inspector"), "sho", district, code)
        for k in (1, 2, 3):
            run(admin.add_officer, "ADM-1", f"IO-{code}-{k}", _name(rng, "SI"), "io", district, code)
        officers += 4
        setup_actions += 5
    for i, district in enumerate(districts, start=1):
        run(admin.add_officer, "ADM-1", f"PP-{i}", _name(rng, "ADPP"), "prosecutor", district, None)
        run(admin.add_officer, "ADM-1", f"SP-{i}", _name(rng, "SP"), "supervisor", district, None)
        officers += 2
        setup_actions += 2
    prosecutor = {d: f"PP-{i}" for i, d in enumerate(districts, start=1)}

    ex = BulkActions(engine, clock, batch) if bulk else ServiceActions(engine, clock)
    every = 500 if bulk else 1
    weights = [w for _, w, _ in OFFENCES]
    fir_numbers: dict[tuple[str, int], int] = {}
    span = (end - start).total_seconds()
    for i in range(n_cases):
        code, _, district, diligence = rng.choice(STATIONS)
        sections, _, flags = rng.choices(OFFENCES, weights)[0]
        flags = list(flags) + (["juvenile"] if rng.random() < 0.03 else [])
        reported = start + timedelta(seconds=span * i / max(1, n_cases)) + timedelta(minutes=rng.randint(0, 600))
        occurred = reported - timedelta(hours=rng.choice([1, 2, 3, 6, 12, 30]))
        year = reported.astimezone(LOCAL).year
        fir_numbers[(code, year)] = fir_numbers.get((code, year), 0) + rng.randint(1, 4)
        clock.now = reported + timedelta(minutes=20)
        accused = [_plain_name(rng) for _ in range(rng.choice([1, 1, 2, 3]))] if rng.random() < 0.8 else []
        ref = ex.register(f"SHO-{code}", code, fir_numbers[(code, year)], year, sections, occurred, reported, _plain_name(rng), accused, flags)
        _drive(rng, ex, clock, ref, code, prosecutor[district], diligence, end)
        ex.case_done()
        if progress and ((i + 1) % every == 0 or i + 1 == n_cases):
            progress(i + 1)
    ex.finish(phase)
    return DemoResult(n_cases, len(STATIONS), officers, setup_actions + ex.actions, ex.refused, bulk)


def _drive(rng, ex, clock, ref, code, pp, diligence, end):
    """Take one case as far as its station's diligence and the calendar allow.

    The script of a case: ``ex`` carries out each action (the services, or the
    bulk executor); every random draw is made here, so both give the same case."""
    sho, io = f"SHO-{code}", f"IO-{code}-{rng.randint(1, 3)}"

    def later(hours_lo, hours_hi) -> bool:
        clock.now = clock.now + timedelta(hours=rng.uniform(hours_lo, hours_hi))
        return clock.now < end

    def open_challan_items():
        return [r["item"] for r in ex.checklist(ref) if r["status"] == "open" and "submit_challan" in r["required_by"]]

    if rng.random() < 0.05 or not later(1, 48):
        return
    ex.assign(sho, ref, io)
    ex.advance(io, ref, "start_investigation")
    challan_items = [r for r in ex.checklist(ref) if "submit_challan" in r["required_by"]]
    # Slow stations take longer: the s.173 14-day limit is missed more often there.
    for row in challan_items:
        if not later(1, 30 / diligence):
            return
        if rng.random() > 0.6 + 0.4 * diligence:
            continue  # forgotten: the checklist will block the challan until it is done
        if row["na_allowed"] and rng.random() < 0.3:
            ex.not_applicable(io, ref, row["item"], "not applicable in this case")
        else:
            ex.tick(io, ref, row["item"], _evidence(rng, row["item"]))
    if "379" in ex.sections(ref) and rng.random() < 0.25:
        for item in ("fir_copy", "case_diary", "untraced_efforts"):
            ex.tick(io, ref, item, _evidence(rng, item))
        ex.advance(sho, ref, "mark_untraced", attempt=True)
        return
    if not ex.advance(io, ref, "submit_challan", attempt=True):
        # Refused for missing items: the IO completes the file, late.
        if not later(24, 24 * 10 / diligence):
            return
        for item in open_challan_items():
            ex.tick(io, ref, item, _evidence(rng, item))
        ex.advance(io, ref, "submit_challan")
    rounds = 0
    # Scrutiny rounds until the prosecutor files the report; if the calendar
    # ends first (the while condition fails), the case stays where it is.
    while later(4, 24 * (5 - 4 * diligence)):
        if rng.random() > 0.35 + 0.5 * diligence and rounds < 3:
            open_items = rng.sample(_deficiency_codes(), rng.randint(1, 2))
            ids = [ex.flag(pp, ref, code_, "see scrutiny note") for code_ in open_items]
            ex.advance(pp, ref, "return_for_deficiencies")
            rounds += 1
            if not later(24, 24 * 12 / (0.5 + diligence)):
                return  # still with the police
            for dif in ids:
                ex.respond(io, ref, dif, "defect cured", _evidence(rng, "case_diary"))
            for item in open_challan_items():
                ex.tick(io, ref, item, _evidence(rng, item))
            ex.advance(io, ref, "resubmit")
            if not later(2, 48):
                return
            for dif in ids:
                ex.resolve(pp, ref, dif)
            continue
        ex.advance(pp, ref, "file_in_court")
        break
    else:
        return
    if not later(24 * 10, 24 * 60):
        return
    roll = rng.random()
    if roll < 0.4:
        ex.advance(pp, ref, "record_verdict", outcome=rng.choice(["convicted", "acquitted"]))
    elif roll < 0.5:
        ex.advance(pp, ref, "compound", note="Compromise deed filed; court permission granted", attempt=True)


# -- the executors -----------------------------------------------------------------
class ServiceActions:
    """Each action through its service, in a unit of work of its own."""

    def __init__(self, engine, clock: _Clock):
        self.engine, self.clock = engine, clock
        self.actions = self.refused = 0

    def _run(self, action, *args, attempt=False, **kwargs):
        from casechain.storage.uow import UnitOfWork

        self.actions += 1
        try:
            with UnitOfWork(self.engine, now=self.clock) as uow:
                return action(uow, *args, **kwargs)
        except CasechainError:
            if not attempt:
                raise
            self.refused += 1  # the demo also shows the rules saying no
            return None

    def _read(self, action, *args):
        from casechain.storage.uow import UnitOfWork

        with UnitOfWork(self.engine, now=self.clock, readonly=True) as uow:
            return action(uow, *args)

    def register(self, sho, station, fir_no, year, sections, occurred, reported, complainant, accused, flags) -> str:
        from casechain.services import cases

        return self._run(cases.register, sho, station, fir_no, year, sections, occurred.isoformat(), reported.isoformat(), complainant, accused, flags)["ref"]

    def assign(self, actor, ref, io):
        from casechain.services import cases

        self._run(cases.assign, actor, ref, io)

    def advance(self, actor, ref, event, outcome=None, note=None, attempt=False) -> bool:
        from casechain.services import cases

        return self._run(cases.advance, actor, ref, event, note=note, outcome=outcome, attempt=attempt) is not None

    def checklist(self, ref) -> list[dict]:
        from casechain.services import checklist

        return self._read(checklist.show, ref)

    def sections(self, ref) -> tuple[str, ...]:
        from casechain.services import cases

        return tuple(self._read(cases.show, ref)["sections"])

    def tick(self, actor, ref, item, evidence):
        from casechain.services import checklist

        self._run(checklist.tick, actor, ref, item, evidence)

    def not_applicable(self, actor, ref, item, reason):
        from casechain.services import checklist

        self._run(checklist.not_applicable, actor, ref, item, reason)

    def flag(self, actor, ref, code, detail) -> int:
        from casechain.services import deficiencies

        return self._run(deficiencies.flag, actor, ref, code, detail)["id"]

    def respond(self, actor, ref, dif_id, note, evidence):
        from casechain.services import deficiencies

        self._run(deficiencies.respond, actor, ref, dif_id, note, evidence)

    def resolve(self, actor, ref, dif_id):
        from casechain.services import deficiencies

        self._run(deficiencies.resolve, actor, ref, dif_id)

    def case_done(self):
        pass

    def finish(self, phase=None):
        pass


class _BulkCase:
    """One case being built in memory: its columns (through the ledger), checklist,
    deficiencies and accused."""

    __slots__ = ("ledger", "sop", "flow", "required_by", "checklist", "deficiencies", "accused")

    def __init__(self, ledger, sop, flow, required_by, accused):
        self.ledger, self.sop, self.flow, self.required_by = ledger, sop, flow, required_by
        self.checklist: dict[str, tuple] = {}  # item -> (status, detail, by, at)
        self.deficiencies: dict[int, dict] = {}
        self.accused = accused

    def facts(self):
        from casechain.domain.sop import CaseFacts

        c = self.ledger.case
        open_ = [d["status"] for d in self.deficiencies.values() if d["status"] != "resolved"]
        return CaseFacts(
            state=c["state"], station=c["station"], district=c["district"], io=c["io"],
            sections=tuple(p for p in c["sections"].split(",") if p), flags=frozenset(p for p in c["flags"].split(",") if p),
            report=c["report"], checklist={k: v[0] for k, v in self.checklist.items()},
            open_deficiencies=len(open_), unanswered_deficiencies=open_.count("open"),
        )  # fmt: skip


class _Head:
    """The case columns ``tracking.fold`` reads, as attributes."""

    __slots__ = ("station", "district", "io", "reported_at", "state")

    def __init__(self, c: dict):
        self.station, self.district, self.io, self.reported_at, self.state = c["station"], c["district"], c["io"], c["reported_at"], c["state"]


class BulkActions:
    """The same actions on a case held in memory; whole cases go to the writer.

    Moves are decided by the SOP workflow exactly as ``cases.advance`` decides
    them (a refused move raises, or is counted under ``attempt``); payloads come
    from :mod:`casechain.domain.events`, as in the services. The checks the
    services make before a checklist or deficiency action (state, role) are
    asserted, not worded: the script only makes moves the rules allow, and the
    comparison test with :class:`ServiceActions` proves it."""

    def __init__(self, engine, clock: _Clock, batch: int = 2_000):
        from casechain.services.demo import BulkWriter

        self.clock = clock
        self.actions = self.refused = 0
        self.writer = BulkWriter(engine, clock, batch)
        self.actors, self.stations = self.writer.world()
        self.case: _BulkCase | None = None
        self.next_case, self.next_accused, self.next_deficiency = self.writer.next_ids()
        self.prosecutors = {b for b, a in self.actors.items() if a.role.value == "prosecutor"}
        self._texts: dict[str, str] = {}
        self._items: dict[tuple, list] = {}
        self._moves: dict[tuple, object] = {}  # what the workflow decided, by everything it looks at
        self._requires: dict[tuple, tuple] = {}
        self._editable_ok: set[tuple] = set()
        self._parsed: dict[tuple, tuple] = {}
        self._calendars: dict[str, object] = {}

    # -- pure look-ups, remembered (the demo repeats the same texts and kinds of case)
    def _text(self, value: str, what: str) -> str:
        """``need_text`` (what the services check free text with), once per distinct text."""
        out = self._texts.get(value)
        if out is None:
            from casechain.services.common import need_text

            out = self._texts[value] = need_text(value, what)
        return out

    def _applicable(self, case: _BulkCase) -> list:
        """``applicable_items`` of the case: the items' conditions read only the
        sections, flags, report and whether an IO is assigned."""
        c = case.ledger.case
        key = (case.sop.key, c["sections"], c["flags"], c["report"], c["io"] is not None)
        items = self._items.get(key)
        if items is None:
            items = self._items[key] = case.flow.applicable_items(case.facts())
        return items

    # -- helpers
    def _case(self, ref) -> _BulkCase:
        assert self.case is not None and self.case.ledger.ref == ref, ref
        return self.case

    def _record(self, case: _BulkCase, action: str, actor: str, payload: dict, changes: dict | None = None):
        self.actions += 1
        now = self.clock.now
        case.ledger.append(action, actor, now, now, payload, changes)

    def _editable(self, case: _BulkCase, actor: str, item: str) -> None:
        c = case.ledger.case
        key = (actor, item, case.sop.key, c["station"], c["io"], c["state"], c["sections"], c["flags"], c["report"])
        if key in self._editable_ok:
            return
        from casechain.domain.roles import Place, Role, jurisdiction_problem

        who = self.actors[actor]
        assert who.role in (Role.IO, Role.SHO), actor
        assert jurisdiction_problem(who, Place(c["station"], c["district"], c["io"])) is None, (actor, c["ref"])
        assert c["state"] in case.sop.checklist_open_in, (c["ref"], c["state"])
        assert any(i.id == item for i in self._applicable(case)), (c["ref"], item)
        if len(self._editable_ok) >= 100_000:
            self._editable_ok.clear()
        self._editable_ok.add(key)

    # -- the actions
    def register(self, sho, station, fir_no, year, sections, occurred, reported, complainant, accused, flags) -> str:
        from casechain.domain.events import CaseLedger, register_payload
        from casechain.services.common import make_ref
        from casechain.services.reference import parse_flags, parse_sections

        st = self.stations[station]
        sop, flow, required_by = st["sop"], st["flow"], st["required_by"]
        now = self.clock.now
        assert reported <= now and occurred <= reported and reported.astimezone(LOCAL).year == year
        ref = make_ref(station, fir_no, year)
        key = (sections, tuple(flags))
        parsed = self._parsed.get(key)
        if parsed is None:
            parsed = self._parsed[key] = (parse_sections(sections), parse_flags(flags))
        secs, flag_list = parsed
        names = [self._text(a, "--accused") for a in accused]
        complainant = self._text(complainant, "--complainant")
        case_id = self.next_case
        self.next_case += 1
        columns = {
            "id": case_id, "ref": ref, "station": station, "district": st["district"], "fir_no": int(fir_no), "year": int(year),
            "sop_name": sop.name, "sop_version": sop.version, "state": sop.initial, "report": None, "round": 0,
            "sections": ",".join(secs), "flags": ",".join(flag_list), "complainant": complainant,
            "occurred_at": occurred, "reported_at": reported, "registered_at": now, "io": None, "version": 0, "head_hash": "",
        }  # fmt: skip
        accused_rows = []
        for name in names:
            accused_rows.append({"id": self.next_accused, "case_id": case_id, "name": name})
            self.next_accused += 1
        self.case = _BulkCase(CaseLedger(ref, columns), sop, flow, required_by, accused_rows)
        payload = register_payload(ref, sop.key, sop.initial, station, fir_no, year, secs, flag_list, complainant, names, occurred, reported)
        self.actions += 1
        self.case.ledger.append("register", sho, reported, now, payload)
        return ref

    def assign(self, actor, ref, io):
        from casechain.domain.events import assign_payload
        from casechain.domain.roles import Role

        case = self._case(ref)
        who, officer = self.actors[actor], self.actors[io]
        c = case.ledger.case
        assert who.role in (Role.SHO, Role.SUPERVISOR) and officer.role is Role.IO and officer.station == c["station"] and io != c["io"]
        assert not case.sop.state(c["state"]).terminal
        self._record(case, "assign", actor, *assign_payload(io, c["io"]))

    def advance(self, actor, ref, event, outcome=None, note=None, attempt=False) -> bool:
        from casechain.domain.events import advance_payload

        case = self._case(ref)
        c = case.ledger.case
        # The workflow is a pure function of the SOP, the event, the actor and
        # the case facts, and reads of the checklist only whether the items the
        # event requires are there: decided once per distinct combination.
        requires = self._requires.get((case.sop.key, event))
        if requires is None:
            ev = case.sop.event(event)
            requires = self._requires[(case.sop.key, event)] = tuple(ev.requires) if ev is not None else ()
        ticked = case.checklist
        open_ = [d["status"] for d in case.deficiencies.values() if d["status"] != "resolved"] if case.deficiencies else ()
        key = (
            case.sop.key, event, outcome, actor, bool((note or "").strip()), c["state"], c["station"], c["io"], c["sections"],
            c["flags"], c["report"], tuple(i in ticked for i in requires), len(open_), open_.count("open") if open_ else 0,
        )  # fmt: skip
        move = self._moves.get(key)
        if move is None:
            if len(self._moves) >= 100_000:  # bounded memory for very large runs
                self._moves.clear()
            move = self._moves[key] = self._decide(case, actor, event, outcome, note)
        if isinstance(move, CasechainError):
            self.actions += 1
            if not attempt:
                self._decide(case, actor, event, outcome, note, keep=False)  # raises: a fresh error, not a shared one
            self.refused += 1
            return False
        note = self._text(note, "--note") if note else None
        self._record(case, "advance", actor, *advance_payload(move, c["round"], note))
        return True

    def _decide(self, case: _BulkCase, actor, event, outcome, note, keep=True):
        """The Move ``cases.advance`` would make, or the error it would refuse with."""
        from casechain.domain.errors import BadInput

        try:
            move = case.flow.fire(event, case.facts(), self.actors[actor], outcome=outcome)
            if case.sop.event(event).note_required and not (note or "").strip():
                raise BadInput(f"{event} needs --note")
            return move
        except CasechainError as err:
            if not keep:
                raise
            return err.with_traceback(None)  # kept: its frames would keep this case alive

    def checklist(self, ref) -> list[dict]:
        case = self._case(ref)
        rows = []
        for item in self._applicable(case):
            entry = case.checklist.get(item.id)
            rows.append({"item": item.id, "status": entry[0] if entry else "open", "na_allowed": item.na_allowed, "required_by": case.required_by[item.id]})
        return rows

    def sections(self, ref) -> tuple[str, ...]:
        return tuple(p for p in self._case(ref).ledger.case["sections"].split(",") if p)

    def tick(self, actor, ref, item, evidence):
        from casechain.domain.events import tick_payload
        case = self._case(ref)
        self._editable(case, actor, item)
        evidence = self._text(evidence, "--evidence")
        case.checklist[item] = ("done", evidence, actor, self.clock.now)
        self._record(case, "tick", actor, tick_payload(item, evidence))

    def not_applicable(self, actor, ref, item, reason):
        from casechain.domain.events import na_payload
        case = self._case(ref)
        self._editable(case, actor, item)
        assert case.sop.item(item).na_allowed, item
        reason = self._text(reason, "--reason")
        case.checklist[item] = ("na", reason, actor, self.clock.now)
        self._record(case, "na", actor, na_payload(item, reason))

    def flag(self, actor, ref, code, detail) -> int:
        from casechain.domain.events import flag_payload
        from casechain.domain.roles import Role
        case = self._case(ref)
        c = case.ledger.case
        spec = case.sop.deficiency(code)
        assert self.actors[actor].role is Role.PROSECUTOR and self.actors[actor].district == c["district"]
        assert spec is not None and c["state"] in case.sop.scrutiny_states, (c["ref"], code, c["state"])
        detail = self._text(detail, "--detail") if (spec.detail_required or (detail or "").strip()) else ""
        dif_id = self.next_deficiency
        self.next_deficiency += 1
        now = self.clock.now
        case.deficiencies[dif_id] = {
            "id": dif_id, "case_id": c["id"], "round": c["round"] + 1, "code": spec.code, "detail": detail, "status": "open",
            "raised_by": actor, "raised_at": now, "response": None, "response_evidence": None,
            "responded_by": None, "responded_at": None, "resolved_by": None, "resolved_at": None,
        }  # fmt: skip
        reopens = spec.item if spec.item and case.checklist.pop(spec.item, None) is not None else None
        self._record(case, "deficiency_flag", actor, flag_payload(dif_id, spec.code, detail, c["round"] + 1, reopens))
        return dif_id

    def respond(self, actor, ref, dif_id, note, evidence):
        from casechain.domain.events import respond_payload
        case = self._case(ref)
        row = case.deficiencies[dif_id]
        assert row["status"] != "resolved" and case.ledger.case["state"] in case.sop.checklist_open_in
        note = self._text(note, "--note")
        evidence = self._text(evidence, "--evidence") if evidence else None
        row.update(status="answered", response=note, response_evidence=evidence, responded_by=actor, responded_at=self.clock.now)
        self._record(case, "deficiency_respond", actor, respond_payload(dif_id, note, evidence))

    def resolve(self, actor, ref, dif_id):
        from casechain.domain.events import resolve_payload

        case = self._case(ref)
        row = case.deficiencies[dif_id]
        assert row["status"] != "resolved" and case.ledger.case["state"] in case.sop.scrutiny_states
        row.update(status="resolved", resolved_by=actor, resolved_at=self.clock.now)
        self._record(case, "deficiency_resolve", actor, resolve_payload(dif_id))

    def case_done(self):
        from casechain.domain import tracking
        from casechain.services.clocks import _late_row, calendar_of

        case, self.case = self.case, None
        if case is None:
            return
        c = case.ledger.case
        cid = c["id"]
        checklist = [{"case_id": cid, "item": k, "status": v[0], "detail": v[1], "by": v[2], "at": v[3]} for k, v in case.checklist.items()]
        # Clocks and report figures: the fold of services.clocks.rebuild_all
        # (and of the hook), over the events just built, the facts the case ends with.
        sop = case.sop
        calendar = self._calendars.get(sop.key)
        if calendar is None:
            calendar = self._calendars[sop.key] = calendar_of(sop)
        events = [tracking.Event(e[0], e[1], e[2], e[3], e[4], e[8]) for e in case.ledger.events]
        track, clocks, lates = tracking.fold(sop, calendar, _Head(c), events, self.prosecutors, case.facts)
        self.writer.add(
            c, case.accused, checklist, list(case.deficiencies.values()), case.ledger.events,
            {"case_id": cid, **vars(track)},
            [{"case_id": cid, **tracking.new_clock_row(k, track, calendar)} for k in clocks],
            [_late_row(cid, m) for m in lates],
        )  # fmt: skip

    def finish(self, phase=None):
        self.writer.finish(phase)


def _deficiency_codes():
    return ["STATEMENTS_MISSING", "SITE_PLAN_MISSING", "DIARY_INCOMPLETE", "WITNESS_LIST_MISSING", "FORENSIC_MISSING"]


def _evidence(rng, item: str) -> str:
    return CHALLAN_EVIDENCE.get(item, "ref {n}").format(n=rng.randint(10, 999), k=rng.randint(2, 9), y=2026)


def _plain_name(rng) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _name(rng, rank: str) -> str:
    return f"{rank} {_plain_name(rng)}"


def summary(uow) -> list[dict]:
    """Cases per station and stage: the table the demo prints."""
    from sqlalchemy import case as when, func
    from sqlmodel import select

    from casechain.storage.tables import Case

    stages = {
        "investigation": ["fir_registered", "under_investigation"],
        "with_prosecutor": ["under_scrutiny"],
        "returned": ["returned_for_deficiencies"],
        "in_court": ["in_court"],
        "untraced": ["untraced"],
        "closed": ["closed_convicted", "closed_acquitted", "closed_compounded", "closed_cancelled"],
    }
    cols = [func.sum(when((Case.state.in_(states), 1), else_=0)).label(name) for name, states in stages.items()]
    q = select(Case.station, Case.district, func.count().label("cases"), func.avg(Case.round).label("rounds"), *cols).group_by(Case.station, Case.district).order_by(Case.district, Case.station)
    rows = []
    for r in uow.session.exec(q).all():
        row = dict(r._mapping)
        row["rounds"] = round(float(row["rounds"] or 0), 2)
        rows.append(row)
    return rows
