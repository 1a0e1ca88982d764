"""SOP authoring (issue 7): validation that points at the line, `extends`,
the provincial SOPs, compounding and referral rules, graphs, and moving cases
in flight to a new SOP version.

The property test at the end draws valid SOPs (tests/strategies.py) and fires
random events on the engine built from each.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casechain.cli import cli
from casechain.domain.errors import BadInput, Refused
from casechain.domain.roles import Actor, Role
from casechain.domain.sop import SERIOUS_SECTIONS, CaseFacts, Sop, section_base, sop_problems
from casechain.domain.workflow import Workflow
from casechain.resources import data_file, sops_dir
from casechain.services import admin, audit, cases, checklist, deficiencies, sops
from casechain.services.sops import graph_dot, graph_mermaid
from casechain.sops import load_sop, load_sop_file, parse_sop
from casechain.storage.tables import AuditEvent, Case
from strategies import sop_dicts

FIXTURES = Path(__file__).resolve().parent / "sops"
PROVINCES = {"punjab": "Punjab", "sindh": "Sindh", "balochistan": "Balochistan", "khyber_pakhtunkhwa": "Khyber Pakhtunkhwa"}
OVERRIDE = "papers with the court; entered late"
NOW = "2024-03-20T10:00"


def errors_of(path: Path) -> list[str]:
    with pytest.raises(BadInput) as err:
        load_sop(path)
    return str(err.value).splitlines()


def at(text: str, line: int, token: str) -> str:
    """FILE-less 'LINE:COLUMN' of the first ``token`` on 1-based ``line``."""
    return f"{line}:{text.splitlines()[line - 1].index(token) + 1}"


# -- validation: every problem, at its line -------------------------------------
LOGIC_ERRORS = """\
name: broken
version: 1
title: Broken
states:
  - name: a
    initial: true
  - name: b
  - name: c
    terminal: true
  - name: island
  - name: b
events:
  - name: go
    from: [a]
    to: b
    roles: [sho]
  - name: jump
    from: [b]
    to: bb
    roles: [sho]
  - name: finish
    from: [a, c]
    to: c
    roles: [prosecutor]
  - name: leave
    from: [b]
    to: c
    roles: [io]
    requires:
      - memo
      - ghost
    roles: [io, sho]
checklist:
  - id: memo
    step: investigation
    text: A memo
  - id: spare
    step: investigation
    text: Never needed
deficiency_codes:
  - {code: MEMO_MISSING, text: Memo missing, item: mem}
clocks:
  - name: report
    title: Report
    section: s.1
    starts_on: register
    limit: {days: 3}
    met_by: [go, finnish]
"""


def test_every_logic_problem_points_at_its_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(LOGIC_ERRORS, encoding="utf-8")
    t = LOGIC_ERRORS
    expected = [
        f"{at(t, 10, 'name')}: states[3](island): state 'island' cannot be reached from 'a'",
        f"{at(t, 10, 'name')}: states[3](island): state 'island' is not terminal but no event leaves it",
        f"{at(t, 11, 'name')}: states[4](b): state 'b' is declared twice",
        f"{at(t, 19, 'bb')}: events[1](jump).to: unknown state 'bb'",
        f"{at(t, 22, 'c]')}: events[2](finish).from: state 'c' is terminal: nothing may leave it",
        f"{at(t, 31, 'ghost')}: events[3](leave).requires: unknown checklist item 'ghost'",
        f"{at(t, 32, 'roles')}: events[3].roles: duplicate key 'roles': only the last value would count",
        f"{at(t, 37, 'id')}: checklist[1](spare): checklist item 'spare' is defined but no event requires it",
        f"{at(t, 41, 'mem}')}: deficiency_codes[0](MEMO_MISSING).item: unknown checklist item 'mem'",
        f"{at(t, 48, 'finnish')}: clocks[0](report).met_by: unknown event 'finnish'",
    ]
    assert errors_of(path) == [f"{path}:{line}" for line in expected]


def test_schema_and_logic_problems_are_reported_together(tmp_path):
    text = LOGIC_ERRORS.replace("    roles: [prosecutor]\n", "    roles:\n      - prosecutor\n      - judge\n").replace("version: 1", "version: 0")
    path = tmp_path / "both.yaml"
    path.write_text(text, encoding="utf-8")
    lines = errors_of(path)
    assert f"{path}:{at(text, 2, '0')}: version: Input should be greater than or equal to 1" in lines
    judge = next(n for n, line in enumerate(text.splitlines(), 1) if "judge" in line)
    assert any(line.startswith(f"{path}:{at(text, judge, 'judge')}: events[2].roles[1]: Input should be 'io'") for line in lines)
    # The logic checks still ran on the entries that passed the schema ...
    assert f"{path}:{at(text, 19, 'bb')}: events[1](jump).to: unknown state 'bb'" in lines
    # ... but not the graph checks, which would blame the dropped event's absence.
    assert not any("cannot be reached" in line for line in lines)


def test_validate_cli_prints_every_problem_and_exits_2(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(LOGIC_ERRORS, encoding="utf-8")
    result = CliRunner().invoke(cli, ["sop", "validate", str(path)], catch_exceptions=False)
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 10
    assert all(line.startswith(f"error: {path}:") for line in lines)
    ok = CliRunner().invoke(cli, ["sop", "validate", str(sops_dir() / "punjab.yaml")], catch_exceptions=False)
    assert ok.exit_code == 0
    sop = load_sop_file(sops_dir() / "punjab.yaml")
    assert ok.stdout == (
        f"{sops_dir() / 'punjab.yaml'}: valid SOP punjab@1 ({len(sop.states)} states, {len(sop.events)} events, "
        f"{len(sop.checklist)} checklist items, extends default)\n"
    )


# -- extends -------------------------------------------------------------------
BASE = """\
name: base
version: 4
title: Base
migrates_from: {version: 3}
states:
  - {name: a, initial: true}
  - {name: b}
  - {name: c, terminal: true}
events:
  - {name: go, from: [a], to: b, roles: [sho]}
  - {name: finish, from: [b], to: c, roles: [prosecutor], requires: [memo]}
checklist:
  - {id: memo, step: investigation, text: A memo}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_merges_by_name_removes_and_resets(tmp_path):
    write(tmp_path, "base.yaml", BASE)
    child = write(
        tmp_path,
        "child.yaml",
        "extends: base\nname: child\nversion: 1\nprovince: Sindh\n"
        "states:\n  - {name: b, description: Middle}\n  - {name: d, terminal: true}\n"
        "events:\n"
        "  - {name: go, roles: [io, sho]}\n"
        "  - {name: finish, to: null, requires: null, outcomes: {won: c, lost: d}}\n"
        "checklist:\n  - {id: memo, remove: true}\n",
    )
    loaded = load_sop(child)
    sop = loaded.sop
    assert (sop.key, sop.title, sop.province, loaded.extends) == ("child@1", "Base", "Sindh", "base")
    assert [s.name for s in sop.states] == ["a", "b", "c", "d"]  # merged in place, new ones appended
    assert sop.state("b").description == "Middle" and sop.state("b").holder is None
    assert [r.value for r in sop.event("go").roles] == ["io", "sho"]  # plain lists are replaced
    finish = sop.event("finish")
    assert (finish.to, finish.requires, {k: o.to for k, o in finish.outcomes.items()}) == (None, [], {"won": "c", "lost": "d"})
    assert sop.checklist == [] and sop.migrates_from is None  # migrates_from is never inherited
    assert loaded.files == (str(child), str(tmp_path / "base.yaml"))


def test_extends_errors_point_into_the_file_that_has_them(tmp_path):
    base = write(tmp_path, "base.yaml", BASE)
    child_text = "extends: base\nname: child\nversion: 1\nstates:\n  - {name: b, remove: true}\n  - {name: zz, remove: true}\n"
    child = write(tmp_path, "child.yaml", child_text)
    lines = errors_of(child)
    assert f"{child}:{at(child_text, 6, '{')}: nothing named 'zz' to remove: the base SOP has no such entry" in lines
    assert f"{base}:{at(BASE, 10, 'b,')}: events[0](go).to: unknown state 'b' (inherited by {child})" in lines
    assert lines[0].startswith(f"{child}:"), "problems in the file itself come first"
    # The extending file states its own name and version.
    nameless = write(tmp_path, "nameless.yaml", "extends: base\ntitle: T\n")
    assert {line.split(": ", 1)[1] for line in errors_of(nameless)} >= {"name: Field required", "version: Field required"}


def test_extends_loops_and_missing_bases_are_reported(tmp_path):
    write(tmp_path, "one.yaml", "extends: two\nname: one\nversion: 1\n")
    write(tmp_path, "two.yaml", "extends: one\nname: two\nversion: 1\n")
    assert any("goes round in a circle" in line for line in errors_of(tmp_path / "one.yaml"))
    orphan = write(tmp_path, "orphan.yaml", "extends: nowhere\nname: orphan\nversion: 1\n")
    assert f"{orphan}:1:10: extends: no SOP file nowhere.yaml to extend (looked beside this file and in the shipped sops/)" in errors_of(orphan)


# -- the shipped SOPs ---------------------------------------------------------------
def test_every_shipped_sop_validates_and_provinces_extend_the_default():
    names = sorted(p.stem for p in sops_dir().glob("*.yaml"))
    assert names == ["balochistan", "default", "khyber_pakhtunkhwa", "punjab", "sindh"]
    for stem, province in PROVINCES.items():
        path = sops_dir() / f"{stem}.yaml"
        loaded = load_sop(path)
        assert (loaded.sop.name, loaded.sop.province, loaded.extends) == (stem, province, "default")
        assert sop_problems(loaded.sop) == []
        assert "submit_challan" not in path.read_text(encoding="utf-8"), f"{stem}.yaml copies the default flow"
        scrutiny = loaded.sop.clock("scrutiny")
        assert scrutiny.limit.days == 3
        assert scrutiny.confirmed is (stem == "punjab"), "only Punjab's 3 days are confirmed (CPS Act 2006 s.9(5))"
        assert stem != "punjab" or "s.9(5)" in scrutiny.section


def test_compounding_follows_s345():
    rows = list(csv.DictReader(open(data_file("ppc_offences.csv"), encoding="utf-8")))
    by = {k: {r["section"] for r in rows if r["compoundable"] == k} for k in ("yes", "with_permission", "no", "follows_offence")}
    for stem in ["default", *PROVINCES]:
        sop = load_sop_file(sops_dir() / f"{stem}.yaml")
        assert set(sop.event("compound").when.sections_all_in) == by["yes"] | by["follows_offence"]
        assert set(sop.event("compound_with_permission").when.sections_all_in) == by["yes"] | by["with_permission"] | by["follows_offence"]
        flow = Workflow(sop)
        pp = Actor("PP-7", "Prosecutor", Role.PROSECUTOR, "Lahore")

        def ok(event: str, *sections: str) -> bool:
            facts = CaseFacts("in_court", "CLN", "Lahore", "IO-101", sections, frozenset(), "challan", {})
            try:
                return flow.fire(event, facts, pp).dest == "closed_compounded"
            except Refused:
                return False

        assert ok("compound", "447") and ok("compound", "489-F", "34") and ok("compound_with_permission", "447")
        assert not ok("compound", "302", "34") and ok("compound_with_permission", "302(b)", "34")
        assert not ok("compound", "506(ii)") and not ok("compound_with_permission", "506(ii)")
        for section in by["no"]:
            assert not ok("compound", section) and not ok("compound_with_permission", section), section
        assert not ok("compound_with_permission", "302", "379"), "one non-compoundable section bars compounding"


def test_kp_referral_to_drc_is_never_for_serious_or_sensitive_cases():
    sop = load_sop_file(sops_dir() / "khyber_pakhtunkhwa.yaml")
    flow = Workflow(sop)
    sho = Actor("SHO-5", "SHO", Role.SHO, "Peshawar", "PSH")

    def refer(sections, flags=()):
        facts = CaseFacts("under_investigation", "PSH", "Peshawar", "IO-5", tuple(sections), frozenset(flags), None, {})
        return flow.fire("refer_to_drc", facts, sho)

    assert refer(["447", "34"]).dest == "referred_to_drc"
    for serious in ["302", "302(b)", "376", "324", "336-B"]:
        with pytest.raises(Refused):
            refer([serious])
    with pytest.raises(Refused):
        refer(["447"], ["sgbv"])
    facts = CaseFacts("referred_to_drc", "PSH", "Peshawar", "IO-5", ("447",), frozenset(), None, {"drc_decision": "done"})
    assert flow.fire("return_from_drc", facts, sho, outcome="settled").dest == "under_investigation"
    referral = next(e for e in sop.events if e.referral)
    assert not {section_base(s) for s in referral.when.sections_all_in} & SERIOUS_SECTIONS


def test_a_referral_of_serious_offences_fails_validation(tmp_path):
    text = (
        "extends: khyber_pakhtunkhwa\nname: kp_lax\nversion: 1\n"
        "events:\n  - name: refer_to_drc\n    when:\n      sections_all_in: [447, 376, 302(b)]\n      flags_none: null\n"
    )
    path = write(tmp_path, "kp_lax.yaml", text)
    assert errors_of(path) == [
        f"{path}:{at(text, 6, 'when')}: events[13](refer_to_drc).when: a referral must exclude sensitive cases: add flags_none: [juvenile, sgbv]",
        f"{path}:{at(text, 7, '[')}: events[13](refer_to_drc).when.sections_all_in: serious offence(s) 376, 302(b) may never be referred out of the trial track",
    ]


# -- the database: province SOPs, graphs, loading and migrating -------------------------
def test_register_picks_the_sop_of_the_station_province(sqlite_world):
    w = sqlite_world
    assert w.run(cases.show, w.register(1))["sop"] == "punjab@1"  # CLN: Lahore, Punjab
    assert w.run(cases.show, w.register(2, station="KHI"))["sop"] == "sindh@1"  # Karachi South, Sindh
    ref = w.run(cases.register, "SHO-1", "CLN", 3, 2024, "379", "2024-03-01T22:15", "2024-03-02T01:10", "A. Complainant", [], [], sop="default")["ref"]
    assert w.run(cases.show, ref)["sop"] == "default@1"
    with w.uow() as uow:
        assert sops.sop_for_province(uow, "Islamabad", "default").key == "default@1"
        assert sops.sop_for_province(uow, None, "default").key == "default@1"


@pytest.fixture
def cli_url(sqlite_world):
    yield sqlite_world.url
    from casechain import bootstrap

    bootstrap.engine_for(sqlite_world.url).dispose()
    bootstrap.engine_for.cache_clear()


def cli_run(url: str, *args: str, actor: str | None = None, code: int = 0):
    argv = ["--db", url] + (["--as", actor] if actor else []) + [str(a) for a in args]
    result = CliRunner().invoke(cli, argv, env={"CASECHAIN_NOW": NOW, "CASECHAIN_USER": None, "CASECHAIN_DB": None}, catch_exceptions=False)
    assert result.exit_code == code, f"{argv} -> {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result


def test_provincial_sops_draw(cli_url):
    for stem in ["default", *PROVINCES]:
        sop = load_sop_file(sops_dir() / f"{stem}.yaml")
        arrows = [(src, d.to, ev) for ev in sop.events for _, d in ev.destinations() for src in ev.sources]
        mermaid = cli_run(cli_url, "sop", "show", stem, "--graph", "mermaid").stdout
        assert mermaid.startswith(f"---\ntitle: {sop.key}\n---\nstateDiagram-v2\n    [*] --> fir_registered\n")
        lines = [line.strip() for line in mermaid.splitlines()]
        for src, dest, ev in arrows:
            roles = ", ".join(r.value for r in ev.roles)
            assert any(line.startswith(f"{src} --> {dest} : {ev.name}") and f"({roles})" in line and all(i in line for i in ev.requires) for line in lines), (stem, ev.name)
        assert sum(" --> [*]" in line for line in lines) == sum(s.terminal for s in sop.states)
        dot = cli_run(cli_url, "sop", "show", stem, "--graph", "dot").stdout
        assert dot.startswith(f'digraph "{sop.key}" {{') and dot.rstrip().endswith("}")
        assert sum(" -> " in line and "__start" not in line for line in dot.splitlines()) == len(arrows)
        assert f'"under_investigation" -> "under_scrutiny" [label="submit_challan\\nroles: sho, io\\nneeds: fir_copy, site_plan' in dot
        table = cli_run(cli_url, "sop", "show", stem).stdout
        assert "compound_with_permission" in table and "Checklist" in table
    assert "referred_to_drc : refer_to_drc (sho)" in cli_run(cli_url, "sop", "show", "khyber_pakhtunkhwa", "--graph", "mermaid").stdout


def test_sop_load_is_admin_only_and_idempotent(cli_url):
    v2 = FIXTURES / "default_v2.yaml"
    r = cli_run(cli_url, "sop", "load", v2, actor="SHO-1", code=1)
    assert r.stderr == "error: role sho may not load SOPs (allowed: admin)\n"
    assert cli_run(cli_url, "sop", "load", v2, actor="ADM-1").stdout == "SOP default@2 loaded\n"
    assert cli_run(cli_url, "sop", "load", v2, actor="ADM-1").stdout == "SOP default@2 already loaded (unchanged)\n"
    assert "default@2" in cli_run(cli_url, "sop", "list").stdout


ALL_STATES = [
    "fir_registered", "under_investigation", "under_scrutiny", "returned_for_deficiencies", "in_court", "untraced",
    "closed_convicted", "closed_acquitted", "closed_compounded", "closed_cancelled",
]  # fmt: skip


def case_in(world, fir_no: int, state: str) -> str:
    """A case on default@1, driven through the services to ``state``."""
    sections = "447" if state == "closed_compounded" else "302,34"
    ref = world.run(
        cases.register, "SHO-1", "CLN", fir_no, 2024, sections, "2024-03-01T22:15", "2024-03-02T01:10", "Muhammad Aslam", ["Bilal"], [], sop="default"
    )["ref"]
    if state == "fir_registered":
        return ref
    world.run(cases.assign, "SHO-1", ref, "IO-101")
    world.run(cases.advance, "IO-101", ref, "start_investigation")
    if state in ("under_investigation", "untraced"):
        if state == "untraced":
            world.run(cases.advance, "SP-1", ref, "mark_untraced", override=OVERRIDE)
        return ref
    world.run(cases.advance, "SP-1", ref, "submit_cancellation" if state == "closed_cancelled" else "submit_challan", override=OVERRIDE)
    if state == "under_scrutiny":
        return ref
    if state == "returned_for_deficiencies":
        world.run(deficiencies.flag, "PP-7", ref, "STATEMENTS_MISSING", None)
        world.run(cases.advance, "PP-7", ref, "return_for_deficiencies")
        return ref
    world.run(cases.advance, "PP-7", ref, "file_in_court")
    if state == "closed_compounded":
        world.run(cases.advance, "PP-7", ref, "compound", note="compromise deed of 18.03.2024")
    elif state != "in_court":
        outcome = {"closed_convicted": "convicted", "closed_acquitted": "acquitted", "closed_cancelled": "cancellation_accepted"}[state]
        world.run(cases.advance, "PP-7", ref, "record_verdict", outcome=outcome)
    return ref


def snapshot(world) -> list:
    from sqlmodel import func, select

    with world.uow() as uow:
        rows = uow.session.exec(select(Case).order_by(Case.ref)).all()
        events = uow.session.exec(select(func.count()).select_from(AuditEvent)).one()
        return [(c.ref, c.sop_name, c.sop_version, c.state, c.version, c.head_hash) for c in rows] + [events]


def test_migration_of_cases_in_every_state(world):
    refs = {state: case_in(world, n, state) for n, state in enumerate(ALL_STATES, start=1)}
    assert {s: world.run(cases.show, r)["state"] for s, r in refs.items()} == {s: s for s in ALL_STATES}
    for fixture in ("default_v2.yaml", "default_v3.yaml"):
        world.run(admin.load_sop_into_db, "ADM-1", str(FIXTURES / fixture))

    # v3 has no place for untraced cases: nothing moves, not even the cases that could.
    before = snapshot(world)
    plan = world.run(sops.migrate, "ADM-1", "default@1", "default@3", dry_run=True)
    assert (plan["movable"], plan["cannot_move"], plan["closed_cases_stay"]) == (5, 1, 4)
    assert [c["ref"] for c in plan["cases"] if c["problem"]] == [refs["untraced"]]
    with pytest.raises(Refused) as refused:
        world.run(sops.migrate, "ADM-1", "default@1", "default@3")
    assert refused.value.reasons == [
        f"{refs['untraced']}: state untraced has no counterpart in default@3: map it in migrates_from.states",
        "nothing was migrated: 1 case(s) cannot move to default@3",
    ]
    assert snapshot(world) == before

    # The dry run to v2 lists each case's new state and the items that become required.
    plan = world.run(sops.migrate, "ADM-1", "default@1", "default@2", dry_run=True)
    assert snapshot(world) == before, "a dry run changes nothing"
    rows = {c["ref"]: c for c in plan["cases"]}
    assert set(rows) == {refs[s] for s in ALL_STATES[:6]}, "closed cases are not in flight"
    expected_state = {s: ("returned_to_police" if s == "returned_for_deficiencies" else s) for s in ALL_STATES[:6]}
    assert {s: rows[refs[s]]["to_state"] for s in expected_state} == expected_state
    assert {s: rows[refs[s]]["newly_required"] for s in expected_state} == {
        s: (["custody_chain_form"] if s == "under_investigation" else []) for s in expected_state
    }
    assert not any(c["problem"] for c in plan["cases"])

    done = world.run(sops.migrate, "ADM-1", "default@1", "default@2")
    assert done["migrated"] == 6
    for state, ref in refs.items():
        view = world.run(cases.show, ref)
        moved = state in expected_state
        assert (view["sop"], view["state"]) == (("default@2", expected_state[state]) if moved else ("default@1", state))
        last = world.run(cases.history, ref)[-1]
        assert (last["action"] == "sop_migrate") is moved
    assert world.run(audit.verify)["cases"] == len(ALL_STATES), "replay follows sop_migrate"

    # The moved cases now follow v2: the returned case goes back by v2's own states.
    ref = refs["returned_for_deficiencies"]
    dif = world.run(deficiencies.list_deficiencies, ref)[0]["id"]
    world.run(deficiencies.respond, "IO-101", ref, dif, "statements recorded", "161 statements of 3 witnesses")
    assert world.run(cases.advance, "IO-101", ref, "resubmit")["from"] == "returned_to_police"
    with pytest.raises(Refused) as refused:
        world.run(cases.advance, "IO-101", refs["under_investigation"], "submit_challan")
    assert any("custody_chain_form" in r for r in refused.value.reasons)
    world.run(checklist.not_applicable, "IO-101", refs["under_investigation"], "custody_chain_form", "nothing recovered")
    assert world.run(audit.verify)["cases"] == len(ALL_STATES)


def test_migration_refuses_what_it_cannot_do(sqlite_world):
    w = sqlite_world
    case_in(w, 1, "under_investigation")
    w.run(admin.load_sop_into_db, "ADM-1", str(FIXTURES / "default_v2.yaml"))
    before = snapshot(w)
    with pytest.raises(Refused, match="role supervisor may not migrate"):
        w.run(sops.migrate, "SP-1", "default@1", "default@2")
    for frm, to, message in [
        ("default", "default@2", "--from 'default': write NAME@VERSION"),
        ("punjab@1", "default@2", "name different SOPs"),
        ("default@2", "default@1", "is not newer"),
        ("default@1", "default@9", "unknown SOP 'default@9'"),
        ("punjab@1", "punjab@2", "unknown SOP 'punjab@2'"),
    ]:
        with pytest.raises(BadInput, match=message):
            w.run(sops.migrate, "ADM-1", frm, to)
    w.run(admin.load_sop_into_db, "ADM-1", str(FIXTURES / "default_v3.yaml"))
    with pytest.raises(BadInput, match="default@3 declares migration from version 1, not from default@2"):
        w.run(sops.migrate, "ADM-1", "default@2", "default@3")
    assert snapshot(w) == before


def test_migrate_cli(cli_url, sqlite_world):
    ref = case_in(sqlite_world, 1, "returned_for_deficiencies")
    cli_run(cli_url, "sop", "load", FIXTURES / "default_v2.yaml", actor="ADM-1")
    dry = cli_run(cli_url, "sop", "migrate", "--from", "default@1", "--to", "default@2", "--dry-run", actor="ADM-1").stdout
    assert ref in dry and "returned_to_police" in dry
    assert dry.endswith("dry run: 1 case(s) in flight on default@1; all can be migrated; nothing was changed\n")
    r = cli_run(cli_url, "sop", "migrate", "--from", "default@1", "--to", "default@2", actor="ADM-1")
    assert ref in r.stdout and r.stdout.endswith("\n1 case(s) migrated from default@1 to default@2\n")
    assert cli_run(cli_url, "audit", "verify").stdout.startswith("audit trail intact: 1 case(s)")
    r = cli_run(cli_url, "sop", "migrate", "--from", "default@1", "--to", "default@2", actor="IO-101", code=1)
    assert r.stderr == "error: role io may not migrate cases to another SOP version (allowed: admin)\n"


# -- property: any valid SOP drives a sound engine ------------------------------------
STATION, DISTRICT = "S1", "D1"


def actor_of(role: Role, badge: str) -> Actor:
    return Actor(badge, "Officer", role, DISTRICT, STATION if role in (Role.IO, Role.SHO) else None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(doc=sop_dicts(), data=st.data())
def test_any_valid_sop_keeps_the_engine_sound(doc, data):
    sop = parse_sop(yaml.safe_dump(doc, sort_keys=False), "generated.yaml")  # the loader accepts it
    assert sop_problems(sop) == []
    assert isinstance(sop, Sop) and graph_mermaid(sop).count(" --> ") >= len(sop.events) and graph_dot(sop)
    flow = Workflow(sop)
    declared = {s.name for s in sop.states}
    state, report = sop.initial, None
    ticked: dict[str, str] = {}
    for _ in range(data.draw(st.integers(1, 30), label="steps")):
        if sop.checklist and data.draw(st.booleans(), label="tick?"):
            for item in data.draw(st.lists(st.sampled_from(sop.checklist), max_size=3), label="items"):
                ticked[item.id] = "done"
        if sop.state(state).terminal:  # closed: go on with a new case
            state, report, ticked = sop.initial, None, {}
        here = [e for e in sop.events if state in e.sources]
        ev = data.draw(st.one_of(st.sampled_from(here or sop.events), st.sampled_from(sop.events)), label="event")
        role = data.draw(st.one_of(st.sampled_from(ev.roles), st.sampled_from(list(Role))), label="role")  # often a right one
        me = actor_of(role, "B-1")
        facts = CaseFacts(
            state=state,
            station=STATION,
            district=DISTRICT,
            io=data.draw(st.sampled_from(["B-1", "B-1", None, "B-2"]), label="io"),
            sections=tuple(data.draw(st.lists(st.sampled_from(["302", "379", "447", "376", "489-F"]), min_size=1, max_size=2, unique=True), label="sections")),
            flags=frozenset(data.draw(st.lists(st.sampled_from(["sgbv", "juvenile", "terrorism"]), max_size=2, unique=True), label="flags")),
            report=report,
            checklist=dict(ticked),
            open_deficiencies=(n := data.draw(st.integers(0, 2), label="open")),
            unanswered_deficiencies=data.draw(st.integers(0, n), label="unanswered"),
        )
        outcome = data.draw(st.sampled_from([*ev.outcomes, *ev.outcomes, None]), label="outcome")
        override = data.draw(st.sampled_from([None, None, "court order"]), label="override")
        allowed = next((o.allowed for o in flow.options(facts, me) if o.event == ev.name and o.outcome == outcome), None)
        try:
            move = flow.fire(ev.name, facts, me, outcome=outcome, override=override)
        except (Refused, BadInput):
            assert flow.machine.models == [], "a refused move leaves nothing on the shared machine"
            assert override is not None or not allowed, "case events said the move was allowed"
            continue  # the case keeps its state: nothing to change
        assert flow.machine.models == []
        assert move.source == state and state in ev.sources and not sop.state(state).terminal
        assert move.dest in declared and move.dest in {d.to for _, d in ev.destinations()}
        assert ev.when.holds(facts)
        if override is None:
            assert allowed, "case advance did what case events said was blocked"
            assert role in ev.roles
            assert all(i in ticked for i in ev.requires if sop.item(i).applies_when.holds(facts))
        state, report = move.dest, move.report or report
        assert state in declared


@settings(max_examples=30, deadline=None)
@given(doc=sop_dicts(), where=st.integers(0, 10))
def test_an_unreachable_dead_end_is_found_at_its_line(doc, where):
    doc["states"].insert(where % (len(doc["states"]) + 1), {"name": "limbo"})
    text = yaml.safe_dump(doc, sort_keys=False)
    with pytest.raises(BadInput) as err:
        parse_sop(text, "generated.yaml")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.strip() == "- name: limbo")
    index = [s["name"] for s in doc["states"]].index("limbo")
    initial = next(s["name"] for s in doc["states"] if s.get("initial"))
    assert str(err.value).splitlines() == [
        f"generated.yaml:{line}:3: states[{index}](limbo): state 'limbo' cannot be reached from '{initial}'",
        f"generated.yaml:{line}:3: states[{index}](limbo): state 'limbo' is not terminal but no event leaves it",
    ]
