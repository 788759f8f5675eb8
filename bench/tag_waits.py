"""Durable waits on plant state (group `tagwaits`): 1,000 runs, each parked in waitForTag on its own memory tag.

The issue's benchmark: "1,000 runs each waiting on its own tag: worker threads in use 0, one batched read per tick,
and the time from a tag change to the run running again <= one tick + 50 ms (p99)". Run in-process by any host
(bench/workloads.py measure() calls measure() here); Python 2.7 / 3 common subset, like workloads.py.

How (the engine at the gateway's default tick, 1000 ms, as workloads.build_engine makes it):

- every tag is written (0) in one batched write, then `count` runs of b.tagwait start; each reads its tag once on
  its worker and parks WAITING (waitForTag(path, changes=True)). For the workload engine.host.tags is wrapped: every
  read outside a run (the dispatcher's batched reads) is noted with its time, its duration and its paths; the
  watcher's evaluations that read (TagWaitWatcher.run) and the dispatcher's full ticks are timed the same way;
- all parked: the tag-wait sweep (every tenth full tick) is timed on this thread, then on PostgreSQL the tables
  are ANALYZEd (autovacuum does so within a minute on a running gateway; here at a known moment) and it is timed
  again;
- then, over `ticks` full ticks of the engine's own timer: the worker threads in use (kernel.active.size()), the
  batched reads (the wrapper's, and watcher.batched_reads), the paths per read, the time of one evaluation (the
  waits' query, the batched read, 1,000 conditions) and of its read alone, of a full tick, and between two reads
  (the watcher's own timer starts an evaluation one tick after the previous one started, whatever the full ticks
  of the fixed-delay timer do); reads per tick are the reads over that time divided by its ticks;
- `samples` more runs park (so at least `count` waits are parked during every sample), then `samples` tags are
  written one at a time at random moments (uniform over samples / WRITES_PER_S seconds, so unrelated to the tick).
  Nothing else parks meanwhile. Per sample, from the database: the tag's timestamp (the write) -> the run's
  next RUNNING status event (the figure), with where the time went: -> the start of the batched read that saw it,
  -> released (the recorded `releasedAt`, taken when the read returned), -> RUNNING, -> its next step's started_at;
- finally every remaining tag is written in one batched write: all runs must end SUCCESS.
"""
from __future__ import division

import random
import threading
import time

from exchange.workflows.api import service
from exchange.workflows.engine import context
from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import step, workflow
from exchange.workflows.engine.queues import declareQueue
from exchange.workflows.util import ids
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.jsoncodec import loads

import workloads
from workloads import clock, median, percentile

QUEUE = "b.tagwait"
WRITES_PER_S = 3.0  # sample writes per second, at random moments: about three per tick, released together
declareQueue(QUEUE)


@step(name="woke")
def woke():
    return None


@workflow(name="b.tagwait")
def tagwait(path=""):
    """Park until its own tag changes, then one step (its started_at: the run past its replay)."""
    reading = getWorkflows().waitForTag(path, changes=True)
    woke()
    return reading["value"]


class NotedTags(object):
    """engine.host.tags for the workload: reads outside any run (the dispatcher's) are noted as (started at, epoch
    ms; duration, ms; paths), reads inside a run (the parking run's own read) only counted."""

    def __init__(self, inner):
        self.inner = inner
        self.reads = []
        self.run_reads = 0
        self._lock = threading.Lock()

    def read(self, paths):
        paths = list(paths)
        at = time.time() * 1000
        started = clock()
        try:
            return self.inner.read(paths)
        finally:
            spent = (clock() - started) * 1000
            with self._lock:
                if context.current() is None:
                    self.reads.append((at, spent, len(paths)))
                else:
                    self.run_reads += 1

    def write(self, paths, values):
        return self.inner.write(paths, values)

    def browse(self, path):
        return self.inner.browse(path)

    def tags_under(self, folder, limit):
        return self.inner.tags_under(folder, limit)

    def since(self, index):
        with self._lock:
            return list(self.reads[index:])

    def count(self):
        with self._lock:
            return len(self.reads)


def _time_evaluations(watcher, noted):
    """Note the watcher's evaluations that read tags: (started at epoch ms, ms, in a full tick)."""
    original = watcher.run

    def run(now, full):
        before = watcher.batched_reads
        at = time.time() * 1000
        started = clock()
        try:
            return original(now, full)
        finally:
            if watcher.batched_reads != before:
                noted.append((at, (clock() - started) * 1000, full))
    watcher.run = run  # over the class's method, for this instance; _unwrap removes it


def _time_full_ticks(dispatcher, noted):
    """Note the dispatcher's full ticks: (started at epoch ms, ms)."""
    original = dispatcher._guarded

    def guarded(full):
        at = time.time() * 1000
        started = clock()
        try:
            return original(full)
        finally:
            if full:
                noted.append((at, (clock() - started) * 1000))
    dispatcher._guarded = guarded


def _unwrap(obj, name):
    try:
        delattr(obj, name)
    except AttributeError:
        pass


def _sweep_ms(engine, times=5):
    """Median ms of the tag-wait sweep the dispatcher runs every tenth full tick (it removes nothing here: every
    wait is live), run on this thread."""
    spent = []
    for _ in range(times):
        started = clock()
        engine.store.tag_waits.sweep()
        spent.append((clock() - started) * 1000)
    return median(spent)


def _dist(values):
    if not values:
        return None
    return {"p50": percentile(values, 0.5), "p99": percentile(values, 0.99), "max": max(values)}


def _count(db, since, statuses):
    return int(db.query("SELECT count(*) FROM workflows.workflow_status WHERE name = 'b.tagwait' AND created_at >= ? "
                        "AND status IN (%s)" % workloads._marks(len(statuses)), [since] + list(statuses))[0][0])


def _wait_runs(db, since, statuses, want, timeout, what):
    deadline = time.time() + timeout
    while True:
        have = _count(db, since, statuses)
        if have >= want:
            return have
        if time.time() > deadline:
            raise RuntimeError("tag waits: %s: %d of %d after %ds" % (what, have, want, timeout))
        time.sleep(0.05)


def _quiet(engine, most_s=5.0):
    """Until no worker is in use and no evaluation asked for by a park is pending; the most workers seen in use."""
    deadline = time.time() + most_s
    while time.time() < deadline and (engine.kernel.active.size() or engine.kernel.flag("tagWaits")):
        time.sleep(0.01)
    return engine.kernel.active.size()


def _after_tick(engine, settle_s=0.3):
    """Just after the engine's next full tick has begun and had `settle_s` to finish."""
    ticks = engine.dispatcher.ticks
    deadline = time.time() + 5 * engine.config.tick_ms / 1000.0
    while engine.dispatcher.ticks == ticks and time.time() < deadline:
        time.sleep(0.005)
    time.sleep(settle_s)


def _park(paths):
    """Start one b.tagwait per path; {path: workflowId}."""
    wids = {}
    for path in paths:
        wids[path] = service.start(workflowName="b.tagwait", inputs={"resolved": {"path": path}},
                                   queueName=QUEUE)["data"]["workflowId"]
    return wids


def _idle(engine, tags, evaluations, full_ticks, ticks):
    """`ticks` full ticks of the engine's timer with every run parked and nothing else to do."""
    dispatcher = engine.dispatcher
    watcher = dispatcher.tag_waits
    _after_tick(engine)
    first_read, first_eval, first_full = tags.count(), len(evaluations), len(full_ticks)
    first_tick, first_batched = dispatcher.ticks, watcher.batched_reads
    most_active = engine.kernel.active.size()
    while dispatcher.ticks - first_tick < ticks:
        most_active = max(most_active, engine.kernel.active.size())
        time.sleep(0.05)
    time.sleep(0.3)  # the last tick has finished
    elapsed_ticks = dispatcher.ticks - first_tick
    reads = tags.since(first_read)
    evals = evaluations[first_eval:]
    return {"ticks": elapsed_ticks, "reads": len(reads), "batched": watcher.batched_reads - first_batched,
            "paths": [r[2] for r in reads], "read_ms": [r[1] for r in reads], "eval_ms": [e[1] for e in evals],
            "light_evals": len([e for e in evals if not e[2]]), "most_active": most_active,
            "periods": _periods(reads), "starts": [r[0] for r in reads],
            "full_tick_ms": [t[1] for t in full_ticks[first_full:]]}


def _reads_per_tick(starts, tick_ms):
    """Batched reads per tick of time: n reads, from the first one's start to one tick after the last one's start
    (n reads exactly a tick apart make 1.00), to two decimals (a timer a millisecond early is not a second read)."""
    if not starts:
        return 0.0
    return round(len(starts) * tick_ms / (starts[-1] - starts[0] + tick_ms), 2)


def _periods(reads):
    """ms from the start of each batched read to the next: the period of the watcher's evaluations."""
    starts = [r[0] for r in reads]
    return [b - a for a, b in zip(starts, starts[1:])]


def _analyze(engine):
    """PostgreSQL: statistics for the tables the waits live in, as autovacuum gathers them on a running gateway
    (within a minute of the 1,000 parks; here at a known moment rather than somewhere in the measurement)."""
    db = engine.host.db
    if db.dialect != "postgresql":
        return False
    for table in ("workflow_status", "tag_waits", "memory_tags"):
        db.execute("ANALYZE workflows." + table)
    return True


def measure(engine, quick=False, count=1000, samples=None, ticks=None):
    """The figures of the group (tagwait_*); see the module's text."""
    samples = samples or (50 if quick else 200)
    ticks = ticks or (5 if quick else 20)
    db = engine.host.db
    inner = engine.host.tags
    tags = NotedTags(inner)
    dispatcher = engine.dispatcher
    watcher = dispatcher.tag_waits
    evaluations, full_ticks = [], []
    prefix = "[default]Bench/TagWaits-%s/T" % ids.new_id()[:8]
    paths = ["%s%04d" % (prefix, i) for i in range(count + samples)]
    out = {"tagwait_runs": count, "tagwait_tick_ms": engine.config.tick_ms}
    keyed, _ = workloads.insert_rtt(engine, 300)
    out["tagwait_insert_rtt_ms"] = keyed
    since = now_ms()
    inner.write(paths, [0] * len(paths))
    engine.host.tags = tags
    _time_evaluations(watcher, evaluations)
    _time_full_ticks(dispatcher, full_ticks)
    try:
        # 1,000 runs park, each on its own tag
        reads_before, batched_before = tags.count(), watcher.batched_reads
        began = clock()
        wids = _park(paths[:count])
        _wait_runs(db, since, ("WAITING",), count, 300, "runs parked")
        out["tagwait_park_s"] = clock() - began
        out["tagwait_active_workers"] = _quiet(engine)
        parking = tags.since(reads_before)
        out["tagwait_park_reads"] = {"batched": watcher.batched_reads - batched_before,
                                     "paths": sum([r[2] for r in parking]), "in_runs": tags.run_reads}
        sweep = {"fresh": _sweep_ms(engine)}
        if _analyze(engine):
            sweep["analyzed"] = _sweep_ms(engine)
        out["tagwait_sweep_ms"] = sweep
        # every run parked, the engine's own ticks
        idle = _idle(engine, tags, evaluations, full_ticks, ticks)
        out["tagwait_active_workers"] = max(out["tagwait_active_workers"], idle["most_active"])
        out["tagwait_parked"] = _count(db, since, ("WAITING",))
        out["tagwait_ticks"] = idle["ticks"]
        out["tagwait_reads_per_tick"] = _reads_per_tick(idle["starts"], engine.config.tick_ms)
        out["tagwait_batched_reads"] = {"reads": idle["reads"], "watcher": idle["batched"], "ticks": idle["ticks"],
                                        "outside_full_ticks": idle["light_evals"]}
        out["tagwait_paths_per_read"] = max(idle["paths"]) if idle["paths"] else 0
        out["tagwait_eval_ms"] = _dist(idle["eval_ms"])
        out["tagwait_read_ms"] = _dist(idle["read_ms"])
        out["tagwait_eval_ratio"] = median(idle["eval_ms"]) / keyed if idle["eval_ms"] else None
        out["tagwait_read_ratio"] = median(idle["read_ms"]) / keyed if idle["read_ms"] else None
        out["tagwait_full_tick_ms"] = _dist(idle["full_tick_ms"])
        out["tagwait_tick_period_ms"] = _dist(idle["periods"])
        # `samples` more park, then `samples` tags written one at a time at random moments
        wids.update(_park(paths[count:]))
        _wait_runs(db, since, ("WAITING",), count + samples, 120, "sample runs parked")
        _quiet(engine)
        _after_tick(engine, 0.0)
        rng = random.Random()
        chosen = rng.sample(paths, samples)
        span = samples / WRITES_PER_S
        moments = sorted([rng.uniform(0, span) for _ in chosen])
        first_read = tags.count()
        began = time.time()
        for path, moment in zip(chosen, moments):
            pause = began + moment - time.time()
            if pause > 0:
                time.sleep(pause)
            inner.write([path], [1])
        chosen_ids = [wids[p] for p in chosen]
        _wait_ids(db, chosen_ids, 60)
        sampling_reads = tags.since(first_read)
        out["tagwait_parked_while_sampling"] = {"first": count + samples, "last": count}
        out["tagwait_sampling_period_ms"] = _dist(_periods(sampling_reads))
        out.update(_wake_figures(db, chosen_ids, sampling_reads, engine.config.tick_ms))
        # the rest released at once: every run ends SUCCESS
        sampled = set(chosen)
        rest = [p for p in paths if p not in sampled]
        began = clock()
        inner.write(rest, [1] * len(rest))
        _wait_runs(db, since, ("SUCCESS", "ERROR", "CANCELLED", "STOPPED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"),
                   count + samples, 300, "runs ended")
        out["tagwait_release_all_s"] = clock() - began
        ok = _count(db, since, ("SUCCESS",))
        out["tagwait_completed"] = ok == count + samples
        if ok != count + samples:
            out["tagwait_error"] = "%d of %d runs ended SUCCESS" % (ok, count + samples)
    finally:
        engine.host.tags = inner
        _unwrap(watcher, "run")
        _unwrap(dispatcher, "_guarded")
    return out


def _wait_ids(db, wids, timeout):
    deadline = time.time() + timeout
    marks = workloads._marks(len(wids))
    while True:
        left = int(db.query("SELECT count(*) FROM workflows.workflow_status WHERE workflow_uuid IN (%s) AND status NOT "
                            "IN ('SUCCESS', 'ERROR', 'CANCELLED', 'STOPPED')" % marks, wids)[0][0])
        if not left:
            return
        if time.time() > deadline:
            raise RuntimeError("tag waits: %d sampled runs did not end" % left)
        time.sleep(0.05)


def _wake_figures(db, wids, reads, tick_ms):
    """Per sampled run: its tag's timestamp (the write) -> RUNNING again, and where the time went."""
    marks = workloads._marks(len(wids))
    outputs = {}
    for wid, kind, output, started in db.query(
            "SELECT workflow_uuid, kind, output, started_at FROM workflows.operation_outputs WHERE workflow_uuid IN "
            "(%s)" % marks, wids):
        outputs.setdefault(wid, {})[kind] = (loads(output) if output else None, started)
    read_starts = sorted([r[0] for r in reads])
    running, to_read, to_released, released_to_running, to_step, phases = [], [], [], [], [], []
    for wid in wids:
        wait, _ = outputs[wid]["wait"]
        _, step_started = outputs[wid]["step"]
        written, released = int(wait["timestamp"]), int(wait["releasedAt"])
        parked, continued = workloads._continued_at(workloads._statuses(db, wid))
        if continued is None:
            raise RuntimeError("tag waits: run %s has no RUNNING after its WAITING" % wid)
        running.append(continued - written)
        to_released.append(released - written)
        released_to_running.append(continued - released)
        to_step.append(int(step_started) - continued)
        seen = [s for s in read_starts if s >= written]
        before = [s for s in read_starts if s < written]
        if seen:
            to_read.append(seen[0] - written)
        if before:
            phases.append(written - before[-1])
    p99 = percentile(running, 0.99)
    return {"tagwait_wake_ms": _dist(running), "tagwait_wake_p50_ms": percentile(running, 0.5),
            "tagwait_wake_p99_ms": p99, "tagwait_wake_p99_over_tick_ms": p99 - tick_ms,
            "tagwait_wake_parts_ms": {"to_read": _dist(to_read), "to_released": _dist(to_released),
                                      "released_to_running": _dist(released_to_running),
                                      "running_to_step": _dist(to_step)},
            "tagwait_samples": {"used": len(running), "write_after_read_ms": _dist(phases)}}
