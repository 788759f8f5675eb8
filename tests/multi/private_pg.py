"""A private PostgreSQL 15 instance in a temporary directory on a free port: a server a test may stop and restart.

The machine's shared PostgreSQL (127.0.0.1:5432) serves other sessions and is never restarted by tests.
initdb refuses to run as root, so as root every server command runs as the `postgres` user (runuser).

    pg = PrivatePostgres().start()
    url = pg.create_database("wf_outage")   # postgresql://postgres@127.0.0.1:<port>/wf_outage
    pg.stop(); pg.start()                    # an outage
    pg.destroy()                             # stop (immediate) and remove the directory
"""
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

BIN = os.environ.get("WORKFLOWS_PG_BIN", "/usr/lib/postgresql/15/bin")


def available():
    return os.path.exists(os.path.join(BIN, "initdb")) and os.path.exists(os.path.join(BIN, "pg_ctl"))


def free_port():
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


class PrivatePostgres(object):
    """stock=False (tests): fsync off and small buffers, for speed. stock=True (the benchmark): initdb's defaults,
    durable commits and autovacuum included, as a production server runs."""

    def __init__(self, stock=False):
        self.stock = stock
        self.root = tempfile.mkdtemp(prefix="wf-private-pg-")
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "server.log")
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._initialised = False

    def _run(self, args, timeout=120):
        command = [os.path.join(BIN, args[0])] + list(args[1:])
        if self.user:
            command = ["runuser", "-u", self.user, "--"] + command
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s\n%s" % (args[0], result.returncode, result.stdout, result.stderr,
                                                           self.log_tail()))
        return result

    def start(self):
        if not self._initialised:
            self._run(["initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
            self._initialised = True
        options = "-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200" % (self.port, self.root)
        if not self.stock:
            options += " -c fsync=off -c shared_buffers=32MB"
        self._run(["pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "120", "start"])
        return self

    def stop(self, mode="fast"):
        """fast: disconnect every client and shut down cleanly; immediate: like a crash of the server."""
        self._run(["pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "120", "stop"])

    def running(self):
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))

    def server_url(self):
        return "postgresql://postgres@127.0.0.1:%d" % self.port

    def create_database(self, name):
        import psycopg

        deadline = time.time() + 60
        while True:
            try:
                with psycopg.connect(self.server_url() + "/postgres", autocommit=True) as conn:
                    conn.execute('CREATE DATABASE "%s"' % name)
                return "%s/%s" % (self.server_url(), name)
            except psycopg.OperationalError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)

    def log_tail(self, lines=30):
        try:
            with open(self.log) as handle:
                return "".join(handle.readlines()[-lines:])
        except (IOError, OSError):
            return ""

    def destroy(self):
        try:
            if self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
