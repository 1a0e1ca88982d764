"""Where the demo goes: its own SQLite file by default, or an empty --db."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import SQLModel, func, select

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
_TABLES = ("case", "accused", "checklistentry", "deficiency", "audit_event", "case_track", "clock", "late_entry")
_EVENT_COLUMNS = ("case_id", "seq", "action", "actor", "occurred_at", "recorded_at", "payload", "prev_hash", "hash")


class BulkWriter:
    """Rows of whole cases built in memory (``casechain.demo.BulkActions``),
    with the clocks and report figures already folded from their audit trails
    (``domain.tracking.fold``, as ``services.clocks.rebuild_all`` does for
    other loaders), written one transaction per batch of cases so memory stays
    bounded.

    Rows go in through ``services.transfer.insert_rows`` (on SQLite straight to
    the driver's ``executemany``), as an import's do. On SQLite (a fresh demo
    database) they go on one connection with no fsync (``synchronous=OFF``:
    throw-away data), and the secondary indexes of the tables it fills are
    dropped first and built again at the end (one sort each instead of a
    random B-tree insert per row)."""

    DROP_INDEXES = True
    CACHE_KIB = 16_384  # SQLite's page cache (also what sorts each index at the end): 16 MiB

    def __init__(self, engine, clock, batch: int = 2_000):
        self.engine, self.clock, self.batch = engine, clock, batch
        self.pending = {name: [] for name in _TABLES}
        self.cases = self.events = 0
        self.sqlite = engine.dialect.name == "sqlite"
        self._conn = None  # SQLite: the writer's own connection
        self._indexes: list[str] = []

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
                required_by = {item.id: sop.required_by(item.id) for item in sop.checklist}
                stations[st.code] = {"district": st.district, "sop": sop, "flow": workflow(sop), "required_by": required_by}
        return actors, stations

    def next_ids(self) -> tuple[int, int, int]:
        from casechain.storage.tables import Accused, Deficiency

        with UnitOfWork(self.engine, now=self.clock, readonly=True) as uow:
            return tuple((uow.session.exec(select(func.max(t.id))).one() or 0) + 1 for t in (Case, Accused, Deficiency))

    def add(self, case: dict, accused: list, checklist: list, deficiencies: list, events: list, track: dict, clocks: list, lates: list) -> None:
        """One whole case: its rows as dicts of columns; ``events`` as
        ``CaseLedger.events`` keeps them."""
        p = self.pending
        p["case"].append(case)
        p["accused"].extend(accused)
        p["checklistentry"].extend(checklist)
        p["deficiency"].extend(deficiencies)
        cid = case["id"]
        p["audit_event"].extend(dict(zip(_EVENT_COLUMNS, (cid, *e[:8]))) for e in events)
        p["case_track"].append(track)
        p["clock"].extend(clocks)
        p["late_entry"].extend(lates)
        self.cases += 1
        self.events += len(events)
        if len(p["case"]) >= self.batch:
            self.flush()

    # -- SQLite: one connection of our own -------------------------------------------
    def _sqlite_start(self):
        self._conn = self.engine.connect()
        # settings and index DDL outside any transaction, on the driver's connection
        cur = self._conn.connection.driver_connection.cursor()
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute(f"PRAGMA cache_size=-{self.CACHE_KIB}")
        if self.DROP_INDEXES:
            names = ", ".join(f"'{t}'" for t in _TABLES)
            found = cur.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({names})").fetchall()
            for name, sql in found:
                cur.execute(f'DROP INDEX "{name}"')
                self._indexes.append(sql)
        cur.close()

    def _sqlite_finish(self, phase=None):
        if self._conn is None:
            return
        cur = self._conn.connection.driver_connection.cursor()
        try:
            if self._indexes and phase:
                phase("building indexes")
            for sql in self._indexes:
                cur.execute(sql)
            cur.execute("PRAGMA synchronous=NORMAL")
        finally:
            cur.close()
            self._conn.close()
            self._conn = None

    def flush(self) -> None:
        if not self.sqlite:
            with self.engine.begin() as conn:
                self._insert_pending(conn)
        else:
            if self._conn is None:
                self._sqlite_start()
            with self._conn.begin():
                self._insert_pending(self._conn)
        for name in _TABLES:
            self.pending[name] = []

    def _insert_pending(self, conn) -> None:
        from casechain.services.transfer import insert_rows

        tables = SQLModel.metadata.tables
        for name in _TABLES:
            if self.pending[name]:
                insert_rows(conn, tables[name], self.pending[name])

    def finish(self, phase=None) -> dict:
        self.flush()
        if self.sqlite:
            self._sqlite_finish(phase)
        elif self.engine.dialect.name == "postgresql":  # rows came with their ids: move the counters past them
            from casechain.services.transfer import _advance_sequence

            with self.engine.begin() as conn:
                for name in ("case", "accused", "deficiency"):
                    _advance_sequence(conn, SQLModel.metadata.tables[name])
        return {"cases": self.cases, "events": self.events}
