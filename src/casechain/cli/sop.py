"""sop list/show/validate."""

from __future__ import annotations

import click

from casechain.cli import cli
from casechain.cli.output import emit, format_option, output_options, to_json, to_table, write


@cli.group()
def sop():
    """SOPs: the agreed procedure each case follows.

    \b
    Example:
      casechain sop list
      casechain sop show default
      casechain sop validate sops/default.yaml
    """


@sop.command("list")
@output_options
@click.pass_obj
def list_(obj, fmt, output, force):
    """SOP versions loaded in the database, with how many cases follow each.

    \b
    Example:
      casechain sop list
    """
    from casechain.services import sops

    emit(obj.run(sops.list_sops, readonly=True), fmt, title="SOPs", output=output, force=force)


@sop.command("show")
@click.argument("name")
@format_option("table", "json")
@click.pass_obj
def show(obj, name, fmt):
    """States, events (with roles and required items), checklist and deficiency codes.

    \b
    Example:
      casechain sop show default
      casechain sop show default@1 --format json
    """
    from casechain.services import sops

    view = obj.run(sops.show_sop, name, readonly=True)
    if fmt == "json":
        write(to_json(view))
        return
    write(
        "\n".join(
            [
                f"{view['sop']}: {view['title']}",
                to_table(view["states"], ["name", "initial", "terminal", "description"], title="States"),
                to_table(view["events"], ["event", "from", "to", "roles", "requires"], title="Events"),
                to_table(view["checklist"], ["item", "step", "na_allowed", "text"], title="Checklist"),
                to_table(view["deficiency_codes"], ["code", "item", "text"], title="Deficiency codes"),
            ]
        )
    )


@sop.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def validate(file):
    """Check an SOP file; every problem on its own line, exit 2 if any.

    \b
    Example:
      casechain sop validate sops/default.yaml
    """
    from casechain.services import sops

    r = sops.validate_file(file)
    click.echo(f"{r['file']}: valid SOP {r['sop']} ({r['states']} states, {r['events']} events, {r['checklist_items']} checklist items)")
