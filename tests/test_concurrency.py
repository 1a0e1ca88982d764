"""Eight OS processes act on one shared set of 50 cases at once.

Each worker (tests/concurrency_worker.py) performs at least ACTIONS successful
actions through the command line (ticks, advances, deficiency flag / respond /
resolve), each with ``--if-version`` and a unique marker, retrying on exit 3.
Afterwards, on each backend:

- every successful action is in the audit trail exactly once;
- no failed (conflicted) attempt left anything behind;
- nothing is in the trail that no worker reported (nothing applied twice);
- each case's version equals its number of events, and every chain verifies.

Runs in CI (marked ``slow`` only so it can be deselected locally with -m "not slow").
Set CASECHAIN_CONCURRENCY_ACTIONS to change the per-worker count (default 500).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import World
from sqlalchemy import text

from casechain.services import audit, cases

WORKERS = 8
CASES = 50
ACTIONS = int(os.environ.get("CASECHAIN_CONCURRENCY_ACTIONS", "500"))
WORKER = Path(__file__).with_name("concurrency_worker.py")
SETUP_NOTE = "setup"


def _setup(w: World) -> World:
    """The World (conftest) with CASES cases under investigation, all assigned to IO-101."""
    for n in range(1, CASES + 1):
        ref = w.register(n, sections="379", accused=("Bilal",))
        w.run(cases.assign, "SHO-1", ref, "IO-101")
        w.run(cases.advance, "IO-101", ref, "start_investigation", note=SETUP_NOTE)
    return w


def _marker_of(ref: str, action: str, payload: dict) -> str | None:
    """The worker's marker in a stored event (None for the set-up events)."""
    if action == "deficiency_resolve":
        return f"{ref}#{payload['id']}"
    text_ = {"tick": payload.get("evidence"), "advance": payload.get("note"), "deficiency_flag": payload.get("detail"), "deficiency_respond": payload.get("note")}.get(action)
    if text_ and "mk-" in text_:
        return text_[text_.index("mk-"):]
    return None


@pytest.mark.slow
def test_eight_processes_lose_nothing_and_apply_nothing_twice(world, tmp_path):
    w = _setup(world)
    db_url = w.url
    try:
        started = time.monotonic()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1] / "src"), os.environ.get("PYTHONPATH", "")])}
        env.pop("CASECHAIN_NOW", None)
        procs = []
        for i in range(WORKERS):
            out = tmp_path / f"worker{i}.json"
            procs.append((out, subprocess.Popen([sys.executable, str(WORKER), db_url, str(i), str(ACTIONS), str(1000 + i), str(out)], env=env, stderr=subprocess.PIPE, text=True)))
        reports = []
        for out, proc in procs:
            _, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, f"worker crashed:\n{err[-3000:]}"
            reports.append(json.loads(out.read_text()))
        elapsed = time.monotonic() - started

        for r in reports:
            assert not r["errors"], f"worker {r['worker']} hit unexpected errors: {r['errors']}"
            assert len(r["successes"]) >= ACTIONS
        succeeded = [tuple(s) for r in reports for s in r["successes"]]
        failed = {m for r in reports for m in r["failed"]}
        kinds = Counter(kind for kind, _, _ in succeeded)
        conflicts = sum(r["conflicts"] for r in reports)
        busy = sum(r["busy"] + r["reads_busy"] for r in reports)
        print(f"\n{db_url.split(':')[0]}: {len(succeeded)} actions by {WORKERS} processes in {elapsed:.1f}s; "
              f"{conflicts} conflicts and {busy} busy retried; {dict(kinds)}")
        assert len({m for _, _, m in succeeded}) == len(succeeded), "a marker was reported twice"
        # every kind of action took part, so the test covers them all
        assert set(kinds) == {"tick", "advance", "flag", "respond", "resolve"}, kinds

        with w.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT c.ref, e.seq, e.action, e.payload FROM audit_event e JOIN \"case\" c ON c.id = e.case_id ORDER BY c.ref, e.seq")
            ).all()
            versions = dict(conn.execute(text('SELECT ref, version FROM "case"')).all())
        stored = Counter()
        per_case = Counter()
        for ref, _seq, action, payload in rows:
            per_case[ref] += 1
            marker = _marker_of(ref, action, json.loads(payload))
            if marker is None:
                assert action in ("register", "assign", "advance"), f"unexpected unmarked event {action} in {ref}"
                continue
            stored[(ref, marker)] += 1

        expected = Counter((ref, marker) for _, ref, marker in succeeded)
        twice = {k: n for k, n in stored.items() if n > 1}
        assert not twice, f"applied more than once: {list(twice)[:5]}"
        lost = set(expected) - set(stored)
        assert not lost, f"{len(lost)} successful actions missing from the audit trail, e.g. {sorted(lost)[:5]}"
        phantom = set(stored) - set(expected)
        assert not phantom, f"{len(phantom)} events no worker reported as done, e.g. {sorted(phantom)[:5]}"
        assert not failed & {m for _, m in stored}, "a conflicted attempt left an event behind"
        setup_events = 3 * CASES
        assert len(rows) == setup_events + len(succeeded)
        assert versions == dict(per_case), "a case's version differs from its number of events"
        assert w.run(audit.verify) == {"cases": CASES, "events": len(rows)}
    finally:
        w.dispose()
