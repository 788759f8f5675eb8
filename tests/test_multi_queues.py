"""Queues across several gateways (issue 4): real `./gateway run` processes on one PostgreSQL database.

Each test launches Jython gateways (multi.cluster), starts runs from this process as a client scope would, and
checks what the gateways did through the database and through the side channel each step writes (multi.flows).
"""
import random

from multi import flows
from multi.fixtures import cluster  # noqa: F401 - a fixture
from multi.intervals import max_overlap, overlapping_pairs


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
