"""Time zones by IANA name for schedules (util/cron.py): java.time under Jython, zoneinfo under CPython.

    zone("Europe/Berlin").offset_ms(utc_ms)   # the zone's offset from UTC at that instant, in ms

A zone is an object with `name` and `offset_ms(utc_ms)`; zones are made once per name and kept. "UTC",
"Etc/UTC" and "Z" are fixed zones that never ask the time-zone database.
"""
import re
import sys
import threading

from exchange.workflows.util import cron
from exchange.workflows.util.compat import string_types
from exchange.workflows.util.errors import InvalidArgument

_JYTHON = sys.platform.startswith("java")

# Area/Location[/Sublocation] and the few single-word names (UTC, EST5EDT, GMT+0): letters, digits, _ + - only,
# so no path of the file system (/etc/localtime, ../x) and no java.time offset id (+02:00, UTC+1) gets through
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")
_UTC_NAMES = ("UTC", "Etc/UTC", "Z")

_zones = {}
_lock = threading.Lock()


class UnknownTimeZone(InvalidArgument):
    """A time-zone name that is not a zone of the IANA database; `field` is "timezone"."""

    def __init__(self, message, data=None):
        InvalidArgument.__init__(self, message, field="timezone", data=data)


def _unknown(name):
    if not isinstance(name, string_types):
        shown = "a %s (%r)" % (type(name).__name__, name)
        return UnknownTimeZone("time zone must be a string naming an IANA zone such as 'Europe/Berlin' or "
                               "'America/Chicago', got %s" % shown)
    if not name.strip():
        return UnknownTimeZone("time zone is empty: use an IANA name such as 'Europe/Berlin' or 'America/Chicago'")
    return UnknownTimeZone("unknown time zone '%s': use an IANA name such as 'Europe/Berlin' or 'America/Chicago'"
                           % name)


def zone(name):
    """The zone named `name` (an IANA name such as "America/Chicago"); raises UnknownTimeZone."""
    if not isinstance(name, string_types):
        raise _unknown(name)
    found = _zones.get(name)
    if found is not None:
        return found
    if name in _UTC_NAMES:
        made = cron.UTC if name == "UTC" else cron.FixedOffsetZone(name, 0)
    elif not _NAME.match(name) or ".." in name:
        raise _unknown(name)
    elif _JYTHON:
        made = _java_zone(name)
    else:
        made = _python_zone(name)
    with _lock:
        return _zones.setdefault(name, made)


def _java_zone(name):
    from java.lang import Throwable
    from java.time import ZoneId

    # only region ids of the tz database: ZoneId.of would also take offsets such as "UTC+1" or "GMT-03:30"
    if not ZoneId.getAvailableZoneIds().contains(name):
        raise _unknown(name)
    try:
        rules = ZoneId.of(name).getRules()
    except Throwable:  # a Java exception is no Python Exception under Jython
        raise _unknown(name)
    return _JavaZone(name, rules)


class _JavaZone(object):
    def __init__(self, name, rules):
        from java.time import Instant

        self.name = name
        self._rules = rules
        self._instant = Instant.ofEpochMilli

    def offset_ms(self, utc_ms):
        return self._rules.getOffset(self._instant(utc_ms)).getTotalSeconds() * 1000

    def __repr__(self):
        return "zone(%r)" % self.name


# zoneinfo answers for years 1 to 9999; instants beyond take the offset at the edge
_PY_MIN_S = -62135596800 + 2 * 86400
_PY_MAX_S = 253402300799 - 2 * 86400


def _python_zone(name):
    try:
        import zoneinfo
    except ImportError:  # Python < 3.9
        raise UnknownTimeZone("time zones need Python 3.9 or later (zoneinfo) under CPython")
    try:
        info = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        raise _unknown(name)
    return _PythonZone(name, info)


class _PythonZone(object):
    def __init__(self, name, info):
        import datetime

        self.name = name
        self._info = info
        self._from_seconds = datetime.datetime.fromtimestamp

    def offset_ms(self, utc_ms):
        seconds = utc_ms // 1000
        if seconds < _PY_MIN_S:
            seconds = _PY_MIN_S
        elif seconds > _PY_MAX_S:
            seconds = _PY_MAX_S
        delta = self._from_seconds(seconds, self._info).utcoffset()
        return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000

    def __repr__(self):
        return "zone(%r)" % self.name
