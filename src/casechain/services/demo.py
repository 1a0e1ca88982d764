"""Where the demo goes: its own SQLite file by default, or an empty --db."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import func, select

from casechain.domain.errors import BadInput
from casechain.services.common import system_now
from casechain.storage.db import create_schema, make_engine, resolve_url
from casechain.storage.tables import Case
from casechain.storage.uow import UnitOfWork


@dataclass
class DemoTarget:
    url: str
    engine: object

    def uow(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, now=system_now, readonly=readonly)

    def sample_refs(self, uow: UnitOfWork) -> list[tuple[str, str]]:
        """One case in each of a few interesting states, for the walk-through hints."""
        out = []
        for state in ("returned_for_deficiencies", "under_scrutiny", "in_court", "under_investigation"):
            ref = uow.session.exec(select(Case.ref).where(Case.state == state).order_by(Case.id).limit(1)).first()
            if ref:
                out.append((ref, state))
        return out


def prepare_demo_db(db: str | None, reset: bool) -> DemoTarget:
    from casechain.storage.db import default_db_path

    if db is None:
        path = default_db_path().with_name("demo.db")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = resolve_url(str(path))
        return DemoTarget(url, make_engine(url, durable=False))
    url = resolve_url(db)
    engine = make_engine(url, durable=False)
    create_schema(engine)
    with UnitOfWork(engine, now=system_now, readonly=True) as uow:
        existing = uow.session.exec(select(func.count()).select_from(Case)).one()
    if existing and not reset:
        raise BadInput(f"{url} already holds {existing} cases: give --reset to empty it, or another --db")
    if existing or reset:
        from sqlmodel import SQLModel

        SQLModel.metadata.drop_all(engine)
        with engine.begin() as conn:  # and the schema's revision, so init builds it again
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    return DemoTarget(url, engine)
