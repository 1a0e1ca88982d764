"""``casechain demo``: a fresh database with realistic synthetic cases.

Stations in Punjab, Sindh, Balochistan and Khyber Pakhtunkhwa, their officers,
and N cases driven through the real services (nothing is written behind their
back), so the demo database is exactly what officers would have produced.
Stations differ in diligence, so compliance varies between them. The same
seed gives the same data.
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


@dataclass
class DemoResult:
    cases: int
    stations: int
    officers: int
    actions: int
    refused: int


class _Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def build(engine, n_cases: int = 300, seed: int = 1, end: datetime | None = None, progress=None) -> DemoResult:
    """Fill an empty database through the services. ``progress(i)`` after each case."""
    from casechain.services import admin, cases, checklist, deficiencies
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
    stats = {"actions": 0, "refused": 0}

    def run(action, *args, **kwargs):
        with UnitOfWork(engine, now=clock) as uow:
            stats["actions"] += 1
            return action(uow, *args, **kwargs)

    def attempt(action, *args, **kwargs):
        try:
            return run(action, *args, **kwargs)
        except CasechainError:
            stats["refused"] += 1  # the demo also shows the rules saying no
            return None

    run(admin.init, "ADM-1", "System Administrator")
    districts = sorted({s[2] for s in STATIONS})
    officers = 1
    for code, name, district, _ in STATIONS:
        run(admin.add_station, "ADM-1", code, name, district)
        run(admin.add_officer, "ADM-1", f"SHO-{code}", _name(rng, "Inspector"), "sho", district, code)
        for k in (1, 2, 3):
            run(admin.add_officer, "ADM-1", f"IO-{code}-{k}", _name(rng, "SI"), "io", district, code)
        officers += 4
    for i, district in enumerate(districts, start=1):
        run(admin.add_officer, "ADM-1", f"PP-{i}", _name(rng, "ADPP"), "prosecutor", district, None)
        run(admin.add_officer, "ADM-1", f"SP-{i}", _name(rng, "SP"), "supervisor", district, None)
        officers += 2
    prosecutor = {d: f"PP-{i}" for i, d in enumerate(districts, start=1)}

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
        ref = run(
            cases.register, f"SHO-{code}", code, fir_numbers[(code, year)], year, sections,
            occurred.isoformat(), reported.isoformat(), _plain_name(rng), accused, flags,
        )["ref"]
        _drive(rng, run, attempt, clock, ref, code, prosecutor[district], diligence, end, cases, checklist, deficiencies)
        if progress:
            progress(i + 1)
    return DemoResult(n_cases, len(STATIONS), officers, stats["actions"], stats["refused"])


def _drive(rng, run, attempt, clock, ref, code, pp, diligence, end, cases, checklist, deficiencies):
    """Take one case as far as its station's diligence and the calendar allow."""
    sho, io = f"SHO-{code}", f"IO-{code}-{rng.randint(1, 3)}"

    def later(hours_lo, hours_hi) -> bool:
        clock.now = clock.now + timedelta(hours=rng.uniform(hours_lo, hours_hi))
        return clock.now < end

    if rng.random() < 0.05 or not later(1, 48):
        return
    run(cases.assign, sho, ref, io)
    run(cases.advance, io, ref, "start_investigation")
    items = [row for row in run(checklist.show, ref)]
    challan_items = [r for r in items if "submit_challan" in r["required_by"]]
    # Slow stations take longer: the s.173 14-day limit is missed more often there.
    for row in challan_items:
        if not later(1, 30 / diligence):
            return
        if rng.random() > 0.6 + 0.4 * diligence:
            continue  # forgotten: the checklist will block the challan until it is done
        if row["na_allowed"] and rng.random() < 0.3:
            run(checklist.not_applicable, io, ref, row["item"], "not applicable in this case")
        else:
            run(checklist.tick, io, ref, row["item"], _evidence(rng, row["item"]))
    if "379" in run(cases.show, ref)["sections"] and rng.random() < 0.25:
        for item in ("fir_copy", "case_diary", "untraced_efforts"):
            run(checklist.tick, io, ref, item, _evidence(rng, item))
        attempt(cases.advance, sho, ref, "mark_untraced")
        return
    if attempt(cases.advance, io, ref, "submit_challan") is None:
        # Refused for missing items: the IO completes the file, late.
        if not later(24, 24 * 10 / diligence):
            return
        for item in [r["item"] for r in run(checklist.show, ref) if r["status"] == "open" and "submit_challan" in r["required_by"]]:
            run(checklist.tick, io, ref, item, _evidence(rng, item))
        run(cases.advance, io, ref, "submit_challan")
    rounds = 0
    # Scrutiny rounds until the prosecutor files the report; if the calendar
    # ends first (the while condition fails), the case stays where it is.
    while later(4, 24 * (5 - 4 * diligence)):
        if rng.random() > 0.35 + 0.5 * diligence and rounds < 3:
            open_items = rng.sample(_deficiency_codes(), rng.randint(1, 2))
            ids = [run(deficiencies.flag, pp, ref, code_, "see scrutiny note")["id"] for code_ in open_items]
            run(cases.advance, pp, ref, "return_for_deficiencies")
            rounds += 1
            if not later(24, 24 * 12 / (0.5 + diligence)):
                return  # still with the police
            for dif in ids:
                run(deficiencies.respond, io, ref, dif, "defect cured", _evidence(rng, "case_diary"))
            for item in [r["item"] for r in run(checklist.show, ref) if r["status"] == "open" and "submit_challan" in r["required_by"]]:
                run(checklist.tick, io, ref, item, _evidence(rng, item))
            run(cases.advance, io, ref, "resubmit")
            if not later(2, 48):
                return
            for dif in ids:
                run(deficiencies.resolve, pp, ref, dif)
            continue
        run(cases.advance, pp, ref, "file_in_court")
        break
    else:
        return
    if not later(24 * 10, 24 * 60):
        return
    roll = rng.random()
    if roll < 0.4:
        run(cases.advance, pp, ref, "record_verdict", outcome=rng.choice(["convicted", "acquitted"]))
    elif roll < 0.5:
        attempt(cases.advance, pp, ref, "compound", note="Compromise deed filed; court permission granted")


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
