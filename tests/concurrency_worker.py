"""One worker of tests/test_concurrency.py: a separate OS process acting on shared cases.

Usage: python concurrency_worker.py DB_URL WORKER_ID ACTIONS SEED OUT.json

It drives the real command line in-process (click's CliRunner, so the exit
codes of CLI.md are what it sees), picks a random case of the shared set, reads
it (state, version, checklist and deficiencies; what ``case show`` reports), chooses an action that the case's state
allows, and runs it with ``--if-version`` set to the version it read. Exit 3
(the case changed, or the database was busy) means: read again and retry.
Every action carries a unique marker (a UUID in its evidence, note or detail;
for a resolve, the deficiency id), so the test can find each successful action
in the audit trail exactly once, and no failed attempt there at all.

Writes a JSON summary: successes (kind, ref, marker), failed markers, counts.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid

PILOT_EVENTS = ("submit_challan", "submit_interim")


def _marker(worker: int) -> str:
    return f"mk-{worker}-{uuid.uuid4().hex}"


def read_case(engine, ref: str, items: list[dict]) -> dict:
    """What ``case show --format json`` says about the case, in three cheap queries
    (one read-only transaction, so it is one consistent snapshot on SQLite)."""
    from sqlalchemy import select

    from casechain.storage.tables import Case, ChecklistEntry, Deficiency

    with engine.execution_options(casechain_readonly=True).connect() as conn:
        case_id, state, version, report = conn.execute(select(Case.id, Case.state, Case.version, Case.report).where(Case.ref == ref)).one()
        done = dict(conn.execute(select(ChecklistEntry.item, ChecklistEntry.status).where(ChecklistEntry.case_id == case_id)).all())
        defs = conn.execute(select(Deficiency.id, Deficiency.status).where(Deficiency.case_id == case_id).order_by(Deficiency.id)).all()
    return {
        "ref": ref,
        "state": state,
        "version": version,
        "report": report,
        "checklist": [{**i, "status": done.get(i["item"], "open")} for i in items],
        "deficiencies": [{"id": d, "status": s} for d, s in defs],
    }


def choose(view: dict, rng: random.Random, worker: int):
    """(actor, argv, kind, marker) for one action the case's state allows, or None."""
    ref, state = view["ref"], view["state"]
    m = _marker(worker)
    items = [r for r in view["checklist"] if set(r["required_by"]) & set(PILOT_EVENTS)]
    open_items = [r["item"] for r in items if r["status"] == "open"]

    def tick(item):
        return ("IO-101", ["checklist", "tick", ref, item, "--evidence", f"memo {m}"], "tick", m)

    def advance(actor, event):
        return (actor, ["case", "advance", ref, event, "--note", f"note {m}"], "advance", m)

    def ready(event):
        return all(r["status"] != "open" for r in items if event in r["required_by"])

    unresolved = [d for d in view["deficiencies"] if d["status"] != "resolved"]
    if state == "under_investigation":
        if open_items and rng.random() < 0.7:
            return tick(rng.choice(open_items))
        moves = [e for e in PILOT_EVENTS if ready(e)]
        if moves and rng.random() < 0.5:
            return advance("IO-101", rng.choice(moves))
        return tick(rng.choice([r["item"] for r in items]))  # re-tick: replaces the evidence
    if state == "under_scrutiny":
        answered = [d for d in unresolved if d["status"] == "answered"]
        if answered:
            d = rng.choice(answered)
            return ("PP-7", ["deficiency", "resolve", ref, str(d["id"])], "resolve", f"{ref}#{d['id']}")
        if rng.random() < 0.4 or not (unresolved or view["report"] == "interim"):
            code = rng.choice(["OTHER", "STATEMENTS_MISSING", "WRONG_SECTIONS"])
            return ("PP-7", ["deficiency", "flag", ref, "--code", code, "--detail", f"defect {m}"], "flag", m)
        if unresolved:
            return advance("PP-7", "return_for_deficiencies")
        return advance("PP-7", "file_in_court")  # interim reports only: the case comes back
    if state == "returned_for_deficiencies":
        waiting = [d for d in unresolved if d["status"] == "open"]
        if waiting:
            d = rng.choice(waiting)
            return ("IO-101", ["deficiency", "respond", ref, str(d["id"]), "--note", f"cured {m}"], "respond", m)
        if open_items and rng.random() < 0.7:
            return tick(rng.choice(open_items))
        return advance("IO-101", "resubmit")
    if state == "in_court" and view["report"] == "interim":
        return advance("IO-101", "continue_investigation")
    return None


def main(url: str, worker: int, actions: int, seed: int, out: str) -> None:
    os.environ["CASECHAIN_DB"] = url
    os.environ.pop("CASECHAIN_USER", None)
    from click.testing import CliRunner
    from sqlalchemy.exc import OperationalError

    from casechain.bootstrap import engine_for
    from casechain.cli import cli
    from casechain.storage.db import resolve_url
    from casechain.storage.uow import is_locked

    runner = CliRunner()
    engine = engine_for(resolve_url(url))
    # The items of the shared cases (all registered alike), read once through the CLI.
    listed = runner.invoke(cli, ["checklist", "show", "CLN/1/2024", "--format", "json"])
    assert listed.exit_code == 0, listed.stderr
    items = [{"item": r["item"], "required_by": r["required_by"]} for r in json.loads(listed.stdout)]
    rng = random.Random(seed)
    refs = [f"CLN/{n}/2024" for n in range(1, 51)]
    successes, failed, errors = [], [], []
    conflicts = busy = reads_busy = 0
    started = time.monotonic()
    while len(successes) < actions and len(errors) < 5:
        ref = rng.choice(refs)
        for _attempt in range(200):
            try:
                view = read_case(engine, ref, items)
            except OperationalError as err:  # the database was busy even for a read
                if not is_locked(err):
                    raise
                reads_busy += 1
                continue
            plan = choose(view, rng, worker)
            if plan is None:
                break
            actor, argv, kind, marker = plan
            result = runner.invoke(cli, ["--as", actor, *argv, "--if-version", str(view["version"])])
            if result.exit_code == 0:
                successes.append([kind, ref, marker])
                break
            if result.exit_code == 3:
                if "busy" in result.stderr:
                    busy += 1
                else:
                    conflicts += 1
                if kind != "resolve":
                    failed.append(marker)
                continue
            errors.append({"argv": argv, "code": result.exit_code, "stderr": result.stderr, "exc": repr(result.exception)})
            break
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(
            {
                "worker": worker,
                "successes": successes,
                "failed": failed,
                "conflicts": conflicts,
                "busy": busy,
                "reads_busy": reads_busy,
                "errors": errors,
                "seconds": round(time.monotonic() - started, 2),
            },
            fh,
        )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
