"""Queues across several gateways: real `./gateway run` processes on one PostgreSQL database.

Each test launches Jython gateways (multi.cluster), starts runs from this process as a client scope would, and
checks what the gateways did through the database and through the side channel each step writes (multi.flows).
"""
import json
import os
import random
import subprocess
import threading
import time

from conftest import spawn
from multi import flows
from multi.cluster import ROOT
from multi.fixtures import cluster  # noqa: F401 - a fixture
from multi.intervals import busiest_window, max_overlap, overlapping_pairs


def _intervals(cluster, wids):
    """{wid: (start, end, partition, executor)} from the start/end marks of m.interval runs (one pair per run)."""
    starts, ends = {}, {}
    for entry in cluster.side("start"):
        starts.setdefault(entry["wid"], []).append(entry)
    for entry in cluster.side("end"):
        ends.setdefault(entry["wid"], []).append(entry)
    twice = [w for w in wids if len(starts.get(w, [])) != 1 or len(ends.get(w, [])) != 1]
    assert not twice, "runs whose start or end mark was not executed exactly once: %s" % twice[:5]
    return dict((w, (starts[w][0]["t"], ends[w][0]["t"], starts[w][0]["partition"], starts[w][0]["exe"]))
                for w in wids)


def test_three_gateways_run_300_runs_one_per_partition_and_within_the_queue_concurrency(cluster):
    cluster.launch(["gw1", "gw2", "gw3"])
    partitions = ["line-%d" % n for n in range(10)]
    blocks = [p for p in partitions for _ in range(10)]  # 10 blocks of 3 runs per partition
    random.Random(4).shuffle(blocks)
    wids = []
    for partition in blocks:
        for _ in range(3):  # neighbours in FIFO order share a partition: a claim ignoring partitions would show
            wids.append(cluster.start("m.interval", queueName="m.partitioned", partitionKey=partition,
                                      params={"partition": partition, "seconds": 0.05}))
    assert len(wids) == 300

    runs = cluster.wait_finished(wids, timeout=600)

    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"]
    assert all(r["run_count"] == 1 and r["recovery_attempts"] == 0 for r in runs.values())
    intervals = _intervals(cluster, wids)
    assert all(intervals[w][2] == runs[w]["partition_key"] for w in wids)
    assert all(intervals[w][3] == runs[w]["executor_id"] for w in wids)

    # the side channel: what the steps did, whatever the engine recorded
    busiest, when = max_overlap([(i[0], i[1]) for i in intervals.values()])
    assert busiest <= flows.PARTITIONED_CONCURRENCY, "%d runs of the queue were executing at %s" % (busiest, when)
    by_partition = {}
    for wid, (start, end, partition, executor) in intervals.items():
        by_partition.setdefault(partition, []).append((start, end, "%s@%s" % (wid, executor)))
    assert overlapping_pairs(by_partition) == []

    # the engine's own record: [started_at, completed_at] of each run (claimed after the previous one ended)
    active = [(r["started_at"], r["completed_at"]) for r in runs.values()]
    busiest, when = max_overlap(active)
    assert busiest <= flows.PARTITIONED_CONCURRENCY, "%d runs RUNNING at %s ms" % (busiest, when)
    by_partition = {}
    for r in runs.values():
        by_partition.setdefault(r["partition_key"], []).append((r["started_at"], r["completed_at"], r["workflow_uuid"]))
    assert overlapping_pairs(by_partition) == []

    # every gateway took part: the limits held across processes, not inside one
    assert sorted(set(r["executor_id"] for r in runs.values())) == ["gw1", "gw2", "gw3"]


def test_lower_priority_runs_first_then_first_in_first_out_across_gateways(cluster):
    for bad in (-1, 1001, 2.5, "high"):
        resp = cluster.start("m.quick", expect_ok=False, queueName="m.serial", priority=bad)
        assert not resp["ok"] and resp["code"] == "INVALID_ARGUMENT" and resp["data"]["field"] == "priority", resp
    unknown = cluster.start("m.quick", expect_ok=False, queueName="m.nowhere")
    assert not unknown["ok"] and unknown["code"] == "UNKNOWN_QUEUE", unknown
    priorities = [5, 1, 3, 1, 100, 0, 5, 3, 0, 1000, 2, 1, None, 100]
    wids = []
    for priority in priorities:  # all queued before any gateway runs: the order is the claims' alone
        wids.append(cluster.start("m.quick", queueName="m.serial", priority=priority))
        time.sleep(0.003)  # distinct created_at, so FIFO among equal priorities is one exact order
    cluster.launch(["gw1", "gw2"])

    runs = cluster.wait_finished(wids, timeout=300)

    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"]
    assert [runs[w]["priority"] for w in wids] == [100 if p is None else p for p in priorities]  # 100: the default
    expected = sorted(wids, key=lambda w: (runs[w]["priority"], runs[w]["created_at"]))
    executed = [e["wid"] for e in cluster.side("exec")]  # m.serial has concurrency 1: one run at a time
    assert executed == expected
    assert sorted(runs, key=lambda w: runs[w]["started_at"]) == expected


def test_rate_limit_caps_the_starts_per_period_across_gateways(cluster):
    cluster.launch(["gw1", "gw2", "gw3"])
    wids = [cluster.start("m.quick", queueName="m.rated") for _ in range(9)]

    runs = cluster.wait_finished(wids, timeout=300)

    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"]
    period_ms = int(flows.RATE_PERIOD_S * 1000)
    claims = [r["claimed_at"] for r in runs.values()]
    busiest, where = busiest_window(claims, period_ms)
    assert busiest <= flows.RATE_LIMIT, "%d claims within %d ms from %s" % (busiest, period_ms, where)
    # 9 starts at 3 per 2 s: at least 2 full periods between the first and the last claim
    assert max(claims) - min(claims) >= 2 * period_ms


def test_worker_concurrency_limits_each_gateway_not_the_whole_queue(cluster):
    cluster.launch(["gw1", "gw2", "gw3"])
    wids = [cluster.start("m.interval", queueName="m.per_gateway", params={"seconds": 0.4}) for _ in range(18)]

    runs = cluster.wait_finished(wids, timeout=300)

    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"]
    intervals = _intervals(cluster, wids)
    per_executor = {}
    for start, end, _, executor in intervals.values():
        per_executor.setdefault(executor, []).append((start, end))
    assert len(per_executor) >= 2, "runs should have spread over the gateways: %s" % sorted(per_executor)
    for executor, items in sorted(per_executor.items()):
        busiest, when = max_overlap(items)
        assert busiest <= flows.PER_GATEWAY, "%s executed %d runs of m.per_gateway at %s" % (executor, busiest, when)
        db_items = [(r["started_at"], r["completed_at"]) for r in runs.values() if r["executor_id"] == executor]
        assert max_overlap(db_items)[0] <= flows.PER_GATEWAY


def test_a_busy_partition_does_not_hold_up_the_other_partitions(cluster):
    cluster.launch(["gw1", "gw2"])
    busy = cluster.start("m.gated", queueName="m.free", partitionKey="reactor-a", params={"gate": "busy", "after": 0})
    cluster.wait(lambda: cluster.side("gate"), 120, "the busy partition's run to reach its gate")
    behind = [cluster.start("m.quick", queueName="m.free", partitionKey="reactor-a") for _ in range(2)]
    others = [cluster.start("m.quick", queueName="m.free", partitionKey="reactor-%d" % (n % 4))
              for n in range(12)]

    cluster.wait_finished(others, timeout=120)

    waiting = cluster.runs(behind + [busy])
    assert waiting[busy]["status"] == "RUNNING"
    assert [waiting[w]["status"] for w in behind] == ["ENQUEUED", "ENQUEUED"]
    cluster.open_gate("busy")
    runs = cluster.wait_finished(behind + [busy], timeout=120)
    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"]
    order = sorted(behind + [busy], key=lambda w: runs[w]["started_at"])
    assert order == [busy] + behind
    assert runs[busy]["completed_at"] <= runs[behind[0]]["started_at"]
    assert runs[behind[0]]["completed_at"] <= runs[behind[1]]["started_at"]


def test_a_deduplication_id_is_refused_while_its_run_is_active_from_any_client(cluster):
    cluster.launch(["gw1", "gw2"])
    first = cluster.start("m.gated", queueName="m.free", deduplicationId="batch-7", params={"gate": "dedup"})
    cluster.wait(lambda: cluster.side("gate"), 120, "the first run to reach its gate")

    again = cluster.start("m.quick", expect_ok=False, queueName="m.free", deduplicationId="batch-7")
    assert not again["ok"] and again["code"] == "WORKFLOW_DUPLICATE" and again["data"]["workflowId"] == first, again
    from_console = _console_starts(cluster, ["batch-7"], "m.free")
    assert from_console == [{"dedup": "batch-7", "code": "WORKFLOW_DUPLICATE", "workflowId": first}]
    other_queue = cluster.start("m.quick", queueName="m.serial", deduplicationId="batch-7")  # per (queue, id)

    cluster.open_gate("dedup")
    runs = cluster.wait_finished([first, other_queue], timeout=120)
    assert runs[first]["status"] == runs[other_queue]["status"] == "SUCCESS"
    reused = cluster.start("m.quick", queueName="m.free", deduplicationId="batch-7")  # finished: the id is free
    assert reused != first
    assert cluster.wait_finished([reused], timeout=120)[reused]["status"] == "SUCCESS"
    assert len(cluster.runs()) == 3


def test_clients_racing_with_one_deduplication_id_get_one_run_and_its_id(cluster):
    """No gateway runs here: the runs stay ENQUEUED (active for deduplication) while five clients race."""
    ids = ["race-%d" % n for n in range(15)]
    go = os.path.join(cluster.workdir, "go")
    consoles = [_console_racer(cluster, random.Random(n).sample(ids, len(ids)), "m.free", go) for n in range(2)]
    answers = []
    started = threading.Event()

    def race(order):
        started.wait(180)
        for dedup in order:
            resp = cluster.start("m.quick", expect_ok=False, queueName="m.free", deduplicationId=dedup)
            answers.append({"dedup": dedup, "code": resp["code"], "workflowId": resp["data"].get("workflowId")})
    threads = [threading.Thread(target=race, args=(random.Random(10 + n).sample(ids, len(ids)),)) for n in range(3)]
    for thread in threads:
        thread.start()
    cluster.wait(lambda: len([n for n in os.listdir(cluster.workdir) if n.startswith("go.ready-")]) == 2, 180,
                 "the console racers to start")
    open(go, "w").close()
    started.set()
    for thread in threads:
        thread.join(180)
    for proc in consoles:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        answers.extend(json.loads(line) for line in out.splitlines() if line.startswith("{"))

    assert len(answers) == 5 * len(ids)
    rows = cluster.query("SELECT deduplication_id, workflow_uuid FROM workflows.workflow_status")
    assert sorted(r[0] for r in rows) == sorted(ids)  # one run per id, however many clients asked
    winner = dict(rows)
    for answer in answers:
        assert answer["workflowId"] == winner[answer["dedup"]], answer
        assert answer["code"] in ("WORKFLOW_ENQUEUED", "WORKFLOW_DUPLICATE"), answer
    enqueued = sorted(a["dedup"] for a in answers if a["code"] == "WORKFLOW_ENQUEUED")
    assert enqueued == sorted(ids)


def test_gateways_racing_for_each_new_row_claim_it_exactly_once(cluster):
    cluster.launch(["gw1", "gw2", "gw3"])
    wids = []
    for burst in range(10):  # every start NOTIFYs: all three gateways wake and claim at once
        wids.extend(cluster.start("m.quick", queueName="m.free") for _ in range(4))
        time.sleep(0.3)

    runs = cluster.wait_finished(wids, timeout=180)

    assert sorted(set(r["status"] for r in runs.values())) == ["SUCCESS"]
    assert all(r["run_count"] == 1 for r in runs.values())
    executions = {}
    for entry in cluster.side("exec"):
        executions.setdefault(entry["wid"], []).append(entry["exe"])
    assert all(executions[w] == [runs[w]["executor_id"]] for w in wids)
    history = cluster.status_history(wids)
    assert all(history[w] == ["ENQUEUED", "RUNNING", "SUCCESS"] for w in wids)


def test_a_claim_the_gateway_cannot_start_is_released_with_its_claim_fields_cleared(cluster):
    """Through a Jython engine whose worker pool was shut down under it (not reachable through ./gateway run)."""
    ready = os.path.join(cluster.workdir, "ready")
    go = os.path.join(cluster.workdir, "go")
    script = spawn([os.path.join(ROOT, "gateway"), "jython", os.path.join(ROOT, "tests", "multi", "release_claim.py"),
                    cluster.url, ready, go], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cluster.wait(lambda: os.path.exists(ready) or script.poll() is not None, 180, "the rejecting engine to start")
    wids = [cluster.start("m.quick", queueName="m.free") for _ in range(2)]
    open(go, "w").close()
    out, err = script.communicate(timeout=180)
    assert script.returncode == 0, err
    assert json.loads(out.splitlines()[-1]) == {"active": 0}
    assert "its claim was released" in err

    runs = cluster.runs(wids)
    for run in runs.values():
        assert (run["status"], run["executor_id"], run["claimed_at"], run["run_count"]) == ("ENQUEUED", None, None, 0)
    assert cluster.query("SELECT count(*) FROM workflows.workflow_status WHERE generation IS NOT NULL")[0][0] == 0

    cluster.launch(["gw1"])
    runs = cluster.wait_finished(wids, timeout=120)
    assert all((r["status"], r["executor_id"], r["run_count"]) == ("SUCCESS", "gw1", 1) for r in runs.values())


def _console_racer(cluster, ids, queue, go, load_modules=True):
    """A ./gateway console process (a client scope under Jython) running multi/dedup_racer.py. Without the
    workflow modules it knows the workflows and queues only from what the gateways published to the database."""
    env = dict(os.environ)
    env.update({"MULTI_RACE_GO": go, "MULTI_RACE_IDS": ",".join(ids), "MULTI_RACE_QUEUE": queue})
    command = [os.path.join(ROOT, "gateway"), "console", os.path.join(ROOT, "tests", "multi", "dedup_racer.py"),
               "--db", cluster.url, "--no-demo"]
    if load_modules:
        command += ["--pythonpath", os.path.join(ROOT, "tests"), "--modules", "multi.flows"]
    return spawn(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _console_starts(cluster, ids, queue):
    """Starts from a console that loads no workflow module: it relies on what the running gateways published."""
    go = os.path.join(cluster.workdir, "go-console")
    open(go, "w").close()
    proc = _console_racer(cluster, ids, queue, go, load_modules=False)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]
