"""The bad-input corpus: tests/bad_inputs/cases.json and the files beside it.

Every case is a command line given malformed or hostile input: broken and
hostile CSV/JSONL imports and SOP YAML (billion laughs, Python tags, NUL
bytes, nesting, duplicates, unknown roles and states), invalid and ambiguous
dates, control characters and text-direction overrides, very long fields,
SQL-looking strings, unknown references, wrong roles, files that must not be
overwritten. For each, per CLI.md:

- exit code 1 (refused by the rules) or 2 (bad input), as the case says;
- nothing on stdout, every stderr line ``error: ...``; exactly one line for
  bad input (one line per reason for refusals and SOP problems), matching
  what the case says;
- never a traceback;
- the database unchanged: an SQL dump (sqlite3 ``iterdump``) before and after
  is identical, and on PostgreSQL every table's rows are.

Placeholders in the table: ``$A``/``$B`` the two cases of the template
database, ``$D1``/``$D2`` its deficiencies, ``$IN/`` this corpus folder,
``$TMP/`` files the test writes (too big to keep in the repository),
``$EXPORT/`` altered copies of a real export, ``$REPEAT(c,n)`` a long string.
"""

from __future__ import annotations

import json
import re
import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import (
    CASE_A,
    CASE_B,
    World,
    build_two_cases,
    checkpoint,
    pg_rows,
    release_engine,
    scratch_pg_database,
    sqlite_copy,
    sqlite_dump,
)

from sqlalchemy import create_engine

from casechain.cli import cli
from casechain.domain.audit import GENESIS, EventRecord, link_hash
from casechain.services import transfer

HERE = Path(__file__).parent / "bad_inputs"
CORPUS = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))
NOW = "2024-03-20T10:00"  # Pakistan time = conftest.FIXED_NOW
A, B = CASE_A, CASE_B
CSV_HEAD = "station,fir_no,year,sections,occurred_at,reported_at,complainant,accused,flags\n"


def test_the_corpus_is_large_and_well_formed():
    ids = [c["id"] for c in CORPUS]
    assert len(ids) >= 200 and len(set(ids)) == len(ids)
    for c in CORPUS:
        assert c["code"] in (1, 2) and c["lines"] in ("one", "many") and c["db"] in ("main", "fresh"), c["id"]
        re.compile(c["says"])
        for arg in c["args"]:
            if arg.startswith("$IN/"):
                assert (HERE / arg[4:]).is_file(), f"{c['id']}: {arg} is missing"
    files = {str(p.relative_to(HERE)) for p in HERE.rglob("*") if p.is_file() and p.name != "cases.json" and p.suffix != ".md"}
    used = {a[4:] for c in CORPUS for a in c["args"] if a.startswith("$IN/")}
    assert files <= used, f"files no case uses: {sorted(files - used)}"


# -- the databases the cases run against --------------------------------------------------
def _fresh(w: World) -> None:
    from casechain.services import admin

    w.run(admin.init, "ADM-1", "System Admin")


def _altered_exports(w: World, folder: Path) -> None:
    """Copies of the template's export with case A altered in different ways."""
    with w.uow(readonly=True) as uow:
        lines = list(transfer.export_lines(uow))
    at = next(i for i, line in enumerate(lines) if json.loads(line).get("ref") == A)

    def write(name, change):
        case = json.loads(lines[at])
        change(case)
        out = lines[:at] + [json.dumps(case) + "\n"] + lines[at + 1 :]
        (folder / f"{name}.jsonl").write_text("".join(out), encoding="utf-8")

    write("export-hash-altered", lambda c: c["rows"]["audit_event"][1].update(actor="SP-1"))
    write("export-state-altered", lambda c: c["case"].update(state="in_court"))
    write("export-event-removed", lambda c: c["rows"]["audit_event"].pop(1))
    write("export-unknown-table", lambda c: c["rows"].update(secrets=[{"x": 1}]))
    write("export-ref-mismatch", lambda c: c["case"].update(ref="CLN/5/2024"))

    def other_trail(c):  # a valid chain, but not the one stored: the last tick says otherwise
        events = c["rows"]["audit_event"]
        last = events[-1]
        payload = {**json.loads(last["payload"]), "evidence": "DD 13"}
        last["payload"] = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        when = lambda v: v + ("" if "." in v else ".000000") + "Z"
        rec = EventRecord(A, last["seq"], last["action"], last["actor"], when(last["occurred_at"]), when(last["recorded_at"]), payload)
        last["hash"] = link_hash(last["prev_hash"] or GENESIS, rec)
        c["case"]["head_hash"] = last["hash"]
        for entry in c["rows"]["checklistentry"]:
            if entry["item"] == payload["item"]:
                entry["detail"] = "DD 13"

    write("export-other-trail", other_trail)


def _generated(folder: Path) -> None:
    """Files too big to keep in the repository, and files that must survive."""
    from casechain.resources import sops_dir

    base = (sops_dir() / "default.yaml").read_text(encoding="utf-8")
    (folder / "huge.yaml").write_text(base + "# " + "x" * 1_100_000 + "\n", encoding="utf-8")
    (folder / "huge-title.yaml").write_text(base.replace("title: ", "title: " + "T" * 200_000 + "\nx_title: ", 1), encoding="utf-8")
    (folder / "long-key.yaml").write_text("? " + "k" * 100_000 + "\n: 1\n", encoding="utf-8")
    (folder / "deep-nesting.yaml").write_text("name: " + "[" * 20000 + "]" * 20000 + "\n", encoding="utf-8")
    (folder / "huge-field.csv").write_text(CSV_HEAD + "CLN,900,2024,379,2024-03-05T10:00,2024-03-05T12:00," + "A" * 200_000 + ",,\n", encoding="utf-8")
    (folder / "deep.jsonl").write_text("[" * 50000 + "]" * 50000 + "\n", encoding="utf-8")
    (folder / "existing.txt").write_text("keep me\n", encoding="utf-8")


@pytest.fixture(scope="module")
def sqlite_templates(tmp_path_factory, two_case_template):
    folder = tmp_path_factory.mktemp("corpus")
    main, fresh = folder / "main.db", folder / "fresh.db"
    shutil.copyfile(two_case_template["path"], main)
    ids = {"D1": two_case_template["D1"], "D2": two_case_template["D2"]}
    w = World(f"sqlite:///{main}")
    try:
        exports = folder / "exports"
        exports.mkdir()
        _altered_exports(w, exports)
    finally:
        w.dispose()
    f = World(f"sqlite:///{fresh}")
    _fresh(f)
    f.dispose()
    checkpoint(main)
    checkpoint(fresh)
    tmp = folder / "tmp"
    tmp.mkdir()
    _generated(tmp)
    return {"main": main, "fresh": fresh, "exports": exports, "tmp": tmp, **ids}


# -- running one case ---------------------------------------------------------------------------
def _expand(arg: str, env: dict) -> str:
    arg = re.sub(r"\$REPEAT\((.),(\d+)\)", lambda m: m.group(1) * int(m.group(2)), arg)
    for key, value in (("$IN", str(HERE)), ("$TMP", str(env["tmp"])), ("$EXPORT", str(env["exports"])), ("$A", A), ("$B", B), ("$D1", env["D1"]), ("$D2", env["D2"])):
        arg = arg.replace(key, value)
    return arg


def _invoke(url: str, case: dict, env: dict):
    args = [_expand(a, env) for a in case["args"]]
    actor = _expand(case["as"], env) if case["as"] else None
    argv = ["--db", url] + (["--as", actor] if actor is not None else []) + args
    return CliRunner().invoke(cli, argv, env={"CASECHAIN_NOW": NOW, "CASECHAIN_USER": None, "CASECHAIN_DB": None}, catch_exceptions=True)


def _check_output(case: dict, result) -> None:
    where = f"{case['id']}: exit {result.exit_code}\nstdout: {result.stdout[:500]!r}\nstderr: {result.stderr[:800]!r}"
    assert result.exception is None or isinstance(result.exception, SystemExit), f"{where}\n{result.exc_info and ''.join(__import__('traceback').format_exception(*result.exc_info))[-2000:]}"
    assert "Traceback" not in result.output, where
    assert result.exit_code == case["code"], where
    assert result.stdout == "", where
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), where
    if case["lines"] == "one":
        assert len(lines) == 1, where
    assert re.search(case["says"], result.stderr), f"{where}\nexpected: {case['says']}"


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_bad_input_on_sqlite(sqlite_templates, tmp_path, case):
    url = sqlite_copy(sqlite_templates[case["db"]], tmp_path)
    path = tmp_path / "casechain.db"
    before = sqlite_dump(path)
    existing = (sqlite_templates["tmp"] / "existing.txt").read_text(encoding="utf-8")
    try:
        result = _invoke(url, case, sqlite_templates)
    finally:
        release_engine(url)
    _check_output(case, result)
    assert sqlite_dump(path) == before, f"{case['id']}: the database changed"
    assert (sqlite_templates["tmp"] / "existing.txt").read_text(encoding="utf-8") == existing
    assert not list(sqlite_templates["tmp"].glob("*.partial"))


# -- the same corpus on PostgreSQL: one database per template, never reset ---------------------
@pytest.fixture(scope="module")
def pg_templates(sqlite_templates):
    with ExitStack() as stack:
        urls = {k: stack.enter_context(scratch_pg_database(f"casechain_corpus_{k}")) for k in ("main", "fresh")}
        ids = build_two_cases(urls["main"])
        f = World(urls["fresh"])
        _fresh(f)
        f.dispose()
        engines = {k: create_engine(u) for k, u in urls.items()}  # to read every row before and after
        stack.callback(lambda: [e.dispose() for e in engines.values()])
        yield {**sqlite_templates, **ids, "urls": urls, "engines": engines}


# `sop validate` reads a file and never opens the database: SQLite covers it
ON_PG = [c for c in CORPUS if c["args"][:2] != ["sop", "validate"]]


@pytest.mark.parametrize("case", ON_PG, ids=[c["id"] for c in ON_PG])
def test_bad_input_on_postgres(pg_templates, case):
    url, engine = pg_templates["urls"][case["db"]], pg_templates["engines"][case["db"]]
    before = pg_rows(engine)
    result = _invoke(url, case, pg_templates)
    _check_output(case, result)
    assert pg_rows(engine) == before, f"{case['id']}: the database changed"
