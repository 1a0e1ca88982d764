"""memo REF KIND: the handover memos that travel with a case."""

from __future__ import annotations

import os

import click

from casechain.cli import cli
from casechain.cli.output import write


@cli.command("memo")
@click.argument("ref")
@click.argument("kind", metavar="KIND")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "pdf"]), default="md", show_default=True, help="md for e-mail and chat, html to print (A4); pdf is not available yet")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), help="write to FILE instead of the screen")
@click.option("--force", is_flag=True, help="overwrite FILE if it exists")
@click.option("--unredacted", is_flag=True, help="sensitive cases: print the names that are withheld (victim; juvenile accused) (roles the SOP allows; recorded in the audit trail)")
@click.pass_obj
def memo(obj, ref, kind, fmt, output, force, unredacted):
    """Write a handover memo for a case.

    \b
    KIND is one of:
      forwarding        police report forwarded through the prosecutor, with checklist evidence
      deficiency        the prosecutor's return memo: latest round's defects and the reply date
      court-submission  what is filed in court: accused, sections, witnesses, documents
      interim-report    s.173 interim report: reasons for delay, days since the FIR

    Each memo carries the FIR particulars, the officers, the time it was made
    and the case's audit head hash, so a paper copy can be matched to the
    record. In sgbv and juvenile cases (the SOP's sensitive flags) the
    complainant is shown by initials and the name is removed from free text;
    in juvenile cases each accused is "Accused N (juvenile)" (Juvenile Justice
    System Act 2018).
    Offices change the wording by putting their own copy of a template (same
    file name, e.g. forwarding.md.j2) in the folder named by CASECHAIN_TEMPLATES.

    \b
    Example:
      casechain --as SHO-1 memo CLN/123/2024 forwarding
      casechain --as PP-7 memo CLN/123/2024 deficiency --format html -o return.html
      casechain --as PP-7 memo CLN/77/2024 court-submission --unredacted
    """
    from casechain.domain.errors import BadInput
    from casechain.services import memos as svc

    if output and os.path.exists(output) and not force:  # before an --unredacted memo is recorded
        raise BadInput(f"{output} exists: choose another file or add --force to overwrite it")
    text = obj.run(svc.memo, obj.actor, ref, kind, fmt, unredacted, readonly=not unredacted)
    write(text, output, force)
