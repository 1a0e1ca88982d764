"""init, station add/list, officer add/list."""

from __future__ import annotations

import click

from casechain.cli import cli
from casechain.cli.output import emit, output_options


@cli.command()
@click.option("--admin", "admin_badge", metavar="BADGE", help="create this first admin officer")
@click.option("--name", "admin_name", metavar="NAME", help="the admin's name")
@click.pass_obj
def init(obj, admin_badge, admin_name):
    """Create or upgrade the database and load the shipped SOPs (safe to run again).

    \b
    Example:
      casechain init --admin ADM-1 --name "System Admin"
    """
    from casechain.services import admin

    if admin_badge and not admin_name:
        raise click.UsageError("--admin needs --name")
    result = obj.run(admin.init, admin_badge, admin_name)
    loaded = ", ".join(result["sops_loaded"]) or "none new"
    click.echo(f"database ready; SOPs loaded: {loaded}; admins: {', '.join(result['admins']) or 'none (use --admin)'}")


@cli.group()
def station():
    """Police stations.

    \b
    Example:
      casechain --as ADM-1 station add CLN --name "PS Civil Lines" --district Lahore
      casechain station list
    """


@station.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--district", required=True, help="district of Pakistan, e.g. Lahore, Karachi South, Quetta")
@click.pass_obj
def station_add(obj, code, name, district):
    """Add a police station (admin).

    \b
    Example:
      casechain --as ADM-1 station add CLN --name "PS Civil Lines" --district Lahore
    """
    from casechain.services import admin

    r = obj.run(admin.add_station, obj.actor, code, name, district)
    click.echo(f"station {r['code']} added ({r['district']}, {r['province']})")


@station.command("list")
@output_options
@click.pass_obj
def station_list(obj, fmt, output, force):
    """List police stations.

    \b
    Example:
      casechain station list --format csv
    """
    from casechain.services import admin

    emit(obj.run(admin.list_stations, readonly=True), fmt, title="Stations", output=output, force=force)


@cli.group()
def officer():
    """Officers and their roles.

    \b
    Example:
      casechain --as ADM-1 officer add PP-7 --name "ADPP Sana" --role prosecutor --district Lahore
      casechain officer list --role io
    """


@officer.command("add")
@click.argument("badge")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["io", "sho", "prosecutor", "supervisor", "admin"]))
@click.option("--district", required=True)
@click.option("--station", help="police roles (io, sho) only")
@click.pass_obj
def officer_add(obj, badge, name, role, district, station):
    """Add an officer (admin).

    \b
    Example:
      casechain --as ADM-1 officer add IO-101 --name "SI Asif Khan" --role io --district Lahore --station CLN
    """
    from casechain.services import admin

    r = obj.run(admin.add_officer, obj.actor, badge, name, role, district, station)
    where = r["station"] or r["district"] or "all districts"
    click.echo(f"officer {r['badge']} added as {r['role']} ({where})")


@officer.command("list")
@click.option("--role")
@click.option("--district")
@output_options
@click.pass_obj
def officer_list(obj, role, district, fmt, output, force):
    """List officers.

    \b
    Example:
      casechain officer list --role prosecutor --format json
    """
    from casechain.services import admin

    emit(obj.run(admin.list_officers, role, district, readonly=True), fmt, title="Officers", output=output, force=force)
