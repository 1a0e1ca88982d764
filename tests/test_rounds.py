"""Scrutiny rounds and days held, from a two-round return-and-resubmit loop."""

from datetime import timedelta

import pytest

from casechain.services import cases, checklist, deficiencies, rounds


def _at(world, days):
    world.now = world.base + timedelta(days=days)


def test_two_rounds_and_days_held(world):
    world.base = world.now
    ref = world.under_investigation(7)  # FIR reported 2024-03-01 20:10 UTC; clock 2024-03-20 05:00 UTC
    world.complete_challan(ref)
    world.run(cases.advance, "IO-101", ref, "submit_challan")           # day 0: to prosecution
    _at(world, 2)
    d1 = world.run(deficiencies.flag, "PP-7", ref, "SITE_PLAN_MISSING", None)["id"]
    world.run(cases.advance, "PP-7", ref, "return_for_deficiencies")    # day 2: back to police
    _at(world, 7)
    world.run(deficiencies.respond, "IO-101", ref, d1, "plan redrawn", "SP-18")
    world.run(checklist.tick, "IO-101", ref, "site_plan", "SP-18")
    world.run(cases.advance, "IO-101", ref, "resubmit")                 # day 7: prosecution again
    _at(world, 8)
    d2 = world.run(deficiencies.flag, "PP-7", ref, "ROLE_NOT_STATED", "role of accused 2")["id"]
    world.run(cases.advance, "PP-7", ref, "return_for_deficiencies")    # day 8
    _at(world, 10)
    world.run(deficiencies.respond, "IO-101", ref, d2, "role stated")
    world.run(cases.advance, "IO-101", ref, "resubmit")                 # day 10
    _at(world, 11)
    world.run(deficiencies.resolve, "PP-7", ref, d1)
    world.run(deficiencies.resolve, "PP-7", ref, d2)
    world.run(cases.advance, "PP-7", ref, "file_in_court")              # day 11: court
    _at(world, 21)

    view = world.run(rounds.rounds, ref)
    got = [(r["round"], r["ended_with"], r["days_with_prosecution"], r["days_back_with_police"], r["deficiencies"]) for r in view["rounds"]]
    assert got == [
        (1, "return_for_deficiencies", 2.0, 5.0, ["SITE_PLAN_MISSING"]),
        (2, "return_for_deficiencies", 1.0, 2.0, ["ROLE_NOT_STATED"]),
        (3, "file_in_court", 1.0, None, []),
    ]
    held = view["days_held"]
    assert held["prosecution"] == pytest.approx(4.0)
    assert held["court"] == pytest.approx(10.0)
    # police: FIR to first submission (18.37 days) + 5 + 2 days back after returns
    assert held["police"] == pytest.approx(18.37 + 7.0, abs=0.01)
    assert world.run(cases.show, ref)["round"] == 2
