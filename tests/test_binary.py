"""The installed ``casechain`` executable, run as a user would run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REF = "CLN/123/2024"


def casechain_exe() -> str:
    beside = Path(sys.executable).with_name("casechain")
    if beside.exists():
        return str(beside)
    found = shutil.which("casechain")
    if found is None:
        pytest.skip("the casechain executable is not installed")
    return found


@pytest.fixture
def sh(tmp_path):
    """Run the executable with CASECHAIN_DB (a plain file path) and CASECHAIN_NOW set."""
    exe = casechain_exe()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASECHAIN_")}
    env.update(CASECHAIN_DB=str(tmp_path / "station.db"), CASECHAIN_NOW="2024-03-20T10:00", COLUMNS="120")

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess:
        proc = subprocess.run([exe, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
        assert proc.returncode == code, f"casechain {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    run.db = tmp_path / "station.db"
    return run


def test_installed_binary_end_to_end(sh):
    assert not sh.db.exists()
    r = sh("init", "--admin", "ADM-1", "--name", "System Admin")
    assert r.stdout == "database ready; SOPs loaded: balochistan@1, default@1, khyber_pakhtunkhwa@1, punjab@1, sindh@1; admins: ADM-1\n"
    assert sh.db.exists(), "a plain path in CASECHAIN_DB is an SQLite file"

    r = sh("--as", "ADM-1", "station", "add", "CLN", "--name", "PS Civil Lines", "--district", "Lahore")
    assert r.stdout == "station CLN added (Lahore, Punjab)\n"
    r = sh("--as", "ADM-1", "officer", "add", "SHO-1", "--name", "Insp Tariq", "--role", "sho", "--district", "Lahore", "--station", "CLN")
    assert r.stdout == "officer SHO-1 added as sho (CLN)\n"

    r = sh(
        "--as", "SHO-1", "case", "register", "--station", "CLN", "--fir-no", "123", "--year", "2024",
        "--sections", "302,34", "--occurred-at", "2024-03-01T22:15", "--reported-at", "2024-03-02T01:10",
        "--complainant", "Muhammad Aslam", "--accused", "Bilal",
    )  # fmt: skip
    assert r.stdout == f"{REF}\n"
    assert r.stderr == ""

    # a refusal from the real process: exit 2, one line on stderr, nothing on stdout
    r = sh("--as", "SHO-1", "case", "advance", REF, "fly", code=2)
    assert r.stdout == ""
    assert r.stderr.startswith("error: unknown event 'fly'") and len(r.stderr.splitlines()) == 1

    view = json.loads(sh("case", "show", REF, "--format", "json").stdout)
    assert (view["ref"], view["state"], view["sop"], view["station"], view["district"]) == (REF, "fir_registered", "punjab@1", "CLN", "Lahore")
    assert view["io"] is None and view["sections"] == ["302", "34"]
    assert view["reported_at"] == "2024-03-01T20:10:00.000000Z"  # 01:10 PKT is 20:10 UTC the day before
    assert {c["item"] for c in view["checklist"]} >= {"fir_copy", "post_mortem", "case_diary"}

    r = sh("audit", "verify")
    assert r.stdout == "audit trail intact: 1 case(s), 1 event(s) verified\n"
