"""Reference data shipped with casechain: PPC offences and districts of Pakistan.

Copied from the project's shared research (see src/casechain/data/); used to
check input and to generate realistic demo data.
"""

from __future__ import annotations

import csv
import difflib
import re
from functools import lru_cache

from casechain.domain.errors import BadInput
from casechain.resources import data_file

SECTION_RE = re.compile(r"^\d{1,4}(-[A-Z]{1,2})?(\([0-9A-Za-z]{1,4}\))*$")


@lru_cache(maxsize=1)
def offences() -> dict[str, dict]:
    with open(data_file("ppc_offences.csv"), encoding="utf-8") as fh:
        return {row["section"]: row for row in csv.DictReader(fh)}


@lru_cache(maxsize=1)
def districts() -> dict[str, dict]:
    """District name (lower case) -> row with province and canonical name."""
    with open(data_file("districts.csv"), encoding="utf-8") as fh:
        return {row["district"].lower(): row for row in csv.DictReader(fh)}


def district_row(name: str) -> dict:
    row = districts().get((name or "").strip().lower())
    if row is None:
        near = difflib.get_close_matches((name or "").lower(), list(districts()), n=1)
        hint = f"; did you mean {districts()[near[0]]['district']}?" if near else "; see the districts of Pakistan in casechain's data"
        raise BadInput(f"unknown district {name!r}{hint}")
    return row


def parse_sections(text: str) -> tuple[str, ...]:
    """'302, 34' -> ('302', '34'); rejects typos and sections that are not offences."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not parts:
        raise BadInput("--sections is empty: give the PPC sections of the FIR, e.g. 302,34")
    out = []
    for raw in parts:
        sec = raw.upper().replace(" ", "")
        # sub-clauses are written in lower case: 302(b), 337-A(i)
        sec = re.sub(r"\(([0-9A-Z]+)\)", lambda m: f"({m.group(1).lower()})", sec)
        if not SECTION_RE.match(sec):
            raise BadInput(f"bad section {raw!r}: write PPC sections like 302, 302(b), 337-A(i), 489-F")
        known = offences().get(sec)
        if known and known["cognizable"] == "n/a":
            raise BadInput(f"section {sec} is not a punishable offence ({known['title']}); charge the punishing section")
        if sec not in out:
            out.append(sec)
    return tuple(out)


FLAG_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def parse_flags(flags) -> tuple[str, ...]:
    out = set()
    for flag in flags or ():
        flag = flag.strip().lower()
        if not FLAG_RE.match(flag):
            raise BadInput(f"bad flag {flag!r}: use short lower-case words such as sgbv, juvenile, terrorism")
        out.add(flag)
    return tuple(sorted(out))
