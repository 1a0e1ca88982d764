"""casechain demo: built through the services, reproducible, audit-clean."""

import json

from click.testing import CliRunner

from casechain.cli import cli

ENV = {"CASECHAIN_NOW": "2024-06-30T12:00"}


def _demo(path, seed):
    runner = CliRunner()
    r = runner.invoke(cli, ["--db", str(path), "demo", "--cases", "12", "--seed", str(seed)], env=ENV)
    assert r.exit_code == 0, r.output
    listing = runner.invoke(cli, ["--db", str(path), "case", "list", "--format", "json"], env=ENV)
    return r.output, json.loads(listing.output)


def test_demo_is_reproducible_and_verifies(tmp_path):
    out, cases = _demo(tmp_path / "a.db", 3)
    assert "Demo: 12 cases at 10 stations" in out
    assert "Compliance by district" in out and "challan" in out
    assert len(cases) == 12
    assert len({c["state"] for c in cases}) >= 3  # cases end in varied states
    _, again = _demo(tmp_path / "b.db", 3)
    assert again == cases
    _, other = _demo(tmp_path / "c.db", 4)
    assert other != cases
    verify = CliRunner().invoke(cli, ["--db", str(tmp_path / "a.db"), "audit", "verify"], env=ENV)
    assert verify.exit_code == 0 and "12 case(s)" in verify.output


def test_demo_refuses_a_database_with_cases_unless_reset(tmp_path):
    path = tmp_path / "a.db"
    _demo(path, 1)
    runner = CliRunner()
    r = runner.invoke(cli, ["--db", str(path), "demo", "--cases", "5"], env=ENV)
    assert r.exit_code == 2 and "already holds 12 cases" in r.output
    r = runner.invoke(cli, ["--db", str(path), "demo", "--cases", "5", "--reset"], env=ENV)
    assert r.exit_code == 0, r.output
    assert "Demo: 5 cases" in r.output
