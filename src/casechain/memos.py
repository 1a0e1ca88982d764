"""Handover memos: Jinja2 templates rendered from a plain dict.

Templates are found by file name in ``templates_dirs()``: an office's own
folder (CASECHAIN_TEMPLATES) first, then the shipped one, so an office
overrides ``forwarding.md.j2`` by putting its own file of that name in its
folder and keeps every other template as shipped.

Safety of the output:
- Every environment uses ``StrictUndefined``: a template that names a field
  the context lacks fails with the template file, line and field, instead of
  printing an empty string on an official document.
- HTML templates (``*.html.j2``) are autoescaped: ``<script>`` typed as
  evidence comes out as ``&lt;script&gt;``.
- Markdown templates (``*.md.j2``) are not HTML-escaped, but every ``{{ value }}``
  passes through :func:`md_escape`, so user text cannot break a table (``|``),
  start a new block (a newline) or inject markup. A macro's output is escaped
  already: print it with ``|safe``.

Rendering does no I/O besides reading templates; the context comes from
``casechain.services.memos``.
"""

from __future__ import annotations

import traceback
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from casechain.domain.errors import BadInput

KINDS = ("forwarding", "deficiency", "court-submission", "interim-report")
FORMATS = ("md", "html")
EMPTY = "—"  # how a missing value (None) is printed

# Backslashes too, or a user's trailing backslash would cancel our escape of
# the pipe after it; pipes split cells; < > [ ] ` * start HTML, links, images,
# code spans or emphasis.
_MD_SPECIAL = {ch: "\\" + ch for ch in "\\|<>[]`*"}


def template_name(kind: str, fmt: str) -> str:
    return f"{kind}.{fmt}.j2"


def md_escape(value) -> Markup:
    """Text safe inside a Markdown table cell or paragraph: one line, no markup."""
    if isinstance(value, Markup):  # already escaped (|md, or a macro marked |safe)
        return value
    if value is None:
        return Markup(EMPTY)
    text = str(value)
    escaped = "".join(_MD_SPECIAL.get(ch, ch) for ch in text)
    # Any line break (\n, \r, \u2028, ...) would end the table row: keep one line.
    return Markup("<br>".join(escaped.splitlines()))


def _finalize_html(value):
    return EMPTY if value is None else value


def environment(dirs: list[Path] | None = None, fmt: str = "html"):
    """The Jinja2 environment for one output format over the template folders.

    Cached per (folders, format), so templates are compiled once per process;
    Jinja2 still notices a template file that changed and recompiles it.
    """
    folders = tuple(str(d) for d in (dirs if dirs is not None else _dirs()))
    return _environment(folders, fmt)


@lru_cache(maxsize=16)
def _environment(folders: tuple[str, ...], fmt: str):
    from jinja2 import (
        ChoiceLoader,
        Environment,
        FileSystemLoader,
        StrictUndefined,
        select_autoescape,
    )

    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(d) for d in folders]),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False, default=False),
        finalize=md_escape if fmt == "md" else _finalize_html,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md_escape
    return env


def render(kind: str, fmt: str, context: dict, dirs: list[Path] | None = None) -> str:
    """The memo text; BadInput naming the template and line if a template is broken."""
    from jinja2 import TemplateError, TemplateNotFound

    if kind not in KINDS:
        raise BadInput(f"unknown memo kind {kind!r}: use one of {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise BadInput(f"unknown memo format {fmt!r}: use one of {', '.join(FORMATS)}")
    name = template_name(kind, fmt)
    env = environment(dirs, fmt)
    try:
        return env.get_template(name).render(context)
    except TemplateNotFound as err:
        looked = ", ".join(str(d) for d in (dirs if dirs is not None else _dirs()))
        raise BadInput(f"template {err.name} not found (looked in: {looked})") from None
    except TemplateError as err:
        raise BadInput(f"template {_where(err, name)}: {err.message or type(err).__name__}") from None
    except (TypeError, ValueError, LookupError, ArithmeticError) as err:  # an office template misusing a value
        raise BadInput(f"template {_where(err, name)}: {type(err).__name__}: {err}") from None


def _dirs() -> list[Path]:
    from casechain.resources import templates_dirs

    return templates_dirs()


def _where(err, name: str) -> str:
    """'path/forwarding.md.j2:12' for the template line that failed."""
    filename, lineno = getattr(err, "filename", None), getattr(err, "lineno", None)
    if not lineno:  # render-time errors: find the template frame in the traceback
        for frame in reversed(traceback.extract_tb(err.__traceback__)):
            if frame.filename.endswith(".j2"):
                filename, lineno = frame.filename, frame.lineno
                break
    return f"{filename or name}:{lineno}" if lineno else (filename or name)
