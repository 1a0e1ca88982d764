"""Report queries: SQL aggregates over ``clock`` and ``case_track``.

Each report is a few GROUP BY queries over indexed, denormalised columns (the
hook in ``services/clocks.py`` keeps them), so the database does the counting
and Python only touches one row per group. A clock's status as of an instant T
is stored as two instants (``domain.clocks.window``): it is met if
``met_from <= T``, breached if ``breached_after < T``, pending otherwise; so a
report counts with two comparisons per row, from a covering index (a test
checks SQL and Python agree).

The queries name the columns they read in lightweight SQLAlchemy Core tables
(below) rather than importing the models: a report is a read-only command
whose start-up would otherwise be mostly the ORM's import (tests check these
columns against ``storage/tables.py``). They run on a Session or a plain
Connection alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Boolean, DateTime, Integer, String, and_, bindparam, case, column, func, literal, literal_column, or_, select, table, true
from sqlalchemy.types import TypeDecorator

GROUPS = ("district", "station", "io", "prosecutor")
NONE_GROUP = "(none)"


class UTCDateTime(TypeDecorator):
    """Aware UTC in, aware UTC out (as the models' datetime columns): SQLite
    stores naive UTC text, PostgreSQL ``timestamptz``."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


clock = table(
    "clock",
    column("id", Integer),
    column("case_id", Integer),
    column("name", String),
    column("accused_id", Integer),
    *[column(g, String) for g in ("station", "district", "io", "prosecutor")],
    column("reported_at", UTCDateTime),
    column("fir_month", String),
    column("kind", String),
    column("responsible", String),
    column("started_at", UTCDateTime),
    column("due_at", UTCDateTime),
    column("met_at", UTCDateTime),
    column("met_from", UTCDateTime),
    column("breached_after", UTCDateTime),
    column("paused_at", UTCDateTime),
    column("violated", Boolean),
)

case_track = table(
    "case_track",
    column("case_id", Integer),
    *[column(g, String) for g in ("station", "district", "io", "prosecutor")],
    column("reported_at", UTCDateTime),
    column("fir_month", String),
    column("rounds", Integer),
    column("holder", String),
    column("holder_since", UTCDateTime),
    column("police_seconds", Integer),
    column("prosecution_seconds", Integer),
    column("overrides", Integer),
    column("late_entries", Integer),
    column("pauses", Integer),
    column("extensions", Integer),
)

case_ = table("case", column("id", Integer), column("ref", String))
accused = table("accused", column("id", Integer), column("name", String))
officer = table("officer", column("badge", String), column("role", String), column("station", String), column("active", Boolean))
sop = table("sop", column("name", String), column("version", Integer), column("body", String))

TABLES = {"clock": clock, "case_track": case_track, "case": case_, "accused": accused, "officer": officer, "sop": sop}


def _t(as_of: datetime, name: str = "as_of"):
    return bindparam(name, as_of, type_=UTCDateTime())


def _dialect(conn):
    """The dialect of a Session or a Connection."""
    return (conn.get_bind() if hasattr(conn, "get_bind") else conn).dialect


def _no_filter(dialect) -> bool:
    """SQLite before 3.30 has no aggregate FILTER clause."""
    return dialect is not None and dialect.name == "sqlite" and (dialect.server_version_info or (0,)) < (3, 30)


def _count_if(cond, dialect=None):
    """How many rows of the group satisfy ``cond``: ``count(*) FILTER (WHERE ...)``
    (cheaper than a sum of CASEs), or that sum where FILTER is missing."""
    if _no_filter(dialect):
        return func.sum(case((cond, 1), else_=0))
    return func.count().filter(cond)


def _sum_if(expr, cond, dialect=None):
    """The sum of ``expr`` over the rows of the group that satisfy ``cond`` (NULL if none)."""
    if _no_filter(dialect):
        return func.sum(case((cond, expr)))
    return func.sum(expr).filter(cond)


def status_expr(t):
    """SQL for ``domain.clocks.status`` of a (started) clock row as of ``t``.

    Bare column names, so that it applies to whichever ``clock`` table the
    enclosing query reads (the model's or the one above)."""
    return case(
        (column("met_from", UTCDateTime) <= t, literal("met")),
        (column("breached_after", UTCDateTime) < t, literal("breached")),
        else_=literal("pending"),
    )


def _status_counts(t, dialect=None):
    """count(started), count(met), count(breached) as of ``t``: pending is the rest."""
    c = clock.c
    return (
        func.count().label("started"),
        _count_if(c.met_from <= t, dialect).label("met"),
        _count_if(c.breached_after < t, dialect).label("breached"),
    )


def open_at(t, due_before=None, sqlite: bool = False):
    """Unmet, running (not paused) deadline clocks as of ``t``: with ``due_before``,
    only those falling due before it or breached by an order beyond the law.

    Written as an OR of index ranges (ix_clock_open_due, ix_clock_violated) so
    the database reads only the clocks concerned, not every clock."""
    c = clock.c
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


def _seconds_between(dialect, later, earlier):
    if dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _plain(col, sqlite: bool):
    """``col`` that SQLite may not use an index for (a unary +).

    Given statistics (ANALYZE), SQLite may prefer to range-scan an index on
    a time column and fetch every row from the table, which is many times
    slower than reading a covering index once; ``+col`` rules that plan out."""
    if not sqlite:
        return col
    return literal_column(f"+{col.table.name}.{col.name}", type_=col.type)


def _period(cols, t, start, end, sqlite: bool):
    """FIRs reported by ``t`` and in [start, end): ``reported_at`` is a trailing
    column of the covering index, so it is tested on each entry, not ranged."""
    reported = _plain(cols.reported_at, sqlite)
    conds = [reported <= t]
    if start is not None:
        conds.append(reported >= _t(start, "start"))
    if end is not None:
        conds.append(reported < _t(end, "end"))
    return and_(*conds)


def compliance(conn, by: str, as_of: datetime, start: datetime | None = None, end: datetime | None = None) -> tuple[list[tuple], list[tuple]]:
    """([(group, cases, rounds, police_days, prosecution_days, overrides, late_entries, pauses, extensions)],
    [(group, clock, started, met, breached)]) for FIRs reported in [start, end) and by ``as_of``;
    rounds and days are means per case.

    One pass over each table, each reading only its covering index for ``by``
    (``ix_track_<by>_report``, ``ix_clock_<by>_report``) in group order, with
    plain sums and filtered counts; the means are divided out here, per group."""
    if by not in GROUPS:
        raise ValueError(by)
    dialect = _dialect(conn)
    sqlite = dialect.name == "sqlite"
    t = _t(as_of)
    tr = case_track.c
    g = tr[by]
    held = _seconds_between(dialect, t, tr.holder_since)  # the spell still running at t
    q1 = (
        select(
            g,
            func.count(),
            func.sum(tr.rounds),
            func.sum(tr.police_seconds),
            func.sum(tr.prosecution_seconds),
            _sum_if(held, and_(tr.holder == "police", tr.holder_since < t), dialect),
            _sum_if(held, and_(tr.holder == "prosecution", tr.holder_since < t), dialect),
            func.sum(tr.overrides),
            func.sum(tr.late_entries),
            func.sum(tr.pauses),
            func.sum(tr.extensions),
        )
        .where(_period(tr, t, start, end, sqlite))
        .group_by(g)
    )
    day = 86400.0
    groups = []
    for group, n, rounds, police, prosecution, police_open, prosecution_open, *counts in conn.execute(q1):
        groups.append((
            group,
            n,
            float(rounds or 0) / n,
            (float(police or 0) + float(police_open or 0)) / day / n,
            (float(prosecution or 0) + float(prosecution_open or 0)) / day / n,
            *counts,
        ))
    c = clock.c
    q2 = (
        select(c[by], c.name, *_status_counts(t, dialect))
        .where(_period(c, t, start, end, sqlite), _plain(c.started_at, sqlite) <= t)
        .group_by(c[by], c.name)
    )
    counts = [tuple(r) for r in conn.execute(q2)]
    return groups, counts


def overdue(conn, as_of: datetime, within_hours: float = 24.0) -> list[dict]:
    """Running deadline clocks breached, or falling due within ``within_hours``, as of ``as_of``."""
    t = _t(as_of)
    horizon = _t(as_of + timedelta(hours=within_hours), "horizon")
    c = clock.c
    q = (
        select(
            case_.c.ref,
            c.name,
            accused.c.name.label("accused"),
            c.responsible,
            c.io,
            c.prosecutor,
            c.station,
            c.district,
            c.due_at,
            status_expr(t).label("status"),
        )
        .select_from(clock.join(case_, case_.c.id == c.case_id).outerjoin(accused, accused.c.id == c.accused_id))
        .where(open_at(t, horizon, _dialect(conn).name == "sqlite"))
        .order_by(c.due_at, case_.c.ref, c.name)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def station_shos(conn) -> dict[str, str]:
    """Station code -> badge of its (first) active SHO: who answers for an unassigned case."""
    o = officer.c
    q = select(o.station, func.min(o.badge)).where(o.role == "sho", o.active == true()).group_by(o.station)
    return {s: b for s, b in conn.execute(q) if s}


def sop_bodies(conn) -> list[tuple[str, int, str]]:
    """(name, version, body) of every stored SOP version: the default SOP first, then by name, newest first."""
    s = sop.c
    rows = [tuple(r) for r in conn.execute(select(s.name, s.version, s.body).order_by(s.name, s.version.desc()))]
    return sorted(rows, key=lambda r: r[0] != "default")


def oversight(conn, as_of: datetime, start: datetime | None = None, end: datetime | None = None) -> tuple[list[tuple], list[tuple]]:
    """([(district, month, cases)], [(district, month, clock, started, met, breached, custody_breached)]), nothing else."""
    t = _t(as_of)
    tr = case_track.c
    q1 = (
        select(tr.district, tr.fir_month, func.count())
        .where(_period(tr, t, start, end, False))
        .group_by(tr.district, tr.fir_month)
    )
    c = clock.c
    dialect = _dialect(conn)
    custody_breached = _count_if(and_(c.accused_id.is_not(None), c.breached_after < t), dialect)
    q2 = (
        select(c.district, c.fir_month, c.name, *_status_counts(t, dialect), custody_breached)
        .where(_period(c, t, start, end, False), c.started_at <= t)
        .group_by(c.district, c.name, c.fir_month)  # the order of ix_clock_district_report
    )
    return [tuple(r) for r in conn.execute(q1)], [tuple(r) for r in conn.execute(q2)]


def overdue_case_ids(as_of: datetime, sqlite: bool = False):
    """A sub-select of case ids with a breached running clock (``case list --overdue``)."""
    t = _t(as_of)
    return select(clock.c.case_id).where(open_at(t, t, sqlite))
