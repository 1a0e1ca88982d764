"""Custody of each accused: the production clock, remand limits, overrides,
proclamations, time integrity and late entries."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from click.testing import CliRunner
from sqlmodel import select

from casechain.cli import cli
from casechain.domain.errors import BadInput, Refused
from casechain.domain.timeutil import LOCAL, UTC
from casechain.services import cases, clocks, custody, reports
from casechain.storage.tables import LateEntry


def pkt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL).astimezone(UTC)


def at(world, text: str) -> str:
    """Make ``text`` (Pakistan time) the present of the world and return it as --at."""
    world.now = pkt(text)
    return text


def clock_view(world, ref, name, accused=None):
    rows = [c for c in world.run(cases.show, ref)["clocks"] if c["name"] == name and c["accused"] == accused]
    return rows


def custody_of(world, ref, name):
    return next(c for c in world.run(cases.show, ref)["custody"] if c["accused"] == name)


@pytest.fixture
def case(world):
    """CLN/1/2024 (s.302, FIR 2 March 01:10 PKT) with IO-101, investigation started; accused Bilal and Kashif."""
    world.now = pkt("2024-03-02 02:00")
    ref = world.register(1, accused=("Bilal", "Kashif"))
    world.run(cases.assign, "SHO-1", ref, "IO-101")
    world.run(cases.advance, "IO-101", ref, "start_investigation")
    return ref


def test_production_within_24_hours_is_met_and_late_production_breached(world, case):
    at(world, "2024-03-02 09:30")
    world.run(custody.arrest, "IO-101", case, "Bilal")
    world.run(custody.arrest, "IO-101", case, "Kashif")
    (prod,) = clock_view(world, case, "production", "Bilal")
    assert (prod["due_local"], prod["status"], prod["met_at"]) == ("2024-03-03 09:30 PKT", "pending", None)
    at(world, "2024-03-03 09:00")
    world.run(custody.produce, "IO-101", case, "Bilal", "JM Lahore")
    at(world, "2024-03-03 11:00")
    world.run(custody.produce, "IO-101", case, "Kashif", "JM Lahore")
    assert clock_view(world, case, "production", "Bilal")[0]["status"] == "met"
    late = clock_view(world, case, "production", "Kashif")[0]
    assert (late["status"], late["met_at"]) == ("breached", "2024-03-03T06:00:00.000000Z")
    assert custody_of(world, case, "Bilal")["status"] == "produced"


def test_unproduced_arrest_breaches_after_24_hours_and_shows_overdue(world, case):
    at(world, "2024-03-02 09:30")
    world.run(custody.arrest, "IO-101", case, "Bilal")
    world.now = pkt("2024-03-03 08:30")  # an hour left
    due_soon = [r for r in world.run(reports.overdue)["rows"] if r["clock"] == "production"]
    assert [(r["accused"], r["status"], r["hours_over"], r["responsible"]) for r in due_soon] == [("Bilal", "pending", -1.0, "IO-101")]
    world.now = pkt("2024-03-03 12:30")
    (row,) = [r for r in world.run(reports.overdue)["rows"] if r["clock"] == "production"]
    assert (row["ref"], row["status"], row["hours_over"]) == (case, "breached", 3.0)
    assert [c["ref"] for c in world.run(cases.list_cases, overdue=True)] == [case]


def test_time_integrity_of_custody_entries(world, case):
    at(world, "2024-03-04 10:00")
    with pytest.raises(BadInput, match="before the FIR"):
        world.run(custody.arrest, "IO-101", case, "Bilal", at="2024-03-01T10:00")
    with pytest.raises(Refused, match="Bilal is not in custody \\(never arrested\\): record the arrest before the production"):
        world.run(custody.produce, "IO-101", case, "Bilal", "JM")
    world.run(custody.arrest, "IO-101", case, "Bilal", at="2024-03-04T08:00")
    with pytest.raises(Refused, match="production of Bilal at 2024-03-04 07:00 PKT is before the last custody entry \\(arrested, 2024-03-04 08:00 PKT\\)"):
        world.run(custody.produce, "IO-101", case, "Bilal", "JM", at="2024-03-04T07:00")
    with pytest.raises(Refused, match="already in custody"):
        world.run(custody.arrest, "IO-101", case, "Bilal")
    with pytest.raises(BadInput, match="has no accused 'Bilaal'; accused: Bilal, Kashif"):
        world.run(custody.arrest, "IO-101", case, "Bilaal")
    with pytest.raises(Refused, match="IO-201 belongs to station KHI"):
        world.run(custody.arrest, "IO-201", case, "Kashif")
    with pytest.raises(Refused, match="role prosecutor may not record custody"):
        world.run(custody.arrest, "PP-7", case, "Kashif")


def test_physical_remand_is_capped_at_15_days_in_the_whole(world, case):
    at(world, "2024-03-02 10:00")
    world.run(custody.arrest, "IO-101", case, "Bilal")
    at(world, "2024-03-03 09:00")
    world.run(custody.produce, "IO-101", case, "Bilal", "JM Lahore")
    r = world.run(custody.remand, "IO-101", case, "Bilal", "physical", 10)
    assert r["until"] == "2024-03-13T18:59:59.000000Z"  # 13 March 23:59:59 PKT
    at(world, "2024-03-13 11:00")
    world.run(custody.produce, "IO-101", case, "Bilal", "JM Lahore")
    version = world.run(cases.show, case)["version"]
    with pytest.raises(Refused) as refused:
        world.run(custody.remand, "IO-101", case, "Bilal", "physical", 6)
    assert refused.value.reasons == [
        "physical remand for Bilal: 6 more days would make 16 days in all; the limit is 15 days in the whole (CrPC s.167(2)); 10 days already used",
        "only supervisor may record it anyway, with --override REASON",
    ]
    assert world.run(cases.show, case)["version"] == version  # refused: nothing changed
    with pytest.raises(Refused, match="role io may not override remand_physical"):
        world.run(custody.remand, "IO-101", case, "Bilal", "physical", 6, override="the Magistrate ordered it")
    world.run(custody.remand, "IO-101", case, "Bilal", "physical", 5)  # exactly 15 in all
    assert custody_of(world, case, "Bilal")["physical_days"] == 15
    statuses = [c["status"] for c in clock_view(world, case, "remand_physical", "Bilal")]
    assert statuses == ["met", "pending"]


def test_supervisor_override_is_recorded_reported_and_breaches(world, case):
    at(world, "2024-03-02 10:00")
    world.run(custody.arrest, "IO-101", case, "Bilal")
    at(world, "2024-03-03 09:00")
    world.run(custody.remand, "IO-101", case, "Bilal", "physical", 15)
    at(world, "2024-03-18 10:00")
    with pytest.raises(BadInput, match="--override is not needed"):
        world.run(custody.remand, "SP-1", case, "Bilal", "judicial", 14, override="habit")
    world.run(custody.remand, "SP-1", case, "Bilal", "physical", 3, override="ATA case wrongly flagged; Magistrate's order 18-03")
    history = world.run(cases.history, case)
    last = history[-1]
    assert last["action"] == "custody_remand"
    assert last["payload"]["override"] == "ATA case wrongly flagged; Magistrate's order 18-03"
    assert last["payload"]["exceeds"] == ["remand_physical"]
    clocks_now = clock_view(world, case, "remand_physical", "Bilal")
    assert [c["status"] for c in clocks_now] == ["met", "breached"]  # beyond the law: breached from the start
    row = world.run(reports.compliance, "station")["rows"][0]
    assert (row["overrides"], row["remand_physical_breached"]) == (1, 1)
    assert world.run(reports.oversight, suppress_below=1)["rows"][0]["custody_breaches"] == 1


def test_judicial_remand_is_capped_per_order_and_renewable(world, case):
    at(world, "2024-03-02 10:00")
    world.run(custody.arrest, "IO-101", case, "Kashif")
    at(world, "2024-03-03 09:00")
    world.run(custody.produce, "IO-101", case, "Kashif", "JM Lahore")
    with pytest.raises(Refused, match=r"judicial remand for Kashif: 16 days exceed the limit of 15 days per order \(CrPC s.344\(1\)\); 0 days used so far"):
        world.run(custody.remand, "IO-101", case, "Kashif", "judicial", 16)
    world.run(custody.remand, "IO-101", case, "Kashif", "judicial", 15)
    at(world, "2024-03-18 10:00")
    world.run(custody.produce, "IO-101", case, "Kashif", "ATC-1 Lahore")
    world.run(custody.remand, "IO-101", case, "Kashif", "judicial", 15)  # renewable, 15 at a time
    assert custody_of(world, case, "Kashif")["judicial_days"] == 30
    assert [c["status"] for c in clock_view(world, case, "remand_judicial", "Kashif")] == ["met", "pending"]


def test_terrorism_cases_follow_the_ata_rule(world):
    w = world
    w.now = pkt("2024-03-02 02:00")
    ref = w.register(7, sections="324", flags=("terrorism",))
    w.run(cases.assign, "SHO-1", ref, "IO-101")
    at(w, "2024-03-02 10:00")
    w.run(custody.arrest, "IO-101", ref, "Bilal")
    at(w, "2024-03-03 09:00")
    with pytest.raises(Refused, match=r"31 days exceed the limit of 30 days per order \(Anti-Terrorism Act 1997 s.21E\(1\)"):
        w.run(custody.remand, "IO-101", ref, "Bilal", "physical", 31)
    w.run(custody.remand, "IO-101", ref, "Bilal", "physical", 30)
    names = [c["name"] for c in w.run(cases.show, ref)["clocks"]]
    assert "remand_physical_ata" in names and "remand_physical" not in names


def test_release_ends_custody_clocks_and_rearrest_starts_a_new_one(world, case):
    at(world, "2024-03-02 10:00")
    world.run(custody.arrest, "IO-101", case, "Bilal")
    at(world, "2024-03-02 20:00")
    world.run(custody.release, "IO-101", case, "Bilal", "bail")
    assert clock_view(world, case, "production", "Bilal")[0]["status"] == "met"
    with pytest.raises(Refused, match="not in custody \\(released\\)"):
        world.run(custody.produce, "IO-101", case, "Bilal", "JM")
    at(world, "2024-03-10 10:00")
    world.run(custody.arrest, "IO-101", case, "Bilal")  # bail cancelled
    assert [c["status"] for c in clock_view(world, case, "production", "Bilal")] == ["met", "pending"]


def test_proclamation_needs_30_days(world, case):
    at(world, "2024-03-05 10:00")
    with pytest.raises(Refused, match="proclamation for Kashif: 20 days given; CrPC s.87 requires at least 30 days"):
        world.run(custody.proclaim, "IO-101", case, "Kashif", appear_by="2024-03-25")
    r = world.run(custody.proclaim, "IO-101", case, "Kashif")
    assert r["until"] == "2024-04-03T19:00:00.000000Z"  # 4 April 00:00 PKT: 30 days after 5 March
    (clock,) = clock_view(world, case, "proclamation", "Kashif")
    assert clock["status"] == "pending"
    world.now = pkt("2024-04-04 00:00")
    assert clock_view(world, case, "proclamation", "Kashif")[0]["status"] == "met"


def test_absconder_arrested_before_the_date_meets_the_proclamation(world, case):
    at(world, "2024-03-05 10:00")
    world.run(custody.proclaim, "IO-101", case, "Kashif", appear_by="2024-04-10")
    at(world, "2024-03-20 10:00")
    world.run(custody.arrest, "IO-101", case, "Kashif")
    assert clock_view(world, case, "proclamation", "Kashif")[0]["status"] == "met"


def test_late_entry_needs_a_reason_and_is_counted(world, case):
    world.now = pkt("2024-03-05 10:00")
    with pytest.raises(BadInput, match="recorded 49 hours after it happened \\(more than 24\\): say why with --late-reason"):
        world.run(custody.arrest, "IO-101", case, "Bilal", at="2024-03-03T09:00")
    world.run(custody.arrest, "IO-101", case, "Bilal", at="2024-03-03T09:00", late_reason="register was with the SHO on raid duty")
    world.run(custody.produce, "IO-101", case, "Bilal", "JM", at="2024-03-05T09:00")  # an hour ago: not late
    with world.uow() as uow:
        late = [(e.action, e.reason) for e in uow.session.exec(select(LateEntry)).all()]
    assert late == [("custody_arrest", "register was with the SHO on raid duty")]
    assert world.run(cases.history, case)[-2]["payload"]["late_reason"] == "register was with the SHO on raid duty"
    assert world.run(reports.compliance, "district")["rows"][0]["late_entries"] == 1
    # the same rule for case steps
    world.now = pkt("2024-03-20 10:00")
    with pytest.raises(BadInput, match="--late-reason"):
        world.run(cases.advance, "SP-1", case, "mark_untraced", at="2024-03-10T10:00", override="test")


def test_a_verdict_before_the_filing_is_refused(world):
    w = world
    w.now = pkt("2024-03-02 02:00")
    ref = w.register(9, sections="379")
    w.run(cases.assign, "SHO-1", ref, "IO-101")
    w.run(cases.advance, "IO-101", ref, "start_investigation")
    at(w, "2024-03-10 10:00")
    w.run(cases.advance, "SP-1", ref, "submit_challan", override="test data")
    at(w, "2024-03-11 10:00")
    w.run(cases.advance, "PP-7", ref, "file_in_court")
    at(w, "2024-03-11 12:00")
    version = w.run(cases.show, ref)["version"]
    with pytest.raises(Refused, match="record_verdict at 2024-03-11 09:00 PKT is before file_in_court at 2024-03-11 10:00 PKT: the steps of a case happen in order"):
        w.run(cases.advance, "PP-7", ref, "record_verdict", outcome="convicted", at="2024-03-11T09:00")
    assert w.run(cases.show, ref)["version"] == version
    w.run(cases.advance, "PP-7", ref, "record_verdict", outcome="convicted", at="2024-03-11T11:00")


# -- pause / resume / extend ----------------------------------------------------------------
def test_pause_resume_moves_the_deadline_and_is_audited(world, case):
    at(world, "2024-03-10 14:00")
    with pytest.raises(Refused, match="role io may not pause clock challan"):
        world.run(clocks.pause, "IO-101", case, "challan", "stay")
    with pytest.raises(Refused, match="clock production cannot be paused"):
        world.run(clocks.pause, "SP-1", case, "production", "stay", accused="Bilal")
    world.run(clocks.pause, "SP-1", case, "challan", "LHC stay order W.P. 11/2024")
    world.now = pkt("2024-03-25 10:00")  # past the original deadlines: challan paused, so not breached
    assert clock_view(world, case, "challan")[0]["status"] == "pending"
    assert clock_view(world, case, "interim_report")[0]["status"] == "breached"  # not paused (due 19 March)
    assert [c["ref"] for c in world.run(cases.list_cases, overdue=True)] == [case]
    world.run(clocks.pause, "SHO-1", case, "interim_report", "LHC stay order W.P. 11/2024", at="2024-03-10T14:00", late_reason="stay order reached the station late")
    assert world.run(cases.list_cases, overdue=True) == []
    world.run(clocks.resume, "SHO-1", case, "interim_report", note="stay vacated")
    r = world.run(clocks.resume, "SP-1", case, "challan", note="stay vacated")
    assert r["due_local"] == "2024-04-01 23:59 PKT"  # 16 March + 16 days paused (10-25 March)
    (c,) = clock_view(world, case, "challan")
    assert (c["status"], c["paused_days"], c["base_due"]) == ("pending", 16, "2024-03-16T18:59:59.000000Z")
    assert clock_view(world, case, "interim_report")[0]["due_local"] == "2024-04-04 23:59 PKT"
    actions = [h["action"] for h in world.run(cases.history, case)]
    assert actions[-4:] == ["clock_pause", "clock_pause", "clock_resume", "clock_resume"]
    row = world.run(reports.compliance, "station")["rows"][0]
    assert (row["pauses"], row["late_entries"]) == (2, 1)
    with pytest.raises(Refused, match="cannot be extended"):
        world.run(clocks.extend, "SP-1", case, "challan", "more time", days=2)
    with pytest.raises(BadInput, match="unknown clock 'chalan'"):
        world.run(clocks.pause, "SP-1", case, "chalan", "x")


def test_clock_state_kept_step_by_step_equals_a_replay_of_the_audit_trail(world, case):
    at(world, "2024-03-02 10:00")
    world.run(custody.arrest, "IO-101", case, "Bilal")
    at(world, "2024-03-03 12:00")
    world.run(custody.remand, "IO-101", case, "Bilal", "physical", 4)
    at(world, "2024-03-08 10:00")
    world.run(clocks.pause, "SP-1", case, "challan", "stay")
    at(world, "2024-03-09 10:00")
    world.run(clocks.resume, "SP-1", case, "challan")
    world.run(custody.produce, "IO-101", case, "Bilal", "JM")
    before = _derived(world)
    with world.uow() as uow:
        clocks.rebuild(uow, uow.case(case))
        uow.commit()
    assert _derived(world) == before
    version = world.run(cases.show, case)["version"]
    with world.uow() as uow:
        assert clocks.rebuild_all(uow) == {"cases": 1, "events": version}
    assert _derived(world) == before


def _derived(world):
    from casechain.storage.tables import CaseTrack, Clock

    with world.uow() as uow:
        cl = sorted(
            (c.name, c.accused_id, c.started_at, c.due_at, c.met_at, c.paused_days, c.met_by, c.start_seq, c.io)
            for c in uow.session.exec(select(Clock)).all()
        )
        tr = [(t.holder, t.police_seconds, t.prosecution_seconds, t.io, t.late_entries, t.overrides, t.pauses) for t in uow.session.exec(select(CaseTrack)).all()]
    return cl, tr


# -- command line ------------------------------------------------------------------------------
def test_custody_commands(world):
    w = world
    w.now = pkt("2024-03-02 02:00")
    ref = w.register(5, accused=("Bilal",))
    w.run(cases.assign, "SHO-1", ref, "IO-101")

    def run(*args, actor="IO-101", code=0, now="2024-03-02T10:00"):
        env = {"CASECHAIN_NOW": now, "CASECHAIN_DB": w.url, "CASECHAIN_USER": actor}
        result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    r = run("custody", "arrest", ref, "--accused", "Bilal")
    assert r.stdout == f"{ref}: Bilal arrested (version 3)\n"
    r = run("custody", "remand", ref, "--accused", "Bilal", "--kind", "physical", "--days", "16", now="2024-03-03T09:00", code=1)
    assert r.stderr.splitlines() == [
        "error: physical remand for Bilal: 16 days exceed the limit of 15 days per order (CrPC s.167(2)); 0 days used so far",
        "error: physical remand for Bilal: 16 more days would make 16 days in all; the limit is 15 days in the whole (CrPC s.167(2)); 0 days already used",
        "error: only supervisor may record it anyway, with --override REASON",
    ]
    r = run("custody", "remand", ref, "--accused", "Bilal", "--kind", "physical", "--days", "7", now="2024-03-03T09:00")
    assert r.stdout == f"{ref}: Bilal physical remand until 2024-03-10 23:59 PKT (version 4)\n"
    view = json.loads(run("case", "show", ref, "--format", "json", now="2024-03-03T09:00").stdout)
    assert [(c["name"], c["accused"], c["status"]) for c in view["clocks"] if c["accused"]] == [("production", "Bilal", "met"), ("remand_physical", "Bilal", "pending")]
    assert view["custody"][0]["status"] == "physical_remand"
    table = run("case", "show", ref, now="2024-03-03T09:00").stdout
    assert "Statutory clocks" in table and "remand_physical" in table
    rows = json.loads(run("custody", "show", ref, "--format", "json").stdout)
    assert [r["act"] for r in rows] == ["arrest", "remand"]
    r = run("case", "pause", ref, "challan", "--reason", "stay", actor="SP-1", now="2024-03-04T10:00")
    assert r.stdout.startswith(f"{ref}: clock challan paused (version ")
    r = run("case", "resume", ref, "challan", actor="SP-1", now="2024-03-05T10:00")
    assert r.stdout.startswith(f"{ref}: clock challan resumed; due 2024-03-18 23:59 PKT (version ")
    r = run("custody", "arrest", ref, "--accused", "Bilal", "--at", "2024-03-02T08:00", now="2024-03-05T10:00", code=1)
    assert r.stderr == "error: arrest of Bilal at 2024-03-02 08:00 PKT is before the last custody entry (physical remand, 2024-03-03 09:00 PKT): custody entries happen in order; check --at\n"
    r = run("custody", "arrest", ref, "--accused", "Bilal", now="2024-03-05T10:00", code=1)
    assert r.stderr.startswith("error: Bilal is already in custody (physical remand since 2024-03-03 09:00 PKT)")
