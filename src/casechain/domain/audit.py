"""The audit trail: an append-only, hash-chained log of everything done to a case.

Each event's hash covers the previous event's hash and the event's canonical
JSON (sorted keys, no spaces, UTF-8), so changing, deleting or reordering any
stored event breaks every later link. The case row keeps the head hash and a
version equal to its number of events. Replaying the events rebuilds the case,
which is how ``audit verify`` proves the case row was not altered either.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

GENESIS = "0" * 64

# What json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# builds on every call, built once.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_encode = _ENCODER.encode
_quote = json.encoder.encode_basestring  # what _encode does with a str (ensure_ascii=False)


def canonical(obj) -> bytes:
    return _encode(obj).encode("utf-8")


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


def body_text(case_ref, seq, action, actor, occurred_at, recorded_at, payload_json: str) -> str:
    """``canonical(EventRecord(...).body())`` as text, given the payload's canonical
    JSON: the body's keys in sorted order, each value encoded as the encoder would
    inside the object (so nothing is serialised twice; tests/test_audit_speed.py
    proves the two byte-identical)."""
    q = _quote if type(case_ref) is type(action) is type(actor) is type(occurred_at) is type(recorded_at) is str else _encode
    return "".join((
        '{"action":', q(action), ',"actor":', q(actor), ',"case":', q(case_ref),
        ',"occurred_at":', q(occurred_at), ',"payload":', payload_json,
        ',"recorded_at":', q(recorded_at), ',"seq":', str(seq) if type(seq) is int else _encode(seq), "}",
    ))  # fmt: skip


def link(prev_hash: str, case_ref, seq, action, actor, occurred_at, recorded_at, payload) -> tuple[str, str]:
    """(the payload's canonical text, the event's hash): what a writer stores,
    with the payload encoded once. The hash is sha256 of the previous hash, a
    newline and the event's canonical body."""
    text = _encode(payload)
    body = body_text(case_ref, seq, action, actor, occurred_at, recorded_at, text)
    return text, hashlib.sha256(prev_hash.encode("ascii") + b"\n" + body.encode("utf-8")).hexdigest()


def event_hash(prev_hash: str, case_ref, seq, action, actor, occurred_at, recorded_at, payload) -> str:
    """The link of one event (see :func:`link`)."""
    return link(prev_hash, case_ref, seq, action, actor, occurred_at, recorded_at, payload)[1]


def link_hash(prev_hash: str, record: EventRecord) -> str:
    r = record
    return event_hash(prev_hash, r.case_ref, r.seq, r.action, r.actor, r.occurred_at, r.recorded_at, r.payload)


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


class Replay:
    """The case as its events so far say, folded in place one event at a time
    (a replay of a long trail makes no new object per event). Field names are
    those of :class:`Snapshot`. After ``apply`` raised, the state is undefined."""

    __slots__ = tuple(Snapshot.__dataclass_fields__)

    def __init__(self):
        for name, f in Snapshot.__dataclass_fields__.items():
            setattr(self, name, f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default)

    def apply(self, action: str, payload: dict) -> None:
        """One more event. Unknown actions change only the version, so later
        features (diary entries, notes) extend the log without breaking replay."""
        self.version += 1
        if action == "register":
            p = payload
            values = (p["ref"], p["sop"], p["state"], p["station"], p["fir_no"], p["year"], tuple(p["sections"]),
                      tuple(p["flags"]), p["complainant"], p["occurred_at"], p["reported_at"])  # fmt: skip
            (self.ref, self.sop, self.state, self.station, self.fir_no, self.year, self.sections,
             self.flags, self.complainant, self.occurred_at, self.reported_at) = values  # fmt: skip
        elif action == "assign":
            self.io = payload["io"]
        elif action == "sop_migrate":  # moved to a newer SOP version (sop migrate)
            self.sop, self.state = payload["to"], payload["to_state"]
        elif action == "advance":
            state = payload["to"]
            if payload.get("report"):
                self.report = payload["report"]
            if "round" in payload:
                self.round = payload["round"]
            self.state = state
        elif action == "tick" or action == "na":
            detail = payload.get("evidence") if action == "tick" else payload.get("reason")
            self.checklist[payload["item"]] = ("done" if action == "tick" else "na", detail)
        elif action == "untick" or (action == "deficiency_flag" and "reopens" in payload):
            self.checklist.pop(payload.get("item") or payload["reopens"], None)

    def snapshot(self) -> Snapshot:
        return Snapshot(**{name: getattr(self, name) for name in self.__slots__ if name != "checklist"}, checklist=dict(self.checklist))


def replay(events) -> Snapshot:
    state = Replay()
    for action, payload in events:
        state.apply(action, payload)
    return state.snapshot()
