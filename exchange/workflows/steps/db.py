"""SQL on a site's named database connections as steps: read a recipe, write a batch record, book consumption in
an MES database from a workflow, with the result recorded once.

    from exchange.workflows.steps import db

    rows = db.query("mes", released_orders_sql, ["L1", "released"])   # [{"id": 42, "qty": 12.5}, ...]
    for row in rows:
        db.update("mes", start_order_sql, ["running", row["id"]])     # 1 (rows changed)

(The SQL itself is the integrator's: this package holds none; docs/plant-io.md has complete examples.)

query and update are steps: one recorded result, the usual retry options as keyword arguments (retries_allowed,
max_attempts, interval_seconds, backoff_rate). A replay returns the recorded result without running the SQL; a
gateway that dies between the statement and the record runs it again, so make updates idempotent where it matters.
Each statement commits by itself.

Connections are named. In Ignition the name is one of the gateway's database connections (system.db.runPrepQuery
and runPrepUpdate on it, any database type); on the standalone gateway `./gateway run --connection NAME=URL`
(postgresql://... or sqlite:PATH, through JDBC); on the CPython host hosts.cpython_host(url, connections={name:
url}) or host.databases.add(name, url). An unknown name fails the step with InvalidArgument naming the known ones.

SQL takes `?` placeholders only, one per value of args (a list of text, numbers, booleans and None), outside
literals and comments. Other styles (%s, %(name)s, $1, :name, ?1), which only some drivers understand, are
refused with InvalidArgument (field "sql"), and so is a number of args that differs from the number of `?`
(field "args"), before anything runs.

query answers the rows as a list of dicts {column: value}; update answers the number of rows changed (0 for a
statement that changes none, such as CREATE TABLE). Values are made JSON-native the same way on every runtime:
timestamps as epoch milliseconds (one without a time zone is taken in the gateway's local zone), dates as
"YYYY-MM-DD", times as "HH:MM:SS", decimals as an int when whole and a float otherwise (CAST to text in SQL to keep
every digit), bytes as base64 text, UUIDs as text, json columns as their value, NaN as None. A result with a
column name twice is refused: name each column once (AS ...).

A statement that fails, or a database that cannot be reached, raises DbError (connection, sqlstate, unavailable):
a failure of the step, retried when retries are allowed, and raised again as itself on replay.

The source project's db.query(dbName, sql, args=None) and db.update(dbName, sql, args=None) are these functions.
"""
from exchange.workflows.engine.errors import DbError  # noqa: F401 - what callers catch
from exchange.workflows.host.site_databases import json_rows
from exchange.workflows.steps.base import host, run_step
from exchange.workflows.util import sqltext
from exchange.workflows.util.compat import integer_types, string_types, to_text
from exchange.workflows.util.errors import DatabaseError, InvalidArgument


def query(connection, sql, args=None, **retry):
    """The rows of a SELECT (or of a statement ... RETURNING) as a list of dicts {column: JSON-native value}."""
    name, statement, values = _checked(connection, sql, args)
    return run_step("db.query", _query, (name, statement, values), retry)


def update(connection, sql, args=None, **retry):
    """Run an INSERT, UPDATE, DELETE or DDL statement; the number of rows it changed."""
    name, statement, values = _checked(connection, sql, args)
    return run_step("db.update", _update, (name, statement, values), retry)


def _query(connection, sql, args):
    database = host().databases.get(connection)
    try:
        columns, rows = database.query_columns(sql, args)
    except DatabaseError as exc:
        raise _failed(connection, exc)
    return json_rows(columns, rows)


def _update(connection, sql, args):
    database = host().databases.get(connection)
    try:
        count = database.execute(sql, args)
    except DatabaseError as exc:
        raise _failed(connection, exc)
    return max(int(count or 0), 0)  # drivers answer -1 for statements without a row count


def _failed(connection, exc):
    """The adapter's DatabaseError as DbError: the engine reads DatabaseError as its own database going away."""
    return DbError(u"database connection %s: %s" % (connection, to_text(exc.message)), connection=connection,
                   sqlstate=exc.sqlstate, unavailable=bool(exc.unavailable))


def _checked(connection, sql, args):
    if not isinstance(connection, string_types) or not connection.strip():
        raise InvalidArgument("connection must name a database connection", field="connection")
    if not isinstance(sql, string_types) or not sql.strip():
        raise InvalidArgument("sql must be a SQL statement", field="sql")
    found = sqltext.scan(sql)
    if found.other is not None:
        raise InvalidArgument("sql uses the placeholder %s: write ? for each value and pass the values in args, in "
                              "order" % found.other, field="sql")
    values = _values(args)
    if len(values) != len(found.positions):
        raise InvalidArgument("sql has %d ? placeholder(s) but args has %d value(s)" % (
            len(found.positions), len(values)), field="args")
    return to_text(connection.strip()), to_text(sql), values


def _values(args):
    if args is None:
        return []
    if isinstance(args, string_types) or hasattr(args, "items") or not hasattr(args, "__iter__"):
        raise InvalidArgument("args must be a list of values, one per ? in sql", field="args")
    values = list(args)
    for index, value in enumerate(values):
        if value is not None and not isinstance(value, (bool, float) + integer_types + string_types):
            raise InvalidArgument("args[%d] is a %s: pass text, numbers, booleans or None (CAST(? AS ...) in SQL for "
                                  "dates and times)" % (index, type(value).__name__), field="args")
        if isinstance(value, string_types):
            values[index] = to_text(value)
    return values
