"""Jython database adapter over plain JDBC (the standalone gateway).

The host.database.Database contract over JDBC: one autocommit java.sql.Connection per thread, prepared statements cached per connection,
`transaction()` for a block, Java exceptions (java.sql.SQLException and any Throwable) turned into DatabaseError.

With site=True it serves a named connection of the db steps (host/site_databases.py): a SQLite file is opened as
`main` (it must exist) and Python booleans are bound as booleans (the engine's own tables keep them as 0/1).
"""
import contextlib
import os
import threading

from java.lang import Class, Thread, Throwable
from java.sql import DriverManager, Types
from java.util import Properties

from exchange.workflows.host.database import Database
from exchange.workflows.util.compat import integer_types, string_types
from exchange.workflows.util.errors import DatabaseError

_LONG_MIN = -(2 ** 63)
_LONG_MAX = 2 ** 63 - 1
_TEXT = frozenset(string_types)
_INTEGER = frozenset(integer_types)
_NULL = Types.NULL
SITE_STATEMENTS = 200  # prepared statements kept per connection of a site database


class _Conn(object):
    __slots__ = ("jdbc", "statements", "depth")

    def __init__(self, jdbc):
        self.jdbc = jdbc
        self.statements = {}
        self.depth = 0


class _Statement(object):
    """A prepared statement, its bound setters, and the column numbers of its results."""
    __slots__ = ("ps", "set_string", "set_long", "set_null", "set_int", "set_double", "set_object", "booleans",
                 "_columns")

    def __init__(self, ps, booleans=False):
        self.ps = ps
        self.booleans = booleans
        self.set_string = ps.setString
        self.set_long = ps.setLong
        self.set_null = ps.setNull
        self.set_int = ps.setInt
        self.set_double = ps.setDouble
        self.set_object = ps.setObject
        self._columns = None

    def columns(self, rs):
        if self._columns is None:
            self._columns = range(1, rs.getMetaData().getColumnCount() + 1)
        return self._columns

    def bind(self, params, _type=type, _text=_TEXT, _integer=_INTEGER, _null=_NULL, _long_min=_LONG_MIN,
             _long_max=_LONG_MAX):
        index = 1
        for value in params:
            kind = _type(value)
            if kind in _text:
                self.set_string(index, value)
            elif value is None:
                self.set_null(index, _null)
            elif kind is bool:
                if self.booleans:
                    self.ps.setBoolean(index, value)
                else:
                    self.set_int(index, 1 if value else 0)
            elif kind in _integer:
                if value < _long_min or value > _long_max:
                    raise DatabaseError("integer parameter %d out of range" % value)
                self.set_long(index, value)
            elif kind is float:
                self.set_double(index, value)
            elif isinstance(value, string_types):
                self.set_string(index, value)
            elif isinstance(value, integer_types):
                self.set_long(index, value)
            else:
                self.set_object(index, value)
            index += 1


class JdbcDatabase(Database):
    def __init__(self, url, site=False):
        self.dialect = url.dialect
        self._url = url
        self._site = site
        self._local = threading.local()
        self._all = []
        self._lock = threading.Lock()
        if url.dialect == "postgresql":
            Class.forName("org.postgresql.Driver")
        else:
            Class.forName("org.sqlite.JDBC")
            directory = os.path.dirname(url.path)
            if not site and directory and not os.path.isdir(directory):
                os.makedirs(directory)

    # -- connections -------------------------------------------------------------------------------------------

    def _open(self):
        props = Properties()
        if self.dialect == "postgresql":
            if self._url.user:
                props.setProperty("user", self._url.user)
            if self._url.password:
                props.setProperty("password", self._url.password)
            props.setProperty("connectTimeout", "5")
            props.setProperty("ApplicationName", "exchange.workflows")
        if self._site and self.dialect == "sqlite":
            return self._open_site_file(props)
        try:
            jdbc = DriverManager.getConnection(self._url.jdbc_url(), props)
            jdbc.setAutoCommit(True)
            if self.dialect == "sqlite":
                stmt = jdbc.createStatement()
                try:
                    stmt.execute("ATTACH DATABASE '%s' AS workflows" % self._url.path.replace("'", "''"))
                    stmt.execute("PRAGMA busy_timeout = 30000")
                    stmt.execute("PRAGMA workflows.journal_mode = WAL")
                    stmt.execute("PRAGMA workflows.synchronous = NORMAL")
                finally:
                    stmt.close()
        except Throwable as exc:
            raise DatabaseError("cannot connect to %s: %s" % (self._url.describe(), exc.getMessage()), unavailable=True)
        return _Conn(jdbc)

    def _open_site_file(self, props):
        """A site's SQLite file as `main`: its tables are where any other program puts them."""
        path = self._url.path
        if not os.path.isfile(path):
            raise DatabaseError("no SQLite file at %s" % path, unavailable=True)
        props.setProperty("busy_timeout", "30000")
        try:
            jdbc = DriverManager.getConnection("jdbc:sqlite:" + path, props)
            jdbc.setAutoCommit(True)
        except Throwable as exc:
            raise DatabaseError("cannot open %s: %s" % (path, exc.getMessage()), unavailable=True)
        return _Conn(jdbc)

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _discard(self, conn):
        self._local.conn = None
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        try:
            conn.jdbc.close()
        except Throwable:
            pass

    def close(self):
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.jdbc.close()
            except Throwable:
                pass

    # -- statements --------------------------------------------------------------------------------------------

    def _prepared(self, conn, sql):
        """The cached statement of `sql` with its parameter setters bound once (looking a Java method up from
        Jython walks the class hierarchy; a bound setter is called directly)."""
        found = conn.statements.get(sql)
        if found is None:
            if self._site and len(conn.statements) >= SITE_STATEMENTS:
                self._forget_statements(conn)  # SQL built per call in a workflow must not pile up
            ps = conn.jdbc.prepareStatement(sql)
            found = conn.statements[sql] = _Statement(ps, booleans=self._site)
        return found

    def _forget_statements(self, conn):
        statements, conn.statements = conn.statements, {}
        for st in statements.values():
            try:
                st.ps.close()
            except Throwable:
                pass

    def _run(self, sql, params, want_rows, want_columns=False):
        conn = self._conn()
        try:
            st = self._prepared(conn, sql)
            st.bind(params)
            ps = st.ps
            has_rows = ps.execute()
            if not want_rows:
                if has_rows:
                    rs = ps.getResultSet()
                    count = 0
                    while rs.next():
                        count += 1
                    rs.close()
                    return count
                return ps.getUpdateCount()
            rows = []
            names = []
            if has_rows:
                rs = ps.getResultSet()
                if want_columns:  # read afresh: a site's table may have changed since the statement was prepared
                    meta = rs.getMetaData()
                    columns = range(1, meta.getColumnCount() + 1)
                    names = [meta.getColumnLabel(i) for i in columns]
                else:
                    columns = st.columns(rs)
                get = rs.getObject
                more = rs.next
                while more():
                    rows.append(tuple([get(i) for i in columns]))
                rs.close()
            return (names, rows) if want_columns else rows
        except DatabaseError:
            raise
        except Throwable as exc:
            raise self._translate(conn, exc)

    def query(self, sql, params=()):
        return self._run(sql, params, True)

    def query_columns(self, sql, params=()):
        return self._run(sql, params, True, want_columns=True)

    def execute(self, sql, params=()):
        return self._run(sql, params, False)

    def execute_many(self, sql, rows):
        conn = self._conn()
        try:
            st = self._prepared(conn, sql)
            for row in rows:
                st.bind(row)
                st.ps.addBatch()
            counts = st.ps.executeBatch()
            return sum([c for c in counts if c > 0])
        except Throwable as exc:
            raise self._translate(conn, exc)

    @contextlib.contextmanager
    def transaction(self):
        conn = self._conn()
        if conn.depth:
            conn.depth += 1
            try:
                yield self
            finally:
                conn.depth -= 1
            return
        try:
            if self.dialect == "sqlite":
                # BEGIN IMMEDIATE takes the write lock up front, so a read-then-write block cannot deadlock
                self._plain(conn, "BEGIN IMMEDIATE")
            else:
                conn.jdbc.setAutoCommit(False)
        except Throwable as exc:
            raise self._translate(conn, exc)
        conn.depth = 1
        try:
            yield self
        except BaseException:
            conn.depth = 0
            self._end(conn, commit=False)
            raise
        conn.depth = 0
        self._end(conn, commit=True)

    def _plain(self, conn, sql):
        stmt = conn.jdbc.createStatement()
        try:
            stmt.execute(sql)
        finally:
            stmt.close()

    def _end(self, conn, commit):
        try:
            if self.dialect == "sqlite":
                self._plain(conn, "COMMIT" if commit else "ROLLBACK")
            else:
                if commit:
                    conn.jdbc.commit()
                else:
                    conn.jdbc.rollback()
                conn.jdbc.setAutoCommit(True)
        except Throwable as exc:
            error = self._translate(conn, exc)
            if commit:
                try:
                    self._end(conn, commit=False)
                except Exception:
                    pass
                raise error

    def _translate(self, conn, exc):
        state = exc.getSQLState() if hasattr(exc, "getSQLState") else None
        message = exc.getMessage() or exc.toString()
        closed = True
        try:
            closed = conn.jdbc.isClosed()
        except Throwable:
            pass
        unavailable = closed or (state or "").startswith("08") or state in ("57P01", "57P02", "57P03") or (
            "locked" in message or "SQLITE_BUSY" in message
        )
        if closed or (state or "").startswith("08") or state in ("57P01", "57P02", "57P03"):
            self._discard(conn)
        conflict = state == "23505" or ("UNIQUE constraint failed" in message)
        return DatabaseError("%s: %s" % (exc.getClass().getSimpleName(), message), unavailable=unavailable,
                             conflict=conflict, sqlstate=state)

    # -- LISTEN / NOTIFY (PostgreSQL) ---------------------------------------------------------------------------

    def can_listen(self):
        return self.dialect == "postgresql"

    def listen(self, channel, on_payload, stop_event, timeout_s=1.0):
        from org.postgresql import PGConnection

        while not stop_event.is_set():
            try:
                conn = self._open()
            except DatabaseError:
                stop_event.wait(1.0)
                continue
            try:
                self._plain(conn, "LISTEN %s" % channel)
                pg = conn.jdbc.unwrap(PGConnection)
                while not stop_event.is_set() and not Thread.currentThread().isInterrupted():
                    notes = pg.getNotifications(int(timeout_s * 1000))
                    if notes:
                        for note in notes:
                            on_payload(note.getParameter())
            except Throwable:
                stop_event.wait(0.5)
            finally:
                try:
                    conn.jdbc.close()
                except Throwable:
                    pass
