"""The current instant, as every action and report sees it."""

from __future__ import annotations

import os
from datetime import datetime

from casechain.domain.timeutil import UTC, parse_when


def system_now() -> datetime:
    """Now, or the fixed instant in CASECHAIN_NOW (training drills, demos, tests)."""
    fixed = os.environ.get("CASECHAIN_NOW")
    if fixed:
        return parse_when(fixed, "CASECHAIN_NOW")
    return datetime.now(UTC)
