"""Statutory clocks: deadline arithmetic, pauses, extensions and status. Pure.

The SOP declares each clock (``ClockSpec``: what starts it, its limit, what
meets it); this module only does the arithmetic, so the limits themselves
never appear in Python.

How time is counted (the convention, and why)
---------------------------------------------
* **Day limits count calendar dates in Pakistan time, not 24-hour periods.**
  A limit of N days that starts at instant *s* ends at **23:59:59
  Asia/Karachi on the date (local date of s) + N**. The first day is
  excluded, as the General Clauses Act 1897 s.9 directs for periods
  introduced by "from", and s.173 CrPC itself counts "fourteen days from the
  *date* of recording of the first information report". So an FIR recorded
  at 23:50 and one recorded at 00:10 the same day have the same deadline, and
  an FIR recorded at 01:10 PKT on 2 March (still 1 March in UTC) counts from
  2 March: dates are always taken in Asia/Karachi, never in UTC. The deadline
  is the last second of the last day; anything later is late.
* **Hour limits are exact instants**: production within 24 hours of arrest
  (Constitution Art.10(2), CrPC s.61) is arrest + 24 h to the second. The
  law excludes the journey to the Magistrate; casechain does not know the
  journey, so the 24 hours are counted strictly (a travel delay is explained
  with the production entry, not hidden by the clock).
* **Court orders run to the end of their last day**: a remand "for 7 days"
  ordered on 5 March must be followed by production by 23:59:59 on 12 March.
* **Minimum periods** (``kind: minimum``, the s.87 proclamation) are the
  other way round: the next step may be taken from 00:00 of the date
  (start date + N), i.e. after N whole days have passed.
* **Holidays.** Pakistan's statutes behind the shipped clocks do *not*
  exclude holidays: custody limits (Art.10(2), ss.61, 167, 344) protect
  liberty and run on holidays too (duty Magistrates sit), and s.173's 14 days
  are counted as calendar days. So every shipped clock uses ``holidays:
  count``. Where a province's law does exclude them (e.g. the rule of the
  General Clauses Act s.10 that an act due on a day an office is closed may be
  done on the next open day), an SOP sets ``holidays: next_working_day`` (the
  last day moves past holidays) or ``skip`` (only working days are counted)
  and names a calendar file (``sops/calendars/NAME.yaml``).
* **Pauses** (a court's stay): for day limits the stay excludes whole days,
  *including* the day it was ordered and the day it was lifted (the rule of
  Limitation Act 1908 s.15 for stays); for hour limits the exact time paused
  is added. While paused a clock is pending and cannot be breached.
* **Extensions** add days to a day limit (the deadline stays at 23:59:59) or
  hours to an hour limit, up to the SOP's ``max_extension`` in all.
* Pakistan has had no daylight saving since 2009; the arithmetic uses
  ``zoneinfo`` anyway, so historic dates are right too.

Status as of an instant T: not started yet (None) / breached if an order
beyond the legal limit was recorded / for minimum periods met once the period
has run (or the person appeared) / pending while paused / met if met by the
deadline / breached if met late or unmet after the deadline / otherwise
pending. ``window()`` turns this into two instants per clock (met from,
breached after) that the database stores, so reports count with two
comparisons per row. A clock has exactly one status, and once breached it
stays breached for every later T.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from casechain.domain.errors import Refused
from casechain.domain.sop import ClockSpec
from casechain.domain.timeutil import LAST_SECOND, LOCAL, UTC, as_utc, end_of_day, local_date, local_text, start_of_day  # noqa: F401  (day boundaries, used as dc.*)

STATUSES = ("pending", "met", "breached")
_MAX_SCAN = 3660  # a calendar in which ten years have no working day is broken


@dataclass(frozen=True)
class Calendar:
    """Public holidays (and weekly days off) of one province or office."""

    name: str = ""
    holidays: frozenset[date] = frozenset()
    weekly_off: frozenset[int] = frozenset()  # date.weekday(): Monday 0 ... Sunday 6

    def working(self, day: date) -> bool:
        return day not in self.holidays and day.weekday() not in self.weekly_off


NO_HOLIDAYS = Calendar()


def last_day(start: date, days: int, holidays: str = "count", calendar: Calendar = NO_HOLIDAYS) -> date:
    """The last day of a period of ``days`` days counted from (excluding) ``start``."""
    if holidays == "skip":
        day, counted = start, 0
        for _ in range(days + _MAX_SCAN):
            if counted >= days:
                return day
            day += timedelta(days=1)
            if calendar.working(day):
                counted += 1
        raise ValueError(f"calendar {calendar.name!r} has no working days after {start}")
    day = start + timedelta(days=days)
    if holidays == "next_working_day":
        for _ in range(_MAX_SCAN):
            if calendar.working(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"calendar {calendar.name!r} has no working days after {start}")
    return day


def due_at(
    started_at: datetime,
    days: int | None = None,
    hours: float | None = None,
    kind: str = "deadline",
    holidays: str = "count",
    calendar: Calendar = NO_HOLIDAYS,
) -> datetime:
    """When a clock started at ``started_at`` falls due (see the module's convention)."""
    started_at = as_utc(started_at)
    if days is not None:
        day = last_day(local_date(started_at), days, holidays, calendar)
        return start_of_day(day) if kind == "minimum" else end_of_day(day)
    if hours is None:
        raise ValueError("a clock needs days or hours")
    return started_at + timedelta(hours=hours)


# -- one clock ------------------------------------------------------------------
@dataclass(frozen=True)
class ClockState:
    """What a clock instance is made of; the storage row mirrors these fields."""

    name: str
    started_at: datetime
    days: int | None = None  # the limit (or the days a court ordered)
    hours: int | None = None
    kind: str = "deadline"
    holidays: str = "count"
    paused_at: datetime | None = None
    paused_days: int = 0
    paused_seconds: int = 0
    pauses: int = 0
    extra_days: int = 0
    extra_hours: int = 0
    met_at: datetime | None = None
    violated: bool = False  # an order beyond the legal limit was recorded (override)

    def due(self, calendar: Calendar = NO_HOLIDAYS) -> datetime:
        """The deadline now, with pauses and extensions."""
        if self.days is not None:
            return due_at(self.started_at, days=self.days + self.paused_days + self.extra_days, kind=self.kind, holidays=self.holidays, calendar=calendar)
        return due_at(self.started_at, hours=self.hours + self.extra_hours + self.paused_seconds / 3600, kind=self.kind)

    def base_due(self, calendar: Calendar = NO_HOLIDAYS) -> datetime:
        """The deadline as the law set it, before pauses and extensions."""
        return replace(self, paused_days=0, paused_seconds=0, extra_days=0, extra_hours=0).due(calendar)


def start(spec: ClockSpec, at: datetime, order_days: int | None = None, violated: bool = False) -> ClockState:
    """A new instance of ``spec`` started at ``at`` (``order_days``: a court's order)."""
    days, hours = spec.limit.days, spec.limit.hours
    if spec.limit_from == "order":
        if order_days is None:
            raise ValueError(f"clock {spec.name} runs for the days of an order; none given")
        days, hours = order_days, None
    return ClockState(spec.name, as_utc(at), days, hours, spec.kind, spec.holidays, violated=violated)


def window(clock: ClockState, due: datetime) -> tuple[datetime | None, datetime | None]:
    """(met_from, breached_after): the clock is met for every T >= met_from,
    breached for every T > breached_after, and pending otherwise (from its
    start). At most one of the two is set, so a clock is never both.

    This is the status rule of the module docstring in the form the database
    stores it (two indexed columns), so a report counts ``met_from <= T`` and
    ``breached_after < T`` instead of evaluating the rule row by row.
    """
    if clock.violated:  # an order beyond the law: breached from its start
        return None, clock.started_at - timedelta(microseconds=1)
    if clock.kind == "minimum":  # met when the period has run, or the person appeared
        return (min(clock.met_at, due) if clock.met_at is not None else due), None
    if clock.paused_at is not None:  # stopped before its deadline: pending until resumed
        return None, None
    if clock.met_at is not None and clock.met_at <= due:
        return clock.met_at, None
    return None, due  # unmet, or met late: breached once the deadline has passed


def status(clock: ClockState, due: datetime, as_of: datetime) -> str | None:
    """pending | met | breached as of ``as_of``; None if the clock had not started."""
    as_of = as_utc(as_of)
    if as_of < clock.started_at:
        return None
    met_from, breached_after = window(clock, due)
    if met_from is not None and as_of >= met_from:
        return "met"
    if breached_after is not None and as_of > breached_after:
        return "breached"
    return "pending"


def hours_over(due: datetime, as_of: datetime) -> float:
    """Hours past the deadline (negative: hours left)."""
    return round((as_utc(as_of) - as_utc(due)).total_seconds() / 3600, 1)


def meet(clock: ClockState, at: datetime) -> ClockState:
    """The clock met (or ended) at ``at``; a still-running pause ends there."""
    at = max(as_utc(at), clock.started_at)
    if clock.paused_at is not None:
        clock = resume(clock, max(at, clock.paused_at))
    return replace(clock, met_at=at)


def _open_check(clock: ClockState, at: datetime, calendar: Calendar, doing: str) -> None:
    if clock.met_at is not None:
        raise Refused(f"clock {clock.name} was already met at {local_text(clock.met_at)}; nothing to {doing}")
    if at < clock.started_at:
        raise Refused(f"clock {clock.name} started at {local_text(clock.started_at)}; it cannot {doing} before that")
    due = clock.due(calendar)
    if clock.paused_at is None and at > due:
        raise Refused(f"clock {clock.name} expired at {local_text(due)} (breached); an expired clock cannot {doing}")


def pause(clock: ClockState, at: datetime, calendar: Calendar = NO_HOLIDAYS) -> ClockState:
    """Stop the clock (a court's stay) from ``at``."""
    at = as_utc(at)
    if clock.kind == "minimum":
        raise Refused(f"clock {clock.name} is a minimum period; it cannot be paused")
    if clock.paused_at is not None:
        raise Refused(f"clock {clock.name} is already paused since {local_text(clock.paused_at)}")
    _open_check(clock, at, calendar, "be paused")
    return replace(clock, paused_at=at, pauses=clock.pauses + 1)


def resume(clock: ClockState, at: datetime) -> ClockState:
    """Restart a paused clock; its deadline moves by the time paused."""
    at = as_utc(at)
    if clock.paused_at is None:
        raise Refused(f"clock {clock.name} is not paused")
    if at < clock.paused_at:
        raise Refused(f"clock {clock.name} was paused at {local_text(clock.paused_at)}; it cannot resume before that")
    if clock.days is not None:  # whole days, both ends included (Limitation Act s.15)
        excluded = (local_date(at) - local_date(clock.paused_at)).days + 1
        return replace(clock, paused_at=None, paused_days=clock.paused_days + excluded)
    seconds = int((at - clock.paused_at).total_seconds())
    return replace(clock, paused_at=None, paused_seconds=clock.paused_seconds + seconds)


def extend(clock: ClockState, spec: ClockSpec, at: datetime, days: int | None = None, hours: int | None = None, calendar: Calendar = NO_HOLIDAYS) -> ClockState:
    """Move the deadline by ``days`` (day limits) or ``hours`` (hour limits), within the SOP's cap."""
    at = as_utc(at)
    cap = spec.max_extension
    if cap is None:
        raise Refused(f"clock {clock.name} cannot be extended (SOP: no max_extension)")
    if clock.days is not None:
        if hours is not None or not days:
            raise Refused(f"clock {clock.name} counts days: extend it with --days N")
        used, unit, limit = clock.extra_days, "days", cap.days or 0
    else:
        if days is not None or not hours:
            raise Refused(f"clock {clock.name} counts hours: extend it with --hours N")
        used, unit, limit = clock.extra_hours, "hours", cap.hours or 0
    asked = days if clock.days is not None else hours
    if asked <= 0:
        raise Refused(f"an extension must be a positive number of {unit}")
    _open_check(clock, at, calendar, "be extended")
    if used + asked > limit:
        raise Refused(
            f"extending {clock.name} by {asked} {unit} would make {used + asked} {unit} in all; "
            f"the SOP allows at most {limit} {unit} ({used} already used)"
        )
    if clock.days is not None:
        return replace(clock, extra_days=clock.extra_days + asked)
    return replace(clock, extra_hours=clock.extra_hours + asked)


# -- what an audit event means for clocks -----------------------------------------
def triggers(action: str, payload: dict) -> tuple[str, ...]:
    """The SOP trigger names an audit event fires: ``register``, an event name, ``custody.*``."""
    if action == "register":
        return ("register",)
    if action == "advance":
        return (payload["event"],)
    if action.startswith("custody_"):
        act = action.removeprefix("custody_")
        if act == "remand":
            return ("custody.remand", f"custody.remand.{payload['kind']}")
        return (f"custody.{act}",)
    return ()


def order_problems(spec: ClockSpec, what: str, days: int, used: int = 0) -> list[str]:
    """Why an order of ``days`` days breaks the SOP's limits for ``spec`` (empty: lawful).

    For a deadline clock driven by orders (remand), ``limit`` caps one order
    and ``max_total`` all orders for one accused; for a minimum period
    (proclamation) the order must give at least ``limit``.
    """
    out = []
    cap = spec.limit.days
    if spec.kind == "minimum":
        if days < cap:
            out.append(f"{what}: {days} days given; {spec.section} requires at least {cap} days")
        return out
    if days > cap:
        out.append(f"{what}: {days} days exceed the limit of {cap} days per order ({spec.section}); {used} days used so far")
    if spec.max_total is not None and used + days > spec.max_total.days:
        out.append(
            f"{what}: {days} more days would make {used + days} days in all; the limit is "
            f"{spec.max_total.days} days in the whole ({spec.section}); {used} days already used"
        )
    return out
