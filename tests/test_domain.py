"""Unit tests of the pure domain: conditions, SOP logic checks, SOP file
errors, jurisdiction and the audit hash chain."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path

import pytest

from casechain.domain.audit import GENESIS, EventRecord, Snapshot, link_hash, replay
from casechain.domain.errors import BadInput
from casechain.domain.roles import Actor, Place, Role, jurisdiction_problem
from casechain.domain.sop import CaseFacts, Condition, Sop, section_base, sop_problems
from casechain.sops import load_sop_file, parse_sop

DEFAULT_SOP = Path(__file__).resolve().parents[1] / "sops" / "default.yaml"


def facts(**kw) -> CaseFacts:
    base = dict(
        state="s",
        station="CLN",
        district="Lahore",
        io=None,
        sections=("302", "34"),
        flags=frozenset(),
        report=None,
        checklist={},
    )
    base.update(kw)
    return CaseFacts(**base)


# -- section_base ---------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, base",
    [
        ("302", "302"),
        ("302(b)", "302"),
        ("337-A(i)", "337-A"),
        ("337-a(ii)", "337-A"),
        (" 34 ", "34"),
        ("489-F", "489-F"),
        ("376(1)(a)", "376"),
    ],
)
def test_section_base(raw, base):
    assert section_base(raw) == base


# -- Condition.failures -------------------------------------------------------
def test_empty_condition_always_holds():
    cond = Condition()
    for f in (facts(), facts(io="IO-1", report="challan", flags=frozenset({"sgbv"}))):
        assert cond.failures(f) == []
        assert cond.holds(f)


def test_sections_any_matches_on_base_section():
    cond = Condition(sections_any=["302", "337-A"])
    assert cond.failures(facts(sections=("302(b)", "34"))) == []
    assert cond.failures(facts(sections=("337-a(i)",))) == []
    out = cond.failures(facts(sections=("379",)))
    assert out == ["applies only to sections 302, 337-A"]
    # Condition sections given with a sub-clause still match the plain section.
    assert Condition(sections_any=["302(b)"]).holds(facts(sections=("302",)))
    # Numbers in YAML become strings.
    assert Condition.model_validate({"sections_any": [302]}).holds(facts(sections=("302",)))


def test_flags_any_and_flags_none():
    cond = Condition(flags_any=["sgbv", "juvenile"])
    assert cond.holds(facts(flags=frozenset({"juvenile"})))
    assert cond.failures(facts(flags=frozenset({"terrorism"}))) == ["applies only to cases flagged sgbv or juvenile"]
    none = Condition(flags_none=["juvenile", "sgbv"])
    assert none.holds(facts(flags=frozenset({"terrorism"})))
    assert none.failures(facts(flags=frozenset({"sgbv", "juvenile", "x"}))) == ["not for cases flagged juvenile, sgbv"]


def test_reports_condition_names_what_the_case_has():
    cond = Condition(reports=["challan", "interim"])
    assert cond.holds(facts(report="interim"))
    assert cond.failures(facts(report=None)) == ["needs a challan or interim report (case has: none)"]
    assert cond.failures(facts(report="cancellation")) == ["needs a challan or interim report (case has: cancellation)"]


def test_io_assigned_condition_both_ways():
    yes, no = Condition(io_assigned=True), Condition(io_assigned=False)
    assert yes.holds(facts(io="IO-101")) and not yes.holds(facts(io=None))
    assert "no IO is assigned" in yes.failures(facts(io=None))[0]
    assert no.holds(facts(io=None))
    assert no.failures(facts(io="IO-101")) == ["an IO (IO-101) is already assigned"]


def test_every_failing_part_is_reported_at_once():
    cond = Condition(sections_any=["376"], flags_any=["sgbv"], flags_none=["juvenile"], reports=["challan"], io_assigned=True)
    out = cond.failures(facts(sections=("379",), flags=frozenset({"juvenile"}), report=None, io=None))
    assert len(out) == 5
    assert cond.failures(facts(sections=("376",), flags=frozenset({"sgbv"}), report="challan", io="IO-1")) == []


# -- sop_problems -------------------------------------------------------------
def base_sop() -> dict:
    """A tiny valid SOP: a -> b -> c (terminal), with a checklist and a clock."""
    return {
        "name": "tiny",
        "version": 1,
        "title": "Tiny",
        "states": [
            {"name": "a", "initial": True},
            {"name": "b"},
            {"name": "c", "terminal": True},
        ],
        "events": [
            {"name": "go", "from": ["a"], "to": "b", "roles": ["sho"], "requires": ["memo"]},
            {"name": "finish", "from": ["b"], "outcomes": {"won": "c", "lost": {"to": "c"}}, "roles": ["prosecutor"]},
        ],
        "checklist": [{"id": "memo", "step": "investigation", "text": "A memo"}],
        "checklist_open_in": ["a"],
        "scrutiny_states": ["b"],
        "deficiency_codes": [{"code": "MEMO_MISSING", "text": "Memo missing", "item": "memo"}],
        "clocks": [
            {"name": "report", "title": "Report", "section": "s.1", "starts_on": "register", "limit": {"days": 3}, "met_by": ["go"]},
            {"name": "prod", "title": "Production", "section": "s.61", "starts_on": "custody.arrest", "limit": {"hours": 24}, "met_by": ["custody.produce"]},
        ],
    }


def problems(data: dict) -> list[tuple[str, str]]:
    return sop_problems(Sop.model_validate(data))


def found(out: list[tuple[str, str]], path: str, message: str) -> bool:
    """``message`` is reported at ``path`` (or at an element under it, e.g. states[3](b))."""
    return any(m == message and (p == path or p.startswith((path + "[", path + "."))) for p, m in out)


def test_valid_sops_have_no_problems():
    assert problems(base_sop()) == []
    assert sop_problems(load_sop_file(DEFAULT_SOP)) == []


def test_duplicate_state_event_item_and_code():
    d = base_sop()
    d["states"].append({"name": "b"})
    d["events"].append(copy.deepcopy(d["events"][0]))
    d["checklist"].append(copy.deepcopy(d["checklist"][0]))
    d["deficiency_codes"].append(copy.deepcopy(d["deficiency_codes"][0]))
    out = problems(d)
    assert found(out, "states", "state 'b' is declared twice")
    assert found(out, "events", "event 'go' is declared twice")
    assert found(out, "checklist", "checklist item 'memo' is declared twice")
    assert found(out, "deficiency_codes", "deficiency code 'MEMO_MISSING' is declared twice")
    assert len(out) == 4


def test_unknown_states_in_events():
    d = base_sop()
    d["events"][0]["from"] = ["a", "nowhere"]
    d["events"][0]["to"] = "limbo"
    d["events"][1]["outcomes"]["lost"] = "void"
    out = problems(d)
    assert ("events[0](go).from", "unknown state 'nowhere'") in out
    assert ("events[0](go).to", "unknown state 'limbo'") in out
    assert ("events[1](finish).outcomes.lost", "unknown state 'void'") in out


def test_unknown_states_in_state_lists():
    d = base_sop()
    d["checklist_open_in"] = ["a", "zz"]
    d["scrutiny_states"] = ["yy"]
    out = problems(d)
    assert ("checklist_open_in", "unknown state 'zz'") in out
    assert ("scrutiny_states", "unknown state 'yy'") in out


def test_to_and_outcomes_together_or_neither():
    d = base_sop()
    d["events"][0]["outcomes"] = {"x": "b"}
    d["events"][1]["outcomes"] = {}
    out = problems(d)
    assert ("events[0](go)", "give either 'to' or 'outcomes', not both or neither") in out
    assert ("events[1](finish)", "give either 'to' or 'outcomes', not both or neither") in out


def test_unreachable_state():
    d = base_sop()
    d["states"].insert(2, {"name": "island"})
    d["events"].append({"name": "leave", "from": ["island"], "to": "c", "roles": ["sho"]})
    out = problems(d)
    assert len(out) == 1 and found(out, "states", "state 'island' cannot be reached from 'a'")


def test_non_terminal_dead_end():
    d = base_sop()
    d["states"].insert(2, {"name": "stuck"})
    d["events"].append({"name": "wander", "from": ["b"], "to": "stuck", "roles": ["sho"]})
    out = problems(d)
    assert len(out) == 1 and found(out, "states", "state 'stuck' is not terminal but no event leaves it")


def test_terminal_state_with_outgoing_event():
    d = base_sop()
    d["events"].append({"name": "revive", "from": ["c"], "to": "b", "roles": ["supervisor"]})
    assert problems(d) == [("events[2](revive).from", "state 'c' is terminal: nothing may leave it")]


def test_no_terminal_state():
    d = base_sop()
    d["states"][2]["terminal"] = False
    d["events"].append({"name": "again", "from": ["c"], "to": "a", "roles": ["sho"]})
    assert problems(d) == [("states", "no terminal state: a case could never be closed")]


def test_unknown_checklist_item():
    d = base_sop()
    d["events"][0]["requires"] = ["memo", "ghost"]
    d["deficiency_codes"][0]["item"] = "phantom"
    out = problems(d)
    assert ("events[0](go).requires", "unknown checklist item 'ghost'") in out
    assert ("deficiency_codes[0](MEMO_MISSING).item", "unknown checklist item 'phantom'") in out
    assert len(out) == 2


def test_unknown_clock_events():
    d = base_sop()
    d["clocks"][0]["starts_on"] = "submitt"
    d["clocks"][0]["met_by"] = ["go", "finnish"]
    d["clocks"][1]["limit"] = {}
    out = problems(d)
    assert ("clocks[0](report).starts_on", "unknown event 'submitt'") in out
    assert ("clocks[0](report).met_by", "unknown event 'finnish'") in out
    assert ("clocks[1](prod).limit", "give days or hours") in out
    assert len(out) == 3


@pytest.mark.parametrize("initials", [["a", "b"], []])
def test_exactly_one_initial_state(initials):
    d = base_sop()
    for s in d["states"]:
        s["initial"] = s["name"] in initials
    out = problems(d)
    expected = f"exactly one state must be initial (found {len(initials)}: {', '.join(initials) or 'none'})"
    assert ("states", expected) in out
    # Without a single initial state there is no reachability check to run.
    assert not any("cannot be reached" in msg for _, msg in out)


# -- parse_sop: file errors ---------------------------------------------------
def yaml_of(extra_state: str = "", event: str = "{name: go, from: [a], to: b, roles: [io]}", top: str = "title: t\n") -> str:
    return (
        "name: x\n"
        "version: 1\n"
        f"{top}"
        f"states: [{{name: a, initial: true{extra_state}}}, {{name: b, terminal: true}}]\n"
        f"events: [{event}]\n"
    )


def bad_input(text: str, source: str = "sops/x.yaml") -> list[str]:
    with pytest.raises(BadInput) as err:
        parse_sop(text, source)
    return str(err.value).splitlines()


def test_parse_valid_text_and_the_default_file():
    sop = parse_sop(yaml_of(), "x.yaml")
    assert sop.key == "x@1" and sop.initial == "a"
    assert parse_sop(DEFAULT_SOP.read_text(encoding="utf-8"), "default.yaml") == load_sop_file(DEFAULT_SOP)


def problem_line(lines: list[str], path: str, message: str, line: int | None = None, source: str = "sops/x.yaml", prefix: bool = False) -> str:
    """The one line reporting ``message`` at ``path``: ``file[:line:col]: path: message``.

    Where the loader adds a position, it must be the line the field is on."""
    pattern = rf"{re.escape(source)}(?::(\d+):(\d+))?: {re.escape(path)}: {re.escape(message)}" + (".*" if prefix else "")
    hits = [(ln, re.fullmatch(pattern, ln)) for ln in lines]
    hits = [(ln, m) for ln, m in hits if m]
    assert len(hits) == 1, (path, message, lines)
    text, m = hits[0]
    if m.group(1) is not None and line is not None:
        assert int(m.group(1)) == line, (text, line)
    return text


def test_schema_errors_name_file_and_field_path():
    lines = bad_input(yaml_of().replace("version: 1", "version: 0"))
    assert len(lines) == 1
    problem_line(lines, "version", "Input should be greater than or equal to 1", line=2)
    lines = bad_input(yaml_of(event="{name: go, from: [a], to: b, roles: [judge]}"))
    assert len(lines) == 1
    problem_line(lines, "events[0].roles[0]", "Input should be 'io'", line=5, prefix=True)
    lines = bad_input(yaml_of(top=""))
    assert len(lines) == 1
    problem_line(lines, "title", "Field required")


def test_unknown_keys_are_rejected():
    lines = bad_input(yaml_of(extra_state=", colour: red"))
    assert len(lines) == 1
    problem_line(lines, "states[0].colour", "Extra inputs are not permitted", line=4)
    lines = bad_input(yaml_of(event="{name: go, form: [a], to: b, roles: [io]}"))
    problem_line(lines, "events[0].form", "Extra inputs are not permitted", line=5)
    problem_line(lines, "events[0].from", "Field required", line=5)
    lines = bad_input(yaml_of(top="title: t\nflavour: mild\n"))
    assert len(lines) == 1
    problem_line(lines, "flavour", "Extra inputs are not permitted", line=4)


def test_logic_problems_are_reported_with_file_and_path():
    lines = bad_input(yaml_of(event="{name: go, from: [a], to: zz, roles: [io]}"))
    problem_line(lines, "events[0](go).to", "unknown state 'zz'", line=5)
    assert any(re.fullmatch(r"sops/x\.yaml(:4:\d+)?: states(\[1\]\(b\))?: state 'b' cannot be reached from 'a'", ln) for ln in lines), lines


def test_broken_yaml_names_line_and_column():
    text = "name: x\nversion: 1\nstates: [a, b\nevents: []\n"
    (line,) = bad_input(text)
    assert line == "sops/x.yaml:4:7: not valid YAML: expected ',' or ']', but got ':'"
    (line,) = bad_input("name: x\n  version: 1\n")
    assert line == "sops/x.yaml:2:10: not valid YAML: mapping values are not allowed here"


def test_yaml_python_tags_are_rejected(tmp_path):
    marker = tmp_path / "pwned"
    text = f"name: !!python/object/apply:os.system ['touch {marker}']\nversion: 1\n"
    (line,) = bad_input(text)
    assert line.startswith("sops/x.yaml:1:7: not valid YAML: could not determine a constructor for the tag")
    assert "python/object/apply" in line
    assert not marker.exists()


def test_not_a_mapping():
    assert bad_input("- a\n- b\n") == ["sops/x.yaml: an SOP file must be a mapping with name, version, states, events"]
    assert bad_input("") == ["sops/x.yaml: an SOP file must be a mapping with name, version, states, events"]


def test_load_sop_file_errors(tmp_path):
    with pytest.raises(BadInput, match="cannot read SOP file"):
        load_sop_file(tmp_path / "missing.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(BadInput, match="not UTF-8"):
        load_sop_file(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\n  version: 1\n", encoding="utf-8")
    with pytest.raises(BadInput) as err:
        load_sop_file(broken)
    assert str(err.value).startswith(f"{broken}:2:10: ")


# -- jurisdiction -------------------------------------------------------------
CLN_CASE = Place(station="CLN", district="Lahore", io="IO-101")


@pytest.mark.parametrize(
    "actor, place, problem",
    [
        (Actor("IO-101", "n", Role.IO, "Lahore", "CLN"), CLN_CASE, None),
        (Actor("IO-102", "n", Role.IO, "Lahore", "CLN"), CLN_CASE, "IO-102 is not the IO of this case (assigned: IO-101)"),
        (Actor("IO-102", "n", Role.IO, "Lahore", "CLN"), Place("CLN", "Lahore", None), "IO-102 is not the IO of this case (assigned: nobody)"),
        (Actor("IO-101", "n", Role.IO, "Lahore", "MDL"), CLN_CASE, "IO-101 belongs to station MDL, the case to station CLN"),
        (Actor("SHO-1", "n", Role.SHO, "Lahore", "CLN"), CLN_CASE, None),
        (Actor("SHO-1", "n", Role.SHO, "Lahore", "CLN"), Place("CLN", "Lahore", None), None),
        (Actor("SHO-3", "n", Role.SHO, "Lahore", "MDL"), CLN_CASE, "SHO-3 belongs to station MDL, the case to station CLN"),
        (Actor("PP-7", "n", Role.PROSECUTOR, "Lahore"), CLN_CASE, None),
        (Actor("PP-9", "n", Role.PROSECUTOR, "Karachi South"), CLN_CASE, "PP-9 works in district Karachi South, the case is in Lahore"),
        (Actor("SP-1", "n", Role.SUPERVISOR, "Lahore"), CLN_CASE, None),
        (Actor("SP-2", "n", Role.SUPERVISOR, "Karachi South"), CLN_CASE, "SP-2 works in district Karachi South, the case is in Lahore"),
        (Actor("ADM-1", "n", Role.ADMIN, "Lahore", "CLN"), CLN_CASE, "ADM-1 is an admin: admins manage officers and SOPs, not cases"),
        (Actor("ADM-1", "n", Role.ADMIN, ""), CLN_CASE, "ADM-1 is an admin: admins manage officers and SOPs, not cases"),
    ],
)
def test_jurisdiction_problem(actor, place, problem):
    assert jurisdiction_problem(actor, place) == problem


# -- audit chain ----------------------------------------------------------------
RECORD = EventRecord(
    case_ref="CLN/1/2024",
    seq=3,
    action="tick",
    actor="IO-101",
    occurred_at="2024-03-02T01:10:00Z",
    recorded_at="2024-03-02T01:11:00Z",
    payload={"item": "fir_copy", "evidence": "DD 12"},
)

CHANGED = {
    "case_ref": "CLN/2/2024",
    "seq": 4,
    "action": "na",
    "actor": "IO-102",
    "occurred_at": "2024-03-02T01:10:01Z",
    "recorded_at": "2024-03-02T01:11:01Z",
    "payload": {"item": "fir_copy", "evidence": "DD 13"},
}


def test_link_hash_is_deterministic_and_hex():
    h = link_hash(GENESIS, RECORD)
    assert h == link_hash(GENESIS, dataclasses.replace(RECORD, payload={"evidence": "DD 12", "item": "fir_copy"}))
    assert len(h) == 64 and int(h, 16) >= 0


def test_changed_fields_cover_every_field():
    assert set(CHANGED) == {f.name for f in dataclasses.fields(EventRecord)}


@pytest.mark.parametrize("field", sorted(CHANGED))
def test_changing_any_field_changes_the_hash(field):
    changed = dataclasses.replace(RECORD, **{field: CHANGED[field]})
    assert link_hash(GENESIS, changed) != link_hash(GENESIS, RECORD)


def test_changing_the_previous_hash_changes_the_hash():
    assert link_hash("1" + GENESIS[1:], RECORD) != link_hash(GENESIS, RECORD)


def test_payload_details_change_the_hash():
    for payload in ({"item": "fir_copy"}, {"item": "fir_copy", "evidence": "DD 12", "x": None}, {"item": "fir_copy", "evidence": "DD 12 "}):
        assert link_hash(GENESIS, dataclasses.replace(RECORD, payload=payload)) != link_hash(GENESIS, RECORD)


REGISTER = {
    "ref": "CLN/1/2024",
    "sop": "default@1",
    "state": "fir_registered",
    "station": "CLN",
    "fir_no": 1,
    "year": 2024,
    "sections": ["302", "34"],
    "flags": ["sgbv"],
    "complainant": "Aslam",
    "accused": ["Bilal"],
    "occurred_at": "2024-03-01T17:15:00Z",
    "reported_at": "2024-03-01T20:10:00Z",
}


def test_replay_rebuilds_the_case():
    events = [
        ("register", REGISTER),
        ("assign", {"io": "IO-101", "previous": None}),
        ("advance", {"event": "start_investigation", "from": "fir_registered", "to": "under_investigation"}),
        ("tick", {"item": "fir_copy", "evidence": "DD 12"}),
        ("na", {"item": "site_plan", "reason": "no place"}),
        ("tick", {"item": "case_diary", "evidence": "zimni 3"}),
        ("untick", {"item": "case_diary", "reason": "wrong zimni"}),
        ("diary", {"text": "visited the scene"}),  # unknown action: only the version moves
        ("advance", {"event": "submit_challan", "from": "under_investigation", "to": "under_scrutiny", "report": "challan"}),
        ("deficiency_flag", {"id": 1, "code": "SITE_PLAN_MISSING", "detail": "", "round": 1, "reopens": "site_plan"}),
        ("deficiency_flag", {"id": 2, "code": "OTHER", "detail": "x", "round": 1}),
        ("advance", {"event": "return_for_deficiencies", "from": "under_scrutiny", "to": "returned_for_deficiencies", "round": 1}),
    ]
    snap = replay(events)
    assert snap == Snapshot(
        ref="CLN/1/2024",
        sop="default@1",
        state="returned_for_deficiencies",
        station="CLN",
        fir_no=1,
        year=2024,
        io="IO-101",
        report="challan",
        round=1,
        sections=("302", "34"),
        flags=("sgbv",),
        complainant="Aslam",
        occurred_at="2024-03-01T17:15:00Z",
        reported_at="2024-03-01T20:10:00Z",
        checklist={"fir_copy": ("done", "DD 12")},
        version=len(events),
    )
    # Every prefix is a consistent snapshot with one more version per event.
    for n in range(len(events) + 1):
        assert replay(events[:n]).version == n
    assert replay([]) == Snapshot()


def test_replay_keeps_the_report_when_an_event_submits_none():
    events = [
        ("register", REGISTER),
        ("advance", {"event": "e1", "from": "fir_registered", "to": "x", "report": "interim"}),
        ("advance", {"event": "e2", "from": "x", "to": "y"}),
    ]
    snap = replay(events)
    assert (snap.state, snap.report, snap.round) == ("y", "interim", 0)
