"""A schedule firing every second on three gateways sharing PostgreSQL, one of them killed half-way.

    python bench/schedule_accuracy.py URL OUT.json [--quick]

Three `./gateway run` processes (Jython + JDBC, executors gw1..gw3, --tick-ms 1000 --lease-ms 3000, loading
bench/workloads.py for b.fired and queue b.sched) on the database URL names. This process is a client scope (it
migrates the schema and makes the schedule `* * * * * *`, then only reads). Once every gateway has registered, the
schedule is made; its fires from the first one for 60 s (20 s with --quick) are the window. Half-way the gateway
that claimed the latest fire is killed with SIGKILL and started again 3 s later. A second and a half after the
window's last fire the schedule is paused, and once every run of the window is claimed (or after 60 s) the
figures are written to OUT.json: fire times expected, runs found, fire times with no run, fire times with more
than one run, and claimed_at - scheduled_at (and created_at - scheduled_at: when the fire's run was written).
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

import workloads  # noqa: E402 - registers b.fired and the b.* queues, as the gateways do
from exchange.workflows.api import admin  # noqa: E402
from exchange.workflows.engine.engine import Engine, EngineConfig  # noqa: E402
from exchange.workflows.host import hosts, runtime  # noqa: E402

TICK_MS = 1000
LEASE_MS = 3000
EXECUTORS = ("gw1", "gw2", "gw3")
SCHEDULE = "bench-every-second"
RESTART_AFTER_S = 3.0


def now_ms():
    return int(time.time() * 1000)


class Gateway(object):
    """One `./gateway run` process; its executor id stays across a restart."""

    def __init__(self, url, executor_id, workdir):
        self.url = url
        self.executor_id = executor_id
        self.workdir = workdir
        self.proc = None
        self.launched_ms = None
        self.launches = 0

    def spawn(self):
        self.launches += 1
        env = dict(os.environ)
        env.setdefault("WORKFLOWS_JAVA_OPTS", "-Xmx256m")
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # Jython keeps its compiled modules: each start is a second faster
        command = [os.path.join(ROOT, "gateway"), "run", "--db", self.url, "--no-http", "--no-demo", "--executor-id",
                   self.executor_id, "--tick-ms", str(TICK_MS), "--lease-ms", str(LEASE_MS), "--workers", "4",
                   "--pythonpath", HERE, "--modules", "workloads"]
        log = open(os.path.join(self.workdir, "%s-%d.log" % (self.executor_id, self.launches)), "w")
        self.launched_ms = now_ms()
        try:
            # ./gateway execs java: this pid is the JVM's, so SIGKILL hits the gateway itself
            self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdin=open(os.devnull), stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def registered(self, db):
        rows = db.query("SELECT started_at, state FROM workflows.executors WHERE executor_id = ?", (self.executor_id,))
        return bool(rows) and int(rows[0][0]) >= self.launched_ms and rows[0][1] == "running"

    def kill9(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(60)

    def stop(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill9()

    def log_tail(self):
        path = os.path.join(self.workdir, "%s-%d.log" % (self.executor_id, self.launches))
        with open(path) as handle:
            return "".join(handle.readlines()[-30:])


def wait_registered(db, gateways, timeout):
    deadline = time.time() + timeout
    while True:
        for gw in gateways:
            if not gw.alive():
                raise RuntimeError("gateway %s exited (%s) before registering:\n%s"
                                   % (gw.executor_id, gw.proc.returncode, gw.log_tail()))
        if all(gw.registered(db) for gw in gateways):
            return
        if time.time() > deadline:
            raise RuntimeError("gateways did not register within %d s" % timeout)
        time.sleep(0.2)


def sleep_until(at_ms):
    time.sleep(max(0.0, (at_ms - now_ms()) / 1000.0))


def pct(values, fraction):
    return workloads.percentile(values, fraction)


def measure(url, seconds):
    workdir = tempfile.mkdtemp(prefix="wf-bench-sched-")
    host = hosts.cpython_host(url, executes=False)
    engine = Engine(host, EngineConfig(executor_id="bench-observer", listen=False))
    engine.prepare()
    runtime.install(engine)
    db = host.db
    gateways = [Gateway(url, e, workdir) for e in EXECUTORS]
    out = {"host": "3 gateways (jython+jdbc)", "db": "postgresql", "sched_acc_seconds": seconds}
    try:
        for gw in gateways:
            gw.spawn()
        wait_registered(db, gateways, 300)
        resp = admin.createSchedule(scheduleName=SCHEDULE, workflowName="b.fired", cron="* * * * * *",
                                    queueName="b.sched")
        if not resp["ok"]:
            raise RuntimeError("createSchedule: %s" % resp)
        first = int(resp["data"]["nextFireAt"])
        last = first + (seconds - 1) * 1000
        sleep_until(first + seconds * 1000 // 2)
        latest = db.query("SELECT executor_id FROM workflows.workflow_status WHERE schedule_name = ? AND executor_id "
                          "IS NOT NULL ORDER BY scheduled_at DESC LIMIT 1", (SCHEDULE,))
        victim = [gw for gw in gateways if latest and gw.executor_id == latest[0][0]] or [gateways[0]]
        victim = victim[0]
        victim.kill9()
        killed = now_ms()
        time.sleep(RESTART_AFTER_S)
        victim.spawn()
        rejoined = None
        while now_ms() < last + 1500:
            if rejoined is None and victim.registered(db):
                rejoined = now_ms()
            time.sleep(0.2)
        if not admin.pauseSchedule(scheduleName=SCHEDULE)["ok"]:
            raise RuntimeError("pauseSchedule refused")
        deadline = time.time() + 60
        while time.time() < deadline and int(db.query(
                "SELECT count(*) FROM workflows.workflow_status WHERE schedule_name = ? AND scheduled_at BETWEEN ? AND "
                "? AND claimed_at IS NULL", (SCHEDULE, first, last))[0][0]):
            time.sleep(0.2)
        if rejoined is None and victim.registered(db):
            rejoined = now_ms()
        rows = db.query("SELECT scheduled_at, created_at, claimed_at, executor_id FROM workflows.workflow_status "
                        "WHERE schedule_name = ? ORDER BY scheduled_at", (SCHEDULE,))
        out.update(figures(rows, first, last))
        out["sched_acc_killed"] = {"executor": victim.executor_id, "at_s": (killed - first) / 1000.0,
                                   "restarted_after_s": RESTART_AFTER_S,
                                   "rejoined_after_s": (rejoined - killed) / 1000.0 if rejoined else None}
    finally:
        for gw in gateways:
            gw.stop()
        runtime.uninstall()
        host.close()
    return out


def figures(rows, first, last):
    expected = list(range(first, last + 1, 1000))
    window = [(int(s), int(c), int(k) if k is not None else None, e) for s, c, k, e in rows if first <= int(s) <= last]
    per_fire = {}
    for scheduled, _, _, _ in window:
        per_fire[scheduled] = per_fire.get(scheduled, 0) + 1
    missing = [t for t in expected if t not in per_fire]
    duplicated = [t for t, n in per_fire.items() if n > 1]
    off_grid = [t for t in per_fire if (t - first) % 1000]
    claims = [k - s for s, _, k, _ in window if k is not None]
    writes = [c - s for s, c, _, _ in window]
    executors = {}
    for _, _, _, e in window:
        executors[e or "-"] = executors.get(e or "-", 0) + 1
    worst = sorted([(k - s, (s - first) // 1000, e) for s, _, k, e in window if k is not None], reverse=True)[:3]
    p99 = pct(claims, 0.99)
    # the first fire: the gateways learn of a schedule made in another process at their next full tick
    first_claim = [k - s for s, _, k, _ in window if s == first and k is not None]
    return {"sched_acc_fires_expected": len(expected), "sched_acc_runs": len(window),
            "sched_acc_missing": len(missing), "sched_acc_duplicated": len(duplicated),
            "sched_acc_off_grid": len(off_grid),
            "sched_acc_missing_or_duplicated": len(missing) + len(duplicated) + len(off_grid),
            "sched_acc_unclaimed": len(window) - len(claims),
            "sched_acc_claim_ms": {"p50": pct(claims, 0.5), "p99": p99, "max": max(claims) if claims else None},
            "sched_acc_claim_p99_ms": p99,
            "sched_acc_first_fire_claim_ms": first_claim[0] if first_claim else None,
            "sched_acc_claim_p99_of_tick": p99 / float(TICK_MS) if p99 is not None else None,
            "sched_acc_written_ms": {"p50": pct(writes, 0.5), "p99": pct(writes, 0.99),
                                     "max": max(writes) if writes else None},
            "sched_acc_executors": executors,
            "sched_acc_worst": ["fire %d s: %d ms (%s)" % (n, ms, e) for ms, n, e in worst],
            "sched_acc_missing_at_s": [(t - first) // 1000 for t in missing][:20],
            "sched_acc_duplicated_at_s": [(t - first) // 1000 for t in duplicated][:20]}


def main(argv):
    url, target = argv[0], argv[1]
    seconds = 20 if "--quick" in argv else 60
    figures_ = measure(url, seconds)
    with open(target, "w") as handle:
        handle.write(json.dumps(figures_, indent=2, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
