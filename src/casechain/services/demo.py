"""Where the demo goes: its own SQLite file by default, or an empty --db."""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

from sqlalchemy.dialects.sqlite import dialect as _sqlite_dialect_class
from sqlmodel import SQLModel, func, select

from casechain.domain.errors import BadInput
from casechain.services.common import system_now
from casechain.storage.db import create_schema, make_engine, resolve_url, sqlite_datetime_text
from casechain.storage.tables import Case
from casechain.storage.uow import UnitOfWork

sqlite_dialect = _sqlite_dialect_class()


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


def _sqlite_text(iso: str) -> str:
    """The stored text of an instant from its canonical text (``...T...Z``, UTC)."""
    return f"{iso[:10]} {iso[11:26]}"


class _SqliteInsert:
    """``INSERT`` of rows that name the same columns, straight to the driver:
    values in column order, times as SQLAlchemy would store them."""

    def __init__(self, table, names: tuple[str, ...], quote):
        from sqlalchemy import DateTime

        self.names = names
        self.sql = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES ({', '.join('?' * len(names))})"
        self.get = itemgetter(*names)
        self.times = [i for i, n in enumerate(names) if isinstance(table.c[n].type.dialect_impl(sqlite_dialect), DateTime)]

    def params(self, rows: list[dict], texts: dict) -> list[tuple]:
        """``texts``: instant -> stored text, shared by the tables of a batch
        (a case's times recur in its rows)."""
        get, times = self.get, self.times
        if not times:
            return [get(r) for r in rows]
        out = []
        for r in rows:
            values = list(get(r))
            for i in times:
                value = values[i]
                if value is not None:
                    text = texts.get(value)
                    if text is None:
                        text = texts[value] = sqlite_datetime_text(value)
                    values[i] = text
            out.append(values)
        return out


class BulkWriter:
    """Rows of whole cases built in memory (``casechain.demo.BulkActions``),
    with the clocks and report figures already folded from their audit trails
    (``domain.tracking.fold``, as ``services.clocks.rebuild_all`` does for
    other loaders), written one transaction per batch of cases so memory stays
    bounded.

    On SQLite (a fresh demo database) the rows go straight to the driver's
    ``executemany`` on one connection, with no fsync (``synchronous=OFF``:
    throw-away data), and the secondary indexes of the tables it fills are
    dropped first and built again at the end (one sort each instead of a
    random B-tree insert per row). Elsewhere: Core ``executemany``."""

    DROP_INDEXES = True
    CACHE_KIB = 16_384  # SQLite's page cache (also what sorts each index at the end): 16 MiB

    def __init__(self, engine, clock, batch: int = 2_000):
        self.engine, self.clock, self.batch = engine, clock, batch
        self.pending = {name: [] for name in _TABLES}
        self.cases = self.events = 0
        self.sqlite = engine.dialect.name == "sqlite"
        self._raw = None
        self._indexes: list[str] = []
        self._inserts: dict[tuple, _SqliteInsert] = {}

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

    def add(self, case: dict, accused: list, checklist: list, deficiencies: list, events: list, track: dict, clocks: list, lates: list) -> None:
        """One whole case: its rows as dicts of columns; ``events`` as
        ``CaseLedger.events`` keeps them."""
        p = self.pending
        p["case"].append(case)
        p["accused"].extend(accused)
        p["checklistentry"].extend(checklist)
        p["deficiency"].extend(deficiencies)
        cid = case["id"]
        if self.sqlite:
            p["audit_event"].extend((cid, e[0], e[1], e[2], _sqlite_text(e[9]), _sqlite_text(e[10]), e[5], e[6], e[7]) for e in events)
        else:
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
        raw = self._raw = self.engine.raw_connection()
        cur = raw.cursor()
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute(f"PRAGMA cache_size=-{self.CACHE_KIB}")
        if not self.DROP_INDEXES:
            cur.close()
            return
        names = ", ".join(f"'{t}'" for t in _TABLES)
        found = cur.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({names})").fetchall()
        for name, sql in found:
            cur.execute(f'DROP INDEX "{name}"')
            self._indexes.append(sql)
        cur.close()

    def _sqlite_flush(self):
        if self._raw is None:
            self._sqlite_start()
        quote = self.engine.dialect.identifier_preparer.quote
        tables = SQLModel.metadata.tables
        cur = self._raw.cursor()
        texts: dict = {}
        cur.execute("BEGIN IMMEDIATE")
        try:
            for name in _TABLES:
                rows = self.pending[name]
                if not rows:
                    continue
                if name == "audit_event":
                    key = (name, _EVENT_COLUMNS)
                    if key not in self._inserts:
                        self._inserts[key] = _SqliteInsert(tables[name], _EVENT_COLUMNS, quote)
                    cur.executemany(self._inserts[key].sql, rows)
                    continue
                key = (name, tuple(rows[0]))
                ins = self._inserts.get(key)
                if ins is None:
                    ins = self._inserts[key] = _SqliteInsert(tables[name], key[1], quote)
                cur.executemany(ins.sql, ins.params(rows, texts))
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        finally:
            cur.close()

    def _sqlite_finish(self, phase=None):
        if self._raw is None:
            return
        cur = self._raw.cursor()
        try:
            if self._indexes and phase:
                phase("building indexes")
            for sql in self._indexes:
                cur.execute(sql)
            cur.execute("PRAGMA synchronous=NORMAL")
        finally:
            cur.close()
            self._raw.close()
            self._raw = None

    def flush(self) -> None:
        if self.sqlite:
            self._sqlite_flush()
        else:
            from casechain.services.transfer import insert_rows

            tables = SQLModel.metadata.tables
            with self.engine.begin() as conn:
                for name in _TABLES:
                    if self.pending[name]:
                        insert_rows(conn, tables[name], self.pending[name])
        for name in _TABLES:
            self.pending[name] = []

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
