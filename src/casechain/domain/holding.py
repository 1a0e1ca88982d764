"""Who held the file, and for how long: scrutiny rounds and days held.

Today a returned file can sit in a police station or a prosecutor's office for
months with nobody able to say where it is. The SOP says who holds the file in
each state (``holder``: police, prosecution, court); the audit trail says when
the case moved. From those two facts this module derives each scrutiny round
(the report's stay with the prosecutor, and its time back with the police)
and the days each side held the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from casechain.domain.sop import Sop

DAY = 86400.0


@dataclass(frozen=True)
class Move:
    """A state change from the audit trail (an ``advance`` event)."""

    at: datetime
    actor: str
    event: str
    source: str
    dest: str
    report: str | None = None


@dataclass
class Round:
    """One stay of the report with the prosecution, and what followed it."""

    round: int
    report: str | None
    submitted_at: datetime
    submitted_by: str
    ended_at: datetime | None = None
    ended_by: str | None = None
    ended_with: str | None = None
    back_with_police_until: datetime | None = None
    returned: bool = False
    deficiencies: list[str] = field(default_factory=list)

    def days_with_prosecution(self, now: datetime) -> float:
        return round(((self.ended_at or now) - self.submitted_at).total_seconds() / DAY, 2)

    def days_back_with_police(self, now: datetime) -> float | None:
        if self.ended_with is None or self.ended_at is None:
            return None
        holder_end = self.back_with_police_until or now
        return round((holder_end - self.ended_at).total_seconds() / DAY, 2) if self.returned else None


def days_held(sop: Sop, initial: str, start: datetime, moves: list[Move], now: datetime) -> dict[str, float]:
    """Days the file spent with each holder, from the FIR until ``now``."""
    totals = {"police": 0.0, "prosecution": 0.0, "court": 0.0}
    state, since = initial, start
    for move in [*moves, None]:
        until = move.at if move else now
        holder = sop.state(state).holder if sop.state(state) else None
        if holder and until > since:
            totals[holder] += (until - since).total_seconds() / DAY
        if move:
            state, since = move.dest, move.at
    return {k: round(v, 2) for k, v in totals.items()}


def scrutiny_rounds(sop: Sop, moves: list[Move], new_round_events: set[str], flagged: list[tuple[datetime, int, str]]) -> list[Round]:
    """Each stay with the prosecution, numbered by return-loop round.

    ``flagged`` holds (when, round, code) of each deficiency; a round's
    deficiencies are those flagged with its number during its stay.
    """
    holder = lambda name: sop.state(name).holder if sop.state(name) else None  # noqa: E731
    rounds: list[Round] = []
    returns = 0
    current: Round | None = None
    for move in moves:
        if current is None and holder(move.dest) == "prosecution":
            current = Round(returns + 1, move.report, move.at, move.actor)
            if rounds and rounds[-1].returned and rounds[-1].back_with_police_until is None:
                rounds[-1].back_with_police_until = move.at
            if current.report is None and rounds:
                current.report = rounds[-1].report
        elif current is not None and holder(move.dest) != "prosecution":
            current.ended_at, current.ended_by, current.ended_with = move.at, move.actor, move.event
            current.returned = move.event in new_round_events
            rounds.append(current)
            current = None
            if move.event in new_round_events:
                returns += 1
    if current is not None:
        rounds.append(current)
    for r in rounds:
        end = r.ended_at
        r.deficiencies = [code for at, num, code in flagged if num == r.round and at >= r.submitted_at and (end is None or at <= end)]
    return rounds
