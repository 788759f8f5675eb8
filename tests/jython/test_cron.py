"""Cron schedules under Jython 2.7 (util/cron.py, host/timezones.py with java.time zones): next fire times,
daylight-saving changes, error messages and descriptions computed in advance under CPython (tests/test_cron.py
checks the same code against croniter and by hand), so both interpreters give the same answers."""
import sys
import time

from exchange.workflows.host import timezones
from exchange.workflows.host.timezones import UnknownTimeZone
from exchange.workflows.util import cron
from exchange.workflows.util.cron import CronError

# (expression, zone, after_ms, the next fires): UTC answers checked against croniter 7.0.0, the others by hand
# (America/New_York and Europe/Berlin across both 2026 changes, Lord Howe's half-hour shift, Kolkata, St. John's,
# Sydney)
CASES = [
    ('*/15 9-17 * * MON-FRI', 'UTC', 1507705890885, [1507712400000, 1507713300000, 1507714200000]),
    ('0 2 * * *', 'UTC', 1735849766041, [1735869600000, 1735956000000, 1736042400000]),
    ('0 0 29 2 *', 'UTC', 2466223585847, [2466547200000, 2592777600000, 2719008000000]),
    ('0 0 29 2 */7', 'UTC', 2380086749737, [2845238400000, 3728851200000, 4991068800000]),
    ('0 0 30 2 MON', 'UTC', 2114582292896, [2117145600000, 2117750400000, 2118355200000]),
    ('@weekly', 'UTC', 1496197332852, [1496534400000, 1497139200000, 1497744000000]),
    ('@monthly', 'UTC', 1061141274197, [1062374400000, 1064966400000, 1067644800000]),
    ('5/15 * * * jan-mar,DEC mon-fri', 'UTC', 1294151521851, [1294151525000, 1294151540000, 1294151555000]),
    ('*/10 * * * * *', 'UTC', 1763214802166, [1763214810000, 1763214820000, 1763214830000]),
    ('0 0 * * MON-SUN/2', 'UTC', 1780967477672, [1781049600000, 1781222400000, 1781395200000]),
    ('0 0 1,15 * 5', 'UTC', 1172358534504, [1172707200000, 1172793600000, 1173398400000]),
    ('0 0 */2 * MON', 'UTC', 1494610705221, [1494806400000, 1496016000000, 1496620800000]),
    ('59/15 * * * *', 'UTC', 1840968844962, [1840971540000, 1840975140000, 1840978740000]),
    ('30 */7 31 1-12/2 *', 'UTC', 1347317126173, [1359592200000, 1359617400000, 1359642600000]),
    ('* * * 9-Dec/4 5,Mon/3,Tue/2', 'UTC', 1804672057669, [1819843200000, 1819843260000, 1819843320000]),
    ('* * * 9,Jan-jul/3,NOV/1 6,SUN', 'UTC', 1104727342935, [1105142400000, 1105142460000, 1105142520000]),
    ('28-37/9 */4,30/60 3,5 */14 apr-SEP/5 sat', 'UTC', 2304490467050, [2374628428000, 2374628437000, 2374628668000]),
    ('59/24 */15 * 5-6/1 3-4', 'UTC', 1924294314571, [1935363540000, 1935417540000, 1935881940000]),
    ('* 34-39/3 * 13,20-30/11,7-20/6 */11 */5', 'UTC', 1234991777894, [1260664440000, 1260664441000, 1260664442000]),
    ('* 8-19/7 28-30 * 4', 'UTC', 959017389482, [959241600000, 959241660000, 959241720000]),
    ('16/48,26/30 6-7/1,2/19,1 */19 * *', 'UTC', 1311681519415, [1312161360000, 1312161960000, 1312163760000]),
    ('*/51 * */9 12/7,mar-9 3/8', 'UTC', 1315503982976, [1317168000000, 1317171060000, 1317171600000]),
    ('7-29,4-26/21 0,13-18,18 */4 */4 sun', 'UTC', 1635122123613, [1641686640000, 1641686820000, 1641686880000]),
    ('*/18 * */18 12,27-28/3,24-26/2 * 3,THU-5/3', 'UTC', 1384606013426, [1384905600000, 1384905618000, 1384905636000]),
    ('33-57 * 7-22/3 * JUN-9/1 *', 'UTC', 2323985594436, [2324012433000, 2324012434000, 2324012435000]),
    ('7,51-53,10 */11 9-29 * wed-5/2', 'UTC', 1346996279851, [1347016020000, 1347016200000, 1347018660000]),
    ('36-37 * 8 */8,21 oct,Oct 1,Tue', 'UTC', 1379147814167, [1380614436000, 1380614437000, 1380614496000]),
    ('43-46/2 * 2-10,18 * JUL/1 *', 'UTC', 1792336981298, [1792346443000, 1792346445000, 1792346503000]),
    ('18-31 * ? * ?', 'UTC', 995212728816, [995213880000, 995213940000, 995214000000]),
    ('*/61 */8,38 * 5,1-2/1 */5 3-Thu/2', 'UTC', 1858769165706, [1859068800000, 1859069280000, 1859069760000]),
    ('30 2 * * *', 'America/New_York', 1772902800000, [1773037800000, 1773124200000, 1773210600000]),
    ('30 1 * * *', 'America/New_York', 1793462400000, [1793511000000, 1793601000000, 1793687400000]),
    ('30 1 * * *', 'America/New_York', 1793513400000, [1793601000000]),
    ('0 * * * *', 'America/New_York', 1772944200000, [1772946000000, 1772949600000, 1772953200000, 1772956800000, 1772960400000]),
    ('0 * * * *', 'America/New_York', 1793503800000, [1793505600000, 1793509200000, 1793516400000, 1793520000000, 1793523600000]),
    ('* * * * * *', 'America/New_York', 1772953198000, [1772953199000, 1772953200000, 1772953201000]),
    ('* * * * * *', 'America/New_York', 1793512798000, [1793512799000, 1793516400000, 1793516401000]),
    ('* * * * * *', 'America/New_York', 1793514000000, [1793516400000, 1793516401000]),
    ('30 2 * * *', 'Europe/Berlin', 1774695600000, [1774830600000, 1774917000000]),
    ('30 2 * * *', 'Europe/Berlin', 1792836000000, [1792888200000, 1792978200000, 1793064600000]),
    ('0 * * * *', 'Europe/Berlin', 1774740600000, [1774742400000, 1774746000000, 1774749600000, 1774753200000]),
    ('0 * * * *', 'Europe/Berlin', 1792884600000, [1792886400000, 1792893600000, 1792897200000, 1792900800000]),
    ('*/15 * * * * *', 'Europe/Berlin', 1774745990000, [1774746000000, 1774746015000]),
    ('15 2 * * *', 'Australia/Lord_Howe', 1790991000000, [1791126900000, 1791213300000]),
    ('45 1 * * *', 'Australia/Lord_Howe', 1775264400000, [1775313900000, 1775402100000]),
    ('0 9 * * MON-FRI', 'Asia/Kolkata', 1780597800000, [1780630200000, 1780889400000, 1780975800000]),
    ('0 0 1 * *', 'America/St_Johns', 1792031400000, [1793500200000, 1796095800000]),
    ('30 2 * * 0', 'Australia/Sydney', 1790690400000, [1791646200000, 1792251000000]),
]
OFFSETS = [
    ('America/New_York', 1772953199000, -18000000),
    ('America/New_York', 1772953200000, -14400000),
    ('Europe/Berlin', 1792889999000, 7200000),
    ('Europe/Berlin', 1792890000000, 3600000),
    ('Australia/Lord_Howe', 1780272000000, 37800000),
    ('Asia/Kolkata', 631152000000, 19800000),
    ('America/St_Johns', 1782864000000, -9000000),
]
DESCRIPTIONS = [
    ('* * * * *', 'every minute'),
    ('*/10 * * * *', 'every 10 minutes'),
    ('* * * * * *', 'every second'),
    ('*/5 * * * * *', 'every 5 seconds'),
    ('0 2 * * *', 'at 02:00 every day'),
    ('0 6,18 * * MON-FRI', 'at 06:00 and 18:00 on weekdays (Mon-Fri)'),
    ('15 * * * *', 'at minute 15 of every hour'),
    ('0 0 1 * *', 'at 00:00 on day 1 of every month'),
    ('@yearly', 'at 00:00 on day 1 of January'),
    ('*/15 9-17 * * 1-5', 'every 15 minutes from 09:00 to 17:45 on weekdays (Mon-Fri)'),
    ('0 0 1,15 * MON', 'at 00:00 on days 1 and 15 or on Mondays'),
    ('0 0 */2 * MON', 'at 00:00 on days */2 that fall on Mondays'),
]


def test_next_fire_gives_the_answers_of_cpython():
    wrong = []
    for text, zone_name, after, expected in CASES:
        spec = cron.parse(text)
        zone = timezones.zone(zone_name)
        t = after
        got = []
        for _ in expected:
            t = spec.next_fire(t, zone)
            got.append(t)
        if got != expected:
            wrong.append((text, zone_name, after, got, expected))
    assert wrong == [], wrong


def test_named_zones_come_from_java_time():
    assert sys.platform.startswith("java")
    berlin = timezones.zone("Europe/Berlin")
    assert type(berlin).__name__ == "_JavaZone" and berlin.name == "Europe/Berlin"
    assert timezones.zone("Europe/Berlin") is berlin
    assert timezones.zone("UTC") is cron.UTC
    for name, utc_ms, offset in OFFSETS:
        assert timezones.zone(name).offset_ms(utc_ms) == offset, (name, utc_ms)
    # a Java long (as a JDBC column or System.currentTimeMillis() gives it) is epoch ms as well
    from java.lang import Long, System

    now = System.currentTimeMillis()
    assert cron.parse("* * * * *").next_fire(now, berlin) == (now // 60000 + 1) * 60000
    assert cron.parse("0 0 1 1 *").next_fire(Long(0).longValue()) == 31536000000


def test_unknown_time_zones_are_refused():
    for name in ("Mars/Base", "Europe/Berlinn", "../etc/passwd", "/usr/share/zoneinfo/UTC", "+02:00", "UTC+1"):
        try:
            timezones.zone(name)
        except UnknownTimeZone as error:
            assert error.field == "timezone", name
            assert str(error) == ("unknown time zone '%s': use an IANA name such as 'Europe/Berlin' or "
                                  "'America/Chicago'" % name), str(error)
        else:
            raise AssertionError("%r was accepted" % name)
    for name in ("", None, 5):
        try:
            timezones.zone(name)
        except UnknownTimeZone as error:
            assert error.field == "timezone"
        else:
            raise AssertionError("%r was accepted" % (name,))


ERRORS = [
    ("* * * *", "cron needs 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), got 4"),
    ("0 25 * * *", "cron field 'hour' has 25: allowed 0-23"),
    ("5-1 * * * *", "cron field 'minute' has the reversed range '5-1': write the lower bound first (allowed 0-59)"),
    ("*/0 * * * *", "cron field 'minute' has step 0 in '*/0': a step must be 1 or more"),
    ("0 0 * FOO *", "cron field 'month' has 'FOO': expected a number or a month name (JAN-DEC), a range a-b, a step "
                    "*/n, a-b/n or a/n, a list of these, or *"),
    ("0 0 30 2 *", "cron '0 0 30 2 *' never fires: field 'day-of-month' (30) has no day that field 'month' (2) has"),
    ("", "cron expression is empty: write 5 fields (minute hour day-of-month month day-of-week), 6 with seconds "
         "first, or a macro such as @daily"),
    ("@often", "unknown cron macro '@often': use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"),
]


def test_bad_expressions_give_the_same_messages():
    for text, message in ERRORS + [(u"0 0 * * 8", "cron field 'day-of-week' has 8: allowed 0-7 or SUN-SAT (0 and 7 "
                                                  "are Sunday)")]:
        try:
            cron.parse(text)
        except CronError as error:
            assert str(error) == message, (text, str(error))
            assert error.field == "cron" and error.data == {"field": "cron"}
        else:
            raise AssertionError("%r was accepted" % text)
    try:
        cron.parse(5)
    except CronError as error:
        assert str(error) == "cron expression must be a string, got int", str(error)
    else:
        raise AssertionError("5 was accepted")


def test_describe_gives_the_same_words():
    for text, words in DESCRIPTIONS:
        assert cron.describe(text) == words, (text, cron.describe(text), words)
        assert cron.describe(unicode(text)) == words  # noqa: F821 - Jython 2.7


def test_a_thousand_schedules_a_minute_is_cheap():
    zone = timezones.zone("America/Chicago")
    specs = [cron.parse(t) for t in ("*/15 9-17 * * MON-FRI", "0 2 * * *", "30 6 1 * *", "*/5 * * * * *",
                                     "0 0 29 2 *", "0 8-18/2 1-7 * MON", "0 * * * *", "*/10 * * * *")]
    for spec in specs:  # warm up the JIT
        for k in range(50):
            spec.next_fire(1780000000000 + k * 3600000, zone)
    t = 1780000000000
    began = time.time()
    for k in range(1000):
        specs[k % len(specs)].next_fire(t + k * 61000, zone)
    seconds = time.time() - began
    sys.stdout.write("  1000 next_fire calls under Jython: %.0f ms\n" % (seconds * 1000))
    assert seconds < 2.0, seconds
