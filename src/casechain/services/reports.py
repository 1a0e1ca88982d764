"""Supervisor reports: compliance per group, overdue clocks, de-identified oversight.

Reports read only (no ``--as`` needed) and are reproducible: ``--as-of`` (or
``CASECHAIN_NOW``) fixes the instant at which every clock is judged. The
counting happens in SQL (``casechain.reports``); here the per-group rows are
shaped into the keys of CLI.md.

A report needs of its unit of work only ``session`` (a Session or a plain
Connection: it executes Core queries) and ``now()``. The command line runs
reports through :func:`reader`, a read-only connection that never imports the
ORM, the models or the SOP schema, so a report over a million cases is not
preceded by a second of imports; the services keep accepting a
``UnitOfWork``.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timedelta

from casechain import reports as sql
from casechain.domain.errors import BadInput
from casechain.domain.timeutil import as_utc, end_of_day, iso_utc, local_date, local_text, parse_when, start_of_day
from casechain.services.now import system_now

SUPPRESS_BELOW = 5


class Reader:
    """A read-only connection and the instant "now": all a report needs."""

    def __init__(self, session, now):
        self.session = session
        self.now = now


@contextmanager
def reader(db: str | None = None):
    """A :class:`Reader` on the database of ``--db``/``CASECHAIN_DB`` (one
    read transaction: every query of a report sees the same data)."""
    from casechain.storage.db import make_engine, resolve_url

    engine = make_engine(resolve_url(db))
    try:
        with engine.execution_options(casechain_readonly=True).connect() as conn:
            yield Reader(conn, system_now)
    finally:
        engine.dispose()


def as_of_instant(uow, as_of: str | None) -> datetime:
    """``--as-of``: a date means the end of that day (Pakistan time); default now."""
    if not as_of:
        return uow.now()
    text = as_of.strip()
    value = parse_when(text, "--as-of")
    if "T" not in text and " " not in text:
        value = end_of_day(local_date(value))
    return value


def period(date_from: str | None, date_to: str | None) -> tuple[datetime | None, datetime | None]:
    """``--from``/``--to`` (FIR dates, both included) as [start, end) instants."""
    start = start_of_day(local_date(parse_when(date_from, "--from"))) if date_from else None
    end = start_of_day(local_date(parse_when(date_to, "--to")) + timedelta(days=1)) if date_to else None
    if start is not None and end is not None and start >= end:
        raise BadInput(f"--from {date_from} is after --to {date_to}")
    return start, end


class ClockInfo:
    """What a report shows of an SOP clock: its name, title and legal section."""

    __slots__ = ("name", "title", "section")

    def __init__(self, name: str, title: str, section: str):
        self.name, self.title, self.section = name, title, section


def clock_specs(uow) -> dict[str, ClockInfo]:
    """Clock name -> its title and section, over every SOP loaded (the default SOP's first): the report's columns.

    Read from the stored SOP JSON (validated at init), not parsed into the SOP model."""
    out: dict[str, ClockInfo] = {}
    for _name, _version, body in sql.sop_bodies(uow.session):
        for spec in json.loads(body).get("clocks", ()):
            if spec["name"] not in out:
                out[spec["name"]] = ClockInfo(spec["name"], spec.get("title", spec["name"]), spec.get("section", ""))
    return out


def _clock_list(specs: dict) -> list[dict]:
    return [{"name": n, "title": s.title if s else n, "section": s.section if s else ""} for n, s in specs.items()]


def rate(met: int | None, breached: int | None) -> float | None:
    if met is None or breached is None or met + breached == 0:
        return None
    return round(met / (met + breached), 4)


def _clock_cells(names, counts: dict) -> dict:
    row = {}
    for name in names:
        met, breached, pending = (counts.get((name, s), 0) for s in ("met", "breached", "pending"))
        row.update({f"{name}_met": met, f"{name}_breached": breached, f"{name}_pending": pending, f"{name}_rate": rate(met, breached)})
    return row


def compliance(uow, by: str = "district", date_from: str | None = None, date_to: str | None = None, as_of: str | None = None) -> dict:
    """Per group: cases, each clock's met/breached/pending and rate, and the file's figures."""
    if by not in sql.GROUPS:
        raise BadInput(f"bad --by {by!r}: one of {'|'.join(sql.GROUPS)}")
    when = as_of_instant(uow, as_of)
    start, end = period(date_from, date_to)
    specs = clock_specs(uow)
    groups, counts = sql.compliance(uow.session, by, when, start, end)
    by_group: dict = {}
    for g, name, started, met, breached in counts:
        met, breached = int(met or 0), int(breached or 0)
        cell = by_group.setdefault(g, {})
        cell[(name, "met")], cell[(name, "breached")], cell[(name, "pending")] = met, breached, int(started) - met - breached
        specs.setdefault(name, None)
    names = list(specs)
    rows = []
    for g, cases, rounds, police, prosecution, overrides, late, pauses, extensions in sorted(groups, key=lambda r: (r[0] is None, str(r[0] or ""))):
        row = {"group": g if g is not None else sql.NONE_GROUP, "cases": int(cases)}
        row.update(_clock_cells(names, by_group.get(g, {})))
        row.update(
            {
                "deficiency_rounds": round(float(rounds or 0), 2),
                "police_days": round(float(police or 0), 1),
                "prosecution_days": round(float(prosecution or 0), 1),
                "overrides": int(overrides or 0),
                "late_entries": int(late or 0),
                "pauses": int(pauses or 0),
                "extensions": int(extensions or 0),
            }
        )
        rows.append(row)
    return {
        "report": "compliance",
        "by": by,
        "as_of": iso_utc(when),
        "as_of_local": local_text(when),
        "from": date_from,
        "to": date_to,
        "clocks": _clock_list(specs),
        "rows": rows,
        "total": total_row(rows, names),
    }


def total_row(rows: list[dict], names: list[str]) -> dict:
    """All groups together (case-weighted means)."""
    cases = sum(r["cases"] for r in rows)
    out = {"group": "total", "cases": cases}
    for name in names:
        met, breached, pending = (sum(r[f"{name}_{s}"] for r in rows) for s in ("met", "breached", "pending"))
        out.update({f"{name}_met": met, f"{name}_breached": breached, f"{name}_pending": pending, f"{name}_rate": rate(met, breached)})
    for key in ("deficiency_rounds", "police_days", "prosecution_days"):
        out[key] = round(sum(r[key] * r["cases"] for r in rows) / cases, 2 if key == "deficiency_rounds" else 1) if cases else 0
    for key in ("overrides", "late_entries", "pauses", "extensions"):
        out[key] = sum(r[key] for r in rows)
    return out


def overdue(uow, as_of: str | None = None, within_hours: float = 24.0) -> dict:
    """Every running clock that is breached or falls due within ``within_hours``, most overdue first."""
    if within_hours < 0:
        raise BadInput("--within must not be negative")
    when = as_of_instant(uow, as_of)
    shos = sql.station_shos(uow.session)
    out = []
    for r in sql.overdue(uow.session, when, within_hours):
        role = r["responsible"]
        if role == "prosecutor":
            who = r["prosecutor"]
        elif role == "io" and r["io"]:
            who = r["io"]
        else:
            who = shos.get(r["station"])
        due = r["due_at"]
        out.append(
            {
                "ref": r["ref"],
                "clock": r["name"],
                "accused": r["accused"],
                "responsible_role": role,
                "responsible": who,
                "station": r["station"],
                "district": r["district"],
                "due": iso_utc(due),
                "due_local": local_text(due),
                "hours_over": round((as_utc(when) - as_utc(due)).total_seconds() / 3600, 1),
                "status": r["status"],
            }
        )
    out.sort(key=lambda r: (-r["hours_over"], r["ref"], r["clock"]))
    return {"report": "overdue", "as_of": iso_utc(when), "as_of_local": local_text(when), "within_hours": within_hours, "rows": out}


def _suppress(n: int, below: int) -> int | None:
    return None if 0 < n < below else n


def oversight(uow, date_from: str | None = None, date_to: str | None = None, as_of: str | None = None, suppress_below: int = SUPPRESS_BELOW) -> dict:
    """Per district and FIR month: counts and rates only; no names, no FIR numbers, no stations.

    Counts from 1 to ``suppress_below - 1`` are replaced by null (shown as
    "<5"), and so is any rate computed from a suppressed count, so that the
    hidden number cannot be worked back from the rate.
    """
    if suppress_below < 1:
        raise BadInput("--suppress-below must be at least 1")
    when = as_of_instant(uow, as_of)
    start, end = period(date_from, date_to)
    specs = clock_specs(uow)
    case_counts, clock_counts = sql.oversight(uow.session, when, start, end)
    cells: dict = {}
    custody: dict = {}
    for district, month, name, started, met, breached, custody_breached in clock_counts:
        met, breached = int(met or 0), int(breached or 0)
        cell = cells.setdefault((district, month), {})
        cell[(name, "met")], cell[(name, "breached")], cell[(name, "pending")] = met, breached, int(started) - met - breached
        custody[(district, month)] = custody.get((district, month), 0) + int(custody_breached or 0)
        specs.setdefault(name, None)
    names = list(specs)
    rows = []
    for district, month, n in sorted(case_counts, key=lambda r: (r[0], r[1])):
        row = {"district": district, "month": month, "cases": _suppress(int(n), suppress_below)}
        got = cells.get((district, month), {})
        for name in names:
            met, breached, pending = (_suppress(got.get((name, s), 0), suppress_below) for s in ("met", "breached", "pending"))
            row.update({f"{name}_met": met, f"{name}_breached": breached, f"{name}_pending": pending, f"{name}_rate": rate(met, breached)})
        row["custody_breaches"] = _suppress(custody.get((district, month), 0), suppress_below)
        rows.append(row)
    return {
        "report": "oversight",
        "as_of": iso_utc(when),
        "as_of_local": local_text(when),
        "suppress_below": suppress_below,
        "clocks": _clock_list(specs),
        "rows": rows,
    }
