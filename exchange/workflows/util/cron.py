"""Cron expressions for workflow schedules: parse one, find its next fire time in a time zone, describe it.

    spec = cron.parse("0 6,18 * * MON-FRI")
    spec.next_fire(now_ms, zone)        # epoch ms of the first fire strictly after now_ms
    cron.describe(spec)                 # "at 06:00 and 18:00 on weekdays (Mon-Fri)"

Five fields (minute hour day-of-month month day-of-week) or six with the seconds first; `*`, `?` (day fields),
lists, ranges, steps (`*/15`, `10-50/5`, `5/15`), JAN-DEC and SUN-SAT, day-of-week 0-7 (0 and 7 are Sunday) and
the macros @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly. Day-of-month and day-of-week combine
as in Vixie cron: when neither field starts with `*` (or is `?`) a day matches if either does, otherwise both must.

A spec matches the wall clock of a zone: any object with `name` and `offset_ms(utc_ms)` (the zone's offset from
UTC at that instant, in ms); `UTC` is here, named zones come from `host/timezones.py`. Across daylight-saving
changes a wall time that does not exist (the hour skipped in spring) does not fire, and one that occurs twice (the
hour repeated in autumn) fires once, at its first occurrence.

Only integer arithmetic on epoch milliseconds (no `datetime`, no `time.mktime`): the same answers under CPython
and Jython 2.7.
"""
import bisect

from exchange.workflows.util.compat import is_integer, string_types
from exchange.workflows.util.errors import InvalidArgument

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

# how far next_fire looks before it gives up: the Gregorian calendar repeats itself every 400 years
HORIZON_YEARS = 400


class CronError(InvalidArgument):
    """A cron expression that cannot be used; `field` is always "cron", the message names the cron field."""

    def __init__(self, message, data=None):
        InvalidArgument.__init__(self, message, field="cron", data=data)


# -- time zones -------------------------------------------------------------------------------------------------------

class FixedOffsetZone(object):
    """A zone whose offset from UTC never changes."""

    def __init__(self, name, offset_ms=0):
        self.name = name
        self.fixed_offset_ms = int(offset_ms)

    def offset_ms(self, utc_ms):
        return self.fixed_offset_ms

    def __repr__(self):
        return "FixedOffsetZone(%r, %d)" % (self.name, self.fixed_offset_ms)


UTC = FixedOffsetZone("UTC", 0)


# -- the civil calendar -----------------------------------------------------------------------------------------------
# Years are counted from March, so that a leap day is the last day of its year; _MARCH_DAYS[i] is the number of days
# from March 1 to the first of the i-th month after March (0 = March ... 11 = February).

_MARCH_DAYS = (0, 31, 61, 92, 122, 153, 184, 214, 245, 275, 306, 337)
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MOST_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DAYS_PER_400_YEARS = 146097


def _days_before_march_year(y):
    """Days from March 1 of year 0 to March 1 of year y (y >= 0), proleptic Gregorian."""
    return 365 * y + y // 4 - y // 100 + y // 400


def _march_day_number(year, month, day):
    if month <= 2:
        year -= 1
        index = month + 9
    else:
        index = month - 3
    cycles, year_in_cycle = divmod(year, 400)
    return cycles * _DAYS_PER_400_YEARS + _days_before_march_year(year_in_cycle) + _MARCH_DAYS[index] + day - 1


_EPOCH_DAY = _march_day_number(1970, 1, 1)


def days_from_civil(year, month, day):
    """Days from 1970-01-01 to the given date (negative before it)."""
    return _march_day_number(year, month, day) - _EPOCH_DAY


def civil_from_days(days):
    """(year, month, day) of the day `days` after 1970-01-01."""
    cycles, rest = divmod(days + _EPOCH_DAY, _DAYS_PER_400_YEARS)
    year = rest * 400 // _DAYS_PER_400_YEARS  # a guess, at most one off
    while _days_before_march_year(year + 1) <= rest:
        year += 1
    while _days_before_march_year(year) > rest:
        year -= 1
    day_of_year = rest - _days_before_march_year(year)
    index = bisect.bisect_right(_MARCH_DAYS, day_of_year) - 1
    day = day_of_year - _MARCH_DAYS[index] + 1
    if index < 10:
        month = index + 3
    else:
        month = index - 9
        year += 1
    return cycles * 400 + year, month, day


def is_leap_year(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year, month):
    if month == 2 and is_leap_year(year):
        return 29
    return _DAYS_IN_MONTH[month]


def weekday_of_days(days):
    """0 = Sunday ... 6 = Saturday for a day number of days_from_civil (1970-01-01 was a Thursday)."""
    return (days + 4) % 7


# -- parsing ----------------------------------------------------------------------------------------------------------

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


class _Field(object):
    """One position of an expression: its name, the values it allows, the bounds of `*`, its names."""

    def __init__(self, name, low, high, star_high=None, names=None, name_base=0, question=False):
        self.name = name
        self.low = low
        self.high = high
        self.star_high = high if star_high is None else star_high
        self.names = dict([(n, i + name_base) for i, n in enumerate(names)]) if names else {}
        self.question = question

    def allowed(self):
        text = "%d-%d" % (self.low, self.high)
        if self.name == "month":
            text += " or JAN-DEC"
        elif self.name == "day-of-week":
            text += " or SUN-SAT (0 and 7 are Sunday)"
        return text


_SECOND = _Field("second", 0, 59)
_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DOM = _Field("day-of-month", 1, 31, question=True)
_MONTH = _Field("month", 1, 12, names=_MONTH_NAMES, name_base=1)
# `*` and `N/step` run over 0-6 (one week, Sunday once); 7 may still be written for Sunday
_DOW = _Field("day-of-week", 0, 7, star_high=6, names=_DAY_NAMES, question=True)

_FIVE = (_MINUTE, _HOUR, _DOM, _MONTH, _DOW)
_SIX = (_SECOND,) + _FIVE

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def _number(field, token, item):
    if token.isdigit():
        value = int(token)
    elif token.upper() in field.names:
        value = field.names[token.upper()]
    else:
        raise CronError("cron field '%s' has %s: %s" % (field.name, _quote(item), _expected(field)))
    if value < field.low or value > field.high:
        raise CronError("cron field '%s' has %d: allowed %s" % (field.name, value, field.allowed()))
    return value


def _quote(item):
    return "'%s'" % item


def _expected(field):
    what = "a number"
    if field.name == "month":
        what = "a number or a month name (JAN-DEC)"
    elif field.name == "day-of-week":
        what = "a number or a day name (SUN-SAT)"
    return "expected %s, a range a-b, a step */n, a-b/n or a/n, a list of these, or *" % what


def _expand_item(field, item, field_text):
    """The values of one list item of a field."""
    if item == "":
        raise CronError("cron field '%s' has an empty list item in '%s'" % (field.name, field_text))
    if item == "?":
        raise CronError("cron field '%s' has '?' in a list: '?' stands alone, for the whole field" % field.name)
    parts = item.split("/")
    if len(parts) > 2:
        raise CronError("cron field '%s' has %s: %s" % (field.name, _quote(item), _expected(field)))
    base = parts[0]
    step = 1
    if len(parts) == 2:
        if not parts[1].isdigit():
            raise CronError("cron field '%s' has %s: the step after '/' must be a whole number" % (
                field.name, _quote(item)))
        step = int(parts[1])
        if step == 0:
            raise CronError("cron field '%s' has step 0 in %s: a step must be 1 or more" % (field.name, _quote(item)))
        if base == "":
            raise CronError("cron field '%s' has %s: a step needs a start, as in */n, a-b/n or a/n" % (
                field.name, _quote(item)))
    if base == "*":
        low, high = field.low, field.star_high
    elif "-" in base:
        bounds = base.split("-")
        if len(bounds) != 2 or bounds[0] == "" or bounds[1] == "":
            raise CronError("cron field '%s' has %s: %s" % (field.name, _quote(item), _expected(field)))
        low = _number(field, bounds[0], item)
        high = _number(field, bounds[1], item)
        if field is _DOW and high == 0 and low > 0 and not bounds[1].isdigit():
            high = 7  # MON-SUN: Sunday at the end of the week
        if low > high:
            raise CronError("cron field '%s' has the reversed range %s: write the lower bound first (allowed %s)" % (
                field.name, _quote(base), field.allowed()))
    else:
        low = _number(field, base, item)
        high = field.star_high if len(parts) == 2 else low
        if high < low:  # 7/2 in day-of-week
            high = low
    return range(low, high + 1, step)


def _expand_field(field, text):
    """(sorted values, starred) of one field; starred: it starts with * or is ? (for the day rule)."""
    if text == "?":
        if not field.question:
            raise CronError("cron field '%s' has '?': '?' is only allowed in day-of-month and day-of-week" % field.name)
        return list(range(field.low, field.star_high + 1)), True
    values = set()
    for item in text.split(","):
        for value in _expand_item(field, item, text):
            values.add(0 if (field is _DOW and value == 7) else value)
    return sorted(values), text.startswith("*")


def _flags(values, size):
    flags = [False] * size
    for value in values:
        flags[value] = True
    return flags


def parse(text):
    """The CronSpec of a cron expression; raises CronError naming the field that is wrong."""
    if not isinstance(text, string_types):
        raise CronError("cron expression must be a string, got %s" % type(text).__name__)
    stripped = text.strip()
    if not stripped:
        raise CronError("cron expression is empty: write 5 fields (minute hour day-of-month month day-of-week), "
                        "6 with seconds first, or a macro such as @daily")
    expression = stripped
    if stripped.startswith("@"):
        expression = MACROS.get(stripped.lower())
        if expression is None:
            raise CronError("unknown cron macro '%s': use %s" % (stripped, _macro_list()))
    words = expression.split()
    if len(words) == 5:
        fields = _FIVE
    elif len(words) == 6:
        fields = _SIX
    else:
        raise CronError("cron needs 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), "
                        "got %d" % len(words))
    expanded = {}
    starred = {}
    texts = {}
    for field, word in zip(fields, words):
        expanded[field.name], starred[field.name] = _expand_field(field, word)
        texts[field.name] = word
    if len(words) == 5:
        expanded["second"], starred["second"], texts["second"] = [0], False, "0"
    return CronSpec(text, len(words) == 6, expanded, starred, texts)


def _macro_list():
    names = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]
    return ", ".join(names[:-1]) + " or " + names[-1]


class CronSpec(object):
    """A parsed cron expression: `text` (as given), `has_seconds`, and the allowed values of each field as sorted
    tuples: `seconds` ((0,) without a seconds field), `minutes`, `hours`, `days` (of the month), `months`,
    `weekdays` (0 = Sunday ... 6 = Saturday)."""

    def __init__(self, text, has_seconds, expanded, starred, texts):
        self.text = text
        self.has_seconds = bool(has_seconds)
        self.seconds = tuple(expanded["second"])
        self.minutes = tuple(expanded["minute"])
        self.hours = tuple(expanded["hour"])
        self.days = tuple(expanded["day-of-month"])
        self.months = tuple(expanded["month"])
        self.weekdays = tuple(expanded["day-of-week"])
        self.field_texts = texts
        # Vixie cron: either day field starting with * makes both necessary, otherwise either one is enough
        self.day_or = not starred["day-of-month"] and not starred["day-of-week"]
        dom_all = len(self.days) == 31
        dow_all = len(self.weekdays) == 7
        if self.day_or:
            self._day_mode = "all" if (dom_all or dow_all) else "or"
        elif dom_all:
            self._day_mode = "all" if dow_all else "dow"
        else:
            self._day_mode = "dom" if dow_all else "and"
        self._second_ok = _flags(self.seconds, 61)
        self._minute_ok = _flags(self.minutes, 61)
        self._hour_ok = _flags(self.hours, 25)
        self._month_ok = _flags(self.months, 14)
        self._dom_ok = _flags(self.days, 33)
        self._dow_ok = _flags(self.weekdays, 7)
        self._check_fires()

    def __repr__(self):
        return "CronSpec(%r)" % (self.text,)

    def _check_fires(self):
        """Raise CronError for a day-of-month that no allowed month has (Feb 30): such a spec never fires.

        Any other spec fires within the 400 years the calendar takes to repeat: every month has every weekday,
        and every date that exists (February 29 included) falls on every weekday in some year."""
        if self._day_mode not in ("dom", "and"):
            return
        for month in self.months:
            if self.days[0] <= _MOST_DAYS_IN_MONTH[month]:
                return
        raise CronError("cron '%s' never fires: field 'day-of-month' (%s) has no day that field 'month' (%s) has" % (
            self.text.strip(), self.field_texts["day-of-month"], self.field_texts["month"]))

    # -- the next fire time ---------------------------------------------------------------------------------------

    def next_fire(self, after_ms, zone=UTC):
        """Epoch ms of the first fire strictly after `after_ms`, matching the wall clock of `zone`."""
        if not is_integer(after_ms):
            if isinstance(after_ms, float):
                after_ms = int(after_ms // 1)
            else:
                raise InvalidArgument("after_ms must be epoch milliseconds, got %r" % (after_ms,), field="after_ms")
        if zone is None:
            zone = UTC
        step = SECOND_MS if self.has_seconds else MINUTE_MS
        fixed = getattr(zone, "fixed_offset_ms", None)
        if fixed is not None:
            local = after_ms + fixed
        else:
            local = after_ms + zone.offset_ms(after_ms)
        candidate = (local // step) * step + step
        last_year = civil_from_days(candidate // DAY_MS)[0] + HORIZON_YEARS
        while True:
            found = self._next_local(candidate, last_year)
            if found is None:
                raise CronError("cron '%s' does not fire within %d years after %d in zone %s" % (
                    self.text.strip(), HORIZON_YEARS, after_ms, getattr(zone, "name", zone)))
            if fixed is not None:
                return found - fixed
            utc, resume = _wall_to_utc(zone, found, after_ms)
            if utc is not None:
                return utc
            candidate = found + step
            if resume is not None and resume > candidate:
                candidate = -((-resume) // step) * step  # the first grid point at or after it

    def _next_local(self, wall_ms, last_year):
        """The first wall time (ms) at or after `wall_ms` that the spec matches, or None past `last_year`."""
        days, rest = divmod(wall_ms, DAY_MS)
        year, month, day = civil_from_days(days)
        hour, rest = divmod(rest, HOUR_MS)
        minute, rest = divmod(rest, MINUTE_MS)
        second = rest // SECOND_MS
        found = self._search(year, month, day, hour, minute, second, last_year)
        if found is None:
            return None
        year, month, day, hour, minute, second = found
        return (days_from_civil(year, month, day) * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS
                + second * SECOND_MS)

    def _search(self, year, month, day, hour, minute, second, last_year):
        """Advance field by field (a field past its last allowed value carries into the next larger one)."""
        months, hours, minutes, seconds = self.months, self.hours, self.minutes, self.seconds
        month_ok, hour_ok, minute_ok, second_ok = self._month_ok, self._hour_ok, self._minute_ok, self._second_ok
        while year <= last_year:
            if not month_ok[month]:
                index = bisect.bisect_right(months, month)
                if index == len(months):
                    year += 1
                    month = months[0]
                else:
                    month = months[index]
                day, hour, minute, second = 1, 0, 0, 0
                if year > last_year:
                    return None
            found = self._next_day(year, month, day)
            if found is None:
                month += 1
                if month > 12:
                    month = 1
                    year += 1
                day, hour, minute, second = 1, 0, 0, 0
                continue
            if found != day:
                day, hour, minute, second = found, 0, 0, 0
            if not hour_ok[hour]:
                index = bisect.bisect_right(hours, hour)
                if index == len(hours):
                    day, hour, minute, second = day + 1, 0, 0, 0
                    continue
                hour, minute, second = hours[index], 0, 0
            if not minute_ok[minute]:
                index = bisect.bisect_right(minutes, minute)
                if index == len(minutes):
                    hour, minute, second = hour + 1, 0, 0
                    continue
                minute, second = minutes[index], 0
            if not second_ok[second]:
                index = bisect.bisect_right(seconds, second)
                if index == len(seconds):
                    minute, second = minute + 1, 0
                    continue
                second = seconds[index]
            return year, month, day, hour, minute, second
        return None

    def _next_day(self, year, month, day):
        """The first day of the month at or after `day` that the day fields allow, or None."""
        last = days_in_month(year, month)
        if day > last:
            return None
        mode = self._day_mode
        if mode == "all":
            return day
        if mode == "dom":
            index = bisect.bisect_left(self.days, day)
            if index < len(self.days) and self.days[index] <= last:
                return self.days[index]
            return None
        weekday = weekday_of_days(days_from_civil(year, month, day))
        dom_ok, dow_ok = self._dom_ok, self._dow_ok
        while day <= last:
            if mode == "dow":
                if dow_ok[weekday]:
                    return day
            elif mode == "and":
                if dom_ok[day] and dow_ok[weekday]:
                    return day
            elif dom_ok[day] or dow_ok[weekday]:
                return day
            day += 1
            weekday = 0 if weekday == 6 else weekday + 1
        return None


def _wall_to_utc(zone, wall_ms, after_ms):
    """(utc, None) when the wall time fires at utc (> after_ms); (None, resume_wall_ms or None) when it does not.

    The wall time can be read with the offset in force a day before or a day after it; each reading u = wall - o
    is real when the zone's offset at u is o. No real reading: the wall time was skipped (spring), resume at the
    end of the gap. Two: it occurs twice (autumn) and fires at the earlier one; when that one is not after
    after_ms it has fired already, resume at the end of the repeated stretch."""
    before = zone.offset_ms(wall_ms - DAY_MS)
    after = zone.offset_ms(wall_ms + DAY_MS)
    if before == after:
        utc = wall_ms - before
        if zone.offset_ms(utc) == before:
            return (utc, None) if utc > after_ms else (None, None)
        return None, None
    real = [wall_ms - o for o in (before, after) if zone.offset_ms(wall_ms - o) == o]
    if not real:
        if after > before:  # clocks went forward: the gap ends at the change, read with the new offset
            change = _change_instant(zone, wall_ms - after, wall_ms - before, before)
            return None, (None if change is None else change + after)
        return None, None
    utc = min(real)
    if utc > after_ms:
        return utc, None
    if len(real) == 2:  # clocks went back: the repeated stretch ends at the change, read with the old offset
        change = _change_instant(zone, min(real), max(real), zone.offset_ms(min(real)))
        return None, (None if change is None else change + zone.offset_ms(change - SECOND_MS))
    return None, None


def _change_instant(zone, low_ms, high_ms, low_offset):
    """The first whole second in (low_ms, high_ms] whose offset differs from low_offset (bisection), or None."""
    low = low_ms // SECOND_MS
    high = -((-high_ms) // SECOND_MS)
    if zone.offset_ms(low * SECOND_MS) != low_offset or zone.offset_ms(high * SECOND_MS) == low_offset:
        return None
    while high - low > 1:
        middle = (low + high) // 2
        if zone.offset_ms(middle * SECOND_MS) == low_offset:
            low = middle
        else:
            high = middle
    return high * SECOND_MS


# -- describe ---------------------------------------------------------------------------------------------------------

_MONTH_SHORT = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_LONG = ("", "January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")
_DAY_SHORT = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_DAY_LONG = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MOST_TIMES = 6  # more times of day than this are described by their fields
_MOST_PARTS = 6  # more list parts than this are shown as the field was written


def describe(spec_or_text):
    """Short English text of a schedule for an operator console ("at 02:00 every day"); text is parsed first
    (CronError for a bad one). Never raises for a valid spec."""
    spec = spec_or_text if isinstance(spec_or_text, CronSpec) else parse(spec_or_text)
    try:
        return _describe(spec)
    except Exception:  # noqa: BLE001 - a description must never break a console page
        return _fields_text(spec)


def _fields_text(spec):
    names = (("second",) if spec.has_seconds else ()) + ("minute", "hour", "day-of-month", "month", "day-of-week")
    return "cron " + ", ".join(["%s %s" % (name, spec.field_texts.get(name, "?")) for name in names])


def _join(words, conjunction="and"):
    words = list(words)
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " " + conjunction + " " + words[-1]


def _parts(values, label=str):
    """Sorted values as list parts: runs of three or more become a-b."""
    parts = []
    index = 0
    while index < len(values):
        end = index
        while end + 1 < len(values) and values[end + 1] == values[end] + 1:
            end += 1
        if end - index >= 2:
            parts.append("%s-%s" % (label(values[index]), label(values[end])))
        else:
            parts.extend([label(v) for v in values[index:end + 1]])
        index = end + 1
    return parts


def _values(spec, name, values, singular, plural, label=str):
    """'minute 15', 'minutes 0 and 30', 'hours 9-17', or as written when the list is long."""
    parts = _parts(list(values), label)
    if len(parts) > _MOST_PARTS:
        return "%s %s" % (plural, spec.field_texts[name])
    if len(values) == 1:
        return "%s %s" % (singular, parts[0])
    return "%s %s" % (plural, _join(parts))


def _every(values, size):
    """n when values are 0, n, 2n, ... covering a cycle of `size` evenly (n > 1), else None."""
    if len(values) < 2 or values[0] != 0:
        return None
    n = values[1]
    if size % n or tuple(values) != tuple(range(0, size, n)):
        return None
    return n


def _is_run(values):
    return len(values) >= 2 and values[-1] - values[0] == len(values) - 1


def _clock(hour, minute, second=None):
    if second:
        return "%02d:%02d:%02d" % (hour, minute, second)
    return "%02d:%02d" % (hour, minute)


def _describe(spec):
    time_text, frequency = _time_phrase(spec)
    day_text = _day_phrase(spec)
    if frequency:
        if day_text.startswith("every day in "):
            day_text = day_text[len("every day "):]  # "every minute in January"
        return time_text + (" " + day_text if day_text else "")
    return time_text + " " + (day_text or "every day")


def _time_phrase(spec):
    """(text, is_frequency): "every 10 minutes" is a frequency, "at 02:00" is not."""
    seconds, minutes, hours = spec.seconds, spec.minutes, spec.hours
    all_seconds, all_minutes, all_hours = len(seconds) == 60, len(minutes) == 60, len(hours) == 24
    if seconds != (0,):
        second_step = _every(seconds, 60)
        if all_minutes and all_hours:
            if all_seconds:
                return "every second", True
            if second_step:
                return "every %d seconds" % second_step, True
            if len(seconds) == 1:
                return "at second %d of every minute" % seconds[0], True
        if len(seconds) == 1 and len(minutes) * len(hours) <= _MOST_TIMES:
            return _at_times(hours, minutes, seconds[0]), False
        return _generic_time(spec), True
    minute_step = _every(minutes, 60)
    hour_step = _every(hours, 24)
    if all_hours:
        if all_minutes:
            return "every minute", True
        if minute_step:
            return "every %d minutes" % minute_step, True
        if minutes == (0,):
            return "every hour", True
        return "at %s of every hour" % _values(spec, "minute", minutes, "minute", "minutes"), True
    if len(minutes) * len(hours) <= _MOST_TIMES:
        return _at_times(hours, minutes), False
    if _is_run(hours):
        if all_minutes:
            return "every minute from %s to %s" % (_clock(hours[0], 0), _clock(hours[-1], 59)), True
        if minute_step:
            return "every %d minutes from %s to %s" % (
                minute_step, _clock(hours[0], 0), _clock(hours[-1], minutes[-1])), True
        if len(minutes) == 1:
            return "every hour from %s to %s" % (_clock(hours[0], minutes[0]), _clock(hours[-1], minutes[0])), True
    if hour_step and len(minutes) == 1:
        if minutes[0] == 0:
            return "every %d hours" % hour_step, True
        return "every %d hours at minute %d" % (hour_step, minutes[0]), True
    return _generic_time(spec), True


def _at_times(hours, minutes, second=None):
    times = [_clock(h, m, second) for h in hours for m in minutes]
    return "at " + _join(times)


def _generic_time(spec):
    pieces = []
    if spec.seconds != (0,):
        pieces.append("every second" if len(spec.seconds) == 60 else
                      "at " + _values(spec, "second", spec.seconds, "second", "seconds"))
    if len(spec.minutes) == 60:
        pieces.append("every minute")
    else:
        pieces.append(("" if pieces else "at ") + _values(spec, "minute", spec.minutes, "minute", "minutes"))
    if len(spec.hours) == 24:
        pieces.append("every hour")
    else:
        pieces.append(_values(spec, "hour", spec.hours, "hour", "hours"))
    return " of ".join(pieces)


def _weekday_text(weekdays):
    if weekdays == (1, 2, 3, 4, 5):
        return "weekdays (Mon-Fri)"
    if weekdays == (0, 6):
        return "weekends (Sat-Sun)"
    if len(weekdays) == 1:
        return _DAY_LONG[weekdays[0]] + "s"
    return _join(_parts(list(weekdays), lambda d: _DAY_SHORT[d]))


def _month_text(months):
    if len(months) == 1:
        return _MONTH_LONG[months[0]]
    return _join(_parts(list(months), lambda m: _MONTH_SHORT[m]))


def _day_phrase(spec):
    """"" for every day of every month, else "on weekdays (Mon-Fri)", "on day 1 of every month", ..."""
    mode = spec._day_mode
    all_months = len(spec.months) == 12
    days = _values(spec, "day-of-month", spec.days, "day", "days")
    if mode == "all":
        return "" if all_months else "every day in " + _month_text(spec.months)
    months = "" if all_months else " in " + _month_text(spec.months)
    if mode == "dow":
        return "on " + _weekday_text(spec.weekdays) + months
    if mode == "dom":
        return "on %s of %s" % (days, "every month" if all_months else _month_text(spec.months))
    if mode == "or":
        return "on %s or on %s%s" % (days, _weekday_text(spec.weekdays), months)
    verb = "falls" if len(spec.days) == 1 else "fall"
    return "on %s that %s on %s%s" % (days, verb, _weekday_text(spec.weekdays), months)
