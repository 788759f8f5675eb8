"""A fake of Ignition's `system` module (Jython only): what exchange.workflows uses, behaving as Ignition does.

It backs the Jython test suite and `./gateway console`. Imitated, from the Ignition 8.1/8.3 manuals:

    system.db.runPrepQuery(query, args, database, tx)        -> PyDataSet (index and column-name access)
    system.db.runPrepUpdate(query, args, database, tx, getKey, skipAudit) -> row count (or the generated key)
    system.db.runScalarPrepQuery(query, args, database, tx)  -> first value of the first row, or None
    system.db.beginTransaction(database, isolationLevel, timeout) -> transaction id (a string)
    system.db.commitTransaction / rollbackTransaction / closeTransaction(tx)
    system.db.getConnectionInfo(name)                        -> dataset Name, Description, DBType, Status, ...
    system.util.getGlobals() / system.util.globals            -> one dict for the life of the process (the JVM)
    system.util.getLogger(name), getProjectName(), getSystemFlags() (Designer and Vision Client only)
    system.date.now()                                        -> java.util.Date
    system.tag.readBlocking(tagPaths, timeout)               -> [QualifiedValue] (.value, .quality, .timestamp)
    system.tag.writeBlocking(tagPaths, values, timeout)      -> [QualityCode] (.isGood(), .getName())
    system.tag.browse(path, filter)                          -> Results (.getResults(): dicts of name, fullPath,
                                                                hasChildren, tagType, value, quality)
    system.perspective.navigate, sendMessage, print, login   -> recorded in system.fake.perspective_calls (there is
                                                                no session here)

A failed query raises a Java exception, as in Ignition: java.lang.Exception("Error executing
system.db.runPrepQuery(...)") whose cause is the driver's exception (SQLState and all); an unknown connection
name fails the same way. The scope Ignition reports through
com.inductiveautomation.ignition.common.model.ApplicationScope is imitated too, so code that asks Ignition
"am I the gateway?" gets the answer configured here.

Not part of Ignition: `system.fake` configures the fake (named connections from a database URL, the scope, the
project name, the tag provider behind system.tag) and exposes what tests inspect (log records, open transactions,
the system.perspective calls). The tags are memory tags (exchange.workflows.host.memory_tags): kept in this process
unless a tag provider is set (`./gateway console` sets the memory tags of its database, the standalone gateway's).
Each pooled connection behaves like one from an Ignition database connection: autocommit, returned to the pool after
every call; a transaction holds one connection until it is closed.
"""
import sys
import threading
import time
import types
import uuid

from java.lang import Exception as JavaException, IllegalArgumentException, Long, Throwable
from java.sql import Connection, DriverManager, SQLException, Statement
from java.util import Date, Properties
from java.util.concurrent import LinkedBlockingDeque, Semaphore, TimeUnit

try:  # Jython 2.7
    from urllib import unquote
    from urlparse import urlparse
except ImportError:  # pragma: no cover - the fake only runs under Jython
    from urllib.parse import unquote, urlparse

_GLOBALS = {}  # system.util.getGlobals(): one per process, like one per gateway JVM
_STATE = {"scope": "gateway", "project": "exchange-workflows", "defaultDatabase": "Workflows"}
_SCOPES = {"gateway": 1, "designer": 2, "client": 4}
_LEVELS = {"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARN": 3, "ERROR": 4, "OFF": 99}


def _module(name, doc):
    module = types.ModuleType(name, doc)
    sys.modules[name] = module
    return module


# -- ApplicationScope (com.inductiveautomation.ignition.common.model) --------------------------------------------------

class ApplicationScope(object):
    """The scope bitmask Ignition's ApplicationScope reports; getGlobalScope() answers for this process."""

    NONE = 0
    GATEWAY = 1
    DESIGNER = 2
    CLIENT = 4
    ALL = 7

    @staticmethod
    def getGlobalScope():
        return _SCOPES[_STATE["scope"]]

    @staticmethod
    def isGateway(scope):
        return bool(scope & ApplicationScope.GATEWAY)

    @staticmethod
    def isDesigner(scope):
        return bool(scope & ApplicationScope.DESIGNER)

    @staticmethod
    def isClient(scope):
        return bool(scope & ApplicationScope.CLIENT)


def _install_application_scope():
    name = "com.inductiveautomation.ignition.common.model"
    if name in sys.modules:
        return
    for package in ("com.inductiveautomation", "com.inductiveautomation.ignition",
                    "com.inductiveautomation.ignition.common"):
        if package not in sys.modules:
            _module(package, "fake Java package (gateway_scripts/shim/system.py)")
    _module(name, "fake Java package (gateway_scripts/shim/system.py)").ApplicationScope = ApplicationScope


_install_application_scope()


# -- datasets ---------------------------------------------------------------------------------------------------------

class PyRow(object):
    """One row of a PyDataSet: row[0] or row["column"]."""

    def __init__(self, dataset, index):
        self._dataset = dataset
        self._index = index

    def __getitem__(self, key):
        return self._dataset.getValueAt(self._index, key)

    def __len__(self):
        return self._dataset.getColumnCount()

    def __iter__(self):
        for column in range(self._dataset.getColumnCount()):
            yield self._dataset.getValueAt(self._index, column)

    def __repr__(self):
        return repr(list(self))


class PyDataSet(object):
    """What system.db.runPrepQuery returns: ds[row][column], ds[row]["name"], ds.getValueAt(row, column)."""

    def __init__(self, columns, rows):
        self._columns = list(columns)
        self._rows = rows

    def getRowCount(self):
        return len(self._rows)

    def getColumnCount(self):
        return len(self._columns)

    def getColumnNames(self):
        return list(self._columns)

    def getColumnName(self, index):
        return self._columns[index]

    def getColumnIndex(self, name):
        for index, column in enumerate(self._columns):
            if column == name:
                return index
        raise IllegalArgumentException("Column \"%s\" does not exist in the dataset" % name)

    def getValueAt(self, row, column):
        if not isinstance(column, (int, long)):
            column = self.getColumnIndex(column)
        if row < 0 or row >= len(self._rows):
            raise IndexError("row %d out of range (%d rows)" % (row, len(self._rows)))
        return self._rows[row][column]

    def getUnderlyingDataset(self):
        return self

    def __len__(self):
        return len(self._rows)

    def __getitem__(self, index):
        if index < 0:
            index += len(self._rows)
        if index < 0 or index >= len(self._rows):
            raise IndexError("row index out of range")
        return PyRow(self, index)

    def __iter__(self):
        for index in range(len(self._rows)):
            yield PyRow(self, index)

    def __repr__(self):
        return "<PyDataSet rows:%d cols:%d>" % (len(self._rows), len(self._columns))


# -- named database connections -----------------------------------------------------------------------------------------

class _Datasource(object):
    """A named connection: a small pool of JDBC connections, like one configured on an Ignition gateway."""

    def __init__(self, name, url, max_connections=16, wait_ms=30000):
        self.name = name
        self.url = url
        self.wait_ms = wait_ms
        self.max_connections = max_connections
        self._idle = LinkedBlockingDeque()
        self._permits = Semaphore(max_connections)
        parts = urlparse(url) if "://" in url else None
        if parts is not None and parts.scheme in ("postgresql", "postgres"):
            self.kind = self.db_type = "POSTGRES"
            self.jdbc_url = "jdbc:postgresql://%s:%s/%s" % (parts.hostname or "127.0.0.1", parts.port or 5432,
                                                           (parts.path or "/").lstrip("/") or "postgres")
            self.user = unquote(parts.username) if parts.username else None
            self.password = unquote(parts.password) if parts.password else None
            self.path = None
        elif url.startswith("sqlite:"):
            self.kind = self.db_type = "SQLITE"
            self.jdbc_url = "jdbc:sqlite::memory:"
            path = url[len("sqlite:"):]
            while path.startswith("//"):
                path = path[1:]
            import os

            self.path = os.path.abspath(path)
            directory = os.path.dirname(self.path)
            if directory and not os.path.isdir(directory):
                os.makedirs(directory)
        else:
            raise ValueError("fake connection %s: use postgresql://... or sqlite:PATH, got %r" % (name, url))

    def _open(self):
        props = Properties()
        if self.kind == "POSTGRES":
            from java.lang import Class

            Class.forName("org.postgresql.Driver")
            if self.user:
                props.setProperty("user", self.user)
            if self.password:
                props.setProperty("password", self.password)
            props.setProperty("connectTimeout", "5")
            props.setProperty("ApplicationName", "Ignition-fake-%s" % self.name)
            return DriverManager.getConnection(self.jdbc_url, props)
        from java.lang import Class

        Class.forName("org.sqlite.JDBC")
        # an Ignition connection's "extra connection properties": take the write lock when a transaction begins
        props.setProperty("transaction_mode", "IMMEDIATE")
        props.setProperty("busy_timeout", "30000")
        conn = DriverManager.getConnection(self.jdbc_url, props)
        stmt = conn.createStatement()
        try:
            stmt.execute("ATTACH DATABASE '%s' AS workflows" % self.path.replace("'", "''"))
            stmt.execute("PRAGMA workflows.journal_mode = WAL")
            stmt.execute("PRAGMA workflows.synchronous = NORMAL")
        finally:
            stmt.close()
        return conn

    def borrow(self):
        if not self._permits.tryAcquire(self.wait_ms, TimeUnit.MILLISECONDS):
            raise SQLException("Cannot get a connection, pool error Timeout waiting for idle object", "08001")
        try:
            conn = self._idle.pollFirst()
            while conn is not None and conn.isClosed():
                conn = self._idle.pollFirst()
            if conn is None:
                conn = self._open()
            conn.setAutoCommit(True)
            return conn
        except:  # noqa: E722 - give the permit back whatever failed (Java or Python)
            self._permits.release()
            raise

    def give_back(self, conn):
        try:
            if not conn.isClosed():
                if not conn.getAutoCommit():
                    conn.rollback()
                    conn.setAutoCommit(True)
                self._idle.offerFirst(conn)
        except Throwable:
            try:
                conn.close()
            except Throwable:
                pass
        finally:
            self._permits.release()

    def in_use(self):
        return self.max_connections - self._permits.availablePermits()

    def close(self):
        while True:
            conn = self._idle.pollFirst()
            if conn is None:
                break
            try:
                conn.close()
            except Throwable:
                pass


class _Transaction(object):
    def __init__(self, tx_id, datasource, conn, timeout_ms):
        self.id = tx_id
        self.datasource = datasource
        self.conn = conn
        self.timeout_ms = timeout_ms
        self.last_used = time.time()
        self.lock = threading.RLock()


_DATASOURCES = {}
_TRANSACTIONS = {}
_REGISTRY_LOCK = threading.RLock()


def _datasource(name):
    name = name or _STATE["defaultDatabase"]
    with _REGISTRY_LOCK:
        source = _DATASOURCES.get(name)
    if source is None:
        raise IllegalArgumentException("Datasource \"%s\" does not exist in this Gateway." % name)
    return source


def _transaction(tx):
    with _REGISTRY_LOCK:
        found = _TRANSACTIONS.get(tx)
        if found is not None and (time.time() - found.last_used) * 1000.0 > found.timeout_ms:
            _TRANSACTIONS.pop(tx, None)
            _end(found)  # timed out: Ignition rolls it back and closes it
            found = None
    if found is None:
        raise IllegalArgumentException("Transaction \"%s\" is closed or does not exist." % tx)
    found.last_used = time.time()
    return found


def _end(transaction):
    try:
        transaction.conn.rollback()
    except Throwable:
        pass
    transaction.datasource.give_back(transaction.conn)


def _failure(function, query, args, database, tx, cause):
    text = "Error executing %s(%s, %s, %s, %s)" % (function, query, list(args or []), database or "", tx or "")
    if isinstance(cause, Throwable):
        return JavaException(text, cause)
    return JavaException("%s: %s: %s" % (text, type(cause).__name__, cause))


def _bind(statement, args):
    index = 1
    for value in args or []:
        statement.setObject(index, value)  # Jython converts the Python value as Ignition's call would
        index += 1


def _with_connection(function, query, args, database, tx, work):
    """Run work(conn) on the transaction's connection or a pooled one; failures leave as Ignition's exceptions."""
    try:
        if tx:
            transaction = _transaction(tx)
            with transaction.lock:
                return work(transaction.conn)
        source = _datasource(database)
        conn = source.borrow()
        try:
            return work(conn)
        finally:
            source.give_back(conn)
    except (KeyboardInterrupt, SystemExit):
        raise
    except:  # noqa: E722 - a Java exception or a Python one (binding an unsupported value)
        raise _failure(function, query, args, database, tx, sys.exc_info()[1])


def _dataset(result_set):
    meta = result_set.getMetaData()
    width = meta.getColumnCount()
    columns = [meta.getColumnLabel(i) for i in range(1, width + 1)]
    rows = []
    while result_set.next():
        rows.append([result_set.getObject(i) for i in range(1, width + 1)])
    return PyDataSet(columns, rows)


# -- system.db ----------------------------------------------------------------------------------------------------------

db = _module("system.db", "Fake of Ignition's system.db.")
db.READ_UNCOMMITTED = Connection.TRANSACTION_READ_UNCOMMITTED
db.READ_COMMITTED = Connection.TRANSACTION_READ_COMMITTED
db.REPEATABLE_READ = Connection.TRANSACTION_REPEATABLE_READ
db.SERIALIZABLE = Connection.TRANSACTION_SERIALIZABLE


def runPrepQuery(query, args=None, database="", tx=""):
    def work(conn):
        statement = conn.prepareStatement(query)
        try:
            _bind(statement, args)
            return _dataset(statement.executeQuery())
        finally:
            statement.close()
    return _with_connection("system.db.runPrepQuery", query, args, database, tx, work)


def runPrepUpdate(query, args=None, database="", tx="", getKey=False, skipAudit=False):
    def work(conn):
        statement = conn.prepareStatement(query, Statement.RETURN_GENERATED_KEYS if getKey else
                                          Statement.NO_GENERATED_KEYS)
        try:
            _bind(statement, args)
            count = statement.executeUpdate()
            if not getKey:
                return count
            keys = statement.getGeneratedKeys()
            return keys.getObject(1) if keys.next() else -1
        finally:
            statement.close()
    return _with_connection("system.db.runPrepUpdate", query, args, database, tx, work)


def runScalarPrepQuery(query, args=None, database="", tx=""):
    dataset = runPrepQuery(query, args, database, tx)
    if dataset.getRowCount() == 0 or dataset.getColumnCount() == 0:
        return None
    return dataset.getValueAt(0, 0)


def beginTransaction(database="", isolationLevel=None, timeout=None):
    try:
        source = _datasource(database)
        conn = source.borrow()
    except (KeyboardInterrupt, SystemExit):
        raise
    except:  # noqa: E722
        raise _failure("system.db.beginTransaction", "", [], database, "", sys.exc_info()[1])
    try:
        conn.setAutoCommit(False)
        if isolationLevel is not None:
            conn.setTransactionIsolation(int(isolationLevel))
    except Throwable as exc:
        source.give_back(conn)
        raise _failure("system.db.beginTransaction", "", [], database, "", exc)
    tx = str(uuid.uuid4())
    with _REGISTRY_LOCK:
        _TRANSACTIONS[tx] = _Transaction(tx, source, conn, int(timeout) if timeout else 30000)
    return tx


def _on_transaction(function, tx, work):
    try:
        transaction = _transaction(tx)
        with transaction.lock:
            work(transaction)
    except (KeyboardInterrupt, SystemExit):
        raise
    except:  # noqa: E722
        raise _failure(function, "", [], "", tx, sys.exc_info()[1])


def commitTransaction(tx):
    _on_transaction("system.db.commitTransaction", tx, lambda t: t.conn.commit())


def rollbackTransaction(tx):
    _on_transaction("system.db.rollbackTransaction", tx, lambda t: t.conn.rollback())


def closeTransaction(tx):
    def close(transaction):
        with _REGISTRY_LOCK:
            _TRANSACTIONS.pop(tx, None)
        _end(transaction)
    _on_transaction("system.db.closeTransaction", tx, close)


def getConnectionInfo(name=""):
    columns = ["Name", "Description", "DBType", "Status", "Problem", "ExtStatus", "Throughput",
               "ActiveConnections", "MaxConnections", "ValidationQuery"]
    try:
        source = _datasource(name)
    except Throwable:
        return PyDataSet(columns, [])
    return PyDataSet(columns, [[source.name, "fake connection to %s" % source.url, source.db_type, "Valid", "",
                                "Valid", -1, source.in_use(), source.max_connections, "SELECT 1"]])


for _fn in (runPrepQuery, runPrepUpdate, runScalarPrepQuery, beginTransaction, commitTransaction,
            rollbackTransaction, closeTransaction, getConnectionInfo):
    setattr(db, _fn.__name__, _fn)


# -- system.util --------------------------------------------------------------------------------------------------------

class _LogRecords(object):
    """The last messages every fake logger wrote, for tests (a bounded list)."""

    def __init__(self, keep=5000):
        self._items = []
        self._keep = keep
        self._lock = threading.Lock()

    def add(self, record):
        with self._lock:
            self._items.append(record)
            if len(self._items) > self._keep:
                del self._items[:len(self._items) - self._keep]

    def find(self, logger=None, level=None, contains=None):
        with self._lock:
            items = list(self._items)
        return [r for r in items if (logger is None or r[0] == logger) and (level is None or r[1] == level)
                and (contains is None or contains in r[2])]

    def clear(self):
        with self._lock:
            self._items = []


LOG_RECORDS = _LogRecords()


class LoggerEx(object):
    """system.util.getLogger(name): trace/debug/info/warn/error(message) and the *f formatting variants."""

    def __init__(self, name):
        self.name = name

    def _log(self, level, message):
        LOG_RECORDS.add((self.name, level, u"%s" % (message,), time.time()))
        if _LEVELS[level] >= _LEVELS.get(_STATE.get("logLevel", "WARN"), 3):
            sys.stderr.write("%s %-5s [%s] %s\n" % (time.strftime("%H:%M:%S"), level, self.name, message))

    def trace(self, message):
        self._log("TRACE", message)

    def debug(self, message):
        self._log("DEBUG", message)

    def info(self, message):
        self._log("INFO", message)

    def warn(self, message):
        self._log("WARN", message)

    def error(self, message):
        self._log("ERROR", message)

    def tracef(self, fmt, *args):
        self._log("TRACE", fmt % args)

    def debugf(self, fmt, *args):
        self._log("DEBUG", fmt % args)

    def infof(self, fmt, *args):
        self._log("INFO", fmt % args)

    def warnf(self, fmt, *args):
        self._log("WARN", fmt % args)

    def errorf(self, fmt, *args):
        self._log("ERROR", fmt % args)

    def isTraceEnabled(self):
        return _STATE.get("logLevel", "WARN") == "TRACE"

    def isDebugEnabled(self):
        return _STATE.get("logLevel", "WARN") in ("TRACE", "DEBUG")

    def isInfoEnabled(self):
        return _LEVELS[_STATE.get("logLevel", "WARN")] <= _LEVELS["INFO"]


util = _module("system.util", "Fake of Ignition's system.util.")
util.globals = _GLOBALS


def getGlobals():
    return _GLOBALS


def getLogger(name):
    return LoggerEx(name)


def getProjectName():
    return _STATE["project"]


def getSystemFlags():
    """Designer and Vision Client only: 1 = Designer, 4 = Client (the gateway has no such function)."""
    if _STATE["scope"] == "gateway":
        raise AttributeError("system.util.getSystemFlags is not available in the gateway scope")
    return 1 if _STATE["scope"] == "designer" else 4


for _fn in (getGlobals, getLogger, getProjectName, getSystemFlags):
    setattr(util, _fn.__name__, _fn)


# -- system.date --------------------------------------------------------------------------------------------------------

date = _module("system.date", "Fake of Ignition's system.date.")


def now():
    return Date()


def toMillis(date):
    return Long(date.getTime())


date.now = now
date.toMillis = toMillis


# -- system.tag -----------------------------------------------------------------------------------------------------------

class QualityCode(object):
    """A quality as Ignition 8 reports it: getName() "Good", "Bad_NotFound", ...; isGood(), isBad(), isUncertain()."""

    def __init__(self, name):
        self._name = name

    def getName(self):
        return self._name

    def isGood(self):
        return self._name.startswith("Good")

    def isBad(self):
        return self._name.startswith("Bad")

    def isUncertain(self):
        return self._name.startswith("Uncertain")

    def isError(self):
        return self._name.startswith("Error")

    def toString(self):
        return self._name

    def __str__(self):
        return self._name

    def __repr__(self):
        return self._name


class BasicQualifiedValue(object):
    """What readBlocking returns per path: value, quality (a QualityCode), timestamp (a java.util.Date)."""

    def __init__(self, value, quality, timestamp):
        self.value = value
        self.quality = quality
        self.timestamp = timestamp

    def getValue(self):
        return self.value

    def getQuality(self):
        return self.quality

    def getTimestamp(self):
        return self.timestamp

    def __repr__(self):
        return "[%r, %s, %s]" % (self.value, self.quality, self.timestamp)


class Results(object):
    """What system.tag.browse returns."""

    def __init__(self, items):
        self._items = items

    def getResults(self):
        return list(self._items)

    def getReturnedSize(self):
        return len(self._items)

    def getTotalAvailableSize(self):
        return len(self._items)

    def getContinuationPoint(self):
        return None


def _fresh_tags():
    from exchange.workflows.host.memory_tags import MemoryTags, ProcessTagTable

    return MemoryTags(ProcessTagTable())


_TAGS = {"provider": None}


def _tags():
    if _TAGS["provider"] is None:
        _TAGS["provider"] = _fresh_tags()
    return _TAGS["provider"]


def _date(millis):
    return Date(Long(millis)) if millis is not None else Date()


tag = _module("system.tag", "Fake of Ignition's system.tag (memory tags).")


def _paths(tagPaths, function):
    if isinstance(tagPaths, basestring):
        raise IllegalArgumentException("%s expects a list of tag paths" % function)
    return [u"%s" % (p,) for p in tagPaths]


def readBlocking(tagPaths, timeout=45000):
    readings = _tags().read(_paths(tagPaths, "system.tag.readBlocking"))
    return [BasicQualifiedValue(r["value"], QualityCode(r["quality"]), _date(r["timestamp"])) for r in readings]


def writeBlocking(tagPaths, values, timeout=45000):
    paths = _paths(tagPaths, "system.tag.writeBlocking")
    values = list(values)
    if len(values) != len(paths):
        raise IllegalArgumentException("system.tag.writeBlocking: %d paths but %d values" % (len(paths), len(values)))
    return [QualityCode(r["quality"]) for r in _tags().write(paths, values)]


def browse(path, filter=None):
    items = _tags().browse(u"%s" % (path,))
    wanted = (filter or {}).get("tagType")
    if wanted:
        items = [i for i in items if i["tagType"] == wanted]
    return Results([dict(i, quality=QualityCode(i["quality"]) if i["quality"] else None) for i in items])


for _fn in (readBlocking, writeBlocking, browse):
    setattr(tag, _fn.__name__, _fn)


# -- system.net: httpClient --------------------------------------------------------------------------------------------
#
# Ignition 8.1's JythonHttpClient over the JDK's java.net.http.HttpClient, for what exchange.workflows uses:
#
#     system.net.httpClient(timeout=60000, bypass_cert_validation=True, username=None, password=None, proxy=None,
#                           cookie_policy="ACCEPT_ORIGINAL_SERVER", redirect_policy="NORMAL", customizer=None)
#                                                                  -> JythonHttpClient (timeout: the connect timeout)
#     client.request(url, method, params=None, data=None, headers=None, username=None, password=None, timeout=60000)
#     client.get(url, ...), post, put, patch, delete, head          -> Response
#     Response: statusCode, headers (name -> list of values), body (byte[]), text, json, url, good, clientError,
#               serverError, and their getters (getStatusCode(), getHeaders(), ...)
#
# data: a dict is sent as JSON (Content-Type application/json), text as UTF-8, a byte[] as it is; params (a dict) go
# into the query string; the request's timeout is in milliseconds. A request that gets no response raises the JDK's
# Java exception (java.net.ConnectException, java.net.http.HttpTimeoutException), as in Ignition. Not imitated:
# credentials, proxies, cookie policies, skipping certificate checks, customizers, the *Async variants.

net = _module("system.net", "Fake of Ignition's system.net (httpClient).")


class Response(object):
    """What JythonHttpClient's requests return."""

    def __init__(self, java_response):
        self.statusCode = int(java_response.statusCode())
        self.url = java_response.uri().toString()
        self.body = java_response.body()
        header_map = java_response.headers().map()
        self.headers = dict([(name, list(header_map.get(name))) for name in header_map.keySet()])
        self.good = 200 <= self.statusCode < 300
        self.clientError = 400 <= self.statusCode < 500
        self.serverError = 500 <= self.statusCode < 600

    @property
    def text(self):
        charset = "utf-8"
        for name, values in self.headers.items():
            if name.lower() == "content-type" and "charset=" in values[0]:
                charset = values[0].split("charset=", 1)[1].split(";")[0].strip().strip('"')
        return (self.body.tostring() if self.body is not None else "").decode(charset, "replace")

    @property
    def json(self):
        import json as jsonlib

        return jsonlib.loads(self.text)

    def getStatusCode(self):
        return self.statusCode

    def getUrl(self):
        return self.url

    def getBody(self):
        return self.body

    def getHeaders(self):
        return self.headers

    def getText(self):
        return self.text

    def getJson(self):
        return self.json

    def isGood(self):
        return self.good

    def isClientError(self):
        return self.clientError

    def isServerError(self):
        return self.serverError

    def __repr__(self):
        return "<Response@%d '%s' [%d]>" % (id(self), self.url, self.statusCode)


class JythonHttpClient(object):
    """system.net.httpClient(): one java.net.http.HttpClient, requests sent synchronously."""

    def __init__(self, timeout, redirect_policy):
        from java.net.http import HttpClient
        from java.time import Duration

        self.timeout = int(timeout)
        self._java = (HttpClient.newBuilder().connectTimeout(Duration.ofMillis(self.timeout))
                      .followRedirects(HttpClient.Redirect.valueOf(redirect_policy.upper())).build())

    def getJavaClient(self):
        return self._java

    def request(self, url, method, params=None, data=None, headers=None, username=None, password=None,
                timeout=60000):
        from java.net import URI
        from java.net.http import HttpRequest, HttpResponse
        from java.time import Duration

        if username is not None or password is not None:
            raise NotImplementedError("the fake httpClient does not send credentials")
        target = url
        if params:
            import urllib

            query = urllib.urlencode([(k, u"%s" % (v,)) for k, v in sorted(params.items())])
            target += ("&" if "?" in url else "?") + query
        builder = HttpRequest.newBuilder(URI.create(target)).timeout(Duration.ofMillis(int(timeout)))
        body, content_type = _http_body(data)
        names = [name.lower() for name in (headers or {})]
        for name, value in (headers or {}).items():
            builder.header(name, u"%s" % (value,))
        if content_type and "content-type" not in names:
            builder.header("Content-Type", content_type)
        publisher = (HttpRequest.BodyPublishers.ofByteArray(body) if body is not None
                     else HttpRequest.BodyPublishers.noBody())
        builder.method(method.upper(), publisher)
        return Response(self._java.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray()))

    def _shortcut(method):
        def send(self, url, params=None, data=None, headers=None, username=None, password=None, timeout=60000):
            return self.request(url, method, params=params, data=data, headers=headers, username=username,
                                password=password, timeout=timeout)
        send.__name__ = method.lower()
        return send

    get = _shortcut("GET")
    post = _shortcut("POST")
    put = _shortcut("PUT")
    patch = _shortcut("PATCH")
    delete = _shortcut("DELETE")
    head = _shortcut("HEAD")
    del _shortcut

    def __repr__(self):
        return "<JythonHttpClient@%d timeout=%d>" % (id(self), self.timeout)


def _http_body(data):
    """(bytes or a byte[], default Content-Type) of a request's data."""
    import array
    import json as jsonlib

    if data is None:
        return None, None
    if isinstance(data, dict):
        return jsonlib.dumps(data).encode("utf-8"), "application/json"
    if isinstance(data, unicode):
        return data.encode("utf-8"), None
    if isinstance(data, (str, array.array)):
        return data, None
    raise IllegalArgumentException("data must be a dict, a string or a byte[], not %s" % type(data).__name__)


def httpClient(timeout=60000, bypass_cert_validation=True, username=None, password=None, proxy=None,
               cookie_policy="ACCEPT_ORIGINAL_SERVER", redirect_policy="NORMAL", customizer=None):
    if username is not None or password is not None or proxy is not None or customizer is not None:
        raise NotImplementedError("the fake httpClient does not imitate credentials, proxies or customizers")
    return JythonHttpClient(timeout, redirect_policy)


net.httpClient = httpClient


# -- system.perspective -------------------------------------------------------------------------------------------------
#
# What the Perspective views of exchange.workflows call from their scripts, with the parameters of Ignition 8.1's
# functions; there is no session here, so each call is only recorded, in order, in system.fake.perspective_calls:
#
#     system.perspective.navigate(page, url=None, view=None, params=None, sessionId, pageId, newTab=False)
#     system.perspective.sendMessage(messageType, payload, scope="page", sessionId, pageId)
#     system.perspective.print(message, sessionId, pageId, destination="client")
#     system.perspective.login(sessionId, pageId, forceAuth=False)
#
# A call Ignition refuses is refused here too: navigate without a page, url or view, sendMessage to a scope other
# than session, page or view, print to a destination other than client, gateway or all.

perspective = _module("system.perspective", "Fake of Ignition's system.perspective (records the calls).")
PERSPECTIVE_CALLS = []


def _perspective_call(function, **args):
    record = dict(args, function=function)
    PERSPECTIVE_CALLS.append(record)
    return record


def navigate(page=None, url=None, view=None, params=None, sessionId="current_session", pageId="current_page",
             newTab=False):
    if not (page or url or view):
        raise IllegalArgumentException("navigate needs a page, a url or a view")
    _perspective_call("navigate", page=page, url=url, view=view, params=params, sessionId=sessionId, pageId=pageId,
                      newTab=newTab)


def sendMessage(messageType, payload, scope="page", sessionId="current_session", pageId="current_page"):
    if scope not in ("session", "page", "view"):
        raise IllegalArgumentException("scope must be session, page or view, not %r" % (scope,))
    _perspective_call("sendMessage", messageType=messageType, payload=payload, scope=scope, sessionId=sessionId,
                      pageId=pageId)


def _print(message, sessionId="current_session", pageId="current_page", destination="client"):
    if destination not in ("client", "gateway", "all"):
        raise IllegalArgumentException("destination must be client, gateway or all, not %r" % (destination,))
    _perspective_call("print", message=message, sessionId=sessionId, pageId=pageId, destination=destination)


def login(sessionId="current_session", pageId="current_page", forceAuth=False):
    _perspective_call("login", sessionId=sessionId, pageId=pageId, forceAuth=forceAuth)


for _fn in (navigate, sendMessage, login):
    setattr(perspective, _fn.__name__, _fn)
setattr(perspective, "print", _print)  # a keyword in Python 2: only reachable as an attribute


# -- system.fake: configuration of the fake (not part of Ignition) -----------------------------------------------------

fake = _module("system.fake", "Configures the fake: connections, scope, project; what tests inspect.")


def add_connection(name, url, max_connections=16, wait_ms=30000, db_type=None):
    """A named database connection, like one created under Config > Databases > Connections.

    db_type overrides the DBType getConnectionInfo reports (e.g. "GENERIC" for a generic translator)."""
    source = _Datasource(name, url, max_connections, wait_ms)
    if db_type:
        source.db_type = db_type
    with _REGISTRY_LOCK:
        old = _DATASOURCES.get(name)
        _DATASOURCES[name] = source
    if old is not None:
        old.close()
    return source


def remove_connection(name):
    with _REGISTRY_LOCK:
        source = _DATASOURCES.pop(name, None)
    if source is not None:
        source.close()


def set_scope(scope):
    """'gateway', 'designer' or 'client': what ApplicationScope.getGlobalScope() reports."""
    if scope not in _SCOPES:
        raise ValueError("scope must be one of %s" % ", ".join(sorted(_SCOPES)))
    _STATE["scope"] = scope


def set_project(name):
    _STATE["project"] = name


def set_default_database(name):
    _STATE["defaultDatabase"] = name


def set_log_level(level):
    """Messages at this level and above are also written to stderr (default WARN; OFF for none)."""
    _STATE["logLevel"] = level.upper()


def set_tag_provider(provider):
    """The tags behind system.tag: an exchange.workflows tag provider (None: fresh memory tags of this process)."""
    _TAGS["provider"] = provider


def open_transactions():
    with _REGISTRY_LOCK:
        return sorted(_TRANSACTIONS)


def connections_in_use(name):
    return _datasource(name).in_use()


def reset(clear_globals=True):
    """Back to a fresh process: transactions rolled back, pools closed, globals and log records cleared."""
    with _REGISTRY_LOCK:
        transactions = list(_TRANSACTIONS.values())
        _TRANSACTIONS.clear()
        sources = list(_DATASOURCES.values())
        _DATASOURCES.clear()
    for transaction in transactions:
        _end(transaction)
    for source in sources:
        source.close()
    if clear_globals:
        _GLOBALS.clear()
    _TAGS["provider"] = None
    LOG_RECORDS.clear()
    del PERSPECTIVE_CALLS[:]
    _STATE.update({"scope": "gateway", "project": "exchange-workflows", "defaultDatabase": "Workflows"})


fake.log_records = LOG_RECORDS
fake.perspective_calls = PERSPECTIVE_CALLS  # system.perspective calls, in order: {"function": ..., its arguments}
for _fn in (add_connection, remove_connection, set_scope, set_project, set_default_database, set_log_level,
            set_tag_provider, open_transactions, connections_in_use, reset):
    setattr(fake, _fn.__name__, _fn)

del _fn
