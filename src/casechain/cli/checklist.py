"""checklist show/tick/na/untick."""

from __future__ import annotations

import click

from casechain.cli import cli
from casechain.cli.cases import at_option, if_version
from casechain.cli.output import emit, output_options


@cli.group()
def checklist():
    """The SOP checklist of a case: items ticked with evidence references.

    \b
    Example:
      casechain checklist show CLN/123/2024
      casechain --as IO-101 checklist tick CLN/123/2024 site_plan --evidence "SP-17"
    """


@checklist.command("show")
@click.argument("ref")
@output_options
@click.pass_obj
def show(obj, ref, fmt, output, force):
    """Every checklist item that applies to the case, with status and evidence.

    \b
    Example:
      casechain checklist show CLN/123/2024
    """
    from casechain.services import checklist as svc

    rows = obj.run(svc.show, ref, readonly=True)
    emit(rows, fmt, ["item", "step", "status", "evidence", "text", "required_by"] if fmt == "table" else None, title=f"Checklist of {ref}", output=output, force=force)


@checklist.command("tick")
@click.argument("ref")
@click.argument("item")
@click.option("--evidence", required=True, metavar="TEXT", help="where the proof is: memo, report or register number")
@at_option
@if_version
@click.pass_obj
def tick(obj, ref, item, evidence, at, expected_version):
    """Mark an item done, with the evidence reference.

    \b
    Example:
      casechain --as IO-101 checklist tick CLN/123/2024 site_plan --evidence "Site plan SP-17 dated 2024-03-02"
    """
    from casechain.services import checklist as svc

    r = obj.run(svc.tick, obj.actor, ref, item, evidence, at, expected_version)
    click.echo(f"{r['ref']}: {r['item']} done (version {r['version']})")


@checklist.command("na")
@click.argument("ref")
@click.argument("item")
@click.option("--reason", required=True, metavar="TEXT")
@at_option
@if_version
@click.pass_obj
def na(obj, ref, item, reason, at, expected_version):
    """Mark an item not applicable, where the SOP allows it.

    \b
    Example:
      casechain --as IO-101 checklist na CLN/123/2024 recovery_memos --reason "nothing was recovered"
    """
    from casechain.services import checklist as svc

    r = obj.run(svc.not_applicable, obj.actor, ref, item, reason, at, expected_version)
    click.echo(f"{r['ref']}: {r['item']} not applicable (version {r['version']})")


@checklist.command("untick")
@click.argument("ref")
@click.argument("item")
@click.option("--reason", required=True, metavar="TEXT")
@at_option
@if_version
@click.pass_obj
def untick(obj, ref, item, reason, at, expected_version):
    """Reopen an item (e.g. wrong evidence entered); the audit trail keeps the old entry.

    \b
    Example:
      casechain --as IO-101 checklist untick CLN/123/2024 site_plan --reason "wrong plan attached"
    """
    from casechain.services import checklist as svc

    r = obj.run(svc.untick, obj.actor, ref, item, reason, at, expected_version)
    click.echo(f"{r['ref']}: {r['item']} reopened (version {r['version']})")
