"""Statutory clocks: golden date arithmetic for every shipped clock, pauses,
extensions, holidays, status rules, and the SQL status agreeing with Python."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert, select
from sqlmodel import SQLModel

from casechain.calendars import load_calendar, parse_calendar
from casechain.domain import clocks as dc
from casechain.domain.errors import BadInput, Refused
from casechain.domain.sop import Sop, sop_problems
from casechain.domain.timeutil import LOCAL, UTC, parse_when
from casechain.resources import sops_dir
from casechain.sops import load_sop_file, parse_sop

DEFAULT = load_sop_file(sops_dir() / "default.yaml")


def pkt(text: str) -> datetime:
    """A wall-clock time in Pakistan, as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL).astimezone(UTC)


def due_of(clock: str, started: str, order_days: int | None = None) -> str:
    spec = DEFAULT.clock(clock)
    due = dc.start(spec, pkt(started), order_days).due()
    return due.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S")


# -- golden fixtures: every clock of the default SOP ------------------------------------
GOLDEN = [
    # clock, started (PKT), order days, due (PKT), why
    ("challan", "2024-03-02 23:50", None, "2024-03-16 23:59:59", "FIR late at night: the FIR's date counts, not 24-hour periods"),
    ("challan", "2024-03-02 00:10", None, "2024-03-16 23:59:59", "same date, just after midnight: same deadline"),
    ("challan", "2024-03-02 01:10", None, "2024-03-16 23:59:59", "01:10 PKT is still 1 March in UTC: the local date counts"),
    ("challan", "2024-03-03 00:00", None, "2024-03-17 23:59:59", "midnight starts the next day"),
    ("challan", "2024-01-31 10:00", None, "2024-02-14 23:59:59", "month end"),
    ("challan", "2024-01-20 18:00", None, "2024-02-03 23:59:59", "across a month end"),
    ("challan", "2024-02-15 09:00", None, "2024-02-29 23:59:59", "lands on the leap day"),
    ("challan", "2024-02-29 12:00", None, "2024-03-14 23:59:59", "starts on the leap day"),
    ("challan", "2024-02-20 12:00", None, "2024-03-05 23:59:59", "across February in a leap year"),
    ("challan", "2023-02-20 12:00", None, "2023-03-06 23:59:59", "across February in a common year"),
    ("challan", "2024-12-25 21:00", None, "2025-01-08 23:59:59", "across the year end"),
    ("interim_report", "2024-03-02 23:50", None, "2024-03-19 23:59:59", "day 17 after a late-night FIR"),
    ("interim_report", "2024-02-12 08:00", None, "2024-02-29 23:59:59", "day 17 on the leap day"),
    ("interim_report", "2023-02-12 08:00", None, "2023-03-01 23:59:59", "day 17 in a common year"),
    ("scrutiny", "2024-02-27 16:00", None, "2024-03-01 23:59:59", "3 days over the leap day"),
    ("scrutiny", "2023-02-27 16:00", None, "2023-03-02 23:59:59", "3 days, common year"),
    ("scrutiny", "2024-04-30 23:59", None, "2024-05-03 23:59:59", "received a minute before midnight"),
    ("production", "2024-03-05 23:30", None, "2024-03-06 23:30:00", "24 hours to the minute"),
    ("production", "2024-02-28 22:00", None, "2024-02-29 22:00:00", "into the leap day"),
    ("production", "2024-12-31 23:59", None, "2025-01-01 23:59:00", "into the new year"),
    ("remand_physical", "2024-03-05 11:00", 7, "2024-03-12 23:59:59", "a 7-day order runs to the end of its last day"),
    ("remand_physical", "2024-02-25 16:00", 5, "2024-03-01 23:59:59", "over the leap day"),
    ("remand_physical_ata", "2024-01-30 12:00", 30, "2024-02-29 23:59:59", "30 days of ATA custody end on the leap day"),
    ("remand_judicial", "2024-02-20 10:00", 15, "2024-03-06 23:59:59", "15 days over the leap day"),
    ("remand_judicial", "2024-01-31 10:00", 1, "2024-02-01 23:59:59", "a one-day order at month end"),
    ("proclamation", "2024-02-01 10:00", 30, "2024-03-02 00:00:00", "minimum period: the step is allowed from 00:00 of day 30 (leap year)"),
    ("proclamation", "2023-02-01 10:00", 30, "2023-03-03 00:00:00", "minimum period, common year"),
]


@pytest.mark.parametrize("clock,started,order_days,expected,why", GOLDEN, ids=[f"{g[0]}:{g[1]}" for g in GOLDEN])
def test_golden_deadlines(clock, started, order_days, expected, why):
    assert due_of(clock, started, order_days) == expected, why


def test_every_shipped_clock_has_a_golden_fixture():
    assert {c.name for c in DEFAULT.clocks} == {g[0] for g in GOLDEN}


def test_golden_in_utc():
    # 23:59:59 PKT is 18:59:59 UTC: what JSON output carries
    due = dc.start(DEFAULT.clock("challan"), pkt("2024-03-02 23:50")).due()
    assert due == datetime(2024, 3, 16, 18, 59, 59, tzinfo=timezone.utc)


# -- holidays ---------------------------------------------------------------------------
CAL = dc.Calendar("test", frozenset({date(2024, 3, 23)}), frozenset({6}))  # Pakistan Day (Sat), Sundays off


@pytest.mark.parametrize(
    "rule,expected",
    [
        ("count", date(2024, 3, 24)),  # Thu 21 + 3 = Sun 24: holidays count like any day
        ("next_working_day", date(2024, 3, 25)),  # Sunday is off: the last day moves to Monday
        ("skip", date(2024, 3, 26)),  # Fri 22, (Sat 23 holiday), (Sun 24 off), Mon 25, Tue 26
    ],
)
def test_holiday_rules(rule, expected):
    assert dc.last_day(date(2024, 3, 21), 3, rule, CAL) == expected
    due = dc.due_at(pkt("2024-03-21 09:00"), days=3, holidays=rule, calendar=CAL)
    assert due == dc.end_of_day(expected)


def test_next_working_day_leaves_a_working_last_day_alone():
    assert dc.last_day(date(2024, 3, 18), 3, "next_working_day", CAL) == date(2024, 3, 21)


def test_shipped_calendar_loads_and_bad_calendars_are_refused():
    cal = load_calendar("national")
    assert date(2024, 8, 14) in cal.holidays and not cal.working(date(2024, 8, 14))
    assert not cal.working(date(2024, 3, 24))  # a Sunday
    assert cal.working(date(2024, 3, 25))
    with pytest.raises(BadInput, match="not found"):
        load_calendar("atlantis")
    with pytest.raises(BadInput, match=r"holidays\[0\]: give a date"):
        parse_calendar("holidays: [{date: 24-03-2024}]", "x.yaml")
    with pytest.raises(BadInput, match="'caturday' is not a day of the week"):
        parse_calendar("weekly_off: [caturday]", "x.yaml")


def test_sop_rejects_holiday_rules_without_calendar():
    data = DEFAULT.model_dump(by_alias=True)
    data["clocks"][0]["holidays"] = "skip"
    out = sop_problems(Sop.model_validate(data))
    assert ("clocks[0](challan).holidays", "name the holiday calendar of the SOP (calendar: NAME, a file in sops/calendars/)") in out
    data["calendar"] = "national"
    assert sop_problems(Sop.model_validate(data)) == []


def test_sop_rejects_inconsistent_clock_specs():
    data = DEFAULT.model_dump(by_alias=True)
    data["clocks"][0]["extendable_by"] = ["supervisor"]  # no cap
    data["clocks"][3]["limit_from"] = "order"  # production is not an order
    data["clocks"][0]["per"] = "accused"  # challan starts on register, not custody
    data["clocks"][7]["pausable"] = True  # a minimum period
    data["clocks"][1]["starts_on"] = ["register", "custody.sneeze"]
    out = dict(sop_problems(Sop.model_validate(data)))
    assert out["clocks[0](challan).max_extension"].startswith("say how far")
    assert out["clocks[3](production).limit_from"].startswith("only remand orders")
    assert out["clocks[0](challan).per"].startswith("a clock per accused")
    assert out["clocks[7](proclamation).kind"] == "a minimum period cannot be paused or extended"
    assert out["clocks[1](interim_report).starts_on"] == "unknown event 'custody.sneeze'"


# -- pauses and extensions ------------------------------------------------------------------
def challan(started="2024-03-02 10:00") -> dc.ClockState:
    return dc.start(DEFAULT.clock("challan"), pkt(started))


def test_pause_excludes_whole_days_both_ends_included():
    c = dc.pause(challan(), pkt("2024-03-10 14:00"))
    assert dc.status(c, c.due(), pkt("2024-04-30 00:00")) == "pending"  # paused: never breached
    c = dc.resume(c, pkt("2024-03-12 09:00"))
    assert c.paused_days == 3  # 10, 11 and 12 March
    assert c.due() == pkt("2024-03-19 23:59:59")
    assert c.base_due() == pkt("2024-03-16 23:59:59")


def test_pause_and_resume_the_same_day_costs_one_day():
    c = dc.resume(dc.pause(challan(), pkt("2024-03-10 10:00")), pkt("2024-03-10 15:00"))
    assert c.due() == pkt("2024-03-17 23:59:59")


def test_hour_clock_pause_adds_exact_time():
    c = dc.start(DEFAULT.clock("production"), pkt("2024-03-05 10:00"))
    c = dc.resume(dc.pause(c, pkt("2024-03-05 12:00")), pkt("2024-03-05 14:30"))
    assert c.due() == pkt("2024-03-06 12:30")


def test_pause_refusals():
    c = challan()
    with pytest.raises(Refused, match="expired at 2024-03-16 23:59 PKT"):
        dc.pause(c, pkt("2024-03-17 00:00"))
    with pytest.raises(Refused, match="started at"):
        dc.pause(c, pkt("2024-03-01 00:00"))
    p = dc.pause(c, pkt("2024-03-05 00:00"))
    with pytest.raises(Refused, match="already paused"):
        dc.pause(p, pkt("2024-03-06 00:00"))
    with pytest.raises(Refused, match="cannot resume before"):
        dc.resume(p, pkt("2024-03-04 00:00"))
    with pytest.raises(Refused, match="is not paused"):
        dc.resume(c, pkt("2024-03-06 00:00"))
    with pytest.raises(Refused, match="already met"):
        dc.pause(dc.meet(c, pkt("2024-03-06 00:00")), pkt("2024-03-07 00:00"))
    minimum = dc.start(DEFAULT.clock("proclamation"), pkt("2024-03-05 10:00"), 30)
    with pytest.raises(Refused, match="minimum period"):
        dc.pause(minimum, pkt("2024-03-06 10:00"))


def test_extension_within_cap_and_refusals():
    spec = type(DEFAULT.clock("scrutiny")).model_validate({**DEFAULT.clock("scrutiny").model_dump(), "extendable_by": ["supervisor"], "max_extension": {"days": 3}})
    c = dc.start(spec, pkt("2024-03-10 12:00"))
    assert c.due() == pkt("2024-03-13 23:59:59")
    c = dc.extend(c, spec, pkt("2024-03-12 10:00"), days=2)
    assert c.due() == pkt("2024-03-15 23:59:59")
    with pytest.raises(Refused, match=r"would make 4 days in all; the SOP allows at most 3 days \(2 already used\)"):
        dc.extend(c, spec, pkt("2024-03-12 11:00"), days=2)
    with pytest.raises(Refused, match="counts days: extend it with --days N"):
        dc.extend(c, spec, pkt("2024-03-12 11:00"), hours=5)
    with pytest.raises(Refused, match="expired"):
        dc.extend(c, spec, pkt("2024-03-16 00:00"), days=1)
    with pytest.raises(Refused, match="cannot be extended"):
        dc.extend(c, DEFAULT.clock("challan"), pkt("2024-03-12 11:00"), days=1)


# -- status ----------------------------------------------------------------------------------
def test_status_rules():
    c = challan("2024-03-02 10:00")
    due = c.due()
    assert dc.status(c, due, pkt("2024-03-02 09:59")) is None  # not started yet
    assert dc.status(c, due, pkt("2024-03-16 23:59:59")) == "pending"
    assert dc.status(c, due, pkt("2024-03-17 00:00")) == "breached"
    on_time = dc.meet(c, pkt("2024-03-16 23:00"))
    assert dc.status(on_time, due, pkt("2024-03-16 22:00")) == "pending"  # not yet known then
    assert dc.status(on_time, due, pkt("2024-03-20 00:00")) == "met"
    late = dc.meet(c, pkt("2024-03-17 08:00"))
    assert dc.status(late, due, pkt("2024-03-17 07:00")) == "breached"
    assert dc.status(late, due, pkt("2024-03-17 09:00")) == "breached"  # met late stays breached
    m = dc.start(DEFAULT.clock("proclamation"), pkt("2024-02-01 10:00"), 30)
    assert dc.status(m, m.due(), pkt("2024-03-01 23:59")) == "pending"
    assert dc.status(m, m.due(), pkt("2024-03-02 00:00")) == "met"
    assert dc.status(dc.meet(m, pkt("2024-02-10 10:00")), m.due(), pkt("2024-02-11 10:00")) == "met"  # arrested: appeared
    assert dc.status(dc.start(DEFAULT.clock("proclamation"), pkt("2024-02-01 10:00"), 20, violated=True), m.due(), pkt("2024-02-02")) == "breached"


# -- properties --------------------------------------------------------------------------------
BASE = datetime(2024, 1, 1, tzinfo=UTC)
instants = st.integers(min_value=0, max_value=120 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m))


@st.composite
def clock_histories(draw):
    """A clock of a random shipped kind, put through random pauses, extensions and a meet."""
    name = draw(st.sampled_from([c.name for c in DEFAULT.clocks]))
    spec = DEFAULT.clock(name)
    if draw(st.booleans()) and spec.kind == "deadline":
        cap = {"days": 5} if spec.limit.days is not None else {"hours": 48}
        spec = type(spec).model_validate({**spec.model_dump(), "pausable": True, "extendable_by": ["supervisor"], "max_extension": cap})
    started = draw(instants)
    order = draw(st.integers(1, 40)) if spec.limit_from == "order" else None
    clock = dc.start(spec, started, order, violated=draw(st.integers(0, 9)) == 0)
    at = started
    for op in draw(st.lists(st.sampled_from(["pause", "resume", "extend", "meet"]), max_size=5)):
        at = at + timedelta(minutes=draw(st.integers(0, 10 * 24 * 60)))
        try:
            if op == "pause":
                clock = dc.pause(clock, at)
            elif op == "resume":
                clock = dc.resume(clock, at)
            elif op == "extend":
                clock = dc.extend(clock, spec, at, days=1 if clock.days is not None else None, hours=None if clock.days is not None else 6)
            elif clock.met_at is None:
                clock = dc.meet(clock, at)
        except Refused:
            pass
    return clock


@settings(max_examples=300, deadline=None)
@given(clock_histories(), instants, instants)
def test_breached_never_returns_to_pending_or_met(clock, a, b):
    early, late = min(a, b), max(a, b)
    due = clock.due()
    before, after = dc.status(clock, due, early), dc.status(clock, due, late)
    assert before in (None, *dc.STATUSES) and after in (None, *dc.STATUSES)
    if before == "breached":
        assert after == "breached"
    if before == "met":
        assert after == "met"
    if before is not None:
        assert after is not None


@settings(max_examples=300, deadline=None)
@given(clock_histories())
def test_a_clock_is_never_both_met_and_breached(clock):
    """Met on time and breached exclude each other: once the clock is known
    to be met by its deadline, no later instant calls it breached, and a
    clock met after its deadline is never called met."""
    due = clock.due()
    probes = [clock.started_at + timedelta(hours=h) for h in range(0, 24 * 200, 7)]
    seen = {dc.status(clock, due, t) for t in probes} - {None}
    assert not {"met", "breached"} <= seen
    if clock.met_at is not None and not clock.violated and clock.kind == "deadline":
        final = dc.status(clock, due, clock.met_at + timedelta(days=1))
        assert final == ("met" if clock.met_at <= due else "breached")


def reference_status(clock: dc.ClockState, due: datetime, as_of: datetime) -> str | None:
    """The status rule as the module docstring words it, step by step."""
    if as_of < clock.started_at:
        return None
    if clock.violated:
        return "breached"
    met = clock.met_at if clock.met_at is not None and clock.met_at <= as_of else None
    if clock.kind == "minimum":
        return "met" if met is not None or as_of >= due else "pending"
    if clock.paused_at is not None and clock.paused_at <= as_of:
        return "pending"
    if met is not None:
        return "met" if met <= due else "breached"
    return "breached" if as_of > due else "pending"


@settings(max_examples=300, deadline=None)
@given(clock_histories(), instants)
def test_stored_window_gives_the_worded_rule(clock, as_of):
    assert dc.status(clock, clock.due(), as_of) == reference_status(clock, clock.due(), as_of)
    met_from, breached_after = dc.window(clock, clock.due())
    assert met_from is None or breached_after is None


# -- the SQL status equals the Python status ---------------------------------------------------
def _row(clock: dc.ClockState, i: int) -> dict:
    return {
        "id": i,
        "case_id": 1,
        "name": clock.name,
        "station": "CLN",
        "district": "Lahore",
        "reported_at": clock.started_at,
        "fir_month": "2024-01",
        "kind": clock.kind,
        "holidays": clock.holidays,
        "responsible": "io",
        "started_at": clock.started_at,
        "due_at": clock.due(),
        "base_due_at": clock.base_due(),
        "met_at": clock.met_at,
        "met_from": dc.window(clock, clock.due())[0],
        "breached_after": dc.window(clock, clock.due())[1],
        "limit_days": clock.days,
        "limit_hours": clock.hours,
        "paused_at": clock.paused_at,
        "paused_days": clock.paused_days,
        "paused_seconds": clock.paused_seconds,
        "pauses": clock.pauses,
        "extra_days": clock.extra_days,
        "extra_hours": clock.extra_hours,
        "violated": clock.violated,
        "start_seq": 1,
    }


def _sql_statuses(engine, clocks: list[dc.ClockState], as_of: datetime) -> dict[int, str]:
    from casechain import reports
    from casechain.storage.tables import Clock

    c = Clock.__table__
    with engine.begin() as conn:
        conn.execute(c.delete())
        conn.execute(insert(c), [_row(k, i) for i, k in enumerate(clocks, start=1)])
        t = reports._t(as_of)
        q = select(c.c.id, reports.status_expr(t)).where(c.c.started_at <= t)
        return dict(conn.execute(q).all())


def _python_statuses(clocks, as_of):
    out = {}
    for i, k in enumerate(clocks, start=1):
        s = dc.status(k, k.due(), as_of)
        if s is not None:
            out[i] = s
    return out


@pytest.fixture(scope="module")
def bare_sqlite():
    from casechain.storage.tables import Clock

    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine, tables=[Clock.__table__])
    yield engine
    engine.dispose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(clock_histories(), min_size=1, max_size=12), instants)
def test_sql_status_matches_python_sqlite(bare_sqlite, clocks, as_of):
    assert _sql_statuses(bare_sqlite, clocks, as_of) == _python_statuses(clocks, as_of)


def test_sql_status_matches_python_on_every_backend(world):
    """The same check with a fixed random sample, on SQLite and PostgreSQL."""
    world.register(1)  # case id 1, which the rows below belong to
    rng = random.Random(4)
    clocks = []
    spec_names = [c.name for c in DEFAULT.clocks]
    for _ in range(150):
        spec = DEFAULT.clock(rng.choice(spec_names))
        started = BASE + timedelta(minutes=rng.randrange(0, 90 * 24 * 60))
        k = dc.start(spec, started, rng.randint(1, 35) if spec.limit_from == "order" else None, violated=rng.random() < 0.05)
        if rng.random() < 0.3 and spec.kind == "deadline":
            try:
                k = dc.pause(k, started + timedelta(hours=rng.randint(0, 100)))
                if rng.random() < 0.6:
                    k = dc.resume(k, k.paused_at + timedelta(hours=rng.randint(0, 200)))
            except Refused:
                pass
        if rng.random() < 0.6:
            k = dc.meet(k, started + timedelta(hours=rng.randint(0, 30 * 24)))
        clocks.append(k)
    for step in range(0, 130, 3):
        as_of = BASE + timedelta(days=step, hours=rng.randint(0, 23))
        assert _sql_statuses(world.engine, clocks, as_of) == _python_statuses(clocks, as_of), as_of


def test_parse_when_reads_pakistan_time():
    # the convention rests on this: typed times are Pakistan time
    assert parse_when("2024-03-02T01:10") == datetime(2024, 3, 1, 20, 10, tzinfo=UTC)


def test_default_sop_clocks_parse_from_text():
    text = (sops_dir() / "default.yaml").read_text(encoding="utf-8")
    sop = parse_sop(text, "default.yaml")
    assert sop.clock("scrutiny").starts_on == ["submit_challan", "submit_interim", "submit_cancellation", "resubmit"]
    assert sop.clock("remand_physical").max_total.days == 15
    assert sop.clock("remand_judicial").limit.days == 15 and sop.clock("remand_judicial").max_total is None
