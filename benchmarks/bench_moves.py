"""Durable moves: one case action = one transaction with its audit event.

casechain's service layer (checklist tick: role and jurisdiction checks, SOP
guard, version-checked update, hash-chained event) against raw sqlite3 doing
the same statements, both on a file database in WAL mode with
synchronous=FULL. On PostgreSQL the service figure is reported too.

The two sides run in alternating rounds and each keeps its best round: the
time of a durable commit (fsync) dominates both and varies with whatever else
the machine is doing, so back-to-back runs would compare two different disks.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench_lib import Row

NOW = datetime(2024, 3, 20, 5, 0, tzinfo=timezone.utc)


def _world(url: str, n_cases: int):
    from casechain.services import admin, cases
    from casechain.storage.db import make_engine
    from casechain.storage.uow import UnitOfWork

    engine = make_engine(url)
    clock = lambda: NOW  # noqa: E731

    def run(action, *a, **k):
        with UnitOfWork(engine, now=clock) as uow:
            return action(uow, *a, **k)

    run(admin.init, "ADM-1", "Admin")
    run(admin.add_station, "ADM-1", "CLN", "PS Civil Lines", "Lahore")
    run(admin.add_officer, "ADM-1", "SHO-1", "Insp", "sho", "Lahore", "CLN")
    run(admin.add_officer, "ADM-1", "IO-1", "SI", "io", "Lahore", "CLN")
    refs = []
    for i in range(1, n_cases + 1):
        ref = run(cases.register, "SHO-1", "CLN", i, 2024, "302", "2024-03-01T10:00", "2024-03-01T12:00", "A B", ["C"], [])["ref"]
        run(cases.assign, "SHO-1", ref, "IO-1")
        run(cases.advance, "IO-1", ref, "start_investigation")
        refs.append(ref)
    return engine, run, refs


def _service_moves(url: str, n_cases: int = 20):
    """(engine, step): each ``step(n)`` ticks n more items through the services; returns moves/s."""
    from casechain.services import checklist

    engine, run, refs = _world(url, n_cases)
    done = 0

    def step(n: int) -> float:
        nonlocal done
        t = time.perf_counter()
        for i in range(done, done + n):
            run(checklist.tick, "IO-1", refs[i % n_cases], "site_plan", f"SP-{i}")
        done += n
        return n / (time.perf_counter() - t)

    return engine, step


def _raw_moves(path: Path, n_cases: int = 20):
    """(connection, step): the same statements by hand: read, upsert the item,
    insert the chained event, bump the version."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute('CREATE TABLE "case" (id INTEGER PRIMARY KEY, ref TEXT UNIQUE, version INT, head_hash TEXT, state TEXT)')
    con.execute("CREATE TABLE checklistentry (case_id INT, item TEXT, status TEXT, detail TEXT, by TEXT, at TEXT, PRIMARY KEY (case_id, item))")
    con.execute("CREATE TABLE audit_event (case_id INT, seq INT, action TEXT, actor TEXT, occurred_at TEXT, recorded_at TEXT, payload TEXT, prev_hash TEXT, hash TEXT, PRIMARY KEY (case_id, seq))")
    con.executemany('INSERT INTO "case" VALUES (?, ?, 0, ?, ?)', [(i, f"CLN/{i}/2024", "0" * 64, "under_investigation") for i in range(1, n_cases + 1)])
    done = 0

    def step(n: int) -> float:
        nonlocal done
        t = time.perf_counter()
        for i in range(done, done + n):
            ref = f"CLN/{i % n_cases + 1}/2024"
            con.execute("BEGIN IMMEDIATE")
            cid, version, head, state = con.execute('SELECT id, version, head_hash, state FROM "case" WHERE ref = ?', (ref,)).fetchone()
            at = (NOW + timedelta(seconds=i)).isoformat()
            payload = json.dumps({"item": "site_plan", "evidence": f"SP-{i}"}, sort_keys=True, separators=(",", ":"))
            body = json.dumps({"case": ref, "seq": version + 1, "action": "tick", "actor": "IO-1", "occurred_at": at, "recorded_at": at, "payload": payload}, sort_keys=True, separators=(",", ":"))
            digest = hashlib.sha256(head.encode() + b"\n" + body.encode()).hexdigest()
            con.execute("INSERT OR REPLACE INTO checklistentry VALUES (?, 'site_plan', 'done', ?, 'IO-1', ?)", (cid, f"SP-{i}", at))
            con.execute("INSERT INTO audit_event VALUES (?, ?, 'tick', 'IO-1', ?, ?, ?, ?, ?)", (cid, version + 1, at, at, payload, head, digest))
            cur = con.execute('UPDATE "case" SET version = ?, head_hash = ? WHERE id = ? AND version = ?', (version + 1, digest, cid, version))
            assert cur.rowcount == 1
            con.execute("COMMIT")
        done += n
        return n / (time.perf_counter() - t)

    return con, step


def _interleaved(ours, raw, n: int, rounds: int = 5) -> tuple[float, float]:
    """Best moves/s of each side over ``rounds`` alternating rounds of n/rounds moves."""
    ours(10), raw(10)  # warm-up: first-use costs (statement caches, the SOP parse) are not moves
    best_ours = best_raw = 0.0
    for _ in range(rounds):
        best_ours = max(best_ours, ours(n // rounds))
        best_raw = max(best_raw, raw(n // rounds))
    return best_ours, best_raw


def run(quick: bool, pg_url=None) -> list[Row]:
    n = 300 if quick else 2000
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        engine, ours_step = _service_moves(f"sqlite:///{tmp / 'svc.db'}")
        con, raw_step = _raw_moves(tmp / "raw.db")
        ours, raw = _interleaved(ours_step, raw_step, n)
        engine.dispose()
        con.close()
    rows = [Row("durable moves SQLite (moves/s)", ours, raw, "moves/s vs raw sqlite3", ">=0.5x raw", ours >= 0.5 * raw)]
    if pg_url:
        import uuid

        from sqlalchemy import create_engine, text

        name = f"casechain_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            engine, pg_step = _service_moves(pg_url.rsplit("/", 1)[0] + "/" + name)
            pg_step(10)
            pg = pg_step(n // 2)
            engine.dispose()
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        rows.append(Row("durable moves PostgreSQL (moves/s)", pg, None, "moves/s", "reported", None))
    return rows
