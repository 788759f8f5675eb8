"""Parse the database URL every host accepts (`--db` / WORKFLOWS_DB)."""
import os

from exchange.workflows.util.errors import InvalidArgument

try:  # Python 3
    from urllib.parse import unquote, urlparse, parse_qsl
except ImportError:  # Python 2 / Jython
    from urllib import unquote
    from urlparse import urlparse, parse_qsl


class DbUrl(object):
    """A parsed database location: dialect 'postgresql' or 'sqlite' plus what each driver needs."""

    def __init__(self, dialect, path=None, host=None, port=None, user=None, password=None, database=None, options=None):
        self.dialect = dialect
        self.path = path
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.options = options or {}

    def jdbc_url(self):
        if self.dialect == "sqlite":
            return "jdbc:sqlite::memory:"
        return "jdbc:postgresql://%s:%s/%s" % (self.host or "127.0.0.1", self.port or 5432, self.database or "postgres")

    def libpq_url(self):
        auth = self.user or ""
        if self.password:
            auth += ":" + self.password
        if auth:
            auth += "@"
        return "postgresql://%s%s:%s/%s" % (auth, self.host or "127.0.0.1", self.port or 5432, self.database or "postgres")

    def describe(self):
        """Safe to print: no password."""
        if self.dialect == "sqlite":
            return "sqlite:%s" % self.path
        return "postgresql://%s@%s:%s/%s" % (self.user or "", self.host, self.port or 5432, self.database)


def parse(url):
    if not url:
        raise InvalidArgument("a database URL is required", field="db")
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        parts = urlparse(url)
        return DbUrl(
            "postgresql",
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            database=(parts.path or "/").lstrip("/") or "postgres",
            options=dict(parse_qsl(parts.query)),
        )
    if url.startswith("sqlite:"):
        path = url[len("sqlite:"):]
        if path.startswith("///"):
            path = path[2:]
        elif path.startswith("//"):
            path = path[2:]
        return DbUrl("sqlite", path=os.path.abspath(path))
    if url.endswith(".db") or url.endswith(".sqlite") or url.endswith(".sqlite3"):
        return DbUrl("sqlite", path=os.path.abspath(url))
    raise InvalidArgument("unsupported database URL %r: use postgresql://... or sqlite:PATH" % url, field="db")
