"""Who may act, and where.

Roles (see DOMAIN.md):
- ``io``: Investigation Officer of a police station (ASI/SI/Inspector).
- ``sho``: Station House Officer, officer in charge of the station.
- ``prosecutor``: ADPP/DPP, works for a district.
- ``supervisor``: SP Investigation, SDPO, District Public Prosecutor; reads
  everything in the district and may override a blocked step with a reason.
- ``admin``: manages stations, officers and SOPs; never acts on cases.

Jurisdiction: police roles belong to a station, prosecutors and supervisors to
a district. Nobody acts on cases outside their jurisdiction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    IO = "io"
    SHO = "sho"
    PROSECUTOR = "prosecutor"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLE_NAMES = tuple(r.value for r in Role)
POLICE_ROLES = frozenset({Role.IO, Role.SHO})


@dataclass(frozen=True)
class Actor:
    """The officer performing an action."""

    badge: str
    name: str
    role: Role
    district: str
    station: str | None = None


@dataclass(frozen=True)
class Place:
    """Where a case belongs: its police station and that station's district."""

    station: str
    district: str
    io: str | None = None


def jurisdiction_problem(actor: Actor, place: Place) -> str | None:
    """Why ``actor`` may not act on a case at ``place``, or None if they may.

    An IO must be of the case's station *and* the IO assigned to it; an SHO
    acts on any case of their station; prosecutors and supervisors on any case
    of their district; an admin never acts on cases.
    """
    if actor.role is Role.ADMIN:
        return f"{actor.badge} is an admin: admins manage officers and SOPs, not cases"
    if actor.role in POLICE_ROLES:
        if actor.station != place.station:
            return f"{actor.badge} belongs to station {actor.station}, the case to station {place.station}"
        if actor.role is Role.IO and place.io != actor.badge:
            assigned = place.io or "nobody"
            return f"{actor.badge} is not the IO of this case (assigned: {assigned})"
        return None
    if actor.district != place.district:
        return f"{actor.badge} works in district {actor.district}, the case is in {place.district}"
    return None
