"""What differs between PostgreSQL and SQLite, and nothing else."""


class _Dialect(object):
    def of_names(self, column, names):
        """(" AND <column> is one of names", its parameters): `names` a JSON array of workflow names (the ones a
        gateway has registered), or None for any name (then nothing)."""
        if names is None:
            return "", []
        return " AND " + self.in_json_list(column), [names]


class PostgresDialect(_Dialect):
    name = "postgresql"
    serial_pk = "BIGSERIAL PRIMARY KEY"
    supports_cte_dml = True
    supports_notify = True

    def create_schema(self):
        return ["CREATE SCHEMA IF NOT EXISTS workflows"]

    def create_index(self, name, table, columns, where=None, unique=False):
        return "CREATE %sINDEX IF NOT EXISTS %s ON workflows.%s (%s)%s" % (
            "UNIQUE " if unique else "", name, table, columns, (" WHERE " + where) if where else "")

    def lock_sql(self):
        """Serialises writers on one named resource for the rest of the transaction."""
        return "SELECT pg_advisory_xact_lock(hashtext(?))"

    def for_update(self):
        return " FOR UPDATE"

    def skip_locked(self):
        """Rows another transaction is claiming are passed over instead of waited for."""
        return " FOR UPDATE SKIP LOCKED"

    def notify_sql(self):
        return "SELECT pg_notify(?, ?)"

    def in_json_list(self, column):
        """`column` is one of the texts of a JSON array given as one parameter."""
        return "%s IN (SELECT json_array_elements_text(CAST(? AS json)))" % column


class SqliteDialect(_Dialect):
    name = "sqlite"
    serial_pk = "INTEGER PRIMARY KEY AUTOINCREMENT"
    supports_cte_dml = False
    supports_notify = False

    def create_schema(self):
        return []  # the data file is attached as `workflows` by the host adapter

    def create_index(self, name, table, columns, where=None, unique=False):
        return "CREATE %sINDEX IF NOT EXISTS workflows.%s ON %s (%s)%s" % (
            "UNIQUE " if unique else "", name, table, columns, (" WHERE " + where) if where else "")

    def lock_sql(self):
        return None  # BEGIN IMMEDIATE already holds the database write lock

    def for_update(self):
        return ""

    def skip_locked(self):
        return ""  # one writer at a time

    def notify_sql(self):
        return None

    def in_json_list(self, column):
        return "%s IN (SELECT value FROM json_each(?))" % column


def for_name(name):
    if name == "postgresql":
        return PostgresDialect()
    if name == "sqlite":
        return SqliteDialect()
    raise ValueError("unknown dialect %r" % name)
