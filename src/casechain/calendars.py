"""Holiday calendars: ``sops/calendars/NAME.yaml``, one per province or office.

Only clocks whose SOP entry says ``holidays: next_working_day`` or ``skip``
look at a calendar (see ``domain/clocks.py`` for where the law excludes
holidays and where it does not). A file looks like::

    name: punjab
    title: Public holidays, Government of the Punjab
    source: notification No. ... of ...
    weekly_off: [sunday]
    holidays:
      - {date: 2024-03-23, name: Pakistan Day}

``CASECHAIN_CALENDARS`` names an office's own folder, searched first.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path

import yaml

from casechain.domain.clocks import NO_HOLIDAYS, Calendar
from casechain.domain.errors import BadInput
from casechain.resources import sops_dir

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def calendar_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("CASECHAIN_CALENDARS"):
        dirs.append(Path(os.environ["CASECHAIN_CALENDARS"]))
    dirs.append(sops_dir() / "calendars")
    return dirs


def parse_calendar(text: str, source: str) -> Calendar:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise BadInput(f"{source}: not valid YAML: {getattr(err, 'problem', err)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("holidays", []), list):
        raise BadInput(f"{source}: a calendar is a mapping with name, weekly_off and a list of holidays")
    unknown = set(data) - {"name", "title", "source", "note", "weekly_off", "holidays"}
    if unknown:
        raise BadInput(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
    off = set()
    for day in data.get("weekly_off") or []:
        if str(day).lower() not in WEEKDAYS:
            raise BadInput(f"{source}: weekly_off: {day!r} is not a day of the week")
        off.add(WEEKDAYS.index(str(day).lower()))
    days = set()
    for i, entry in enumerate(data.get("holidays") or []):
        value = entry.get("date") if isinstance(entry, dict) else entry
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                value = None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise BadInput(f"{source}: holidays[{i}]: give a date as YYYY-MM-DD")
        days.add(value)
    return Calendar(str(data.get("name") or Path(source).stem), frozenset(days), frozenset(off))


@lru_cache(maxsize=16)
def load_calendar(name: str | None) -> Calendar:
    if not name:
        return NO_HOLIDAYS
    for folder in calendar_dirs():
        path = folder / f"{name}.yaml"
        if path.is_file():
            return parse_calendar(path.read_text(encoding="utf-8"), str(path))
    raise BadInput(f"holiday calendar {name!r} not found (looked for {name}.yaml in {', '.join(str(d) for d in calendar_dirs())})")
