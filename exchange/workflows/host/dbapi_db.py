"""CPython database adapters: psycopg 3 for PostgreSQL, the stdlib sqlite3 for SQLite.

Each thread gets its own autocommit connection; `transaction()` pins one for a block. SQL arrives with `?`
placeholders (the store's convention) and driver errors leave as DatabaseError.

With site=True an adapter serves a named connection of the db steps (host/site_databases.py) instead of the
engine: SQL written in workflows may hold `?` and `%` inside literals (only real placeholders are converted), and a
SQLite file is opened as `main` (its own tables, not attached as `workflows`; it must exist).
"""
import contextlib
import os
import threading

from exchange.workflows.host.database import Database
from exchange.workflows.util import sqltext
from exchange.workflows.util.errors import DatabaseError


class _ThreadConnections(object):
    """One connection per thread, all tracked so that close() can release them."""

    def __init__(self, connect):
        self._connect = connect
        self._local = threading.local()
        self._all = []
        self._lock = threading.Lock()

    def get(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            self._local.depth = 0
            with self._lock:
                self._all.append(conn)
        return conn

    def discard(self):
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        self._local.depth = 0
        if conn is not None:
            with self._lock:
                if conn in self._all:
                    self._all.remove(conn)
            try:
                conn.close()
            except Exception:
                pass

    @property
    def depth(self):
        return getattr(self._local, "depth", 0)

    @depth.setter
    def depth(self, value):
        self._local.depth = value

    def close_all(self):
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except Exception:
                pass


class _Base(Database):
    dialect = None

    def __init__(self):
        self._conns = _ThreadConnections(self._connect)

    def query(self, sql, params=()):
        """Rows (tuples) of a statement that returns rows, including DML ... RETURNING."""
        conn = self._conns.get()
        try:
            cur = conn.execute(self._sql(sql), tuple(params))
            return cur.fetchall() if cur.description is not None else []
        except Exception as exc:
            raise self._translate(exc)

    def query_columns(self, sql, params=()):
        conn = self._conns.get()
        try:
            cur = conn.execute(self._sql(sql), tuple(params))
            if cur.description is None:
                return [], []
            return [column[0] for column in cur.description], cur.fetchall()
        except Exception as exc:
            raise self._translate(exc)

    def execute(self, sql, params=()):
        """Row count of a statement."""
        conn = self._conns.get()
        try:
            return conn.execute(self._sql(sql), tuple(params)).rowcount
        except Exception as exc:
            raise self._translate(exc)

    def execute_many(self, sql, rows):
        conn = self._conns.get()
        try:
            cur = conn.cursor()
            cur.executemany(self._sql(sql), [tuple(r) for r in rows])
            return cur.rowcount
        except Exception as exc:
            raise self._translate(exc)

    @contextlib.contextmanager
    def transaction(self):
        """A block on one connection, committed at the end; nested blocks join the outer one."""
        conn = self._conns.get()
        if self._conns.depth:
            self._conns.depth += 1
            try:
                yield self
            finally:
                self._conns.depth -= 1
            return
        try:
            self._begin(conn)
        except Exception as exc:
            raise self._translate(exc)
        self._conns.depth = 1
        try:
            yield self
        except BaseException:
            self._conns.depth = 0
            self._rollback(conn)
            raise
        self._conns.depth = 0
        try:
            self._commit(conn)
        except Exception as exc:
            self._rollback(conn)
            raise self._translate(exc)

    def close(self):
        self._conns.close_all()

    def _rollback(self, conn):
        try:
            conn.execute("ROLLBACK")
        except Exception:
            self._conns.discard()

    def _commit(self, conn):
        conn.execute("COMMIT")


class PostgresDatabase(_Base):
    dialect = "postgresql"

    def __init__(self, url, site=False):
        import psycopg  # imported here so SQLite-only and Jython hosts never need it

        self._psycopg = psycopg
        self._url = url
        self._site = site
        self._sql_cache = {}
        _Base.__init__(self)

    def _connect(self):
        try:
            return self._psycopg.connect(self._url.libpq_url(), autocommit=True, connect_timeout=5)
        except Exception as exc:
            raise DatabaseError("cannot connect to %s: %s" % (self._url.describe(), exc), unavailable=True)

    def _sql(self, sql):
        converted = self._sql_cache.get(sql)
        if converted is None:
            if self._site:
                converted = sqltext.with_format_placeholders(sql, sqltext.scan(sql).positions)
            else:
                converted = sql.replace("%", "%%").replace("?", "%s")
            if len(self._sql_cache) < 10000:  # the engine's statements are few; a site's may be built per call
                self._sql_cache[sql] = converted
        return converted

    def _begin(self, conn):
        conn.execute("BEGIN")

    def _translate(self, exc):
        if isinstance(exc, DatabaseError):
            return exc
        errors = self._psycopg.errors
        state = getattr(getattr(exc, "diag", None), "sqlstate", None)
        broken = isinstance(exc, (self._psycopg.OperationalError, self._psycopg.InterfaceError))
        conn = getattr(self._conns._local, "conn", None)
        if broken or (conn is not None and conn.closed):
            self._conns.discard()
        return DatabaseError(
            "%s: %s" % (type(exc).__name__, exc),
            unavailable=broken or (state or "").startswith("08") or state in ("57P01", "57P02", "57P03"),
            conflict=isinstance(exc, errors.UniqueViolation),
            sqlstate=state,
        )

    def can_listen(self):
        return True

    def listen(self, channel, on_payload, stop_event, timeout_s=1.0):
        while not stop_event.is_set():
            try:
                conn = self._psycopg.connect(self._url.libpq_url(), autocommit=True, connect_timeout=5)
            except Exception:
                stop_event.wait(1.0)
                continue
            try:
                conn.execute("LISTEN %s" % channel)
                while not stop_event.is_set():
                    for note in conn.notifies(timeout=timeout_s, stop_after=64):
                        on_payload(note.payload)
            except Exception:
                stop_event.wait(0.5)
            finally:
                try:
                    conn.close()
                except Exception:
                    pass


class SqliteDatabase(_Base):
    """SQLite with the data file attached as schema `workflows`, so table names match PostgreSQL's (site=True: the
    file is `main`, as any other program sees it)."""

    dialect = "sqlite"

    def __init__(self, url, site=False):
        import sqlite3

        self._sqlite3 = sqlite3
        self._path = url.path
        self._site = site
        directory = os.path.dirname(self._path)
        if not site and directory and not os.path.isdir(directory):
            os.makedirs(directory)
        _Base.__init__(self)

    def _connect(self):
        if self._site:
            return self._connect_site()
        conn = self._sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("ATTACH DATABASE ? AS workflows", (self._path,))
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA workflows.journal_mode = WAL")
        conn.execute("PRAGMA workflows.synchronous = NORMAL")
        return conn

    def _connect_site(self):
        if not os.path.isfile(self._path):
            raise DatabaseError("no SQLite file at %s" % self._path, unavailable=True)
        try:
            conn = self._sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA busy_timeout = 30000")
        except Exception as exc:
            raise DatabaseError("cannot open %s: %s" % (self._path, exc), unavailable=True)
        return conn

    def _sql(self, sql):
        return sql

    def _begin(self, conn):
        conn.execute("BEGIN IMMEDIATE")

    def _translate(self, exc):
        if isinstance(exc, DatabaseError):
            return exc
        text = str(exc)
        return DatabaseError(
            "%s: %s" % (type(exc).__name__, text),
            unavailable="locked" in text or "unable to open" in text,
            conflict=isinstance(exc, self._sqlite3.IntegrityError) and "UNIQUE" in text,
        )
