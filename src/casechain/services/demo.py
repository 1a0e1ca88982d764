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


# -- the bulk path's writer ------------------------------------------------------------
class BulkWriter:
    """Rows of whole cases built in memory (``casechain.demo.BulkActions``),
    inserted with Core ``executemany``, one transaction per batch of cases so
    memory stays bounded; then clocks and report figures are derived from the
    audit trail (``services.clocks.rebuild_all``), as for any bulk loader."""

    TABLES = ("case", "accused", "checklistentry", "deficiency", "audit_event")

    def __init__(self, engine, clock, batch: int = 2_000):
        self.engine, self.clock, self.batch = engine, clock, batch
        self.pending = {name: [] for name in self.TABLES}
        self.cases = 0

    def world(self):
        """(badge -> Actor, station code -> {district, sop, flow, required_by}) as the services see them."""
        from casechain.domain.workflow import workflow
        from casechain.services.cases import DEFAULT_SOP
        from casechain.services.common import actor_of
        from casechain.services.sops import sop_for_province
        from casechain.storage.tables import Officer, Station

        with UnitOfWork(self.engine, now=self.clock, readonly=True) as uow:
            actors = {b: actor_of(uow, b) for b in uow.session.exec(select(Officer.badge).where(Officer.role != "admin")).all()}
            stations = {}
            for st in uow.session.exec(select(Station)).all():
                sop = sop_for_province(uow, st.province, DEFAULT_SOP)
                required_by = {item.id: [e.name for e in sop.events if item.id in e.requires] for item in sop.checklist}
                stations[st.code] = {"district": st.district, "sop": sop, "flow": workflow(sop), "required_by": required_by}
        return actors, stations

    def next_ids(self) -> tuple[int, int, int]:
        from casechain.storage.tables import Accused, Deficiency

        with UnitOfWork(self.engine, now=self.clock, readonly=True) as uow:
            return tuple((uow.session.exec(select(func.max(t.id))).one() or 0) + 1 for t in (Case, Accused, Deficiency))

    def add(self, case: dict, accused: list, checklist: list, deficiencies: list, events: list) -> None:
        p = self.pending
        p["case"].append(case)
        p["accused"].extend(accused)
        p["checklistentry"].extend(checklist)
        p["deficiency"].extend(deficiencies)
        cid = case["id"]
        p["audit_event"].extend(
            {"case_id": cid, "seq": e[0], "action": e[1], "actor": e[2], "occurred_at": e[3], "recorded_at": e[4], "payload": e[5], "prev_hash": e[6], "hash": e[7]}
            for e in events
        )
        self.cases += 1
        if len(p["case"]) >= self.batch:
            self.flush()

    def flush(self) -> None:
        from sqlmodel import SQLModel

        from casechain.services.transfer import insert_rows

        tables = SQLModel.metadata.tables
        with self.engine.begin() as conn:
            for name in self.TABLES:
                rows = self.pending[name]
                if rows:
                    insert_rows(conn, tables[name], rows)
                self.pending[name] = []

    def finish(self, phase=None) -> dict:
        from casechain.services.clocks import rebuild_all
        from casechain.services.transfer import _advance_sequence
        from sqlmodel import SQLModel

        self.flush()
        if self.engine.dialect.name == "postgresql":  # rows came with their ids: move the counters past them
            with self.engine.begin() as conn:
                for name in ("case", "accused", "deficiency"):
                    _advance_sequence(conn, SQLModel.metadata.tables[name])
        if phase:
            phase("deriving clocks and report figures from the audit trail")
        with UnitOfWork(self.engine, now=self.clock) as uow:
            return rebuild_all(uow, batch=500)

