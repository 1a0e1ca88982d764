"""The database tables. Times are stored as naive UTC (both SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Station(SQLModel, table=True):
    """A police station (PS), identified by a short code used in case references."""

    code: str = Field(primary_key=True, max_length=16)
    name: str
    district: str = Field(index=True)
    province: str | None = None


class Officer(SQLModel, table=True):
    badge: str = Field(primary_key=True, max_length=32)
    name: str
    role: str
    district: str = Field(index=True)
    station: str | None = Field(default=None, foreign_key="station.code")
    active: bool = True


class SopRecord(SQLModel, table=True):
    """An SOP version as loaded at ``init``: cases stay pinned to it."""

    __tablename__ = "sop"
    name: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    digest: str
    body: str = Field(sa_column=Column(Text, nullable=False))  # the validated model as JSON
    loaded_at: datetime


class Case(SQLModel, table=True):
    """One criminal case from its FIR on. ``version`` equals the number of
    audit events; ``head_hash`` is the hash of the last one."""

    __table_args__ = (UniqueConstraint("station", "fir_no", "year", name="uq_case_fir"),)
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=40)
    station: str = Field(foreign_key="station.code", index=True)
    district: str = Field(index=True)
    fir_no: int
    year: int
    sop_name: str
    sop_version: int
    state: str = Field(index=True)
    report: str | None = None
    round: int = 0
    sections: str  # comma-separated, as written in the FIR: "302,34"
    flags: str = ""  # comma-separated, sorted
    complainant: str
    occurred_at: datetime
    reported_at: datetime
    registered_at: datetime
    io: str | None = Field(default=None, foreign_key="officer.badge", index=True)
    version: int = 0
    head_hash: str = ""


class Accused(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    name: str


class ChecklistEntry(SQLModel, table=True):
    """A ticked (done) or not-applicable checklist item of one case."""

    case_id: int = Field(foreign_key="case.id", primary_key=True)
    item: str = Field(primary_key=True)
    status: str  # done | na
    detail: str  # the evidence reference, or the reason it does not apply
    by: str
    at: datetime


class Deficiency(SQLModel, table=True):
    """A defect the prosecutor found at scrutiny."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    round: int
    code: str
    detail: str = ""
    status: str = "open"  # open | answered | resolved
    raised_by: str
    raised_at: datetime
    response: str | None = None
    response_evidence: str | None = None
    responded_by: str | None = None
    responded_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """Append-only. Primary key (case, seq) with seq = version + 1, so two
    concurrent writes to one case collide instead of overwriting each other."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_recorded", "recorded_at"),)
    case_id: int = Field(foreign_key="case.id", primary_key=True)
    seq: int = Field(primary_key=True)
    action: str
    actor: str
    occurred_at: datetime
    recorded_at: datetime
    payload: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    prev_hash: str
    hash: str


# -- statutory clocks, custody and report figures ---------------------------------
# Derived from the audit trail by services/clocks.py (the hook in record()), so
# compliance reports are GROUP BY aggregates over indexed columns. The grouping
# facts of the case (station, district, IO, prosecutor, FIR time) are copied onto
# each row and kept in step by the same hook, so reports need no joins.


class Clock(SQLModel, table=True):
    """One instance of an SOP clock: per case, or per accused (custody)."""

    __table_args__ = (
        Index("ix_clock_case_name", "case_id", "name"),
        Index("ix_clock_open_due", "met_at", "due_at"),  # report overdue, case list --overdue
        Index("ix_clock_violated", "violated", "met_at"),
        # covering indexes: a compliance report by station, district, IO or
        # prosecutor (and the oversight report) reads only the index, already in
        # group order (reports.compliance)
        Index("ix_clock_station_report", "station", "name", "started_at", "met_from", "breached_after", "reported_at"),
        Index("ix_clock_district_report", "district", "name", "fir_month", "started_at", "met_from", "breached_after", "reported_at", "accused_id"),
        Index("ix_clock_io_report", "io", "name", "started_at", "met_from", "breached_after", "reported_at"),
        Index("ix_clock_prosecutor_report", "prosecutor", "name", "started_at", "met_from", "breached_after", "reported_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    name: str = Field(max_length=40)
    accused_id: int | None = Field(default=None, foreign_key="accused.id")
    # the case's grouping facts (see above)
    station: str = Field(max_length=16)
    district: str
    io: str | None = None
    prosecutor: str | None = None
    reported_at: datetime
    fir_month: str = Field(max_length=7)  # YYYY-MM of the FIR, Pakistan time
    # the clock
    kind: str = "deadline"  # deadline | minimum
    holidays: str = "count"
    responsible: str = "io"  # io | sho | prosecutor
    started_at: datetime
    due_at: datetime  # with pauses and extensions; unchanged while paused
    base_due_at: datetime  # as the law set it
    met_at: datetime | None = None
    met_by: str | None = None
    # status as of T (domain.clocks.window): met if met_from <= T, breached if
    # breached_after < T, else pending
    met_from: datetime | None = None
    breached_after: datetime | None = None
    limit_days: int | None = None
    limit_hours: int | None = None
    paused_at: datetime | None = None
    paused_days: int = 0
    paused_seconds: int = 0
    pauses: int = 0
    extra_days: int = 0
    extra_hours: int = 0
    violated: bool = False  # an order beyond the legal limit, recorded by override
    start_seq: int
    met_seq: int | None = None


class CustodyEvent(SQLModel, table=True):
    """An arrest, production, remand, release or proclamation of one accused."""

    __tablename__ = "custody_event"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    accused_id: int = Field(foreign_key="accused.id", index=True)
    seq: int  # the audit event
    act: str  # arrest | produce | remand | release | proclaim
    at: datetime
    kind: str | None = None  # remand: physical | judicial
    days: int | None = None  # remand: days ordered; proclamation: days given to appear
    until: datetime | None = None
    court: str | None = None
    reason: str | None = None
    override: str | None = None
    by: str


class CustodyState(SQLModel, table=True):
    """Where each accused stands now (absent row: never arrested)."""

    __tablename__ = "custody_state"
    accused_id: int = Field(foreign_key="accused.id", primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    status: str = Field(index=True)  # arrested | produced | physical_remand | judicial_remand | released | proclaimed
    since: datetime
    until: datetime | None = None
    last_at: datetime  # the latest custody entry: later entries may not come before it
    court: str | None = None


_TRACK_FIGURES = ("rounds", "holder", "holder_since", "police_seconds", "prosecution_seconds", "overrides", "late_entries", "pauses", "extensions")


class CaseTrack(SQLModel, table=True):
    """Per-case figures for reports, one row per case, kept by the clock hook."""

    __tablename__ = "case_track"
    __table_args__ = (
        # covering indexes for the compliance report by station, district, IO
        # and prosecutor (and the oversight report): see the clock table
        Index("ix_track_station_report", "station", "reported_at", *_TRACK_FIGURES),
        Index("ix_track_district_report", "district", "fir_month", "reported_at", *_TRACK_FIGURES),
        Index("ix_track_io_report", "io", "reported_at", *_TRACK_FIGURES),
        Index("ix_track_prosecutor_report", "prosecutor", "reported_at", *_TRACK_FIGURES),
    )
    case_id: int = Field(foreign_key="case.id", primary_key=True)
    station: str = Field(max_length=16)
    district: str
    io: str | None = None
    prosecutor: str | None = None
    reported_at: datetime
    fir_month: str = Field(max_length=7)
    rounds: int = 0  # deficiency rounds (returns to police)
    holder: str = "police"  # police | prosecution | court | closed: who has the file
    holder_since: datetime
    moved_at: datetime  # when the last step (register, advance) happened
    moved_by: str = "register"  # that step
    police_seconds: int = 0  # finished spells with the police
    prosecution_seconds: int = 0
    late_entries: int = 0
    overrides: int = 0
    pauses: int = 0
    extensions: int = 0


class LateEntry(SQLModel, table=True):
    """An audit event recorded long after it happened (more than the SOP's late_entry_hours)."""

    __tablename__ = "late_entry"
    case_id: int = Field(foreign_key="case.id", primary_key=True)
    seq: int = Field(primary_key=True)
    action: str
    hours_late: float
    reason: str | None = None
