"""The service path that every action takes: the clock hook and its replay
(one fold, two callers), the SOP cache, and --if-version checked first."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import CHALLAN_ITEMS, World
from sqlmodel import select

from casechain.domain.errors import Conflict
from casechain.domain.timeutil import LOCAL, UTC
from casechain.services import cases, checklist, clocks, custody, deficiencies
from casechain.services.common import sop_of
from casechain.storage.tables import CaseTrack, Clock, LateEntry


def pkt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL).astimezone(UTC)


def _derived(world) -> tuple:
    """Every derived row, without surrogate ids, in a stable order."""
    with world.uow() as uow:
        clock_rows = sorted(
            tuple(str(v) for k, v in c.model_dump().items() if k != "id") for c in uow.session.exec(select(Clock)).all()
        )
        tracks = sorted(tuple(str(v) for v in t.model_dump().values()) for t in uow.session.exec(select(CaseTrack)).all())
        late = sorted(tuple(str(v) for v in e.model_dump().values()) for e in uow.session.exec(select(LateEntry)).all())
    return clock_rows, tracks, late


def _busy_world(world) -> int:
    """Five cases in different places: a challan through scrutiny and back,
    custody with remand and production, a stay and its end, a late entry, a
    case in another district. Returns the number of audit events."""
    world.now = pkt("2024-03-02 02:00")
    a, b, _d1, d2 = world.two_cases()
    world.now = pkt("2024-03-03 12:00")
    world.run(cases.advance, "PP-7", b, "return_for_deficiencies")
    world.run(deficiencies.respond, "IO-101", b, d2, "forensic report attached", "PFSA 12")
    world.run(cases.advance, "IO-101", b, "resubmit")
    world.run(deficiencies.resolve, "PP-7", b, d2)
    world.run(cases.advance, "PP-7", b, "file_in_court")
    world.run(custody.arrest, "IO-101", a, "Bilal", at="2024-03-02T10:00", late_reason="entered from the station diary")
    world.run(custody.remand, "IO-101", a, "Bilal", "physical", 4)
    world.now = pkt("2024-03-05 10:00")
    world.run(clocks.pause, "SP-1", a, "challan", "LHC stay W.P. 1/2024")
    world.now = pkt("2024-03-07 10:00")
    world.run(clocks.resume, "SP-1", a, "challan", note="stay vacated")
    world.run(custody.produce, "IO-101", a, "Bilal", "JM Lahore")
    c = world.register(125, station="MDL", accused=("Ali", "Zafar"))
    world.run(cases.assign, "SHO-3", c, "IO-301")
    world.run(cases.advance, "IO-301", c, "start_investigation")
    world.run(custody.proclaim, "IO-301", c, "Zafar")
    d = world.register(7, station="KHI")
    world.run(cases.assign, "SHO-2", d, "IO-201")
    world.run(cases.advance, "IO-201", d, "start_investigation")
    for item in CHALLAN_ITEMS:
        world.run(checklist.tick, "IO-201", d, item, f"ref {item}")
    for item in ("recovery_memos", "case_property"):
        world.run(checklist.not_applicable, "IO-201", d, item, "none")
    world.run(cases.advance, "IO-201", d, "submit_challan")
    d3 = world.run(deficiencies.flag, "PP-9", d, "FORENSIC_MISSING", None)["id"]
    world.run(cases.advance, "PP-9", d, "return_for_deficiencies")
    world.run(deficiencies.respond, "IO-201", d, d3, "sent to PFSA", "PFSA 99")
    world.run(cases.advance, "IO-201", d, "resubmit")
    e = world.register(126)
    return sum(world.run(cases.show, ref)["version"] for ref in (a, b, c, d, e))


def test_rebuild_all_equals_the_figures_kept_step_by_step(world):
    events = _busy_world(world)
    before = _derived(world)
    assert before[0] and before[1] and before[2]  # clocks, figures and a late entry to compare
    with world.uow() as uow:
        assert clocks.rebuild_all(uow, batch=2) == {"cases": 5, "events": events}  # batches of 2, 2 and 1
    assert _derived(world) == before
    with world.uow() as uow:  # one case alone gives the same rows too
        clocks.rebuild(uow, uow.case("CLN/123/2024"))
        uow.commit()
    assert _derived(world) == before


def test_rebuild_all_derives_rows_for_events_loaded_without_them(world):
    """What a bulk loader does: events inserted, derived rows missing."""
    _busy_world(world)
    before = _derived(world)
    with world.uow() as uow:
        for table in (Clock, LateEntry, CaseTrack):
            uow.session.exec(table.__table__.delete())
        uow.commit()
    assert _derived(world) == ([], [], [])
    with world.uow() as uow:
        clocks.rebuild_all(uow)
    assert _derived(world) == before


def test_a_stale_if_version_is_a_conflict_before_any_rule(world):
    world.now = pkt("2024-03-02 02:00")
    a, _b, _d1, _d2 = world.two_cases()
    version = world.run(cases.show, a)["version"]
    # Each of these would also break a rule (nobody is arrested, no clock is paused):
    # the user who saw an older version learns that first (exit 3, not 1).
    for action, args in (
        (custody.produce, ("IO-101", a, "Bilal", "JM")),
        (custody.release, ("IO-101", a, "Bilal", "bail")),
        (clocks.resume, ("SP-1", a, "challan")),
        (clocks.pause, ("IO-101", a, "challan", "stay")),
    ):
        with pytest.raises(Conflict, match=f"at version {version}, not {version - 1}"):
            world.run(action, *args, expected_version=version - 1)


def test_each_database_gets_its_own_sop_even_under_one_name(tmp_path):
    """The SOP cache is per database: a second database in the same process
    with another text under the same name@version gets its own."""
    from dataclasses import replace

    from casechain.services import admin
    from casechain.sops import load_sop, shipped_sop_files
    from casechain.storage.db import create_schema

    one = World(f"sqlite:///{tmp_path / 'one.db'}").setup()
    two = World(f"sqlite:///{tmp_path / 'two.db'}")
    try:
        loaded = load_sop(next(p for p in shipped_sop_files() if p.stem == "default"))
        changed = replace(loaded, sop=loaded.sop.model_copy(update={"title": "Another text"}), digest="0" * 64)
        with two.uow() as uow:
            create_schema(uow.engine)
            admin.store_sop(uow, changed, "test")
            uow.commit()
        with one.uow() as uow:
            first = sop_of(uow, "default", 1)
        with two.uow() as uow:
            assert sop_of(uow, "default", 1).title == "Another text"
        with one.uow() as uow:
            assert sop_of(uow, "default", 1) is first and first.title != "Another text"
    finally:
        one.dispose()
        two.dispose()
