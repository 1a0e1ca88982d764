"""Handover memos: golden output, template safety, office overrides, victim protection.

Golden files live in tests/golden/. After an intended change of wording or
layout, regenerate them and review the diff:

    CASECHAIN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_memos.py -k golden
"""

from __future__ import annotations

import itertools
import os
import re
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from casechain.cli import cli
from casechain.domain.errors import BadInput, Refused
from casechain.domain.redaction import initials, name_words, redactor
from casechain.memos import KINDS, md_escape, render
from casechain.services import audit, cases, checklist, custody, deficiencies, memos

GOLDEN = Path(__file__).parent / "golden"
UPDATE_ENV = "CASECHAIN_UPDATE_GOLDEN"
FORMATS = ("md", "html")
UTC = timezone.utc
MEMO_NOW = datetime(2024, 3, 16, 5, 0, tzinfo=UTC)  # 10:00 PKT, the day after the return


def golden_mismatch(name: str, text: str) -> str | None:
    """Compare with tests/golden/NAME (None when equal); with CASECHAIN_UPDATE_GOLDEN=1, write it instead."""
    path = GOLDEN / name
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        return None
    if not path.exists():
        return f"no golden file {path}: run with {UPDATE_ENV}=1 to create it, then review it"
    expected = path.read_text(encoding="utf-8")
    if text == expected:
        return None
    first = next(i for i, (a, b) in enumerate(itertools.zip_longest(text.splitlines(), expected.splitlines())) if a != b)
    return f"{name} differs from its golden file at line {first + 1}:\n  got:      {text.splitlines()[first:first + 1]}\n  expected: {expected.splitlines()[first:first + 1]}"


def at(day: int, hour: int = 5) -> datetime:
    return datetime(2024, 3, day, hour, 0, tzinfo=UTC)


def build_case(world, fir_no: int = 123, flags=(), complainant: str = "Muhammad Aslam", evidence: dict | None = None) -> str:
    """FIR 2 March -> challan 14 March -> two deficiencies flagged and returned 15 March.

    Leaves world.now at MEMO_NOW, the time the memos are made.
    """
    evidence = {
        "fir_copy": "DD No. 14 dated 2024-03-02",
        "site_plan": "Site plan SP-7 | revised 2024-03-05",
        "statements_161": "PW-1 Muhammad Aslam, PW-2 Nasir Khan (2024-03-03)",
        "post_mortem": "PMR 55/24, Services Hospital",
        "forensic_report": "PFSA receipt 2024-0311",
        "arrest_status": "Bilal arrested 2024-03-04",
        "witness_list": "PW-1 Muhammad Aslam; PW-2 Nasir Khan; PW-3 Dr. Sadia (MLO)",
        "case_diary": "Zimni No. 9 dated 2024-03-13",
        "interim_reasons": "Forensic report awaited from PFSA; co-accused absconding",
        **(evidence or {}),
    }
    world.now = at(2)
    ref = world.run(
        cases.register, "SHO-1", "CLN", fir_no, 2024, "302,34", "2024-03-01T22:15", "2024-03-02T01:10", complainant, ["Bilal", "Unknown (1)"], list(flags)
    )["ref"]
    world.run(cases.assign, "SHO-1", ref, "IO-101")
    world.run(cases.advance, "IO-101", ref, "start_investigation")
    world.now = at(4)
    world.run(custody.arrest, "IO-101", ref, "Bilal")
    world.now = at(4, 9)
    world.run(custody.produce, "IO-101", ref, "Bilal", "Judicial Magistrate Sec. 30, Lahore")
    world.now = at(13)
    if "juvenile" in flags:
        evidence.setdefault("age_determination", "Birth certificate, NADRA B-form")
    for item, text in evidence.items():
        world.run(checklist.tick, "IO-101", ref, item, text)
    for item in ("recovery_memos", "case_property"):
        world.run(checklist.not_applicable, "IO-101", ref, item, "nothing recovered")
    world.now = at(14)
    world.run(cases.advance, "IO-101", ref, "submit_challan")
    world.now = at(15)
    world.run(deficiencies.flag, "PP-7", ref, "PMR_MISSING", None)
    world.run(deficiencies.flag, "PP-7", ref, "ROLE_NOT_STATED", "Role of Bilal in the firing not explained; see statement of Muhammad Aslam")
    world.run(cases.advance, "PP-7", ref, "return_for_deficiencies")
    world.now = MEMO_NOW
    return ref


ACTING = {"forwarding": "SHO-1", "deficiency": "PP-7", "court-submission": "PP-7", "interim-report": "SHO-1"}


# -- golden ------------------------------------------------------------------
def test_golden_memos(world):
    """Every kind in both formats, on fixed data and a fixed clock; and protected cases (victim; victim and juvenile accused)."""
    ref = build_case(world)
    sensitive = build_case(world, fir_no=124, flags=["sgbv"])
    juvenile = build_case(world, fir_no=125, flags=["juvenile"])
    problems = []
    for kind in KINDS:
        for fmt in FORMATS:
            problems.append(golden_mismatch(f"{kind}.{fmt}", world.run(memos.memo, ACTING[kind], ref, kind, fmt)))
        problems.append(golden_mismatch(f"{kind}-sgbv.md", world.run(memos.memo, ACTING[kind], sensitive, kind, "md")))
        problems.append(golden_mismatch(f"{kind}-juvenile.md", world.run(memos.memo, ACTING[kind], juvenile, kind, "md")))
    problems.append(golden_mismatch("deficiency-sgbv.html", world.run(memos.memo, "PP-7", sensitive, "deficiency", "html")))
    problems.append(golden_mismatch("court-submission-juvenile.html", world.run(memos.memo, "PP-7", juvenile, "court-submission", "html")))
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


def test_memo_facts(sqlite_world):
    """What the golden files show, stated: reply date, hash, officers, sections."""
    w = sqlite_world
    ref = build_case(w)
    view = w.run(cases.show, ref)
    text = w.run(memos.memo, "PP-7", ref, "deficiency", "md")
    assert "| 2024-03-15 10:00 PKT | 2024-03-18 10:00 PKT (3 days from the return) |" in text  # returned at 10:00 PKT
    assert f"Audit head hash: {view['head_hash']}" in text
    assert f"at version {view['version']}." in text
    assert "Generated 2024-03-16 10:00 PKT" in text
    assert "| Police station | PS Civil Lines (CLN) |" in text
    assert "| District | Lahore, Punjab |" in text
    assert "| Investigation Officer | Officer IO-101 (IO-101) |" in text
    assert "| SHO, PS Civil Lines | Officer SHO-1 (SHO-1) |" in text
    assert "| Acting officer | Officer PP-7 (PP-7), Prosecutor |" in text
    assert "| 2 | ROLE_NOT_STATED | Role of each accused not explained | Role of Bilal in the firing" in text
    assert "| 1 | PMR_MISSING | Post-mortem report missing | — | Post-mortem report | open |" in text
    interim = w.run(memos.memo, None, ref, "interim-report", "md")
    assert "**14 days** have passed" in interim  # 2 March 01:10 -> 16 March 10:00 PKT
    assert "| Reasons (checklist: interim reasons) |\n|---|\n| Forensic report awaited from PFSA; co-accused absconding |" in interim
    assert "| 1 | Post-mortem report | investigation |" in interim  # reopened by PMR_MISSING
    assert "| Acting officer | not given (--as) |" in interim
    court = w.run(memos.memo, "PP-7", ref, "court-submission", "md")
    assert "| 302 PPC | Punishment of qatl-i-amd |" in court
    assert "| PW-1 Muhammad Aslam; PW-2 Nasir Khan; PW-3 Dr. Sadia (MLO) |" in court
    custody_view = {c["accused"]: c for c in view["custody"]}
    assert custody_view["Bilal"]["status"] == "produced" and custody_view["Unknown (1)"]["status"] == "not arrested"
    # custody as the case view gives it
    assert "| 1 | Bilal | produced (Judicial Magistrate Sec. 30, Lahore) | 2024-03-04 14:00 PKT | — |" in court
    assert "| 2 | Unknown (1) | not arrested | — | — |" in court


def test_reply_date_comes_from_an_sop_clock_when_there_is_one(sqlite_world):
    from casechain.domain.sop import ClockSpec
    from casechain.services.common import case_sop

    w = sqlite_world
    ref = build_case(w)
    with w.uow() as uow:
        sop = case_sop(uow, uow.case(ref))
    assert memos.reply_limit(sop)[0].days == memos.REPLY_DAYS == 3
    clock = ClockSpec(name="reply", title="Police reply within 7 days", section="Office SOP", starts_on=["return_for_deficiencies"], limit={"days": 7})
    span, basis = memos.reply_limit(sop.model_copy(update={"clocks": [*sop.clocks, clock]}))
    assert span.days == 7 and basis == "Police reply within 7 days (Office SOP)"


def test_deficiency_memo_of_a_case_without_deficiencies_is_bad_input(sqlite_world):
    ref = sqlite_world.register(5)
    with pytest.raises(BadInput, match="has no deficiencies"):
        sqlite_world.run(memos.memo, None, ref, "deficiency", "md")


# -- template safety ----------------------------------------------------------
def _context(world, ref, kind="forwarding"):
    from casechain.domain.redaction import Redactor
    from casechain.services.common import case_sop

    with world.uow() as uow:
        case = uow.case(ref)
        return memos.memo_context(uow, case, case_sop(uow, case), kind, None, Redactor(()), [], False)


def test_a_missing_field_fails_loudly(sqlite_world):
    ref = build_case(sqlite_world)
    for kind in KINDS:
        for fmt in FORMATS:
            ctx = _context(sqlite_world, ref, kind)
            assert render(kind, fmt, ctx)  # complete: renders
            del ctx["case"]["district"]
            with pytest.raises(BadInput, match=r"template .*\.j2:\d+: 'dict object' has no attribute 'district'"):
                render(kind, fmt, ctx)


def test_an_office_template_naming_an_unknown_field_fails_with_file_and_line(sqlite_world, tmp_path, monkeypatch):
    ref = build_case(sqlite_world)
    (tmp_path / "forwarding.md.j2").write_text("Case {{ case.ref }}\n{{ case.no_such_field }}\n", encoding="utf-8")
    monkeypatch.setenv("CASECHAIN_TEMPLATES", str(tmp_path))
    with pytest.raises(BadInput) as err:
        sqlite_world.run(memos.memo, None, ref, "forwarding", "md")
    assert str(err.value) == f"template {tmp_path / 'forwarding.md.j2'}:2: 'dict object' has no attribute 'no_such_field'"


def test_user_text_is_escaped_in_html_and_cannot_break_markdown_tables(sqlite_world):
    hostile = "<script>alert('x')</script> a | b\u2028| c \\| [link](http://x) `code`"
    ref = build_case(sqlite_world, complainant="<b>Ali</b> & \"Co\"", evidence={"site_plan": hostile, "witness_list": hostile})
    for kind in KINDS:
        html = sqlite_world.run(memos.memo, None, ref, kind, "html")
        assert "<script" not in html and "<b>Ali" not in html
        assert "&lt;b&gt;Ali&lt;/b&gt; &amp; &#34;Co&#34;" in html  # the complainant, as text
        if kind in ("forwarding", "court-submission"):
            assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; a | b\u2028| c \\| [link](http://x) `code`" in html
        md = sqlite_world.run(memos.memo, None, ref, kind, "md")
        assert not re.search(r"(?<!\\)<(?!br>)", md), "every < of user text is escaped in Markdown"
        for table in re.findall(r"(?:^\|.*\n)+", md, flags=re.MULTILINE):
            rows = table.splitlines()
            widths = {len(re.findall(r"(?<!\\)(?:\\\\)*\|", row)) for row in rows}
            assert len(widths) == 1, f"a row of this table has a different number of cells:\n{table}"
    md = sqlite_world.run(memos.memo, None, ref, "forwarding", "md")
    assert "| \\<script\\>alert('x')\\</script\\> a \\| b<br>\\| c \\\\\\| \\[link\\](http://x) \\`code\\` |" in md


def test_md_escape():
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("line1\nline2\r\nline3") == "line1<br>line2<br>line3"
    assert md_escape(None) == "—"
    assert md_escape(md_escape("a|b")) == "a\\|b"  # escaped once only


def test_office_templates_override_shipped_ones_by_file_name(sqlite_world, tmp_path):
    ref = build_case(sqlite_world)
    (tmp_path / "forwarding.md.j2").write_text(
        '{% extends "_base.md.j2" %}\n{% block body %}\nForwarded with the compliments of the SHO: {{ case.ref }}\n{% endblock %}\n', encoding="utf-8"
    )
    result = _cli(sqlite_world, "memo", ref, "forwarding", env={"CASECHAIN_TEMPLATES": str(tmp_path)})
    assert "Forwarded with the compliments of the SHO: CLN/123/2024" in result.stdout
    assert "## Checklist and evidence references" not in result.stdout  # the shipped body is replaced
    assert "Audit head hash: " in result.stdout  # the shipped base is still used
    other = _cli(sqlite_world, "memo", ref, "deficiency", env={"CASECHAIN_TEMPLATES": str(tmp_path)})
    assert "compliments" not in other.stdout and "## Deficiencies" in other.stdout
    plain = _cli(sqlite_world, "memo", ref, "forwarding")
    assert "compliments" not in plain.stdout


# -- the command line ---------------------------------------------------------
def _cli(world, *args, actor=None, code=0, env=None):
    from casechain import bootstrap

    argv = ["--db", world.url] + (["--as", actor] if actor else []) + list(args)
    full_env = {"CASECHAIN_NOW": "2024-03-16T10:00", "CASECHAIN_USER": None, "CASECHAIN_DB": None, "CASECHAIN_TEMPLATES": None, **(env or {})}
    try:
        result = CliRunner().invoke(cli, argv, env=full_env, catch_exceptions=False)
    finally:
        bootstrap.engine_for(world.url).dispose()
        bootstrap.engine_for.cache_clear()
    assert "Traceback" not in result.output
    assert result.exit_code == code, f"{argv} -> {result.exit_code}: {result.output}"
    if code:
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: "), result.stderr
    return result


def test_unknown_kind_is_one_line_exit_2(sqlite_world):
    ref = build_case(sqlite_world)
    result = _cli(sqlite_world, "memo", ref, "summons", code=2)
    assert result.stderr == "error: unknown memo kind 'summons': use one of forwarding, deficiency, court-submission, interim-report\n"
    _cli(sqlite_world, "memo", ref, "forwarding", "--format", "pdf", code=2)
    _cli(sqlite_world, "memo", "CLN/999/2024", "forwarding", code=2)


def test_cli_writes_files_and_the_clock_fixes_generated_at(sqlite_world, tmp_path):
    ref = build_case(sqlite_world)
    out = tmp_path / "memo.html"
    result = _cli(sqlite_world, "memo", ref, "court-submission", "--format", "html", "-o", str(out), actor="PP-7", env={"CASECHAIN_NOW": "2024-04-01T09:30"})
    assert result.stdout == "" and f"wrote {out}" in result.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "@page { size: A4;" in html and "@media print" in html
    assert "Generated 2024-04-01 09:30 PKT" in html
    assert not re.search(r"""(src|href)\s*=|@import|url\(""", html), "an HTML memo loads nothing from elsewhere"
    _cli(sqlite_world, "memo", ref, "court-submission", "--format", "html", "-o", str(out), code=2)
    _cli(sqlite_world, "memo", ref, "court-submission", "--format", "html", "-o", str(out), "--force")


# -- victim protection ----------------------------------------------------------
def test_sensitive_case_memos_show_initials_and_scrub_free_text(sqlite_world):
    ref = build_case(sqlite_world, flags=["sgbv"])
    for kind in KINDS:
        for fmt in FORMATS:
            text = sqlite_world.run(memos.memo, None, ref, kind, fmt)
            assert "Muhammad" not in text and "Aslam" not in text, (kind, fmt)
            assert "Victim identity protected" in text
    md = sqlite_world.run(memos.memo, None, ref, "court-submission", "md")
    assert "| Complainant | M. A. |" in md
    assert "| PW-1 M. A.; PW-2 Nasir Khan; PW-3 Dr. Sadia (MLO) |" in md
    assert "| 1 | Bilal | produced (Judicial Magistrate Sec. 30, Lahore) |" in md  # accused are not protected


def test_juvenile_case_memos_number_the_accused_and_scrub_their_names(sqlite_world):
    ref = build_case(sqlite_world, flags=["juvenile"])
    for kind in KINDS:
        for fmt in FORMATS:
            text = sqlite_world.run(memos.memo, None, ref, kind, fmt)
            for name in ("Bilal", "Unknown", "Muhammad", "Aslam"):
                assert name not in text, (name, kind, fmt)
            assert "Juvenile accused identity protected" in text and "Victim identity protected" in text
            if kind != "deficiency":  # the return memo lists no accused
                assert "Accused 1 (juvenile)" in text and "Accused 2 (juvenile)" in text, (kind, fmt)
    md = sqlite_world.run(memos.memo, None, ref, "court-submission", "md")
    assert "| 1 | Accused 1 (juvenile) | produced (Judicial Magistrate Sec. 30, Lahore) | 2024-03-04 14:00 PKT | — |" in md
    assert "| 2 | Accused 2 (juvenile) | not arrested | — | — |" in md
    assert "| Complainant | M. A. |" in md
    forwarding = sqlite_world.run(memos.memo, None, ref, "forwarding", "md")
    assert "| Accused 1 arrested 2024-03-04 |" in forwarding  # free text: the name becomes the number
    deficiency = sqlite_world.run(memos.memo, None, ref, "deficiency", "md")
    assert "| Role of Accused 1 in the firing not explained; see statement of M. A. |" in deficiency


def test_accused_are_named_outside_juvenile_cases(sqlite_world):
    ref = build_case(sqlite_world, flags=["sgbv"])
    for kind in KINDS:
        text = sqlite_world.run(memos.memo, None, ref, kind, "md")
        assert "(juvenile)" not in text and "Juvenile accused" not in text
        assert "| 1 | Bilal |" in text or kind == "deficiency"


def test_juvenile_rule_holds_even_where_the_sop_does_not_list_juvenile_as_sensitive(sqlite_world):
    """The Act protects the juvenile accused whatever the SOP says about victims."""
    from casechain.domain.redaction import for_case, protected_flags

    assert protected_flags(["juvenile", "terrorism"], []) == ["juvenile"]
    r = for_case(["juvenile"], [], "Muhammad Aslam", ["Bilal"])
    assert (r.victim_protected, r.accused_protected) == (False, True)
    assert r.person("Muhammad Aslam") == "Muhammad Aslam" and r.accused_name(1, "Bilal") == "Accused 1 (juvenile)"
    assert r.text("Bilal met Muhammad Aslam") == "Accused 1 met Muhammad Aslam"
    assert not for_case(["juvenile"], ["sgbv", "juvenile"], "Muhammad Aslam", ["Bilal"], revealed=True).active
    assert not for_case(["sgbv"], ["sgbv", "juvenile"], "Muhammad Aslam", ["Bilal"]).accused_protected


def test_unredacted_refused_for_an_io_and_recorded_for_a_prosecutor(sqlite_world):
    w = sqlite_world
    ref = build_case(w, flags=["juvenile"])
    before = w.run(cases.show, ref)["version"]
    result = _cli(w, "memo", ref, "forwarding", "--unredacted", actor="IO-101", code=1)
    assert "role io may not print the victim's name and the accused's names in memos of case CLN/123/2024 (flagged juvenile;" in result.stderr
    _cli(w, "memo", ref, "forwarding", "--unredacted", actor="PP-9", code=1)  # another district
    _cli(w, "memo", ref, "forwarding", "--unredacted", code=2)  # who is asking?
    assert w.run(cases.show, ref)["version"] == before, "a refused memo records nothing"

    result = _cli(w, "memo", ref, "forwarding", "--unredacted", actor="PP-7")
    assert "| Complainant | Muhammad Aslam |" in result.stdout
    assert "| 1 | Bilal | produced" in result.stdout and "| Bilal arrested 2024-03-04 |" in result.stdout  # the juvenile accused too
    assert "(juvenile)" not in result.stdout
    assert "UNREDACTED COPY" in result.stdout
    view = w.run(cases.show, ref)
    assert view["version"] == before + 1
    assert f"Audit head hash: {view['head_hash']}" in result.stdout  # the memo matches the record that logs it
    last = w.run(cases.history, ref)[-1]
    assert (last["action"], last["actor"], last["payload"]) == ("memo_unredacted", "PP-7", {"kind": "forwarding", "format": "md", "flags": ["juvenile"]})
    assert w.run(audit.verify) == {"cases": 1, "events": view["version"]}
    _cli(w, "audit", "verify")

    # a supervisor may too; a case that is not sensitive has nothing to reveal and records nothing
    w.run(memos.memo, "SP-1", ref, "interim-report", "html", unredacted=True)
    plain = build_case(w, fir_no=124)
    version = w.run(cases.show, plain)["version"]
    assert "Muhammad Aslam" in w.run(memos.memo, "IO-101", plain, "forwarding", "md", unredacted=True)
    assert w.run(cases.show, plain)["version"] == version


def test_unredacted_memo_to_an_existing_file_is_refused_before_it_is_recorded(sqlite_world, tmp_path):
    ref = build_case(sqlite_world, flags=["sgbv"])
    out = tmp_path / "memo.md"
    out.write_text("keep me", encoding="utf-8")
    before = sqlite_world.run(cases.show, ref)["version"]
    _cli(sqlite_world, "memo", ref, "forwarding", "--unredacted", "-o", str(out), actor="PP-7", code=2)
    assert sqlite_world.run(cases.show, ref)["version"] == before
    assert out.read_text(encoding="utf-8") == "keep me"


def test_a_failed_unredacted_memo_records_nothing(sqlite_world):
    ref = sqlite_world.register(9, flags=["sgbv"])
    with pytest.raises(BadInput):
        sqlite_world.run(memos.memo, "PP-7", ref, "deficiency", "md", unredacted=True)  # no deficiencies
    assert [e["action"] for e in sqlite_world.run(cases.history, ref)] == ["register"]
    with pytest.raises(Refused):
        sqlite_world.run(memos.memo, "SHO-1", ref, "forwarding", "md", unredacted=True)


# -- redaction rules (pure) ----------------------------------------------------
def test_initials():
    assert initials("Muhammad Aslam") == "M. A."
    assert initials("  muhammad   aslam ") == "M. A."
    assert initials("محمد اسلم") == "م. ا."
    assert initials("O'Brien") == "O. B."
    assert initials('"Ali" <b>Raza</b>') == "A. B. R. B."
    assert initials("---") == "(name withheld)"
    assert name_words("زَینب بی بی") == ["زَینب", "بی", "بی"]  # diacritics stay inside the word


def test_redaction_of_free_text():
    r = redactor(["Muhammad Aslam"])
    assert r.text("Statement of Muhammad Aslam's brother") == "Statement of M. A.'s brother"
    assert r.text("ASLAM identified the accused; aslams; (Muhammad)") == "A. identified the accused; A.s; (M.)"
    assert r.text("quality of Aslam") == "quality of A."
    assert r.text(None) is None
    assert redactor([]).text("Muhammad Aslam") == "Muhammad Aslam"
    short = redactor(["Al Bo"])
    assert short.text("Also al bo was there; Bo alone stays") == "Also A. B. was there; Bo alone stays"
    urdu = redactor(["زینب بی بی"])
    assert urdu.text("بیان زینب بی بی اور زینب کی والدہ") == "بیان ز. ب. ب. اور ز. کی والدہ"
    nfd = unicodedata.normalize("NFD", "Zoë Khan")
    assert redactor(["Zoë Khan"]).text(f"seen by {nfd}") == "seen by Z. K."
    assert redactor(["Aliya Ali"]).text("Aliya, Ali, Alibaba") == "A., A., A.baba"  # longest word first


def test_redaction_of_juvenile_accused():
    r = redactor(["Muhammad Aslam"], ["Muhammad Bilal", "Kashif"])
    assert r.accused_name(2, "Kashif") == "Accused 2 (juvenile)" and r.person("Muhammad Aslam") == "M. A."
    assert r.text("Muhammad Bilal and KASHIF's brother; Bilal fled") == "Accused 1 and Accused 2's brother; Accused 1 fled"
    # a word of two protected people is neither's: withheld
    assert r.text("Muhammad Aslam saw Muhammad") == "M. A. saw (name withheld)"
    # what a replacement put in is not matched again
    assert redactor(["Accused Juvenile"], ["Bilal"]).text("Bilal and Accused Juvenile") == "Accused 1 and A. J."
    assert redactor([], ["Bilal"]).text("Bilala and Bilal") == "Accused 1a and Accused 1"  # a word that starts with the name
    assert redactor([], []).accused_name(1, "Bilal") == "Bilal"


# -- the property ----------------------------------------------------------------
URDU = "ابپتٹثجچحخدڈذرڑزژسشصضطظعغفقکگلمنوہھءیےں"
WORD = st.one_of(
    st.text(alphabet=st.characters(categories=("Lu", "Ll", "Lo")), min_size=1, max_size=8),
    st.text(alphabet=URDU, min_size=1, max_size=7),
    st.sampled_from(["Aslam", "Zainab", "Bibi", "Khan", "Noor"]),
)
SEP = st.sampled_from([" ", " ", "  ", "'", " '", '" ', " <", "> ", " & ", "-"])


@st.composite
def protected_names(draw):
    words = draw(st.lists(WORD, min_size=1, max_size=3))
    seps = [draw(SEP) for _ in words[1:]]
    name = words[0] + "".join(s + w for s, w in zip(seps, words[1:]))
    wrap = draw(st.sampled_from([("", ""), ('"', '"'), ("<b>", "</b>"), ("<script>", "</script>"), ("'", "")]))
    return words, (wrap[0] + name + wrap[1]).strip()


def _free_texts(name: str, words: list[str], accused: list[str]) -> dict:
    first, last = words[0], words[-1]
    return {
        "fir_copy": f"DD 12/2024; complaint of {name}",
        "statements_161": f"Statements of {first}'s mother and \"{last}\" <PW-1>",
        "arrest_status": f"{accused[0]} arrested; {' '.join(w.upper() for w in words)} informed; {accused[-1]}'s father told",
        "interim_reasons": f"Victim {name} in hospital; ({last}) could not be examined | awaiting MLO",
        "case_diary": f"Zimni 7: {name}; {' and '.join(accused)} questioned",
    }


def _sensitive_case(world, fir_no, name, words, flag, accused=("Bilal",)):
    accused = list(accused)
    world.now = at(2)
    ref = world.run(cases.register, "SHO-1", "CLN", fir_no, 2024, "376", "2024-03-01T22:15", "2024-03-02T01:10", name, accused, [flag])["ref"]
    world.run(cases.assign, "SHO-1", ref, "IO-101")
    world.run(cases.advance, "IO-101", ref, "start_investigation")
    world.now = at(17)
    for item, text in _free_texts(name, words, accused).items():
        world.run(checklist.tick, "IO-101", ref, item, text)
    world.run(cases.advance, "IO-101", ref, "submit_interim")
    flagged = world.run(deficiencies.flag, "PP-7", ref, "ROLE_NOT_STATED", f"Role of {accused[0]} towards {words[-1]} not stated; ask {name}")
    world.run(cases.advance, "PP-7", ref, "return_for_deficiencies")
    world.run(deficiencies.respond, "IO-101", ref, flagged["id"], f"Statement of {name} re-recorded; {accused[-1]} confronted", f"{words[0]}/{words[-1]}")
    world.now = at(19)
    return ref


def _all_memos(world, ref) -> list[str]:
    return [world.run(memos.memo, None, ref, kind, fmt) for kind in KINDS for fmt in FORMATS]


def _appears(word: str, text: str) -> bool:
    return any(re.search(re.escape(w), text, re.IGNORECASE) for w in {word, unicodedata.normalize("NFC", word)})


@pytest.mark.slow
def test_no_memo_of_a_sensitive_case_names_the_victim_or_a_juvenile_accused(sqlite_world):
    w = sqlite_world
    fir_numbers = itertools.count(1000)
    # Everything memos print anyway (template wording of both kinds of protected case).
    baseline = "\n".join(
        _all_memos(w, _sensitive_case(w, next(fir_numbers), "Qqqx Zzzv", ["Qqqx", "Zzzv"], "sgbv"))
        + _all_memos(w, _sensitive_case(w, next(fir_numbers), "Qqqx Zzzv", ["Qqqx", "Zzzv"], "juvenile", accused=["Xxqj Vvqk"]))
    )

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(protected_names(), st.sampled_from(["sgbv", "juvenile"]), st.lists(protected_names(), min_size=1, max_size=2))
    def check(drawn, flag, drawn_accused):
        words, name = drawn
        accused = [a for _, a in drawn_accused]
        long_words = [x for x in words if len(x) >= 3]
        # the accused's words that a juvenile case must hide
        hidden = [x for ws, _ in drawn_accused for x in ws if len(x) >= 3] if flag == "juvenile" else []
        # Words that the memo prints anyway (template wording, the hash) say
        # nothing about the protected: only the names' own words count.
        assume(name not in baseline and not any(a in baseline for a in accused))
        assume(len(name) >= 2)  # a one-letter name is its own initial: nothing to hide
        assume(all(len(a) >= 2 for a in accused) or flag == "sgbv")
        assume(not any(_appears(x, baseline) or re.fullmatch(r"[0-9a-fA-F]+", x) for x in long_words + hidden))
        if flag == "sgbv":  # accused are named: none may carry the victim's name or a word of it
            assume(not any(name in a or any(_appears(x, a) for x in long_words) for a in accused))
        ref = _sensitive_case(w, next(fir_numbers), name, words, flag, accused)
        for text in _all_memos(w, ref):
            assert name not in text
            for word in long_words:
                assert not _appears(word, text), f"{word!r} of {name!r} appears in a memo"
            for word in hidden:
                assert not _appears(word, text), f"{word!r} of juvenile accused {accused!r} appears in a memo"
        revealed = w.run(memos.memo, "PP-7", ref, "court-submission", "md", unredacted=True)
        for word in long_words + hidden:
            assert word in revealed  # the property is not vacuous: the words were there to remove
        assert w.run(audit.verify, ref)["cases"] == 1

    check()
    assert w.run(audit.verify)["cases"] >= 3
