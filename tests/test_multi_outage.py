"""A PostgreSQL outage under several gateways: the server is stopped and started again mid-batch.

The shared server on 127.0.0.1:5432 serves other sessions, so these tests run their own private PostgreSQL 15
instance (multi.private_pg) and restart that one.
"""
import json
import os
import signal
import time

from multi.fixtures import private_cluster, private_pg_server  # noqa: F401 - fixtures

STEPS = 6


def _finished_step_log(cluster, wids):
    """{wid: [function ids of the 'step finished' log entries, in offset order]}"""
    out = dict((w, []) for w in wids)
    for wid, value in cluster.query("SELECT workflow_uuid, value FROM workflows.streams WHERE key = 'log' AND "
                                    "workflow_uuid = ANY(%s) ORDER BY workflow_uuid, \"offset\"", (wids,)):
        entry = json.loads(value)
        if entry.get("kind") == "step" and entry.get("event") == "finished":
            out[wid].append(entry["functionId"])
    return out


def _both_mid_run():
    return ("SELECT count(DISTINCT s.executor_id) FROM workflows.workflow_status s WHERE s.status = 'RUNNING' AND "
            "EXISTS (SELECT 1 FROM workflows.operation_outputs o WHERE o.workflow_uuid = s.workflow_uuid)")


def _outage_mid_batch(cluster, stop_mode, outage_s, lease_ms, count, seconds=0.4):
    """Two gateways execute `count` runs of STEPS steps; the server goes down for `outage_s` once both are mid-run."""
    gateways = cluster.launch(["gw1", "gw2"], lease_ms=lease_ms)
    wids = [cluster.start("m.steps", queueName="m.free", params={"count": STEPS, "seconds": seconds})
            for _ in range(count)]
    cluster.wait(lambda: cluster.query(_both_mid_run())[0][0] == 2, 180, "both gateways to be in the middle of runs")

    cluster.server.stop(stop_mode)
    time.sleep(outage_s)  # steps finish meanwhile and cannot record; ticks cannot heartbeat nor claim
    cluster.server.start()

    runs = cluster.wait_finished(wids, timeout=300)

    assert all(gw.alive() for gw in gateways), cluster.diagnostics()
    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"]
    assert cluster.query("SELECT count(*) FROM workflows.workflow_status")[0][0] == len(wids)
    checkpoints = cluster.checkpoints(wids)
    assert all([c[0] for c in checkpoints[w]] == list(range(1, STEPS + 1)) for w in wids)
    history = cluster.status_history(wids)
    assert all(h[0] == "ENQUEUED" and h[-1] == "SUCCESS" and h.count("SUCCESS") == 1 for h in history.values())
    finished = _finished_step_log(cluster, wids)
    assert all(finished[w] == list(range(1, STEPS + 1)) for w in wids), "a retried write was recorded twice"
    logs = "".join(gw.log_tail(400) for gw in gateways)
    assert "database unreachable" in logs
    return wids, runs, checkpoints


def _executions(cluster):
    found = {}
    for entry in cluster.side("exec"):
        found.setdefault((entry["wid"], entry["index"]), []).append(entry)
    return found


def _assert_every_step_ran_once_on_its_first_gateway(cluster, wids, runs, checkpoints):
    executions = _executions(cluster)
    for wid in wids:
        for function_id, _, _, output, _ in checkpoints[wid]:
            tokens = [e["token"] for e in executions[(wid, function_id - 1)]]
            assert tokens == [json.loads(output)["token"]], (wid, function_id, tokens)
    assert all(r["recovery_attempts"] == 0 for r in runs.values())
    assert all(runs[w]["executor_id"] == executions[(w, 0)][0]["exe"] for w in wids)  # no run changed gateway


def test_postgresql_restarted_mid_batch_every_run_finishes_and_every_step_runs_once(private_cluster):
    wids, runs, checkpoints = _outage_mid_batch(private_cluster, "fast", 3.0, lease_ms=30000, count=40)
    _assert_every_step_ran_once_on_its_first_gateway(private_cluster, wids, runs, checkpoints)


def test_postgresql_crashing_mid_batch_every_run_finishes_and_every_step_runs_once(private_cluster):
    """`pg_ctl stop -m immediate`: no clean shutdown; the server runs crash recovery when it starts again."""
    wids, runs, checkpoints = _outage_mid_batch(private_cluster, "immediate", 3.0, lease_ms=30000, count=40)
    _assert_every_step_ran_once_on_its_first_gateway(private_cluster, wids, runs, checkpoints)


def _placed(cluster, on, other, count, seconds):
    """Start `count` m.steps runs that `on` claims: `other` is paused (SIGSTOP, well inside the lease) meanwhile."""
    os.kill(other.proc.pid, signal.SIGSTOP)
    try:
        wids = [cluster.start("m.steps", queueName="m.free", params={"count": STEPS, "seconds": seconds})
                for _ in range(count)]
        cluster.wait(lambda: all(r["status"] == "RUNNING" for r in cluster.runs(wids).values()), 60,
                     "%s to claim %d runs" % (on.executor_id, count))
    finally:
        os.kill(other.proc.pid, signal.SIGCONT)
    return wids


def _outage_longer_than_the_lease(cluster):
    """Each gateway executes 2 runs (6 steps of 2 s) of a queue without limits and has free workers; the server
    goes down for 8 s, longer than the 5 s lease, so the first gateway back sees the other's heartbeat stale."""
    gw1, gw2 = cluster.launch(["gw1", "gw2"], lease_ms=5000)
    wids = _placed(cluster, gw1, gw2, 2, 2.0) + _placed(cluster, gw2, gw1, 2, 2.0)
    cluster.wait(lambda: cluster.query(_both_mid_run())[0][0] == 2, 180, "both gateways to be in the middle of runs")

    cluster.server.stop("fast")
    time.sleep(8.0)
    cluster.server.start()
    runs = cluster.wait_finished(wids, timeout=300)

    assert all(gw.alive() for gw in (gw1, gw2)), cluster.diagnostics()
    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"]
    checkpoints = cluster.checkpoints(wids)
    assert all([c[0] for c in checkpoints[w]] == list(range(1, STEPS + 1)) for w in wids)
    finished = _finished_step_log(cluster, wids)
    assert all(finished[w] == list(range(1, STEPS + 1)) for w in wids), "a retried write was recorded twice"
    return wids, runs, checkpoints, _executions(cluster)


def test_an_outage_longer_than_the_lease_moves_no_run_from_a_live_gateway(private_cluster):
    """Every gateway was blind for longer than the lease, none was dead: after the outage each one gives the others
    a lease to heartbeat again, so every run finishes where it was, each step having run once."""
    wids, runs, checkpoints, executions = _outage_longer_than_the_lease(private_cluster)

    assert [(runs[w]["executor_id"], runs[w]["recovery_attempts"]) for w in wids] == [
        (executions[(w, 0)][0]["exe"], 0) for w in wids], "runs were taken from a gateway that was alive"
    for wid in wids:
        for function_id, _, _, output, _ in checkpoints[wid]:
            tokens = [e["token"] for e in executions[(wid, function_id - 1)]]
            assert tokens == [json.loads(output)["token"]], (wid, function_id, tokens)
