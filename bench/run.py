"""`./gateway bench`: measure every host on fresh databases, print a table, write JSON and bench/RESULTS.md.

    ./gateway bench [--json FILE] [--peers] [--soak SECONDS] [--quick] [--rows N] [--no-jython] [--no-sqlite]
                    [--no-record] [--only GROUP,...]

Figures are reported with their ratio to a baseline measured in the same run (one plain INSERT round trip on
the same connection type). --peers installs DBOS Transact (PyPI) into .venv and runs the same workloads against
the same PostgreSQL server. The schedule_accuracy group (bench/schedule_accuracy.py) is measured once per run, not
per host: three `./gateway run` gateways of its own on a fresh PostgreSQL database, a schedule every second, one
gateway killed half-way (skipped with --no-jython). --soak runs the multi-gateway soak test
(tests/test_multi_soak.py: three gateways under a steady load, killed, stopped and restarted, with PostgreSQL
restarted under them) for that many seconds of faults.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# The server every PostgreSQL figure is measured on: WORKFLOWS_BENCH_PG, or a private PostgreSQL the bench starts
# with initdb's defaults (durable commits, autovacuum on), so figures do not depend on how a shared server is set
# up (the one this machine's tests use runs with autovacuum off, under which run tables bloat within minutes).
PG_SERVER = os.environ.get("WORKFLOWS_BENCH_PG")
DBOS_VERSION = "3.4.0"

TARGETS = [
    ("step_overhead_ratio", "<=", 1.5, "step_overhead_ms <= 1.5 x insert_rtt_ms (keyed row)"),
    ("statements_per_step", "<=", 1.0, "statements_per_step = 1 (happy path)"),
    ("start_to_running_ms_in_process", "<=", 50.0, "start -> running <= 50 ms in-process"),
    ("start_to_running_ms_other_process", "<=", 50.0, "start -> running <= 50 ms across processes (NOTIFY)"),
    ("hold_latency_ms", "<=", 150.0, "HOLD -> HELD p50 <= 150 ms"),
    ("fanout_ratio", "<=", 1.5, "fan-out: a parent of 100 children <= 1.5 x 100 independent runs"),
    ("parked_active_workers", "<=", 0, "no worker thread in use while every parent awaits a held child"),
    ("wake_ms_same_gateway", "<=", 5.0, "child end -> parent running p50 <= 5 ms, same gateway"),
    ("wake_ms_other_gateway", "<=", 20.0, "child end -> parent running p50 <= 20 ms, across gateways (NOTIFY)"),
    ("sched_acc_claim_p99_ms", "<=", 1000.0, "schedule every second, 3 gateways, one killed: p99 claimed - fire <= "
                                             "tick (1000 ms)"),
    ("sched_acc_missing_or_duplicated", "==", 0, "schedule every second, 3 gateways, one killed: every fire exactly "
                                                 "one run (missing + duplicated == 0)"),
    ("debounce_durable_runs", "==", 100, "startDebounced, 10,000 calls over 100 keys: runs == 100"),
    ("debounce_durable_mismatches", "==", 0, "startDebounced: every run has its key's last inputs (mismatches == 0)"),
    ("debounce_memory_runs", "==", 100, "startDebouncedInMemory, 10,000 calls over 100 keys: runs == 100"),
    ("debounce_memory_mismatches", "==", 0, "startDebouncedInMemory: every run has its key's last inputs "
                                            "(mismatches == 0)"),
    ("tagwait_active_workers", "==", 0, "1,000 runs parked in waitForTag, each on its own tag: worker threads in use "
                                        "== 0"),
    ("tagwait_reads_per_tick", "<=", 1.0, "1,000 parked tag waits: batched tag reads per tick <= 1"),
    ("tagwait_wake_p99_over_tick_ms", "<=", 50.0, "1,000 parked tag waits: tag write -> run running again p99 - tick "
                                                  "<= 50 ms"),
]
# groups bench/run.py measures once per bench run rather than in each host (bench/workloads.py RUN_GROUPS)
RUN_GROUPS = ("schedule_accuracy",)


def holds(value, op, limit):
    if op == "==":
        return value == limit
    if op == ">=":
        return value >= limit
    return value <= limit


def recreate(name):
    import psycopg

    with psycopg.connect(PG_SERVER + "/postgres", autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
        conn.execute('CREATE DATABASE "%s"' % name)
    return "%s/%s" % (PG_SERVER, name)


def drop(url):
    """Drop a host's database once it is measured: autovacuum would otherwise still be working through its tables
    (a million generated runs among them) while the next host is measured on the same two cores."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_SERVER + "/postgres", autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


def measured(command, name, extra, env=None):
    url = recreate(name)
    try:
        return run_host(command, url, extra, env)
    finally:
        drop(url)


def run_host(command, url, extra, env=None):
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env["BENCH_PYTHON"] = sys.executable
    subprocess.check_call(command + [os.path.join(HERE, "host_bench.py"), url, out] + extra, cwd=ROOT, env=full_env)
    with open(out) as handle:
        figures = json.load(handle)
    os.unlink(out)
    return figures


def run_peer(url, quick):
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           "dbos==%s" % DBOS_VERSION])
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    subprocess.check_call([sys.executable, os.path.join(HERE, "dbos_peer.py"), url, out] + (["--quick"] if quick else []),
                          cwd=ROOT)
    with open(out) as handle:
        figures = json.load(handle)
    os.unlink(out)
    return figures


def run_schedule_accuracy(quick):
    """bench/schedule_accuracy.py on a fresh database: three gateways of its own, one schedule every second."""
    url = recreate("wf_bench_sched")
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        subprocess.check_call([sys.executable, os.path.join(HERE, "schedule_accuracy.py"), url, out] +
                              (["--quick"] if quick else []), cwd=ROOT)
        with open(out) as handle:
            return json.load(handle)
    finally:
        os.unlink(out)
        drop(url)


def schedule_notes(results):
    """How the schedule figures were taken, printed under the verdicts when they were measured."""
    lines = []
    if any("sched_burst_ms" in r for r in results):
        lines.append("note schedules: 1,000 schedules `0 * * * * *` made disabled, then next_fire_at written directly "
                     "(store.schedules.update + engine.schedules_changed): 10 min ahead for the idle full ticks "
                     "(run on the bench's thread; medians), then one instant ~1.5 s ahead for each burst, fired by the "
                     "engine's own dispatcher; burst 1 with claims paused counts every other thread's statements per "
                     "fire, burst 2 times the claims (8 workers)")
    if any("debounce_durable_runs" in r for r in results):
        lines.append("note debounce: 100 rounds x 100 keys paced over 2 s, quietSeconds 0.5, inputs {label: "
                     "key/round}; durable calls from 4 threads on PostgreSQL (1 on SQLite), in-memory calls from 1 "
                     "thread")
    if any("tagwait_wake_ms" in r for r in results):
        lines.append("note tagwaits: the engine at the gateway's default tick (1000 ms; tag waits evaluated one "
                     "tick apart, start to start); 1,000 runs each parked in waitForTag(own memory tag, "
                     "changes=True); batched reads counted through a wrapper around engine.host.tags over the "
                     "engine's own ticks; then as many more runs parked as "
                     "samples, and that many tags written one at a time at random moments (3 a second), nothing else "
                     "parking meanwhile; latency = the tag's timestamp -> the run's next RUNNING status event; on "
                     "PostgreSQL the tables ANALYZEd once the 1,000 have parked (the sweep timed before and after)")
    if any("sched_acc_runs" in r for r in results):
        lines.append("note schedule_accuracy: 3 x ./gateway run (Jython + JDBC, --tick-ms 1000 --lease-ms 3000) on one "
                     "PostgreSQL database; the schedule `* * * * * *` made from a client scope; the gateway that "
                     "claimed the latest fire SIGKILLed half-way and started again 3 s later")
    return lines


def run_soak(seconds):
    """The soak test's outcome and wall time; its own assertions are the verdict (nothing lost, no overlap)."""
    env = dict(os.environ, WORKFLOWS_SOAK="1", WORKFLOWS_SOAK_SECONDS=str(seconds), WORKFLOWS_ROOT=ROOT)
    began = time.time()
    rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          os.path.join("tests", "test_multi_soak.py")], cwd=ROOT, env=env)
    return {"soak_seconds": seconds, "passed": rc == 0, "wall_s": round(time.time() - began, 1)}


def fmt(value):
    if value is None:
        return "-"
    if isinstance(value, dict):
        return " / ".join("%s %s" % (k, fmt(v)) for k, v in sorted(value.items()))
    if isinstance(value, float):
        return "%.3f" % value if value < 10 else "%.1f" % value
    return str(value)


def table(results):
    keys = ["insert_rtt_ms", "plain_insert_rtt_ms", "step_overhead_ms", "step_overhead_ratio",
            "step_overhead_ratio_to_plain", "statements_per_step",
            "statements_per_step_incl_run_start_end", "queue_throughput_wf_s", "queue_throughput_wf_s_cold", "queue_throughput_rounds",
            "queue_throughput_wf_s_default_poll",
            "enqueue_in_memory_us", "start_ms", "start_to_running_ms_in_process", "start_to_running_ms_other_process",
            "start_to_running_ms_queue_best_poll", "hold_latency_ms", "fanout_parent_ms", "fanout_independent_ms",
            "fanout_ratio", "fanout_parent_phases_ms", "fanout_statements_per_start", "wake_ms_same_gateway",
            "wake_ms_same_gateway_p99", "wake_to_await_ms_same_gateway", "wake_ms_other_gateway",
            "wake_ms_other_gateway_p99", "wake_to_await_ms_other_gateway", "parked_parents", "parked_park_s",
            "parked_hold_s", "parked_active_workers", "parked_heap_mb_before", "parked_heap_mb", "parked_finish_s",
            "sched_schedules", "sched_create_ms", "sched_idle_tick_ms", "sched_idle_tick_ms_no_schedules",
            "sched_idle_tick_statements", "sched_idle_tick_ratio", "sched_insert_rtt_ms",
            "sched_burst_statements_per_fire", "sched_burst_ms", "sched_burst_created_ms", "sched_burst_ms_per_fire",
            "sched_burst_per_fire_ratio", "sched_all_claimed_ms", "sched_claimed_ms",
            "debounce_insert_rtt_ms", "debounce_durable_runs", "debounce_durable_mismatches",
            "debounce_durable_call_us", "debounce_durable_call_ratio", "debounce_durable_callers",
            "debounce_durable_span_s", "debounce_durable_done_ms", "debounce_durable_start_late_ms",
            "debounce_memory_runs", "debounce_memory_mismatches", "debounce_memory_call_us", "debounce_memory_span_s",
            "debounce_memory_done_ms", "debounce_memory_start_late_ms",
            "tagwait_runs", "tagwait_parked", "tagwait_active_workers", "tagwait_park_s", "tagwait_park_reads",
            "tagwait_sweep_ms", "tagwait_tick_ms", "tagwait_ticks", "tagwait_full_tick_ms", "tagwait_tick_period_ms",
            "tagwait_reads_per_tick", "tagwait_batched_reads", "tagwait_paths_per_read", "tagwait_insert_rtt_ms",
            "tagwait_eval_ms", "tagwait_eval_ratio", "tagwait_read_ms", "tagwait_read_ratio",
            "tagwait_parked_while_sampling",
            "tagwait_samples", "tagwait_sampling_period_ms", "tagwait_wake_ms", "tagwait_wake_p50_ms",
            "tagwait_wake_p99_ms", "tagwait_wake_p99_over_tick_ms", "tagwait_wake_parts_ms", "tagwait_release_all_s",
            "tagwait_completed",
            "sched_acc_seconds", "sched_acc_fires_expected", "sched_acc_runs", "sched_acc_missing",
            "sched_acc_duplicated", "sched_acc_missing_or_duplicated", "sched_acc_unclaimed", "sched_acc_claim_ms",
            "sched_acc_claim_p99_ms", "sched_acc_claim_p99_of_tick", "sched_acc_first_fire_claim_ms",
            "sched_acc_written_ms", "sched_acc_executors",
            "list_runs_ms", "transactions_per_step", "max_memory_mb"]
    lines = ["| figure | " + " | ".join("%s / %s" % (r["host"], r["db"]) for r in results) + " |",
             "|---|" + "---|" * len(results)]
    for key in keys:
        if not any(key in r for r in results):
            continue
        lines.append("| %s | %s |" % (key, " | ".join(fmt(r.get(key)) for r in results)))
    return "\n".join(lines)


def verdicts(results, peer):
    lines = []
    for result in results:
        if result["db"] != "postgresql" or result is peer:
            continue
        for key, op, limit, text in TARGETS:
            value = result.get(key)
            if value is None:
                continue
            ok = holds(value, op, limit)
            lines.append("%s %s: %s = %s" % ("PASS" if ok else "MISS", result["host"], text, fmt(value)))
        if result.get("fanout_ratio") is not None:
            lines.append("info %s: fan-out of %d children %s ms against %s ms for as many independent runs (median "
                         "of %d rounds); the parent's own phases (ms): %s; statements per start on the starting "
                         "thread: %s" % (
                             result["host"], result["fanout_children"], fmt(result["fanout_parent_ms"]),
                             fmt(result["fanout_independent_ms"]), result["fanout_rounds"],
                             fmt(result.get("fanout_parent_phases_ms")),
                             fmt(result.get("fanout_statements_per_start"))))
        for where in ("same_gateway", "other_gateway"):
            if result.get("wake_ms_" + where) is not None:
                lines.append("info %s: child end -> parent running, %s: p50 %s / p99 %s ms; -> its await recorded: "
                             "%s ms (%s)" % (result["host"], where.replace("_", " "), fmt(result["wake_ms_" + where]),
                                             fmt(result["wake_ms_%s_p99" % where]),
                                             fmt(result["wake_to_await_ms_" + where]),
                                             fmt(result["wake_samples_" + where])))
        if result.get("sched_burst_ms") is not None:
            lines.append("info %s: %d schedules of one minute: a full tick with none due %s ms, %s statements (%s "
                         "ms, %s statements with no schedule); all firing at one instant: %s statements per fire, "
                         "the last run written %s ms after the fire time (%s ms per fire, %.1f x the INSERT), "
                         "largest pause between two fires %s ms after the first %s fires; all claimed %s ms after "
                         "it" % (
                             result["host"], result["sched_schedules"], fmt(result["sched_idle_tick_ms"]["p50"]),
                             fmt(result["sched_idle_tick_statements"]["schedules"]),
                             fmt(result["sched_idle_tick_ms_no_schedules"]["p50"]),
                             fmt(result["sched_idle_tick_statements"]["no_schedules"]),
                             fmt(result["sched_burst_statements_per_fire"]), fmt(result["sched_burst_ms"]),
                             fmt(result["sched_burst_ms_per_fire"]), result["sched_burst_per_fire_ratio"],
                             fmt(result["sched_burst_created_ms"]["largest_gap"]),
                             result["sched_burst_created_ms"]["fired_before_gap"], fmt(result["sched_all_claimed_ms"])))
        for variant in ("durable", "memory"):
            if result.get("debounce_%s_runs" % variant) is not None:
                get = lambda name: result["debounce_%s_%s" % (variant, name)]  # noqa: E731
                lines.append("info %s: debounce %s: %d calls from %d thread(s) in %.2f s, call p50 %s / p99 %s us; "
                             "%d runs, mismatches %s; last call -> all ended %s ms; start after its key's quiet "
                             "time p50 %s / max %s ms" % (
                                 result["host"], variant, get("calls"), get("callers"), get("span_s"),
                                 fmt(get("call_us")["p50"]), fmt(get("call_us")["p99"]), get("runs"),
                                 fmt(get("mismatch_parts")), fmt(get("done_ms")), fmt(get("start_late_ms")["p50"]),
                                 fmt(get("start_late_ms")["max"])))
        if result.get("sched_acc_fires_expected") is not None:
            lines.append("info %s: schedule every second for %d s: %d fires, %d runs, missing %d, duplicated %d, off "
                         "the second %d, unclaimed %d; claimed - fire p50 %s / p99 %s / max %s ms (p99 %s of the "
                         "tick); the first fire claimed %s ms after it; run written - fire %s ms; killed %s; runs "
                         "per gateway %s; slowest %s" % (
                             result["host"], result["sched_acc_seconds"], result["sched_acc_fires_expected"],
                             result["sched_acc_runs"], result["sched_acc_missing"], result["sched_acc_duplicated"],
                             result["sched_acc_off_grid"], result["sched_acc_unclaimed"],
                             fmt(result["sched_acc_claim_ms"]["p50"]), fmt(result["sched_acc_claim_ms"]["p99"]),
                             fmt(result["sched_acc_claim_ms"]["max"]), fmt(result["sched_acc_claim_p99_of_tick"]),
                             fmt(result.get("sched_acc_first_fire_claim_ms")), fmt(result["sched_acc_written_ms"]),
                             fmt(result["sched_acc_killed"]),
                             fmt(result["sched_acc_executors"]), "; ".join(result["sched_acc_worst"])))
        if result.get("tagwait_wake_ms") is not None:
            parts = result["tagwait_wake_parts_ms"]
            get = lambda name, key: fmt((parts.get(name) or {}).get(key))  # noqa: E731
            lines.append("info %s: %d runs parked on their own tags in %.1f s (%d batched reads, %d paths, while they "
                         "parked); parked, per full tick (tick %d ms, one every %s ms, a full tick p50 %s / max %s ms; "
                         "the sweep of every tenth %s ms): %s batched read(s) of %d paths, an evaluation p50 %s ms "
                         "(%.0f x the INSERT), its read %s ms; tag write -> running again p50 "
                         "%s / p99 %s / max %s ms (%d samples): -> the read that saw it p99 %s, -> released p99 %s, "
                         "released -> running p50 %s / p99 %s, running -> next step p50 %s / p99 %s; the other %d "
                         "released at once, all ended %.1f s after the write" % (
                             result["host"], result["tagwait_runs"], result["tagwait_park_s"],
                             result["tagwait_park_reads"]["batched"], result["tagwait_park_reads"]["paths"],
                             result["tagwait_tick_ms"], fmt(result["tagwait_tick_period_ms"]["p50"]),
                             fmt(result["tagwait_full_tick_ms"]["p50"]), fmt(result["tagwait_full_tick_ms"]["max"]),
                             fmt(result["tagwait_sweep_ms"]),
                             fmt(result["tagwait_reads_per_tick"]), result["tagwait_paths_per_read"],
                             fmt(result["tagwait_eval_ms"]["p50"]), result["tagwait_eval_ratio"],
                             fmt(result["tagwait_read_ms"]["p50"]), fmt(result["tagwait_wake_ms"]["p50"]),
                             fmt(result["tagwait_wake_ms"]["p99"]), fmt(result["tagwait_wake_ms"]["max"]),
                             result["tagwait_samples"]["used"], get("to_read", "p99"), get("to_released", "p99"),
                             get("released_to_running", "p50"), get("released_to_running", "p99"),
                             get("running_to_step", "p50"), get("running_to_step", "p99"), result["tagwait_runs"],
                             result["tagwait_release_all_s"]))
        if result.get("tagwait_error"):
            lines.append("MISS %s: tag waits: %s" % (result["host"], result["tagwait_error"]))
        if result.get("parked_error"):
            lines.append("MISS %s: parked parents: %s" % (result["host"], result["parked_error"]))
        plain = result.get("step_overhead_ratio_to_plain")
        if plain is not None:
            lines.append("info %s: step_overhead_ms = %.2f x an INSERT into an unindexed table" % (result["host"], plain))
        if result["host"].startswith("jython"):
            enqueue = result.get("enqueue_in_memory_us") or {}
            p99 = enqueue.get("p99")
            if p99 is not None:
                lines.append("%s jython: enqueue_in_memory p99 <= 100 us (warm) = %s (first 10,000 calls: %s)" % (
                    "PASS" if p99 <= 100 else "MISS", fmt(p99), fmt(enqueue.get("cold_p99"))))
            tput = result.get("queue_throughput_wf_s")
            lines.append("%s jython: queue throughput >= 500 wf/s with -Xmx256m = %s" % (
                "PASS" if tput and tput >= 500 else "MISS", fmt(tput)))
            if "parked_completed" in result:
                lines.append("%s jython: %d parked parents and their held children with -Xmx256m, no OutOfMemoryError "
                             "= heap in use after GC %s MB (%s MB before them)" % (
                                 "PASS" if result["parked_completed"] else "MISS", result["parked_parents"],
                                 fmt(result.get("parked_heap_mb")), fmt(result.get("parked_heap_mb_before"))))
        if result.get("list_runs_ms"):
            worst = max(result["list_runs_ms"].values())
            lines.append("%s %s: list_runs any page <= 50 ms = %s" % ("PASS" if worst <= 50 else "MISS",
                                                                       result["host"], fmt(worst)))
        if peer and result.get("queue_throughput_wf_s"):
            ratio = result["queue_throughput_wf_s"] / peer["queue_throughput_wf_s"]
            lines.append("%s %s: queue throughput >= 4 x DBOS (best poll) = %.1fx" % (
                "PASS" if ratio >= 4 else "MISS", result["host"], ratio))
            ours = max(result["start_to_running_ms_in_process"], 0.001)
            lines.append("info %s: step overhead %.1fx lower than DBOS; start->running through a queue %.1fx faster "
                         "than DBOS's queue at its best poll (%.1fx of DBOS's direct start, which has no queue)" % (
                             result["host"], peer["step_overhead_ms"] / result["step_overhead_ms"],
                             peer["start_to_running_ms_queue_best_poll"] / ours,
                             peer["start_to_running_ms_in_process"] / ours))
    return "\n".join(lines)


def record(text, command):
    path = os.path.join(HERE, "RESULTS.md")
    head = "# Benchmark results\n\nNewest first. Each entry: date, machine, command, figures (ms unless named).\n"
    body = ""
    if os.path.exists(path):
        with open(path) as handle:
            body = handle.read()
        if body.startswith(head):
            body = body[len(head):]
    machine = "%s, %d cores, %s, Python %s" % (platform.node(), os.cpu_count() or 0, platform.platform(),
                                                platform.python_version())
    entry = "\n## %s\n\nMachine: %s\n\nCommand: `%s`\n\n%s\n" % (
        datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), machine, command, text)
    with open(path, "w") as handle:
        handle.write(head + entry + body)


def main(argv):
    parser = argparse.ArgumentParser(prog="./gateway bench")
    parser.add_argument("--json", help="write every figure to this file")
    parser.add_argument("--peers", action="store_true", help="also run DBOS Transact %s" % DBOS_VERSION)
    parser.add_argument("--soak", type=int, metavar="SECONDS", help="also run the multi-gateway soak test")
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    parser.add_argument("--rows", type=int, default=1000000, help="rows in workflow_status for list_runs")
    parser.add_argument("--no-jython", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-record", action="store_true", help="do not add the run to bench/RESULTS.md")
    parser.add_argument("--only", metavar="GROUP,...", help="measure only these groups (bench/workloads.py GROUPS)")
    opts = parser.parse_args(argv)
    server = None
    global PG_SERVER
    if PG_SERVER is None:
        sys.path.insert(0, os.path.join(ROOT, "tests"))
        from multi.private_pg import PrivatePostgres

        server = PrivatePostgres(stock=True).start()
        PG_SERVER = server.server_url()
    try:
        return _run(opts, argv)
    finally:
        if server is not None:
            server.destroy()


def _run(opts, argv):
    extra = ["--rows", str(opts.rows)] + (["--quick"] if opts.quick else [])
    if opts.only:
        extra += ["--only", opts.only]
    gateway = os.path.join(ROOT, "gateway")
    only = set(opts.only.split(",")) if opts.only else None
    results = []
    notes = []
    if only is None or only - set(RUN_GROUPS):  # a run of only the run-wide groups measures no host
        results.append(measured([sys.executable], "wf_bench_cpython", extra))
        if not opts.no_jython:
            results.append(measured([gateway, "jython"], "wf_bench_jython", extra,
                                    env={"WORKFLOWS_JAVA_OPTS": "-Xmx256m"}))
        if not opts.no_sqlite:
            tmp = tempfile.mkdtemp(prefix="wf-bench-")
            results.append(run_host([sys.executable], "sqlite:" + os.path.join(tmp, "cpython.db"), extra))
            if not opts.no_jython:
                results.append(run_host([gateway, "jython"], "sqlite:" + os.path.join(tmp, "jython.db"), extra,
                                        env={"WORKFLOWS_JAVA_OPTS": "-Xmx256m"}))
    if only is None or "schedule_accuracy" in only:
        if opts.no_jython:
            notes.append("schedule_accuracy not measured: its gateways are ./gateway run (Jython), and --no-jython")
        else:
            results.append(run_schedule_accuracy(opts.quick))
    peer = None
    if opts.peers:
        url = recreate("wf_bench_dbos")
        try:
            peer = run_peer(url, opts.quick)
        finally:
            drop(url)
        results.append(peer)
    text = table(results) + "\n\n```\n" + "\n".join([verdicts(results, peer)] + notes + schedule_notes(results)) + \
        "\n```"
    soak = None
    if opts.soak:
        soak = run_soak(opts.soak)
        text += "\n\nSoak (3 gateways, faults for %d s): %s in %.0f s" % (
            soak["soak_seconds"], "PASS" if soak["passed"] else "FAIL", soak["wall_s"])
    print(text)
    if opts.json:
        with open(opts.json, "w") as handle:
            json.dump({"results": results, "peer": peer, "soak": soak}, handle, indent=2, sort_keys=True)
    if not opts.no_record:
        record(text, "./gateway bench " + " ".join(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
