"""The contract every database adapter keeps: psycopg and sqlite3 (dbapi_db), JDBC (jdbc_db), Ignition's system.db
(ignition_db).

The store writes SQL once, with `?` placeholders and the dialect's differences spelled out in store/dialect.py;
an adapter only carries it to its driver. Any driver failure leaves an adapter as util.errors.DatabaseError
(`unavailable` when the database could not be reached, so callers wait and retry; `conflict` for a unique key).
"""


class Database(object):
    """Base class of the adapters; the methods below say what each must do."""

    dialect = None  # "postgresql" or "sqlite": chooses the SQL the store sends

    def query(self, sql, params=()):
        """The rows of a statement that returns rows (SELECT, DML ... RETURNING) as a list of tuples."""
        raise NotImplementedError

    def query_columns(self, sql, params=()):
        """(column names, rows as a list of tuples) of a statement that returns rows; ([], []) for one that
        returns none. The db steps need the names to answer rows as dicts."""
        raise NotImplementedError

    def execute(self, sql, params=()):
        """Run a statement that returns no rows; the number of rows it changed."""
        raise NotImplementedError

    def execute_many(self, sql, rows):
        """Run one statement for each parameter row, in one round trip where the driver batches; rows changed."""
        raise NotImplementedError

    def transaction(self):
        """A context manager: the calls inside run on one connection and commit at its end (roll back when it
        raises). A block inside another joins the outer one. Outside a block every call commits by itself."""
        raise NotImplementedError

    def close(self):
        """Release the connections this adapter opened."""
        raise NotImplementedError

    def can_listen(self):
        """True when listen() works (PostgreSQL through a driver that exposes LISTEN)."""
        return False

    def listen(self, channel, on_payload, stop_event, timeout_s=1.0):
        """Block on LISTEN `channel` until `stop_event` is set, calling on_payload(text) for each NOTIFY; reconnects
        by itself when the connection drops."""
        raise NotImplementedError("%s has no LISTEN/NOTIFY" % self.dialect)
