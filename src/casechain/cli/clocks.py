"""case pause/resume/extend: statutory clocks, where the SOP allows."""

from __future__ import annotations

import click

from casechain.cli.cases import at_option, case, if_version

accused_option = click.option("--accused", metavar="NAME", help="for clocks kept per accused (custody)")
late_option = click.option("--late-reason", metavar="TEXT", help="why this is recorded long after --at (needed past the SOP's late_entry_hours)")


def _said(r: dict, what: str) -> str:
    return f"{r['ref']}: clock {r['clock']} {what}; due {r['due_local']} (version {r['version']})"


@case.command("pause")
@click.argument("ref")
@click.argument("clock")
@click.option("--reason", required=True, metavar="TEXT", help="the order that stays the clock, e.g. 'LHC stay order W.P. 123/2024'")
@accused_option
@at_option
@late_option
@if_version
@click.pass_obj
def pause(obj, ref, clock, reason, accused, at, late_reason, expected_version):
    """Pause a statutory clock (e.g. proceedings stayed by a court), if the SOP allows it.

    While paused the clock cannot be breached; on resume its deadline moves by
    the days paused (both the first and the last day count as paused).

    \b
    Example:
      casechain --as SP-1 case pause CLN/123/2024 challan --reason "LHC stay order 12-03-2024"
    """
    from casechain.services import clocks

    r = obj.run(clocks.pause, obj.actor, ref, clock, reason, accused, at, late_reason, expected_version)
    click.echo(f"{r['ref']}: clock {r['clock']} paused (version {r['version']})")


@case.command("resume")
@click.argument("ref")
@click.argument("clock")
@click.option("--note", metavar="TEXT", help="e.g. the order lifting the stay")
@accused_option
@at_option
@late_option
@if_version
@click.pass_obj
def resume(obj, ref, clock, note, accused, at, late_reason, expected_version):
    """Resume a paused clock; prints the new deadline.

    \b
    Example:
      casechain --as SP-1 case resume CLN/123/2024 challan --note "stay vacated"
    """
    from casechain.services import clocks

    r = obj.run(clocks.resume, obj.actor, ref, clock, accused, note, at, late_reason, expected_version)
    click.echo(_said(r, "resumed"))


@case.command("extend")
@click.argument("ref")
@click.argument("clock")
@click.option("--days", type=int, metavar="N", help="for clocks counted in days")
@click.option("--hours", type=int, metavar="N", help="for clocks counted in hours")
@click.option("--reason", required=True, metavar="TEXT")
@accused_option
@at_option
@late_option
@if_version
@click.pass_obj
def extend(obj, ref, clock, days, hours, reason, accused, at, late_reason, expected_version):
    """Extend a clock's deadline: only roles the SOP names, up to its max_extension.

    The default SOP lets nobody extend a statutory limit; an SOP with such a
    rule declares extendable_by and max_extension on the clock.

    \b
    Example:
      casechain --as SP-1 case extend CLN/123/2024 scrutiny --days 2 --reason "forensic report awaited"
    """
    from casechain.services import clocks

    r = obj.run(clocks.extend, obj.actor, ref, clock, reason, days, hours, accused, at, late_reason, expected_version)
    click.echo(_said(r, "extended"))
