"""import and export."""

from __future__ import annotations

import os
import sys

import click

from casechain.cli import cli


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--on-error", type=click.Choice(["stop", "skip"]), default="stop", show_default=True,
              help="at a bad row: stop (nothing from its batch is kept) or skip it and go on")  # fmt: skip
@click.option("--batch-size", type=int, default=500, show_default=True, metavar="N", help="cases per transaction")
@click.pass_obj
def import_(obj, file, on_error, batch_size):
    """Import cases from a .csv or .jsonl file (admin): safe to run again.

    CSV and JSONL rows from other systems carry the columns station, fir_no,
    year, sections, occurred_at, reported_at, complainant and, optionally,
    accused (names separated by ';'), flags and sop; each is registered as an
    FIR under the rules of `case register`. A casechain export (.jsonl) brings
    stations, officers, SOP versions and whole cases with their audit trails,
    which are checked before they are written.

    A case already in the database (same station, FIR number and year) is
    skipped, so an import that was interrupted is finished by running it again.
    Each batch is one transaction. A bad row is reported with its line number.

    \b
    Example:
      casechain --as ADM-1 import firs-2023.csv
      casechain --as ADM-1 import backup.jsonl --on-error skip
    """
    from casechain.services import transfer

    total = os.path.getsize(file) if os.path.isfile(file) else 0
    with _progress(total) as tick:
        result = transfer.import_file(lambda: obj.uow(), obj.actor, file, on_error, batch_size, progress=tick)
    for row in result["skipped"]:
        click.echo(f"skipped {os.path.basename(file)} line {row['line']}: {row['reason']}", err=True)
    parts = [f"imported {result['cases']} case(s) ({result['events']} event(s))", f"{result['already_present']} already present"]
    if result["rows"] or result["rows_present"]:
        parts.append(f"{result['rows']} station/officer/SOP row(s) added, {result['rows_present']} already present")
    if result["skipped"]:
        parts.append(f"{len(result['skipped'])} bad row(s) skipped")
    click.echo("; ".join(parts))


class _progress:
    """A rich progress bar on stderr for files of some size, when stderr is a terminal."""

    def __init__(self, total: int):
        self.total = total
        self.bar = None

    def __enter__(self):
        if self.total < 256 * 1024 or not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("importing"), BarColumn(), DownloadColumn(), TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task("import", total=self.total)
        return lambda done, total: self.bar.update(task, completed=done, total=total)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True, help="output format")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write to FILE instead of the screen")
@click.option("--force", is_flag=True, help="overwrite FILE if it exists")
@click.pass_obj
def export(obj, fmt, output, force):
    """Export everything needed to rebuild the database, one JSON object a line.

    Stations, officers, SOP versions, then every case with its audit events,
    checklist, deficiencies, accused, clocks and custody. `casechain import`
    reads it back into an initialised database.

    \b
    Example:
      casechain export -o backup.jsonl
      casechain --db new.db init --admin ADM-1 --name "System Admin"
      casechain --db new.db --as ADM-1 import backup.jsonl
    """
    from casechain.domain.errors import BadInput
    from casechain.services import transfer

    if not output:
        with obj.uow(readonly=True) as uow:
            for line in transfer.export_lines(uow):
                sys.stdout.write(line)
        return
    if os.path.exists(output) and not force:
        raise BadInput(f"{output} exists: choose another file or add --force to overwrite it")
    partial = f"{output}.partial"
    try:
        with open(partial, "w", encoding="utf-8", newline="\n") as fh, obj.uow(readonly=True) as uow:
            lines = 0
            for line in transfer.export_lines(uow):
                fh.write(line)
                lines += 1
        os.replace(partial, output)  # a file named FILE is always a whole export
    except OSError as err:
        raise BadInput(f"cannot write {output}: {err.strerror}") from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    click.echo(f"wrote {output} ({lines} line(s))", err=True)
