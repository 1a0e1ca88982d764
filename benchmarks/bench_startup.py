"""Start-up: `casechain --help` and a command that touches the database."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from bench_lib import Row, casechain_exe, min_time


def run(quick: bool, pg_url=None) -> list[Row]:
    runs = 10  # the minimum of 10 runs: start-up time is noisy, its floor is not
    py = sys.executable
    exe = casechain_exe()
    bare_click = min_time([py, "-c", "import click"], runs)
    four = min_time([py, "-c", "import click, jinja2, transitions, sqlmodel"], runs)
    help_t = min_time([exe, "--help"], runs)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CASECHAIN_DB=os.path.join(tmp, "b.db"), CASECHAIN_NOW="2024-03-20T10:00")
        for args in (["init", "--admin", "ADM-1", "--name", "Admin"],
                     ["--as", "ADM-1", "station", "add", "CLN", "--name", "PS Civil Lines", "--district", "Lahore"],
                     ["--as", "ADM-1", "officer", "add", "SHO-1", "--name", "Insp", "--role", "sho", "--district", "Lahore", "--station", "CLN"],
                     ["--as", "SHO-1", "case", "register", "--station", "CLN", "--fir-no", "1", "--year", "2024", "--sections", "302",
                      "--occurred-at", "2024-03-01T10:00", "--reported-at", "2024-03-01T12:00", "--complainant", "A B"]):
            subprocess.run([exe, *args], check=True, env=env, stdout=subprocess.DEVNULL)
        show = min_time([exe, "case", "show", "CLN/1/2024"], runs, env=env)
    return [
        Row("--help (s)", help_t, bare_click, "s vs import click", "<=0.150 s and <=3x", help_t <= 0.150 and help_t <= 3 * bare_click),
        Row("case show (s)", show, four, "s vs import of 4 libs", "<=1.5x", show <= 1.5 * four),
    ]
