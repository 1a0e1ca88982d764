"""The SOP model: a province's agreed police-prosecution procedure, as data.

An SOP (Standard Operating Procedure) names the states a case passes through,
the events that move it (who may fire them, which checklist items they need,
on which offences or flags they apply), the checklist items themselves, the
deficiency codes a prosecutor may raise at scrutiny, and the statutory clocks.
Files in ``sops/`` are validated into these models; nothing in Python restates
the flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from casechain.domain.roles import Role

NAME = r"^[a-z][a-z0-9_]*$"
ReportKind = Literal["challan", "interim", "cancellation"]


class _Strict(BaseModel):
    # Unknown keys are typos in a legal procedure: reject them.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, coerce_numbers_to_str=True)


def section_base(section: str) -> str:
    """'302(b)' -> '302', '337-A(i)' -> '337-A': the PPC section without sub-clause."""
    return section.split("(", 1)[0].strip().upper()


@dataclass(frozen=True)
class CaseFacts:
    """What the guards may look at: the case as it stands, nothing else."""

    state: str
    station: str
    district: str
    io: str | None
    sections: tuple[str, ...]
    flags: frozenset[str]
    report: str | None
    checklist: dict[str, str]  # item id -> "done" | "na"
    open_deficiencies: int = 0
    unanswered_deficiencies: int = 0


class Condition(_Strict):
    """When an event or checklist item applies; every given part must hold."""

    sections_any: list[str] = Field(default_factory=list, description="any of these PPC sections is charged")
    sections_all_in: list[str] = Field(
        default_factory=list,
        description="every charged section is one of these, written exactly as charged (302(b) is not 302; 506(ii) is not 506)",
    )
    flags_any: list[str] = Field(default_factory=list, description="the case carries one of these flags")
    flags_none: list[str] = Field(default_factory=list, description="the case carries none of these flags")
    reports: list[ReportKind] = Field(default_factory=list, description="the last report submitted is one of these")
    io_assigned: bool | None = Field(default=None, description="an IO is (or is not) assigned")

    def failures(self, facts: CaseFacts) -> list[str]:
        out = []
        if self.sections_any:
            wanted = {section_base(s) for s in self.sections_any}
            if not wanted & {section_base(s) for s in facts.sections}:
                out.append(f"applies only to sections {', '.join(self.sections_any)}")
        if self.sections_all_in:
            allowed = {s.strip().upper() for s in self.sections_all_in}
            outside = [s for s in facts.sections if s.strip().upper() not in allowed]
            if outside:
                out.append(f"not for section(s) {', '.join(outside)} (allowed only when every section is one of {len(allowed)} listed in the SOP)")
        if self.flags_any and not set(self.flags_any) & facts.flags:
            out.append(f"applies only to cases flagged {' or '.join(self.flags_any)}")
        hit = set(self.flags_none) & facts.flags
        if hit:
            out.append(f"not for cases flagged {', '.join(sorted(hit))}")
        if self.reports and facts.report not in self.reports:
            out.append(f"needs a {' or '.join(self.reports)} report (case has: {facts.report or 'none'})")
        if self.io_assigned is True and not facts.io:
            out.append("no IO is assigned yet (case assign REF --io BADGE)")
        if self.io_assigned is False and facts.io:
            out.append(f"an IO ({facts.io}) is already assigned")
        return out

    def holds(self, facts: CaseFacts) -> bool:
        return not self.failures(facts)


class State(_Strict):
    name: str = Field(pattern=NAME)
    description: str = ""
    initial: bool = False
    terminal: bool = False
    holder: Literal["police", "prosecution", "court"] | None = Field(
        default=None, description="who holds the file in this state (for days-held figures)"
    )


class Outcome(_Strict):
    to: str
    when: Condition = Field(default_factory=Condition)


class Event(_Strict):
    """A move between states. ``to`` for a single destination, ``outcomes``
    where the user names the result (a verdict: convicted or acquitted)."""

    name: str = Field(pattern=NAME)
    description: str = ""
    sources: list[str] = Field(alias="from", min_length=1)
    to: str | None = None
    outcomes: dict[str, Outcome] = Field(default_factory=dict)
    roles: list[Role] = Field(min_length=1)
    requires: list[str] = Field(default_factory=list, description="checklist items that must be ticked or N/A")
    when: Condition = Field(default_factory=Condition)
    report: ReportKind | None = Field(default=None, description="the police report this event submits")
    deficiencies: Literal["none_open", "some_open", "all_answered"] | None = None
    override_roles: list[Role] = Field(default_factory=lambda: [Role.SUPERVISOR])
    note_required: bool = False
    new_round: bool = Field(default=False, description="returns the file to police: a new scrutiny round begins")
    referral: bool = Field(
        default=False,
        description="refers the case out of the trial track (ADR, reconciliation): `when.sections_all_in` must list the "
        "eligible sections, none of them serious (SERIOUS_SECTIONS and the SOP's serious_sections)",
    )

    @field_validator("outcomes", mode="before")
    @classmethod
    def _short_outcomes(cls, v):
        # `convicted: closed_convicted` is shorthand for `convicted: {to: closed_convicted}`.
        if isinstance(v, dict):
            return {k: ({"to": o} if isinstance(o, str) else o) for k, o in v.items()}
        return v

    def destinations(self) -> list[tuple[str | None, Outcome]]:
        """(outcome name or None, Outcome) for each way this event can end."""
        if self.outcomes:
            return list(self.outcomes.items())
        return [(None, Outcome(to=self.to or ""))]


class ChecklistItem(_Strict):
    id: str = Field(pattern=NAME)
    step: str = Field(description="the stage the item belongs to, e.g. investigation, challan")
    text: str
    applies_when: Condition = Field(default_factory=Condition)
    na_allowed: bool = False
    hint: str = Field(default="", description="what counts as evidence")


class DeficiencyCode(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    text: str
    item: str | None = Field(default=None, description="checklist item the deficiency concerns")
    detail_required: bool = False


class Duration(_Strict):
    days: int | None = Field(default=None, ge=0)
    hours: int | None = Field(default=None, ge=0)


#: What custody actions a clock may start on or be met by (``custody.remand``
#: matches either kind of remand; ``custody.remand.physical`` only one).
CUSTODY_TRIGGERS = frozenset(
    {
        "custody.arrest",
        "custody.produce",
        "custody.remand",
        "custody.remand.physical",
        "custody.remand.judicial",
        "custody.release",
        "custody.proclaim",
    }
)


class ClockSpec(_Strict):
    """A statutory time limit: what starts it, how long it runs, what meets it.

    Arithmetic and the day-counting convention are in ``domain/clocks.py``.
    """

    name: str = Field(pattern=NAME)
    title: str
    section: str = Field(description="the law that sets the limit")
    starts_on: list[str] = Field(min_length=1, description="events or custody actions that start (a new instance of) the clock")
    limit: Duration
    met_by: list[str] = Field(default_factory=list)
    applies_when: Condition = Field(default_factory=Condition)
    confirmed: bool = Field(default=True, description="false: a configurable default, not confirmed in the statute")
    pausable: bool = False
    pause_roles: list[Role] = Field(
        default_factory=lambda: [Role.SHO, Role.PROSECUTOR, Role.SUPERVISOR],
        description="who may record a stay (pause) and its end (resume)",
    )
    extendable_by: list[Role] = Field(default_factory=list)
    max_extension: Duration | None = None
    per: Literal["case", "accused"] = Field(default="case", description="accused: one clock per accused (custody)")
    kind: Literal["deadline", "minimum"] = Field(
        default="deadline", description="deadline: act by the due time; minimum: a period that must run before the next step"
    )
    limit_from: Literal["sop", "order"] = Field(
        default="sop", description="order: the clock runs for the days a court ordered; `limit` is then the cap per order"
    )
    max_total: Duration | None = Field(default=None, description="cap on all orders of this clock for one accused (s.167 'in the whole')")
    holidays: Literal["count", "next_working_day", "skip"] = Field(
        default="count",
        description="count: holidays count like any day; next_working_day: a last day on a holiday moves to the next working day; skip: only working days count",
    )
    responsible: Literal["io", "sho", "prosecutor"] = Field(default="io", description="whose task it is to meet the clock (report overdue)")
    override_roles: list[Role] = Field(default_factory=lambda: [Role.SUPERVISOR], description="who may record an order beyond the limit, with a reason")

    @field_validator("starts_on", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, str) else v


#: Offences never eligible for referral out of the trial track (ADR,
#: reconciliation), whatever an SOP says: a floor SOPs can raise
#: (``serious_sections``) but not lower. Compared on the base section.
SERIOUS_SECTIONS = frozenset(
    {"302", "316", "324", "336-B", "354-A", "364", "364-A", "365-A", "365-B", "375-A", "376", "377", "377-B", "395", "396", "397"}
)


class Migration(_Strict):
    """How cases of an earlier version of the same SOP move to this one."""

    version: int = Field(ge=1, description="the earlier version whose cases may move to this one")
    states: dict[str, str] = Field(
        default_factory=dict, description="old state -> new state; a state not listed keeps its name if this version has it"
    )


class Sop(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    version: int = Field(ge=1)
    title: str
    province: str | None = None
    description: str = ""
    sensitive_flags: list[str] = Field(default_factory=list, description="flags whose victims' identity is protected")
    unredacted_roles: list[Role] = Field(
        default_factory=lambda: [Role.PROSECUTOR, Role.SUPERVISOR],
        description="roles that may produce a memo of a sensitive case with the victim's name (recorded in the audit trail)",
    )
    states: list[State] = Field(min_length=2)
    events: list[Event] = Field(min_length=1)
    checklist: list[ChecklistItem] = Field(default_factory=list)
    checklist_open_in: list[str] = Field(default_factory=list, description="states in which police may change the checklist")
    scrutiny_states: list[str] = Field(default_factory=list, description="states in which the prosecutor flags and resolves deficiencies")
    deficiency_codes: list[DeficiencyCode] = Field(default_factory=list)
    clocks: list[ClockSpec] = Field(default_factory=list)
    calendar: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_-]*$", description="holiday calendar (sops/calendars/NAME.yaml) for clocks that exclude holidays")
    custody_roles: list[Role] = Field(
        default_factory=lambda: [Role.IO, Role.SHO, Role.SUPERVISOR], description="who records arrests, productions, remands, releases"
    )
    late_entry_hours: int | None = Field(
        default=24, ge=0, description="an entry recorded more than this many hours after it happened is marked late and needs a reason"
    )
    serious_sections: list[str] = Field(
        default_factory=list, description="more sections never eligible for referral, on top of the built-in SERIOUS_SECTIONS"
    )
    migrates_from: Migration | None = Field(default=None, description="state mapping for `sop migrate` from an earlier version")

    def clock(self, name: str) -> ClockSpec | None:
        return next((c for c in self.clocks if c.name == name), None)

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def initial(self) -> str:
        return next(s.name for s in self.states if s.initial)

    def state(self, name: str) -> State | None:
        return next((s for s in self.states if s.name == name), None)

    def event(self, name: str) -> Event | None:
        return next((e for e in self.events if e.name == name), None)

    def item(self, item_id: str) -> ChecklistItem | None:
        return next((i for i in self.checklist if i.id == item_id), None)

    def deficiency(self, code: str) -> DeficiencyCode | None:
        return next((d for d in self.deficiency_codes if d.code == code), None)

    def required_by(self, item_id: str) -> list[str]:
        """The events that need the checklist item ticked (or not applicable), in SOP order."""
        return [e.name for e in self.events if item_id in e.requires]


def _dupes(field_name, names):
    """(path of each repeated declaration, name): the path points at the repeat."""
    seen, out = set(), []
    for i, n in enumerate(names):
        if n in seen:
            out.append((f"{field_name}[{i}]({n})", n))
        seen.add(n)
    return out


def sop_problems(sop: Sop, complete: bool = True) -> list[tuple[str, str]]:
    """Logic errors a schema cannot see, as (path, message), all at once.

    Paths name the element (``events[3](file_in_court).to``) so that the
    loader can point at its line. ``complete=False`` skips the checks that
    need every event (reachability, dead ends, unused items): the loader uses
    it when schema errors left some entries out.
    """
    problems: list[tuple[str, str]] = []
    add = lambda path, msg: problems.append((path, msg))  # noqa: E731
    state_names = [s.name for s in sop.states]
    states = set(state_names)
    items = {i.id for i in sop.checklist}
    events = {e.name for e in sop.events}

    for path, name in _dupes("states", state_names):
        add(path, f"state {name!r} is declared twice")
    for path, name in _dupes("events", [e.name for e in sop.events]):
        add(path, f"event {name!r} is declared twice")
    for path, name in _dupes("checklist", [i.id for i in sop.checklist]):
        add(path, f"checklist item {name!r} is declared twice")
    for path, name in _dupes("deficiency_codes", [d.code for d in sop.deficiency_codes]):
        add(path, f"deficiency code {name!r} is declared twice")
    initials = [s.name for s in sop.states if s.initial]
    if len(initials) != 1:
        add("states", f"exactly one state must be initial (found {len(initials)}: {', '.join(initials) or 'none'})")
    if not any(s.terminal for s in sop.states) and complete:
        add("states", "no terminal state: a case could never be closed")

    for i, ev in enumerate(sop.events):
        path = f"events[{i}]({ev.name})"
        if bool(ev.to) == bool(ev.outcomes):
            add(path, "give either 'to' or 'outcomes', not both or neither")
        for src in ev.sources:
            if src not in states:
                add(f"{path}.from", f"unknown state {src!r}")
            elif sop.state(src).terminal:
                add(f"{path}.from", f"state {src!r} is terminal: nothing may leave it")
        for outcome, dest in ev.destinations():
            where = f"{path}.outcomes.{outcome}" if outcome else f"{path}.to"
            if dest.to and dest.to not in states:
                add(where, f"unknown state {dest.to!r}")
        for item in ev.requires:
            if item not in items:
                add(f"{path}.requires", f"unknown checklist item {item!r}")

    for field_name in ("checklist_open_in", "scrutiny_states"):
        for name in getattr(sop, field_name):
            if name not in states:
                add(field_name, f"unknown state {name!r}")

    for i, code in enumerate(sop.deficiency_codes):
        if code.item and code.item not in items:
            add(f"deficiency_codes[{i}]({code.code}).item", f"unknown checklist item {code.item!r}")

    clock_events = events | {"register"} | CUSTODY_TRIGGERS
    for path, name in _dupes("clocks", [c.name for c in sop.clocks]):
        add(path, f"clock {name!r} is declared twice")
    for i, clock in enumerate(sop.clocks):
        path = f"clocks[{i}]({clock.name})"
        if clock.limit.days is None and clock.limit.hours is None:
            add(f"{path}.limit", "give days or hours")
        elif clock.limit.days is not None and clock.limit.hours is not None:
            add(f"{path}.limit", "give days or hours, not both")
        for start in clock.starts_on:
            if start not in clock_events:
                add(f"{path}.starts_on", f"unknown event {start!r}")
        for met in clock.met_by:
            if met not in clock_events:
                add(f"{path}.met_by", f"unknown event {met!r}")
        if clock.per == "accused" and not all(s in CUSTODY_TRIGGERS for s in clock.starts_on):
            add(f"{path}.per", "a clock per accused must start on a custody action (custody.arrest, ...)")
        if clock.limit_from == "order":
            if not set(clock.starts_on) <= {"custody.remand.physical", "custody.remand.judicial", "custody.proclaim"}:
                add(f"{path}.limit_from", "only remand orders (custody.remand.physical|judicial) and proclamations carry an order")
            if clock.limit.days is None:
                add(f"{path}.limit", "an order's limit is in days")
        if clock.max_total is not None and (clock.per != "accused" or clock.max_total.days is None):
            add(f"{path}.max_total", "a total cap (in days) needs a clock per accused")
        if clock.extendable_by and clock.max_extension is None:
            add(f"{path}.max_extension", "say how far the clock may be extended (days or hours)")
        if clock.max_extension is not None and (clock.max_extension.days is None) != (clock.limit.days is None):
            add(f"{path}.max_extension", "extend in the clock's own unit (days for a day limit, hours for an hour limit)")
        if clock.kind == "minimum" and (clock.pausable or clock.extendable_by):
            add(f"{path}.kind", "a minimum period cannot be paused or extended")
        if clock.holidays != "count":
            if clock.limit.days is None:
                add(f"{path}.holidays", "holidays only matter to limits counted in days")
            if not sop.calendar:
                add(f"{path}.holidays", "name the holiday calendar of the SOP (calendar: NAME, a file in sops/calendars/)")

    # Referral out of the trial track (ADR, reconciliation): never for serious offences.
    serious = SERIOUS_SECTIONS | {section_base(s) for s in sop.serious_sections}
    for i, ev in enumerate(sop.events):
        if not ev.referral:
            continue
        path = f"events[{i}]({ev.name})"
        if not ev.when.sections_all_in:
            add(f"{path}.referral", "a referral must list the eligible sections (when: {sections_all_in: [...]})")
        bad = [s for s in ev.when.sections_all_in if section_base(s) in serious]
        if bad:
            add(f"{path}.when.sections_all_in", f"serious offence(s) {', '.join(bad)} may never be referred out of the trial track")
        unguarded = sorted(set(sop.sensitive_flags) - set(ev.when.flags_none))
        if unguarded:
            add(f"{path}.when", f"a referral must exclude sensitive cases: add flags_none: [{', '.join(unguarded)}]")

    if sop.migrates_from is not None:
        if sop.migrates_from.version >= sop.version:
            add("migrates_from.version", f"migrates from version {sop.migrates_from.version}, which is not earlier than {sop.version}")
        for old, new in sop.migrates_from.states.items():
            if new not in states:
                add(f"migrates_from.states.{old}", f"unknown state {new!r}")

    # Items nobody needs are either a typo in `requires` or dead weight.
    if complete:
        required = {item for ev in sop.events for item in ev.requires}
        for i, item in enumerate(sop.checklist):
            if item.id not in required:
                add(f"checklist[{i}]({item.id})", f"checklist item {item.id!r} is defined but no event requires it")

    # Reachability: every state must be reachable from the initial one.
    if len(initials) == 1 and complete:
        seen, todo = {initials[0]}, [initials[0]]
        while todo:
            here = todo.pop()
            for ev in sop.events:
                if here in ev.sources:
                    for _, dest in ev.destinations():
                        if dest.to in states and dest.to not in seen:
                            seen.add(dest.to)
                            todo.append(dest.to)
        for i, name in enumerate(state_names):
            if name not in seen:
                add(f"states[{i}]({name})", f"state {name!r} cannot be reached from {initials[0]!r}")
    for i, s in enumerate(sop.states):
        if complete and not s.terminal and not any(s.name in ev.sources for ev in sop.events):
            add(f"states[{i}]({s.name})", f"state {s.name!r} is not terminal but no event leaves it")
    return problems
