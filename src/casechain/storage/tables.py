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
