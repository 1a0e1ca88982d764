"""Shared helpers for the benchmark scripts."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Row:
    figure: str
    casechain: float | None
    baseline: float | None
    unit: str | None = None
    goal: str | None = None
    passed: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.casechain is None or not self.baseline:
            return None
        return self.casechain / self.baseline

    def as_dict(self) -> dict:
        return {"figure": self.figure, "casechain": self.casechain, "baseline": self.baseline, "unit": self.unit,
                "ratio": self.ratio, "goal": self.goal, "passed": self.passed, "note": self.note}


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"
    return str(v)


def print_table(rows: list[Row]) -> None:
    head = ["figure", "casechain", "baseline", "unit", "ratio", "goal", "pass"]
    table = [[r.figure, _fmt(r.casechain), _fmt(r.baseline), r.unit or "", _fmt(r.ratio), r.goal or "",
              {True: "PASS", False: "FAIL", None: "-"}[r.passed]] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *table)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    print(line(head))
    print(line(["-" * w for w in widths]))
    for t in table:
        print(line(t))
    notes = [f"{r.figure}: {r.note}" for r in rows if r.note]
    if notes:
        print("\n" + "\n".join(notes))


def min_time(cmd: list[str], runs: int, env=None) -> float:
    """Minimum wall time of a subprocess over ``runs`` runs (seconds)."""
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        best = min(best, time.perf_counter() - t)
    return best


def casechain_exe() -> str:
    exe = Path(sys.executable).with_name("casechain")
    return str(exe) if exe.exists() else "casechain"


def peak_rss_mb_children() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def time_rss(cmd: list[str], env=None) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one subprocess, via /usr/bin/time if present."""
    t = time.perf_counter()
    if Path("/usr/bin/time").exists():
        out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        rss = int(out.stderr.strip().splitlines()[-1]) / 1024
    else:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        rss = float("nan")
    return time.perf_counter() - t, rss
