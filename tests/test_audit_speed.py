"""The fast paths of the audit chain compute exactly what the plain definitions do.

- ``body_text`` builds an event's canonical body by joining canonical parts
  (the payload's canonical JSON as stored) instead of serialising a dict of
  the event: byte-identical to ``json.dumps(body, sort_keys=True, ...)``, so
  ``link_hash`` / ``event_hash`` give the hashes every stored chain was built with;
- ``Replay`` folds events in place; it ends where the frozen, one-new-Snapshot-
  per-event fold (kept below as the reference) ends.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from casechain.domain.audit import (
    GENESIS,
    EventRecord,
    Replay,
    Snapshot,
    body_text,
    canonical,
    event_hash,
    link_hash,
    replay,
)

# Urdu, quotes, backslashes, control characters (escaped as \n, \u001f...), line
# separators json leaves alone, astral characters; and anything else text can be.
TRICKY = "اردوپاکستانمقدمہ\"'\\/\n\r\t\b\f\x00\x1f\x7f\u2028\u2029\u00e9\ufeff😀 {}[],:"
texts = st.one_of(st.text(), st.text(alphabet=st.sampled_from(TRICKY)), st.text(alphabet=st.characters(codec="utf-8")))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70), st.floats(), texts)
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)), max_leaves=12)
payloads = st.dictionaries(texts, json_values, max_size=6)


def reference_body(record: EventRecord) -> bytes:
    """The definition: the body dict through json.dumps, as chains were always hashed."""
    return json.dumps(record.body(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(ref=texts, seq=st.integers(0, 2**40), action=texts, actor=texts, occurred=texts, recorded=texts, payload=payloads)
def test_fast_body_is_the_canonical_body(ref, seq, action, actor, occurred, recorded, payload):
    rec = EventRecord(ref, seq, action, actor, occurred, recorded, payload)
    stored = canonical(payload).decode("utf-8")  # what services write to audit_event.payload
    assert canonical(payload) == json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert body_text(ref, seq, action, actor, occurred, recorded, stored).encode("utf-8") == reference_body(rec) == canonical(rec.body())
    expected = hashlib.sha256(GENESIS.encode("ascii") + b"\n" + reference_body(rec)).hexdigest()
    assert link_hash(GENESIS, rec) == expected
    assert event_hash(GENESIS, ref, seq, action, actor, occurred, recorded, json.loads(stored)) == expected


def test_fast_body_of_an_urdu_event():
    payload = {"note": 'گواہ نے کہا: "ہاں"\n\tدوسری سطر \\ \x01', "n": -3, "x": 1.5, "ok": True, "none": None, "list": ["ایک", 2]}
    rec = EventRecord("LHR/1/2024", 7, "diary", "IO-1", "2024-03-01T09:30:00.000000Z", "2024-03-01T09:31:00.000000Z", payload)
    assert body_text(*[rec.case_ref, rec.seq, rec.action, rec.actor, rec.occurred_at, rec.recorded_at], canonical(payload).decode()).encode() == reference_body(rec)


# -- Replay against the reference fold ------------------------------------------------------
def reference_apply(snap: Snapshot, action: str, payload: dict) -> Snapshot:
    snap = replace(snap, version=snap.version + 1)
    if action == "register":
        p = payload
        return replace(snap, ref=p["ref"], sop=p["sop"], state=p["state"], station=p["station"], fir_no=p["fir_no"], year=p["year"],
                       sections=tuple(p["sections"]), flags=tuple(p["flags"]), complainant=p["complainant"],
                       occurred_at=p["occurred_at"], reported_at=p["reported_at"])  # fmt: skip
    if action == "assign":
        return replace(snap, io=payload["io"])
    if action == "sop_migrate":
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
        return replace(snap, checklist={**snap.checklist, payload["item"]: ("done" if action == "tick" else "na", detail)})
    if action == "untick" or (action == "deficiency_flag" and "reopens" in payload):
        gone = payload.get("item") or payload["reopens"]
        return replace(snap, checklist={k: v for k, v in snap.checklist.items() if k != gone})
    return snap


items = st.sampled_from(["fir_copy", "site_plan", "arrest", "ایف آئی آر"])
register = st.fixed_dictionaries({
    "ref": texts, "sop": texts, "state": texts, "station": texts, "fir_no": st.integers(), "year": st.integers(),
    "sections": st.lists(texts, max_size=3), "flags": st.lists(texts, max_size=2), "complainant": texts,
    "occurred_at": texts, "reported_at": texts,
})  # fmt: skip
events = st.one_of(
    st.tuples(st.just("register"), register),
    st.tuples(st.just("assign"), st.fixed_dictionaries({"io": st.one_of(st.none(), texts)})),
    st.tuples(st.just("sop_migrate"), st.fixed_dictionaries({"to": texts, "to_state": texts})),
    st.tuples(st.just("advance"), st.fixed_dictionaries({"to": texts}, optional={"report": st.one_of(st.none(), st.sampled_from(["", "challan"])), "round": st.integers(0, 3)})),
    st.tuples(st.sampled_from(["tick", "na"]), st.fixed_dictionaries({"item": items}, optional={"evidence": texts, "reason": texts})),
    st.tuples(st.just("untick"), st.fixed_dictionaries({"item": items})),
    st.tuples(st.just("deficiency_flag"), st.fixed_dictionaries({"id": st.integers(1, 5)}, optional={"reopens": items})),
    st.tuples(texts.map("note_{}".format), payloads),  # unknown actions: only the version moves
)


@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=25))
def test_replay_folds_like_the_reference(history):
    snap = Snapshot()
    for action, payload in history:
        snap = reference_apply(snap, action, payload)
    assert replay(history) == snap
    state = Replay()
    for action, payload in history:
        state.apply(action, payload)
    assert state.snapshot() == snap
    assert all(getattr(state, name) == getattr(snap, name) for name in Snapshot.__dataclass_fields__)


# -- the importer's one-step SQLite text of a date-time ----------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5)), timezone(timedelta(hours=-3, minutes=-30))])))
def test_sqlite_text_of_a_datetime_is_what_sqlalchemy_writes(value):
    from sqlalchemy.dialects import sqlite

    from casechain.services import transfer

    col = transfer.schema().by_name["audit_event"].c.occurred_at
    dialect = sqlite.dialect()
    slow = col.type.dialect_impl(dialect).bind_processor(dialect)
    fast = transfer._bind_processor(col, dialect)
    try:
        expected = slow(value)
    except (OverflowError, ValueError):  # out of range once moved to UTC: refused either way
        return
    assert fast(value) == expected
    assert fast(value.astimezone(timezone.utc)) == expected  # the same instant, now remembered
