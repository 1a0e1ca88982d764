"""case register/show/list/assign/events/advance/history."""

from __future__ import annotations

import click

from casechain.cli import cli
from casechain.cli.output import emit, format_option, output_options, to_json, to_table, write

if_version = click.option("--if-version", "expected_version", type=int, metavar="N", help="refuse (exit 3) unless the case is still at version N, as you last saw it")
at_option = click.option("--at", metavar="DATETIME", help="when it happened, if not now (ISO-8601, Pakistan time unless an offset is given)")


@cli.group()
def case():
    """Cases: register FIRs, assign IOs, move cases, read them.

    \b
    Example:
      casechain case show CLN/123/2024
      casechain --as IO-101 case advance CLN/123/2024 submit_challan
    """


@case.command("register")
@click.option("--station", required=True, metavar="CODE")
@click.option("--fir-no", required=True, type=int, metavar="N")
@click.option("--year", required=True, type=int, metavar="Y")
@click.option("--sections", required=True, metavar="LIST", help="PPC sections, comma-separated: 302,34")
@click.option("--occurred-at", required=True, metavar="DATETIME")
@click.option("--reported-at", required=True, metavar="DATETIME")
@click.option("--complainant", required=True, metavar="NAME")
@click.option("--accused", multiple=True, metavar="NAME", help="repeat for each accused")
@click.option("--flag", "flags", multiple=True, metavar="FLAG", help="sgbv, juvenile, terrorism, ... (repeatable)")
@click.option("--sop", metavar="NAME", help="SOP to follow (default: default)")
@click.pass_obj
def register(obj, station, fir_no, year, sections, occurred_at, reported_at, complainant, accused, flags, sop):
    """Register an FIR (s.154 CrPC); prints the case reference.

    \b
    Example:
      casechain --as SHO-1 case register --station CLN --fir-no 123 --year 2024 \\
        --sections 302,34 --occurred-at 2024-03-01T22:15 --reported-at 2024-03-02T01:10 \\
        --complainant "Muhammad Aslam" --accused "Bilal" --accused "Unknown (2)"
    """
    from casechain.services import cases

    r = obj.run(cases.register, obj.actor, station, fir_no, year, sections, occurred_at, reported_at, complainant, accused, flags, sop)
    click.echo(r["ref"])


def _show_table(view: dict) -> str:
    from casechain.domain.timeutil import local_text, parse_when

    when = lambda v: local_text(parse_when(v)) if v else ""  # noqa: E731
    head = [
        f"Case {view['ref']}  ({view['sop']})",
        f"  state:        {view['state']}" + (f"  (report: {view['report']}, round {view['round']})" if view["report"] else ""),
        f"  FIR:          {view['fir_no']}/{view['year']}, station {view['station']}, district {view['district']}",
        f"  sections:     {', '.join(view['sections'])}" + (f"   flags: {', '.join(view['flags'])}" if view["flags"] else ""),
        f"  complainant:  {view['complainant']}",
        f"  occurred:     {when(view['occurred_at'])};  reported: {when(view['reported_at'])}",
        f"  IO:           {view['io'] or '(not assigned)'}",
        f"  version:      {view['version']}  head {view['head_hash'][:16]}",
    ]
    parts = ["\n".join(head), ""]
    parts.append(to_table(view["checklist"], ["item", "status", "evidence", "text"], title="Checklist"))
    if view["deficiencies"]:
        parts.append(to_table(view["deficiencies"], ["id", "round", "code", "status", "detail", "response"], title="Deficiencies"))
    if view["clocks"]:
        clocks = [{**c, "due": c["due_local"], "met": when(c["met_at"]), "status": c["status"] + (" (paused)" if c["paused"] else "")} for c in view["clocks"]]
        parts.append(to_table(clocks, ["name", "accused", "due", "met", "status", "section"], title="Statutory clocks"))
    if view["custody"]:
        custody = [{**c, "since": when(c.get("since")), "until": when(c.get("until"))} for c in view["custody"]]
        parts.append(to_table(custody, ["accused", "status", "since", "until", "physical_days", "judicial_days"], title="Accused"))
    return "\n".join(parts)


@case.command("show")
@click.argument("ref")
@format_option("table", "json")
@click.pass_obj
def show(obj, ref, fmt):
    """Show a case: state, checklist, deficiencies, accused.

    \b
    Example:
      casechain case show CLN/123/2024 --format json
    """
    from casechain.services import cases

    view = obj.run(cases.show, ref, readonly=True)
    write(to_json(view) if fmt == "json" else _show_table(view))


@case.command("list")
@click.option("--state")
@click.option("--station", metavar="CODE")
@click.option("--district")
@click.option("--io", metavar="BADGE")
@click.option("--overdue", is_flag=True, help="only cases with a statutory clock past its deadline now")
@click.option("--limit", type=click.IntRange(min=1), metavar="N")
@output_options
@click.pass_obj
def list_(obj, state, station, district, io, overdue, limit, fmt, output, force):
    """List cases, filtered.

    \b
    Example:
      casechain case list --state under_scrutiny --district Lahore
      casechain case list --overdue --station CLN
    """
    from casechain.services import cases

    rows = obj.run(cases.list_cases, state, station, district, io, limit, overdue=overdue, readonly=True)
    if fmt == "table":
        from casechain.domain.timeutil import local_text, parse_when

        rows = [{**r, "reported_at": local_text(parse_when(r["reported_at"]))} for r in rows]
    emit(rows, fmt, ["ref", "state", "station", "io", "sections", "reported_at", "round", "version"], title="Cases", output=output, force=force)


@case.command("assign")
@click.argument("ref")
@click.option("--io", "io_badge", required=True, metavar="BADGE")
@at_option
@if_version
@click.pass_obj
def assign(obj, ref, io_badge, at, expected_version):
    """Make an IO responsible for the investigation (SHO or supervisor).

    \b
    Example:
      casechain --as SHO-1 case assign CLN/123/2024 --io IO-101
    """
    from casechain.services import cases

    r = obj.run(cases.assign, obj.actor, ref, io_badge, at, expected_version)
    click.echo(f"{r['ref']}: IO {r['io']} assigned (version {r['version']})")


@case.command("events")
@click.argument("ref")
@format_option("table", "json")
@click.option("--all", "show_all", is_flag=True, help="also list moves that are not possible from this state")
@click.pass_obj
def events(obj, ref, fmt, show_all):
    """Which moves the acting officer may make now, and why the others are blocked.

    \b
    Example:
      casechain --as IO-101 case events CLN/123/2024
    """
    from casechain.services import cases

    view = obj.run(cases.events, obj.actor, ref, readonly=True)
    if fmt == "json":
        write(to_json(view))
        return
    rows = []
    for e in view["events"]:
        here = not any(" cannot be applied to a case in state " in b for b in e["blocked_by"])
        if here or show_all:
            name = e["event"] + (f" --outcome {e['outcome']}" if e["outcome"] else "")
            rows.append({"event": name, "to": e["to"], "allowed": e["allowed"], "why not": "\n".join(e["blocked_by"])})
    title = f"{view['ref']} is {view['state']}: moves for {view['actor']} ({view['role']})"
    write(to_table(rows, ["event", "to", "allowed", "why not"], title=title) if rows else f"{title}: none (the case is closed)")


@case.command("advance")
@click.argument("ref")
@click.argument("event")
@click.option("--outcome", help="for events with several outcomes, e.g. record_verdict --outcome convicted")
@click.option("--note", metavar="TEXT")
@at_option
@click.option("--override", metavar="REASON", help="supervisor: go ahead despite unmet checklist items or open deficiencies (recorded)")
@click.option("--late-reason", metavar="TEXT", help="why the step is recorded long after --at (needed past the SOP's late_entry_hours)")
@if_version
@click.pass_obj
def advance(obj, ref, event, outcome, note, at, override, late_reason, expected_version):
    """Move a case by an SOP event, if the rules allow it.

    \b
    Example:
      casechain --as IO-101 case advance CLN/123/2024 submit_challan
      casechain --as PP-7 case advance CLN/123/2024 record_verdict --outcome convicted
    """
    from casechain.services import cases

    r = obj.run(cases.advance, obj.actor, ref, event, note, at, override, outcome, expected_version, late_reason=late_reason)
    waived = f"; waived by override: {', '.join(r['waived'])}" if r["waived"] else ""
    click.echo(f"{r['ref']}: {r['from']} -> {r['to']} by {r['event']} (version {r['version']}){waived}")


@case.command("history")
@click.argument("ref")
@output_options
@click.pass_obj
def history(obj, ref, fmt, output, force):
    """The audit trail of a case, oldest first.

    \b
    Example:
      casechain case history CLN/123/2024 --format json
    """
    from casechain.services import cases

    rows = obj.run(cases.history, ref, readonly=True)
    if fmt == "table":
        from casechain.domain.timeutil import local_text, parse_when

        for r in rows:
            r["when"] = local_text(parse_when(r["occurred_at"]))
            r["what"] = " ".join(f"{k}={v}" for k, v in r["payload"].items() if k not in ("ref",)) if r["action"] != "register" else "FIR registered"
            r["hash"] = r["hash"][:12]
        emit(rows, fmt, ["seq", "when", "action", "actor", "what", "hash"], title=f"History of {ref}", output=output, force=force)
    else:
        emit(rows, fmt, ["ref", "seq", "action", "actor", "occurred_at", "recorded_at", "payload", "hash"], output=output, force=force)


@case.command("rounds")
@click.argument("ref")
@output_options
@click.pass_obj
def rounds(obj, ref, fmt, output, force):
    """Scrutiny rounds: when the report went to the prosecutor, when it came
    back, the deficiencies raised, and the days each side held the file.

    \b
    Example:
      casechain case rounds CLN/123/2024
    """
    from casechain.services import rounds as svc

    view = obj.run(svc.rounds, ref, readonly=True)
    if fmt == "json":
        write(to_json(view), output, force)
        return
    cols = ["round", "report", "submitted_at", "submitted_by", "ended_with", "ended_at", "days_with_prosecution", "days_back_with_police", "deficiencies"]
    if fmt == "csv":
        emit(view["rounds"], fmt, cols, output=output, force=force)
        return
    from casechain.domain.timeutil import local_text, parse_when

    rows = [{**r, "submitted_at": local_text(parse_when(r["submitted_at"])), "ended_at": local_text(parse_when(r["ended_at"])) if r["ended_at"] else "still there"} for r in view["rounds"]]
    held = ", ".join(f"{k} {v} days" for k, v in view["days_held"].items())
    write(to_table(rows, cols, title=f"{view['ref']} ({view['state']}): held by {held}"), output, force)
