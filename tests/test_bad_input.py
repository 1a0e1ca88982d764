"""Bad input and refused actions through the CLI.

For each: the exit code of CLI.md (1 refused by the rules, 2 bad input, 3
conflict), every stderr line starts with ``error: `` and names the problem,
nothing on stdout, never a traceback, and the database is unchanged (compared
as an SQL dump of the SQLite file before and after).
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import CASE_A, CASE_B, release_engine, sqlite_copy, sqlite_dump

from casechain.cli import cli

NOW = "2024-03-20T10:00"  # Pakistan time = conftest.FIXED_NOW
A = CASE_A  # under_investigation, IO-101, fir_copy ticked
B = CASE_B  # under_scrutiny, IO-101; deficiency D1 resolved, D2 open


def register_args(**over) -> list[str]:
    opts = {
        "--station": "CLN", "--fir-no": "200", "--year": "2024", "--sections": "302,34",
        "--occurred-at": "2024-03-01T22:15", "--reported-at": "2024-03-02T01:10", "--complainant": "Muhammad Aslam",
    }  # fmt: skip
    opts.update(over)
    out = ["case", "register"]
    for k, v in opts.items():
        out += [k, v]
    return out


@pytest.fixture
def db(two_case_template, tmp_path):
    """A private copy of the two-case template database (the World's officers and cases A and B) for one test."""
    url = sqlite_copy(two_case_template["path"], tmp_path)
    yield {"path": tmp_path / "casechain.db", "url": url, "D1": two_case_template["D1"], "D2": two_case_template["D2"]}
    release_engine(url)


def invoke(url: str, actor: str | None, args: list[str]):
    argv = ["--db", url] + (["--as", actor] if actor else []) + args
    env = {"CASECHAIN_NOW": NOW, "CASECHAIN_USER": None, "CASECHAIN_DB": None}
    return CliRunner().invoke(cli, argv, env=env, catch_exceptions=False)


def assert_failed_cleanly(result, code: int, pattern: str) -> None:
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == code, f"exit {result.exit_code}, wanted {code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert result.stdout == "", f"a failed command prints nothing on stdout: {result.stdout!r}"
    lines = result.stderr.splitlines()
    assert lines, "a failed command says why on stderr"
    assert all(line.startswith("error: ") for line in lines), result.stderr
    assert re.search(pattern, result.stderr), f"{pattern!r} not in {result.stderr!r}"


# (id, acting badge, command line, exit code, what the message must say)
CASES = [
    # unknown or malformed case references
    ("unknown-case-show", None, ["case", "show", "CLN/999/2024"], 2, r"unknown case 'CLN/999/2024'"),
    ("unknown-case-advance", "IO-101", ["case", "advance", "CLN/999/2024", "start_investigation"], 2, r"unknown case 'CLN/999/2024'"),
    ("unknown-case-tick", "IO-101", ["checklist", "tick", "CLN/999/2024", "site_plan", "--evidence", "x"], 2, r"unknown case 'CLN/999/2024'"),
    ("unknown-case-history", None, ["case", "history", "MDL/1/2024"], 2, r"unknown case 'MDL/1/2024'"),
    ("unknown-case-deficiencies", None, ["deficiency", "list", "CLN/1/2023"], 2, r"unknown case 'CLN/1/2023'"),
    ("unknown-case-audit", None, ["audit", "verify", "CLN/999/2024"], 2, r"unknown case 'CLN/999/2024'"),
    ("malformed-ref-show", None, ["case", "show", "CLN-123-2024"], 2, r"bad case reference 'CLN-123-2024'.*STATION/FIR-NO/YEAR"),
    ("malformed-ref-assign", "SHO-1", ["case", "assign", "123/2024", "--io", "IO-102"], 2, r"bad case reference '123/2024'"),
    ("malformed-ref-checklist", None, ["checklist", "show", "CLN/123/24"], 2, r"bad case reference 'CLN/123/24'"),
    # who is acting
    ("unknown-officer-as", "IO-999", ["case", "advance", A, "submit_challan"], 2, r"unknown officer 'IO-999'"),
    ("unknown-officer-assign", "SHO-1", ["case", "assign", A, "--io", "IO-999"], 2, r"unknown officer 'IO-999'"),
    ("missing-as-advance", None, ["case", "advance", A, "submit_challan"], 2, r"--as BADGE"),
    ("missing-as-tick", None, ["checklist", "tick", A, "site_plan", "--evidence", "x"], 2, r"--as BADGE"),
    ("missing-as-register", None, register_args(), 2, r"--as BADGE"),
    ("missing-as-station", None, ["station", "add", "NEW", "--name", "PS New", "--district", "Lahore"], 2, r"--as BADGE"),
    ("missing-as-deficiency-list", None, ["deficiency", "list"], 2, r"give a case reference, or --as BADGE"),
    # wrong role
    ("io-files-in-court", "IO-101", ["case", "advance", B, "file_in_court"], 1, r"role io may not fire file_in_court \(roles: prosecutor\)"),
    ("prosecutor-ticks", "PP-7", ["checklist", "tick", A, "site_plan", "--evidence", "x"], 1, r"role prosecutor may not change the checklist"),
    ("prosecutor-marks-na", "PP-7", ["checklist", "na", A, "site_plan", "--reason", "x"], 1, r"role prosecutor may not change the checklist"),
    ("io-flags-deficiency", "IO-101", ["deficiency", "flag", B, "--code", "PMR_MISSING"], 1, r"role io may not flag deficiencies"),
    ("io-resolves-deficiency", "IO-101", ["deficiency", "resolve", B, "{D2}"], 1, r"role io may not resolve deficiencies"),
    ("admin-registers", "ADM-1", register_args(), 1, r"role admin may not register FIRs"),
    ("io-assigns", "IO-101", ["case", "assign", A, "--io", "IO-102"], 1, r"role io may not assign IOs"),
    ("assign-a-prosecutor-as-io", "SHO-1", ["case", "assign", A, "--io", "PP-7"], 1, r"PP-7 is a prosecutor, not an active IO"),
    # jurisdiction: another station, another district, another IO
    ("other-station-io-ticks", "IO-201", ["checklist", "tick", A, "site_plan", "--evidence", "x"], 1, r"IO-201 belongs to station KHI, the case to station CLN"),
    ("other-station-io-advances", "IO-201", ["case", "advance", A, "submit_challan"], 1, r"IO-201 belongs to station KHI, the case to station CLN"),
    ("other-station-io-responds", "IO-201", ["deficiency", "respond", B, "{D2}", "--note", "x"], 1, r"IO-201 belongs to station KHI"),
    ("other-station-sho-assigns", "SHO-2", ["case", "assign", A, "--io", "IO-102"], 1, r"SHO-2 belongs to station KHI, the case to station CLN"),
    ("other-station-sho-registers", "SHO-2", register_args(), 1, r"SHO-2 belongs to station KHI; FIRs of CLN are registered there"),
    ("assign-io-of-other-station", "SHO-1", ["case", "assign", A, "--io", "IO-201"], 1, r"IO-201 is posted at KHI; the case belongs to CLN"),
    ("not-the-assigned-io", "IO-102", ["checklist", "tick", A, "site_plan", "--evidence", "x"], 1, r"IO-102 is not the IO of this case \(assigned: IO-101\)"),
    ("other-district-pp-flags", "PP-9", ["deficiency", "flag", B, "--code", "PMR_MISSING"], 1, r"PP-9 works in district Karachi South, the case is in Lahore"),
    ("other-district-pp-resolves", "PP-9", ["deficiency", "resolve", B, "{D2}"], 1, r"PP-9 works in district Karachi South, the case is in Lahore"),
    ("other-district-pp-files", "PP-9", ["case", "advance", B, "file_in_court"], 1, r"PP-9 works in district Karachi South, the case is in Lahore"),
    # the state machine
    ("illegal-event-from-state", "IO-101", ["case", "advance", A, "resubmit"], 1, r"resubmit cannot be applied to a case in state under_investigation \(only from: returned_for_deficiencies\)"),
    ("return-from-investigation", "PP-7", ["case", "advance", A, "return_for_deficiencies"], 1, r"cannot be applied to a case in state under_investigation"),
    ("verdict-before-court", "PP-7", ["case", "advance", B, "record_verdict", "--outcome", "convicted"], 1, r"record_verdict cannot be applied to a case in state under_scrutiny"),
    ("file-with-open-deficiency", "PP-7", ["case", "advance", B, "file_in_court"], 1, r"1 deficiency\(ies\) still open"),
    ("challan-with-open-checklist", "IO-101", ["case", "advance", A, "submit_challan"], 1, r"checklist item post_mortem \(Post-mortem report\) is not done"),
    ("unknown-event", "IO-101", ["case", "advance", A, "fly_to_court"], 2, r"unknown event 'fly_to_court' in SOP punjab@1; events are: start_investigation"),
    ("unknown-outcome", "PP-7", ["case", "advance", B, "record_verdict", "--outcome", "hanged"], 2, r"record_verdict needs --outcome convicted\|acquitted\|cancellation_accepted \('hanged' is not one\)"),
    ("outcome-where-none", "IO-101", ["case", "advance", A, "submit_challan", "--outcome", "convicted"], 2, r"submit_challan takes no --outcome"),
    ("io-override", "IO-101", ["case", "advance", A, "submit_challan", "--override", "urgent"], 1, r"role io may not override submit_challan"),
    # the checklist
    ("unknown-item-tick", "IO-101", ["checklist", "tick", A, "site_plna", "--evidence", "x"], 2, r"unknown checklist item 'site_plna' in SOP punjab@1; items are: fir_copy, site_plan"),
    ("unknown-item-na", "IO-101", ["checklist", "na", A, "nothing", "--reason", "x"], 2, r"unknown checklist item 'nothing'"),
    ("na-forbidden", "IO-101", ["checklist", "na", A, "fir_copy", "--reason", "lost"], 1, r"item fir_copy .* may not be marked not applicable: tick it with evidence"),
    ("na-forbidden-post-mortem", "IO-101", ["checklist", "na", A, "post_mortem", "--reason", "none"], 1, r"item post_mortem .* may not be marked not applicable"),
    ("item-not-applicable-to-case", "IO-101", ["checklist", "tick", A, "dna_report", "--evidence", "x"], 1, r"item dna_report does not apply to CLN/123/2024"),
    ("tick-without-evidence", "IO-101", ["checklist", "tick", A, "site_plan"], 2, r"Missing option '--evidence'"),
    ("tick-empty-evidence", "IO-101", ["checklist", "tick", A, "site_plan", "--evidence", ""], 2, r"--evidence .*must not be empty"),
    ("tick-blank-evidence", "IO-101", ["checklist", "tick", A, "site_plan", "--evidence", "   "], 2, r"--evidence .*must not be empty"),
    ("na-empty-reason", "IO-101", ["checklist", "na", A, "site_plan", "--reason", ""], 2, r"--reason must not be empty"),
    ("untick-open-item", "IO-101", ["checklist", "untick", A, "site_plan", "--reason", "x"], 1, r"item site_plan of CLN/123/2024 is not ticked"),
    ("checklist-frozen-in-scrutiny", "IO-101", ["checklist", "tick", B, "site_plan", "--evidence", "x"], 1, r"the checklist of CLN/124/2024 cannot change in state under_scrutiny"),
    # dates and times
    ("bad-occurred-at", "SHO-1", register_args(**{"--occurred-at": "2024-13-45"}), 2, r"bad --occurred-at '2024-13-45': use ISO-8601"),
    ("bad-reported-at", "SHO-1", register_args(**{"--reported-at": "2/3/2024"}), 2, r"bad --reported-at '2/3/2024'"),
    ("at-yesterday", "IO-101", ["checklist", "tick", A, "site_plan", "--evidence", "x", "--at", "yesterday"], 2, r"bad --at 'yesterday': use ISO-8601"),
    ("at-yesterday-assign", "SHO-1", ["case", "assign", A, "--io", "IO-102", "--at", "yesterday"], 2, r"bad --at 'yesterday'"),
    ("at-in-future", "IO-101", ["checklist", "tick", A, "site_plan", "--evidence", "x", "--at", "2024-03-21T10:00"], 2, r"--at 2024-03-21T10:00 lies in the future"),
    ("at-before-fir", "IO-101", ["checklist", "tick", A, "site_plan", "--evidence", "x", "--at", "2024-01-01"], 2, r"--at 2024-01-01 is before the FIR of CLN/123/2024"),
    ("reported-in-future", "SHO-1", register_args(**{"--reported-at": "2024-04-01T10:00"}), 2, r"--reported-at 2024-04-01T10:00 lies in the future"),
    ("occurred-after-reported", "SHO-1", register_args(**{"--occurred-at": "2024-03-05T10:00"}), 2, r"--occurred-at is after --reported-at"),
    ("year-mismatch", "SHO-1", register_args(**{"--year": "2023"}), 2, r"--year 2023 does not match --reported-at \(2024\)"),
    ("fir-no-not-a-number", "SHO-1", register_args(**{"--fir-no": "12a"}), 2, r"'12a' is not a valid integer"),
    ("fir-no-zero", "SHO-1", register_args(**{"--fir-no": "0"}), 2, r"bad FIR number 0"),
    # places
    ("unknown-district-station", "ADM-1", ["station", "add", "NEW", "--name", "PS New", "--district", "Lahorre"], 2, r"unknown district 'Lahorre'; did you mean Lahore\?"),
    ("unknown-district-officer", "ADM-1", ["officer", "add", "PP-99", "--name", "X", "--role", "prosecutor", "--district", "Atlantis"], 2, r"unknown district 'Atlantis'"),
    ("unknown-district-case-list", None, ["case", "list", "--district", "Atlantis"], 2, r"unknown district 'Atlantis'"),
    ("unknown-station-register", "SHO-1", register_args(**{"--station": "ZZZ"}), 2, r"unknown station 'ZZZ'"),
    ("unknown-station-officer", "ADM-1", ["officer", "add", "IO-999", "--name", "X", "--role", "io", "--district", "Lahore", "--station", "ZZZ"], 2, r"unknown station 'ZZZ'"),
    ("bad-station-code", "ADM-1", ["station", "add", "C L N", "--name", "X", "--district", "Lahore"], 2, r"bad station code 'C L N'"),
    ("bad-badge", "ADM-1", ["officer", "add", "IO 9", "--name", "X", "--role", "io", "--district", "Lahore", "--station", "CLN"], 2, r"bad badge number 'IO 9'"),
    ("unknown-role", "ADM-1", ["officer", "add", "X-1", "--name", "X", "--role", "chief", "--district", "Lahore"], 2, r"'chief' is not one of"),
    ("prosecutor-with-station", "ADM-1", ["officer", "add", "PP-99", "--name", "X", "--role", "prosecutor", "--district", "Lahore", "--station", "CLN"], 1, r"leave out --station"),
    # FIR content
    ("duplicate-fir", "SHO-1", register_args(**{"--fir-no": "123"}), 2, r"FIR 123/2024 of CLN is already registered as CLN/123/2024"),
    ("section-304", "SHO-1", register_args(**{"--sections": "304"}), 2, r"section 304 is not a punishable offence"),
    ("section-304-with-302", "SHO-1", register_args(**{"--sections": "302,304"}), 2, r"section 304 is not a punishable offence"),
    ("section-typo", "SHO-1", register_args(**{"--sections": "302,3x4"}), 2, r"bad section '3x4'"),
    ("sections-empty", "SHO-1", register_args(**{"--sections": " , "}), 2, r"--sections is empty"),
    ("bad-flag", "SHO-1", register_args(**{"--flag": "Not A Flag"}), 2, r"bad flag 'not a flag'"),
    ("empty-complainant", "SHO-1", register_args(**{"--complainant": " "}), 2, r"--complainant must not be empty"),
    ("unknown-sop", "SHO-1", register_args(**{"--sop": "nosuch"}), 2, r"unknown SOP 'nosuch'"),
    # deficiencies
    ("unknown-deficiency-code", "PP-7", ["deficiency", "flag", B, "--code", "NOPE"], 2, r"unknown deficiency code 'NOPE'; codes are: WRONG_SECTIONS"),
    ("detail-required", "PP-7", ["deficiency", "flag", B, "--code", "WRONG_SECTIONS"], 2, r"--detail \(code WRONG_SECTIONS needs the specifics\) must not be empty"),
    ("flag-outside-scrutiny", "PP-7", ["deficiency", "flag", A, "--code", "PMR_MISSING"], 1, r"deficiencies are flagged during scrutiny \(under_scrutiny\); CLN/123/2024 is under_investigation"),
    ("resolve-twice", "PP-7", ["deficiency", "resolve", B, "{D1}"], 1, r"deficiency {D1} is already resolved"),
    ("respond-to-other-cases-deficiency", "IO-101", ["deficiency", "respond", A, "{D2}", "--note", "done"], 2, r"case CLN/123/2024 has no deficiency '{D2}'"),
    ("resolve-other-cases-deficiency", "PP-7", ["deficiency", "resolve", A, "{D2}"], 2, r"case CLN/123/2024 has no deficiency '{D2}'"),
    ("deficiency-id-not-a-number", "PP-7", ["deficiency", "resolve", B, "abc"], 2, r"case CLN/124/2024 has no deficiency 'abc'"),
    ("unknown-deficiency-id", "PP-7", ["deficiency", "resolve", B, "9999"], 2, r"case CLN/124/2024 has no deficiency '9999'"),
    ("respond-while-with-prosecutor", "IO-101", ["deficiency", "respond", B, "{D2}", "--note", "done"], 1, r"CLN/124/2024 is under_scrutiny: deficiencies are answered once the file is returned"),
    # concurrent edit
    ("stale-if-version", "IO-101", ["checklist", "tick", A, "site_plan", "--evidence", "x", "--if-version", "1"], 3, r"case CLN/123/2024 is at version 4, not 1: someone changed it"),
    ("if-version-not-a-number", "IO-101", ["checklist", "tick", A, "site_plan", "--evidence", "x", "--if-version", "four"], 2, r"'four' is not a valid integer"),
    # the command line itself
    ("unknown-command", "IO-101", ["case", "fly", A], 2, r"No such command 'fly'"),
    ("unknown-option", "IO-101", ["checklist", "tick", A, "site_plan", "--evidense", "x"], 2, r"No such option '--evidense'\. Did you mean '--evidence'"),
    ("missing-argument", "IO-101", ["case", "advance", A], 2, r"Missing argument 'EVENT'"),
]


@pytest.mark.parametrize("actor,args,code,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_cleanly_and_changes_nothing(db, actor, args, code, pattern):
    args = [a.format(**db) for a in args]
    pattern = pattern.replace("{D1}", db["D1"]).replace("{D2}", db["D2"])
    before = sqlite_dump(db["path"])
    result = invoke(db["url"], actor, args)
    assert_failed_cleanly(result, code, pattern)
    assert sqlite_dump(db["path"]) == before, "a refused or failed command must change nothing"


def test_usage_errors_are_one_line_with_a_pointer_to_help(db):
    result = invoke(db["url"], "IO-101", ["checklist", "tick", A, "site_plan"])
    assert_failed_cleanly(result, 2, r"Missing option '--evidence'")
    assert len(result.stderr.splitlines()) == 1
    assert "checklist tick --help" in result.stderr


def test_refusal_lists_every_reason_one_per_line(db):
    # an IO of another station firing a prosecutor's event from the wrong state
    result = invoke(db["url"], "IO-201", ["case", "advance", A, "file_in_court"])
    assert_failed_cleanly(result, 1, r"file_in_court")
    assert result.stderr.splitlines() == [
        "error: file_in_court cannot be applied to a case in state under_investigation (only from: under_scrutiny)",
        "error: role io may not fire file_in_court (roles: prosecutor)",
        "error: IO-201 belongs to station KHI, the case to station CLN",
    ]


def test_resolve_twice_through_the_cli(db):
    d2 = db["D2"]
    first = invoke(db["url"], "PP-7", ["deficiency", "resolve", B, d2])
    assert first.exit_code == 0, first.output
    assert first.stdout == f"{B}: deficiency {d2} resolved\n"
    after_first = sqlite_dump(db["path"])
    second = invoke(db["url"], "PP-7", ["deficiency", "resolve", B, d2])
    assert_failed_cleanly(second, 1, rf"deficiency {d2} is already resolved")
    assert sqlite_dump(db["path"]) == after_first


def test_return_needs_an_open_deficiency(db):
    resolved = invoke(db["url"], "PP-7", ["deficiency", "resolve", B, db["D2"]])
    assert resolved.exit_code == 0, resolved.output
    before = sqlite_dump(db["path"])
    result = invoke(db["url"], "PP-7", ["case", "advance", B, "return_for_deficiencies"])
    assert_failed_cleanly(result, 1, r"return_for_deficiencies needs at least one open deficiency \(deficiency flag REF --code CODE\)")
    assert len(result.stderr.splitlines()) == 1
    assert sqlite_dump(db["path"]) == before


def test_bad_database_url_is_bad_input(tmp_path):
    result = CliRunner().invoke(cli, ["--db", "nosuchdriver://x/y", "case", "list"], env={"CASECHAIN_NOW": NOW}, catch_exceptions=False)
    assert_failed_cleanly(result, 2, r"nosuchdriver|database")


def test_bad_casechain_now_is_bad_input(db):
    before = sqlite_dump(db["path"])
    argv = ["--db", db["url"], "--as", "IO-101", "checklist", "tick", A, "site_plan", "--evidence", "x"]
    result = CliRunner().invoke(cli, argv, env={"CASECHAIN_NOW": "soon"}, catch_exceptions=False)
    assert_failed_cleanly(result, 2, r"bad CASECHAIN_NOW 'soon'")
    assert sqlite_dump(db["path"]) == before


# -- broken SOP files given to `sop validate` ------------------------------------
def _default_sop_text() -> str:
    from casechain.resources import sops_dir

    return (sops_dir() / "default.yaml").read_text(encoding="utf-8")


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


SOP_CASES = [
    ("yaml-syntax-error", lambda t: "name: default\nversion: 1\nstates: [fir_registered, {name: x\n", r":\d+:\d+: not valid YAML"),
    ("tab-indentation", lambda t: "name: default\nversion: 1\nstates:\n\t- name: x\n", r"not valid YAML"),
    ("unknown-top-level-key", lambda t: t + "\ncolour: red\n", r": colour: Extra inputs are not permitted"),
    ("unknown-key-in-state", lambda t: _replace_once(t, "  - name: under_investigation\n", "  - name: under_investigation\n    colour: red\n"), r"states\[1\]\.colour: Extra inputs are not permitted"),
    ("unknown-state-in-event-to", lambda t: _replace_once(t, "    to: in_court\n", "    to: in_cort\n"), r"unknown state 'in_cort'"),
    ("unknown-state-in-event-from", lambda t: _replace_once(t, "    from: [returned_for_deficiencies]\n", "    from: [returned_for_deficiences]\n"), r"unknown state 'returned_for_deficiences'"),
    ("unknown-role", lambda t: _replace_once(t, "    roles: [sho, supervisor]\n", "    roles: [sho, chief]\n"), r"events\[11\]\.roles\[1\]: Input should be 'io', 'sho'"),
    ("python-object-tag", lambda t: "evil: !!python/object/apply:os.system ['touch {marker}']\n" + t, r"not valid YAML: could not determine a constructor for the tag .*python/object/apply:os\.system"),
    ("python-object-new-tag", lambda t: t + "\nextra: !!python/object/new:pathlib.Path ['{marker}']\n", r"not valid YAML: could not determine a constructor for the tag"),
    ("not-a-mapping", lambda t: "- just\n- a list\n", r"an SOP file must be a mapping"),
    ("empty-file", lambda t: "", r"an SOP file must be a mapping"),
]


@pytest.mark.parametrize("mutate,pattern", [c[1:] for c in SOP_CASES], ids=[c[0] for c in SOP_CASES])
def test_broken_sop_file_is_rejected(tmp_path, mutate, pattern):
    marker = tmp_path / "pwned"
    path = tmp_path / "broken.yaml"
    path.write_text(mutate(_default_sop_text()).replace("{marker}", str(marker)), encoding="utf-8")
    result = CliRunner().invoke(cli, ["sop", "validate", str(path)], env={"CASECHAIN_NOW": NOW}, catch_exceptions=False)
    assert_failed_cleanly(result, 2, pattern)
    assert all(line.startswith(f"error: {path}") for line in result.stderr.splitlines()), "each problem names the file"
    assert not marker.exists(), "a YAML tag ran code"


def test_sop_file_missing(tmp_path):
    result = CliRunner().invoke(cli, ["sop", "validate", str(tmp_path / "nope.yaml")], catch_exceptions=False)
    assert_failed_cleanly(result, 2, r"nope\.yaml: cannot read SOP file")


def test_sop_file_with_several_problems_lists_each(tmp_path):
    text = _replace_once(_default_sop_text(), "    to: in_court\n", "    to: in_cort\n")
    text = _replace_once(text, "    to: closed_compounded\n", "    to: closed_compromised\n")
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["sop", "validate", str(path)], catch_exceptions=False)
    assert_failed_cleanly(result, 2, r"in_cort")
    assert "closed_compromised" in result.stderr
    assert len(result.stderr.splitlines()) >= 2
