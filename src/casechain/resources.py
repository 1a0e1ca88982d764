"""Where shipped data lives: inside the wheel, or at the top of a checkout."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    inside = _PACKAGE / name  # an installed wheel carries sops/ and templates/ here
    if inside.is_dir():
        return inside
    return _PACKAGE.parent.parent / name  # src/casechain -> repository root


def sops_dir() -> Path:
    return _shipped("sops")


def templates_dirs() -> list[Path]:
    """Template folders, first match wins: an office's own (CASECHAIN_TEMPLATES), then shipped."""
    dirs = []
    if os.environ.get("CASECHAIN_TEMPLATES"):
        dirs.append(Path(os.environ["CASECHAIN_TEMPLATES"]))
    dirs.append(_shipped("templates"))
    return dirs


def data_file(name: str) -> Path:
    return _PACKAGE / "data" / name
