"""report compliance/overdue/oversight: what supervisors and oversight bodies read."""

from __future__ import annotations

import click

from casechain.cli import cli
from casechain.cli.output import emit, to_csv, to_json, to_table, write

REPORT_FORMATS = ("table", "json", "csv", "html")


def report_output(f):
    f = click.option("--force", is_flag=True, help="overwrite FILE if it exists")(f)
    f = click.option("-o", "--output", "output", type=click.Path(dir_okay=False), help="write to FILE instead of the screen")(f)
    f = click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True, help="html: one self-contained file with charts")(f)
    return click.option("--as-of", metavar="DATE", help="judge every clock at this instant (a date means the end of that day); default now")(f)


period_options = [
    click.option("--from", "date_from", metavar="DATE", help="FIRs reported on or after DATE"),
    click.option("--to", "date_to", metavar="DATE", help="FIRs reported on or before DATE"),
]


def _period(f):
    for opt in reversed(period_options):
        f = opt(f)
    return f


def _read(obj, service, *args):
    """Run a report service on a read-only connection (``services.reports.reader``:
    no ORM to import, so the command starts quickly)."""
    from casechain.services import reports

    with reports.reader(obj.db) as rd:
        return service(rd, *args)


def _clock_columns(view: dict) -> list[str]:
    return [f"{c['name']}_{s}" for c in view["clocks"] for s in ("met", "breached", "pending", "rate")]


def _out(view: dict, columns: list[str], table_columns: list[str], fmt: str, output, force, html, title: str) -> None:
    rows = view["rows"]
    if fmt == "json":
        write(to_json(rows), output, force)
    elif fmt == "csv":
        write(to_csv(rows, columns), output, force)
    elif fmt == "html":
        write(html(view, columns), output, force)
    else:
        write(to_table(rows, table_columns, title=title), output, force)


@cli.group()
def report():
    """Reports for supervisors and oversight bodies (read-only, reproducible with --as-of).

    \b
    Example:
      casechain report compliance --by station --as-of 2024-03-31
      casechain report overdue
    """


@report.command("compliance")
@click.option("--by", type=click.Choice(["district", "station", "io", "prosecutor"]), default="district", show_default=True)
@_period
@report_output
@click.pass_obj
def compliance(obj, by, date_from, date_to, as_of, fmt, output, force):
    """SOP compliance per group: cases, and for each statutory clock how many
    were met, breached and pending, and the rate met / (met + breached); also
    deficiency rounds per case, mean days the file was held by police and by
    prosecution, overrides, late entries, pauses and extensions.

    \b
    Example:
      casechain report compliance --by station --from 2024-01-01 --to 2024-03-31
      casechain report compliance --by district --format html -o march.html
    """
    from casechain.services import reports

    view = _read(obj, reports.compliance, by, date_from, date_to, as_of)
    columns = ["group", "cases", *_clock_columns(view), *COMPLIANCE_FIGURES]
    if fmt == "table":
        write(_compliance_table(view, COMPLIANCE_FIGURES), output, force)
        return
    from casechain.report_html import compliance_html

    _out(view, columns, columns, fmt, output, force, compliance_html, "")


COMPLIANCE_FIGURES = ["deficiency_rounds", "police_days", "prosecution_days", "overrides", "late_entries", "pauses", "extensions"]


def _compliance_table(view: dict, figures: list[str]) -> str:
    """One screen: per clock the rate and, in brackets, how many were breached;
    clocks nobody has started and figures that are all zero are left out."""
    rows_in = view["rows"] + [view["total"]]
    total = view["total"]
    used = [c["name"] for c in view["clocks"] if any(total[f"{c['name']}_{s}"] for s in ("met", "breached", "pending"))]
    shown = [f for f in figures if any(r[f] for r in rows_in)]
    rows = []
    for r in rows_in:
        row = {"group": r["group"], "cases": r["cases"]}
        for n in used:
            rate = r[f"{n}_rate"]
            row[n] = ("–" if rate is None else f"{rate:.0%}") + (f" ({r[f'{n}_breached']})" if r[f"{n}_breached"] else "")
        row.update({k: r[k] for k in shown})
        rows.append(row)
    title = f"Compliance by {view['by']} as of {view['as_of_local']}: % on time (breached)"
    return to_table(rows, ["group", "cases", *used, *shown], title=title)


@report.command("overdue")
@click.option("--within", "within_hours", type=float, default=24.0, show_default=True, metavar="HOURS", help="also list clocks falling due within HOURS")
@report_output
@click.pass_obj
def overdue(obj, within_hours, as_of, fmt, output, force):
    """Every running statutory clock that is breached or falls due within 24
    hours: the case, the accused where relevant, the officer responsible and
    the hours over (negative: hours left). Most overdue first.

    \b
    Example:
      casechain report overdue --as-of 2024-03-20 --format json
    """
    from casechain.report_html import overdue_html
    from casechain.services import reports

    view = _read(obj, reports.overdue, as_of, within_hours)
    columns = ["ref", "clock", "accused", "responsible_role", "responsible", "station", "district", "due", "due_local", "hours_over", "status"]
    table_cols = ["ref", "clock", "accused", "responsible", "due_local", "hours_over", "status"]
    _out(view, columns, table_cols, fmt, output, force, overdue_html, f"Overdue as of {view['as_of_local']} ({len(view['rows'])} clock{'' if len(view['rows']) == 1 else 's'})")


@report.command("oversight")
@_period
@click.option("--suppress-below", type=int, default=5, show_default=True, metavar="N", help="hide counts from 1 to N-1")
@report_output
@click.pass_obj
def oversight(obj, date_from, date_to, suppress_below, as_of, fmt, output, force):
    """Aggregate, de-identified figures per district and FIR month for a
    human-rights task force: counts and rates of each clock and custody-limit
    breaches. No names, no FIR numbers, no stations; small counts (below 5)
    are suppressed (null in JSON, "<5" in tables), with the rates built on them.

    \b
    Example:
      casechain report oversight --from 2024-01-01 --to 2024-06-30 --format csv -o oversight.csv
    """
    from casechain.report_html import oversight_html
    from casechain.services import reports

    view = _read(obj, reports.oversight, date_from, date_to, as_of, suppress_below)
    columns = ["district", "month", "cases", *_clock_columns(view), "custody_breaches"]
    if fmt == "table":
        write(_oversight_table(view), output, force)
        return
    _out(view, columns, columns, fmt, output, force, oversight_html, "")


def _oversight_table(view: dict) -> str:
    """Per clock the rate on time; "<5" where a count is suppressed, "–" where nothing fell due."""
    below = view["suppress_below"]
    hidden = f"<{below}"
    used = [c["name"] for c in view["clocks"] if any(r[f"{c['name']}_{s}"] != 0 for r in view["rows"] for s in ("met", "breached", "pending"))]
    rows = []
    for r in view["rows"]:
        row = {"district": r["district"], "month": r["month"], "cases": hidden if r["cases"] is None else r["cases"]}
        for n in used:
            rate = r[f"{n}_rate"]
            if rate is not None:
                row[n] = f"{rate:.0%}"
            else:
                row[n] = f"({hidden})" if None in (r[f"{n}_met"], r[f"{n}_breached"]) else "–"
        row["custody breaches"] = hidden if r["custody_breaches"] is None else r["custody_breaches"]
        rows.append(row)
    title = f"Oversight as of {view['as_of_local']}: % on time per district and FIR month (counts below {below} withheld)"
    return to_table(rows, ["district", "month", "cases", *used, "custody breaches"], title=title)


__all__ = ["emit", "report"]
