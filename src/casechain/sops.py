"""Load SOP files (YAML) and validate them into the domain's Sop model.

Every problem is reported at once, one per line, as ``FILE:LINE:COLUMN: PATH:
MESSAGE``, e.g. ``sops/punjab.yaml:41:9: events[3](file_in_court).to: unknown
state 'in_cort'``: schema errors (pydantic), logic errors
(``domain.sop.sop_problems``) and duplicate keys in the YAML. Positions come
from the YAML node tree (``yaml.SafeLoader`` composes nodes with their marks;
nothing outside plain YAML tags is ever constructed).

``extends: NAME`` builds an SOP on another one (``NAME.yaml`` beside the file,
else the shipped ``sops/NAME.yaml``), so provinces share the default flow
instead of copying it. The extending file is merged over its base, node by
node, so an error still points at the file and line where the value was
written. Merge rules:

- mappings merge key by key; a key given in the extending file replaces (or,
  if both are mappings, merges into) the inherited one;
- a key set to ``null`` (``~``) removes the inherited value: the field goes
  back to its default (``to: null`` lets an event use ``outcomes`` instead);
- lists of named things (entries with ``name``, ``id`` or ``code``: states,
  events, checklist, deficiency_codes, clocks) merge by that name: an entry
  with a known name merges into the inherited entry (in place), a new name is
  appended, and ``{name: X, remove: true}`` removes the inherited entry X;
- any other list (``roles``, ``from``, ``requires``, section lists) and every
  plain value is replaced whole;
- ``name``, ``version`` and ``migrates_from`` are never inherited: each file
  states its own.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from casechain.domain.errors import BadInput
from casechain.domain.sop import Sop, sop_problems
from casechain.resources import sops_dir

MAX_SOP_BYTES = 1_000_000  # an SOP is a few kilobytes; anything near this is not one
MAX_EXTENDS_DEPTH = 5
NAMED_KEYS = ("name", "id", "code")
NOT_INHERITED = ("name", "version", "migrates_from")
LIST_FIELDS = ("states", "events", "checklist", "deficiency_codes", "clocks")
NOT_A_MAPPING = "an SOP file must be a mapping with name, version, states, events"
_SOP_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class Problem:
    """One problem in an SOP file, where it was written."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{self.message}"


@dataclass(frozen=True)
class LoadedSop:
    """A valid SOP and the files it was built from (the file itself first)."""

    sop: Sop
    files: tuple[str, ...]
    digest: str  # of the text of every file in the extends chain
    extends: str | None = None


@dataclass
class _Source:
    node: Node | None
    files: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    extends: str | None = None


# -- reading and composing --------------------------------------------------
def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_SOP_BYTES:
            raise BadInput(f"{path}: file is larger than {MAX_SOP_BYTES} bytes; an SOP is a few kilobytes")
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise BadInput(f"{path}: cannot read SOP file: {err.strerror}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None


def _yaml_error(err: yaml.YAMLError, source: str) -> BadInput:
    mark = getattr(err, "problem_mark", None)
    where = f"{mark.name if mark and mark.name else source}:{mark.line + 1}:{mark.column + 1}" if mark else source
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    return BadInput(f"{where}: not valid YAML: {problem}")


def _compose(text: str, source: str) -> Node | None:
    """The YAML node tree, each node marked with file, line and column."""
    if len(text.encode("utf-8", "replace")) > MAX_SOP_BYTES:
        raise BadInput(f"{source}: file is larger than {MAX_SOP_BYTES} bytes; an SOP is a few kilobytes")
    try:
        loader = yaml.SafeLoader(text)  # the reader refuses NUL and other unprintable characters here
    except yaml.YAMLError as err:
        raise _yaml_error(err, source) from None
    loader.name = source  # marks carry the file name (the reader set "<unicode string>")
    try:
        return loader.get_single_node()
    except yaml.YAMLError as err:
        raise _yaml_error(err, source) from None
    except RecursionError:
        raise BadInput(f"{source}: not valid YAML: nested too deeply") from None
    finally:
        loader.dispose()


def _construct(node: Node, source: str):
    """Plain data from nodes; the safe constructor refuses every Python tag."""
    try:
        return yaml.constructor.SafeConstructor().construct_document(node)
    except yaml.YAMLError as err:
        raise _yaml_error(err, source) from None
    except RecursionError:
        raise BadInput(f"{source}: not valid YAML: nested too deeply") from None


def _mark(node: Node) -> tuple[str, int, int]:
    m = node.start_mark
    return m.name, m.line + 1, m.column + 1


def _problem(node: Node, path: str, message: str) -> Problem:
    return Problem(*_mark(node), path, message)


def _key(node: Node):
    return node.value if isinstance(node, ScalarNode) else None


def _duplicate_keys(node: Node | None, path: str = "", visited: set | None = None) -> list[Problem]:
    """Duplicate mapping keys: YAML would silently keep only the last value.

    Each node is walked once: an alias points at a node already seen, and
    following aliases again would let a small file ("billion laughs") cost
    minutes."""
    out: list[Problem] = []
    visited = set() if visited is None else visited
    if id(node) in visited:
        return out
    visited.add(id(node))
    if isinstance(node, MappingNode):
        seen = set()
        for k, v in node.value:
            name = _key(k)
            sub = f"{path}.{name}" if path else str(name)
            if name is not None and name != "<<":
                if name in seen:
                    out.append(_problem(k, sub, f"duplicate key {name!r}: only the last value would count"))
                seen.add(name)
            out += _duplicate_keys(v, sub, visited)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            out += _duplicate_keys(item, f"{path}[{i}]", visited)
    return out


# -- extends: merging node trees ---------------------------------------------
def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _item_key(node: Node):
    if isinstance(node, MappingNode):
        for k, v in node.value:
            if _key(k) in NAMED_KEYS and isinstance(v, ScalarNode):
                return v.value
    return None


def _named(seq: Node) -> bool:
    return isinstance(seq, SequenceNode) and bool(seq.value) and all(_item_key(n) is not None for n in seq.value)


def _removal(node: MappingNode) -> bool:
    """``{name: X, remove: true}``: the entry asks to drop inherited X."""
    for k, v in node.value:
        if _key(k) == "remove" and isinstance(v, ScalarNode) and v.value.lower() in ("true", "yes"):
            return True
    return False


def _merge(base: Node, over: Node, problems: list[Problem]) -> Node:
    if isinstance(base, MappingNode) and isinstance(over, MappingNode):
        pairs: list = list(base.value)
        index = {_key(k): i for i, (k, _) in enumerate(pairs) if _key(k) is not None}
        for k, v in over.value:
            name = _key(k)
            at = index.get(name) if name is not None else None
            if _is_null(v):  # `key: null` in the extending file removes the inherited value
                if at is not None:
                    pairs[at] = None
                continue
            if at is not None and pairs[at] is not None:
                pairs[at] = (k, _merge(pairs[at][1], v, problems))
            else:
                if name is not None:
                    index[name] = len(pairs)
                pairs.append((k, v))
        return MappingNode(over.tag, [p for p in pairs if p is not None], over.start_mark, over.end_mark, over.flow_style)
    if _named(base) and isinstance(over, SequenceNode):
        items: list = list(base.value)
        index = {_item_key(n): i for i, n in enumerate(items)}
        for n in over.value:
            name = _item_key(n)
            if name is None:  # no name: appended as written, for the schema to judge
                items.append(n)
                continue
            at = index.get(name)
            if _removal(n):
                if at is None or items[at] is None:
                    problems.append(_problem(n, "", f"nothing named {name!r} to remove: the base SOP has no such entry"))
                else:
                    items[at] = None
                continue
            if at is not None and items[at] is not None:
                items[at] = _merge(items[at], n, problems)
            else:
                index[name] = len(items)
                items.append(n)
        return SequenceNode(over.tag, [n for n in items if n is not None], over.start_mark, over.end_mark, over.flow_style)
    return over


def _resolve_base(name: str, here: Path | None) -> Path:
    candidates = [here / f"{name}.yaml"] if here is not None else []
    candidates.append(sops_dir() / f"{name}.yaml")
    for c in candidates:
        if c.is_file():
            return c
    return candidates[0]


def _source(text: str, source: str, here: Path | None, chain: tuple[str, ...] = ()) -> _Source:
    """Compose a file and, if it extends another, merge it over its base."""
    node = _compose(text, source)
    out = _Source(node, [source], [text], _duplicate_keys(node))
    if not isinstance(node, MappingNode):
        return out
    ext = next(((k, v) for k, v in node.value if _key(k) == "extends"), None)
    if ext is None:
        return out
    k, v = ext
    own = MappingNode(node.tag, [(a, b) for a, b in node.value if _key(a) != "extends"], node.start_mark, node.end_mark, node.flow_style)
    out.node = own
    name = v.value if isinstance(v, ScalarNode) else None
    if not name or not _SOP_NAME.match(name):
        out.problems.append(_problem(v, "extends", "give the name of another SOP file (extends: default)"))
        return out
    out.extends = name
    path = _resolve_base(name, here)
    key = str(path.resolve())
    if key in chain or len(chain) >= MAX_EXTENDS_DEPTH:
        out.problems.append(_problem(v, "extends", f"extends {name!r} goes round in a circle (or deeper than {MAX_EXTENDS_DEPTH})"))
        return out
    if not path.is_file():
        out.problems.append(_problem(v, "extends", f"no SOP file {path.name} to extend (looked beside this file and in the shipped sops/)"))
        return out
    base = _source(_read(path), str(path), path.parent, chain + (key,))
    out.files += base.files
    out.texts += base.texts
    out.problems += base.problems
    if not isinstance(base.node, MappingNode):
        out.problems.append(_problem(v, "extends", f"{path.name} is not an SOP (not a mapping)"))
        return out
    inherited = MappingNode(
        base.node.tag, [(a, b) for a, b in base.node.value if _key(a) not in NOT_INHERITED], base.node.start_mark, base.node.end_mark
    )
    out.node = _merge(inherited, own, out.problems)
    return out


# -- paths -> positions -------------------------------------------------------
_TOKEN = re.compile(r"\[(\d+)\]|\(([^)]*)\)|\.?([^.\[\(]+)")


def _tokens(path: str) -> list:
    out = []
    for m in _TOKEN.finditer(path):
        if m.group(1) is not None:
            out.append(int(m.group(1)))
        elif m.group(3) is not None:
            out.append(m.group(3))
    return out


def _loc(loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def _locate(root: Node, tokens: list, message: str, key: bool = False) -> Node:
    """The node a path points at; the nearest ancestor when the path goes where
    the file has nothing (a missing field). For a mapping entry: its value when
    that sits on the key's line, else (a block list, or ``key``) the key."""
    node, at = root, root
    for tok in tokens:
        if isinstance(tok, int) and isinstance(node, SequenceNode) and tok < len(node.value):
            node = at = node.value[tok]
        elif isinstance(tok, str) and isinstance(node, MappingNode):
            pair = next(((k, v) for k, v in reversed(node.value) if _key(k) == tok), None)  # the last one counts
            if pair is None:
                break
            at, node = pair
        else:
            break
    else:
        # A list named in the message (`unknown state 'x'` in `from`): point at the entry.
        if isinstance(node, SequenceNode):
            for item in node.value:
                if isinstance(item, ScalarNode) and f"'{item.value}'" in message:
                    return item
        if not key and at is not node and node.start_mark.line == at.start_mark.line:
            return node
    return at


def _remap(path: str, kept: dict[str, list[int]]) -> str:
    """Indexes in a salvaged list -> indexes in the file."""
    m = re.match(r"^([a-z_]+)\[(\d+)\]", path)
    if m and m.group(1) in kept:
        i = int(m.group(2))
        return f"{m.group(1)}[{kept[m.group(1)][i]}]" + path[m.end():]
    return path


# -- validation ---------------------------------------------------------------
PLACEHOLDERS = {"name": "sop", "version": 1, "title": "-"}


def _salvage(data: dict, errors: list[dict]):
    """Drop the entries (and optional fields) that failed the schema, so the
    logic checks can still run on the rest. Returns (data, kept indexes,
    dropped names, complete) or None when nothing sensible is left."""
    bad: dict[str, set[int]] = {}
    fixed = dict(data)
    for e in errors:
        loc = e["loc"]
        top = loc[0] if loc else None
        if top in LIST_FIELDS and len(loc) >= 2 and isinstance(loc[1], int):
            bad.setdefault(top, set()).add(loc[1])
        elif top in PLACEHOLDERS:
            fixed[top] = PLACEHOLDERS[top]
        elif top in LIST_FIELDS or top is None:
            return None
        else:
            fixed.pop(top, None)  # an unknown key, or an optional field gone wrong
    kept: dict[str, list[int]] = {}
    dropped: set[str] = set()
    for name, indexes in bad.items():
        entries = data.get(name) or []
        kept[name] = [i for i in range(len(entries)) if i not in indexes]
        fixed[name] = [entries[i] for i in kept[name]]
        for i in indexes:
            entry = entries[i] if i < len(entries) else None
            if isinstance(entry, dict):
                dropped |= {str(entry[k]) for k in NAMED_KEYS if isinstance(entry.get(k), (str, int))}
    complete = not (bad.keys() & {"states", "events"})
    return fixed, kept, dropped, complete


def _check(src: _Source, source: str) -> Sop:
    """Validate the (merged) node tree; raise BadInput with every problem."""
    if not isinstance(src.node, MappingNode):
        raise BadInput(f"{source}: {NOT_A_MAPPING}")
    data = _construct(src.node, source)
    if not isinstance(data, dict):
        raise BadInput(f"{source}: {NOT_A_MAPPING}")
    problems = list(src.problems)

    def at(path: str, message: str, shown: str | None = None, key: bool = False) -> Problem:
        return _problem(_locate(src.node, _tokens(path), message, key), path if shown is None else shown, message)

    sop = None
    try:
        sop = Sop.model_validate(data)
        logic = sop_problems(sop)
        kept: dict[str, list[int]] = {}
        dropped: set[str] = set()
    except ValidationError as err:
        errors = err.errors()
        for e in errors:
            path = _loc(e["loc"])
            problems.append(at("" if path == "(top)" else path, e["msg"], path, key=e["type"] == "extra_forbidden"))
        logic = []
        salvaged = _salvage(data, errors)
        if salvaged is not None:
            fixed, kept, dropped, complete = salvaged
            try:
                logic = sop_problems(Sop.model_validate(fixed), complete=complete)
            except ValidationError:
                logic = []
    for path, message in logic:
        if any(f"'{name}'" in message for name in dropped):
            continue  # a consequence of an entry that already failed the schema
        path = _remap(path, kept)
        problems.append(at(path, message))
    if problems:
        problems = [p if p.file == source else replace(p, message=f"{p.message} (inherited by {source})") for p in problems]
        problems.sort(key=lambda p: (p.file != source, p.file, p.line, p.column))
        raise BadInput("\n".join(str(p) for p in problems))
    return sop


def _digest(texts: list[str]) -> str:
    # One file: the digest of its text (as stored by earlier releases). A chain:
    # every file's text, so changing a base changes every SOP built on it.
    joined = texts[0] if len(texts) == 1 else "\x00".join(texts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def parse_sop_source(text: str, source: str, here: Path | None = None) -> LoadedSop:
    src = _source(text, source, here, (str(Path(source).resolve()),))
    sop = _check(src, source)
    return LoadedSop(sop, tuple(src.files), _digest(src.texts), src.extends)


def parse_sop(text: str, source: str, here: Path | None = None) -> Sop:
    """Validate SOP text; raise BadInput listing every problem, one per line.

    ``here`` is the folder in which ``extends: NAME`` looks first (default:
    the folder of ``source`` if it exists, then the shipped sops/)."""
    if here is None and Path(source).parent.is_dir():
        here = Path(source).parent
    return parse_sop_source(text, source, here).sop


def load_sop(path: str | Path) -> LoadedSop:
    path = Path(path)
    return parse_sop_source(_read(path), str(path), path.parent)


def load_sop_file(path: str | Path) -> Sop:
    return load_sop(path).sop


def shipped_sop_files() -> list[Path]:
    return sorted(sops_dir().glob("*.yaml"))
