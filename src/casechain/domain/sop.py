"""The SOP model: a province's agreed police-prosecution procedure, as data.

An SOP (Standard Operating Procedure) names the states a case passes through,
the events that move it (who may fire them, which checklist items they need,
on which offences or flags they apply), the checklist items themselves, the
deficiency codes a prosecutor may raise at scrutiny, and the statutory clocks.
Files in ``sops/`` are validated into these models; nothing in Python restates
the flow.
"""

from __future__ import annotations

import re
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


class ClockSpec(_Strict):
    """A statutory time limit (used by the clocks feature)."""

    name: str = Field(pattern=NAME)
    title: str
    section: str = Field(description="the law that sets the limit")
    starts_on: str = Field(description="event or action that starts the clock")
    limit: Duration
    met_by: list[str] = Field(default_factory=list)
    applies_when: Condition = Field(default_factory=Condition)
    confirmed: bool = Field(default=True, description="false: a configurable default, not confirmed in the statute")
    pausable: bool = False
    extendable_by: list[Role] = Field(default_factory=list)
    max_extension: Duration | None = None


class Sop(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    version: int = Field(ge=1)
    title: str
    province: str | None = None
    description: str = ""
    sensitive_flags: list[str] = Field(default_factory=list, description="flags whose victims' identity is protected")
    states: list[State] = Field(min_length=2)
    events: list[Event] = Field(min_length=1)
    checklist: list[ChecklistItem] = Field(default_factory=list)
    checklist_open_in: list[str] = Field(default_factory=list, description="states in which police may change the checklist")
    scrutiny_states: list[str] = Field(default_factory=list, description="states in which the prosecutor flags and resolves deficiencies")
    deficiency_codes: list[DeficiencyCode] = Field(default_factory=list)
    clocks: list[ClockSpec] = Field(default_factory=list)

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


def _dupes(names):
    seen, out = set(), []
    for n in names:
        if n in seen and n not in out:
            out.append(n)
        seen.add(n)
    return out


def sop_problems(sop: Sop) -> list[tuple[str, str]]:
    """Logic errors a schema cannot see, as (path, message), all at once."""
    problems: list[tuple[str, str]] = []
    add = lambda path, msg: problems.append((path, msg))  # noqa: E731
    state_names = [s.name for s in sop.states]
    states = set(state_names)
    items = {i.id for i in sop.checklist}
    events = {e.name for e in sop.events}

    for name in _dupes(state_names):
        add("states", f"state {name!r} is declared twice")
    for name in _dupes([e.name for e in sop.events]):
        add("events", f"event {name!r} is declared twice")
    for name in _dupes([i.id for i in sop.checklist]):
        add("checklist", f"checklist item {name!r} is declared twice")
    for name in _dupes([d.code for d in sop.deficiency_codes]):
        add("deficiency_codes", f"deficiency code {name!r} is declared twice")
    initials = [s.name for s in sop.states if s.initial]
    if len(initials) != 1:
        add("states", f"exactly one state must be initial (found {len(initials)}: {', '.join(initials) or 'none'})")
    if not any(s.terminal for s in sop.states):
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

    clock_events = events | {"register"}
    for i, clock in enumerate(sop.clocks):
        path = f"clocks[{i}]({clock.name})"
        if clock.limit.days is None and clock.limit.hours is None:
            add(f"{path}.limit", "give days or hours")
        if clock.starts_on not in clock_events and not re.match(r"^custody\.", clock.starts_on):
            add(f"{path}.starts_on", f"unknown event {clock.starts_on!r}")
        for met in clock.met_by:
            if met not in clock_events and not re.match(r"^custody\.", met):
                add(f"{path}.met_by", f"unknown event {met!r}")

    # Reachability: every state must be reachable from the initial one.
    if len(initials) == 1:
        seen, todo = {initials[0]}, [initials[0]]
        while todo:
            here = todo.pop()
            for ev in sop.events:
                if here in ev.sources:
                    for _, dest in ev.destinations():
                        if dest.to in states and dest.to not in seen:
                            seen.add(dest.to)
                            todo.append(dest.to)
        for name in state_names:
            if name not in seen:
                add("states", f"state {name!r} cannot be reached from {initials[0]!r}")
    for s in sop.states:
        if not s.terminal and not any(s.name in ev.sources for ev in sop.events):
            add("states", f"state {s.name!r} is not terminal but no event leaves it")
    return problems
