"""Reports checked against an independent computation over the same fixture data.

A seeded scenario drives ~16 cases through the real services on each backend
(registrations, custody, challans, interim reports, returns and resubmissions,
a supervisor override, late entries). While it runs, it notes in plain Python
what happened and when; ``Oracle`` then computes every figure from those notes
with its own date arithmetic (not domain/clocks.py, not SQL), and the reports
must agree with it.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import pytest
from click.testing import CliRunner
from clock_fixtures import world_template  # noqa: F401  (fixture)
from conftest import World
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casechain.cli import cli
from casechain.domain.timeutil import LOCAL, UTC
from casechain.services import cases, checklist, custody, deficiencies, reports

START = datetime(2024, 2, 1, 8, 0, tzinfo=LOCAL).astimezone(UTC)
FINAL = datetime(2024, 5, 1, 12, 0, tzinfo=LOCAL).astimezone(UTC)
CHALLAN_ITEMS = ["fir_copy", "site_plan", "statements_161", "recovery_memos", "forensic_report", "arrest_status", "witness_list", "case_property", "case_diary"]
STATIONS = {"CLN": ("Lahore", "SHO-1", ["IO-101", "IO-102"], "PP-7"), "MDL": ("Lahore", "SHO-3", ["IO-301"], "PP-7"), "KHI": ("Karachi South", "SHO-2", ["IO-201"], "PP-9")}
HOLDER = {"fir_registered": "police", "under_investigation": "police", "returned_for_deficiencies": "police", "under_scrutiny": "prosecution", "in_court": "court"}


# -- the oracle's own arithmetic -------------------------------------------------------------
def end_of_day_after(start: datetime, days: int) -> datetime:
    """23:59:59 PKT on (the PKT date of start) + days."""
    d = start.astimezone(LOCAL).date() + timedelta(days=days)
    return datetime.combine(d, time(23, 59, 59), tzinfo=LOCAL).astimezone(UTC)


def oracle_status(start, due, met, as_of):
    if as_of < start:
        return None
    if met is not None and met <= as_of:
        return "met" if met <= due else "breached"
    return "breached" if as_of > due else "pending"


@dataclass
class Noted:
    ref: str
    station: str
    district: str
    io: str
    fir: datetime
    prosecutor: str | None = None
    rounds: int = 0
    overrides: int = 0
    late: int = 0
    moves: list = field(default_factory=list)  # (when, new state)
    clocks: list = field(default_factory=list)  # dict(name, accused, start, due, met)

    def clock(self, name, start, due, accused=None):
        c = {"name": name, "accused": accused, "start": start, "due": due, "met": None}
        self.clocks.append(c)
        return c

    def meet(self, names, when, accused=None):
        for c in self.clocks:
            if c["name"] in names and c["met"] is None and c["accused"] == accused and c["start"] <= when:
                c["met"] = when


# -- the scenario ------------------------------------------------------------------------------
class Scenario:
    def __init__(self, world: World, seed: int = 20240301, n: int = 16):
        self.w, self.rng, self.noted = world, random.Random(seed), []
        for i in range(1, n + 1):
            self.one_case(i)

    def do(self, when, fn, *args, late=False, **kwargs):
        if late:  # recorded 30 hours after it happened, with a reason
            self.w.now = when + timedelta(hours=30)
            kwargs.update(at=when.isoformat(), late_reason="entered from the daily diary")
        else:
            self.w.now = when
        return self.w.run(fn, *args, **kwargs)

    def one_case(self, i):
        rng = self.rng
        station = rng.choice(list(STATIONS))
        district, sho, ios, pp = STATIONS[station]
        io = rng.choice(ios)
        fir = START + timedelta(minutes=rng.randrange(0, 40 * 24 * 60))
        self.w.now = fir + timedelta(minutes=5)
        ref = self.w.run(
            cases.register, sho, station, i, 2024, "379", (fir - timedelta(hours=2)).isoformat(), fir.isoformat(), "Complainant", ["Accused A"], []
        )["ref"]
        n = Noted(ref, station, district, io, fir)
        self.noted.append(n)
        n.clock("challan", fir, end_of_day_after(fir, 14))
        n.clock("interim_report", fir, end_of_day_after(fir, 17))
        n.moves.append((fir, "fir_registered"))
        t = fir + timedelta(hours=1)
        self.do(t, cases.assign, sho, ref, io)
        t += timedelta(hours=1)
        self.do(t, cases.advance, io, ref, "start_investigation")
        n.moves.append((t, "under_investigation"))

        if rng.random() < 0.7:  # custody of the accused
            arrest = t + timedelta(hours=rng.randint(1, 72))
            self.do(arrest, custody.arrest, io, ref, "Accused A")
            n.clock("production", arrest, arrest + timedelta(hours=24), "Accused A")
            produced = arrest + timedelta(hours=rng.choice([2, 20, 23, 26, 40]))
            late = rng.random() < 0.2
            self.do(produced, custody.produce, io, ref, "Accused A", "JM", late=late)
            n.late += late
            n.meet({"production"}, produced, "Accused A")
            end = produced
            if rng.random() < 0.6:
                days = rng.randint(1, 7)
                order = produced + timedelta(hours=1)
                self.do(order, custody.remand, io, ref, "Accused A", "physical", days)
                n.clock("remand_physical", order, end_of_day_after(order, days), "Accused A")
                end = end_of_day_after(order, days) + timedelta(hours=rng.randint(-40, 30))
                end = max(end, order + timedelta(hours=1))
            released = end + timedelta(hours=1)
            self.do(released, custody.release, io, ref, "Accused A", "bail")
            n.meet({"production", "remand_physical"}, released, "Accused A")
            t = max(t, released)

        path = rng.choice(["challan", "challan", "override", "interim", "none"])
        if path == "override" and district != "Lahore":
            path = "challan"
        if path == "none":
            return
        submit = max(t + timedelta(hours=2), fir + timedelta(days=rng.uniform(3, 22) if path != "interim" else rng.uniform(14.5, 19)))
        if path == "challan":
            for k, item in enumerate(CHALLAN_ITEMS):
                self.do(submit - timedelta(minutes=30 - k), checklist.tick, io, ref, item, f"ref {item}")
            self.do(submit, cases.advance, io, ref, "submit_challan")
            n.meet({"challan", "interim_report"}, submit)
        elif path == "override":
            self.do(submit, cases.advance, "SP-1", ref, "submit_challan", override="urgent: accused in custody")
            n.overrides += 1
            n.meet({"challan", "interim_report"}, submit)
        else:
            for k, item in enumerate(["fir_copy", "case_diary", "arrest_status", "interim_reasons"]):
                self.do(submit - timedelta(minutes=30 - k), checklist.tick, io, ref, item, f"ref {item}")
            self.do(submit, cases.advance, io, ref, "submit_interim")
            n.meet({"interim_report"}, submit)
        n.moves.append((submit, "under_scrutiny"))
        n.clock("scrutiny", submit, end_of_day_after(submit, 3))

        decide = submit + timedelta(hours=rng.uniform(12, 6 * 24))
        if rng.random() < 0.45:  # returned with a deficiency, cured, resubmitted
            flagged = self.do(decide - timedelta(hours=1), deficiencies.flag, pp, ref, "OTHER", "role of the accused not stated")
            self.do(decide, cases.advance, pp, ref, "return_for_deficiencies")
            n.prosecutor, n.rounds = pp, 1
            n.meet({"scrutiny"}, decide)
            n.moves.append((decide, "returned_for_deficiencies"))
            back = decide + timedelta(hours=rng.uniform(6, 10 * 24))
            self.do(back - timedelta(minutes=10), deficiencies.respond, io, ref, flagged["id"], "role stated in supplementary statement")
            self.do(back, cases.advance, io, ref, "resubmit")
            n.moves.append((back, "under_scrutiny"))
            n.clock("scrutiny", back, end_of_day_after(back, 3))
            decide = back + timedelta(hours=rng.uniform(12, 6 * 24))
            self.do(decide - timedelta(minutes=5), deficiencies.resolve, pp, ref, flagged["id"])
        self.do(decide, cases.advance, pp, ref, "file_in_court")
        n.prosecutor = pp
        n.meet({"scrutiny"}, decide)
        n.moves.append((decide, "in_court"))


class Oracle:
    def __init__(self, noted: list[Noted]):
        self.noted = noted

    def cases(self, as_of, start=None, end=None):
        return [n for n in self.noted if n.fir <= as_of and (start is None or n.fir >= start) and (end is None or n.fir < end)]

    @staticmethod
    def key(n: Noted, by: str):
        return {"station": n.station, "district": n.district, "io": n.io, "prosecutor": n.prosecutor or "(none)"}[by]

    def compliance(self, by, as_of, start=None, end=None):
        rows = {}
        for n in self.cases(as_of, start, end):
            g = rows.setdefault(self.key(n, by), {"group": self.key(n, by), "cases": 0, "counts": Counter(), "rounds": 0, "police": 0.0, "prosecution": 0.0, "overrides": 0, "late": 0})
            g["cases"] += 1
            g["rounds"] += n.rounds
            g["overrides"] += n.overrides
            g["late"] += n.late
            for c in n.clocks:
                s = oracle_status(c["start"], c["due"], c["met"], as_of)
                if s:
                    g["counts"][(c["name"], s)] += 1
            held = self.held(n, as_of)
            g["police"] += held["police"]
            g["prosecution"] += held["prosecution"]
        return rows

    @staticmethod
    def held(n: Noted, as_of):
        out = defaultdict(float)
        moves = [m for m in n.moves if m[0] <= as_of]
        for (t0, state), nxt in zip(moves, moves[1:] + [(as_of, None)]):
            out[HOLDER[state]] += (nxt[0] - t0).total_seconds() / 86400
        return out

    def overdue(self, as_of, within=24):
        out = set()
        for n in self.noted:
            for c in n.clocks:
                open_ = c["start"] <= as_of and (c["met"] is None or c["met"] > as_of)
                if open_ and c["due"] < as_of + timedelta(hours=within):
                    out.add((n.ref, c["name"], c["accused"], round((as_of - c["due"]).total_seconds() / 3600, 1)))
        return out


@pytest.fixture(scope="module")
def data(world_template, tmp_path_factory):
    """The scenario, run once per backend on a world of its own."""
    import shutil

    kind, where = world_template
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("reports") / "casechain.db"
        shutil.copyfile(where, path)
        w = World(f"sqlite:///{path}")
    else:
        w = where  # this module's own PostgreSQL database (fresh: no other test used it)
    scenario = Scenario(w)
    w.now = FINAL
    yield w, Oracle(scenario.noted)
    if kind == "sqlite":
        w.dispose()


CLOCKS = ["challan", "interim_report", "scrutiny", "production", "remand_physical"]
AS_OF = [FINAL, datetime(2024, 3, 5, 12, 0, tzinfo=LOCAL).astimezone(UTC), datetime(2024, 2, 20, 23, 59, 59, tzinfo=LOCAL).astimezone(UTC)]


def _as_of_text(t: datetime) -> str:
    return t.astimezone(LOCAL).replace(tzinfo=None).isoformat()


def test_the_scenario_covers_every_status(data):
    _, oracle = data
    seen = Counter(oracle_status(c["start"], c["due"], c["met"], FINAL) for n in oracle.noted for c in n.clocks)
    names = {c["name"] for n in oracle.noted for c in n.clocks}
    assert seen["met"] and seen["breached"] and set(names) == set(CLOCKS)
    assert any(n.rounds for n in oracle.noted) and any(n.overrides for n in oracle.noted) and any(n.late for n in oracle.noted)
    mid = Counter(oracle_status(c["start"], c["due"], c["met"], AS_OF[1]) for n in oracle.noted for c in n.clocks)
    assert mid["pending"]


@pytest.mark.parametrize("by", ["district", "station", "io", "prosecutor"])
@pytest.mark.parametrize("as_of", AS_OF, ids=["final", "mid-march", "february"])
def test_compliance_equals_the_oracle(data, by, as_of):
    w, oracle = data
    view = w.run(reports.compliance, by, as_of=_as_of_text(as_of) if as_of != FINAL else None)
    expected = oracle.compliance(by, as_of)
    assert [r["group"] for r in view["rows"]] == sorted(expected, key=lambda g: (g == "(none)", g))
    for row in view["rows"]:
        want = expected[row["group"]]
        assert row["cases"] == want["cases"], row["group"]
        for name in CLOCKS:
            got = {s: row[f"{name}_{s}"] for s in ("met", "breached", "pending")}
            assert got == {s: want["counts"][(name, s)] for s in ("met", "breached", "pending")}, (row["group"], name)
            met, breached = got["met"], got["breached"]
            assert row[f"{name}_rate"] == (round(met / (met + breached), 4) if met + breached else None)
        assert row["proclamation_met"] == row["proclamation_breached"] == row["proclamation_pending"] == 0
        assert row["proclamation_rate"] is None
        if as_of == FINAL:  # the file's figures, as recorded
            assert row["deficiency_rounds"] == round(want["rounds"] / want["cases"], 2)
            assert row["overrides"] == want["overrides"] and row["late_entries"] == want["late"]
            assert abs(row["police_days"] - want["police"] / want["cases"]) <= 0.051
            assert abs(row["prosecution_days"] - want["prosecution"] / want["cases"]) <= 0.051
    assert view["total"]["cases"] == len(oracle.cases(as_of))


def test_period_filter_equals_the_oracle(data):
    w, oracle = data
    view = w.run(reports.compliance, "station", "2024-02-10", "2024-02-29")
    start = datetime(2024, 2, 10, tzinfo=LOCAL).astimezone(UTC)
    end = datetime(2024, 3, 1, tzinfo=LOCAL).astimezone(UTC)
    expected = oracle.compliance("station", FINAL, start, end)
    assert {r["group"]: r["cases"] for r in view["rows"]} == {g: v["cases"] for g, v in expected.items()}
    for row in view["rows"]:
        assert row["challan_breached"] == expected[row["group"]]["counts"][("challan", "breached")]


@pytest.mark.parametrize("as_of", AS_OF, ids=["final", "mid-march", "february"])
def test_overdue_equals_the_oracle(data, as_of):
    w, oracle = data
    rows = w.run(reports.overdue, _as_of_text(as_of))["rows"]
    assert {(r["ref"], r["clock"], r["accused"], r["hours_over"]) for r in rows} == oracle.overdue(as_of)
    assert [r["hours_over"] for r in rows] == sorted((r["hours_over"] for r in rows), reverse=True)
    for r in rows:
        assert r["status"] == ("breached" if r["hours_over"] > 0 else "pending")
        n = next(n for n in oracle.noted if n.ref == r["ref"])
        expected = {"io": n.io, "sho": STATIONS[n.station][1], "prosecutor": n.prosecutor}[r["responsible_role"]]
        assert r["responsible"] == expected


def test_oversight_equals_the_oracle_and_suppresses_small_counts(data):
    w, oracle = data
    full = w.run(reports.oversight, suppress_below=1)["rows"]
    cells = defaultdict(Counter)
    for n in oracle.noted:
        key = (n.district, n.fir.astimezone(LOCAL).strftime("%Y-%m"))
        cells[key]["cases"] += 1
        for c in n.clocks:
            s = oracle_status(c["start"], c["due"], c["met"], FINAL)
            cells[key][f"{c['name']}_{s}"] += 1
            if s == "breached" and c["accused"]:
                cells[key]["custody_breaches"] += 1
    assert [(r["district"], r["month"]) for r in full] == sorted(cells)
    for r in full:
        want = cells[(r["district"], r["month"])]
        assert r["cases"] == want["cases"] and r["custody_breaches"] == want["custody_breaches"]
        for name in CLOCKS:
            assert [r[f"{name}_{s}"] for s in ("met", "breached", "pending")] == [want[f"{name}_{s}"] for s in ("met", "breached", "pending")]
    assert not any(k in r for r in full for k in ("ref", "station", "io", "complainant", "accused"))
    hidden = w.run(reports.oversight)["rows"]  # default: counts below 5 suppressed
    for plain, masked in zip(full, hidden):
        for k, v in plain.items():
            if k in ("district", "month") or k.endswith("_rate"):
                continue
            assert masked[k] == (None if 0 < v < 5 else v), k
        for name in CLOCKS:
            met, breached = masked[f"{name}_met"], masked[f"{name}_breached"]
            if met is None or breached is None:
                assert masked[f"{name}_rate"] is None  # a rate would give the hidden count away


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    by=st.sampled_from(["district", "station", "io", "prosecutor"]),
    minutes=st.integers(min_value=-2 * 24 * 60, max_value=95 * 24 * 60),
    window=st.one_of(st.none(), st.tuples(st.integers(0, 45), st.integers(0, 45))),
)
def test_report_totals_equal_the_case_count(data, by, minutes, window):
    w, oracle = data
    as_of = START + timedelta(minutes=minutes)
    date_from = date_to = None
    start = end = None
    if window:
        a, b = sorted(window)
        d0 = START.astimezone(LOCAL).date() + timedelta(days=a)
        d1 = START.astimezone(LOCAL).date() + timedelta(days=b)
        date_from, date_to = d0.isoformat(), d1.isoformat()
        start = datetime.combine(d0, time(0), tzinfo=LOCAL).astimezone(UTC)
        end = datetime.combine(d1 + timedelta(days=1), time(0), tzinfo=LOCAL).astimezone(UTC)
    view = w.run(reports.compliance, by, date_from, date_to, as_of=as_of.isoformat())
    counted = oracle.cases(as_of, start, end)
    assert sum(r["cases"] for r in view["rows"]) == view["total"]["cases"] == len(counted)
    started = Counter(c["name"] for n in counted for c in n.clocks if c["start"] <= as_of)
    for name in CLOCKS:  # every clock counted exactly once: met, breached or pending
        assert sum(r[f"{name}_{s}"] for r in view["rows"] for s in ("met", "breached", "pending")) == started[name]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.integers(0, 95 * 24 * 60), b=st.integers(0, 95 * 24 * 60))
def test_moving_as_of_forward_never_unbreaches_a_clock_in_the_database(data, a, b):
    """Per stored clock, as the database judges it: breached stays breached, met stays met."""
    from sqlalchemy import select as sql_select

    from casechain import reports as sql
    from casechain.storage.tables import Clock

    w, _ = data
    early, late = START + timedelta(minutes=min(a, b)), START + timedelta(minutes=max(a, b))
    c = Clock.__table__.c
    with w.uow(readonly=True) as uow:
        def at(t):
            q = sql_select(c.id, sql.status_expr(sql._t(t))).where(c.started_at <= sql._t(t))
            return dict(uow.session.execute(q).all())

        before, after = at(early), at(late)
    assert set(before) <= set(after)
    for clock_id, status in before.items():
        if status in ("breached", "met"):
            assert after[clock_id] == status, (clock_id, status, after[clock_id])


# -- command line ----------------------------------------------------------------------------
def _cli(w, *args, code=0):
    env = {"CASECHAIN_NOW": FINAL.isoformat(), "CASECHAIN_DB": w.url, "CASECHAIN_USER": None}
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def test_compliance_command_formats_agree(data, tmp_path):
    w, _ = data
    rows = json.loads(_cli(w, "report", "compliance", "--by", "station", "--format", "json").stdout)
    assert rows == w.run(reports.compliance, "station")["rows"]
    assert list(rows[0])[:6] == ["group", "cases", "challan_met", "challan_breached", "challan_pending", "challan_rate"]
    parsed = list(csv.DictReader(io.StringIO(_cli(w, "report", "compliance", "--by", "station", "--format", "csv").stdout)))
    assert list(parsed[0]) == list(rows[0])
    assert [(p["group"], int(p["cases"]), p["challan_rate"]) for p in parsed] == [(r["group"], r["cases"], "" if r["challan_rate"] is None else str(r["challan_rate"])) for r in rows]
    table = _cli(w, "report", "compliance", "--by", "station").stdout
    assert "Compliance by station" in table and "total" in table
    out = tmp_path / "compliance.html"
    _cli(w, "report", "compliance", "--by", "district", "--format", "html", "-o", str(out))
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == len(CLOCKS) and "Lahore" in html
    assert "src=" not in html and "href=" not in html and "@import" not in html and "url(" not in html  # nothing fetched
    r = _cli(w, "report", "compliance", "--by", "district", "--format", "html", "-o", str(out), code=2)
    assert "exists" in r.stderr
    r = _cli(w, "report", "compliance", "--from", "2024-03-10", "--to", "2024-03-01", code=2)
    assert r.stderr == "error: --from 2024-03-10 is after --to 2024-03-01\n"
    r = _cli(w, "report", "compliance", "--as-of", "last tuesday", code=2)
    assert r.stderr.startswith("error: bad --as-of 'last tuesday'")


def test_overdue_and_oversight_commands(data):
    w, oracle = data
    rows = json.loads(_cli(w, "report", "overdue", "--as-of", "2024-03-05T12:00", "--format", "json").stdout)
    assert {(r["ref"], r["clock"], r["accused"], r["hours_over"]) for r in rows} == oracle.overdue(AS_OF[1])
    assert "Overdue as of 2024-03-05 12:00 PKT" in _cli(w, "report", "overdue", "--as-of", "2024-03-05T12:00").stdout
    assert "<svg" not in _cli(w, "report", "overdue", "--format", "html").stdout  # a table, no charts
    rows = json.loads(_cli(w, "report", "oversight", "--format", "json").stdout)
    assert rows == w.run(reports.oversight)["rows"]
    text = _cli(w, "report", "oversight").stdout
    assert "<5" in text
    html = _cli(w, "report", "oversight", "--format", "html").stdout
    assert "&lt;5" in html and "Accused A" not in html and "CLN/" not in html
    listed = json.loads(_cli(w, "case", "list", "--overdue", "--format", "json").stdout)
    breached_refs = {ref for ref, _, _, hours in oracle.overdue(FINAL) if hours > 0}
    assert {r["ref"] for r in listed} == breached_refs


# -- the report path stays light -------------------------------------------------------------
def test_the_report_queries_name_real_columns():
    """casechain.reports reads through lightweight tables: each column must exist in the models, with the same kind of type."""
    from sqlmodel import SQLModel

    from casechain import reports as sql
    from casechain.storage import tables  # noqa: F401  (registers the models)

    for name, light in sql.TABLES.items():
        real = SQLModel.metadata.tables[name]
        for col in light.c:
            assert col.name in real.c, (name, col.name)
            assert col.type._type_affinity is real.c[col.name].type._type_affinity, (name, col.name)


def test_the_report_command_does_not_import_the_orm(data):
    """A report is a read-only command: it starts without the ORM, the models or the SOP schema (issue #6)."""
    import subprocess
    import sys

    w, _ = data
    code = (
        "import sys\n"
        "from casechain.cli import cli\n"
        "cli.main(['report', 'compliance', '--by', 'io', '--format', 'json'], prog_name='casechain', standalone_mode=False)\n"
        "heavy = [m for m in ('sqlalchemy.orm', 'sqlmodel', 'pydantic', 'casechain.storage.tables', 'casechain.domain.sop') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**__import__("os").environ, "CASECHAIN_DB": w.url, "CASECHAIN_NOW": FINAL.isoformat()}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == w.run(reports.compliance, "io")["rows"]


def test_the_command_reads_in_a_deferred_transaction(data):
    """A report never takes SQLite's write lock (BEGIN, not BEGIN IMMEDIATE): it does not wait for, or block, writers."""
    from sqlalchemy import event

    w, _ = data
    if not w.url.startswith("sqlite"):
        pytest.skip("SQLite only")
    seen = []
    with reports.reader(w.url) as rd:
        event.listen(rd.session, "before_cursor_execute", lambda *a: seen.append(a[2]))
        reports.compliance(rd, "station")
    assert [s for s in seen if s.startswith("BEGIN")] == ["BEGIN"]
