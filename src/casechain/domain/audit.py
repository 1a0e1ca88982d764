"""The audit trail: an append-only, hash-chained log of everything done to a case.

Each event's hash covers the previous event's hash and the event's canonical
JSON (sorted keys, no spaces, UTF-8), so changing, deleting or reordering any
stored event breaks every later link. The case row keeps the head hash and a
version equal to its number of events. Replaying the events rebuilds the case,
which is how ``audit verify`` proves the case row was not altered either.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace

GENESIS = "0" * 64


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class EventRecord:
    """One audit event as the chain sees it (times already as canonical text)."""

    case_ref: str
    seq: int
    action: str
    actor: str
    occurred_at: str
    recorded_at: str
    payload: dict

    def body(self) -> dict:
        return {
            "case": self.case_ref,
            "seq": self.seq,
            "action": self.action,
            "actor": self.actor,
            "occurred_at": self.occurred_at,
            "recorded_at": self.recorded_at,
            "payload": self.payload,
        }


def link_hash(prev_hash: str, record: EventRecord) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(record.body())).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """The part of a case that its events determine (and verify compares)."""

    ref: str = ""
    sop: str = ""
    state: str = ""
    station: str = ""
    fir_no: int = 0
    year: int = 0
    io: str | None = None
    report: str | None = None
    round: int = 0
    sections: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    complainant: str = ""
    occurred_at: str = ""
    reported_at: str = ""
    checklist: dict = field(default_factory=dict)  # item -> (status, evidence or reason)
    version: int = 0


def apply(snap: Snapshot, action: str, payload: dict) -> Snapshot:
    """The case after one more event. Unknown actions change only the version,
    so later features (diary entries, notes) extend the log without breaking replay."""
    snap = replace(snap, version=snap.version + 1)
    if action == "register":
        return replace(
            snap,
            ref=payload["ref"],
            sop=payload["sop"],
            state=payload["state"],
            station=payload["station"],
            fir_no=payload["fir_no"],
            year=payload["year"],
            sections=tuple(payload["sections"]),
            flags=tuple(payload["flags"]),
            complainant=payload["complainant"],
            occurred_at=payload["occurred_at"],
            reported_at=payload["reported_at"],
        )
    if action == "assign":
        return replace(snap, io=payload["io"])
    if action == "sop_migrate":  # moved to a newer SOP version (sop migrate)
        return replace(snap, sop=payload["to"], state=payload["to_state"])
    if action == "advance":
        changes = {"state": payload["to"]}
        if payload.get("report"):
            changes["report"] = payload["report"]
        if "round" in payload:
            changes["round"] = payload["round"]
        return replace(snap, **changes)
    if action in ("tick", "na"):
        detail = payload.get("evidence") if action == "tick" else payload.get("reason")
        status = "done" if action == "tick" else "na"
        return replace(snap, checklist={**snap.checklist, payload["item"]: (status, detail)})
    if action == "untick" or (action == "deficiency_flag" and "reopens" in payload):
        gone = payload.get("item") or payload["reopens"]
        return replace(snap, checklist={k: v for k, v in snap.checklist.items() if k != gone})
    return snap


def replay(events) -> Snapshot:
    snap = Snapshot()
    for action, payload in events:
        snap = apply(snap, action, payload)
    return snap
