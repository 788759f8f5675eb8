"""The named database connections of a host, for the db steps (exchange.workflows.steps.db): a site's own
databases (recipes, batch records, an MES), apart from the engine's.

    databases.names()       the names a workflow may use, sorted
    databases.get(name)     the Database adapter of that name (host/database.py, opened as a site database on first
                            use); InvalidArgument naming the known ones for any other name
    databases.close()       release what was opened

UrlDatabases maps names to URLs (postgresql://... or sqlite:PATH): the standalone gateway's `--connection NAME=URL`
(JDBC) and the CPython host's `connections=` (psycopg, sqlite3). IgnitionDatabases uses the gateway's database
connections through system.db.

Drivers answer values of their own types (datetime and Decimal in CPython; java.sql.Timestamp and BigDecimal in
Jython and Ignition); json_rows() makes a result JSON-native the same way on every runtime (see json_value).
"""
import array
import base64
import calendar
import datetime
import decimal
import math
import sys
import threading
import time
import uuid

from exchange.workflows.host import dburl
from exchange.workflows.util.compat import PY2, integer_types, string_types, to_text
from exchange.workflows.util.errors import InvalidArgument
from exchange.workflows.util.jsoncodec import loads

_MAX_DEPTH = 8


class NamedDatabases(object):
    """Base class of the named connections of a host; the methods below say what each must do."""

    def names(self):
        """The connection names a workflow may use, sorted."""
        raise NotImplementedError

    def get(self, name):
        """The Database of this name (query_columns, execute), or InvalidArgument naming the known ones."""
        raise NotImplementedError

    def close(self):
        """Release the connections opened so far."""
        raise NotImplementedError


def unknown(name, known, none_known):
    """InvalidArgument for a name not configured: the known names, or `none_known` (how to name one)."""
    if known:
        return InvalidArgument("no database connection named %r; the known ones: %s" % (name, ", ".join(known)),
                               field="connection")
    return InvalidArgument("no database connection named %r; %s" % (name, none_known), field="connection")


# -- by URL: the standalone gateway and the CPython host ---------------------------------------------------------------

class UrlDatabases(NamedDatabases):
    """Names mapped to URLs, each opened with this runtime's adapter on first use (JDBC under Jython, psycopg or
    sqlite3 under CPython)."""

    def __init__(self, urls=None, jython=None):
        from exchange.workflows.host.hosts import is_jython

        self._jython = is_jython() if jython is None else jython
        self._urls = {}
        self._open = {}
        self._lock = threading.RLock()
        for name in sorted(urls or {}):
            self.add(name, urls[name])

    def add(self, name, url):
        """Name a database (one already of that name is closed and replaced)."""
        parsed = checked_url(checked_name(name), url)
        with self._lock:
            self._urls[name.strip()] = parsed
            old = self._open.pop(name.strip(), None)
        if old is not None:
            old.close()

    def names(self):
        with self._lock:
            return sorted(self._urls)

    def get(self, name):
        with self._lock:
            db = self._open.get(name)
            if db is None:
                parsed = self._urls.get(name)
                if parsed is None:
                    raise unknown(name, self.names(), "none is configured (./gateway run --connection NAME=URL)")
                db = self._open[name] = self._adapter(parsed)
            return db

    def _adapter(self, parsed):
        if self._jython:
            from exchange.workflows.host.jdbc_db import JdbcDatabase

            return JdbcDatabase(parsed, site=True)
        from exchange.workflows.host.dbapi_db import PostgresDatabase, SqliteDatabase

        if parsed.dialect == "postgresql":
            return PostgresDatabase(parsed, site=True)
        return SqliteDatabase(parsed, site=True)

    def close(self):
        with self._lock:
            opened, self._open = list(self._open.values()), {}
        for db in opened:
            db.close()


def checked_name(name):
    if not isinstance(name, string_types) or not name.strip():
        raise InvalidArgument("a database connection name must be a non-empty string, not %r" % (name,),
                              field="connection")
    return name.strip()


def checked_url(name, url):
    """The parsed URL of a named connection: postgresql://... or sqlite:PATH, nothing else."""
    text = url.strip() if isinstance(url, string_types) else ""
    usable = text.startswith("postgresql://") or text.startswith("postgres://") or (
        text.startswith("sqlite:") and text[len("sqlite:"):].strip("/"))
    if usable:
        try:
            return dburl.parse(text)
        except (InvalidArgument, ValueError):
            pass
    raise InvalidArgument("connection %s: %r is not a database URL (postgresql://user@host:5432/name or "
                          "sqlite:PATH)" % (name, url), field="connection")


def connection_map(items):
    """{name: url} of "NAME=URL" texts (./gateway run --connection, WORKFLOWS_CONNECTIONS); InvalidArgument with
    one line for the first bad one."""
    out = {}
    for item in items:
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise InvalidArgument("%r is not NAME=URL (e.g. mes=postgresql://user@host:5432/mes or "
                                  "lab=sqlite:/data/lab.db)" % (item,), field="connection")
        name = name.strip()
        if name in out:
            raise InvalidArgument("the connection name %s is given twice" % name, field="connection")
        checked_url(name, url)
        out[name] = url.strip()
    return out


# -- Ignition: the gateway's database connections ----------------------------------------------------------------------

class IgnitionDatabases(NamedDatabases):
    """The gateway's database connections (Config > Databases > Connections) by name, through system.db, whatever
    their database type."""

    def __init__(self, system):
        self._system = system
        self._found = {}
        self._lock = threading.Lock()

    def names(self):
        lister = getattr(self._system.db, "getConnections", None)
        if lister is None:
            return []
        try:
            listed = lister()
            return sorted([to_text(listed.getValueAt(row, "Name")) for row in range(listed.getRowCount())])
        except:  # noqa: E722 - only for an error message: a Java exception must not hide the first error
            return []

    def get(self, name):
        from exchange.workflows.host.ignition_db import IgnitionDatabase, dialect_of, translate

        with self._lock:
            found = self._found.get(name)
        if found is not None:
            return found
        try:
            info = self._system.db.getConnectionInfo(name)
        except:  # noqa: E722 - a Java exception from the gateway
            raise translate(sys.exc_info()[1])
        if info is None or info.getRowCount() == 0:
            raise unknown(name, self.names(), "the gateway has none of that name (Config > Databases > Connections)")
        db_type = to_text(u"%s" % (info.getValueAt(0, "DBType"),))
        found = IgnitionDatabase(self._system, name, dialect=dialect_of(db_type) or db_type.lower(), site=True)
        with self._lock:
            self._found[name] = found
        return found

    def close(self):
        """Nothing to release: the gateway owns the pools."""


# -- values ------------------------------------------------------------------------------------------------------------

def json_rows(columns, rows):
    """Rows as dicts {column: JSON-native value}; a result with a column name twice is refused (one would be lost)."""
    names = [to_text(u"%s" % (c,)) for c in columns]
    twice = sorted(set([n for n in names if names.count(n) > 1]))
    if twice:
        raise InvalidArgument("the result has the column %s more than once: name each column once (AS ...)"
                              % ", ".join(twice), field="sql")
    return [dict(zip(names, [json_value(v) for v in row])) for row in rows]


def json_value(value, depth=0):
    """A value read from a site database as JSON-native data, the same on every runtime:

    timestamps -> epoch milliseconds (one without a time zone is taken in the gateway's local zone, as JDBC does);
    dates -> "YYYY-MM-DD"; times -> "HH:MM:SS" (with .ffffff when there are fractions); decimals -> an int when
    whole, else a float; bytes -> base64 text; UUIDs -> text; json columns -> their value; arrays -> lists;
    intervals -> seconds; NaN and infinities -> None; anything else -> its text.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, string_types):
        return to_text(value)
    if isinstance(value, integer_types):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if depth > _MAX_DEPTH:
        return to_text(u"%s" % (value,))
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.datetime):
        return _epoch_ms(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return to_text(value.isoformat())
    if isinstance(value, datetime.timedelta):
        return value.days * 86400 + value.seconds + value.microseconds / 1e6
    if isinstance(value, uuid.UUID):
        return to_text(str(value))
    if isinstance(value, array.array):  # Java arrays under Jython: byte[] is binary data
        return _base64(value.tostring()) if value.typecode == "b" else [json_value(v, depth + 1) for v in value]
    if isinstance(value, (bytearray, memoryview)) or (not PY2 and isinstance(value, bytes)):
        return _base64(bytes(value))
    if isinstance(value, dict):
        return dict([(to_text(u"%s" % (k,)), json_value(v, depth + 1)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return [json_value(v, depth + 1) for v in value]
    return _java_value(value, depth)


def _epoch_ms(moment):
    try:
        if moment.tzinfo is not None and moment.utcoffset() is not None:
            seconds = calendar.timegm(moment.utctimetuple())
        else:
            seconds = int(time.mktime(moment.timetuple()))
        return seconds * 1000 + moment.microsecond // 1000
    except (OverflowError, ValueError):  # outside what the platform's time functions cover
        return to_text(moment.isoformat())


def _base64(data):
    return base64.b64encode(data).decode("ascii")


def _clock(hour, minute, second, micro):
    text = u"%02d:%02d:%02d" % (hour, minute, second)
    return text + (u".%06d" % micro if micro else u"")


def _java_value(value, depth):
    """Java values (JDBC, system.db), recognised by their methods so this module loads under CPython too."""
    has = lambda name: hasattr(value, name)  # noqa: E731
    if has("getTime"):
        if has("toLocalDateTime"):  # java.sql.Timestamp
            return int(value.getTime())
        if has("toLocalDate"):  # java.sql.Date
            return to_text(value.toLocalDate().toString())
        if has("toLocalTime"):  # java.sql.Time
            local = value.toLocalTime()
            return _clock(local.getHour(), local.getMinute(), local.getSecond(), local.getNano() // 1000)
        return int(value.getTime())  # java.util.Date
    if has("toEpochMilli"):  # java.time.Instant
        return int(value.toEpochMilli())
    if has("toEpochSecond") and has("toInstant"):  # OffsetDateTime, ZonedDateTime
        return int(value.toInstant().toEpochMilli())
    if has("atZone") and has("toLocalDate"):  # LocalDateTime: the gateway's zone, as for a Timestamp
        from java.time import ZoneId

        return int(value.atZone(ZoneId.systemDefault()).toInstant().toEpochMilli())
    if has("toEpochDay"):  # LocalDate
        return to_text(value.toString())
    if has("toSecondOfDay"):  # LocalTime
        return _clock(value.getHour(), value.getMinute(), value.getSecond(), value.getNano() // 1000)
    if has("unscaledValue"):  # BigDecimal
        if value.signum() == 0 or value.stripTrailingZeros().scale() <= 0:
            return value.toBigInteger()  # arrives as a Python long
        return float(value.doubleValue())
    if has("getMostSignificantBits"):  # java.util.UUID
        return to_text(value.toString())
    if has("getType") and has("getValue"):  # PGobject: json, jsonb, and types the driver has no class for
        text = value.getValue()
        if text is not None and to_text(value.getType()) in ("json", "jsonb"):
            return json_value(loads(text), depth + 1)
        return None if text is None else to_text(text)
    if has("getArray") and has("getBaseType"):  # java.sql.Array
        return [json_value(v, depth + 1) for v in value.getArray()]
    if has("getSubString") and has("length"):  # Clob
        return to_text(value.getSubString(1, int(value.length())))
    if has("getBytes") and has("length") and has("getBinaryStream"):  # Blob
        return _base64(value.getBytes(1, int(value.length())).tostring())
    if has("keySet") and has("get"):  # java.util.Map
        return dict([(to_text(u"%s" % (k,)), json_value(value.get(k), depth + 1)) for k in value.keySet()])
    if has("__iter__") and has("__len__"):  # Java lists and arrays
        try:
            return [json_value(v, depth + 1) for v in value]
        except TypeError:
            pass
    return to_text(u"%s" % (value,))
