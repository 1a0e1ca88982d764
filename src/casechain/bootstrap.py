"""Wire things together: one engine per database URL, a unit of work per action."""

from __future__ import annotations

from functools import lru_cache

from casechain.services.common import system_now
from casechain.storage.db import make_engine, resolve_url
from casechain.storage.uow import UnitOfWork


@lru_cache(maxsize=8)
def engine_for(url: str):
    return make_engine(url)


def unit_of_work(db: str | None = None, readonly: bool = False) -> UnitOfWork:
    return UnitOfWork(engine_for(resolve_url(db)), now=system_now, readonly=readonly)
