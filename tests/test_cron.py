"""Cron schedules (exchange/workflows/util/cron.py) and time zones (host/timezones.py) under CPython: next fire
times against the croniter library for thousands of random expressions, daylight-saving changes by hand, every
error path, and the descriptions the console shows. tests/jython/test_cron.py checks answers of this file under
Jython, with java.time zones."""
import datetime
import random
import time

import pytest
from croniter import croniter

from exchange.workflows.host import timezones
from exchange.workflows.host.timezones import UnknownTimeZone
from exchange.workflows.util import cron
from exchange.workflows.util.cron import CronError

UTC = datetime.timezone.utc


def _ms(iso):
    """Epoch ms of an ISO time with its offset, e.g. '2026-03-09T02:30:00-04:00' (read by datetime, not by cron)."""
    return int(datetime.datetime.fromisoformat(iso).timestamp()) * 1000


def _fires(text, after_iso, zone, count):
    spec = cron.parse(text)
    t = _ms(after_iso)
    out = []
    for _ in range(count):
        t = spec.next_fire(t, zone)
        out.append(t)
    return out


# -- the calendar -------------------------------------------------------------------------------------------------------

def test_the_civil_calendar_agrees_with_datetime():
    epoch = datetime.date(1970, 1, 1)
    days = list(range(-3000, 3000)) + list(range(-719162, 2932896, 997)) + [-719162, 2932896]
    for n in days:
        d = epoch + datetime.timedelta(days=n)
        assert cron.civil_from_days(n) == (d.year, d.month, d.day), n
        assert cron.days_from_civil(d.year, d.month, d.day) == n
        assert cron.weekday_of_days(n) == d.isoweekday() % 7
    assert [cron.days_in_month(y, 2) for y in (1900, 2000, 2024, 2026, 2100)] == [28, 29, 29, 28, 28]


# -- against croniter ---------------------------------------------------------------------------------------------------
# croniter 7 reads a six-field expression with the seconds last unless second_at_beginning=True (used here).
# Its day rule is Vixie's with implement_cron_bug=True: without it croniter ORs the two day fields whenever both are
# restricted, even when one starts with '*' (e.g. '*/2' and 'MON'), where Vixie cron (and cron.py) ANDs them.
# Three corners where croniter differs on purpose are not generated:
# - an equal range written out ('5-5', 'JAN-JAN', '5-5/2'): croniter takes it as the whole field, cron.py as 5;
# - '*' inside a list but not first ('1,*/3'): croniter decides the day rule by whether '*' appears anywhere in
#   the other day field when one of them covers every day, Vixie (and cron.py) by whether the field starts with '*';
# - day-of-week '0-7' (with or without a step): croniter folds 7 into 0 first and so sees the equal range 0-0.
# croniter's wrap-around ranges ('FRI-MON') and its extensions (L, W, #, H) are rejected or not generated.

_RANGES = {"second": (0, 59), "minute": (0, 59), "hour": (0, 23), "day-of-month": (1, 31), "month": (1, 12),
           "day-of-week": (0, 7)}
_NAMES = {"month": ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
          "day-of-week": ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]}


class _Generator(object):
    def __init__(self, seed):
        self.rnd = random.Random(seed)

    def value(self, field, number):
        names = _NAMES.get(field)
        if names and self.rnd.random() < 0.4:
            name = names[number - 1] if field == "month" else names[number % 7]
            return self.rnd.choice([name, name.lower(), name.capitalize()])
        return str(number)

    def bounds(self, field):
        low, high = _RANGES[field]
        a = self.rnd.randint(low, high - 1)
        b = self.rnd.randint(a + 1, high)
        if field == "day-of-week" and (a, b) == (0, 7):
            b = 6
        return a, b

    def item(self, field):
        low, high = _RANGES[field]
        star_high = 6 if field == "day-of-week" else high
        kind = self.rnd.random()
        if kind < 0.35:
            return self.value(field, self.rnd.randint(low, high))
        if kind < 0.6:
            a, b = self.bounds(field)
            return "%s-%s" % (self.value(field, a), self.value(field, b))
        if kind < 0.8:
            a, b = self.bounds(field)
            return "%s-%s/%d" % (self.value(field, a), self.value(field, b), self.rnd.randint(1, b - a + 2))
        start = self.rnd.randint(low, star_high)
        return "%s/%d" % (self.value(field, start), self.rnd.randint(1, star_high - low + 2))

    def field(self, field):
        low, high = _RANGES[field]
        kind = self.rnd.random()
        if kind < 0.3:
            return "*"
        if kind < 0.35 and field in ("day-of-month", "day-of-week"):
            return "?"
        if kind < 0.5:
            return "*/%d" % self.rnd.randint(1, (6 if field == "day-of-week" else high) - low + 2)
        items = [self.item(field) for _ in range(self.rnd.choice([1, 1, 1, 2, 3]))]
        if self.rnd.random() < 0.1:
            items.insert(0, "*/%d" % self.rnd.randint(2, 9))
        return ",".join(items)

    def expression(self):
        six = self.rnd.random() < 0.4
        fields = (["second"] if six else []) + ["minute", "hour", "day-of-month", "month", "day-of-week"]
        while True:
            text = " ".join([self.field(f) for f in fields])
            try:
                cron.parse(text)
            except CronError:  # Feb 30 and the like
                continue
            return text, six


def test_next_fire_agrees_with_croniter_for_random_expressions():
    gen = _Generator(20260308)
    low = _ms("1990-01-01T00:00:00+00:00")
    high = _ms("2060-01-01T00:00:00+00:00")
    compared = mine_seconds = 0
    expressions = 4000
    for _ in range(expressions):
        text, six = gen.expression()
        spec = cron.parse(text)
        start = gen.rnd.randint(low, high)
        if gen.rnd.random() < 0.3:
            start -= start % (1000 if six else 60000)  # on a possible fire time: the next one is strictly after
        theirs = croniter(text, start / 1000.0, ret_type=float, second_at_beginning=six, implement_cron_bug=True)
        t = start
        for _ in range(3):
            began = time.perf_counter()
            mine = spec.next_fire(t, cron.UTC)
            mine_seconds += time.perf_counter() - began
            expected = int(round(theirs.get_next() * 1000))
            assert mine == expected, (text, t, mine, expected)
            assert mine > t
            t = mine
            compared += 1
    assert compared == 3 * expressions
    assert mine_seconds / compared < 0.001, "%.1f us per next_fire" % (mine_seconds / compared * 1e6)


@pytest.mark.parametrize("text", ["0 0 29 2 *", "0 0 29 2 */7", "0 0 30 2 MON", "0 0 31 * *", "0 0 13 * FRI",
                                  "0 0 */13 * FRI", "0 0 ? * 5", "@yearly", "@annually", "@monthly", "@weekly",
                                  "@daily", "@midnight", "@hourly", "59/15 * * * *", "0 0 * * 5-7",
                                  "0 0 * * MON-SUN/2", "30 */7 31 1-12/2 *", "0 0 1 1 0"])
def test_rare_and_named_expressions_agree_with_croniter(text):
    spec = cron.parse(text)
    theirs = croniter(text, 0, ret_type=float, implement_cron_bug=True)
    t = 0
    for _ in range(12):
        t = spec.next_fire(t)
        assert t == int(theirs.get_next() * 1000), text


def test_a_leap_day_on_a_sunday_fires_decades_apart():
    fires = _fires("0 0 29 2 */7", "2005-01-01T00:00:00+00:00", cron.UTC, 3)
    assert fires == [_ms("2032-02-29T00:00:00+00:00"), _ms("2060-02-29T00:00:00+00:00"),
                     _ms("2088-02-29T00:00:00+00:00")]


# -- daylight saving ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def new_york():
    return timezones.zone("America/New_York")


@pytest.fixture(scope="module")
def berlin():
    return timezones.zone("Europe/Berlin")


def test_a_skipped_wall_time_does_not_fire_new_york(new_york):
    assert _fires("30 2 * * *", "2026-03-07T12:00:00-05:00", new_york, 3) == [
        _ms("2026-03-09T02:30:00-04:00"), _ms("2026-03-10T02:30:00-04:00"), _ms("2026-03-11T02:30:00-04:00")]
    assert _fires("30 2 * * *", "2026-03-07T02:30:00-05:00", new_york, 1) == [_ms("2026-03-09T02:30:00-04:00")]


def test_a_repeated_wall_time_fires_once_at_its_first_occurrence_new_york(new_york):
    assert _fires("30 1 * * *", "2026-10-31T12:00:00-04:00", new_york, 3) == [
        _ms("2026-11-01T01:30:00-04:00"), _ms("2026-11-02T01:30:00-05:00"), _ms("2026-11-03T01:30:00-05:00")]
    # asked from inside the repeated hour (its second pass, EST): that wall time has fired already
    assert _fires("30 1 * * *", "2026-11-01T01:10:00-05:00", new_york, 1) == [_ms("2026-11-02T01:30:00-05:00")]
    assert _fires("30 1 * * *", "2026-11-01T01:10:00-04:00", new_york, 1) == [_ms("2026-11-01T01:30:00-04:00")]
    assert _fires("*/20 1 * * *", "2026-11-01T01:50:00-05:00", new_york, 1) == [_ms("2026-11-02T01:00:00-05:00")]


def test_a_skipped_wall_time_does_not_fire_berlin(berlin):
    assert _fires("30 2 * * *", "2026-03-28T12:00:00+01:00", berlin, 2) == [
        _ms("2026-03-30T02:30:00+02:00"), _ms("2026-03-31T02:30:00+02:00")]
    assert _fires("0 2 29 3 *", "2026-03-01T00:00:00+01:00", berlin, 1) == [_ms("2027-03-29T02:00:00+02:00")]


def test_a_repeated_wall_time_fires_once_berlin(berlin):
    assert _fires("30 2 * * *", "2026-10-24T12:00:00+02:00", berlin, 3) == [
        _ms("2026-10-25T02:30:00+02:00"), _ms("2026-10-26T02:30:00+01:00"), _ms("2026-10-27T02:30:00+01:00")]


def _hourly_local_hours(zone, after_iso, count):
    fires = _fires("0 * * * *", after_iso, zone, count)
    offset = [zone.offset_ms(t) for t in fires]
    local = [datetime.datetime.fromtimestamp((t + o) // 1000, UTC).strftime("%d %H:%M") for t, o in zip(fires, offset)]
    return fires, local


def test_hourly_across_both_changes_new_york(new_york):
    fires, local = _hourly_local_hours(new_york, "2026-03-07T23:30:00-05:00", 5)
    assert local == ["08 00:00", "08 01:00", "08 03:00", "08 04:00", "08 05:00"]  # 02:00 does not exist
    assert [b - a for a, b in zip(fires, fires[1:])] == [3600000] * 4  # no gap in real time
    fires, local = _hourly_local_hours(new_york, "2026-10-31T23:30:00-04:00", 5)
    assert local == ["01 00:00", "01 01:00", "01 02:00", "01 03:00", "01 04:00"]  # 01:00 once
    assert fires[1] == _ms("2026-11-01T01:00:00-04:00") and fires[2] == _ms("2026-11-01T02:00:00-05:00")
    assert len(set(local)) == len(local)


def test_hourly_across_both_changes_berlin(berlin):
    fires, local = _hourly_local_hours(berlin, "2026-03-29T00:30:00+01:00", 4)
    assert local == ["29 01:00", "29 03:00", "29 04:00", "29 05:00"]
    fires, local = _hourly_local_hours(berlin, "2026-10-25T01:30:00+02:00", 4)
    assert local == ["25 02:00", "25 03:00", "25 04:00", "25 05:00"]
    assert fires[0] == _ms("2026-10-25T02:00:00+02:00") and fires[1] == _ms("2026-10-25T03:00:00+01:00")


def test_every_second_across_a_change(new_york, berlin):
    spring = _fires("* * * * * *", "2026-03-08T01:59:58-05:00", new_york, 3)
    assert spring == [_ms("2026-03-08T01:59:59-05:00"), _ms("2026-03-08T03:00:00-04:00"),
                      _ms("2026-03-08T03:00:01-04:00")]
    autumn = _fires("* * * * * *", "2026-11-01T01:59:58-04:00", new_york, 3)
    assert autumn == [_ms("2026-11-01T01:59:59-04:00"), _ms("2026-11-01T02:00:00-05:00"),
                      _ms("2026-11-01T02:00:01-05:00")]
    # from inside the repeated hour: the rest of it has fired (at its first pass), quickly
    began = time.perf_counter()
    inside = _fires("* * * * * *", "2026-11-01T01:20:00-05:00", new_york, 2)
    assert time.perf_counter() - began < 0.05
    assert inside == [_ms("2026-11-01T02:00:00-05:00"), _ms("2026-11-01T02:00:01-05:00")]
    assert _fires("*/15 * * * * *", "2026-03-29T01:59:50+01:00", berlin, 2) == [
        _ms("2026-03-29T03:00:00+02:00"), _ms("2026-03-29T03:00:15+02:00")]


def test_the_skipped_hour_is_crossed_quickly(new_york):
    spec = cron.parse("* * * * * *")
    after = _ms("2026-03-08T01:59:59-05:00")
    began = time.perf_counter()
    assert spec.next_fire(after, new_york) == _ms("2026-03-08T03:00:00-04:00")
    assert time.perf_counter() - began < 0.05


def test_fixed_offset_zones_and_utc():
    plus_five = cron.FixedOffsetZone("test+05:30", 5 * 3600000 + 1800000)
    assert _fires("0 6 * * *", "2026-01-01T00:00:00+00:00", plus_five, 1) == [_ms("2026-01-01T06:00:00+05:30")]
    assert cron.parse("0 6 * * *").next_fire(_ms("2026-01-01T00:00:00+00:00")) == _ms("2026-01-01T06:00:00+00:00")
    assert timezones.zone("UTC") is cron.UTC and cron.UTC.name == "UTC"
    assert timezones.zone("Etc/UTC").offset_ms(0) == 0 and timezones.zone("Z").name == "Z"
    assert timezones.zone("America/Chicago") is timezones.zone("America/Chicago")
    assert timezones.zone("Asia/Kolkata").offset_ms(_ms("2026-06-01T00:00:00+00:00")) == 19800000
    assert timezones.zone("Etc/GMT+5").offset_ms(0) == -5 * 3600000


def test_next_fire_is_strictly_after_and_takes_sub_second_instants():
    spec = cron.parse("*/10 * * * * *")
    at = _ms("2026-05-05T10:00:10+00:00")
    assert spec.next_fire(at) == at + 10000
    assert spec.next_fire(at - 1) == at
    assert spec.next_fire(at + 999) == at + 10000
    assert cron.parse("* * * * *").next_fire(at + 999) == _ms("2026-05-05T10:01:00+00:00")
    assert cron.parse("* * * * *").next_fire(-1) == 0
    assert cron.parse("0 0 1 1 *").next_fire(_ms("1969-06-01T00:00:00+00:00")) == 0


def test_next_fire_is_fast():
    zone = timezones.zone("Europe/Berlin")
    specs = [cron.parse(t) for t in ("*/15 9-17 * * MON-FRI", "0 2 * * *", "30 6 1 * *", "*/5 * * * * *",
                                     "0 0 29 2 *", "0 8-18/2 1-7 * MON")]
    t = _ms("2026-01-01T00:00:00+00:00")
    began = time.perf_counter()
    calls = 0
    for _ in range(500):
        for spec in specs:
            spec.next_fire(t, zone)
            calls += 1
        t += 7777777
    assert (time.perf_counter() - began) / calls < 0.0005


# -- bad input ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("", "cron expression is empty"),
    ("   ", "cron expression is empty"),
    ("* * * *", "cron needs 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), got 4"),
    ("* * * * * * *", "got 7"),
    ("0 25 * * *", "cron field 'hour' has 25: allowed 0-23"),
    ("60 * * * *", "cron field 'minute' has 60: allowed 0-59"),
    ("60 * * * * *", "cron field 'second' has 60: allowed 0-59"),
    ("0 0 0 * *", "cron field 'day-of-month' has 0: allowed 1-31"),
    ("0 0 32 * *", "cron field 'day-of-month' has 32"),
    ("0 0 * 13 *", "cron field 'month' has 13: allowed 1-12 or JAN-DEC"),
    ("0 0 * * 8", "cron field 'day-of-week' has 8: allowed 0-7 or SUN-SAT"),
    ("5-1 * * * *", "cron field 'minute' has the reversed range '5-1'"),
    ("0 0 * * FRI-MON", "cron field 'day-of-week' has the reversed range 'FRI-MON'"),
    ("0 0 * DEC-JAN *", "cron field 'month' has the reversed range"),
    ("*/0 * * * *", "cron field 'minute' has step 0 in '*/0'"),
    ("0 1-5/0 * * *", "cron field 'hour' has step 0"),
    ("0 */x * * *", "cron field 'hour' has '*/x': the step after '/' must be a whole number"),
    ("0 0 * FOO *", "cron field 'month' has 'FOO'"),
    ("0 0 * * MON-FOO", "cron field 'day-of-week' has 'MON-FOO'"),
    ("0 0 * MON *", "cron field 'month' has 'MON'"),
    ("a * * * *", "cron field 'minute' has 'a'"),
    ("1-2-3 * * * *", "cron field 'minute' has '1-2-3'"),
    ("1//2 * * * *", "cron field 'minute' has '1//2'"),
    ("/5 * * * *", "cron field 'minute' has '/5'"),
    ("-5 * * * *", "cron field 'minute' has '-5'"),
    ("1- * * * *", "cron field 'minute' has '1-'"),
    ("1,,2 * * * *", "cron field 'minute' has an empty list item in '1,,2'"),
    ("** * * * *", "cron field 'minute' has '**'"),
    ("? * * * *", "cron field 'minute' has '?': '?' is only allowed in day-of-month and day-of-week"),
    ("0 0 1,? * *", "cron field 'day-of-month' has '?' in a list"),
    ("0 0 L * *", "cron field 'day-of-month' has 'L'"),
    ("0 0 * * 5#2", "cron field 'day-of-week' has '5#2'"),
    ("0 0 30 2 *", "cron '0 0 30 2 *' never fires: field 'day-of-month' (30) has no day that field 'month' (2) has"),
    ("0 0 31 4,6,9,11 *", "never fires: field 'day-of-month' (31)"),
    ("0 0 30-31 FEB ?", "never fires"),
    ("@often", "unknown cron macro '@often': use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"),
])
def test_bad_expressions_name_the_field(text, message):
    with pytest.raises(CronError) as caught:
        cron.parse(text)
    error = caught.value
    assert message in str(error), str(error)
    assert error.field == "cron" and error.data == {"field": "cron"} and error.code == "INVALID_ARGUMENT"


@pytest.mark.parametrize("value", [None, 5, b"* * * * *", ["* * * * *"]])
def test_a_cron_expression_must_be_a_string(value):
    with pytest.raises(CronError) as caught:
        cron.parse(value)
    assert "cron expression must be a string, got %s" % type(value).__name__ in str(caught.value)
    assert caught.value.field == "cron"


@pytest.mark.parametrize("text", ["0 0 * * 7", "0 0 * * 0", "0 0 * * SUN", "0 0 * * sun", "0 0 ? * 0-0/5",
                                  "0 0 * * MON-SUN", "0 0 * * 1-7"])
def test_sunday_is_0_and_7(text):
    spec = cron.parse(text)
    if text.endswith(("MON-SUN", "1-7")):
        assert spec.weekdays == (0, 1, 2, 3, 4, 5, 6)
    else:
        assert spec.weekdays == (0,)


def test_the_spec_keeps_its_text_and_fields():
    spec = cron.parse("  */20 0-10/5 ? * *")
    assert spec.text == "  */20 0-10/5 ? * *" and spec.has_seconds is False
    assert spec.minutes == (0, 20, 40) and spec.hours == (0, 5, 10) and spec.seconds == (0,)
    six = cron.parse("5/15 * * * jan-mar,DEC mon-fri")
    assert six.has_seconds and six.seconds == (5, 20, 35, 50) and six.months == (1, 2, 3, 12)
    assert six.weekdays == (1, 2, 3, 4, 5)
    assert cron.parse("@DAILY").minutes == (0,) and cron.parse("@weekly").weekdays == (0,)


def test_unknown_time_zones():
    cases = [("Mars/Base", "unknown time zone 'Mars/Base': use an IANA name such as 'Europe/Berlin' or "
                           "'America/Chicago'"),
             ("../../etc/passwd", "unknown time zone '../../etc/passwd'"),
             ("/usr/share/zoneinfo/UTC", "unknown time zone '/usr/share/zoneinfo/UTC'"),
             ("Europe/../UTC", "unknown time zone 'Europe/../UTC'"),
             ("+02:00", "unknown time zone '+02:00'"),
             ("UTC+1", "unknown time zone 'UTC+1'"),
             ("GMT-03:30", "unknown time zone 'GMT-03:30'"),
             ("europe/berlin", "unknown time zone 'europe/berlin'"),
             ("", "time zone is empty"),
             (" ", "time zone is empty"),
             (None, "time zone must be a string"),
             (5, "time zone must be a string")]
    for name, message in cases:
        with pytest.raises(UnknownTimeZone) as caught:
            timezones.zone(name)
        assert message in str(caught.value), (name, str(caught.value))
        assert caught.value.field == "timezone" and caught.value.code == "INVALID_ARGUMENT"


# -- describe -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("* * * * *", "every minute"),
    ("*/10 * * * *", "every 10 minutes"),
    ("* * * * * *", "every second"),
    ("*/5 * * * * *", "every 5 seconds"),
    ("0 * * * * *", "every minute"),
    ("30 * * * * *", "at second 30 of every minute"),
    ("0 2 * * *", "at 02:00 every day"),
    ("@daily", "at 00:00 every day"),
    ("0 6,18 * * MON-FRI", "at 06:00 and 18:00 on weekdays (Mon-Fri)"),
    ("15 * * * *", "at minute 15 of every hour"),
    ("0,30 * * * *", "every 30 minutes"),
    ("0,15,45 * * * *", "at minutes 0, 15 and 45 of every hour"),
    ("0 0 1 * *", "at 00:00 on day 1 of every month"),
    ("@yearly", "at 00:00 on day 1 of January"),
    ("@weekly", "at 00:00 on Sundays"),
    ("@hourly", "every hour"),
    ("0 */2 * * *", "every 2 hours"),
    ("30 */3 * * *", "every 3 hours at minute 30"),
    ("30 */6 * * *", "at 00:30, 06:30, 12:30 and 18:30 every day"),
    ("0 9-17 * * *", "every hour from 09:00 to 17:00"),
    ("*/15 9-17 * * 1-5", "every 15 minutes from 09:00 to 17:45 on weekdays (Mon-Fri)"),
    ("* 22-23 * * *", "every minute from 22:00 to 23:59"),
    ("0 0 * * 0,6", "at 00:00 on weekends (Sat-Sun)"),
    ("0 8 * * 1,3,5", "at 08:00 on Mon, Wed and Fri"),
    ("0 0 1,15 * MON", "at 00:00 on days 1 and 15 or on Mondays"),
    ("30 0 * 1,7 *", "at 00:30 every day in Jan and Jul"),
    ("*/5 * * 12 *", "every 5 minutes in December"),
    ("0 12 1 1-3 *", "at 12:00 on day 1 of Jan-Mar"),
    ("30 6 12 30 * *", "at 12:06:30 on day 30 of every month"),
    ("5,10 9-17 * * *", "at minutes 5 and 10 of hours 9-17"),
    ("0 0 */2 * MON", "at 00:00 on days */2 that fall on Mondays"),
])
def test_describe(text, words):
    assert cron.describe(text) == words
    assert cron.describe(cron.parse(text)) == words


def test_describe_never_raises_for_random_valid_specs():
    gen = _Generator(7)
    for _ in range(2000):
        text, _ = gen.expression()
        words = cron.describe(text)
        assert words and "None" not in words, text
    with pytest.raises(CronError):
        cron.describe("0 25 * * *")
