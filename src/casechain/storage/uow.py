"""The unit of work: one user action, one transaction.

``with UnitOfWork(engine) as uow:`` opens a session; leaving the block rolls
back whatever was not committed, so a refused or failed action leaves the
database as it was. Services call ``uow.commit()`` once, at the end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from casechain.domain.errors import Conflict
from casechain.storage.tables import AuditEvent, Case, Officer, SopRecord, Station


class UnitOfWork:
    def __init__(self, engine: Engine, now: Callable[[], datetime], readonly: bool = False):
        self.engine = engine
        self.now = now
        self.readonly = readonly
        self.session: Session | None = None
        self._turn = None

    def __enter__(self) -> "UnitOfWork":
        bind = self.engine.execution_options(casechain_readonly=True) if self.readonly else self.engine
        if not self.readonly:  # SQLite: wait for our turn to write (see writer_turn)
            from casechain.storage.db import writer_turn

            self._turn = writer_turn(self.engine)
            self._turn.__enter__()
        self.session = Session(bind=bind, expire_on_commit=False, autoflush=False)
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
            if self._turn is not None:
                self._turn.__exit__(None, None, None)
                self._turn = None

    def commit(self) -> None:
        try:
            self.session.commit()
        except IntegrityError as err:
            self.session.rollback()
            raise Conflict(f"the record changed while you were working on it; run the command again ({_first_line(err)})") from None

    # -- look-ups (None when missing; services word the error) -------------
    def station(self, code: str) -> Station | None:
        return self.session.get(Station, code.upper())

    def officer(self, badge: str) -> Officer | None:
        return self.session.get(Officer, badge)

    def case(self, ref: str) -> Case | None:
        """The case row; a writer locks it (PostgreSQL ``FOR UPDATE``) so that
        everything it reads next (checklist, deficiencies) stays as the rules
        saw it until it commits. Under READ COMMITTED a concurrent action could
        otherwise change those rows between our checks and our write, and a
        user would be refused on rules checked against a state half old, half
        new. SQLite writers already hold the whole database (BEGIN IMMEDIATE)."""
        q = select(Case).where(Case.ref == ref)
        if not self.readonly:
            q = q.with_for_update()
        return self.session.exec(q).first()

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
        result = self.session.exec(
            update(Case)
            .where(Case.id == case.id, Case.version == expected_version)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise Conflict(f"case {case.ref} changed since it was read (version {expected_version}); run the command again")
        for key, value in values.items():  # keep the loaded row in step, without a second UPDATE
            set_committed_value(case, key, value)


def _first_line(err: Exception) -> str:
    return str(getattr(err, "orig", err)).splitlines()[0][:120]


def is_locked(err: OperationalError) -> bool:
    text = str(getattr(err, "orig", err)).lower()
    return "locked" in text or "busy" in text or "could not serialize" in text or "deadlock" in text
