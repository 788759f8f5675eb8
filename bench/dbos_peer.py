"""DBOS Transact on the same PostgreSQL, the same workloads: `python bench/dbos_peer.py URL OUT.json [--quick]`.

Installed into the bench environment by `./gateway bench --peers`. Figures: step overhead, statements
(transactions) per step, queue throughput at DBOS's best queue polling (10 ms) and at its default (1 s),
start -> first step running.
"""
import json
import statistics
import sys
import time

import psycopg
from dbos import DBOS

URL = sys.argv[1]
FIRST = {}


@DBOS.step()
def noop(index):
    return None


@DBOS.step()
def first_step():
    return time.time()


@DBOS.workflow()
def noop_steps(count):
    for index in range(count):
        noop(index)
    return count


@DBOS.workflow()
def three():
    noop(0)
    noop(1)
    noop(2)
    return 3


@DBOS.workflow()
def first():
    return first_step()


def transactions():
    with psycopg.connect(URL, autocommit=True) as conn:
        row = conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = "
                           "current_database()").fetchone()
        return int(row[0])


def throughput(queue, count):
    started = time.perf_counter()
    handles = [DBOS.enqueue_workflow(queue, three) for _ in range(count)]
    for handle in handles:
        handle.get_result()
    return count / (time.perf_counter() - started)


def main():
    quick = "--quick" in sys.argv
    DBOS(config={"name": "wfbench", "system_database_url": URL, "run_admin_server": False})
    DBOS.launch()
    # DBOS 3.4 registers queues after launch, in its system database; 10 ms polling is its best setting
    best_queue = "bench_best"
    DBOS.register_queue(best_queue, worker_concurrency=8, polling_interval_sec=0.01)
    DBOS.register_queue("bench_default", worker_concurrency=8)
    out = {"host": "dbos-transact", "db": "postgresql"}
    per_step = []
    for index in range(3 + (3 if quick else 5)):
        started = time.perf_counter()
        DBOS.start_workflow(noop_steps, 200).get_result()
        if index >= 3:
            per_step.append((time.perf_counter() - started) * 1000 / 200)
    out["step_overhead_ms"] = statistics.median(per_step)
    time.sleep(1.5)
    before = transactions()
    DBOS.start_workflow(noop_steps, 200).get_result()
    time.sleep(1.5)
    out["transactions_per_step"] = (transactions() - before - 1) / 200.0
    out["queue_throughput_wf_s"] = throughput(best_queue, 300 if quick else 1000)
    out["queue_throughput_wf_s_default_poll"] = throughput("bench_default", 40 if quick else 100)
    delays = []
    for _ in range(30 if quick else 100):
        handle = DBOS.start_workflow(first)
        returned = time.time()
        delays.append(max(0.0, handle.get_result() - returned))
    out["start_to_running_ms_in_process"] = statistics.median(delays) * 1000
    delays = []
    for _ in range(20 if quick else 50):
        handle = DBOS.enqueue_workflow(best_queue, first)
        returned = time.time()
        delays.append(max(0.0, handle.get_result() - returned))
    out["start_to_running_ms_queue_best_poll"] = statistics.median(delays) * 1000
    DBOS.destroy()
    with open(sys.argv[2], "w") as handle:
        handle.write(json.dumps(out, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
