"""sop list/show/validate/load/migrate."""

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
      casechain sop show punjab --graph mermaid
      casechain sop validate sops/punjab.yaml
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
@click.option("--graph", type=click.Choice(["mermaid", "dot"]), help="draw the flow instead: a Mermaid state diagram or Graphviz dot")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write to FILE instead of the screen")
@click.option("--force", is_flag=True, help="overwrite FILE if it exists")
@click.pass_obj
def show(obj, name, fmt, graph, output, force):
    """States, events (with roles, required items and conditions), checklist and
    deficiency codes; or, with --graph, a picture of the flow: each arrow is an
    event with the roles that may fire it and the checklist items it needs.

    \b
    Example:
      casechain sop show default
      casechain sop show default@1 --format json
      casechain sop show punjab --graph mermaid -o punjab.mmd
      casechain sop show sindh --graph dot | dot -Tsvg > sindh.svg
    """
    from casechain.services import sops

    if graph:
        write(obj.run(sops.graph_sop, name, graph, readonly=True), output, force)
        return
    view = obj.run(sops.show_sop, name, readonly=True)
    if fmt == "json":
        write(to_json(view), output, force)
        return
    write(
        "\n".join(
            [
                f"{view['sop']}: {view['title']}" + (f" ({view['province']})" if view.get("province") else ""),
                to_table(view["states"], ["name", "initial", "terminal", "holder", "description"], title="States"),
                to_table([_stacked(e) for e in view["events"]], ["event", "from", "to", "roles", "requires"], title="Events"),
                to_table([e for e in view["events"] if e["conditions"]], ["event", "conditions"], title="Conditions (when an event applies)"),
                to_table(view["checklist"], ["item", "step", "na_allowed", "text"], title="Checklist"),
                to_table(view["deficiency_codes"], ["code", "item", "text"], title="Deficiency codes"),
            ]
        ),
        output,
        force,
    )


def _stacked(event: dict) -> dict:
    """One name per line in the list cells, so that names are never cut short."""
    return {
        **event,
        "from": "\n".join(event["from"]),
        "to": event["to"].replace(", ", "\n").replace("->", " -> "),
        "roles": "\n".join(event["roles"]),
        "requires": "\n".join(event["requires"]),
    }


@sop.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def validate(file):
    """Check an SOP file: schema and logic (unknown states or roles, unreachable
    states, dead ends, unused checklist items, clocks on unknown events,
    duplicates, referral of serious offences). Every problem is printed at once
    as FILE:LINE:COLUMN: PATH: MESSAGE (exit 2); a valid file gets one line.

    \b
    Example:
      casechain sop validate sops/default.yaml
      casechain sop validate my-province.yaml
    """
    from casechain.services import sops

    r = sops.validate_file(file)
    based = f", extends {r['extends']}" if r["extends"] else ""
    click.echo(
        f"{r['file']}: valid SOP {r['sop']} ({r['states']} states, {r['events']} events, {r['checklist_items']} checklist items{based})"
    )


@sop.command("load")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def load(obj, file):
    """Load an SOP file into the database (admin): a new version of an SOP, or an
    office's own SOP. Loading the same version again changes nothing; a changed
    file under a version already loaded is refused.

    \b
    Example:
      casechain --as ADM-1 sop load punjab-v2.yaml
    """
    from casechain.services import admin

    r = obj.run(admin.load_sop_into_db, obj.actor, file)
    click.echo(f"SOP {r['sop']} {'loaded' if r['new'] else 'already loaded (unchanged)'}")


@sop.command("migrate")
@click.option("--from", "from_key", required=True, metavar="NAME@V", help="the version the cases follow now")
@click.option("--to", "to_key", required=True, metavar="NAME@V", help="the newer version; its file declares migrates_from")
@click.option("--dry-run", is_flag=True, help="only show what would happen; change nothing")
@format_option("table", "json")
@click.pass_obj
def migrate(obj, from_key, to_key, dry_run, fmt):
    """Move cases in flight to a newer version of their SOP (admin), by the state
    mapping in the new version's file (migrates_from: {version: V, states:
    {old: new}}; a state not listed keeps its name). Lists per case the new
    state and the checklist items that become required and are not done.
    Closed cases stay on their version. If any case cannot be mapped, nothing
    moves (exit 1). Each moved case gets a sop_migrate audit event.

    \b
    Example:
      casechain --as ADM-1 sop migrate --from punjab@1 --to punjab@2 --dry-run
      casechain --as ADM-1 sop migrate --from punjab@1 --to punjab@2
    """
    from casechain.services import sops

    r = obj.run(sops.migrate, obj.actor, from_key, to_key, dry_run)
    if fmt == "json":
        write(to_json(r))
        return
    if r["cases"]:
        rows = [
            {**c, "to_state": c["to_state"] or "-", "problem": c["problem"] or ""}
            for c in r["cases"]
        ]
        write(to_table(rows, ["ref", "from_state", "to_state", "newly_required", "items_not_in_new_sop", "problem"], title=f"{r['from']} -> {r['to']}"))
    stay = f"; {r['closed_cases_stay']} closed case(s) stay on {r['from']}" if r["closed_cases_stay"] else ""
    if dry_run:
        verdict = (
            f"{r['cannot_move']} cannot be mapped, so nothing would be migrated"
            if r["cannot_move"]
            else "all can be migrated"
        )
        click.echo(f"dry run: {len(r['cases'])} case(s) in flight on {r['from']}; {verdict}{stay}; nothing was changed")
    else:
        click.echo(f"{r['migrated']} case(s) migrated from {r['from']} to {r['to']}{stay}")
