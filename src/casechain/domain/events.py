"""What each case action writes into the audit trail, as pure functions.

The services (``services/cases.py``, ``services/deficiencies.py``) build the
payload of every audit event with these functions, and so does the bulk demo
generator (``casechain demo`` for large N), which turns the same steps into
rows without a unit of work per action. One definition each: a bulk-built
case hashes exactly like one built action by action.

:class:`CaseLedger` is the in-memory side of ``services.common.record``: the
hash chain of one case (:func:`casechain.domain.audit.link`) and the
case columns its events change. No database, no I/O.
"""

from __future__ import annotations

from datetime import datetime

from casechain.domain.audit import GENESIS, link
from casechain.domain.timeutil import iso_utc
from casechain.domain.workflow import Move


# -- payloads ---------------------------------------------------------------------
def register_payload(
    ref: str, sop_key: str, state: str, station: str, fir_no: int, year: int, sections, flags,
    complainant: str, accused, occurred_at: datetime, reported_at: datetime, source: str | None = None,
) -> dict:  # fmt: skip
    payload = {
        "ref": ref,
        "sop": sop_key,
        "state": state,
        "station": station,
        "fir_no": int(fir_no),
        "year": int(year),
        "sections": list(sections),
        "flags": list(flags),
        "complainant": complainant,
        "accused": list(accused),
        "occurred_at": iso_utc(occurred_at),
        "reported_at": iso_utc(reported_at),
    }
    if source:
        payload["source"] = source
    return payload


def assign_payload(io: str, previous: str | None) -> tuple[dict, dict]:
    """(payload, case changes) of ``case assign``."""
    return {"io": io, "previous": previous}, {"io": io}


def advance_payload(move: Move, case_round: int, note: str | None = None, late_reason: str | None = None) -> tuple[dict, dict]:
    """(payload, case changes) of a move the workflow allowed; ``note`` and
    ``late_reason`` already checked as text."""
    payload = {"event": move.event, "from": move.source, "to": move.dest}
    changes = {"state": move.dest}
    for key, value in (("outcome", move.outcome), ("report", move.report), ("override", move.override)):
        if value:
            payload[key] = value
    if move.report:
        changes["report"] = move.report
    if move.waived:
        payload["waived"] = list(move.waived)
    if move.new_round:
        payload["round"] = changes["round"] = case_round + 1
    if note:
        payload["note"] = note
    if late_reason:
        payload["late_reason"] = late_reason
    return payload, changes


def tick_payload(item: str, evidence: str) -> dict:
    return {"item": item, "evidence": evidence}


def na_payload(item: str, reason: str) -> dict:
    return {"item": item, "reason": reason}


def flag_payload(dif_id: int, code: str, detail: str, round_: int, reopens: str | None = None) -> dict:
    """``deficiency flag``: ``reopens`` is the checklist item the code reopened, if it was done."""
    payload = {"id": dif_id, "code": code, "detail": detail, "round": round_}
    if reopens:
        payload["reopens"] = reopens
    return payload


def respond_payload(dif_id: int, note: str, evidence: str | None = None) -> dict:
    payload = {"id": dif_id, "note": note}
    if evidence:
        payload["evidence"] = evidence
    return payload


def resolve_payload(dif_id: int) -> dict:
    return {"id": dif_id}


# -- one case's chain, in memory ---------------------------------------------------
class CaseLedger:
    """The audit chain of one case being built in memory: each :meth:`append`
    hashes the event onto the chain (``audit.link``), applies the case
    changes, and keeps the event as a row."""

    __slots__ = ("ref", "version", "head_hash", "case", "events")

    def __init__(self, ref: str, case: dict):
        self.ref = ref
        self.version = 0
        self.head_hash = GENESIS
        self.case = case  # the case columns (changed by each event's changes)
        # (seq, action, actor, occurred_at, recorded_at, payload text, prev_hash, hash,
        #  payload, occurred_at text, recorded_at text)
        self.events: list[tuple] = []

    def append(self, action: str, actor: str, occurred_at: datetime, recorded_at: datetime, payload: dict, changes: dict | None = None) -> int:
        seq = self.version + 1
        occurred_text = iso_utc(occurred_at)
        recorded_text = occurred_text if recorded_at == occurred_at else iso_utc(recorded_at)
        prev = self.head_hash
        text, digest = link(prev, self.ref, seq, action, actor, occurred_text, recorded_text, payload)
        self.events.append((seq, action, actor, occurred_at, recorded_at, text, prev, digest, payload, occurred_text, recorded_text))
        if changes:
            self.case.update(changes)
        self.version, self.head_hash = seq, digest
        case = self.case
        case["version"], case["head_hash"] = seq, digest
        return seq


__all__ = [
    "CaseLedger",
    "advance_payload",
    "assign_payload",
    "flag_payload",
    "na_payload",
    "register_payload",
    "resolve_payload",
    "respond_payload",
    "tick_payload",
]
