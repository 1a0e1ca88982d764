"""The unit of work: one user action, one transaction.

``with UnitOfWork(engine) as uow:`` gives one connection and one transaction
(opened on first use); leaving the block rolls back whatever was not
committed, so a refused or failed action leaves the database as it was.
Services call ``uow.commit()`` once, at the end.

The statements every action runs (the actor, the case, the guarded update)
are Core, prepared once; an ORM session on the same connection is made only
for the actions that ask for one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import bindparam, func
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import class_mapper
from sqlalchemy.orm.attributes import instance_dict, set_committed_value
from sqlmodel import Session, select

from casechain.domain.errors import Conflict
from casechain.storage.tables import AuditEvent, Case, Officer, SopRecord, Station

# Statements run by every action are built once: building and cache-keying a
# statement costs SQLAlchemy more than executing it on SQLite.
_OFFICER = select(Officer.__table__).where(Officer.badge == bindparam("badge"))
_CASE = select(Case.__table__).where(Case.ref == bindparam("ref"))
_CASE_LOCKED = _CASE.with_for_update()
_CASE_CLASS = class_mapper(Case).class_manager  # (configures the mappers, as the first ORM query would)
_BUMP_CASE = Case.__table__.update().where(Case.id == bindparam("b_id"), Case.version == bindparam("b_version"))


class UnitOfWork:
    def __init__(self, engine: Engine, now: Callable[[], datetime], readonly: bool = False):
        self.engine = engine
        self.now = now
        self.readonly = readonly
        self._turn = None
        self._conn: Connection | None = None
        self._session: Session | None = None
        self._officers: dict = {}

    def __enter__(self) -> "UnitOfWork":
        if not self.readonly:  # SQLite: wait for our turn to write (see writer_turn)
            from casechain.storage.db import writer_turn

            self._turn = writer_turn(self.engine)
            self._turn.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._session is not None:
                self._session.close()
            if self._conn is not None:
                self._conn.close()  # rolls back whatever was not committed
        finally:
            self._session = self._conn = None
            if self._turn is not None:
                self._turn.__exit__(None, None, None)
                self._turn = None

    def connection(self) -> Connection:
        """The connection of this unit of work: one transaction for the Core
        statements of the hot path and the ORM session alike. Opened on first
        use (``init`` creates the schema before it)."""
        if self._conn is None:
            bind = self.engine.execution_options(casechain_readonly=True) if self.readonly else self.engine
            self._conn = bind.connect()
        return self._conn

    @property
    def session(self) -> Session:
        """An ORM session on this unit of work's connection, made when first
        asked for: the commonest actions (a tick, say) run on Core alone, and
        a session costs more than their statements. It joins the connection's
        transaction and leaves committing to :meth:`commit`."""
        if self._session is None:
            self._session = Session(bind=self.connection(), expire_on_commit=False, autoflush=False, join_transaction_mode="rollback_only")
        return self._session

    def flush(self) -> None:
        """Send what the action added through the session (nothing without one)."""
        if self._session is not None:
            self._session.flush()

    def commit(self) -> None:
        try:
            if self._session is not None:
                self._session.commit()  # flushes; commits only a transaction it began itself
            if self._conn is not None:
                self._conn.commit()
        except IntegrityError as err:
            if self._session is not None:
                self._session.rollback()
            if self._conn is not None:
                self._conn.rollback()
            raise Conflict(f"the record changed while you were working on it; run the command again ({_first_line(err)})") from None

    # -- look-ups (None when missing; services word the error) -------------
    def station(self, code: str) -> Station | None:
        return self.session.get(Station, code.upper())

    def officer(self, badge: str):
        """The officer's row (read-only: badge, name, role, district, station,
        active), or None. Read once per unit of work: the actor is looked up
        by the rules and again by the clock hook of the same action."""
        row = self._officers.get(badge)
        if row is None:
            row = self.connection().execute(_OFFICER, {"badge": badge}).first()
            if row is not None:
                self._officers[badge] = row
        return row

    def case(self, ref: str) -> Case | None:
        """The case row; a writer locks it (PostgreSQL ``FOR UPDATE``) so that
        everything it reads next (checklist, deficiencies) stays as the rules
        saw it until it commits. Under READ COMMITTED a concurrent action could
        otherwise change those rows between our checks and our write, and a
        user would be refused on rules checked against a state half old, half
        new. SQLite writers already hold the whole database (BEGIN IMMEDIATE)."""
        row = self.connection().execute(_CASE if self.readonly else _CASE_LOCKED, {"ref": ref}).first()
        return None if row is None else _as_case(row)

    def sop_record(self, name: str, version: int | None = None) -> SopRecord | None:
        q = select(SopRecord).where(SopRecord.name == name)
        if version is not None:
            q = q.where(SopRecord.version == version)
        return self.session.exec(q.order_by(SopRecord.version.desc())).first()

    def sop_key(self, name: str, version: int | None = None) -> tuple[str, int, str] | None:
        """(name, version, digest) of the newest (or the given) stored version."""
        q = select(SopRecord.name, SopRecord.version, SopRecord.digest).where(SopRecord.name == name)
        if version is not None:
            q = q.where(SopRecord.version == version)
        row = self.session.exec(q.order_by(SopRecord.version.desc()).limit(1)).first()
        return tuple(row) if row else None

    def events(self, case_id: int) -> list[AuditEvent]:
        q = select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
        return list(self.session.exec(q).all())

    def count(self, table) -> int:
        return self.session.exec(select(func.count()).select_from(table)).one()

    # -- the one guarded write of a case -----------------------------------
    def bump_case(self, case: Case, expected_version: int, values: dict) -> None:
        """Update the case row only if nobody else did since we read it."""
        # Core, not the ORM: the SET columns are the keys of ``values``.
        result = self.connection().execute(_BUMP_CASE, {"b_id": case.id, "b_version": expected_version, **values})
        if result.rowcount != 1:
            raise Conflict(f"case {case.ref} changed since it was read (version {expected_version}); run the command again")
        for key, value in values.items():  # keep the loaded row in step, without a second UPDATE
            set_committed_value(case, key, value)


def _as_case(row) -> Case:
    """A Case from a Core row, built as the ORM's loader builds one (an
    instrumented instance holding the values as loaded), outside any session:
    reading a case then needs no session, and the one write of a case goes
    through :meth:`UnitOfWork.bump_case`, which keeps this object in step."""
    case = _CASE_CLASS.new_instance()
    instance_dict(case).update(row._mapping)
    return case


def _first_line(err: Exception) -> str:
    return str(getattr(err, "orig", err)).splitlines()[0][:120]


def is_locked(err: OperationalError) -> bool:
    text = str(getattr(err, "orig", err)).lower()
    return "locked" in text or "busy" in text or "could not serialize" in text or "deadlock" in text
