"""The soak variant of the multi-gateway tests: a steady load for minutes while gateways are killed and restarted
and the database is restarted under them. Off by default: `--soak` (see multi/soak_plugin.py) or WORKFLOWS_SOAK=1.

WORKFLOWS_SOAK_SECONDS (default 600) is how long the load and the faults go on; WORKFLOWS_SOAK_SEED picks them.
"""
import itertools
import json
import os
import random
import time

import pytest

from multi import flows, soak_plugin
from multi.fixtures import private_cluster, private_pg_server  # noqa: F401 - fixtures
from multi.intervals import max_overlap, overlapping_pairs

PARTITIONS = ["line-%d/reactor-%d" % (line, reactor) for line in range(3) for reactor in range(4)]


def _start(cluster, name, **kwargs):
    """service.start, waiting out DB_UNAVAILABLE while the server restarts (a client retries like this too)."""
    deadline = time.time() + 120
    while True:
        resp = cluster.start(name, expect_ok=False, **kwargs)
        if resp["ok"]:
            return resp["data"]["workflowId"]
        assert resp["code"] == "DB_UNAVAILABLE" and time.time() < deadline, resp
        time.sleep(0.5)


def _fault(cluster, kind, rng):
    """One fault; returns a line for the test's record of what happened."""
    if kind == "database":
        cluster.server.stop("fast")
        time.sleep(2.0)  # shorter than the lease: no gateway may look dead because of it
        cluster.server.start()
        return "database restarted"
    gw = rng.choice([g for g in cluster.gateways if g.alive()])
    if kind == "kill":
        gw.kill9()
    else:
        gw.stop()
    gw.spawn()
    cluster.wait_ready([gw], 180)
    return "%s %s and restarted" % (gw.executor_id, "killed (-9)" if kind == "kill" else "stopped cleanly")


@pytest.mark.soak
def test_soak_steady_load_while_gateways_are_killed_and_the_database_restarts(private_cluster, request):
    if not soak_plugin.enabled(request.config):
        pytest.skip("soak variant: run with --soak or WORKFLOWS_SOAK=1")
    cluster = private_cluster
    seconds = float(os.environ.get("WORKFLOWS_SOAK_SECONDS", "600"))
    rng = random.Random(int(os.environ.get("WORKFLOWS_SOAK_SEED", "1")))
    cluster.launch(["gw1", "gw2", "gw3"], lease_ms=5000)
    faults = itertools.cycle(["kill", "database", "stop"])
    interval_runs, step_runs, happened = [], [], []
    next_fault = time.time() + 15
    end = time.time() + seconds
    while time.time() < end:
        waiting = cluster.query("SELECT count(*) FROM workflows.workflow_status WHERE status = 'ENQUEUED'")[0][0]
        if waiting < 100:  # a steady load, not an ever-growing backlog
            for _ in range(10):
                partition = rng.choice(PARTITIONS)
                interval_runs.append(_start(cluster, "m.interval", queueName="m.partitioned", partitionKey=partition,
                                            params={"partition": partition, "seconds": 0.05}))
            for _ in range(5):
                step_runs.append(_start(cluster, "m.steps", queueName="m.free",
                                        params={"count": 4, "seconds": rng.choice([0.05, 0.2, 0.5])}))
        if time.time() >= next_fault:
            happened.append(_fault(cluster, next(faults), rng))
            next_fault = time.time() + rng.uniform(10, 25)
        time.sleep(1.0)

    runs = cluster.wait_finished(interval_runs + step_runs, timeout=900)

    summary = "%d runs, faults: %s" % (len(runs), "; ".join(happened))
    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"], summary
    active = [(runs[w]["started_at"], runs[w]["completed_at"]) for w in interval_runs]
    assert max_overlap(active)[0] <= flows.PARTITIONED_CONCURRENCY, summary
    by_partition = {}
    for wid in interval_runs:
        run = runs[wid]
        by_partition.setdefault(run["partition_key"], []).append((run["started_at"], run["completed_at"], wid))
    assert overlapping_pairs(by_partition) == [], summary
    executions = {}
    for entry in cluster.side("exec"):
        executions.setdefault((entry["wid"], entry["index"]), []).append(entry["token"])
    checkpoints = cluster.checkpoints(step_runs)
    for wid in step_runs:
        assert [c[0] for c in checkpoints[wid]] == [1, 2, 3, 4], (wid, summary)
        for function_id, _, _, output, _ in checkpoints[wid]:
            tokens = executions[(wid, function_id - 1)]
            assert tokens[-1] == json.loads(output)["token"], (wid, function_id, summary)
            assert len(tokens) <= 1 + runs[wid]["recovery_attempts"], (wid, function_id, summary)
