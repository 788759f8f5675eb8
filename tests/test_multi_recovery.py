"""Recovery across gateways: kill -9, clean stops, restarts, runs that keep crashing their gateway.

What a checkpoint means is checked against the side channel: every execution of a numbered step (m.steps) leaves
a token, the checkpoint keeps the token of the execution it recorded, so "no step whose checkpoint was written is
executed again" reads: for every step, the recorded execution is the last one.
"""
import json
import os
import signal
import time

from multi import flows
from multi.cluster import TERMINAL, now_ms
from multi.fixtures import cluster  # noqa: F401 - a fixture
from multi.intervals import max_overlap


def _executions(cluster):
    """{(wid, index): [side-channel records of m.steps / m.gated numbered steps, oldest first]}"""
    found = {}
    for entry in cluster.side("exec"):
        found.setdefault((entry["wid"], entry["index"]), []).append(entry)
    return found


def _busy_with_checkpoints(cluster, executor_id, at_least):
    """Runs RUNNING on the executor with at least one step recorded: the middle of multi-step work."""
    rows = cluster.query(
        "SELECT s.workflow_uuid FROM workflows.workflow_status s WHERE s.executor_id = %s AND s.status = 'RUNNING' "
        "AND EXISTS (SELECT 1 FROM workflows.operation_outputs o WHERE o.workflow_uuid = s.workflow_uuid)",
        (executor_id,))
    return len(rows) >= at_least


def _executing_on(cluster, executor_id):
    return set(r[0] for r in cluster.query("SELECT workflow_uuid FROM workflows.workflow_status WHERE executor_id = %s "
                                           "AND status IN ('PENDING', 'RUNNING')", (executor_id,)))


def _assert_finished_and_not_continued_by_gw1(cluster, wids, taken, resumed, steps):
    """Every run succeeds; gw1, woken at `resumed`, started no step of the runs `taken` from it."""
    runs = cluster.wait_finished(wids, timeout=300)
    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"]
    late = [(e["wid"], e["index"]) for e in cluster.side("exec")
            if e["exe"] == "gw1" and e["wid"] in taken and e["t"] > resumed]
    assert late == [], "gw1 went on with runs it had lost, starting steps %s after it woke up" % late
    _check_no_recorded_step_ran_again(cluster, wids, steps)


def _check_no_recorded_step_ran_again(cluster, wids, steps):
    """Every run has its `steps` checkpoints; each one recorded the last execution of its step. Returns re-runs."""
    checkpoints = cluster.checkpoints(wids)
    executions = _executions(cluster)
    rerun = {}
    for wid in wids:
        assert [c[0] for c in checkpoints[wid]] == list(range(1, steps + 1)), (wid, checkpoints[wid])
        for function_id, name, status, output, completed_at in checkpoints[wid]:
            index = function_id - 1
            runs = executions.get((wid, index), [])
            assert runs, "step %d of %s is recorded but never ran" % (index, wid)
            recorded = json.loads(output)["token"]
            assert runs[-1]["token"] == recorded, (
                "step %d of %s ran again after the execution its checkpoint recorded: %s" % (index, wid, runs))
            if len(runs) > 1:
                rerun.setdefault(wid, []).append(index)
    return rerun


def test_kill9_of_one_gateway_mid_batch_the_others_finish_every_run_and_rerun_no_recorded_step(cluster):
    lease_ms = 4000
    victim, second, third = cluster.launch(["gw1", "gw2", "gw3"], lease_ms=lease_ms)
    wids = [cluster.start("m.steps", queueName="m.free", params={"count": 6, "seconds": 0.25}) for _ in range(50)]
    cluster.wait(lambda: _busy_with_checkpoints(cluster, "gw1", 3), 120, "gw1 to be in the middle of 3 runs")

    victim.kill9()
    at_kill = dict(cluster.query("SELECT workflow_uuid, status FROM workflows.workflow_status WHERE executor_id = 'gw1' "
                                 "AND status IN ('PENDING', 'RUNNING')"))
    orphans = set(at_kill)
    assert list(at_kill.values()).count("RUNNING") >= 3

    runs = cluster.wait_finished(wids, timeout=300)

    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"]
    last_heartbeat = cluster.query("SELECT heartbeat_at FROM workflows.executors WHERE executor_id = 'gw1'")[0][0]
    for wid in orphans:
        run = runs[wid]
        # an interrupted execution counts as a recovery attempt; a run claimed but not yet begun does not
        assert run["executor_id"] in ("gw2", "gw3"), run
        assert run["recovery_attempts"] == (1 if at_kill[wid] == "RUNNING" else 0), (at_kill[wid], run)
        if at_kill[wid] == "RUNNING":  # what an operator reads in the run's log: who executed it, in turn
            began = [e.get("executor") for e in cluster.log(wid) if e.get("kind") == "status" and
                     e.get("status") == "RUNNING"]
            assert began == ["gw1", run["executor_id"]], began
            logs = second.log_tail(100000) + third.log_tail(100000)
            assert "took over run %s from executor gw1 (recovery attempt 1)" % wid in logs
        assert run["claimed_at"] > last_heartbeat + lease_ms, "recovered before gw1's lease ran out"
    assert all(runs[w]["recovery_attempts"] == 0 for w in wids if w not in orphans)

    rerun = _check_no_recorded_step_ran_again(cluster, wids, 6)
    # only the step each orphan was executing when gw1 died can have run twice
    assert set(rerun) <= orphans
    assert all(len(indexes) == 1 for indexes in rerun.values()), rerun
    executions = _executions(cluster)
    for wid, (index,) in rerun.items():
        assert [e["exe"] for e in executions[(wid, index)]][0] == "gw1"


def test_a_gateway_stopped_cleanly_hands_its_runs_over_at_once_and_nothing_runs_twice(cluster):
    lease_ms = 120000  # a hand-over that waited for the lease would fail the wait below
    leaving, staying = cluster.launch(["gw1", "gw2"], lease_ms=lease_ms)
    wids = [cluster.start("m.steps", queueName="m.free", params={"count": 6, "seconds": 0.3}) for _ in range(24)]
    cluster.wait(lambda: _busy_with_checkpoints(cluster, "gw1", 2), 120, "gw1 to be in the middle of 2 runs")

    stopped_ms = now_ms()
    leaving.stop()  # SIGTERM: running steps finish, their runs are handed back, the executor is marked stopped

    assert cluster.query("SELECT state FROM workflows.executors WHERE executor_id = 'gw1'")[0][0] == "stopped"
    assert cluster.query("SELECT count(*) FROM workflows.workflow_status WHERE executor_id = 'gw1' AND "
                         "status = 'RUNNING'")[0][0] == 0
    runs = cluster.wait_finished(wids, timeout=90)

    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"]
    assert max(r["completed_at"] for r in runs.values()) - stopped_ms < lease_ms
    handed_over = [r for r in runs.values() if r["run_count"] > 1]
    assert handed_over and all(r["executor_id"] == "gw2" for r in handed_over)
    assert all(r["recovery_attempts"] == 0 for r in runs.values())  # a hand-over is not a crash
    assert _check_no_recorded_step_ran_again(cluster, wids, 6) == {}  # every step ran exactly once


def test_a_gateway_restarted_after_kill9_takes_its_own_runs_back_at_once_not_after_the_lease(cluster):
    lease_ms = 120000
    gateway = cluster.launch(["gw1"], lease_ms=lease_ms)[0]
    wids = [cluster.start("m.gated", queueName="m.free", params={"gate": "restart", "after": 2}) for _ in range(4)]
    cluster.wait(lambda: len(cluster.side("gate")) == 4, 120, "4 runs to wait at their gate")

    gateway.kill9()
    cluster.open_gate("restart")
    restarted_ms = now_ms()
    gateway.spawn()
    cluster.wait_ready([gateway], 120)
    runs = cluster.wait_finished(wids, timeout=90)  # well inside the 120 s lease

    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"]
    assert all((r["executor_id"], r["run_count"], r["recovery_attempts"]) == ("gw1", 2, 1) for r in runs.values())
    assert max(r["completed_at"] for r in runs.values()) - restarted_ms < lease_ms
    gates = {}
    for entry in cluster.side("gate"):
        gates[entry["wid"]] = gates.get(entry["wid"], 0) + 1
    assert gates == dict((w, 2) for w in wids)  # the step in flight at the kill ran again; it was not recorded
    executions = _executions(cluster)
    assert all(len(executions[(w, index)]) == 1 for w in wids for index in range(3))


def test_a_run_that_keeps_crashing_its_gateway_ends_after_max_recovery_attempts_and_frees_its_slot(cluster):
    limit = 2
    crasher = cluster.start("m.crasher", queueName="m.serial", partitionKey="reactor-x")
    behind = cluster.start("m.quick", queueName="m.serial", partitionKey="reactor-x")
    options = {"lease_ms": 3000, "max_recovery_attempts": limit}
    for name in ("gw-1", "gw-2"):  # not launch(): the first to claim the run may die before it is seen registered
        cluster.gateway(name, **options).spawn()
    launched = [2]

    def crasher_ended():
        for gw in list(cluster.gateways):  # a supervisor: every gateway the run kills is replaced by a new one
            if gw.launches and not gw.alive() and not getattr(gw, "replaced", False):
                gw.replaced = True
                launched[0] += 1
                cluster.gateway("gw-%d" % launched[0], **options).spawn()
        return cluster.runs([crasher])[crasher]["status"] == "MAX_RECOVERY_ATTEMPTS_EXCEEDED"
    cluster.wait(crasher_ended, 300, "the crashing run to give up")

    runs = cluster.wait_finished([crasher, behind], timeout=120)
    run = runs[crasher]
    assert run["recovery_attempts"] == limit + 1
    error = json.loads(run["error"])
    assert error["type"] == "MaxRecoveryAttemptsExceeded" and "limit %d" % limit in error["message"]
    assert run["phase"] == "ABORTED"
    last = cluster.log(crasher)[-1]
    assert (last["kind"], last["status"], last["reason"]) == ("status", "MAX_RECOVERY_ATTEMPTS_EXCEEDED",
                                                              error["message"])
    assert len(cluster.side("crash")) == limit + 1  # the first execution and `limit` recoveries, then no more
    assert len(_executions(cluster)[(crasher, 0)]) == 1  # its recorded first step never ran again
    assert cluster.status_history([crasher])[crasher] == (
        ["ENQUEUED"] + ["RUNNING"] * (limit + 1) + ["MAX_RECOVERY_ATTEMPTS_EXCEEDED"])
    # its queue slot (m.serial: concurrency 1) and its partition were freed
    assert runs[behind]["status"] == "SUCCESS"
    assert runs[behind]["started_at"] >= run["completed_at"]


def test_a_gateway_paused_past_its_lease_records_nothing_for_the_runs_taken_from_it(cluster):
    """SIGSTOP (a long GC pause, a frozen VM) past the lease: another gateway recovers the runs. After SIGCONT the
    paused one may finish the step it was in - user code cannot be taken back - but must not record it nor go on
    with the run: the new owner is executing that same step."""
    lease_ms = 3000
    paused, _ = cluster.launch(["gw1", "gw2"], lease_ms=lease_ms)
    wids = [cluster.start("m.steps", queueName="m.per_gateway", params={"count": 3, "seconds": 2.0})
            for _ in range(4)]  # at most 2 per gateway: each one claims 2
    cluster.wait(lambda: _busy_with_checkpoints(cluster, "gw1", 2), 120, "gw1 to be in the middle of 2 runs")

    os.kill(paused.proc.pid, signal.SIGSTOP)
    try:
        taken = _executing_on(cluster, "gw1")
        cluster.wait(lambda: not _executing_on(cluster, "gw1") & taken, 120, "gw2 to recover gw1's runs")
    finally:
        resumed = time.time()  # gw2 has just begun the 2 s step gw1 was in when it froze
        os.kill(paused.proc.pid, signal.SIGCONT)

    _assert_finished_and_not_continued_by_gw1(cluster, wids, taken, resumed, 3)


def test_recovered_runs_wait_for_the_queues_per_gateway_limit_on_the_gateway_that_takes_them(cluster):
    seconds = 1.0
    victim, survivor = cluster.launch(["gw1", "gw2"], lease_ms=3000)
    wids = [cluster.start("m.steps", queueName="m.per_gateway", params={"count": 6, "seconds": seconds})
            for _ in range(4)]  # at most 2 per gateway: each one claims 2
    cluster.wait(lambda: _busy_with_checkpoints(cluster, "gw1", flows.PER_GATEWAY), 120, "gw1 to be mid-run")

    victim.kill9()
    runs = cluster.wait_finished(wids, timeout=300)

    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"]
    spans = {}  # (wid, executor) -> [first step start, last step end] on that executor
    for entry in cluster.side("exec"):
        key = (entry["wid"], entry["exe"])
        first, last = spans.get(key, (entry["t"], entry["t"]))
        spans[key] = (min(first, entry["t"]), max(last, entry["t"] + seconds))
    on_survivor = [span for (wid, exe), span in spans.items() if exe == "gw2"]
    busiest, when = max_overlap(on_survivor)
    assert busiest <= flows.PER_GATEWAY, "gw2 executed %d runs of m.per_gateway at %s" % (busiest, when)


def test_runs_handed_over_by_clean_stops_are_not_counted_as_recovery_attempts(cluster):
    gateways = dict((gw.executor_id, gw) for gw in cluster.launch(["gw1", "gw2"], lease_ms=120000,
                                                                   max_recovery_attempts=1))
    wid = cluster.start("m.steps", queueName="m.free", params={"count": 30, "seconds": 0.5})

    def moved_on(away_from, done):
        run = cluster.runs([wid])[wid]
        if run["status"] in TERMINAL:
            return True
        return run["status"] == "RUNNING" and run["executor_id"] not in (None, away_from) and len(cluster.checkpoints([wid])[wid]) > done

    holder = None
    for _ in range(2):  # a rolling restart: stop the gateway executing the run and start it again at once
        cluster.wait(lambda: moved_on(holder, 0), 120, "the run to be executing on a gateway")
        holder = cluster.runs([wid])[wid]["executor_id"]
        done = len(cluster.checkpoints([wid])[wid])
        gateways[holder].stop()
        gateways[holder].spawn()
        cluster.wait(lambda: moved_on(holder, done), 180, "the other gateway to go on with the run")

    run = cluster.wait_finished([wid], timeout=180)[wid]
    assert (run["status"], run["recovery_attempts"]) == ("SUCCESS", 0), run
    assert _check_no_recorded_step_ran_again(cluster, [wid], 30) == {}


def test_a_second_process_started_with_a_live_gateways_executor_id_refuses_to_start_and_the_first_goes_on(cluster):
    """A mistake an operator can make (two gateways given one id): the second says so and exits, nothing moves."""
    first = cluster.launch(["shared"], lease_ms=120000)[0]
    wids = [cluster.start("m.gated", queueName="m.free", params={"gate": "twin", "after": 2}) for _ in range(3)]
    cluster.wait(lambda: len(cluster.side("gate")) == 3, 120, "3 runs to wait at their gate")

    second = cluster.gateway("shared", lease_ms=120000).spawn()
    assert second.wait_exit(120) == 2, second.log_tail()
    refusal = [line for line in second.log_tail(200).splitlines() if "in use" in line]
    assert len(refusal) == 1 and "shared" in refusal[0] and "--executor-id" in refusal[0], second.log_tail()
    assert "Traceback" not in second.log_tail(200)
    cluster.open_gate("twin")
    runs = cluster.wait_finished(wids, timeout=120)
    later = [cluster.start("m.quick", queueName="m.free") for _ in range(4)]
    cluster.wait_finished(later, timeout=120)

    assert first.alive()
    assert "stops dispatching" not in first.log_tail(200)
    assert all((r["status"], r["run_count"], r["executor_id"]) == ("SUCCESS", 1, "shared") for r in runs.values())
    executions = _executions(cluster)
    for wid in wids:
        for index in range(3):
            assert [e["pid"] for e in executions[(wid, index)]] == [first.proc.pid]
    assert all([e["pid"] for e in executions[(wid, 0)]] == [first.proc.pid] for wid in later)
    instance = cluster.query("SELECT state FROM workflows.executors WHERE executor_id = 'shared'")
    assert instance == [("running",)]


def test_a_gateway_paused_between_steps_past_its_lease_starts_no_step_of_the_runs_taken_from_it(cluster):
    """Paused in workflow code between two steps (m.paced sleeps there), the gateway wakes up after the new owner
    has recorded the next step: it must not execute that step again."""
    paused, _ = cluster.launch(["gw1", "gw2"], lease_ms=3000)
    wids = [cluster.start("m.paced", queueName="m.per_gateway", params={"count": 4, "pause": 2.0})
            for _ in range(4)]  # at most 2 per gateway: each one claims 2
    cluster.wait(lambda: _busy_with_checkpoints(cluster, "gw1", 2), 120, "gw1 to be between steps of 2 runs")

    os.kill(paused.proc.pid, signal.SIGSTOP)
    try:
        taken = _executing_on(cluster, "gw1")
        recorded = dict((w, len(c)) for w, c in cluster.checkpoints(taken).items())
        cluster.wait(lambda: all(len(c) > recorded[w] for w, c in cluster.checkpoints(taken).items()), 120,
                     "gw2 to take gw1's runs over and record their next step")
    finally:
        resumed = time.time()
        os.kill(paused.proc.pid, signal.SIGCONT)

    _assert_finished_and_not_continued_by_gw1(cluster, wids, taken, resumed, 4)


def _children(cluster, wid):
    return [r[0] for r in cluster.query("SELECT workflow_uuid FROM workflows.workflow_status WHERE parent_uuid = %s "
                                        "ORDER BY created_at", (wid,))]


def test_a_procedure_whose_gateway_is_killed_goes_on_elsewhere_and_no_unit_starts_twice(cluster):
    """The parent starts its units, which spread over two gateways; the parent's gateway is killed before it
    awaits them: the other gateway replays it (the same children, none started again), takes the lost unit over,
    and the procedure ends with every recorded step of every unit executed once."""
    gw1 = cluster.launch(["gw1"])[0]
    wid = cluster.start("m.procedure", queueName="m.free", params={"units": 2, "count": 3, "seconds": 0.1})
    cluster.wait(lambda: len([e for e in cluster.side("gate") if e["wid"] == wid]) == 1, 120,
                 "the procedure to start its units and reach its gate")
    children = _children(cluster, wid)
    assert len(children) == 2
    gw2 = cluster.launch(["gw2"])[0]
    cluster.wait(lambda: len(cluster.side("gate")) == 3, 120, "one unit at its gate on each gateway")
    assert set(r["executor_id"] for r in cluster.runs(children).values()) == set(["gw1", "gw2"])
    gw1.kill9()
    cluster.open_gate("units")
    cluster.open_gate("procedure")
    runs = cluster.wait_finished([wid] + children, timeout=180)
    assert runs[wid]["status"] == "SUCCESS", cluster.diagnostics()
    assert all(runs[c]["status"] == "SUCCESS" for c in children)
    assert (runs[wid]["executor_id"], runs[wid]["recovery_attempts"]) == ("gw2", 1)
    assert _children(cluster, wid) == children  # the replay found its children: none started again
    executions = _executions(cluster)
    checkpoints = cluster.checkpoints(children)
    for child in children:
        numbered = [c for c in checkpoints[child] if c[1] == "s"]
        assert len(numbered) == 3
        for index, (_, _, _, output, _) in enumerate(numbered):
            assert executions[(child, index)][-1]["token"] == json.loads(output)["token"]
        assert all(len(executions[(child, index)]) == 1 for index in (1, 2))  # after the gate: once
    assert gw2.alive()


def test_a_unit_ending_on_one_gateway_wakes_its_procedure_waiting_for_the_other(cluster):
    gws = cluster.launch(["gw1", "gw2"])
    cluster.open_gate("units")
    cluster.open_gate("procedure")
    wid = cluster.start("m.procedure", queueName="m.free", params={"units": 2, "count": 6, "seconds": 0.2})
    runs = cluster.wait_finished([wid], timeout=120)
    assert runs[wid]["status"] == "SUCCESS", cluster.diagnostics()
    children = cluster.runs(_children(cluster, wid))
    assert set(r["executor_id"] for r in children.values()) == set(["gw1", "gw2"])
    ended = max(r["completed_at"] for r in children.values())
    assert runs[wid]["completed_at"] - ended < 1000  # woken by the unit's end, not by a lease or a sweep
    assert all(g.alive() for g in gws)
