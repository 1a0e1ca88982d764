"""The casechain command line: parse, call one service, print.

Heavy libraries (SQLAlchemy, pydantic, transitions, rich) are imported inside
commands, so ``casechain --help`` stays quick on an old district laptop.
Every error a user can cause becomes one line on stderr and an exit code from
CLI.md; never a traceback.
"""

from __future__ import annotations

import sys

import click

from casechain.cli.errors import run_guarded


class Ctx:
    """What every command gets: the database and who is acting."""

    def __init__(self, db: str | None, actor: str | None):
        self.db = db
        self.actor = actor

    def uow(self, readonly: bool = False):
        from casechain.bootstrap import unit_of_work

        return unit_of_work(self.db, readonly=readonly)

    def run(self, action, *args, readonly: bool = False, **kwargs):
        """Call one service in its own unit of work."""
        with self.uow(readonly=readonly) as uow:
            return action(uow, *args, **kwargs)


class GuardedGroup(click.Group):
    def invoke(self, ctx):
        return run_guarded(lambda: super(GuardedGroup, self).invoke(ctx))


@click.group(cls=GuardedGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", envvar="CASECHAIN_DB", metavar="URL", help="SQLAlchemy URL or SQLite file path [env CASECHAIN_DB; default: a file in your user data folder]")
@click.option("--as", "actor", envvar="CASECHAIN_USER", metavar="BADGE", help="badge number of the officer acting [env CASECHAIN_USER]")
@click.version_option(package_name="casechain")
@click.pass_context
def cli(ctx, db, actor):
    """casechain: one shared, auditable record per criminal case, from FIR to court.

    Investigation officers log stages and tick SOP checklist items, prosecutors
    flag deficiencies and return or file reports, supervisors check compliance.

    \b
    Example:
      casechain demo
      casechain --as IO-101 checklist tick CLN/123/2024 site_plan --evidence "SP-7, 3 Mar"
    """
    ctx.obj = Ctx(db, actor)


def main():
    try:
        cli.main(prog_name="casechain")
    except KeyboardInterrupt:
        click.echo("interrupted: nothing was changed by the unfinished command", err=True)
        sys.exit(130)


from casechain.cli import admin, audit, cases, checklist, clocks, custody, deficiency, demo, memo, report, sop, transfer  # noqa: E402,F401  (registers commands)
