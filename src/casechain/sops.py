"""Load SOP files (YAML) and validate them into the domain's Sop model.

Errors name the file, the path to the field and what is wrong, e.g.
``sops/punjab.yaml: events[3](file_in_court).to: unknown state 'in_cort'``.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from casechain.domain.errors import BadInput
from casechain.domain.sop import Sop, sop_problems
from casechain.resources import sops_dir

MAX_SOP_BYTES = 1_000_000  # an SOP is a few kilobytes; anything near this is not one


def _loc(loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def parse_sop(text: str, source: str) -> Sop:
    """Validate SOP text; raise BadInput listing every problem, one per line."""
    if len(text.encode("utf-8", "replace")) > MAX_SOP_BYTES:
        raise BadInput(f"{source}: file is larger than {MAX_SOP_BYTES} bytes; an SOP is a few kilobytes")
    try:
        data = yaml.safe_load(text)  # safe_load: no Python object tags from a file
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise BadInput(f"{source}{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise BadInput(f"{source}: an SOP file must be a mapping with name, version, states, events")
    try:
        sop = Sop.model_validate(data)
    except ValidationError as err:
        lines = [f"{source}: {_loc(e['loc'])}: {e['msg']}" for e in err.errors()]
        raise BadInput("\n".join(lines)) from None
    problems = sop_problems(sop)
    if problems:
        raise BadInput("\n".join(f"{source}: {path}: {msg}" for path, msg in problems))
    return sop


def load_sop_file(path: str | Path) -> Sop:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_SOP_BYTES:
            raise BadInput(f"{path}: file is larger than {MAX_SOP_BYTES} bytes; an SOP is a few kilobytes")
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise BadInput(f"{path}: cannot read SOP file: {err.strerror}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None
    return parse_sop(text, str(path))


def shipped_sop_files() -> list[Path]:
    return sorted(sops_dir().glob("*.yaml"))
