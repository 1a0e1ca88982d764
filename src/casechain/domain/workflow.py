"""The state machine: one ``transitions`` Machine per SOP version.

The Machine is shared configuration; a case's state lives on a small token
object that exists only while an event is fired, so a batch of 100,000 cases
costs no Machine each. Guards read only the case facts, the actor and the SOP;
the service writes after a move succeeds, so a refusal leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from transitions import Machine, MachineError

from casechain.domain.errors import BadInput, Refused
from casechain.domain.roles import Actor, Place, jurisdiction_problem
from casechain.domain.sop import CaseFacts, ChecklistItem, Event, Sop


@dataclass(frozen=True)
class Move:
    """A move that the rules allowed: what the service must record."""

    event: str
    source: str
    dest: str
    outcome: str | None = None
    report: str | None = None
    override: str | None = None
    waived: tuple[str, ...] = ()
    new_round: bool = False


@dataclass(frozen=True)
class Option:
    """One line of ``case events``: an event, and why it is blocked (if it is)."""

    event: str
    outcome: str | None
    dest: str
    roles: tuple[str, ...]
    blockers: tuple[str, ...] = field(default_factory=tuple)

    @property
    def allowed(self) -> bool:
        return not self.blockers


class _Token:
    """The detached model a Machine moves: just a state."""

    __slots__ = ("state",)

    def __init__(self, state: str):
        self.state = state


class Workflow:
    def __init__(self, sop: Sop):
        self.sop = sop
        self.machine = Machine(
            model=None,
            states=[s.name for s in sop.states],
            initial=sop.initial,
            auto_transitions=False,
            send_event=True,
        )
        for ev in sop.events:
            for outcome, dest in ev.destinations():
                self.machine.add_transition(
                    ev.name,
                    source=list(ev.sources),
                    dest=dest.to,
                    conditions=[
                        lambda ed, o=outcome: ed.kwargs.get("outcome") == o,
                        lambda ed, w=dest.when: w.holds(ed.kwargs["facts"]),
                    ],
                )

    # -- checklist -------------------------------------------------------
    def applicable_items(self, facts: CaseFacts) -> list[ChecklistItem]:
        """The checklist items that apply to this case (its sections and flags)."""
        return [i for i in self.sop.checklist if i.applies_when.holds(facts)]

    def unmet_items(self, event: Event, facts: CaseFacts) -> list[ChecklistItem]:
        out = []
        for item_id in event.requires:
            item = self.sop.item(item_id)
            if item.applies_when.holds(facts) and item_id not in facts.checklist:
                out.append(item)
        return out

    # -- guards ----------------------------------------------------------
    def event(self, name: str) -> Event:
        ev = self.sop.event(name)
        if ev is None:
            known = ", ".join(e.name for e in self.sop.events)
            raise BadInput(f"unknown event {name!r} in SOP {self.sop.key}; events are: {known}")
        return ev

    def _check_outcome(self, ev: Event, outcome: str | None) -> None:
        if ev.outcomes and outcome not in ev.outcomes:
            choices = "|".join(ev.outcomes)
            got = f"{outcome!r} is not one" if outcome else "none given"
            raise BadInput(f"{ev.name} needs --outcome {choices} ({got})")
        if not ev.outcomes and outcome is not None:
            raise BadInput(f"{ev.name} takes no --outcome")

    def blockers(self, ev: Event, facts: CaseFacts, actor: Actor, outcome=None, override=None):
        """Every reason ``actor`` may not fire ``ev`` now, and the items an
        override would waive. Refusals name event, state, role and each unmet
        condition, so the officer knows what to do next."""
        reasons: list[str] = []
        waived: list[str] = []
        if not self.machine.get_transitions(ev.name, source=facts.state):
            allowed = ", ".join(ev.sources)
            reasons.append(f"{ev.name} cannot be applied to a case in state {facts.state} (only from: {allowed})")
        overriding = override is not None
        if overriding and actor.role not in ev.override_roles:
            who = ", ".join(r.value for r in ev.override_roles)
            reasons.append(f"role {actor.role.value} may not override {ev.name} (override roles: {who})")
            overriding = False
        if actor.role not in ev.roles and not overriding:
            who = ", ".join(r.value for r in ev.roles)
            reasons.append(f"role {actor.role.value} may not fire {ev.name} (roles: {who})")
        problem = jurisdiction_problem(actor, Place(facts.station, facts.district, facts.io))
        if problem:
            reasons.append(problem)
        for failure in ev.when.failures(facts):
            reasons.append(f"{ev.name}: {failure}")
        if outcome is not None and outcome in ev.outcomes:
            for failure in ev.outcomes[outcome].when.failures(facts):
                reasons.append(f"{ev.name} --outcome {outcome}: {failure}")
        soft: list[str] = []
        for item in self.unmet_items(ev, facts):
            soft.append(f"checklist item {item.id} ({item.text}) is not done")
            waived.append(item.id)
        if ev.deficiencies == "none_open" and facts.open_deficiencies:
            soft.append(f"{facts.open_deficiencies} deficiency(ies) still open")
            waived.append("open_deficiencies")
        if ev.deficiencies == "some_open" and not facts.open_deficiencies:
            reasons.append(f"{ev.name} needs at least one open deficiency (deficiency flag REF --code CODE)")
        if ev.deficiencies == "all_answered" and facts.unanswered_deficiencies:
            reasons.append(f"{facts.unanswered_deficiencies} open deficiency(ies) have no response from the IO yet")
        if overriding:
            return reasons, waived
        return reasons + soft, []

    def fire(self, name: str, facts: CaseFacts, actor: Actor, outcome=None, override=None) -> Move:
        """Fire ``name`` for ``actor`` on a case, or raise Refused with every reason."""
        ev = self.event(name)
        self._check_outcome(ev, outcome)
        if override is not None and not override.strip():
            raise BadInput("--override needs a reason: say why the step may go ahead")
        reasons, waived = self.blockers(ev, facts, actor, outcome, override)
        if reasons:
            raise Refused(reasons)
        token = _Token(facts.state)
        try:
            moved = self.machine.events[ev.name].trigger(token, facts=facts, outcome=outcome)
        except MachineError as err:  # blockers() checked the source; keep the engine honest anyway
            raise Refused(str(err)) from None
        if not moved:
            raise Refused(f"{ev.name}: no destination applies to this case")
        return Move(ev.name, facts.state, token.state, outcome, ev.report, override, tuple(waived), ev.new_round)

    def options(self, facts: CaseFacts, actor: Actor) -> list[Option]:
        """Each event (and outcome) of the SOP, with why ``actor`` may not fire it now."""
        out = []
        for ev in self.sop.events:
            roles = tuple(r.value for r in ev.roles)
            for outcome, dest in ev.destinations():
                reasons, _ = self.blockers(ev, facts, actor, outcome)
                out.append(Option(ev.name, outcome, dest.to, roles, tuple(reasons)))
        return out


_SHARED: dict[str, Workflow] = {}


def workflow(sop: Sop) -> Workflow:
    """The shared Workflow (and Machine) of this SOP version."""
    wf = _SHARED.get(sop.key)
    if wf is None or (wf.sop is not sop and wf.sop != sop):
        wf = _SHARED[sop.key] = Workflow(sop)
    return wf
