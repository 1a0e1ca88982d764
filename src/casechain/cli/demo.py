"""casechain demo."""

from __future__ import annotations

import click

from casechain.cli import cli
from casechain.cli.output import to_table, write


@cli.command()
@click.option("--cases", "n_cases", type=click.IntRange(1, 10_000_000), default=300, show_default=True, help="how many cases to generate")
@click.option("--seed", type=int, default=1, show_default=True, help="same seed, same data")
@click.option("--reset", is_flag=True, help="with --db: empty that database first")
@click.pass_obj
def demo(obj, n_cases, seed, reset):
    """Build a fresh database of realistic synthetic cases and print a summary.

    Without --db the demo gets its own file (demo.db in your data folder),
    rebuilt on every run; your real database is never touched.

    \b
    Example:
      casechain demo
      casechain demo --cases 2000 --seed 7
      casechain --db /tmp/drill.db demo --reset
    """
    from casechain import demo as demo_mod
    from casechain.services.demo import prepare_demo_db

    target = prepare_demo_db(obj.db, reset)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("generating cases", total=n_cases)
        result = demo_mod.build(target.engine, n_cases, seed, progress=lambda i: bar.update(task, completed=i))
    from casechain.cli.report import COMPLIANCE_FIGURES, _compliance_table
    from casechain.services import reports

    with target.uow(readonly=True) as uow:
        rows = demo_mod.summary(uow)
        sample = target.sample_refs(uow)
        compliance = reports.compliance(uow, "district")
    write(to_table(rows, title=f"Demo: {result.cases} cases at {result.stations} stations ({result.actions} actions, {result.refused} refused by the rules)"))
    write(_compliance_table(compliance, COMPLIANCE_FIGURES))
    click.echo(f"Database: {target.url}")
    click.echo("Explore it (every command takes --db, or set CASECHAIN_DB once):")
    click.echo(f"  export CASECHAIN_DB='{target.url}'")
    for ref, state in sample:
        click.echo(f"  casechain case show {ref}        # {state}")
    if sample:
        click.echo(f"  casechain case history {sample[0][0]}")
    click.echo("  casechain audit verify")
