"""The command line through click's CliRunner: every command, its exit code and
its output (CLI.md), on each backend.

Exact text is asserted where CLI.md fixes it (``case register`` prints the
reference and nothing else) or where it is the command's one-line answer;
``--format json`` must be one JSON document with the stable keys, and
``--format csv`` a header row with the same columns as the JSON.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from click.testing import CliRunner

from casechain.cli import cli

NOW = "2024-03-20T10:00"  # Pakistan time; the same instant as conftest.FIXED_NOW
REF = "CLN/123/2024"
CHALLAN_ITEMS = ["fir_copy", "site_plan", "statements_161", "post_mortem", "forensic_report", "arrest_status", "witness_list", "case_diary"]
REGISTER = [
    "case", "register", "--station", "CLN", "--fir-no", "123", "--year", "2024", "--sections", "302,34",
    "--occurred-at", "2024-03-01T22:15", "--reported-at", "2024-03-02T01:10",
    "--complainant", "Muhammad Aslam", "--accused", "Bilal",
]  # fmt: skip

_used_urls: set[str] = set()


@pytest.fixture(autouse=True)
def _release_engines():
    """The CLI caches one engine per URL; close them so PostgreSQL can be reset."""
    yield
    from casechain import bootstrap

    for url in _used_urls:
        bootstrap.engine_for(url).dispose()
    _used_urls.clear()
    bootstrap.engine_for.cache_clear()


def run(url: str, *args: str, actor: str | None = None, code: int = 0, env: dict | None = None):
    """Invoke the CLI in-process; assert the exit code and that nothing leaked a traceback."""
    _used_urls.add(url)
    argv = ["--db", url] + (["--as", actor] if actor else []) + [str(a) for a in args]
    full_env = {"CASECHAIN_NOW": NOW, "CASECHAIN_USER": None, "CASECHAIN_DB": None, **(env or {})}
    result = CliRunner().invoke(cli, argv, env=full_env, catch_exceptions=False)
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == code, f"{argv} -> {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    if code:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines, f"{argv}: a failure must say why on stderr"
        assert all(line.startswith("error: ") for line in lines), result.stderr
        assert result.stdout == "", f"{argv}: a failed command prints its reasons on stderr only"
    return result


def as_json(result):
    return json.loads(result.stdout)  # fails on anything but one JSON document


def as_csv(result) -> list[list[str]]:
    return list(csv.reader(io.StringIO(result.stdout)))


def assert_csv_matches_json(url, *args, actor=None):
    """--format csv: one header row with the same columns as --format json, one row per record."""
    data = as_json(run(url, *args, "--format", "json", actor=actor))
    table = as_csv(run(url, *args, "--format", "csv", actor=actor))
    assert isinstance(data, list) and data, "need records to compare"
    assert table[0] == list(data[0]), f"csv header {table[0]} != json keys {list(data[0])}"
    assert len(table) == 1 + len(data)
    return data, table


def setup_via_cli(url: str) -> None:
    r = run(url, "init", "--admin", "ADM-1", "--name", "System Admin")
    assert r.stdout == "database ready; SOPs loaded: balochistan@1, default@1, khyber_pakhtunkhwa@1, punjab@1, sindh@1; admins: ADM-1\n"
    assert run(url, "station", "add", "CLN", "--name", "PS Civil Lines", "--district", "Lahore", actor="ADM-1").stdout == "station CLN added (Lahore, Punjab)\n"
    assert (
        run(url, "station", "add", "khi", "--name", "PS Artillery Maidan", "--district", "karachi south", actor="ADM-1").stdout
        == "station KHI added (Karachi South, Sindh)\n"
    )
    for badge, role, district, station, said in [
        ("SHO-1", "sho", "Lahore", "CLN", "officer SHO-1 added as sho (CLN)\n"),
        ("IO-101", "io", "Lahore", "CLN", "officer IO-101 added as io (CLN)\n"),
        ("IO-102", "io", "Lahore", "CLN", "officer IO-102 added as io (CLN)\n"),
        ("PP-7", "prosecutor", "Lahore", None, "officer PP-7 added as prosecutor (Lahore)\n"),
        ("SP-1", "supervisor", "Lahore", None, "officer SP-1 added as supervisor (Lahore)\n"),
        ("IO-201", "io", "Karachi South", "KHI", "officer IO-201 added as io (KHI)\n"),
        ("PP-9", "prosecutor", "Karachi South", None, "officer PP-9 added as prosecutor (Karachi South)\n"),
    ]:
        args = ["officer", "add", badge, "--name", f"Officer {badge}", "--role", role, "--district", district]
        if station:
            args += ["--station", station]
        assert run(url, *args, actor="ADM-1").stdout == said


# -- admin -------------------------------------------------------------------
def test_init_station_officer_commands(db_url):
    setup_via_cli(db_url)
    again = run(db_url, "init")
    assert again.stdout == "database ready; SOPs loaded: none new; admins: ADM-1\n"

    stations, table = assert_csv_matches_json(db_url, "station", "list")
    assert stations == [
        {"code": "CLN", "name": "PS Civil Lines", "district": "Lahore", "province": "Punjab"},
        {"code": "KHI", "name": "PS Artillery Maidan", "district": "Karachi South", "province": "Sindh"},
    ]
    assert table[1] == ["CLN", "PS Civil Lines", "Lahore", "Punjab"]
    shown = run(db_url, "station", "list").stdout
    assert "PS Civil Lines" in shown and "PS Artillery Maidan" in shown

    officers, _ = assert_csv_matches_json(db_url, "officer", "list")
    assert [o["badge"] for o in officers] == ["ADM-1", "IO-101", "IO-102", "IO-201", "PP-7", "PP-9", "SHO-1", "SP-1"]
    assert {"badge", "name", "role", "district", "station", "active"} <= set(officers[0])
    pp = as_json(run(db_url, "officer", "list", "--role", "prosecutor", "--format", "json"))
    assert [(o["badge"], o["district"], o["station"]) for o in pp] == [("PP-7", "Lahore", None), ("PP-9", "Karachi South", None)]
    lahore = as_json(run(db_url, "officer", "list", "--district", "Lahore", "--format", "json"))
    assert {o["badge"] for o in lahore} == {"IO-101", "IO-102", "PP-7", "SHO-1", "SP-1"}
    assert "IO-101" in run(db_url, "officer", "list").stdout


def test_init_admin_needs_name(sqlite_url):
    r = run(sqlite_url, "init", "--admin", "ADM-1", code=2)
    assert "--admin needs --name" in r.stderr


def test_station_and_officer_add_need_admin(sqlite_url):
    setup_via_cli(sqlite_url)
    r = run(sqlite_url, "station", "add", "MDL", "--name", "PS Model Town", "--district", "Lahore", actor="SHO-1", code=1)
    assert r.stderr == "error: role sho may not add stations (allowed: admin)\n"
    r = run(sqlite_url, "officer", "add", "IO-9", "--name", "X", "--role", "io", "--district", "Lahore", "--station", "CLN", actor="IO-101", code=1)
    assert r.stderr == "error: role io may not add officers (allowed: admin)\n"
    r = run(sqlite_url, "station", "add", "CLN", "--name", "Again", "--district", "Lahore", actor="ADM-1", code=2)
    assert r.stderr == "error: station CLN already exists\n"
    r = run(sqlite_url, "officer", "add", "IO-101", "--name", "X", "--role", "io", "--district", "Lahore", "--station", "CLN", actor="ADM-1", code=2)
    assert r.stderr == "error: officer IO-101 already exists\n"
    r = run(sqlite_url, "officer", "add", "IO-9", "--name", "X", "--role", "io", "--district", "Lahore", actor="ADM-1", code=2)
    assert "--station" in r.stderr
    r = run(sqlite_url, "officer", "add", "IO-9", "--name", "X", "--role", "io", "--district", "Karachi South", "--station", "CLN", actor="ADM-1", code=2)
    assert "station CLN is in Lahore, not Karachi South" in r.stderr


# -- the main flow, FIR to conviction, on every backend ------------------------
def test_case_flow_fir_to_conviction(db_url):
    url = db_url
    setup_via_cli(url)

    # register: prints exactly the reference
    r = run(url, *REGISTER, actor="SHO-1")
    assert r.stdout == f"{REF}\n"
    assert r.stderr == ""

    view = as_json(run(url, "case", "show", REF, "--format", "json"))
    for key in ("ref", "state", "sop", "station", "district", "io", "sections", "flags", "clocks", "checklist", "deficiencies", "custody"):
        assert key in view, key
    assert view["ref"] == REF
    assert view["state"] == "fir_registered"
    assert view["sop"] == "punjab@1"  # CLN is in Lahore: Punjab's SOP
    assert (view["station"], view["district"], view["io"]) == ("CLN", "Lahore", None)
    assert view["sections"] == ["302", "34"]
    assert view["flags"] == []
    assert view["deficiencies"] == []
    assert [c["accused"] for c in view["custody"]] == ["Bilal"]
    assert isinstance(view["clocks"], list)
    for clock in view["clocks"]:
        assert {"name", "due", "met_at", "status"} <= set(clock)
        assert clock["status"] in ("pending", "met", "breached")
    items = {c["item"]: c for c in view["checklist"]}
    for row in view["checklist"]:
        assert {"item", "status", "evidence"} <= set(row)
    assert "post_mortem" in items  # s.302 brings the post-mortem in
    assert "medico_legal" not in items and "dna_report" not in items  # not for s.302/34
    assert all(c["status"] == "open" and c["evidence"] is None for c in view["checklist"])

    table = run(url, "case", "show", REF).stdout
    assert f"Case {REF}  (punjab@1)" in table
    assert "fir_registered" in table and "Muhammad Aslam" in table and "(not assigned)" in table

    # events: the IO may not start before being assigned, and is told why
    ev = as_json(run(url, "case", "events", REF, "--format", "json", actor="IO-101"))
    assert (ev["ref"], ev["state"], ev["actor"], ev["role"]) == (REF, "fir_registered", "IO-101", "io")
    start = next(e for e in ev["events"] if e["event"] == "start_investigation")
    assert start["allowed"] is False
    assert any("not the IO of this case" in b for b in start["blocked_by"])
    text = run(url, "case", "events", REF, actor="IO-101").stdout
    assert f"{REF} is fir_registered: moves for IO-101 (io)" in text
    assert "start_investigation" in text
    assert "file_in_court" not in text  # not possible from this state: only with --all
    assert "file_in_court" in run(url, "case", "events", REF, "--all", actor="IO-101").stdout

    # assign, with --if-version: a stale version exits 3 and changes nothing
    r = run(url, "case", "assign", REF, "--io", "IO-101", "--if-version", "0", actor="SHO-1", code=3)
    assert r.stderr == f"error: case {REF} is at version 1, not 0: someone changed it; look again\n"
    assert as_json(run(url, "case", "show", REF, "--format", "json"))["io"] is None
    r = run(url, "case", "assign", REF, "--io", "IO-101", "--if-version", "1", actor="SHO-1")
    assert r.stdout == f"{REF}: IO IO-101 assigned (version 2)\n"
    ev = as_json(run(url, "case", "events", REF, "--format", "json", actor="IO-101"))
    assert next(e for e in ev["events"] if e["event"] == "start_investigation")["allowed"] is True

    r = run(url, "case", "advance", REF, "start_investigation", actor="IO-101")
    assert r.stdout == f"{REF}: fir_registered -> under_investigation by start_investigation (version 3)\n"

    # challan refused while the checklist is open: one line per missing item
    r = run(url, "case", "advance", REF, "submit_challan", actor="IO-101", code=1)
    missing = {line.split()[3] for line in r.stderr.splitlines() if line.startswith("error: checklist item ")}
    assert missing == set(CHALLAN_ITEMS) | {"recovery_memos", "case_property"}

    # checklist show / tick / na / untick
    rows, _ = assert_csv_matches_json(url, "checklist", "show", REF)
    assert {"ref", "item", "status", "evidence"} <= set(rows[0])
    assert rows[0]["ref"] == REF
    for item in CHALLAN_ITEMS:
        r = run(url, "checklist", "tick", REF, item, "--evidence", f"ref {item}", actor="IO-101")
        assert r.stdout.startswith(f"{REF}: {item} done (version ")
    r = run(url, "checklist", "na", REF, "recovery_memos", "--reason", "nothing recovered", actor="IO-101")
    assert r.stdout == f"{REF}: recovery_memos not applicable (version 12)\n"
    r = run(url, "checklist", "tick", REF, "case_property", "--evidence", "malkhana 9", "--if-version", "5", actor="IO-101", code=3)
    assert "is at version 12, not 5" in r.stderr
    r = run(url, "checklist", "na", REF, "case_property", "--reason", "none", "--if-version", "12", actor="IO-101")
    assert r.stdout == f"{REF}: case_property not applicable (version 13)\n"
    r = run(url, "checklist", "untick", REF, "site_plan", "--reason", "wrong plan attached", actor="IO-101")
    assert r.stdout == f"{REF}: site_plan reopened (version 14)\n"
    r = run(url, "checklist", "untick", REF, "site_plan", "--reason", "again", actor="IO-101", code=1)
    assert r.stderr == f"error: item site_plan of {REF} is not ticked\n"
    r = run(url, "case", "advance", REF, "submit_challan", actor="IO-101", code=1)
    assert r.stderr == "error: checklist item site_plan (Site plan of the place of occurrence) is not done\n"
    run(url, "checklist", "tick", REF, "site_plan", "--evidence", "SP-17 dated 2024-03-02", "--at", "2024-03-03T11:00", actor="IO-101")
    shown = {c["item"]: c for c in as_json(run(url, "checklist", "show", REF, "--format", "json"))}
    assert (shown["site_plan"]["status"], shown["site_plan"]["evidence"]) == ("done", "SP-17 dated 2024-03-02")
    assert shown["site_plan"]["at"] == "2024-03-03T06:00:00.000000Z"  # --at read as Pakistan time, stored in UTC
    assert (shown["recovery_memos"]["status"], shown["recovery_memos"]["evidence"]) == ("na", "nothing recovered")
    assert "SP-17" in run(url, "checklist", "show", REF).stdout

    r = run(url, "case", "advance", REF, "submit_challan", "--note", "challan 12/24", actor="IO-101")
    assert r.stdout == f"{REF}: under_investigation -> under_scrutiny by submit_challan (version 16)\n"

    # deficiency flag / list / respond / resolve
    r = run(url, "deficiency", "flag", REF, "--code", "PMR_MISSING", actor="PP-7")
    assert r.stdout.startswith(f"{REF}: deficiency ")
    assert r.stdout.endswith(" (PMR_MISSING) flagged; checklist item post_mortem reopened\n")
    defs, _ = assert_csv_matches_json(url, "deficiency", "list", REF)
    assert len(defs) == 1
    d = defs[0]
    assert (d["ref"], d["code"], d["status"], d["round"]) == (REF, "PMR_MISSING", "open", 1)
    assert r.stdout == f"{REF}: deficiency {d['id']} (PMR_MISSING) flagged; checklist item post_mortem reopened\n"
    queue = as_json(run(url, "deficiency", "list", "--open", "--format", "json", actor="PP-7"))
    assert [(q["ref"], q["id"]) for q in queue] == [(REF, d["id"])]
    assert queue[0]["days_open"] == 0.0
    assert as_json(run(url, "deficiency", "list", "--open", "--format", "json", actor="PP-9")) == []
    assert "PMR_MISSING" in run(url, "deficiency", "list", REF).stdout

    r = run(url, "case", "advance", REF, "return_for_deficiencies", actor="PP-7")
    assert r.stdout == f"{REF}: under_scrutiny -> returned_for_deficiencies by return_for_deficiencies (version 18)\n"
    r = run(url, "case", "advance", REF, "resubmit", actor="IO-101", code=1)
    assert r.stderr == "error: 1 open deficiency(ies) have no response from the IO yet\n"
    r = run(url, "deficiency", "respond", REF, str(d["id"]), "--note", "PMR obtained", "--evidence", "PMR 55/24", actor="IO-101")
    assert r.stdout == f"{REF}: deficiency {d['id']} answered\n"
    run(url, "checklist", "tick", REF, "post_mortem", "--evidence", "PMR 55/24", actor="IO-101")
    r = run(url, "case", "advance", REF, "resubmit", actor="IO-101")
    assert r.stdout == f"{REF}: returned_for_deficiencies -> under_scrutiny by resubmit (version 21)\n"
    r = run(url, "case", "advance", REF, "file_in_court", actor="PP-7", code=1)
    assert r.stderr == "error: 1 deficiency(ies) still open\n"
    r = run(url, "deficiency", "resolve", REF, str(d["id"]), actor="PP-7")
    assert r.stdout == f"{REF}: deficiency {d['id']} resolved\n"
    r = run(url, "case", "advance", REF, "file_in_court", actor="PP-7")
    assert r.stdout == f"{REF}: under_scrutiny -> in_court by file_in_court (version 23)\n"
    r = run(url, "case", "advance", REF, "record_verdict", actor="PP-7", code=2)
    assert r.stderr == "error: record_verdict needs --outcome convicted|acquitted|cancellation_accepted (none given)\n"
    r = run(url, "case", "advance", REF, "record_verdict", "--outcome", "convicted", actor="PP-7")
    assert r.stdout == f"{REF}: in_court -> closed_convicted by record_verdict (version 24)\n"

    view = as_json(run(url, "case", "show", REF, "--format", "json"))
    assert (view["state"], view["io"], view["round"], view["version"]) == ("closed_convicted", "IO-101", 1, 24)
    assert [(x["id"], x["code"], x["status"]) for x in view["deficiencies"]] == [(d["id"], "PMR_MISSING", "resolved")]
    pm = next(c for c in view["checklist"] if c["item"] == "post_mortem")
    assert (pm["status"], pm["evidence"]) == ("done", "PMR 55/24")

    # list, with filters
    cases, table = assert_csv_matches_json(url, "case", "list")
    assert [c["ref"] for c in cases] == [REF]
    assert table[1][0] == REF
    assert as_json(run(url, "case", "list", "--state", "closed_convicted", "--format", "json"))[0]["ref"] == REF
    assert as_json(run(url, "case", "list", "--state", "in_court", "--format", "json")) == []
    assert as_json(run(url, "case", "list", "--district", "karachi south", "--format", "json")) == []
    assert [c["ref"] for c in as_json(run(url, "case", "list", "--io", "IO-101", "--station", "cln", "--format", "json"))] == [REF]
    assert REF in run(url, "case", "list").stdout

    # history: the audit trail, oldest first
    events, _ = assert_csv_matches_json(url, "case", "history", REF)
    assert [e["seq"] for e in events] == list(range(1, 25))
    assert events[0]["action"] == "register" and events[0]["actor"] == "SHO-1"
    assert events[-1]["payload"] == {"event": "record_verdict", "from": "in_court", "to": "closed_convicted", "outcome": "convicted"}
    assert {"ref", "seq", "action", "actor", "occurred_at", "recorded_at", "payload", "hash"} <= set(events[0])
    text = run(url, "case", "history", REF).stdout
    assert "FIR registered" in text and "record_verdict" in text

    r = run(url, "audit", "verify")
    assert r.stdout == "audit trail intact: 1 case(s), 24 event(s) verified\n"
    assert run(url, "audit", "verify", REF).stdout == "audit trail intact: 1 case(s), 24 event(s) verified\n"


# -- output files and formats --------------------------------------------------
def _registered(url: str) -> None:
    setup_via_cli(url)
    run(url, *REGISTER, actor="SHO-1")


def test_output_file_written_and_not_overwritten_without_force(sqlite_url, tmp_path):
    _registered(sqlite_url)
    out = tmp_path / "cases.json"
    r = run(sqlite_url, "case", "list", "--format", "json", "-o", str(out))
    assert r.stdout == ""
    assert r.stderr == f"wrote {out}\n"
    assert [c["ref"] for c in json.loads(out.read_text(encoding="utf-8"))] == [REF]
    before = out.read_bytes()

    r = run(sqlite_url, "case", "list", "--format", "csv", "-o", str(out), code=2)
    assert r.stderr == f"error: {out} exists: choose another file or add --force to overwrite it\n"
    assert out.read_bytes() == before

    run(sqlite_url, "case", "list", "--format", "csv", "-o", str(out), "--force")
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith("ref,state,")

    hist = tmp_path / "history.csv"
    run(sqlite_url, "case", "history", REF, "--format", "csv", "--output", str(hist))
    rows = list(csv.reader(io.StringIO(hist.read_text(encoding="utf-8"))))
    assert rows[0][:2] == ["ref", "seq"] and rows[1][:3] == [REF, "1", "register"]


def test_output_into_missing_folder_is_bad_input(sqlite_url, tmp_path):
    _registered(sqlite_url)
    r = run(sqlite_url, "case", "list", "-o", str(tmp_path / "no" / "such" / "dir.txt"), code=2)
    assert "cannot write" in r.stderr


def test_format_choice_is_checked(sqlite_url):
    _registered(sqlite_url)
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "case", "list", "--format", "xml"], env={"CASECHAIN_NOW": NOW})
    _used_urls.add(sqlite_url)
    assert result.exit_code == 2
    assert "xml" in result.stderr and "Traceback" not in result.output


def test_json_output_is_one_document_with_no_decoration(sqlite_url):
    _registered(sqlite_url)
    for args in (["case", "show", REF], ["case", "list"], ["case", "history", REF], ["checklist", "show", REF], ["sop", "list"], ["sop", "show", "default"]):
        r = run(sqlite_url, *args, "--format", "json")
        doc = json.loads(r.stdout)
        assert r.stdout.strip()[0] in "[{"
        assert r.stderr == ""
        assert json.loads(json.dumps(doc)) == doc


# -- sop ---------------------------------------------------------------------
def test_sop_list_show_validate(sqlite_url):
    from casechain.resources import sops_dir

    _registered(sqlite_url)
    sops, _ = assert_csv_matches_json(sqlite_url, "sop", "list")
    assert [(s["sop"], s["cases"]) for s in sops] == [
        ("balochistan@1", 0), ("default@1", 0), ("khyber_pakhtunkhwa@1", 0), ("punjab@1", 1), ("sindh@1", 0)
    ]
    assert "punjab@1" in run(sqlite_url, "sop", "list").stdout

    spec = as_json(run(sqlite_url, "sop", "show", "default", "--format", "json"))
    assert spec["sop"] == "default@1"
    assert [s["name"] for s in spec["states"] if s["initial"]] == ["fir_registered"]
    fic = next(e for e in spec["events"] if e["event"] == "file_in_court")
    assert (fic["from"], fic["to"], fic["roles"]) == (["under_scrutiny"], "in_court", ["prosecutor"])
    assert "PMR_MISSING" in {c["code"] for c in spec["deficiency_codes"]}
    assert as_json(run(sqlite_url, "sop", "show", "default@1", "--format", "json")) == spec
    text = run(sqlite_url, "sop", "show", "default").stdout
    assert "file_in_court" in text and "PMR_MISSING" in text and "Deficiency codes" in text
    r = run(sqlite_url, "sop", "show", "nosuch", code=2)
    assert "unknown SOP 'nosuch'" in r.stderr

    path = sops_dir() / "default.yaml"
    r = run(sqlite_url, "sop", "validate", str(path))
    assert r.stdout == (
        f"{path}: valid SOP default@1 ({len(spec['states'])} states, {len(spec['events'])} events, "
        f"{len(spec['checklist'])} checklist items)\n"
    )
    assert (len(spec["states"]), len(spec["checklist"])) == (10, 16)


# -- audit -----------------------------------------------------------------------
def test_audit_verify_detects_a_tampered_event(sqlite_url):
    _registered(sqlite_url)
    run(sqlite_url, "case", "assign", REF, "--io", "IO-101", actor="SHO-1")
    assert run(sqlite_url, "audit", "verify").stdout == "audit trail intact: 1 case(s), 2 event(s) verified\n"
    con = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    with con:
        con.execute("UPDATE audit_event SET payload = replace(payload, 'IO-101', 'IO-102') WHERE seq = 2")
    con.close()
    r = run(sqlite_url, "audit", "verify", code=4)
    assert r.stderr == f"error: audit chain broken: case {REF}, event 2: hash does not match the event's content (an event was altered)\n"
    assert run(sqlite_url, "audit", "verify", REF, code=4).stderr == r.stderr


def test_uninitialised_database_says_run_init(sqlite_url):
    r = run(sqlite_url, "case", "list", code=2)
    assert r.stderr == "error: this database is not initialised: run casechain init --admin BADGE --name NAME\n"


def test_actor_and_database_from_environment(sqlite_url):
    _registered(sqlite_url)
    _used_urls.add(sqlite_url)
    result = CliRunner().invoke(
        cli,
        ["case", "assign", REF, "--io", "IO-101"],
        env={"CASECHAIN_NOW": NOW, "CASECHAIN_DB": sqlite_url, "CASECHAIN_USER": "SHO-1"},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{REF}: IO IO-101 assigned (version 2)\n"
