"""The benchmark workloads, run in-process by any host (CPython + psycopg, Jython + JDBC).

Each function takes a started engine and returns figures; `measure(url, host_kind)` runs them all and returns a
dict. Python 2.7 / 3 common subset: the same file runs under Jython.
"""
from __future__ import division

import os
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from exchange.workflows.api import service  # noqa: E402
from exchange.workflows.engine.context import getWorkflows  # noqa: E402
from exchange.workflows.engine.decorators import step, workflow  # noqa: E402
from exchange.workflows.engine.engine import Engine, EngineConfig  # noqa: E402
from exchange.workflows.engine.queues import declareQueue  # noqa: E402
from exchange.workflows.host import hosts, runtime  # noqa: E402
from exchange.workflows.host.database import Database  # noqa: E402
from exchange.workflows.util import ids  # noqa: E402

JYTHON = sys.platform.startswith("java")
if JYTHON:
    from java.lang import System

    def clock():
        return System.nanoTime() / 1e9
else:
    clock = getattr(time, "perf_counter", time.time)

declareQueue("bench", workerConcurrency=8)
MAIN_THREAD = threading.current_thread().name
FIRST_STEP_AT = {}
EXECUTED_ON = {}  # workflowId -> the name of the thread that executed b.noop


@step(name="noop")
def noop(index):
    return None


@step(name="first")
def first_step():
    return time.time()


@step(name="tick50")
def tick50(index):
    time.sleep(0.05)
    return index


@workflow(name="b.noop")
def noop_steps(count=200):
    EXECUTED_ON[getWorkflows().workflowId] = threading.current_thread().name
    for index in range(count):
        noop(index)
    return count


@workflow(name="b.three")
def three():
    noop(0)
    noop(1)
    noop(2)
    return 3


@workflow(name="b.first")
def first():
    at = first_step()
    FIRST_STEP_AT[getWorkflows().workflowId] = time.time()
    return at


@workflow(name="b.ticks")
def ticks(count=400):
    for index in range(count):
        tick50(index)
    return count


class CountingDatabase(Database):
    """A database adapter around another one that counts statements per thread while `counting` is on (off, it
    costs one attribute test per statement, so the timed workloads do not pay for the counting)."""

    def __init__(self, inner):
        self._inner = inner
        self.dialect = inner.dialect
        self.counting = False
        self._counts = {}
        self._lock = threading.Lock()

    def _count(self, n=1):
        if not self.counting:
            return
        name = threading.current_thread().name
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + n

    def snapshot(self):
        with self._lock:
            return dict(self._counts)

    def query(self, sql, params=()):
        self._count()
        return self._inner.query(sql, params)

    def execute(self, sql, params=()):
        self._count()
        return self._inner.execute(sql, params)

    def execute_many(self, sql, rows):
        self._count()
        return self._inner.execute_many(sql, rows)

    def transaction(self):
        return self._inner.transaction()

    def close(self):
        self._inner.close()

    def can_listen(self):
        return self._inner.can_listen()

    def listen(self, *args):
        return self._inner.listen(*args)


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return None
    index = min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(values):
    return percentile(values, 0.5)


def build_engine(url, workers=8, executor_id="bench"):
    host = hosts.standalone_host(url) if JYTHON else hosts.cpython_host(url)
    host.db = CountingDatabase(host.db)
    engine = Engine(host, EngineConfig(executor_id=executor_id, workers=workers, tick_ms=1000))
    runtime.install(engine)
    engine.start()
    return engine


def wait_done(workflow_id, timeout=120.0, engine=None):
    """The run once it has ended. With the engine that executes it, the wait watches the engine's in-memory set of
    executing runs and reads the database only when the run has left it: a read every 10 ms took a fifth of a
    core and database work from the run being measured (and the baseline, measured on an idle engine, paid none).

    Every figure is taken from the run's recorded times, so the wait may notice the end late: it looks every
    20 ms rather than every millisecond, which on a 2-core machine kept a third thread waking beside the worker
    and its database backend."""
    deadline = time.time() + timeout
    active = engine.kernel.active if engine is not None else None
    while time.time() < deadline:
        run = service.getWorkflow(workflowId=workflow_id)["data"]
        if run.get("status") in ("SUCCESS", "ERROR", "CANCELLED", "STOPPED"):
            return run
        if active is not None and active.contains(workflow_id):
            while active.contains(workflow_id) and time.time() < deadline:
                time.sleep(0.02)
        else:
            time.sleep(0.005 if active is not None else 0.01)
    raise RuntimeError("run %s did not finish" % workflow_id)


def insert_rtt(engine, samples=600):
    """Median round trip of a single-row INSERT on the engine's connection type, in ms: (keyed, plain).

    keyed: into a table whose primary key is a random UUID text, the shape of every durable record the engine
    writes (a checkpoint must be found again by its run): the floor a step is measured against. plain: into a
    table with no index at all, reported beside it. On PostgreSQL the keyed row alone costs the server about
    1.4 times the plain one (pgbench, no client in the way)."""
    db = engine.host.db
    db.execute("CREATE TABLE IF NOT EXISTS workflows.bench_rtt (id INTEGER, note TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS workflows.bench_rtt_keyed (id TEXT PRIMARY KEY, note TEXT)")
    keys = [ids.new_id() for _ in range(samples)]
    keyed, plain = [], []
    for index in range(samples):
        started = clock()
        db.execute("INSERT INTO workflows.bench_rtt_keyed (id, note) VALUES (?, ?)", (keys[index], "x"))
        keyed.append(clock() - started)
        started = clock()
        db.execute("INSERT INTO workflows.bench_rtt (id, note) VALUES (?, ?)", (index, "x"))
        plain.append(clock() - started)
    return median(keyed) * 1000, median(plain) * 1000


def _worker_statements(engine, count):
    """Statements issued for one run of b.noop(count): by the thread that executed it, and by every thread but the
    caller's (the dispatcher's claim included)."""
    before = engine.host.db.snapshot()
    wid = service.start(workflowName="b.noop", inputs={"resolved": {"count": count}})["data"]["workflowId"]
    run = wait_done(wid, engine=engine)
    after = engine.host.db.snapshot()
    deltas = dict((k, after.get(k, 0) - before.get(k, 0)) for k in after if k != MAIN_THREAD)
    return run, deltas.get(EXECUTED_ON.pop(wid), 0), sum(deltas.values())


def step_overhead(engine, steps=200, runs=5, warmup=3, baseline_samples=600):
    """A workflow of `steps` no-op steps, executed `runs` times after warm-up; median ms per step, and its ratio to
    the INSERT round trip measured right after each run (the machine's round trip drifts by half over minutes, so
    each run is compared with a baseline taken in the same conditions).

    statements_per_step is exact, counted in separate runs: the executing thread's statements for the run minus
    those of a run with no step (its begin and its end), divided by the steps."""
    per_step, keyed, plain = [], [], []
    for index in range(warmup + runs):
        run = wait_done(service.start(workflowName="b.noop", inputs={"resolved": {"count": steps}})["data"]
                        ["workflowId"], engine=engine)
        EXECUTED_ON.pop(run["workflowId"], None)  # read only when counting statements
        if index >= warmup:
            per_step.append((run["completedAt"] - run["startedAt"]) / steps)
            rtt = insert_rtt(engine, baseline_samples)
            keyed.append(rtt[0])
            plain.append(rtt[1])
    statements = []
    everything = []
    engine.host.db.counting = True
    try:
        for _ in range(3):
            _, worker, total = _worker_statements(engine, steps)
            _, fixed, _ = _worker_statements(engine, 0)
            statements.append((worker - fixed) / steps)
            everything.append(total / steps)
    finally:
        engine.host.db.counting = False
    return {"step_overhead_ms": median(per_step), "statements_per_step": median(statements),
            "statements_per_step_incl_run_start_end": median(everything),
            "insert_rtt_ms": median(keyed), "plain_insert_rtt_ms": median(plain),
            "step_overhead_ratio": median([s / k for s, k in zip(per_step, keyed)]),
            "step_overhead_ratio_to_plain": median([s / p for s, p in zip(per_step, plain)])}


def queue_throughput(engine, count=1000):
    """`count` runs of b.three started on the bench queue, from the first start until none of them is active.

    The poll counts the queue's active runs. Each count costs the database about as much as a step, so the poll
    waits longer while many runs remain (a quarter of a second at most) and every 20 ms near the end, which is
    then seen at most 20 ms late (under 1 % of a run of several seconds)."""
    started = clock()
    for _ in range(count):
        service.start(workflowName="b.three", queueName="bench")
    db = engine.host.db
    while True:
        active = int(db.query("SELECT count(*) FROM workflows.workflow_status WHERE queue_name = 'bench' AND status "
                              "IN ('ENQUEUED', 'PENDING', 'RUNNING')")[0][0])
        if active == 0:
            break
        time.sleep(min(0.25, max(0.02, active / 4000.0)))
    elapsed = clock() - started
    failed = db.query("SELECT count(*) FROM workflows.workflow_status WHERE queue_name = 'bench' AND status <> "
                      "'SUCCESS'")[0][0]
    if int(failed):
        raise RuntimeError("%s bench runs did not succeed" % failed)
    return count / elapsed


def settle(engine, most_s=30.0):
    """Wait until PostgreSQL's autovacuum has gone through what the throughput rounds wrote (thousands of runs):
    a step measured while it works costs up to three times its usual round trip, the baseline insert much less."""
    db = engine.host.db
    if db.dialect != "postgresql":
        return
    deadline = time.time() + most_s
    while time.time() < deadline and int(db.query("SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                                                  "'autovacuum worker'")[0][0]):
        time.sleep(0.25)
    time.sleep(1.0)


def steady_throughput(engine, count, warmup_rounds):
    """Queue throughput once the host has warmed up: the median of three rounds after `warmup_rounds` rounds.

    A gateway runs for months, so the figure that matters is the steady state. Under Jython that takes thousands
    of runs: HotSpot compiles the interpreter's code for the paths a run takes only after it has seen them often
    (the first round runs at about half the speed of the tenth). The first round is reported as the cold figure."""
    rounds = [queue_throughput(engine, count) for _ in range(warmup_rounds + 3)]
    return {"queue_throughput_wf_s": median(rounds[-3:]), "queue_throughput_wf_s_cold": rounds[0],
            "queue_throughput_rounds": len(rounds)}


def enqueue_in_memory(engine, count=5000, warmup_rounds=0):
    """p50 / p99 of the caller's side of enqueueInMemory, over `count` calls after `warmup_rounds` rounds of `count`
    calls (HotSpot compiles Jython's code only after thousands of calls; a gateway runs for months); the p99 of the
    first round is reported too, as `cold_p99`."""
    cold = None
    for _ in range(warmup_rounds + 1):
        times = _enqueue_round(engine, count)
        if cold is None:
            cold = percentile(times, 0.99) * 1e6
    return {"p50": percentile(times, 0.5) * 1e6, "p99": percentile(times, 0.99) * 1e6, "cold_p99": cold}


def _enqueue_round(engine, count):
    engine.kernel.set_flag("draining", True)  # measure the caller's path only; the flush still runs on ticks
    times = []
    try:
        for _ in range(count):
            started = clock()
            service.enqueueInMemory(workflowName="b.three", queueName="bench")
            times.append(clock() - started)
    finally:
        engine.dispatcher.flush_memory_queue(int(time.time() * 1000))
        engine.host.db.execute("DELETE FROM workflows.workflow_status WHERE status = 'ENQUEUED'")
        engine.kernel.set_flag("draining", False)
    return times[count // 5:]


def start_latency(engine, count=300):
    """start() p50/p99 and, in the same process, start() returning -> first step running."""
    starts = []
    to_running = []
    for _ in range(count):
        t0 = clock()
        resp = service.start(workflowName="b.first")
        t1 = clock()
        returned = time.time()
        starts.append(t1 - t0)
        run = wait_done(resp["data"]["workflowId"], engine=engine)
        to_running.append(max(0.0, run["output"] - returned))
    return {"start_ms": {"p50": percentile(starts, 0.5) * 1000, "p99": percentile(starts, 0.99) * 1000},
            "start_to_running_ms_in_process": median(to_running) * 1000}


def hold_latency(engine, samples=15):
    """sendCommand("HOLD") returning -> phase HELD, with 50 ms steps (timestamps of the phase history)."""
    latencies = []
    for _ in range(samples):
        wid = service.start(workflowName="b.ticks")["data"]["workflowId"]
        deadline = time.time() + 30
        while len(service.listSteps(workflowId=wid)["data"]["steps"]) < 2 and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.013 * (len(latencies) % 4))  # land at different points of a step
        service.sendCommand(workflowId=wid, cmd="HOLD")
        sent = time.time() * 1000
        while True:
            history = service.listEventHistory(workflowId=wid)["data"]["history"]
            held = [h for h in history if h["key"] == "phase" and h["value"] == "HELD"]
            if held:
                latencies.append(max(0, held[0]["at"] - sent))
                break
            time.sleep(0.005)
        service.cancel(workflowId=wid)
    return median(latencies)


def list_runs(engine, rows):
    """The console's runs query at `rows` rows: first page, a deep page, and filtered pages."""
    db = engine.host.db
    have = int(db.query("SELECT count(*) FROM workflows.workflow_status")[0][0])
    if have < rows:
        bulk_rows(engine, rows - have)
    timings = {}

    def timed(name, **kwargs):
        best = None
        for _ in range(5):
            started = clock()
            resp = service.listRuns(limit=50, **kwargs)
            elapsed = (clock() - started) * 1000
            assert resp["ok"], resp
            best = elapsed if best is None else min(best, elapsed)
        timings[name] = best
        return resp
    timed("first_page")
    middle = db.query("SELECT created_at, workflow_uuid FROM workflows.workflow_status ORDER BY created_at DESC, "
                      "workflow_uuid DESC LIMIT 1 OFFSET ?", (rows // 2,))[0]
    cursor = "%d_%s" % (int(middle[0]), middle[1])
    timed("deep_page", cursor=cursor)
    timed("by_workflow_deep", workflowName="b.bulk", cursor=cursor)
    timed("by_status_first", status="ERROR")
    return timings


def bulk_rows(engine, count):
    db = engine.host.db
    if db.dialect == "postgresql":
        db.execute(
            "INSERT INTO workflows.workflow_status (workflow_uuid, name, status, phase, queue_name, priority, inputs, "
            "created_at, updated_at, started_at, completed_at, run_count) SELECT md5(g::text || random()::text)::uuid"
            "::text, CASE WHEN g % 3 = 0 THEN 'b.bulk' ELSE 'b.other' END, CASE WHEN g % 50 = 0 THEN 'ERROR' ELSE "
            "'SUCCESS' END, 'COMPLETE', 'default', 100, '{}', 1700000000000 + g * 10, 1700000000000 + g * 10, "
            "1700000000000 + g * 10, 1700000000005 + g * 10, 1 FROM generate_series(1, ?) AS g", (count,))
        db.execute("ANALYZE workflows.workflow_status")
    else:
        with db.transaction():
            db.execute(
                "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?) "
                "INSERT INTO workflows.workflow_status (workflow_uuid, name, status, phase, queue_name, priority, "
                "inputs, created_at, updated_at, started_at, completed_at, run_count) SELECT lower(hex(randomblob(4)) "
                "|| '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || "
                "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))), CASE WHEN n % 3 = 0 THEN 'b.bulk' ELSE "
                "'b.other' END, CASE WHEN n % 50 = 0 THEN 'ERROR' ELSE 'SUCCESS' END, 'COMPLETE', 'default', 100, "
                "'{}', 1700000000000 + n * 10, 1700000000000 + n * 10, 1700000000000 + n * 10, "
                "1700000000005 + n * 10, 1 FROM g", (count,))
            db.execute("ANALYZE workflows")


def measure(url, rows=1000000, quick=False, remote=None):
    engine = build_engine(url)
    out = {"host": "jython+jdbc" if JYTHON else "cpython+" + ("psycopg" if url.startswith("postgres") else "sqlite3"),
           "db": "postgresql" if url.startswith("postgres") else "sqlite"}
    try:
        # HotSpot compiles Jython's code only after thousands of runs: the throughput rounds come first and warm up
        # the paths every later figure takes (a gateway runs for months; its steady state is what is measured)
        out.update(steady_throughput(engine, 300 if quick else 1000, (3 if quick else 12) if JYTHON else 1))
        settle(engine)
        out.update(step_overhead(engine, runs=3 if quick else 7, warmup=(10 if quick else 30) if JYTHON else 3))
        out["enqueue_in_memory_us"] = enqueue_in_memory(engine, 2000 if quick else 10000,
                                                         warmup_rounds=(2 if quick else 6) if JYTHON else 1)
        out.update(start_latency(engine, 100 if quick else 300))
        if remote is not None:
            out.update(remote())
        out["hold_latency_ms"] = hold_latency(engine, 5 if quick else 15)
        if rows:
            out["list_runs_ms"] = list_runs(engine, rows)
        out["max_memory_mb"] = _max_memory_mb()
    finally:
        engine.stop(grace_s=5)
        engine.host.close()
    return out


def _max_memory_mb():
    if JYTHON:
        from java.lang import Runtime

        return Runtime.getRuntime().maxMemory() / (1024.0 * 1024.0)
    return None
