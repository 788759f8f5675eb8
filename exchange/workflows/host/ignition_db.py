"""The Ignition database adapter: the store's interface over system.db on one named database connection.

The host.database.Database contract (`?` placeholders; no LISTEN: system.db has none). Ignition owns the connection pool: every call borrows a pooled connection, and a transaction
(system.db.beginTransaction) holds one until it is closed. PyDataSet rows become plain tuples. A failed call
raises a Java exception in Ignition (java.lang.Exception wrapping the driver's SQLException); it leaves here as
DatabaseError, `unavailable` when the connection could not be had, so facades answer DB_UNAVAILABLE / DB_ERROR.

With site=True it serves a named connection of the db steps (host/site_databases.py), of any database type the
gateway knows: give its dialect (none is detected) and Python booleans are bound as booleans, not 0/1.
"""
import contextlib
import sys
import threading

from java.lang import Long, Throwable

from exchange.workflows.host.database import Database
from exchange.workflows.util.compat import integer_types
from exchange.workflows.util.errors import DatabaseError

DEFAULT_CONNECTION = "Workflows"
TRANSACTION_TIMEOUT_MS = 60000

# SQLSTATE classes and message fragments that mean "the database could not be reached", so callers wait and retry
_UNAVAILABLE_STATES = ("57P01", "57P02", "57P03", "53300")
_UNAVAILABLE_TEXT = ("does not exist in this gateway", "faulted", "cannot get a connection", "connection refused",
                     "connection attempt failed", "unable to get connection", "this connection has been closed",
                     "i/o error", "sqlite_busy", "database is locked", "timeout waiting for idle object")


def dialect_of(db_type):
    """Our dialect for the DBType that system.db.getConnectionInfo reports (POSTGRES, SQLITE, ...), or None."""
    text = (db_type or "").upper()
    if "POSTGRE" in text or "PGSQL" in text:
        return "postgresql"
    if "SQLITE" in text:
        return "sqlite"
    return None


class _Local(threading.local):
    tx = None
    depth = 0


class IgnitionDatabase(Database):
    def __init__(self, system, connection=DEFAULT_CONNECTION, dialect=None, site=False):
        self._db = system.db
        self.connection = connection or DEFAULT_CONNECTION
        self._booleans = site
        self._local = _Local()
        self.dialect = dialect or self._detect_dialect()

    def _detect_dialect(self):
        try:
            info = self._db.getConnectionInfo(self.connection)
        except:  # noqa: E722 - a Java exception from the gateway
            raise translate(sys.exc_info()[1])
        if info is None or info.getRowCount() == 0:
            raise DatabaseError("Ignition has no database connection named %r: create it on the gateway "
                                "(PostgreSQL, see the Install in Ignition guide)" % self.connection, unavailable=True)
        db_type = info.getValueAt(0, "DBType")
        found = dialect_of(db_type) or self._probe_dialect()
        if found is None:
            raise DatabaseError("database connection %r is %s; exchange.workflows needs PostgreSQL"
                                % (self.connection, db_type))
        return found

    def _probe_dialect(self):
        """For a connection whose DBType says nothing (a generic translator): ask the server itself."""
        try:
            version = self._call(self._db.runScalarPrepQuery, "SELECT version()", ())
        except DatabaseError:
            return None
        return "postgresql" if "postgresql" in (u"%s" % (version,)).lower() else None

    def describe(self):
        return "ignition:%s (%s)" % (self.connection, self.dialect)

    # -- statements --------------------------------------------------------------------------------------------------

    def _call(self, fn, sql, params):
        args = [_java_value(v, self._booleans) for v in params]
        tx = self._local.tx
        try:
            if tx is not None:
                return fn(sql, args, self.connection, tx)
            return fn(sql, args, self.connection)
        except DatabaseError:
            raise
        except:  # noqa: E722 - Ignition raises Java exceptions, which `except Exception` does not catch
            error = sys.exc_info()[1]
            if not isinstance(error, Throwable):
                raise
            raise translate(error)

    def query(self, sql, params=()):
        """Rows (tuples) of a statement that returns rows, including DML ... RETURNING."""
        return rows_of(self._call(self._db.runPrepQuery, sql, params))

    def query_columns(self, sql, params=()):
        dataset = self._call(self._db.runPrepQuery, sql, params)
        if dataset is None:
            return [], []
        return [column for column in dataset.getColumnNames()], rows_of(dataset)

    def execute(self, sql, params=()):
        """Row count of a statement."""
        return self._call(self._db.runPrepUpdate, sql, params)

    def scalar(self, sql, params=()):
        """The first value of the first row, or None."""
        return self._call(self._db.runScalarPrepQuery, sql, params)

    def execute_many(self, sql, rows):
        """system.db has no batch call: one statement per row, all in one transaction."""
        total = 0
        with self.transaction():
            for row in rows:
                count = self.execute(sql, row)
                if count > 0:
                    total += count
        return total

    # -- transactions ------------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self):
        """A block on one connection, committed at the end; nested blocks join the outer one."""
        local = self._local
        if local.tx is not None:
            local.depth += 1
            try:
                yield self
            finally:
                local.depth -= 1
            return
        db = self._db
        try:
            tx = db.beginTransaction(self.connection, db.READ_COMMITTED, TRANSACTION_TIMEOUT_MS)
        except:  # noqa: E722
            raise translate(sys.exc_info()[1])
        local.tx, local.depth = tx, 1
        try:
            try:
                yield self
            except:  # noqa: E722 - Python or Java: roll back and re-raise as it came
                local.tx, local.depth = None, 0
                _quietly(db.rollbackTransaction, tx)
                raise
            local.tx, local.depth = None, 0
            try:
                db.commitTransaction(tx)
            except:  # noqa: E722
                error = translate(sys.exc_info()[1])
                _quietly(db.rollbackTransaction, tx)
                raise error
        finally:
            local.tx, local.depth = None, 0
            _quietly(db.closeTransaction, tx)

    def close(self):
        """Nothing to release: the gateway owns the pool (an open transaction belongs to its thread's block)."""


def rows_of(dataset):
    """PyDataSet -> list of tuples of plain values."""
    if dataset is None:
        return []
    width = dataset.getColumnCount()
    out = []
    for index in range(dataset.getRowCount()):
        row = dataset[index]
        out.append(tuple([row[column] for column in range(width)]))
    return out


def _java_value(value, booleans=False):
    """Bind integers as java.lang.Long (a Jython long would travel as BigInteger, i.e. NUMERIC), bools as 0/1
    (as booleans with `booleans`)."""
    if isinstance(value, bool):
        return value if booleans else Long(1 if value else 0)
    if isinstance(value, integer_types) and -(2 ** 63) <= value < 2 ** 63:
        return Long(value)
    return value


def _quietly(fn, tx):
    try:
        fn(tx)
    except:  # noqa: E722 - cleanup after a failure: the first error is the one that matters
        pass


def _chain(error):
    seen = []
    while error is not None and len(seen) < 20:
        seen.append(error)
        try:
            cause = error.getCause()
        except:  # noqa: E722
            cause = None
        if cause is error:
            break
        error = cause
    return seen


def translate(error):
    """A Java exception from system.db (or a Python one) as DatabaseError with the driver's SQLState."""
    if isinstance(error, DatabaseError):
        return error
    if not isinstance(error, Throwable):
        return DatabaseError("%s: %s" % (type(error).__name__, error))
    chain = _chain(error)
    state = None
    for item in chain:
        getter = getattr(item, "getSQLState", None)
        if getter is not None and getter():
            state = getter()
            break
    root = chain[-1]
    message = root.getMessage() or root.toString()
    text = " ".join([(item.getMessage() or "") for item in chain]).lower()
    unavailable = ((state or "").startswith("08") or state in _UNAVAILABLE_STATES
                   or any([fragment in text for fragment in _UNAVAILABLE_TEXT]))
    conflict = state == "23505" or "unique constraint failed" in text
    return DatabaseError("%s: %s" % (root.getClass().getSimpleName(), message), unavailable=unavailable,
                         conflict=conflict, sqlstate=state)
