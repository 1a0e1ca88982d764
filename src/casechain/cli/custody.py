"""custody arrest/produce/remand/release/proclaim/show: per accused."""

from __future__ import annotations

import click

from casechain.cli import cli
from casechain.cli.output import emit, output_options

at_option = click.option("--at", metavar="DATETIME", help="when it happened, if not now (ISO-8601, Pakistan time unless an offset is given)")
accused_option = click.option("--accused", required=True, metavar="NAME", help="the accused as named in the FIR")
late_option = click.option("--late-reason", metavar="TEXT", help="why this is recorded long after --at (needed past the SOP's late_entry_hours)")
if_version = click.option("--if-version", "expected_version", type=int, metavar="N", help="refuse (exit 3) unless the case is still at version N")


def _said(r: dict) -> str:
    until = ""
    if r.get("until"):
        from casechain.domain.timeutil import local_text, parse_when

        until = f" until {local_text(parse_when(r['until']))}"
    return f"{r['ref']}: {r['accused']} {r['status'].replace('_', ' ')}{until} (version {r['version']})"


@cli.group()
def custody():
    """Custody of each accused: the 24-hour production rule and remand limits.

    \b
    Example:
      casechain --as IO-101 custody arrest CLN/123/2024 --accused Bilal
      casechain --as IO-101 custody remand CLN/123/2024 --accused Bilal --kind physical --days 7
    """


@custody.command("arrest")
@click.argument("ref")
@accused_option
@at_option
@late_option
@if_version
@click.pass_obj
def arrest(obj, ref, accused, at, late_reason, expected_version):
    """Record an arrest; the production clock (24 hours, Art.10(2)) starts.

    \b
    Example:
      casechain --as IO-101 custody arrest CLN/123/2024 --accused Bilal --at 2024-03-02T09:30
    """
    from casechain.services import custody as svc

    click.echo(_said(obj.run(svc.arrest, obj.actor, ref, accused, at, late_reason, expected_version)))


@custody.command("produce")
@click.argument("ref")
@accused_option
@click.option("--court", required=True, metavar="TEXT", help="the Magistrate or court, e.g. 'Judicial Magistrate Sec.30, Lahore'")
@at_option
@late_option
@if_version
@click.pass_obj
def produce(obj, ref, accused, court, at, late_reason, expected_version):
    """Record that an accused in custody was produced before a Magistrate.

    \b
    Example:
      casechain --as IO-101 custody produce CLN/123/2024 --accused Bilal --court "JM Lahore"
    """
    from casechain.services import custody as svc

    click.echo(_said(obj.run(svc.produce, obj.actor, ref, accused, court, at, late_reason, expected_version)))


@custody.command("remand")
@click.argument("ref")
@accused_option
@click.option("--kind", required=True, type=click.Choice(["physical", "judicial"]), help="physical (police, s.167) or judicial (s.344)")
@click.option("--days", required=True, type=int, metavar="N", help="days ordered")
@at_option
@click.option("--override", metavar="REASON", help="supervisor: record an order beyond the SOP's limit (reported)")
@late_option
@if_version
@click.pass_obj
def remand(obj, ref, accused, kind, days, at, override, late_reason, expected_version):
    """Record a remand order; refused beyond the SOP's limits (physical: 15 days
    in the whole per accused, s.167; judicial: 15 days per order, s.344).

    \b
    Example:
      casechain --as IO-101 custody remand CLN/123/2024 --accused Bilal --kind physical --days 7
    """
    from casechain.services import custody as svc

    click.echo(_said(obj.run(svc.remand, obj.actor, ref, accused, kind, days, at, override, late_reason, expected_version)))


@custody.command("release")
@click.argument("ref")
@accused_option
@click.option("--reason", required=True, type=click.Choice(["bail", "discharge", "acquittal", "other"]))
@click.option("--note", metavar="TEXT", help="e.g. the bail order")
@at_option
@late_option
@if_version
@click.pass_obj
def release(obj, ref, accused, reason, note, at, late_reason, expected_version):
    """Record that an accused left custody.

    \b
    Example:
      casechain --as IO-101 custody release CLN/123/2024 --accused Bilal --reason bail
    """
    from casechain.services import custody as svc

    click.echo(_said(obj.run(svc.release, obj.actor, ref, accused, reason, at, note, late_reason, expected_version)))


@custody.command("proclaim")
@click.argument("ref")
@accused_option
@click.option("--appear-by", metavar="DATE", help="the appearance date in the proclamation (default: the earliest the SOP allows, 30 days under s.87)")
@click.option("--at", metavar="DATETIME", help="when the proclamation was published, if not now")
@click.option("--override", metavar="REASON", help="supervisor: record a shorter period than the SOP allows (reported)")
@late_option
@if_version
@click.pass_obj
def proclaim(obj, ref, accused, appear_by, at, override, late_reason, expected_version):
    """Record the proclamation of an absconding accused (CrPC s.87).

    \b
    Example:
      casechain --as IO-101 custody proclaim CLN/123/2024 --accused "Unknown (2)" --appear-by 2024-04-20
    """
    from casechain.services import custody as svc

    click.echo(_said(obj.run(svc.proclaim, obj.actor, ref, accused, appear_by, at, override, late_reason, expected_version)))


@custody.command("show")
@click.argument("ref")
@output_options
@click.pass_obj
def show(obj, ref, fmt, output, force):
    """Every custody entry of a case, oldest first.

    \b
    Example:
      casechain custody show CLN/123/2024 --format json
    """
    from casechain.services import custody as svc

    rows = obj.run(svc.history, ref, readonly=True)
    emit(rows, fmt, ["accused", "act", "at", "kind", "days", "until", "court", "reason", "override", "by"], title=f"Custody of {ref}", output=output, force=force)
