"""What every action needs: the clock, the actor, the case, its SOP, the audit append."""

from __future__ import annotations

import hashlib
import re
import weakref
from datetime import datetime

from sqlalchemy import bindparam, null, select, union_all

from casechain.domain.audit import GENESIS, link
from casechain.domain.errors import BadInput, Conflict, Refused
from casechain.domain.roles import Actor, Role
from casechain.domain.sop import CaseFacts, Sop
from casechain.domain.timeutil import as_utc, iso_utc, parse_when
from casechain.domain.tracking import Event
from casechain.storage.tables import AuditEvent, Case, ChecklistEntry, Deficiency
from casechain.services.now import system_now  # noqa: F401  (re-exported: callers import it from here)
from casechain.storage.uow import UnitOfWork

REF_RE = re.compile(r"^([A-Za-z0-9-]{1,16})/(\d{1,7})/(\d{4})$")


def make_ref(station: str, fir_no: int, year: int) -> str:
    return f"{station.upper()}/{fir_no}/{year}"


def need_text(value: str | None, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise BadInput(f"{what} must not be empty")
    if len(value) > 2000:
        raise BadInput(f"{what} is longer than 2000 characters; shorten it or point to a document")
    if any((ord(ch) < 32 and ch != "\t") or 0x7F <= ord(ch) <= 0x9F or 0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise BadInput(f"{what} contains control characters; remove them")
    # Urdu and other right-to-left text is welcome, and so are the marks it needs
    # (LRM/RLM, ZWJ/ZWNJ); bidi overrides and isolates are not: they make
    # printed text read differently from what is stored ("Trojan Source").
    spoof = next((ch for ch in value if 0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069), None)
    if spoof:
        raise BadInput(f"{what} contains an invisible text-direction override (U+{ord(spoof):04X}); remove it")
    return value


# -- the actor ---------------------------------------------------------------
def actor_of(uow: UnitOfWork, badge: str | None) -> Actor:
    if not badge:
        raise BadInput("this command changes data: say who you are with --as BADGE (or CASECHAIN_USER)")
    row = uow.officer(badge)
    if row is None:
        raise BadInput(f"unknown officer {badge!r}: check the badge number (officer list)")
    if not row.active:
        raise Refused(f"officer {badge} is deactivated")
    return Actor(row.badge, row.name, Role(row.role), row.district, row.station)


def require_role(actor: Actor, *roles: Role, doing: str) -> None:
    if actor.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Refused(f"role {actor.role.value} may not {doing} (allowed: {allowed})")


# -- the case and its SOP ---------------------------------------------------
def case_of(uow: UnitOfWork, ref: str, expected_version: int | None = None) -> Case:
    """The case of a reference. With ``expected_version`` (``--if-version``), a
    case that has moved on since the user read it is a conflict (exit 3), found
    before any rule is checked against a state the user never saw."""
    ref = (ref or "").strip()
    m = REF_RE.match(ref)
    if not m:
        raise BadInput(f"bad case reference {ref!r}: use STATION/FIR-NO/YEAR, e.g. CLN/123/2024")
    case = uow.case(make_ref(m.group(1), int(m.group(2)), int(m.group(3))))
    if case is None:
        raise BadInput(f"unknown case {ref!r}: check the reference (case list)")
    check_version(case, expected_version)
    return case


def check_version(case: Case, expected_version: int | None) -> None:
    """Conflict (exit 3) if the user saw another version than the stored one."""
    if expected_version is not None and expected_version != case.version:
        raise Conflict(f"case {case.ref} is at version {case.version}, not {expected_version}: someone changed it; look again")


# A stored SOP version never changes (init refuses that), so each is parsed once
# per process, keyed by its digest (two databases may hold different files
# under one name@version). Which digest a database holds under name@version is
# remembered per engine, so the rules of a case cost no query after the first.
_SOPS: dict[tuple[str, int, str], Sop] = {}
_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> {(name, version): key}


def sop_of(uow: UnitOfWork, name: str, version: int | None = None) -> Sop:
    """The SOP version as stored at init; without ``version``, the newest one
    (looked up each time: another process may have loaded a newer one)."""
    keys = _KEYS.setdefault(uow.engine, {})
    key = keys.get((name, version)) if version is not None else None
    if key is None:
        key = uow.sop_key(name, version)
        if key is None:
            what = f"{name}@{version}" if version else name
            raise BadInput(f"unknown SOP {what!r}: see sop list, or run casechain init to load shipped SOPs")
        keys[key[:2]] = key
    if key not in _SOPS:
        _SOPS[key] = Sop.model_validate_json(uow.sop_record(key[0], key[1]).body)
    return _SOPS[key]


def case_sop(uow: UnitOfWork, case: Case) -> Sop:
    return sop_of(uow, case.sop_name, case.sop_version)


def split_list(text: str | None) -> tuple[str, ...]:
    return tuple(p for p in (text or "").split(",") if p)


# The checklist and the unresolved deficiencies of a case in one round trip:
# (item, status) per ticked item, (NULL, status) per unresolved deficiency.
_FACTS = union_all(
    select(ChecklistEntry.item, ChecklistEntry.status).where(ChecklistEntry.case_id == bindparam("cid")),
    select(null().label("item"), Deficiency.status).where(Deficiency.case_id == bindparam("cid"), Deficiency.status != "resolved"),
)


def facts_of(uow: UnitOfWork, case) -> CaseFacts:
    """What the rules look at: the case row (or any row with its columns),
    its checklist and its unresolved deficiencies."""
    checklist: dict[str, str] = {}
    open_deficiencies = unanswered = 0
    for item, status in uow.connection().execute(_FACTS, {"cid": case.id}):
        if item is not None:
            checklist[item] = status
        else:
            open_deficiencies += 1
            unanswered += status == "open"
    return CaseFacts(
        state=case.state,
        station=case.station,
        district=case.district,
        io=case.io,
        sections=split_list(case.sections),
        flags=frozenset(split_list(case.flags)),
        report=case.report,
        checklist=checklist,
        open_deficiencies=open_deficiencies,
        unanswered_deficiencies=unanswered,
    )


def when_of(uow: UnitOfWork, case: Case | None, at: str | None) -> datetime:
    """When the action happened: ``--at`` or now; never in the future, never before the FIR."""
    now = uow.now()
    if at is None:
        return now
    if not at.strip():  # an empty shell variable, say: do not quietly record "now"
        raise BadInput("--at is empty: give the date-time it happened, or leave --at out for now")
    value = parse_when(at, "--at")
    if value > now:
        raise BadInput(f"--at {at} lies in the future; give the time it actually happened")
    if case is not None and value < as_utc(case.reported_at):
        raise BadInput(f"--at {at} is before the FIR of {case.ref} was reported; check the date")
    return value


# -- the audit append ---------------------------------------------------------
_INSERT_EVENT = AuditEvent.__table__.insert()


def record(
    uow: UnitOfWork,
    case: Case,
    action: str,
    actor: str,
    occurred_at: datetime,
    payload: dict,
    changes: dict | None = None,
    expected_version: int | None = None,
) -> Event:
    """Append one audit event and update the case row in the same transaction.

    ``expected_version`` is the version the user last saw (``--if-version``);
    without it, the version read at the start of this action.
    """
    check_version(case, expected_version)
    read_version = case.version
    # Rows the action added through the session go in first, so that the clock
    # hook reads them.
    uow.flush()
    recorded_at = as_utc(uow.now())
    occurred_at = as_utc(occurred_at)
    seq = read_version + 1
    prev = case.head_hash or GENESIS
    text, digest = link(prev, case.ref, seq, action, actor, iso_utc(occurred_at), iso_utc(recorded_at), payload)
    # Core, not an ORM object: the event is written once and never changed.
    uow.connection().execute(
        _INSERT_EVENT,
        {
            "case_id": case.id,
            "seq": seq,
            "action": action,
            "actor": actor,
            "occurred_at": occurred_at,
            "recorded_at": recorded_at,
            "payload": text,
            "prev_hash": prev,
            "hash": digest,
        },
    )
    uow.bump_case(case, read_version, {**(changes or {}), "version": seq, "head_hash": digest})
    event = Event(seq, action, actor, occurred_at, recorded_at, payload)
    from casechain.services.clocks import on_record  # clocks and report figures follow every event

    on_record(uow, case, event)
    return event


def digest_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

