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

from exchange.workflows.api import admin, service  # noqa: E402
from exchange.workflows.engine.context import getWorkflows  # noqa: E402
from exchange.workflows.engine.decorators import step, workflow  # noqa: E402
from exchange.workflows.engine.engine import Engine, EngineConfig  # noqa: E402
from exchange.workflows.engine.queues import declareQueue  # noqa: E402
from exchange.workflows.host import hosts, runtime  # noqa: E402
from exchange.workflows.host.database import Database  # noqa: E402
from exchange.workflows.util import ids  # noqa: E402
from exchange.workflows.util.clock import now_ms  # noqa: E402
from exchange.workflows.util.jsoncodec import loads  # noqa: E402

JYTHON = sys.platform.startswith("java")
if JYTHON:
    from java.lang import System

    def clock():
        return System.nanoTime() / 1e9
else:
    clock = getattr(time, "perf_counter", time.time)

declareQueue("bench", workerConcurrency=8)
declareQueue("b.fan")  # the fan-out parent, its children and the independent runs beside them
declareQueue("b.park")  # the parked parents and their children
# the cross-gateway wake-up: every gateway declares it alike (as every gateway must); at most one run of it per
# gateway, and the bench's own gateway keeps that one slot busy with a plug, so only the other gateway claims it
declareQueue("b.xgw", workerConcurrency=1)
declareQueue("b.sched")  # the runs schedules start (this file's schedules workload, bench/schedule_accuracy.py)
declareQueue("b.deb")  # the runs of debounced bursts
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


@workflow(name="b.one")
def one():
    noop(0)
    return 1


START_STATEMENTS = {}  # workflowId -> statements its thread issued for its startChild calls (while counting)


def _thread_statements():
    db = runtime.engine().host.db
    return db.snapshot().get(threading.current_thread().name, 0) if getattr(db, "counting", False) else 0


@workflow(name="b.fanout")
def fanout(children=100):
    wf = getWorkflows()
    before = _thread_statements()
    kids = [wf.startChild("b.one", queueName="b.fan") for _ in range(children)]
    START_STATEMENTS.setdefault(wf.workflowId, _thread_statements() - before)  # a replay's calls issue none
    wf.awaitAll(kids)
    return children


@workflow(name="b.gate")
def gate():
    noop(0)
    return "open"


@workflow(name="b.park_child")
def park_child(gate=""):
    return getWorkflows().awaitResult(gate)


@workflow(name="b.park_parent")
def park_parent(gate=""):
    wf = getWorkflows()
    return wf.awaitResult(wf.startChild("b.park_child", {"gate": gate}, queueName="b.park"))


@step(name="pause")
def pause(seconds):
    time.sleep(seconds)
    return None


@workflow(name="b.slow_one")
def slow_one(seconds=0.03):
    pause(seconds)
    return 1


@workflow(name="b.waker")
def waker(seconds=0.03):
    wf = getWorkflows()
    return wf.awaitResult(wf.startChild("b.slow_one", {"seconds": seconds}))


REMOTE_GATEWAY = []  # bench/remote_gateway.py puts its engine here


@step(name="drain_here")
def drain_here():
    """The other gateway stops claiming before the run ends, so the wake-up of the run awaiting it can only be
    claimed by the bench's gateway (through NOTIFY). A no-op on any other gateway."""
    for engine in REMOTE_GATEWAY:
        engine.kernel.set_flag("draining", True)
    return None


@workflow(name="b.xchild")
def xchild():
    drain_here()
    return 1


@workflow(name="b.xawait")
def xawait(target=""):
    return getWorkflows().awaitResult(target)


PLUG = threading.Event()


@step(name="plug_wait")
def plug_wait(seconds):
    PLUG.wait(seconds)
    return None


@workflow(name="b.plug")
def plug(seconds=900):
    plug_wait(seconds)
    return 1


@workflow(name="b.fired")
def fired():
    """What the bench's schedules start: no step, so a fire costs its claim, its begin and its end."""
    return 1


@workflow(name="b.debounced")
def debounced(label=""):
    """What the debounced bursts start: the label of the inputs it started with (the burst's latest call's)."""
    return label


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

    def query_columns(self, sql, params=()):
        self._count()
        return self._inner.query_columns(sql, params)

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


# -- runs that start and await runs ---------------------------------------------------------------------------------

ACTIVE_STATUSES = "('ENQUEUED', 'PENDING', 'RUNNING', 'WAITING', 'HELD')"


def _marks(n):
    return ", ".join(["?"] * n)


def _count(db, where, params=()):
    return int(db.query("SELECT count(*) FROM workflows.workflow_status WHERE " + where, tuple(params))[0][0])


def _wait_count(db, where, params, want, timeout=120.0, every=0.05, what="runs"):
    """Poll until `want` runs match `where`; raises after `timeout` seconds."""
    deadline = time.time() + timeout
    while True:
        have = _count(db, where, params)
        if have >= want:
            return have
        if time.time() > deadline:
            raise RuntimeError("%s: %d of %d after %ds" % (what, have, want, timeout))
        time.sleep(every)


def _wait_ended(db, workflow_id, timeout=60.0, every=0.01):
    """(status, completed_at, executor_id) of a run once it has ended: one indexed read per poll."""
    deadline = time.time() + timeout
    while True:
        row = db.query("SELECT status, completed_at, executor_id FROM workflows.workflow_status WHERE "
                       "workflow_uuid = ?", (workflow_id,))[0]
        if row[0] in ("SUCCESS", "ERROR", "CANCELLED", "STOPPED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"):
            return row[0], int(row[1]), row[2]
        if time.time() > deadline:
            raise RuntimeError("run %s did not end (%s)" % (workflow_id, row[0]))
        time.sleep(every)


def _statuses(db, workflow_id):
    """The run's status history: [(status, at ms)], oldest first."""
    rows = db.query("SELECT value, created_at FROM workflows.workflow_events_history WHERE workflow_uuid = ? AND "
                    "key = 'status' ORDER BY id", (workflow_id,))
    return [(r[0].strip('"'), int(r[1])) for r in rows]


def _continued_at(history):
    """(parked at, continued at): the first WAITING event and the next RUNNING after it (None, None without one)."""
    for index, (status, at) in enumerate(history):
        if status == "WAITING":
            for later, later_at in history[index + 1:]:
                if later == "RUNNING":
                    return at, later_at
            return at, None
    return None, None


def _await_done_at(db, workflow_id):
    rows = db.query("SELECT completed_at FROM workflows.operation_outputs WHERE workflow_uuid = ? AND kind = 'await'",
                    (workflow_id,))
    return int(rows[0][0]) if rows and rows[0][0] is not None else None


def _wait_queue_idle(db, queue_name, timeout=120.0):
    """Until no run of the queue is active; a poll every 20 ms, the same for both sides of the fan-out."""
    deadline = time.time() + timeout
    while _count(db, "queue_name = ? AND status IN " + ACTIVE_STATUSES, (queue_name,)):
        if time.time() > deadline:
            raise RuntimeError("queue %s did not go idle" % queue_name)
        time.sleep(0.02)


def _fanout_parent(engine, children):
    """One b.fanout parent: its start() called -> its SUCCESS (its completed_at), and where the time went."""
    db = engine.host.db
    began = time.time() * 1000
    wid = service.start(workflowName="b.fanout", inputs={"resolved": {"children": children}},
                        queueName="b.fan")["data"]["workflowId"]
    _wait_queue_idle(db, "b.fan")
    status, completed, _ = _wait_ended(db, wid)
    if status != "SUCCESS":
        raise RuntimeError("fan-out parent %s ended %s" % (wid, status))
    kids = db.query("SELECT max(completed_at), sum(CASE WHEN status = 'SUCCESS' THEN 1 ELSE 0 END) FROM "
                    "workflows.workflow_status WHERE parent_uuid = ?", (wid,))[0]
    if int(kids[1]) != children:
        raise RuntimeError("fan-out parent %s: %s of %d children succeeded" % (wid, kids[1], children))
    ops = db.query("SELECT kind, max(completed_at), min(started_at) FROM workflows.operation_outputs WHERE "
                   "workflow_uuid = ? GROUP BY kind", (wid,))
    ops = dict([(r[0], (int(r[1]), int(r[2]))) for r in ops])
    history = _statuses(db, wid)
    first_running = [at for s, at in history if s == "RUNNING"][0]
    parks = len([s for s, _ in history if s == "WAITING"])
    parked, continued = _continued_at(history)
    last_child = int(kids[0])
    phases = {"claimed": first_running - began,  # start() -> the parent running
              "children_started": ops["child"][0] - first_running,  # its startChild calls, one after the other
              "children_ended": last_child - ops["child"][0],  # the last child started -> the last one ended
              "waited": parked is not None, "parks": parks,
              "woken": (continued - last_child) if continued is not None else None,  # the last end -> running again
              "replay_to_end": completed - (continued if continued is not None else last_child)}
    phases["workflowId"] = wid
    return completed - began, phases


def _fanout_independent(engine, count):
    """`count` runs of b.one started together: the first start() called -> the last SUCCESS."""
    db = engine.host.db
    began = time.time() * 1000
    wids = [service.start(workflowName="b.one", queueName="b.fan")["data"]["workflowId"] for _ in range(count)]
    _wait_queue_idle(db, "b.fan")
    row = db.query("SELECT max(completed_at), sum(CASE WHEN status = 'SUCCESS' THEN 1 ELSE 0 END) FROM "
                   "workflows.workflow_status WHERE workflow_uuid IN (%s)" % _marks(len(wids)), wids)[0]
    if int(row[1]) != count:
        raise RuntimeError("independent runs: %s of %d succeeded" % (row[1], count))
    return int(row[0]) - began


def fan_out(engine, children=100, rounds=5, warmup=2):
    """One parent starting `children` children of one no-op step and awaiting them all, against `children`
    independent queued runs of one step started together, in the same engine: the median of `rounds` pairs after
    `warmup` pairs (the two sides alternate which goes first). fanout_ratio is the median of the pairs' ratios."""
    parent, independent, ratios, phases = [], [], [], []
    for index in range(warmup + rounds):
        if index % 2:
            alone = _fanout_independent(engine, children)
            tree, where = _fanout_parent(engine, children)
        else:
            tree, where = _fanout_parent(engine, children)
            alone = _fanout_independent(engine, children)
        if index >= warmup:
            parent.append(tree)
            independent.append(alone)
            ratios.append(tree / max(alone, 1.0))
            phases.append(where)
    breakdown = {}
    for key in ("claimed", "children_started", "children_ended", "woken", "replay_to_end"):
        values = [p[key] for p in phases if p[key] is not None]
        if values:
            breakdown[key] = median(values)
    breakdown["rounds_waited"] = len([p for p in phases if p["waited"]])
    breakdown["most_parks"] = max([p["parks"] for p in phases])  # 1: the parent woke once, not once per child
    for where in phases:
        START_STATEMENTS.pop(where["workflowId"], None)
    # one more pair, counted (untimed): the statements of the parent's thread per startChild, of the caller's per start
    db = engine.host.db
    db.counting = True
    try:
        _, where = _fanout_parent(engine, children)
        before = db.snapshot().get(MAIN_THREAD, 0)
        for _ in range(children):
            service.start(workflowName="b.one", queueName="b.fan")
        per_start = (db.snapshot().get(MAIN_THREAD, 0) - before) / children
        _wait_queue_idle(db, "b.fan")
    finally:
        db.counting = False
    per_child = START_STATEMENTS.pop(where["workflowId"], 0) / children
    return {"fanout_parent_ms": median(parent), "fanout_independent_ms": median(independent),
            "fanout_ratio": median(ratios), "fanout_children": children, "fanout_rounds": rounds,
            "fanout_parent_phases_ms": breakdown,
            "fanout_statements_per_start": {"startChild": per_child, "start": per_start}}


def wake_same_gateway(engine, samples=200):
    """A parent starts a child (one 30 ms step) and awaits it: the child's end (its completed_at) -> the parent
    RUNNING again (its next status event after WAITING), and -> its await recorded. A sample where the child ended
    before the parent had parked is not a wake-up and is left out (counted)."""
    db = engine.host.db
    running, awaited, skipped = [], [], 0
    for _ in range(samples):
        wid = service.start(workflowName="b.waker", inputs={"resolved": {"seconds": 0.03}})["data"]["workflowId"]
        time.sleep(0.04)
        status, _, _ = _wait_ended(db, wid)
        if status != "SUCCESS":
            raise RuntimeError("b.waker %s ended %s" % (wid, status))
        child_end = int(db.query("SELECT completed_at FROM workflows.workflow_status WHERE parent_uuid = ?",
                                 (wid,))[0][0])
        parked, continued = _continued_at(_statuses(db, wid))
        if parked is None or continued is None or parked > child_end:
            skipped += 1
            continue
        running.append(continued - child_end)
        awaited.append((_await_done_at(db, wid) or continued) - child_end)
    return _wake_figures("same_gateway", running, awaited, skipped)


def _wake_figures(where, running, awaited, skipped):
    if not running:
        raise RuntimeError("wake-up %s: no sample where the parent had parked" % where)
    return {"wake_ms_" + where: percentile(running, 0.5), "wake_ms_%s_p99" % where: percentile(running, 0.99),
            "wake_to_await_ms_" + where: {"p50": percentile(awaited, 0.5), "p99": percentile(awaited, 0.99)},
            "wake_samples_" + where: {"used": len(running), "left_out": skipped}}


def wake_other_gateway(engine, remote_gateway, samples=200):
    """The awaited run ends on another gateway (a second process); the parent continues on this one.

    Every gateway claims every queue, so the two sides are pinned by construction: the awaited runs are on queue
    b.xgw (workerConcurrency=1 on every gateway), whose one slot on this gateway a plug run keeps busy, so only the
    other gateway claims them; that gateway is draining (claims nothing) except when told to claim one awaited run,
    which drains it again in its first step, so the wake-up of its end can only be claimed here (PostgreSQL NOTIFY).
    Per sample: the awaited run is started (it waits ENQUEUED), then the parent (b.xawait, awaitResult of its id);
    once the parent is WAITING the other gateway is told to claim. Each sample's executors are checked."""
    db = engine.host.db
    plug_id = service.start(workflowName="b.plug", queueName="b.xgw")["data"]["workflowId"]
    _wait_count(db, "workflow_uuid = ? AND status = 'RUNNING' AND executor_id = ?", (plug_id, engine.executor_id), 1,
                timeout=30, every=0.01, what="the plug")
    other = remote_gateway()
    running, awaited, skipped = [], [], 0
    try:
        for _ in range(samples):
            target = ids.new_id()
            service.start(workflowName="b.xchild", queueName="b.xgw", workflowId=target)
            wid = service.start(workflowName="b.xawait", inputs={"resolved": {"target": target}})["data"]["workflowId"]
            _wait_count(db, "workflow_uuid = ? AND status = 'WAITING'", (wid,), 1, timeout=30, every=0.002,
                        what="the parent parked")
            other.claim()
            status, _, executor = _wait_ended(db, wid)
            t_status, t_end, t_executor = _wait_ended(db, target)
            if status != "SUCCESS" or t_status != "SUCCESS":
                raise RuntimeError("b.xawait %s ended %s, b.xchild %s ended %s" % (wid, status, target, t_status))
            parked, continued = _continued_at(_statuses(db, wid))
            if t_executor == engine.executor_id or executor != engine.executor_id or continued is None:
                skipped += 1
                continue
            running.append(continued - t_end)
            awaited.append((_await_done_at(db, wid) or continued) - t_end)
    finally:
        remote = other.close()
        PLUG.set()
        _wait_ended(db, plug_id, timeout=30)
        PLUG.clear()
    out = _wake_figures("other_gateway", running, awaited, skipped)
    out["wake_samples_other_gateway"]["other_gateway_ran"] = remote.get("ran")
    return out


def _heap_mb():
    """Heap in use after a collection (Jython), in MB."""
    if not JYTHON:
        return None
    from java.lang import Runtime

    runtime_ = Runtime.getRuntime()
    for _ in range(3):
        System.gc()
        time.sleep(0.2)
    return (runtime_.totalMemory() - runtime_.freeMemory()) / (1024.0 * 1024.0)


def parked_parents(engine, count=1000, timeout=300.0):
    """`count` parents, each awaiting one child that an operator holds.

    The children await a gate run that is held from before it began (claims paused while its HOLD is recorded),
    so they park WAITING at once; once every parent is WAITING the operator HOLDs every child (woken for the
    command, it parks HELD). Figures: the time from the first parent's start to every parent WAITING, the worker
    threads in use once every parent is WAITING and every child HELD, and under Jython the heap in use after a GC.
    Then the gate is resumed and every child RESUMEd; each child's end wakes its parent, and all of them end
    SUCCESS (`parked_finish_s`). An OutOfMemoryError (or anything else) is reported, not raised."""
    db = engine.host.db
    out = {"parked_parents": count, "parked_completed": False}
    since = now_ms()

    def mine(where):  # this workload's runs: those created from now on
        return where + " AND created_at >= ?"

    def wait_for(name, status, what):
        _wait_count(db, mine("name = ? AND status IN (%s)" % status), (name, since), count, timeout, what=what)
    out["parked_heap_mb_before"] = _heap_mb()
    try:
        engine.kernel.set_flag("draining", True)
        try:
            gate_id = service.start(workflowName="b.gate", queueName="b.park")["data"]["workflowId"]
            _ok(service.sendCommand(workflowId=gate_id, cmd="HOLD", reason="bench gate"))
        finally:
            engine.kernel.set_flag("draining", False)
            engine.wake()
        _wait_count(db, "workflow_uuid = ? AND status = 'HELD'", (gate_id,), 1, timeout=30, what="the gate held")
        began = clock()
        for _ in range(count):
            service.start(workflowName="b.park_parent", inputs={"resolved": {"gate": gate_id}}, queueName="b.park")
        wait_for("b.park_parent", "'WAITING'", "parents waiting")
        out["parked_park_s"] = clock() - began
        wait_for("b.park_child", "'WAITING'", "children waiting")
        kids = [r[0] for r in db.query("SELECT workflow_uuid FROM workflows.workflow_status WHERE " +
                                       mine("name = 'b.park_child'"), (since,))]
        began = clock()
        for kid in kids:
            _ok(service.sendCommand(workflowId=kid, cmd="HOLD", reason="operator hold"))
        wait_for("b.park_child", "'HELD'", "children held")
        out["parked_hold_s"] = clock() - began
        deadline = time.time() + 5
        while engine.kernel.active.size() and time.time() < deadline:  # a worker leaving after its last write
            time.sleep(0.01)
        out["parked_active_workers"] = engine.kernel.active.size()
        out["parked_waiting"] = _count(db, mine("name = 'b.park_parent' AND status = 'WAITING'"), (since,))
        out["parked_heap_mb"] = _heap_mb()
        began = clock()
        _ok(service.sendCommand(workflowId=gate_id, cmd="RESUME"))
        for kid in kids:
            _ok(service.sendCommand(workflowId=kid, cmd="RESUME"))
        wait_for("b.park_parent", "'SUCCESS', 'ERROR', 'CANCELLED', 'STOPPED'", "parents ended")
        out["parked_finish_s"] = clock() - began
        ok = _count(db, mine("name IN ('b.park_parent', 'b.park_child') AND status = 'SUCCESS'"), (since,))
        out["parked_completed"] = ok == 2 * count
        if ok != 2 * count:
            out["parked_error"] = "%d of %d parents and children ended SUCCESS" % (ok, 2 * count)
    except (KeyboardInterrupt, SystemExit):
        raise
    except:  # noqa: E722 - reported as a MISS, the other figures go on (java.lang.OutOfMemoryError included)
        kind, exc = sys.exc_info()[:2]
        out["parked_error"] = "%s: %s" % (getattr(kind, "__name__", kind), exc)
    return out


def _ok(answer):
    if not answer["ok"]:
        raise RuntimeError("command refused: %s" % answer)
    return answer


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


# -- runs that start themselves: schedules and debounced bursts ---------------------------------------------------

SCHEDULE_PREFIX = "bench-minute-"
MINUTE_CRON = "0 * * * * *"  # second 0 of every minute


def _full_ticks(engine, count):
    """ms and statements of `count` full dispatcher ticks, each run on this thread. A tick that found another
    thread's tick running, or that ran a second tick for a request that came meanwhile, is not a sample."""
    dispatcher = engine.dispatcher
    db = engine.host.db
    times, statements = [], []
    attempts = 0
    while len(times) < count and attempts < 3 * count:
        attempts += 1
        ticks = dispatcher.ticks
        before = db.snapshot().get(MAIN_THREAD, 0)
        started = clock()
        ran = dispatcher.tick(full=True)
        elapsed = clock() - started
        if ran and dispatcher.ticks - ticks == 1:
            times.append(elapsed * 1000)
            statements.append(db.snapshot().get(MAIN_THREAD, 0) - before)
        time.sleep(0.01)
    return times, statements


def _counted_ticks(engine, count):
    db = engine.host.db
    db.counting = True
    try:
        return _full_ticks(engine, count)
    finally:
        db.counting = False


def _set_next_fire(engine, names, at):
    """Every schedule enabled with its next fire at `at` (written directly, as the dispatcher would), then the
    dispatcher told; returns the seconds the writes took."""
    began = clock()
    now = now_ms()
    for name in names:
        engine.store.schedules.update(name, {"enabled": True, "next_fire_at": at}, now)
    engine.schedules_changed()
    return clock() - began


def _fires_at(db, at):
    """(created_at, claimed_at) of the schedule runs of fire time `at` (index ws_schedule)."""
    return [(int(r[0]), int(r[1]) if r[1] is not None else None) for r in db.query(
        "SELECT created_at, claimed_at FROM workflows.workflow_status WHERE schedule_name IS NOT NULL AND "
        "scheduled_at = ?", (at,))]


def _burst(engine, names, lead_s, counted):
    """Every schedule's next fire set to one instant `lead_s` ahead; once the engine's own dispatcher has fired
    them all: (fire time, [(created_at, claimed_at)], statements of every thread but this one while they fired).

    counted: claims are paused (draining) until all have fired, so the statements are the dispatcher's firing
    and its ticks only (no worker runs a fired run meanwhile); they are then claimed and run to their end."""
    db = engine.host.db
    at = now_ms() + int(lead_s * 1000)
    statements = None
    if counted:
        engine.kernel.set_flag("draining", True)
        db.counting = True
    try:
        before = db.snapshot()
        _set_next_fire(engine, names, at)
        time.sleep(max(0.0, (at - now_ms()) / 1000.0))
        _wait_count(db, "schedule_name IS NOT NULL AND scheduled_at = ?", (at,), len(names), timeout=60,
                    what="schedule fires")
        if counted:
            after = db.snapshot()
            statements = sum([after.get(k, 0) - before.get(k, 0) for k in after if k != MAIN_THREAD])
    finally:
        if counted:
            db.counting = False
            engine.kernel.set_flag("draining", False)
            engine.wake()
    if not counted:
        _wait_count(db, "schedule_name IS NOT NULL AND scheduled_at = ? AND claimed_at IS NOT NULL", (at,),
                    len(names), timeout=60, every=0.02, what="fired runs claimed")
    _wait_count(db, "schedule_name IS NOT NULL AND scheduled_at = ? AND status = 'SUCCESS'", (at,), len(names),
                timeout=120, what="fired runs ended")
    rows = _fires_at(db, at)
    if len(rows) != len(names):
        raise RuntimeError("%d schedules fired %d runs at %d" % (len(names), len(rows), at))
    return at, rows, statements


def schedules_tick(engine, count=1000, ticks=30):
    """`count` schedules of one minute on this gateway: a full tick while none is due, and the tick in which
    all fire.

    The schedules are made disabled (their own minute fire would otherwise land in the measurement whenever it
    crosses a minute) and then enabled with next_fire_at written directly: ten minutes ahead for the idle ticks,
    one instant about 1.5 s ahead for each burst, which the engine's dispatcher then fires on its own (its full
    tick sees the fire within its horizon and sets a timer for it). Idle: `ticks` full ticks run on this thread,
    with `count` and (once they are deleted) with none; medians (a sweep runs every tenth tick). Burst 1 (claims
    paused while they fire): statements of every other thread per fire, and each run's creation against the fire
    time. Burst 2 (as a gateway runs): each run's claim against the fire time."""
    db = engine.host.db
    names = ["%s%04d" % (SCHEDULE_PREFIX, i) for i in range(count)]
    _full_ticks(engine, 5)  # warm-up, not counted
    creates = []
    for name in names:
        started = clock()
        _ok(admin.createSchedule(scheduleName=name, workflowName="b.fired", cron=MINUTE_CRON, queueName="b.sched",
                                 enabled=False))
        creates.append(clock() - started)
    try:
        writes_s = _set_next_fire(engine, names, now_ms() + 600000)
        time.sleep(0.2)
        idle_ms, idle_statements = _counted_ticks(engine, ticks)
        keyed, plain = insert_rtt(engine, 300)
        lead_s = 1.5 + 2 * writes_s
        at, fired_rows, statements = _burst(engine, names, lead_s, True)
        created = [c - at for c, _ in fired_rows]
        ordered = sorted([c for c, _ in fired_rows])
        gaps = [b - a for a, b in zip(ordered, ordered[1:])] or [0]
        gap = max(gaps)
        before_gap = gaps.index(gap) + 1
        at2, claimed_rows, _ = _burst(engine, names, lead_s, False)
        claims = [c - at2 for _, c in claimed_rows]
    finally:
        for name in names:
            admin.deleteSchedule(scheduleName=name)
    # after the schedules are gone rather than before they are made: both idle measurements on an engine as warm
    bare_ms, bare_statements = _counted_ticks(engine, ticks)
    whole = max(created)
    return {"sched_schedules": count,
            "sched_create_ms": {"p50": percentile(creates, 0.5) * 1000, "p99": percentile(creates, 0.99) * 1000},
            "sched_idle_tick_ms": {"p50": median(idle_ms), "max": max(idle_ms)},
            "sched_idle_tick_ms_no_schedules": {"p50": median(bare_ms), "max": max(bare_ms)},
            "sched_idle_tick_statements": {"schedules": median(idle_statements),
                                           "no_schedules": median(bare_statements)},
            "sched_idle_tick_ratio": median(idle_ms) / keyed,
            "sched_insert_rtt_ms": keyed, "sched_plain_insert_rtt_ms": plain,
            "sched_burst_statements_per_fire": statements / count,
            "sched_burst_ms": whole,
            "sched_burst_created_ms": {"first": min(created), "p50": percentile(created, 0.5), "last": whole,
                                       "largest_gap": gap, "fired_before_gap": before_gap},
            "sched_burst_ms_per_fire": whole / count,
            "sched_burst_per_fire_ratio": whole / count / keyed,
            "sched_all_claimed_ms": max(claims),
            "sched_claimed_ms": {"p50": percentile(claims, 0.5), "p99": percentile(claims, 0.99)}}


TERMINAL = ("SUCCESS", "ERROR", "CANCELLED", "STOPPED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")


def _label_of(value):
    """The label in a run's inputs (a parameter dict, or the start's {"resolved": {...}})."""
    if isinstance(value, dict):
        if "label" in value:
            return value["label"]
        return _label_of(value.get("resolved"))
    return None


def debounce_burst(engine, in_memory, keys=100, rounds=100, span_s=2.0, quiet_s=0.5, prefix=None, callers=1):
    """`rounds` rounds each calling every one of `keys` keys (inputs {"label": "<key>/<round>"}), paced to span
    `span_s` seconds (a round starts at its time, or at once when the calls before it took longer), with
    startDebouncedInMemory or startDebounced, from `callers` threads that each own a share of the keys (as
    several tag-change scripts would); then until every run has ended.

    Checked: one run per key (runs made since the first call), each started with its key's last inputs and
    returning them, and every call of a key answered the same workflowId (mismatches: runs whose output or inputs
    are not their key's last label, keys with no run, keys answered with more than one id)."""
    call = service.startDebouncedInMemory if in_memory else service.startDebounced
    variant = "memory" if in_memory else "durable"
    db = engine.host.db
    prefix = prefix or "%s-%s" % (variant, ids.new_id()[:8])
    names = ["%s-%03d" % (prefix, k) for k in range(keys)]
    answers = dict([(name, set()) for name in names])
    last_call = {}
    times = [[] for _ in range(callers)]
    failures = []
    since = now_ms()
    began = clock()

    def caller(share, spent):
        try:
            for index in range(rounds):
                wait = began + span_s * index / rounds - clock()
                if wait > 0:
                    time.sleep(wait)
                for key in share:
                    started = clock()
                    resp = call(workflowName="b.debounced", debounceKey=key, quietSeconds=quiet_s,
                                inputs={"resolved": {"label": "%s/%d" % (key, index)}}, queueName="b.deb")
                    spent.append(clock() - started)
                    if not resp["ok"]:
                        raise RuntimeError("%s refused: %s" % (variant, resp))
                    answers[key].add(resp["data"]["workflowId"])
                    if index == rounds - 1:
                        last_call[key] = now_ms()
        except Exception as exc:  # reported by the bench's thread
            failures.append(exc)
    if callers == 1:
        caller(names, times[0])
    else:
        threads = [threading.Thread(target=caller, args=(names[i::callers], times[i]), name="bench-caller-%d" % i)
                   for i in range(callers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
    times = [t for spent in times for t in spent]
    span = clock() - began
    ended_calls = now_ms()
    wids = sorted(set([w for ws in answers.values() for w in ws]))
    _wait_count(db, "workflow_uuid IN (%s) AND status IN (%s)" % (_marks(len(wids)), _marks(len(TERMINAL))),
                list(wids) + list(TERMINAL), len(wids), timeout=120, every=0.02, what="debounced runs ended")
    rows = db.query("SELECT workflow_uuid, status, inputs, output, started_at, completed_at FROM "
                    "workflows.workflow_status WHERE name = 'b.debounced' AND created_at >= ?", (since,))
    owner = dict([(w, key) for key, ws in answers.items() for w in ws])
    mine = [r for r in rows if r[0] in owner or (r[3] and str(loads(r[3])).startswith(prefix + "-"))]
    wrong = 0
    late = []
    per_key = {}
    for wid, status, inputs, output, started_at, _ in mine:
        key = owner.get(wid)
        want = "%s/%d" % (key, rounds - 1)
        got = loads(output) if output else None
        if status != "SUCCESS" or key is None or got != want or _label_of(loads(inputs) if inputs else None) != want:
            wrong += 1
        if key is not None:
            per_key[key] = per_key.get(key, 0) + 1
            if started_at is not None:
                late.append(int(started_at) - (last_call[key] + int(quiet_s * 1000)))
    no_run = len([k for k in names if not per_key.get(k)])
    split = len([k for k in names if len(answers[k]) != 1])
    done = max([int(r[5]) for r in mine if r[5] is not None] or [ended_calls]) - ended_calls
    return {"runs": len(mine), "mismatches": wrong + no_run + split,
            "mismatch_parts": {"wrong_inputs": wrong, "keys_without_run": no_run, "keys_with_two_ids": split},
            "call_us": {"p50": percentile(times, 0.5) * 1e6, "p99": percentile(times, 0.99) * 1e6},
            "calls": len(times), "callers": callers, "span_s": span, "done_ms": done,
            "start_late_ms": {"p50": percentile(late, 0.5), "max": max(late) if late else None}}


def debounce(engine, quick=False, keys=100, rounds=100):
    """Both variants, durable first; under Jython (not --quick) one untimed burst of each first, so HotSpot has
    compiled the calls' paths (a tag-change script calls them for months)."""
    out = {}
    if JYTHON and not quick:
        for in_memory in (False, True):
            debounce_burst(engine, in_memory, keys, 20, 0.4, prefix="warm%d-%s" % (int(in_memory), ids.new_id()[:8]),
                           callers=1 if in_memory or engine.host.db.dialect != "postgresql" else 4)
    keyed, _ = insert_rtt(engine, 300)
    out["debounce_insert_rtt_ms"] = keyed
    # on PostgreSQL one thread cannot make 10,000 durable calls in 2 s (a call is a round trip): four callers;
    # SQLite takes one writer at a time, and an in-memory call is microseconds (one thread, and no GIL handovers
    # between callers measured as the call's time under CPython)
    durable_callers = 4 if engine.host.db.dialect == "postgresql" else 1
    for in_memory in (False, True):
        figures = debounce_burst(engine, in_memory, keys, rounds, callers=1 if in_memory else durable_callers)
        variant = "memory" if in_memory else "durable"
        for name, value in figures.items():
            out["debounce_%s_%s" % (variant, name)] = value
    out["debounce_durable_call_ratio"] = out["debounce_durable_call_us"]["p50"] / 1000.0 / keyed
    out["debounce_expected_runs"] = keys
    return out


GROUPS = ("throughput", "step", "enqueue", "start", "remote", "hold", "fanout", "wake", "xwake", "parked",
          "schedules", "debounce", "tagwaits", "list", "schedule_accuracy")
# measured by bench/run.py once per bench run (three gateways of their own), not by each host
RUN_GROUPS = ("schedule_accuracy",)


def measure(url, rows=1000000, quick=False, remote=None, remote_gateway=None, only=None):
    """Every figure, or those of the groups named in `only` (GROUPS; a partial run, for working on one figure)."""
    engine = build_engine(url)
    out = {"host": "jython+jdbc" if JYTHON else "cpython+" + ("psycopg" if url.startswith("postgres") else "sqlite3"),
           "db": "postgresql" if url.startswith("postgres") else "sqlite"}

    def wanted(group):
        return only is None or group in only
    try:
        # HotSpot compiles Jython's code only after thousands of runs: the throughput rounds come first and warm up
        # the paths every later figure takes (a gateway runs for months; its steady state is what is measured)
        if wanted("throughput"):
            out.update(steady_throughput(engine, 300 if quick else 1000, (3 if quick else 12) if JYTHON else 1))
            settle(engine)
        if wanted("step"):
            out.update(step_overhead(engine, runs=3 if quick else 7, warmup=(10 if quick else 30) if JYTHON else 3))
        if wanted("enqueue"):
            out["enqueue_in_memory_us"] = enqueue_in_memory(engine, 2000 if quick else 10000,
                                                             warmup_rounds=(2 if quick else 6) if JYTHON else 1)
        if wanted("start"):
            out.update(start_latency(engine, 100 if quick else 300))
        if remote is not None and wanted("remote"):
            out.update(remote())
        if wanted("hold"):
            out["hold_latency_ms"] = hold_latency(engine, 5 if quick else 15)
        if wanted("fanout"):
            out.update(fan_out(engine, 100, rounds=3 if quick else 7,
                               warmup=(3 if quick else 10) if JYTHON else (1 if quick else 2)))
        if wanted("wake"):
            out.update(wake_same_gateway(engine, 30 if quick else 200))
        if remote_gateway is not None and out["db"] == "postgresql" and wanted("xwake"):
            out.update(wake_other_gateway(engine, remote_gateway, 30 if quick else 200))
        if wanted("parked"):
            out.update(parked_parents(engine, 100 if quick else 1000))
        if wanted("schedules"):
            out.update(schedules_tick(engine, 1000, ticks=10 if quick else 30))
        if wanted("debounce"):
            out.update(debounce(engine, quick))
        if wanted("tagwaits"):
            import tag_waits  # bench/tag_waits.py: its workflows, registered when the group is measured

            out.update(tag_waits.measure(engine, quick))
        if rows and wanted("list"):
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
