"""casechain demo."""

from __future__ import annotations

import click

from casechain.cli import cli
from casechain.cli.output import to_table, write


@cli.command()
@click.option("--cases", "n_cases", type=click.IntRange(1, 10_000_000), default=300, show_default=True, help="how many cases to generate")
@click.option("--seed", type=int, default=1, show_default=True, help="same seed, same data")
@click.option("--reset", is_flag=True, help="with --db: empty that database first")
@click.option("--bulk/--services", "bulk", default=None,
              help="how cases are built: --services runs every action through its own transaction "
                   "(the reference path); --bulk builds whole cases in memory with the same rules and "
                   "writes them in batches (same data, far faster). Default: --bulk above 2,000 cases.")  # fmt: skip
@click.pass_obj
def demo(obj, n_cases, seed, reset, bulk):
    """Build a fresh database of realistic synthetic cases and print a summary.

    Without --db the demo gets its own file (demo.db in your data folder),
    rebuilt on every run; your real database is never touched.

    Up to 2,000 cases every action goes through the services one by one;
    above that (or with --bulk) each case is built in memory by the same
    rules, payloads and hash chain, its clocks and report figures are
    folded from its audit trail, and it is written in batches (on SQLite
    the indexes are built once at the end). Both paths give the same
    database for the same seed, and `audit verify` passes.

    \b
    Example:
      casechain demo
      casechain demo --cases 2000 --seed 7
      casechain demo --cases 1000000           # bulk: a progress bar shows cases/s
      casechain --db /tmp/drill.db demo --reset
    """
    from casechain import demo as demo_mod
    from casechain.services.demo import prepare_demo_db

    target = prepare_demo_db(obj.db, reset)
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("building cases", total=n_cases, rate="")

        def progress(i):
            elapsed = bar.tasks[0].elapsed or 0
            bar.update(task, completed=i, rate=f"{i / elapsed:,.0f} cases/s" if elapsed > 0.5 else "")

        def phase(text):
            bar.update(task, description=text, total=None, rate="")

        result = demo_mod.build(target.engine, n_cases, seed, progress=progress, bulk=bulk, phase=phase)
    from casechain.cli.report import COMPLIANCE_FIGURES, _compliance_table
    from casechain.services import reports

    with target.uow(readonly=True) as uow:
        rows = demo_mod.summary(uow)
        sample = target.sample_refs(uow)
        compliance = reports.compliance(uow, "district")
    how = "built in bulk" if result.bulk else "through the services"
    write(to_table(rows, title=f"Demo: {result.cases} cases at {result.stations} stations ({result.actions} actions, {result.refused} refused by the rules; {how})"))
    write(_compliance_table(compliance, COMPLIANCE_FIGURES))
    click.echo(f"Database: {target.url}")
    click.echo("Explore it (every command takes --db, or set CASECHAIN_DB once):")
    click.echo(f"  export CASECHAIN_DB='{target.url}'")
    for ref, state in sample:
        click.echo(f"  casechain case show {ref}        # {state}")
    if sample:
        click.echo(f"  casechain case history {sample[0][0]}")
    click.echo("  casechain audit verify")
