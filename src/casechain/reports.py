"""Report queries: SQL aggregates over ``clock`` and ``case_track``.

Each report is a few GROUP BY queries over indexed, denormalised columns (the
hook in ``services/clocks.py`` keeps them), so the database does the counting
and Python only touches one row per group. A clock's status as of an instant T
is stored as two instants (``domain.clocks.window``): it is met if
``met_from <= T``, breached if ``breached_after < T``, pending otherwise; so a
report counts with two comparisons per row, from a covering index on SQLite
(a test checks SQL and Python agree).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, literal, literal_column, or_, select, true
from sqlalchemy.orm import Session

from casechain.storage.tables import Accused, Case, CaseTrack, Clock, Officer

GROUPS = ("district", "station", "io", "prosecutor")
NONE_GROUP = "(none)"


def _t(as_of: datetime, name: str = "as_of"):
    return bindparam(name, as_of, type_=Clock.__table__.c.due_at.type)


def status_expr(t):
    """SQL for ``domain.clocks.status`` of a (started) clock row as of ``t``."""
    c = Clock.__table__.c
    return case(
        (c.met_from <= t, literal("met")),
        (c.breached_after < t, literal("breached")),
        else_=literal("pending"),
    )


def _status_counts(t):
    """count(started), count(met), count(breached) as of ``t``: pending is the rest."""
    c = Clock.__table__.c
    return (
        func.count().label("started"),
        func.sum(case((c.met_from <= t, 1), else_=0)).label("met"),
        func.sum(case((c.breached_after < t, 1), else_=0)).label("breached"),
    )


def open_at(t, due_before=None, sqlite: bool = False):
    """Unmet, running (not paused) deadline clocks as of ``t``: with ``due_before``,
    only those falling due before it or breached by an order beyond the law.

    Written as an OR of index ranges (ix_clock_open_due, ix_clock_violated) so
    the database reads only the clocks concerned, not every clock."""
    c = Clock.__table__.c
    if due_before is None:
        unmet = or_(c.met_at.is_(None), c.met_at > t)
    else:
        unmet = or_(
            and_(c.met_at.is_(None), c.due_at < due_before),
            and_(c.met_at > t, c.due_at < due_before),
            and_(c.violated == true(), c.met_at.is_(None)),
            and_(c.violated == true(), c.met_at > t),
        )
    return and_(unmet, c.kind == "deadline", _plain(c.started_at, sqlite) <= t, or_(c.paused_at.is_(None), c.paused_at > t))


def _seconds_between(session: Session, later, earlier):
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


COVERED = ("station", "district")  # groupings with a covering index (tables.py)


def _plain(col, sqlite: bool):
    """``col`` that SQLite may not use an index for (a unary +).

    Given statistics (ANALYZE), SQLite likes to skip-scan a report index for
    a time range and fetch every row from the table, which is many times
    slower than reading the table once; ``+col`` rules that plan out."""
    if not sqlite:
        return col
    return literal_column(f"+{col.table.name}.{col.name}", type_=col.type)


def _is_sqlite(session: Session | None) -> bool:
    return session is not None and session.get_bind().dialect.name == "sqlite"


def _case_filter(cols, as_of, start, end, session: Session | None = None, by: str | None = None):
    reported = _plain(cols.reported_at, _is_sqlite(session) and by not in COVERED)
    conds = [reported <= as_of]
    if start is not None:
        conds.append(reported >= start)
    if end is not None:
        conds.append(reported < end)
    return and_(*conds)


def compliance(session: Session, by: str, as_of: datetime, start: datetime | None = None, end: datetime | None = None) -> tuple[list[dict], list[tuple]]:
    """(per-group case figures, [(group, clock, started, met, breached)]) for FIRs reported in [start, end) and by ``as_of``."""
    if by not in GROUPS:
        raise ValueError(by)
    t = _t(as_of)
    tr = CaseTrack.__table__.c
    g = tr[by]
    day = 86400.0
    open_police = case((and_(tr.holder == "police", tr.holder_since < t), _seconds_between(session, t, tr.holder_since)), else_=0.0)
    open_pros = case((and_(tr.holder == "prosecution", tr.holder_since < t), _seconds_between(session, t, tr.holder_since)), else_=0.0)
    q1 = (
        select(
            g.label("g"),
            func.count().label("cases"),
            func.avg(tr.rounds * 1.0).label("rounds"),
            func.avg((tr.police_seconds + open_police) / day).label("police_days"),
            func.avg((tr.prosecution_seconds + open_pros) / day).label("prosecution_days"),
            func.sum(tr.overrides).label("overrides"),
            func.sum(tr.late_entries).label("late_entries"),
            func.sum(tr.pauses).label("pauses"),
            func.sum(tr.extensions).label("extensions"),
        )
        .where(_case_filter(tr, t, start, end, session, by))
        .group_by(g)
    )
    groups = [dict(r._mapping) for r in session.execute(q1)]
    c = Clock.__table__.c
    q2 = (
        select(c[by], c.name, *_status_counts(t))
        .where(_case_filter(c, t, start, end, session, by), _plain(c.started_at, _is_sqlite(session) and by not in COVERED) <= t)
        .group_by(c[by], c.name)
    )
    counts = [tuple(r) for r in session.execute(q2)]
    return groups, counts


def overdue(session: Session, as_of: datetime, within_hours: float = 24.0) -> list[dict]:
    """Running deadline clocks breached, or falling due within ``within_hours``, as of ``as_of``."""
    t = _t(as_of)
    horizon = _t(as_of + timedelta(hours=within_hours), "horizon")
    c = Clock.__table__.c
    q = (
        select(
            Case.ref,
            c.name,
            Accused.name.label("accused"),
            c.responsible,
            c.io,
            c.prosecutor,
            c.station,
            c.district,
            c.due_at,
            status_expr(t).label("status"),
        )
        .select_from(Clock.__table__.join(Case, Case.id == c.case_id).outerjoin(Accused, Accused.id == c.accused_id))
        .where(open_at(t, horizon, _is_sqlite(session)))
        .order_by(c.due_at, Case.ref, c.name)
    )
    return [dict(r._mapping) for r in session.execute(q)]


def station_shos(session: Session) -> dict[str, str]:
    """Station code -> badge of its (first) active SHO: who answers for an unassigned case."""
    q = select(Officer.station, func.min(Officer.badge)).where(Officer.role == "sho", Officer.active == true()).group_by(Officer.station)
    return {s: b for s, b in session.execute(q) if s}


def oversight(session: Session, as_of: datetime, start: datetime | None = None, end: datetime | None = None) -> tuple[list[tuple], list[tuple]]:
    """([(district, month, cases)], [(district, month, clock, started, met, breached, custody_breached)]), nothing else."""
    t = _t(as_of)
    tr = CaseTrack.__table__.c
    q1 = (
        select(tr.district, tr.fir_month, func.count())
        .where(_case_filter(tr, t, start, end))
        .group_by(tr.district, tr.fir_month)
    )
    c = Clock.__table__.c
    custody_breached = func.sum(case((and_(c.accused_id.is_not(None), c.breached_after < t), 1), else_=0))
    q2 = (
        select(c.district, c.fir_month, c.name, *_status_counts(t), custody_breached)
        .where(_case_filter(c, t, start, end), c.started_at <= t)
        .group_by(c.district, c.name, c.fir_month)  # the order of ix_clock_district_report
    )
    return [tuple(r) for r in session.execute(q1)], [tuple(r) for r in session.execute(q2)]


def overdue_case_ids(as_of: datetime, sqlite: bool = False):
    """A sub-select of case ids with a breached running clock (``case list --overdue``)."""
    t = _t(as_of)
    c = Clock.__table__.c
    return select(c.case_id).where(open_at(t, t, sqlite))
