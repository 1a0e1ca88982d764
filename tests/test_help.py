"""Every command explains itself with an example, and --help stays light."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import click
import pytest
from click.testing import CliRunner

from casechain.cli import cli


def walk(group: click.Group, path: tuple[str, ...] = ()):
    """(path, command) for the root and every group, command and subcommand below it."""
    yield path, group
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from walk(command, path + (name,))
        else:
            yield path + (name,), command


COMMANDS = list(walk(cli))


def test_the_walk_finds_the_commands_of_cli_md():
    paths = {" ".join(p) for p, _ in COMMANDS}
    for expected in [
        "init", "station add", "station list", "officer add", "officer list",
        "case register", "case show", "case list", "case assign", "case events", "case advance", "case history",
        "checklist show", "checklist tick", "checklist na", "checklist untick",
        "deficiency flag", "deficiency list", "deficiency respond", "deficiency resolve",
        "sop list", "sop show", "sop validate", "audit verify",
    ]:  # fmt: skip
        assert expected in paths, expected


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[" ".join(p) or "casechain" for p, _ in COMMANDS])
def test_help_exits_0_with_an_example(path):
    for flag in ("--help", "-h"):
        result = CliRunner().invoke(cli, [*path, flag], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        assert result.stderr == ""
        assert "Usage:" in result.stdout
        assert "Example:" in result.stdout, f"`casechain {' '.join(path)} --help` shows no example"
        example = result.stdout.split("Example:", 1)[1]
        assert "casechain" in example, "the example shows how the command is typed"
        if path:
            assert " ".join(path) in example, f"the example of {' '.join(path)} uses the command itself"


def test_help_needs_no_database(tmp_path):
    db = tmp_path / "never-created.db"
    for path, _ in COMMANDS:
        result = CliRunner().invoke(cli, ["--db", str(db), *path, "--help"], catch_exceptions=False)
        assert result.exit_code == 0
    assert not db.exists()


HELP_SCRIPT = textwrap.dedent(
    """
    import sys
    from casechain.cli import cli
    try:
        cli.main([%s"--help"], prog_name="casechain", standalone_mode=False)
    except SystemExit as exc:
        assert not exc.code, exc.code
    heavy = sorted(m for m in ("sqlalchemy", "sqlmodel", "pydantic", "transitions", "rich", "psycopg") if m in sys.modules)
    print("HEAVY=" + ",".join(heavy))
    """
)


@pytest.mark.parametrize("args", [[], ["case"], ["case", "advance"], ["checklist", "tick"]], ids=lambda a: " ".join(a) or "casechain")
def test_help_does_not_import_sqlalchemy(args):
    script = HELP_SCRIPT % "".join(f"{a!r}, " for a in args)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Usage: casechain" in proc.stdout
    heavy = proc.stdout.strip().splitlines()[-1]
    assert heavy.startswith("HEAVY="), proc.stdout
    assert "sqlalchemy" not in heavy, f"--help imported {heavy}"
    assert heavy == "HEAVY=", f"--help should stay light, but imported {heavy[6:]}"


def test_version():
    result = CliRunner().invoke(cli, ["--version"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "0." in result.stdout or "1." in result.stdout
