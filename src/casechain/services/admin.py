"""Admin actions: create the database, load SOPs, add stations and officers."""

from __future__ import annotations

from pathlib import Path

from casechain.domain.errors import BadInput, Refused
from casechain.domain.roles import POLICE_ROLES, ROLE_NAMES, Role
from casechain.domain.timeutil import as_utc
from casechain.services.common import actor_of, need_text, require_role
from casechain.services.reference import district_row
from casechain.sops import LoadedSop, load_sop, shipped_sop_files
from casechain.storage.db import create_schema
from casechain.storage.tables import Officer, SopRecord, Station
from casechain.storage.uow import UnitOfWork

BADGE_MAX = 32


def init(uow: UnitOfWork, admin_badge: str | None = None, admin_name: str | None = None) -> dict:
    """Create or upgrade the schema, load shipped SOPs, create the first admin. Idempotent."""
    create_schema(uow.engine)
    loaded = [key for key in (store_sop(uow, _shipped(path), path.name) for path in shipped_sop_files()) if key]
    if admin_badge:
        need_text(admin_name, "--name")
        existing = uow.officer(admin_badge)
        if existing is None:
            uow.session.add(Officer(badge=_badge(admin_badge), name=admin_name.strip(), role="admin", district=""))
        elif existing.role != "admin":
            raise BadInput(f"officer {admin_badge} already exists with role {existing.role}")
    uow.commit()
    return {"sops_loaded": loaded, "admins": _admins(uow)}


def store_sop(uow: UnitOfWork, loaded: LoadedSop, label: str) -> str | None:
    """Put a validated SOP version in the database; its key if it is new, None
    if that exact version is already there. A changed file under an old version
    number is refused: cases stay on the rules they were registered under."""
    sop = loaded.sop
    # The digest covers the file(s) as written, so a casechain upgrade that adds
    # a model field (with a default) does not make a stored SOP look changed.
    row = uow.session.get(SopRecord, (sop.name, sop.version))
    if row is None:
        body = sop.model_dump_json(by_alias=True)
        uow.session.add(SopRecord(name=sop.name, version=sop.version, digest=loaded.digest, body=body, loaded_at=as_utc(uow.now())))
        uow.session.flush()
        return sop.key
    if row.digest != loaded.digest:
        built_on = f" (or a file it extends: {', '.join(Path(f).name for f in loaded.files[1:])})" if len(loaded.files) > 1 else ""
        raise BadInput(
            f"{label}: SOP {sop.key} differs from the version already in the database{built_on}; "
            "raise 'version' in the file so that existing cases keep the rules they were registered under"
        )
    return None


_SHIPPED: dict[str, tuple[tuple, LoadedSop]] = {}


def _stamp(files) -> tuple:
    from pathlib import Path

    return tuple((str(f), Path(f).stat().st_mtime_ns, Path(f).stat().st_size) for f in files)


def _shipped(path) -> LoadedSop:
    """A shipped SOP file, parsed once per process while it and the files it
    extends are unchanged on disk (parsing YAML with positions is the slow part
    of init)."""
    hit = _SHIPPED.get(str(path))
    if hit and _stamp(hit[1].files) == hit[0]:
        return hit[1]
    loaded = load_sop(path)
    _SHIPPED[str(path)] = (_stamp(loaded.files), loaded)
    return loaded


def load_sop_into_db(uow: UnitOfWork, actor_badge: str, path: str) -> dict:
    """Load one SOP file (a new version, or an office's own SOP) into the database (admin)."""
    actor = actor_of(uow, actor_badge)
    require_role(actor, Role.ADMIN, doing="load SOPs")
    loaded = load_sop(path)
    key = store_sop(uow, loaded, str(path))
    uow.commit()
    return {"sop": loaded.sop.key, "new": key is not None, "files": list(loaded.files)}


def _admins(uow: UnitOfWork) -> list[str]:
    from sqlmodel import select

    return list(uow.session.exec(select(Officer.badge).where(Officer.role == "admin")).all())


def _badge(badge: str) -> str:
    badge = (badge or "").strip()
    # ASCII only: a badge in another script could pass for an existing one (Cyrillic "ІО-101")
    if not badge or len(badge) > BADGE_MAX or not all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in badge):
        raise BadInput(f"bad badge number {badge!r}: letters, digits, '-', '_' or '.', at most {BADGE_MAX}")
    return badge


def add_station(uow: UnitOfWork, actor_badge: str, code: str, name: str, district: str) -> dict:
    actor = actor_of(uow, actor_badge)
    require_role(actor, Role.ADMIN, doing="add stations")
    code = (code or "").strip().upper()
    if not code or len(code) > 16 or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in code):
        raise BadInput(f"bad station code {code!r}: letters, digits and '-', at most 16 (e.g. CLN)")
    row = district_row(district)
    if uow.station(code) is not None:
        raise BadInput(f"station {code} already exists")
    uow.session.add(Station(code=code, name=need_text(name, "--name"), district=row["district"], province=row["province"]))
    uow.commit()
    return {"code": code, "district": row["district"], "province": row["province"]}


def add_officer(
    uow: UnitOfWork, actor_badge: str, badge: str, name: str, role: str, district: str, station: str | None
) -> dict:
    actor = actor_of(uow, actor_badge)
    require_role(actor, Role.ADMIN, doing="add officers")
    badge = _badge(badge)
    if role not in ROLE_NAMES:
        raise BadInput(f"unknown role {role!r}: use one of {', '.join(ROLE_NAMES)}")
    role_ = Role(role)
    if uow.officer(badge) is not None:
        raise BadInput(f"officer {badge} already exists")
    district_name = district_row(district)["district"] if role_ is not Role.ADMIN or district else ""
    station_code = None
    if role_ in POLICE_ROLES:
        if not station:
            raise BadInput(f"a {role} belongs to a police station: give --station CODE")
        st = uow.station(station)
        if st is None:
            raise BadInput(f"unknown station {station!r}: add it first (station add)")
        if st.district != district_name:
            raise BadInput(f"station {st.code} is in {st.district}, not {district_name}")
        station_code = st.code
    elif station:
        raise Refused(f"a {role} works for a district, not a station: leave out --station")
    uow.session.add(Officer(badge=badge, name=need_text(name, "--name"), role=role, district=district_name, station=station_code))
    uow.commit()
    return {"badge": badge, "role": role, "district": district_name, "station": station_code}


def list_officers(uow: UnitOfWork, role: str | None = None, district: str | None = None) -> list[dict]:
    from sqlmodel import select

    q = select(Officer).order_by(Officer.badge)
    if role:
        q = q.where(Officer.role == role)
    if district:
        q = q.where(Officer.district == district_row(district)["district"])
    return [
        {"badge": o.badge, "name": o.name, "role": o.role, "district": o.district, "station": o.station, "active": o.active}
        for o in uow.session.exec(q).all()
    ]


def list_stations(uow: UnitOfWork) -> list[dict]:
    from sqlmodel import select

    return [
        {"code": s.code, "name": s.name, "district": s.district, "province": s.province}
        for s in uow.session.exec(select(Station).order_by(Station.code)).all()
    ]
