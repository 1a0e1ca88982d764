"""audit verify."""

from __future__ import annotations

import click

from casechain.cli import cli


@cli.group()
def audit():
    """The hash-chained audit trail.

    \b
    Example:
      casechain audit verify
      casechain audit verify CLN/123/2024
    """


@audit.command("verify")
@click.argument("ref", required=False)
@click.pass_obj
def verify(obj, ref):
    """Recompute every hash chain (or one case's); exit 4 at the first broken link.

    \b
    Example:
      casechain audit verify
    """
    from casechain.services import audit as svc

    r = obj.run(svc.verify, ref, readonly=True)
    click.echo(f"audit trail intact: {r['cases']} case(s), {r['events']} event(s) verified")
