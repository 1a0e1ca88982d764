"""Time: stored in UTC, computed and shown in Pakistan Standard Time.

Every timestamp handled by casechain is timezone-aware. A date-time typed by a
user without an offset is read as Asia/Karachi time, because that is the clock
on the station wall.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from casechain.domain.errors import BadInput

LOCAL = ZoneInfo("Asia/Karachi")
UTC = timezone.utc
LAST_SECOND = time(23, 59, 59)


def parse_when(text: str, what: str = "date-time") -> datetime:
    """ISO-8601 text -> aware UTC datetime; a bare date means local midnight."""
    raw = (text or "").strip()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(
            f"bad {what} {text!r}: use ISO-8601, e.g. 2024-03-01T14:30 (Pakistan time) or 2024-03-01T09:30Z"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 or 9999 pushed past the calendar by the offset
        raise BadInput(f"bad {what} {text!r}: out of range; give a date-time of this era") from None


def as_utc(value: datetime) -> datetime:
    """Aware UTC from a stored value (databases may hand back naive UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso_utc(value: datetime) -> str:
    """Canonical text of an instant, used in the audit chain and JSON output:
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ``. (isoformat, several times quicker than
    strftime on the bulk paths, gives the same text for four-digit years.)"""
    value = as_utc(value)
    if value.year >= 1000:
        return value.isoformat(timespec="microseconds")[:26] + "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_text(value: datetime | None) -> str:
    """How a person reads an instant: Pakistan time, to the minute."""
    if value is None:
        return ""
    return as_utc(value).astimezone(LOCAL).strftime("%Y-%m-%d %H:%M PKT")


# -- dates and instants ---------------------------------------------------------
def local_date(at: datetime) -> date:
    """The date on the station wall (Asia/Karachi) at instant ``at``."""
    return as_utc(at).astimezone(LOCAL).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 Asia/Karachi of ``day``, as aware UTC."""
    return datetime.combine(day, LAST_SECOND, LOCAL).astimezone(UTC)


def start_of_day(day: date) -> datetime:
    """00:00 Asia/Karachi of ``day``, as aware UTC."""
    return datetime.combine(day, time(0, 0), LOCAL).astimezone(UTC)
