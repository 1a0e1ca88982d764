"""One emitter for every command: rich tables for people, JSON/CSV for machines."""

from __future__ import annotations

import csv
import io
import json
import os
import sys

import click

FORMATS = ("table", "json", "csv")


def format_option(*choices: str):
    choices = choices or FORMATS
    return click.option("--format", "fmt", type=click.Choice(choices), default=choices[0], show_default=True, help="output format")


def output_options(f):
    """--format table|json|csv, -o FILE, --force: declared once, used everywhere."""
    f = click.option("--force", is_flag=True, help="overwrite FILE if it exists")(f)
    f = click.option("-o", "--output", "output", type=click.Path(dir_okay=False), help="write to FILE instead of the screen")(f)
    return format_option()(f)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def to_json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def to_csv(rows: list[dict], columns: list[str] | None = None) -> str:
    columns = columns or (list(rows[0]) if rows else [])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def to_table(rows: list[dict], columns: list[str] | None = None, title: str | None = None) -> str:
    from rich.console import Console
    from rich.table import Table

    columns = columns or (list(rows[0]) if rows else [])
    table = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        table.add_column(c.replace("_", " "))
    for row in rows:
        table.add_row(*[_cell(row.get(c)) for c in columns])
    console = Console(file=io.StringIO(), width=_width(), force_terminal=False, color_system=None)
    console.print(table)
    return console.file.getvalue()


def _width() -> int:
    try:
        return max(80, os.get_terminal_size().columns)
    except OSError:
        return 120


def write(text: str, output: str | None = None, force: bool = False) -> None:
    if output:
        from casechain.domain.errors import BadInput

        if os.path.exists(output) and not force:
            raise BadInput(f"{output} exists: choose another file or add --force to overwrite it")
        try:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        except OSError as err:
            raise BadInput(f"cannot write {output}: {err.strerror}") from None
        click.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def emit(rows, fmt: str, columns: list[str] | None = None, title: str | None = None, output=None, force=False) -> None:
    """Print a list of records (or one record for json) in the chosen format."""
    if fmt == "json":
        write(to_json(rows), output, force)
    elif fmt == "csv":
        rows = rows if isinstance(rows, list) else [rows]
        # CSV has the same columns as JSON (CLI.md); `columns` picks the table's
        write(to_csv(rows, list(rows[0]) if rows else columns), output, force)
    else:
        write(to_table(rows if isinstance(rows, list) else [rows], columns, title), output, force)
