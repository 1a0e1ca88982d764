"""The README walk-through works as written, and CI runs README's test command."""

import json
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from casechain.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _walkthrough_steps():
    section = README.split("## Five-minute walk-through", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    steps = []
    for block in blocks:
        lines = block.replace("\\\n", " ").splitlines()
        for i, line in enumerate(lines):
            if not line.startswith("casechain"):
                continue
            refused = i + 1 < len(lines) and lines[i + 1].startswith("# error:")
            steps.append((shlex.split(line, comments=True)[1:], 1 if refused else 0))
    return steps


def test_walkthrough_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # memos written with -o land here
    env = {"CASECHAIN_DB": str(tmp_path / "walk.db"), "CASECHAIN_NOW": "2024-03-20T10:00"}
    runner = CliRunner()
    steps = _walkthrough_steps()
    assert len(steps) > 30
    for args, expected in steps:
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == expected, f"{args}: {result.output}"
        assert "Traceback" not in result.output
    shown = runner.invoke(cli, ["case", "show", "CLN/123/2024", "--format", "json"], env=env)
    assert '"state": "closed_convicted"' in shown.output
    assert runner.invoke(cli, ["audit", "verify"], env=env).exit_code == 0
    rounds = runner.invoke(cli, ["case", "rounds", "CLN/123/2024", "--format", "json"], env=env)
    assert [r["ended_with"] for r in json.loads(rounds.output)["rounds"]] == [
        "return_for_deficiencies", "return_for_deficiencies", "file_in_court"
    ]
    assert (tmp_path / "court-submission.html").read_text().startswith("<!DOCTYPE html>")


def test_ci_runs_the_readme_test_command():
    command = re.search(r"<!-- test-command -->\s*```sh\n(.*?)\n```", README, flags=re.S).group(1)
    assert "pytest" in command
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci and "CASECHAIN_TEST_PG_URL" in ci
