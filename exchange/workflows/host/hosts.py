"""A host bundles what the engine needs from its runtime: database, kernel, logger, tags, and whether it executes;
and what the library steps need: an HTTP client (`http`, host/http_client.py) and the named databases of the db
steps (`databases`, host/site_databases.py), which connect on first use.

    cpython_host(url)      tests and tools: psycopg / sqlite3, threading; memory tags in the database; urllib;
                           named databases from connections={name: url}
    standalone_host(url)   ./gateway run under Jython: JDBC, java.util.concurrent; memory tags in the database; the
                           JDK's HttpClient; named databases from connections={name: url} (--connection NAME=URL)
    console_host(url)      ./gateway console: same database access, never executes (like Ignition's script console)
    ignition.ignition_host(...) lives in host/ignition.py (system.db, system.util.getGlobals)
"""
import logging
import os
import socket
import threading
import time

from exchange.workflows.host import dburl


class PyLogger(object):
    """The logger interface every host provides: debug/info/warn/error taking one message string."""

    def __init__(self, area):
        self._log = logging.getLogger("exchange.workflows." + area)

    def debug(self, message):
        self._log.debug(message)

    def info(self, message):
        self._log.info(message)

    def warn(self, message):
        self._log.warning(message)

    def error(self, message):
        self._log.error(message)


class Host(object):
    def __init__(self, kind, db, kernel, executes, logger_factory=PyLogger, hostname=None, db_description=None,
                 tags=None, http=None, databases=None):
        self.kind = kind
        self.db = db
        self.db_description = db_description or db.dialect
        self.kernel = kernel
        self.executes = executes
        self._logger_factory = logger_factory
        self.hostname = hostname or socket.gethostname()
        self.scope = "gateway" if executes else "client"
        self.tags = tags if tags is not None else memory_tags(db)
        self.http = http if http is not None else default_http()
        self.databases = databases if databases is not None else named_databases(None)

    def logger(self, area):
        return self._logger_factory(area)

    def sleep(self, seconds):
        time.sleep(seconds)

    def start_thread(self, name, fn):
        thread = threading.Thread(target=fn, name=name)
        thread.daemon = True
        thread.start()
        return thread

    def time_zone(self, name):
        """A time zone by IANA name (java.time under Jython, zoneinfo under CPython) for schedules."""
        from exchange.workflows.host.timezones import zone

        return zone(name)

    def can_listen(self):
        return self.db.can_listen()

    def close(self):
        self.databases.close()
        self.http.close()
        self.db.close()


def memory_tags(db):
    """The memory tags kept in this database (the standalone gateway's and the CPython host's tag provider)."""
    from exchange.workflows.host.memory_tags import MemoryTags
    from exchange.workflows.store.memory_tags import MemoryTagTable

    return MemoryTags(MemoryTagTable(db))


def default_http():
    from exchange.workflows.host.http_client import default_client

    return default_client()


def named_databases(connections, jython=None):
    """The named databases of the db steps from {name: URL} (postgresql://... or sqlite:PATH), opened on first use;
    InvalidArgument for a bad name or URL."""
    from exchange.workflows.host.site_databases import UrlDatabases

    return UrlDatabases(connections, jython=jython)


def _database(url, jython):
    parsed = dburl.parse(url)
    if jython:
        from exchange.workflows.host.jdbc_db import JdbcDatabase

        return JdbcDatabase(parsed), parsed.describe()
    from exchange.workflows.host.dbapi_db import PostgresDatabase, SqliteDatabase

    db = PostgresDatabase(parsed) if parsed.dialect == "postgresql" else SqliteDatabase(parsed)
    return db, parsed.describe()


def is_jython():
    import sys

    return sys.platform.startswith("java")


def cpython_host(url, executes=True, connections=None):
    from exchange.workflows.host.http_client import UrllibClient
    from exchange.workflows.host.kernel_py import PyKernel

    databases = named_databases(connections, jython=False)
    db, description = _database(url, False)
    return Host("cpython", db, PyKernel(), executes, db_description=description, http=UrllibClient(),
                databases=databases)


def standalone_host(url, globals_map=None, executes=True, kind="standalone", connections=None):
    from exchange.workflows.host.http_client import JdkClient
    from exchange.workflows.host.kernel_java import JavaKernel

    databases = named_databases(connections, jython=True)
    db, description = _database(url, True)
    return Host(kind, db, JavaKernel(globals_map if globals_map is not None else {}), executes,
                db_description=description, http=JdkClient(), databases=databases)


def console_host(url):
    """Writes rows only, like Ignition's script console: a running gateway executes them."""
    if is_jython():
        return standalone_host(url, executes=False, kind="console")
    return cpython_host(url, executes=False)


def default_db_url(root):
    return os.environ.get("WORKFLOWS_DB") or "sqlite:" + os.path.join(root, "var", "workflows.db")
