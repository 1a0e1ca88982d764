"""deficiency flag/list/respond/resolve."""

from __future__ import annotations

import click

from casechain.cli import cli
from casechain.cli.cases import at_option, if_version
from casechain.cli.output import emit, output_options


@cli.group()
def deficiency():
    """Defects the prosecutor finds at scrutiny, and the IO's answers.

    \b
    Example:
      casechain --as PP-7 deficiency flag CLN/123/2024 --code PMR_MISSING
      casechain --as PP-7 deficiency list --open
    """


@deficiency.command("flag")
@click.argument("ref")
@click.option("--code", required=True, help="a deficiency code of the case's SOP (sop show NAME)")
@click.option("--detail", metavar="TEXT")
@at_option
@if_version
@click.pass_obj
def flag(obj, ref, code, detail, at, expected_version):
    """Flag a deficiency (prosecutor, during scrutiny).

    \b
    Example:
      casechain --as PP-7 deficiency flag CLN/123/2024 --code PMR_MISSING
    """
    from casechain.services import deficiencies as svc

    r = obj.run(svc.flag, obj.actor, ref, code, detail, at, expected_version)
    reopened = f"; checklist item {r['reopened']} reopened" if r["reopened"] else ""
    click.echo(f"{r['ref']}: deficiency {r['id']} ({r['code']}) flagged{reopened}")


@deficiency.command("list")
@click.argument("ref", required=False)
@click.option("--open", "open_only", is_flag=True, help="only deficiencies not yet resolved")
@output_options
@click.pass_obj
def list_(obj, ref, open_only, fmt, output, force):
    """One case's deficiencies, or (without REF) your queue across cases, oldest first.

    \b
    Example:
      casechain --as PP-7 deficiency list --open
    """
    from casechain.services import deficiencies as svc

    rows = obj.run(svc.list_deficiencies, ref, obj.actor, open_only, readonly=True)
    cols = ["ref", "id", "round", "code", "status", "detail", "raised_at", "response"]
    if not ref:
        cols.insert(6, "days_open")
    emit(rows, fmt, cols, title="Deficiencies", output=output, force=force)


@deficiency.command("respond")
@click.argument("ref")
@click.argument("deficiency_id", metavar="ID")
@click.option("--note", required=True, metavar="TEXT")
@click.option("--evidence", metavar="TEXT")
@at_option
@if_version
@click.pass_obj
def respond(obj, ref, deficiency_id, note, evidence, at, expected_version):
    """Answer a deficiency (IO, while the file is returned).

    \b
    Example:
      casechain --as IO-101 deficiency respond CLN/123/2024 4 --note "PMR obtained" --evidence "PMR 55/24"
    """
    from casechain.services import deficiencies as svc

    r = obj.run(svc.respond, obj.actor, ref, deficiency_id, note, evidence, at, expected_version)
    click.echo(f"{r['ref']}: deficiency {r['id']} {r['status']}")


@deficiency.command("resolve")
@click.argument("ref")
@click.argument("deficiency_id", metavar="ID")
@at_option
@if_version
@click.pass_obj
def resolve(obj, ref, deficiency_id, at, expected_version):
    """Accept the IO's answer (prosecutor).

    \b
    Example:
      casechain --as PP-7 deficiency resolve CLN/123/2024 4
    """
    from casechain.services import deficiencies as svc

    r = obj.run(svc.resolve, obj.actor, ref, deficiency_id, at, expected_version)
    click.echo(f"{r['ref']}: deficiency {r['id']} {r['status']}")
