"""Several real `./gateway run` processes (Jython + JDBC) on one PostgreSQL database, driven from pytest.

    with Cluster(url, workdir) as cluster:
        gws = cluster.launch(["gw1", "gw2"], lease_ms=3000)   # started and registered
        wids = [cluster.start("m.quick", queueName="m.free") for _ in range(10)]
        cluster.wait_finished(wids)
        gws[0].kill9()

The pytest process is a client scope (like Ignition's script console): its engine only writes rows, through the
same service facade users call. Gateways load tests/multi/flows.py (`--pythonpath tests --modules multi.flows`:
tests/ is not a package Jython could import as `tests.multi`) and write their side channel to `<workdir>/side`.
"""
import os
import signal
import subprocess
import time

import psycopg

from exchange.workflows.engine.engine import Engine, EngineConfig
from exchange.workflows.host import hosts, runtime
from multi import sidechannel

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS = os.path.join(ROOT, "tests")
TERMINAL = ("SUCCESS", "ERROR", "CANCELLED", "STOPPED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")


def now_ms():
    return int(time.time() * 1000)


class Gateway(object):
    """One `./gateway run` process; `executor_id` is stable across restart()."""

    def __init__(self, cluster, executor_id, lease_ms, tick_ms, workers, max_recovery_attempts, extra):
        self.cluster = cluster
        self.executor_id = executor_id
        self.lease_ms = lease_ms
        self.tick_ms = tick_ms
        self.workers = workers
        self.max_recovery_attempts = max_recovery_attempts
        self.extra = list(extra)
        self.proc = None
        self.launched_ms = None
        self.launches = 0
        self.log_path = None

    def command(self):
        args = [os.path.join(ROOT, "gateway"), "run", "--db", self.cluster.url, "--no-http", "--no-demo",
                "--executor-id", self.executor_id, "--tick-ms", str(self.tick_ms), "--lease-ms", str(self.lease_ms),
                "--workers", str(self.workers), "--pythonpath", TESTS, "--modules", "multi.flows"]
        if self.max_recovery_attempts is not None:
            args += ["--max-recovery-attempts", str(self.max_recovery_attempts)]
        return args + self.extra

    def spawn(self):
        """Start the process (does not wait for it to register: see Cluster.wait_ready)."""
        assert not self.alive(), "%s is already running" % self.executor_id
        self.launches += 1
        self.cluster.spawned += 1  # one log file per process, even for two processes with one executor id
        self.log_path = os.path.join(self.cluster.workdir, "%s-%d.log" % (self.executor_id, self.cluster.spawned))
        env = dict(os.environ)
        env[sidechannel.ENV] = self.cluster.side_dir
        self.launched_ms = now_ms()
        from conftest import spawn  # SIGINT at its default in the gateway, stdin /dev/null

        with open(self.log_path, "w") as log:
            # ./gateway execs java, so this pid is the JVM's: kill -9 hits the gateway itself
            self.proc = spawn(self.command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def registered(self):
        """True once this launch has registered its executor row (started_at after the launch)."""
        rows = self.cluster.query("SELECT started_at, state FROM workflows.executors WHERE executor_id = %s",
                                  (self.executor_id,))
        return bool(rows) and int(rows[0][0]) >= self.launched_ms and rows[0][1] == "running"

    def kill9(self):
        """SIGKILL: no shutdown hook, no hand-back, the heartbeat just stops."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(60)
        return self.proc.returncode

    def stop(self, timeout=60):
        """SIGTERM: the shutdown hook stops claiming, lets steps finish, hands runs back, marks the executor stopped."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode if self.proc else None

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def log_tail(self, lines=40):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path) as handle:
            return "".join(handle.readlines()[-lines:])


class Cluster(object):
    def __init__(self, url, workdir):
        self.url = url
        self.workdir = str(workdir)
        self.side_dir = os.path.join(self.workdir, "side")
        if not os.path.isdir(self.side_dir):
            os.makedirs(self.side_dir)
        self.gateways = []
        self.spawned = 0
        self._conn = None
        self.engine = None

    # -- lifecycle ------------------------------------------------------------------------------------------------------

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    def open(self):
        """The client-scope engine of this process (migrates the schema, loads multi.flows), installed for api.service."""
        host = hosts.cpython_host(self.url, executes=False)
        self.engine = Engine(host, EngineConfig(executor_id="pytest-client", modules=["multi.flows"], listen=False))
        self.engine.prepare()
        runtime.install(self.engine)
        return self

    def close(self):
        for gw in self.gateways:
            if gw.alive():
                gw.kill9()
        if self.engine is not None:
            if runtime.current() is self.engine:
                runtime.uninstall()
            self.engine.host.close()
            self.engine = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def gateway(self, executor_id, lease_ms=3000, tick_ms=200, workers=8, max_recovery_attempts=None, extra=()):
        gw = Gateway(self, executor_id, lease_ms, tick_ms, workers, max_recovery_attempts, extra)
        self.gateways.append(gw)
        return gw

    def launch(self, executor_ids, timeout=180, **options):
        """Spawn gateways at once and wait until every one has registered."""
        gws = [self.gateway(e, **options).spawn() for e in executor_ids]
        self.wait_ready(gws, timeout)
        return gws

    def wait_ready(self, gws, timeout=180):
        def ready():
            for gw in gws:
                if not gw.alive():
                    raise AssertionError("gateway %s exited (%s) before registering:\n%s"
                                         % (gw.executor_id, gw.proc.returncode, gw.log_tail()))
            return all(gw.registered() for gw in gws)
        self.wait(ready, timeout, "gateways %s to register" % ", ".join(gw.executor_id for gw in gws))

    # -- database -------------------------------------------------------------------------------------------------------

    def query(self, sql, params=None):
        """A read on this process's own connection (psycopg, autocommit); reconnects after an outage."""
        for attempt in range(2):
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.url, autocommit=True)
            try:
                return self._conn.execute(sql, params).fetchall()
            except psycopg.OperationalError:
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
        return []

    def runs(self, wids=None):
        """workflow_status rows as dicts (all runs, or these ids)."""
        cols = ("workflow_uuid", "name", "status", "phase", "queue_name", "partition_key", "priority", "executor_id",
                "created_at", "claimed_at", "started_at", "completed_at", "run_count", "recovery_attempts", "error",
                "output", "deduplication_id")
        sql = "SELECT %s FROM workflows.workflow_status" % ", ".join(cols)
        rows = self.query(sql + " WHERE workflow_uuid = ANY(%s)", (list(wids),)) if wids is not None else self.query(sql)
        return dict((r[0], dict(zip(cols, r))) for r in rows)

    def checkpoints(self, wids):
        """{workflow_uuid: [(function_id, function_name, status, output, completed_at), ...]} in call order."""
        out = dict((w, []) for w in wids)
        for row in self.query("SELECT workflow_uuid, function_id, function_name, status, output, completed_at FROM "
                              "workflows.operation_outputs WHERE workflow_uuid = ANY(%s) ORDER BY workflow_uuid, "
                              "function_id", (list(wids),)):
            out[row[0]].append(tuple(row[1:]))
        return out

    def log(self, wid):
        """The run's `log` stream entries, in order."""
        import json

        return [json.loads(r[0]) for r in self.query("SELECT value FROM workflows.streams WHERE workflow_uuid = %s AND "
                                                     "key = 'log' ORDER BY \"offset\"", (wid,))]

    def status_history(self, wids):
        """{workflow_uuid: [status values in the order they were recorded]}"""
        import json

        out = dict((w, []) for w in wids)
        for wid, value in self.query("SELECT workflow_uuid, value FROM workflows.workflow_events_history WHERE "
                                     "workflow_uuid = ANY(%s) AND key = 'status' ORDER BY id", (list(wids),)):
            out[wid].append(json.loads(value))
        return out

    # -- runs -----------------------------------------------------------------------------------------------------------

    def start(self, workflow_name, expect_ok=True, **kwargs):
        """service.start from this client scope; returns the workflow id (or the envelope when expect_ok=False)."""
        from exchange.workflows.api import service

        params = kwargs.pop("params", {})
        resp = service.start(workflowName=workflow_name, inputs={"resolved": params}, **kwargs)
        if not expect_ok:
            return resp
        assert resp["ok"] and resp["code"] == "WORKFLOW_ENQUEUED", resp
        return resp["data"]["workflowId"]

    def wait_finished(self, wids, timeout=180, statuses=TERMINAL):
        wids = list(wids)

        def done():
            rows = self.query("SELECT count(*) FROM workflows.workflow_status WHERE workflow_uuid = ANY(%s) AND "
                              "status = ANY(%s)", (wids, list(statuses)))
            return rows[0][0] == len(wids)
        self.wait(done, timeout, "%d runs to reach %s" % (len(wids), "/".join(statuses)))
        return self.runs(wids)

    def wait(self, predicate, timeout, what, interval=0.2):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError("timed out after %ds waiting for %s\n%s" % (timeout, what, self.diagnostics()))

    def diagnostics(self):
        """What a failing test prints: run counts by status and executor, executors, the end of every gateway log."""
        lines = []
        try:
            for row in self.query("SELECT status, executor_id, count(*) FROM workflows.workflow_status GROUP BY 1, 2 "
                                  "ORDER BY 1, 2"):
                lines.append("runs %s on %s: %d" % row)
            for row in self.query("SELECT executor_id, state, heartbeat_at, active FROM workflows.executors"):
                lines.append("executor %s %s heartbeat %s active %s" % row)
        except Exception as exc:  # the database may be the thing that is down
            lines.append("database not readable: %s" % exc)
        for gw in self.gateways:
            lines.append("--- %s (launch %d, %s) ---" % (gw.executor_id, gw.launches,
                                                         "alive" if gw.alive() else "exited"))
            lines.append(gw.log_tail(25))
        return "\n".join(lines)

    # -- side channel ---------------------------------------------------------------------------------------------------

    def side(self, event=None):
        entries = sidechannel.read(self.side_dir)
        return [e for e in entries if event is None or e["ev"] == event]

    def open_gate(self, name):
        open(os.path.join(self.side_dir, "gate-" + name), "w").close()
