"""Bulk import: ``casechain import FILE`` of a casechain export against raw
sqlite3 ``executemany`` of the same rows.

The file is an export of a bulk demo database (200,000 cases; ``--quick``
20,000), prepared once per run in a scratch folder. casechain's import runs as
a subprocess (peak RSS by /usr/bin/time): it streams the file, checks every
case with the rules ``audit verify`` applies (hash chains, replay), remaps
ids and inserts each table per batch. The baseline, in this script, reads the
same file, parses each line and inserts the same rows into the same schema
with sqlite3 ``executemany``, checking nothing. Goals: >= 0.5x the raw rate,
peak RSS <= 300 MB.

Building the export takes most of the time (10-15 minutes at full size), so it
is kept in ``benchmarks/.cache/`` (ignored by git), keyed by the number of
cases and a fingerprint of the sources that shape it (all of ``casechain``
except the import and verification code, which only read it). Remove the
folder, or set ``BENCH_REBUILD=1``, to build it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from bench_lib import Row, casechain_exe, time_rss

NOW = "2024-06-30T12:00"
CACHE = Path(__file__).resolve().parent / ".cache"
# Sources that read an export but do not shape it: editing them keeps the cache.
READ_ONLY = {"services/audit.py", "domain/audit.py", "cli/transfer.py"}


def _env(db: Path) -> dict:
    return {**os.environ, "CASECHAIN_NOW": NOW, "CASECHAIN_DB": str(db)}


def _fingerprint() -> str:
    """Of the casechain sources that decide what a bulk demo exports. The import
    half of services/transfer.py is left out too (only what follows
    ``# -- reading input files`` changes while the importer is tuned)."""
    import casechain

    root = Path(casechain.__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted([*root.rglob("*"), *(root.parents[1] / "sops").rglob("*")]):
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        if not path.is_file() or path.suffix == ".pyc" or rel in READ_ONLY:
            continue
        data = path.read_bytes()
        if rel == "services/transfer.py":
            data = data.split(b"# -- reading input files")[0]
        h.update(rel.encode() + b"\0" + data + b"\0")
    return h.hexdigest()[:16]


def cached_export(tmp: Path, n_cases: int) -> tuple[Path, int]:
    """The export of :func:`prepare`, built once per size and source fingerprint."""
    CACHE.mkdir(exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")
    key = f"export-{n_cases}-{_fingerprint()}"
    dump, meta = CACHE / f"{key}.jsonl", CACHE / f"{key}.json"
    if os.environ.get("BENCH_REBUILD") or not (dump.exists() and meta.exists()):
        for old in CACHE.glob(f"export-{n_cases}-*"):  # one export per size: they are large
            old.unlink()
        built, events = prepare(tmp, n_cases)
        shutil.move(built, dump)
        meta.write_text(json.dumps({"events": events}))
    return dump, json.loads(meta.read_text())["events"]


def prepare(tmp: Path, n_cases: int) -> tuple[Path, int]:
    """An export of a bulk demo database of ``n_cases`` cases; (file, events)."""
    source = tmp / "source.db"
    exe = casechain_exe()
    subprocess.run([exe, "--db", str(source), "demo", "--cases", str(n_cases), "--bulk"], check=True, stdout=subprocess.DEVNULL, env=_env(source))
    dump = tmp / "export.jsonl"
    subprocess.run([exe, "--db", str(source), "export", "-o", str(dump)], check=True, stderr=subprocess.DEVNULL, env=_env(source))
    con = sqlite3.connect(source)
    events = con.execute("SELECT COUNT(*) FROM audit_event").fetchone()[0]
    con.close()
    source.unlink()
    return dump, events


def _import(tmp: Path, dump: Path) -> tuple[float, float]:
    target = tmp / "target.db"
    exe = casechain_exe()
    subprocess.run([exe, "--db", str(target), "init", "--admin", "ADM-1", "--name", "System Administrator"], check=True, stdout=subprocess.DEVNULL, env=_env(target))
    wall, rss = time_rss([exe, "--db", str(target), "--as", "ADM-1", "import", str(dump)], env=_env(target))
    con = sqlite3.connect(target)
    got = con.execute("SELECT COUNT(*) FROM audit_event").fetchone()[0]
    con.close()
    return wall, rss, got


def _raw(tmp: Path, dump: Path) -> float:
    """The same rows by hand: parse each line, executemany per table per 500 cases."""
    target = tmp / "raw.db"
    subprocess.run([casechain_exe(), "--db", str(target), "init"], check=True, stdout=subprocess.DEVNULL, env=_env(target))
    con = sqlite3.connect(target, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    tables = ["case", "accused", "checklistentry", "deficiency", "audit_event", "clock", "case_track", "late_entry", "custody_event", "custody_state"]
    columns = {t: [r[1] for r in con.execute(f'PRAGMA table_info("{t}")')] for t in tables}
    sql = {t: f'INSERT INTO "{t}" ({", ".join(columns[t])}) VALUES ({", ".join("?" * len(columns[t]))})' for t in tables}
    t0 = time.perf_counter()
    pending: dict[str, list] = {t: [] for t in tables}
    n = 0

    def flush():
        con.execute("BEGIN")
        for t in tables:
            if pending[t]:
                con.executemany(sql[t], pending[t])
                pending[t] = []
        con.execute("COMMIT")

    with open(dump, "rb") as fh:
        for line in fh:
            obj = json.loads(line)
            if obj.get("type") != "case":
                continue
            case = obj["case"]
            pending["case"].append(tuple(case.get(c) for c in columns["case"]))
            for t, rows in obj["rows"].items():
                cols = columns[t]
                pending[t].extend(tuple(r.get(c) for c in cols) for r in rows)
            n += 1
            if n % 500 == 0:
                flush()
    flush()
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed


def run(quick: bool, pg_url=None) -> list[Row]:
    n = 20_000 if quick else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dump, events = cached_export(tmp, n)
        size_mb = dump.stat().st_size / 2**20
        wall, rss, got = _import(tmp, dump)
        raw = _raw(tmp, dump)
    ours_rate, raw_rate = n / wall, n / raw
    note = f"{n:,} cases, {events:,} events, {size_mb:,.0f} MB file; import {wall:.1f} s (process incl. start-up), raw {raw:.1f} s"
    if got != events:
        note += f"; IMPORTED {got:,} EVENTS, NOT {events:,}"
    return [
        Row(f"import {n:,} cases (cases/s)", ours_rate, raw_rate, "cases/s vs raw sqlite3 executemany", ">=0.5x raw", ours_rate >= 0.5 * raw_rate and got == events, note),
        Row("import peak RSS (MB)", rss, None, "MB", "<=300 MB", rss <= 300),
    ]


if __name__ == "__main__":
    import sys

    from bench_lib import print_table

    print_table(run("--quick" in sys.argv))
