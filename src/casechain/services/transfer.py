"""Import and export: move cases between casechain databases, and in from other systems.

Export (``casechain export --format jsonl``) writes one JSON object a line:

- ``{"type": "meta", "format": "casechain-export", "format_version": 1, ...}``
- one line per row of every table that belongs to no case (stations,
  officers, SOP versions, and whatever such tables later versions add):
  ``{"type": "station", "row": {...}}``, in dependency order;
- one line per case: ``{"type": "case", "ref": ..., "case": {...},
  "rows": {"accused": [...], "audit_event": [...], ...}}`` with every row of
  every table that hangs off the case (audit events with their hashes,
  checklist, deficiencies, accused, clocks, custody, report figures).

The tables are found by reading the schema (foreign keys), not listed here,
so a table added later is exported and imported without touching this file.
Rows keep their column names and values; times are ISO-8601 UTC.

Import (``casechain import FILE``) reads such a file, or cases from another
system: CSV with a header row, or JSONL objects, with the columns of
:data:`FIR_COLUMNS`. It is

- idempotent on the natural key (station, FIR number, year): a case already
  in the database is skipped (an exported case only if the stored trail holds
  the file's trail, so a case that moved on since is fine, a different one is
  an error);
- batched: each batch of ``batch_size`` cases is one transaction, so a run
  killed half-way leaves whole batches, and running it again finishes the job;
- strict: a row that fails validation is reported with its line number and
  reason; with ``on_error="stop"`` (the default) nothing from its batch is kept
  and the import stops, with ``"skip"`` the row is left out and the rest goes on;
- chained: an FIR from another system is registered through the same rules as
  ``case register`` (actor: the importing admin; the register event notes
  ``"source": "import"``), so it gets its audit chain; an exported case keeps
  its events and hashes verbatim, after :func:`casechain.services.audit.check_case`
  has checked them with the rules ``audit verify`` applies.

Memory stays bounded: the file is streamed line by line, rows are inserted with
``executemany`` per table and batch, the export reads cases in chunks.

Speed: what a batch needs from the database (which of its cases are stored,
which kept ids are taken) is read up front in a few queries; rows go to the
driver's ``executemany`` on SQLite (date-times written as SQLite text in one
step); the date-times of a case, which repeat a few instants many times over,
are parsed once each. Everything runs in one process: worker processes that
parsed and checked cases were tried, and cost the importer (the part that
cannot be shared) more in pickling cases back and forth than they took off it.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    TypeDecorator,
    and_,
    insert,
    select,
    text,
)

from casechain.domain.errors import BadInput, CasechainError, IntegrityFailure
from casechain.domain.roles import Role
from casechain.domain.timeutil import UTC
from casechain.services.common import actor_of, make_ref, require_role
from casechain.storage.db import sqlite_datetime_text
from casechain.storage.uow import UnitOfWork

FORMAT = "casechain-export"
FORMAT_VERSION = 1
FIR_COLUMNS = ("station", "fir_no", "year", "sections", "occurred_at", "reported_at", "complainant", "accused", "flags", "sop")
FIR_REQUIRED = ("station", "fir_no", "year", "sections", "occurred_at", "reported_at", "complainant")
# Surrogate ids written into hashed audit payloads ({"id": 7} of deficiency_flag):
# they must survive an import unchanged, so they are kept, not renumbered.
KEEP_IDS = frozenset({"deficiency"})
# Columns that may differ between two databases holding the same row.
IGNORE_ON_COMPARE = {"sop": frozenset({"loaded_at", "body"})}
MAX_LINE = 64 * 1024 * 1024  # one case with its whole history; anything longer is not ours
MAX_PENDING_ROWS = 50_000  # rows waiting for a bulk insert before a batch is written early


# -- the schema, read from the tables --------------------------------------------
class Schema:
    """Which tables hang off a case and which do not, and how rows point at each other."""

    def __init__(self):
        from sqlmodel import SQLModel

        from casechain.storage import tables  # noqa: F401  (registers the tables)

        metadata = SQLModel.metadata
        self.case: Table = metadata.tables["case"]
        self.children: list[Table] = []
        names: set[str] = set()
        for table in metadata.sorted_tables:  # referenced tables come first
            if table is self.case:
                continue
            if any(fk.column.table is self.case or fk.column.table.name in names for fk in table.foreign_keys):
                self.children.append(table)
                names.add(table.name)
        self.globals: list[Table] = [t for t in metadata.sorted_tables if t is not self.case and t.name not in names]
        self.by_name = {t.name: t for t in metadata.sorted_tables}
        self.child_names = names
        # tables whose ids other case tables point at: their new ids must be known
        self.referenced = {fk.column.table.name for t in self.children for fk in t.foreign_keys if fk.column.table.name in names}
        self._links: dict[str, list[tuple[str, str]]] = {}

    @staticmethod
    def surrogate(table: Table):
        """The table's auto-numbered integer id column, if it has one."""
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, Integer) and pk[0].autoincrement in (True, "auto") and not pk[0].foreign_keys:
            return pk[0]
        return None

    def case_links(self, table: Table) -> list[tuple[str, str]]:
        """(column, referenced case-table name) for each column pointing into the case's rows."""
        out = self._links.get(table.name)
        if out is None:
            out = self._links[table.name] = [
                (fk.parent.name, fk.column.table.name)
                for fk in table.foreign_keys
                if fk.column.table.name == "case" or fk.column.table.name in self.child_names
            ]
        return out


_SCHEMA: Schema | None = None


def schema() -> Schema:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = Schema()
    return _SCHEMA


# -- values --------------------------------------------------------------------------
def _dump(value):
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    return value


def _load(table: Table, row: dict, what: str, times: dict | None = None) -> dict:
    """A row of ``table`` from JSON: every key a column, every value of its type.
    ``times`` remembers the date-times read so far (text -> value): the rows of
    one case repeat a few instants many times over."""
    if not isinstance(row, dict):
        raise BadInput(f"{what} is not a JSON object")
    spec = _columns(table)
    if not spec.keys() >= row.keys():
        unknown = sorted(set(row) - spec.keys())
        raise BadInput(f"{what} has unknown column(s) {', '.join(unknown)} (table {table.name}); was it exported by a newer casechain?")
    if times is None:
        times = {}
    out = dict(row)  # then each value checked, date-times parsed
    columns = _COLUMN_LISTS[table.name]
    if len(row) == len(columns) and list(row) == _COLUMN_NAMES[table.name]:
        pairs = zip(columns, row.values())  # every column, in the order exports write them
    else:
        pairs = ((c, row.get(c[0], _ABSENT)) for c in columns)
    for (name, kind, nullable, optional, limit), value in pairs:
        t = type(value)
        if t is str:  # the common cases first, each checked as in _value
            if kind is str:
                if (limit and len(value) > limit) or "\x00" in value:
                    _value(kind, limit, name, value, what)
                continue
            if kind is datetime:
                when = times.get(value)
                out[name] = when if when is not None else times.setdefault(value, _when(value, name, what))
                continue
        elif t is int and kind is int and -(2**62) <= value <= 2**62:
            continue
        if value is _ABSENT:
            if optional:
                continue
            raise BadInput(f"{what} lacks column {name} (table {table.name})")
        if value is None:
            if not nullable:
                raise BadInput(f"{what}: {name} must not be empty")
            continue
        out[name] = _value(kind, limit, name, value, what)
    return out


_ABSENT = object()


def _when(value: str, name: str, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise BadInput(f"{what}: {name} {value!r} is not an ISO-8601 date-time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _value(kind, limit, name: str, value, what: str):
    """One JSON value checked against its column's type (see _load)."""
    if kind is datetime:
        if not isinstance(value, str):
            raise BadInput(f"{what}: {name} must be an ISO-8601 date-time, not {value!r}")
        return _when(value.replace("Z", "+00:00"), name, what)
    if kind is bool:
        if not isinstance(value, bool):
            raise BadInput(f"{what}: {name} must be true or false, not {value!r}")
    elif kind is int:
        if not isinstance(value, int) or isinstance(value, bool) or abs(value) > 2**62:
            raise BadInput(f"{what}: {name} must be a whole number, not {value!r}")
    elif kind is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise BadInput(f"{what}: {name} must be a number, not {value!r}")
    elif kind is str:
        if not isinstance(value, str):
            raise BadInput(f"{what}: {name} must be text, not {value!r}")
        if limit and len(value) > limit:
            raise BadInput(f"{what}: {name} is longer than {limit} characters")
        if "\x00" in value:
            raise BadInput(f"{what}: {name} contains a NUL character")
    return value


_COLUMNS: dict[str, dict] = {}
_COLUMN_LISTS: dict[str, list[tuple]] = {}  # table -> [(name, *spec)] by name (as exports write rows)
_COLUMN_NAMES: dict[str, list[str]] = {}


def _columns(table: Table) -> dict:
    """name -> (Python type, nullable, may be left out, length limit), worked out once per table."""
    spec = _COLUMNS.get(table.name)
    if spec is None:
        spec = _COLUMNS[table.name] = {
            c.name: (
                _python_type(c),
                c.nullable or c.primary_key,
                c.nullable or c.default is not None or c.server_default is not None or c.autoincrement is True,
                getattr(c.type, "length", None),
            )
            for c in table.columns
        }
        _COLUMN_LISTS[table.name] = [(name, *spec[name]) for name in sorted(spec)]
        _COLUMN_NAMES[table.name] = sorted(spec)
    return spec


def _python_type(col):
    """The Python type of a column's values (through any TypeDecorator, such as
    sqlmodel's UTCDateTime and AutoString)."""
    kind = col.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    for base, python in ((DateTime, datetime), (Boolean, bool), (Integer, int), (Float, float), (String, str)):
        if isinstance(kind, base):
            return python
    return object


def _row(table: Table, mapping) -> dict:
    return {c.name: _dump(mapping[c.name]) for c in table.columns}


def _canon(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# -- export ----------------------------------------------------------------------------
def export_lines(uow: UnitOfWork, chunk: int = 500) -> Iterator[str]:
    """Every line of an export (each ends with a newline), streamed."""
    sc = schema()
    conn = uow.session.connection()
    if conn.dialect.name == "postgresql":  # one snapshot for the whole export
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    yield _canon({"type": "meta", "format": FORMAT, "format_version": FORMAT_VERSION, "exported_at": _dump(uow.now()), "tables": [t.name for t in (*sc.globals, sc.case, *sc.children)]}) + "\n"
    for table in sc.globals:
        for r in conn.execute(select(table).order_by(*table.primary_key.columns)).mappings():
            yield _canon({"type": table.name, "row": _row(table, r)}) + "\n"
    case_t = sc.case
    last = 0
    while True:
        cases = conn.execute(select(case_t).where(case_t.c.id > last).order_by(case_t.c.id).limit(chunk)).mappings().all()
        if not cases:
            break
        ids = [c["id"] for c in cases]
        rows: dict[int, dict[str, list]] = {i: {} for i in ids}
        for table in sc.children:
            via = _case_column(sc, table)
            if via is None:
                continue
            order = [*table.primary_key.columns]
            q = select(table).where(table.c[via].in_(ids)).order_by(table.c[via], *order)
            for r in conn.execute(q).mappings():
                rows[r[via]].setdefault(table.name, []).append(_row(table, r))
        for c in cases:
            yield _canon({"type": "case", "ref": c["ref"], "case": _row(case_t, c), "rows": rows[c["id"]]}) + "\n"
        last = ids[-1]


def _case_column(sc: Schema, table: Table) -> str | None:
    """The column of ``table`` holding the case id."""
    for fk in table.foreign_keys:
        if fk.column.table is sc.case:
            return fk.parent.name
    return None


# -- reading input files --------------------------------------------------------------
@dataclass
class Record:
    line: int
    kind: str  # fir | case | meta | <global table name> | error
    data: object


def _lines(fh, name: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of a binary file, each line decoded on its own."""
    for number, raw in enumerate(fh, start=1):
        if len(raw) > MAX_LINE:
            raise BadInput(f"{name} line {number}: longer than {MAX_LINE // (1024 * 1024)} MB")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None
            continue
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]
        yield number, line


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def read_jsonl(fh, name: str) -> Iterator[Record]:
    for number, line in _lines(fh, name):
        if line is None:
            yield Record(number, "error", "not valid UTF-8 text")
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line, parse_constant=_no_constant)
        except (ValueError, RecursionError) as err:
            yield Record(number, "error", f"not valid JSON ({str(err).splitlines()[0][:80]})")
            continue
        if not isinstance(obj, dict):
            yield Record(number, "error", "each line must be a JSON object")
            continue
        try:  # "\ud800" escapes make strings no database can store (only escapes can: the line is valid UTF-8)
            if _SURROGATE_ESCAPE.search(line):
                json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            yield Record(number, "error", "text with a lone surrogate escape (\\ud800-\\udfff): not valid Unicode")
            continue
        kind = obj.get("type", "fir")
        if not isinstance(kind, str):
            yield Record(number, "error", "'type' must be text")
            continue
        yield Record(number, kind, obj)


def read_csv(fh, name: str) -> Iterator[Record]:
    state = {"line": 0, "bad": None}

    def text_lines():
        for number, line in _lines(fh, name):
            state["line"] = number
            if line is None:
                state["bad"] = number
                line = "\n"  # keep the reader's line count; the record is reported as an error
            yield line

    reader = csv.reader(text_lines(), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise BadInput(f"{name} is empty: a CSV import needs a header row ({', '.join(FIR_COLUMNS)})") from None
    except csv.Error as err:
        raise BadInput(f"{name} line 1: bad CSV header ({err})") from None
    if state["bad"]:
        raise BadInput(f"{name} line 1: not valid UTF-8 text")
    header = [h.strip().lower() for h in header]
    unknown = [h for h in header if h not in FIR_COLUMNS]
    missing = [c for c in FIR_REQUIRED if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        what = "; ".join(
            p for p in (
                f"unknown column(s) {', '.join(repr(u) for u in unknown)}" if unknown else "",
                f"missing column(s) {', '.join(missing)}" if missing else "",
                "a column is named twice" if len(set(header)) != len(header) else "",
            ) if p
        )  # fmt: skip
        raise BadInput(f"{name} line 1: {what}; the columns are {', '.join(FIR_COLUMNS)}")
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield Record(start, "error", f"malformed CSV ({err})")
            start = state["line"] + 1
            continue
        if state["bad"] is not None and state["bad"] >= start:
            yield Record(state["bad"], "error", "not valid UTF-8 text")
            state["bad"] = None
        elif not values or all(not v.strip() for v in values):
            pass
        elif len(values) != len(header):
            yield Record(start, "error", f"{len(values)} fields but the header has {len(header)}")
        else:
            yield Record(start, "fir", dict(zip(header, values)))
        start = reader.line_num + 1


def read_records(path: str) -> tuple[Iterator[Record], object]:
    """The records of FILE (CSV or JSONL by its extension) and the open file (for progress)."""
    lower = path.lower()
    if not lower.endswith((".csv", ".jsonl", ".ndjson")):
        raise BadInput(f"{path}: give a .csv or .jsonl file")
    try:
        fh = open(path, "rb")  # noqa: SIM115  (the caller closes it: records are read lazily)
    except OSError as err:
        raise BadInput(f"cannot read {path}: {err.strerror}") from None
    name = os.path.basename(path)
    return (read_csv(fh, name) if lower.endswith(".csv") else read_jsonl(fh, name)), fh


# -- import ---------------------------------------------------------------------------------
@dataclass
class ImportResult:
    cases: int = 0
    events: int = 0
    present: int = 0
    rows: int = 0  # stations, officers, SOP versions... added
    same_rows: int = 0
    batches: int = 0
    skipped: list = field(default_factory=list)  # (line, reason)

    def as_dict(self) -> dict:
        return {
            "cases": self.cases,
            "events": self.events,
            "already_present": self.present,
            "rows": self.rows,
            "rows_present": self.same_rows,
            "batches": self.batches,
            "skipped": [{"line": n, "reason": r} for n, r in self.skipped],
        }


class RowError(Exception):
    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _text_field(data: dict, key: str, line: int) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise RowError(line, f"{key} must be text, not {type(value).__name__}")
    return value


def _int_field(data: dict, key: str, line: int) -> int:
    value = data.get(key)
    if isinstance(value, bool):
        raise RowError(line, f"{key} must be a whole number, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 9:
        return int(value.strip())
    raise RowError(line, f"{key} must be a whole number, not {value!r}")


def _names(data: dict, key: str, line: int, seps: str) -> list[str]:
    value = data.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise RowError(line, f"{key} must be a list of text")
        return value
    if not isinstance(value, str):
        raise RowError(line, f"{key} must be text or a list of text")
    for sep in seps[1:]:
        value = value.replace(sep, seps[0])
    return [v.strip() for v in value.split(seps[0]) if v.strip()]


class _Batch:
    """What one transaction of the import holds."""

    def __init__(self):
        self.records: list[Record] = []
        self.cases = 0
        self.rows = 0

    def add(self, rec: Record) -> None:
        self.records.append(rec)
        if rec.kind in ("fir", "case"):
            self.cases += 1
        if rec.kind == "case" and isinstance(rec.data, dict) and isinstance(rec.data.get("rows"), dict):
            self.rows += sum(len(v) for v in rec.data["rows"].values() if isinstance(v, list))

    def first_line(self) -> int:
        return self.records[0].line if self.records else 0


def import_file(
    new_uow: Callable[[], UnitOfWork],
    actor_badge: str | None,
    path: str,
    on_error: str = "stop",
    batch_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Import FILE in batches, one transaction each (see the module docstring).

    ``new_uow`` makes a fresh unit of work for each batch. ``progress`` is
    called with (bytes read, file size) after each batch. Raises BadInput
    naming the line at the first bad row with ``on_error="stop"``.
    """
    if on_error not in ("stop", "skip"):
        raise BadInput(f"--on-error {on_error!r}: use stop or skip")
    if not 1 <= batch_size <= 100_000:
        raise BadInput("--batch-size must be between 1 and 100000")
    with new_uow() as uow:  # before reading anything: who is importing
        actor = actor_of(uow, actor_badge)
        require_role(actor, Role.ADMIN, doing="import cases")
    records, fh = read_records(path)
    name = os.path.basename(path)
    size = os.fstat(fh.fileno()).st_size
    result = ImportResult()

    def write(batch: _Batch, done: int) -> None:
        _run_batch(new_uow, actor_badge, batch, on_error, result, name)
        if progress:
            progress(done, size)

    try:
        batch = _Batch()
        for rec in records:
            batch.add(rec)
            if batch.cases >= batch_size or batch.rows >= MAX_PENDING_ROWS or len(batch.records) >= batch_size * 4:
                write(batch, fh.tell())
                batch = _Batch()
        if batch.records:
            write(batch, size)
        if progress:
            progress(size, size)
    finally:
        fh.close()
    return result.as_dict()


def _run_batch(new_uow, actor_badge, batch: _Batch, on_error: str, result: ImportResult, name: str) -> None:
    done = ImportResult()
    try:
        with new_uow() as uow:
            actor = actor_of(uow, actor_badge)
            loader = _Loader(uow, actor, on_error, done)
            loader.prefetch(batch.records)
            for rec in batch.records:
                loader.take(rec)
            loader.flush_cases()
            uow.commit()
    except RowError as err:
        kept = f"{result.cases} case(s) from earlier lines were imported" if result.cases else "nothing was imported"
        raise BadInput(
            f"{name} line {err.line}: {err.reason} (nothing from lines {batch.first_line()}-{err.line} was kept; "
            f"{kept}; fix the line and run the import again: imported cases are skipped)"
        ) from None
    result.cases += done.cases
    result.events += done.events
    result.present += done.present
    result.rows += done.rows
    result.same_rows += done.same_rows
    result.skipped += done.skipped
    result.batches += 1


class _Loader:
    """Takes the records of one batch: global rows and FIRs at once, exported
    cases checked one by one and written together at the end of the batch."""

    def __init__(self, uow: UnitOfWork, actor, on_error: str, result: ImportResult):
        self.uow = uow
        self.actor = actor
        self.on_error = on_error
        self.result = result
        self.sc = schema()
        self.conn = uow.session.connection()
        self.pending: list[tuple[int, dict, dict[str, list[dict]]]] = []  # (line, case row, rows)
        self.seen: set[str] = set()
        self.sops: dict[tuple, bool] = {}
        self.kept: dict[str, set] = {}  # ids of KEEP_IDS tables taken by this batch
        self.districts: dict[str, str | None] = {}
        self.officers: set[str] = set()
        self.stored: dict[str, int] = {}  # ref -> id of the batch's cases already in the database
        self.looked_up: set[str] = set()  # refs whose presence was read up front
        self.used_ids: dict[str, set] = {name: set() for name in KEEP_IDS}  # kept ids already taken here
        self.ids_looked_up: dict[str, set] = {name: set() for name in KEEP_IDS}

    def prefetch(self, records: list[Record]) -> None:
        """Read up front, in a few queries, what checking each case of the batch
        would otherwise ask one by one: which refs are stored, which kept ids are taken."""
        refs, ids = set(), {name: set() for name in KEEP_IDS}
        for rec in records:
            data = rec.data if rec.kind == "case" and isinstance(rec.data, dict) else None
            case = data.get("case") if data else None
            if isinstance(case, dict) and isinstance(case.get("ref"), str):
                refs.add(case["ref"])
            rows = data.get("rows") if data else None
            for name in KEEP_IDS:
                listed = rows.get(name) if isinstance(rows, dict) else None
                for r in listed if isinstance(listed, list) else ():
                    if isinstance(r, dict) and isinstance(r.get("id"), int) and not isinstance(r["id"], bool) and abs(r["id"]) < 2**62:
                        ids[name].add(r["id"])
        case_t = self.sc.case
        for chunk in _chunks(sorted(refs), 500):
            self.stored.update(self.conn.execute(select(case_t.c.ref, case_t.c.id).where(case_t.c.ref.in_(chunk))).all())
        self.looked_up = refs
        for name, wanted in ids.items():
            table = self.sc.by_name[name]
            self.ids_looked_up[name] = wanted
            for chunk in _chunks(sorted(wanted), 500):
                self.used_ids[name].update(self.conn.execute(select(table.c.id).where(table.c.id.in_(chunk))).scalars())

    # errors: stop the batch, or leave the row out
    def fail(self, line: int, reason: str) -> None:
        if self.on_error == "stop":
            raise RowError(line, reason)
        self.result.skipped.append((line, reason))

    def take(self, rec: Record) -> None:
        try:
            if rec.kind == "error":
                raise RowError(rec.line, rec.data)
            if rec.kind == "meta":
                self._meta(rec)
            elif rec.kind == "fir":
                self._fir(rec)
            elif rec.kind == "case":
                self._case(rec)
            elif rec.kind in self.sc.by_name and rec.kind in {t.name for t in self.sc.globals}:
                self._global(rec)
            else:
                raise RowError(rec.line, f"unknown record type {rec.kind!r} (use fir, case, or a table such as station or officer)")
        except RowError as err:
            self.fail(err.line, err.reason)

    def _meta(self, rec: Record) -> None:
        data = rec.data
        if data.get("format") != FORMAT:
            raise RowError(rec.line, f"not a casechain export (format {data.get('format')!r})")
        version = data.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise RowError(rec.line, f"export format version {version!r} is newer than this casechain reads ({FORMAT_VERSION}); upgrade casechain")

    # -- stations, officers, SOP versions ...
    def _global(self, rec: Record) -> None:
        table = self.sc.by_name[rec.kind]
        extra = set(rec.data) - {"type", "row"}
        if extra:
            raise RowError(rec.line, f"unknown key(s) {', '.join(sorted(extra))} in a {table.name} record")
        try:
            row = _load(table, rec.data.get("row"), f"{table.name} row")
        except BadInput as err:
            raise RowError(rec.line, str(err)) from None
        check = ROW_CHECKS.get(table.name)
        if check is not None:
            try:
                check(row)
            except CasechainError as err:
                raise RowError(rec.line, f"{table.name} row: {err}") from None
        pk = [c for c in table.primary_key.columns]
        if any(row.get(c.name) is None for c in pk):
            raise RowError(rec.line, f"{table.name} row lacks its key ({', '.join(c.name for c in pk)})")
        existing = self.conn.execute(select(table).where(and_(*(c == row[c.name] for c in pk)))).mappings().first()
        if existing is None:
            with self.uow.session.begin_nested():
                try:
                    self.conn.execute(insert(table), [row])
                except Exception as err:  # a foreign key (an officer's unknown station...)
                    if type(err).__module__.startswith("sqlalchemy"):
                        raise RowError(rec.line, f"{table.name} row refused by the database ({_first_line(err)})") from None
                    raise
            self.result.rows += 1
            return
        ignore = IGNORE_ON_COMPARE.get(table.name, frozenset())
        ours = _row(table, existing)
        theirs = {k: _dump(v) for k, v in row.items()}
        diff = [k for k in theirs if k not in ignore and ours.get(k) != theirs[k]]
        if diff:
            key = "/".join(str(row[c.name]) for c in pk)
            raise RowError(rec.line, f"{table.name} {key} exists with a different {diff[0]} ({ours.get(diff[0])!r}, file: {theirs[diff[0]]!r})")
        self.result.same_rows += 1

    # -- an FIR from another system: registered through the rules of case register
    def _fir(self, rec: Record) -> None:
        from casechain.services.cases import record_fir

        data, line = rec.data, rec.line
        extra = sorted(set(data) - set(FIR_COLUMNS) - {"type"})
        if extra:
            raise RowError(line, f"unknown field(s) {', '.join(extra)}; the fields are {', '.join(FIR_COLUMNS)}")
        missing = [k for k in FIR_REQUIRED if data.get(k) in (None, "")]
        if missing:
            raise RowError(line, f"missing {', '.join(missing)}")
        station = _text_field(data, "station", line).strip()
        fir_no = _int_field(data, "fir_no", line)
        year = _int_field(data, "year", line)
        st = self.uow.station(station)
        if st is None:
            raise RowError(line, f"unknown station {station!r}: add it first (station add)")
        ref = make_ref(st.code, fir_no, year)
        if ref in self.seen or self.conn.execute(select(self.sc.case.c.id).where(self.sc.case.c.ref == ref)).first():
            self.result.present += 1
            return
        sections = data.get("sections")
        if isinstance(sections, list) and all(isinstance(s, str) for s in sections):
            sections = ",".join(sections)
        try:
            with self.uow.session.begin_nested():
                record_fir(
                    self.uow, self.actor, st, fir_no, year,
                    _text_field({"sections": sections}, "sections", line),
                    _text_field(data, "occurred_at", line), _text_field(data, "reported_at", line),
                    _text_field(data, "complainant", line),
                    _names(data, "accused", line, ";"), _names(data, "flags", line, ",;"),
                    _text_field(data, "sop", line).strip() or None, source="import",
                )  # fmt: skip
        except CasechainError as err:  # worded for the command line: name the columns instead
            reason = " / ".join(str(err).splitlines())
            reason = re.sub(r"--(occurred-at|reported-at|year|complainant|accused|sop|flag|sections)\b", lambda m: m.group(1).replace("-", "_"), reason)
            raise RowError(line, reason) from None
        self.seen.add(ref)
        self.result.cases += 1
        self.result.events += 1

    # -- a case exported by casechain: checked, then written with the batch
    def _case(self, rec: Record) -> None:
        line = rec.line
        case, rows, events = _parse_case(self.sc, rec.data, line)
        ref = case["ref"]
        if ref in self.seen:
            self.result.present += 1
            return
        if ref in self.looked_up:
            stored = self.stored.get(ref)
        else:
            stored = self.conn.execute(select(self.sc.case.c.id).where(self.sc.case.c.ref == ref)).scalar()
        if stored is not None:
            head = self.conn.execute(
                text("SELECT hash FROM audit_event WHERE case_id = :c AND seq = :s"), {"c": stored, "s": len(events)}
            ).first()
            if head is None or head[0] != events[-1]["hash"]:
                raise RowError(line, f"case {ref} is already in the database with a different audit trail; it was not overwritten")
            self.result.present += 1
            return
        self._check(line, case, rows, events)
        for name in KEEP_IDS:
            self.kept.setdefault(name, set()).update(r["id"] for r in rows.get(name, []))
        self.seen.add(ref)
        self.pending.append((line, case, rows))
        if len(self.pending) >= 500 or sum(sum(len(v) for v in r.values()) for _, _, r in self.pending[-1:]) > MAX_PENDING_ROWS:
            self.flush_cases()

    def _check(self, line: int, case: dict, rows: dict, events: list[dict]) -> None:
        """Everything the database would refuse, and everything audit verify checks."""
        if case["station"] not in self.districts:  # the identity map forgets rows: remember them here
            st = self.uow.station(case["station"])
            self.districts[case["station"]] = st.district if st is not None else None
        district = self.districts[case["station"]]
        if district is None:
            raise RowError(line, f"case {case['ref']}: unknown station {case['station']!r} (its station record must come first)")
        if case.get("io") and case["io"] not in self.officers and self.uow.officer(case["io"]) is not None:
            self.officers.add(case["io"])
        if case.get("io") and case["io"] not in self.officers:
            raise RowError(line, f"case {case['ref']}: unknown IO {case['io']!r} (officer records must come first)")
        sop = (case["sop_name"], case["sop_version"])
        if sop not in self.sops:
            self.sops[sop] = self.uow.sop_key(*sop) is not None
        if not self.sops[sop]:
            raise RowError(line, f"case {case['ref']}: unknown SOP {case['sop_name']}@{case['sop_version']} (run casechain init, or import its sop record first)")
        for table in self.sc.children:
            for fk in table.foreign_keys:
                target = fk.column.table
                if target.name in self.sc.child_names or target is self.sc.case:
                    continue
                values = {r[fk.parent.name] for r in rows[table.name] if r.get(fk.parent.name) is not None}
                for value in values:
                    if self.conn.execute(select(fk.column).where(fk.column == value)).first() is None:
                        raise RowError(line, f"case {case['ref']}: {table.name}.{fk.parent.name} {value!r} is unknown here")
        for name in KEEP_IDS:
            ids = [r["id"] for r in rows.get(name, []) if r.get("id") is not None]
            table = self.sc.by_name[name]
            if len(ids) != len(rows.get(name, [])) or len(set(ids)) != len(ids):
                raise RowError(line, f"case {case['ref']}: every {name} row needs an id of its own")
            taken = self.kept.setdefault(name, set())
            if ids and set(ids) <= self.ids_looked_up[name]:
                stored_ids = bool(self.used_ids[name] & set(ids))
            else:
                stored_ids = bool(ids) and self.conn.execute(select(table.c.id).where(table.c.id.in_(ids))).first() is not None
            if taken & set(ids) or stored_ids:
                raise RowError(line, f"case {case['ref']}: a {name} id is already used in this database; import casechain exports into a database of their own")
        for table in self.sc.children:  # every link inside the case points at a row of the case
            for col, target in self.sc.case_links(table):
                if target == "case":
                    continue
                surrogate = self.sc.surrogate(self.sc.by_name[target])
                have = {r[surrogate.name] for r in rows.get(target, [])}
                dangling = {r[col] for r in rows[table.name] if r.get(col) is not None} - have
                if dangling:
                    raise RowError(line, f"case {case['ref']}: {table.name}.{col} points at {target} row(s) {sorted(dangling)[:3]} the case does not hold")
        _check_chain(line, case, rows, events, district)

    def flush_cases(self) -> None:
        """Write the checked cases of this batch: one INSERT per table."""
        if not self.pending:
            return
        sc, conn = self.sc, self.conn
        pending, self.pending = self.pending, []
        case_t = sc.case
        new_rows = [{k: v for k, v in case.items() if k != "id"} for _, case, _ in pending]
        returned = _insert_returning_ids(conn, case_t, case_t.c.id, new_rows)
        # new ids by (which pending case, old id): two files' cases may share old ids
        new_case = dict(enumerate(returned))
        maps: dict[str, dict] = {}
        for table in sc.children:
            links = sc.case_links(table)
            surrogate = sc.surrogate(table)
            keep = table.name in KEEP_IDS
            batch_rows, old_ids = [], []
            for i, (_, case, rows) in enumerate(pending):
                for new in rows.get(table.name, []):  # the batch's own rows, remapped in place
                    for col, target in links:
                        if new.get(col) is not None:  # _check made sure every link resolves
                            new[col] = new_case[i] if target == "case" else maps[target][(i, new[col])]
                    if surrogate is not None and not keep:
                        old_ids.append((i, new.pop(surrogate.name, None)))
                    elif surrogate is not None:
                        old_ids.append((i, new[surrogate.name]))
                    batch_rows.append(new)
            if not batch_rows:
                continue
            if surrogate is not None and not keep and table.name in sc.referenced:
                got = _insert_returning_ids(conn, table, surrogate, batch_rows)
                maps[table.name] = dict(zip(old_ids, got))
            else:
                insert_rows(conn, table, batch_rows)
                if keep and surrogate is not None:
                    maps[table.name] = {old: old[1] for old in old_ids}
            if table.name == "audit_event":
                self.result.events += len(batch_rows)
        if conn.dialect.name == "postgresql":
            for name in KEEP_IDS:
                _advance_sequence(conn, sc.by_name[name])
        self.result.cases += len(pending)


# -- the pure part of checking an exported case -----------------------------------------
def _parse_case(sc: Schema, data: dict, line: int) -> tuple[dict, dict[str, list[dict]], list[dict]]:
    """(case row, rows by table, events by seq) of a case record, every value
    checked against its column; RowError at the first problem."""
    extra = set(data) - {"type", "ref", "case", "rows"}
    if extra:
        raise RowError(line, f"unknown key(s) {', '.join(sorted(extra))} in a case record")
    times: dict = {}
    try:
        case = _load(sc.case, data.get("case"), "case", times)
    except BadInput as err:
        raise RowError(line, str(err)) from None
    if case.get("id") is None:
        raise RowError(line, "case lacks its id (the rows of the case refer to it)")
    ref = case["ref"]
    if data.get("ref") not in (None, ref):
        raise RowError(line, f"ref {data.get('ref')!r} differs from the case's {ref!r}")
    if ref != make_ref(case["station"], case["fir_no"], case["year"]):
        raise RowError(line, f"ref {ref!r} does not match station {case['station']}, FIR {case['fir_no']}, year {case['year']}")
    raw_rows = data.get("rows") or {}
    if not isinstance(raw_rows, dict):
        raise RowError(line, "rows must be an object of table name -> list of rows")
    unknown = sorted(set(raw_rows) - sc.child_names)
    if unknown:
        raise RowError(line, f"unknown table(s) {', '.join(unknown)} in the rows of {ref}")
    rows: dict[str, list[dict]] = {}
    for table in sc.children:
        listed = raw_rows.get(table.name, [])
        if not isinstance(listed, list):
            raise RowError(line, f"rows of {table.name} must be a list")
        try:
            rows[table.name] = [_load(table, r, f"{table.name} row {i + 1} of {ref}", times) for i, r in enumerate(listed)]
        except BadInput as err:
            raise RowError(line, str(err)) from None
        via = _case_column(sc, table)
        if via and any(r.get(via) != case["id"] for r in rows[table.name]):
            raise RowError(line, f"a {table.name} row of {ref} names another case id")
    events = sorted(rows.get("audit_event", []), key=lambda e: e["seq"])
    if not events:
        raise RowError(line, f"case {ref} has no audit events: export it again from casechain, or import it as an FIR row")
    return case, rows, events


def _check_chain(line: int, case: dict, rows: dict, events: list[dict], district: str | None) -> None:
    """check_case (the rules of audit verify) on a case from a file; RowError if it fails."""
    from casechain.services.audit import check_case

    ns = SimpleNamespace
    accused = sorted(rows.get("accused", []), key=lambda r: r.get("id") or 0)
    try:
        check_case(
            ns(**case),
            [ns(**e) for e in events],
            [ns(**r) for r in rows.get("checklistentry", [])],
            [a["name"] for a in accused],
            [ns(**d) for d in rows.get("deficiency", [])],
            district,
        )
    except IntegrityFailure as err:
        raise RowError(line, str(err)) from None
    except (TypeError, KeyError, AttributeError, ValueError) as err:
        raise RowError(line, f"case {case['ref']}: rows incomplete ({type(err).__name__}: {err})") from None


# -- what the admin commands check, checked for rows that arrive in a file ------------
def _check_station(row: dict) -> None:
    from casechain.services.common import need_text
    from casechain.services.reference import district_row

    code = row["code"]
    if not code or code != code.upper() or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in code):
        raise BadInput(f"bad station code {code!r}: capital letters, digits and '-'")
    need_text(row["name"], "name")
    if district_row(row["district"])["district"] != row["district"]:
        raise BadInput(f"district {row['district']!r} is not written as casechain knows it")


def _check_officer(row: dict) -> None:
    from casechain.domain.roles import POLICE_ROLES, ROLE_NAMES
    from casechain.services.admin import _badge
    from casechain.services.common import need_text
    from casechain.services.reference import district_row

    if _badge(row["badge"]) != row["badge"]:
        raise BadInput(f"bad badge number {row['badge']!r}")
    need_text(row["name"], "name")
    if row["role"] not in ROLE_NAMES:
        raise BadInput(f"unknown role {row['role']!r}: use one of {', '.join(ROLE_NAMES)}")
    if row["role"] != Role.ADMIN.value or row.get("district"):
        district_row(row["district"])
    if (Role(row["role"]) in POLICE_ROLES) != bool(row.get("station")):
        raise BadInput(f"a {row['role']} {'belongs to' if Role(row['role']) in POLICE_ROLES else 'has no'} station")


def _check_sop(row: dict) -> None:
    from pydantic import ValidationError

    from casechain.domain.sop import Sop

    try:
        sop = Sop.model_validate_json(row["body"])
    except ValidationError as err:
        raise BadInput(f"body is not a valid SOP ({err.error_count()} problem(s), first: {err.errors()[0]['msg']})") from None
    if (sop.name, sop.version) != (row["name"], row["version"]):
        raise BadInput(f"body is SOP {sop.key}, not {row['name']}@{row['version']}")


ROW_CHECKS: dict[str, Callable[[dict], None]] = {"station": _check_station, "officer": _check_officer, "sop": _check_sop}


def _advance_sequence(conn, table: Table) -> None:
    """After rows went in with their own ids, move PostgreSQL's counter past them (never back)."""
    seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
    if seq:
        name = conn.dialect.identifier_preparer.quote(table.name)  # "case" is a reserved word
        conn.execute(
            text(f"SELECT setval(:s, m) FROM (SELECT MAX(id) AS m FROM {name}) x WHERE m IS NOT NULL AND m > (SELECT last_value FROM {seq})"),
            {"s": seq},
        )


def _insert_returning_ids(conn, table: Table, id_col, rows: list[dict]) -> list[int]:
    """Insert rows that get new ids; the ids in row order. On SQLite the writer
    holds the database (BEGIN IMMEDIATE), so the ids are the next ones after
    the largest, as SQLite would number them, and the rows go in by the fast
    path; elsewhere the database numbers them (RETURNING)."""
    if conn.dialect.name != "sqlite":
        return [new for (new,) in conn.execute(insert(table).returning(id_col, sort_by_parameter_order=True), rows).all()]
    from sqlalchemy import func

    first = (conn.execute(select(func.max(id_col))).scalar() or 0) + 1
    ids = list(range(first, first + len(rows)))
    insert_rows(conn, table, [{**r, id_col.name: i} for r, i in zip(rows, ids)])
    return ids


_INSERTS: dict = {}


def insert_rows(conn, table: Table, rows: list[dict]) -> None:
    """``INSERT`` many rows of ``table``: Core's statement and the columns' own
    bind processors; on SQLite, rows that name every column go straight to the
    driver's ``executemany`` (Core's per-row parameter handling costs more than
    SQLite's insert itself)."""
    from operator import itemgetter

    dialect = conn.dialect
    names = [c.name for c in table.columns]
    if rows and dialect.name == "sqlite" and len(rows[0]) == len(names) - 1:  # without the id SQLite numbers
        id_col = Schema.surrogate(table)
        if id_col is not None and id_col.name not in rows[0]:
            names.remove(id_col.name)
    width = len(names)
    if dialect.name != "sqlite" or width < 2 or any(len(r) != width for r in rows):
        conn.execute(insert(table), rows)
        return
    key = (table.name, width)
    if key not in _INSERTS:
        compiled = insert(table).compile(dialect=dialect, column_keys=names)
        order = list(compiled.positiontup)
        processors = [(i, _bind_processor(table.c[name], dialect)) for i, name in enumerate(order)]
        _INSERTS[key] = (str(compiled), itemgetter(*order), [(i, f) for i, f in processors if f is not None])
    sql, get, processors = _INSERTS[key]
    try:
        if processors:
            params = []
            for row in rows:
                values = list(get(row))
                for i, f in processors:
                    if values[i] is not None:
                        values[i] = f(values[i])
                params.append(tuple(values))
        else:
            params = [get(row) for row in rows]
    except KeyError:  # a row without some column: Core fills in the defaults
        conn.execute(insert(table), rows)
        return
    conn.exec_driver_sql(sql, params)


_SQLITE_DATETIME = "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
_SQLITE_TEXT: dict[datetime, str] = {}  # shared by every column: a case's rows repeat a few instants


def _bind_processor(col, dialect):
    """The column's bind processor; for sqlmodel's UTCDateTime on SQLite (with
    its usual storage format), :func:`sqlite_datetime_text` remembered per
    instant, since a case's rows repeat a few instants; any other value goes
    the usual way."""
    from sqlmodel.sql.sqltypes import UTCDateTime

    slow = col.type.dialect_impl(dialect).bind_processor(dialect)
    if slow is None or dialect.name != "sqlite" or type(col.type) is not UTCDateTime:
        return slow
    if col.type.impl_instance.dialect_impl(dialect)._storage_format != _SQLITE_DATETIME:
        return slow

    memo = _SQLITE_TEXT

    def process(value):
        text = memo.get(value)
        if text is None:
            if type(value) is not datetime or value.tzinfo is not UTC:
                return slow(value)
            if len(memo) >= 50_000:
                memo.clear()
            text = memo[value] = sqlite_datetime_text(value)
        return text

    return process


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _first_line(err: Exception) -> str:
    return str(getattr(err, "orig", err)).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__


__all__ = ["FIR_COLUMNS", "FORMAT", "FORMAT_VERSION", "export_lines", "import_file", "read_records"]
