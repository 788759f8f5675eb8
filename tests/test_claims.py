"""The claim that begins runs (one round trip from ENQUEUED to RUNNING), on PostgreSQL and SQLite.

The dispatcher is not started here (start=False): the tests drive the store and the dispatcher's pieces directly,
so nothing else claims the rows they look at.
"""
import json
import time

import psycopg
import pytest

import workflows_for_tests  # noqa: F401 - registers the t.* workflows and queues
from conftest import wait_for
from exchange.workflows.api import service
from exchange.workflows.engine.starts import start_payload
from exchange.workflows.store.transitions import NOTIFY_CHANNEL
from exchange.workflows.util.clock import now_ms


def enqueue(count, queue="default", timeout=None):
    wids = []
    for _ in range(count):
        resp = service.start(workflowName="t.linear", inputs={"resolved": {"steps": 1}}, queueName=queue,
                             timeoutSeconds=timeout)
        assert resp["code"] == "WORKFLOW_ENQUEUED", resp
        wids.append(resp["data"]["workflowId"])
        time.sleep(0.003)  # distinct creation times: FIFO between runs created in one millisecond is by id
    return wids


def idle_engine(make_engine, executor_id):
    engine = make_engine(executor_id=executor_id, start=False)
    engine.prepare()  # the schema and the workflow modules, no dispatcher
    return engine


def pg_only(make_engine, why="SQLite has no NOTIFY"):
    if not make_engine.url.startswith("postgres"):
        pytest.skip(why)
    return make_engine.url


def test_a_claim_begins_the_runs_it_takes_with_their_events_and_log(make_engine):
    engine = idle_engine(make_engine, "gw-claim")
    wids = enqueue(3, timeout=60)
    now = now_ms()
    begun = engine.store.transitions.claim_and_begin("default", "gw-claim", 7, 2, now)
    assert sorted([b["workflow_uuid"] for b in begun]) == sorted(wids[:2])  # FIFO, never more than asked for
    for b in begun:
        assert (b["name"], b["run_count"], b["phase"], b["queue_name"], b["retry_of"]) == (
            "t.linear", 1, "RUNNING", "default", None)
        assert json.loads(b["inputs"])["resolved"] == {"steps": 1, "delay": 0.0}
        run = engine.store.get_run(b["workflow_uuid"])
        assert (run["status"], run["executor_id"], run["generation"]) == ("RUNNING", "gw-claim", 7)
        assert now <= run["claimed_at"] == run["started_at"] < now + 1000  # when the claim took effect
        assert b["deadline_at"] == run["started_at"] + 60000
        history = service.listEventHistory(workflowId=b["workflow_uuid"])["data"]["history"]
        assert [(h["key"], h["value"]) for h in history] == [
            ("status", "ENQUEUED"), ("phase", "RUNNING"), ("status", "RUNNING")]
        log = service.readStream(workflowId=b["workflow_uuid"], key="log")["data"]["entries"]
        assert [(e["offset"], e["value"]["status"]) for e in log] == [(0, "ENQUEUED"), (1, "RUNNING")]
        assert log[1]["value"]["executor"] == "gw-claim"
    assert engine.store.get_run(wids[2])["status"] == "ENQUEUED"


def test_a_begun_run_no_worker_takes_is_put_back_as_it_was(make_engine):
    engine = idle_engine(make_engine, "gw-release")
    wid = enqueue(1, timeout=60)[0]
    begun = engine.store.transitions.claim_and_begin("default", "gw-release", 1, 1, now_ms())[0]
    engine.store.transitions.release_begun(begun, "gw-release", now_ms(), "released by gw-release: no worker could take it")
    run = engine.store.get_run(wid)
    assert (run["status"], run["phase"], run["executor_id"], run["generation"], run["claimed_at"], run["started_at"],
            run["deadline_at"], run["run_count"]) == ("ENQUEUED", "IDLE", None, None, None, None, None, 0)
    log = service.readStream(workflowId=wid, key="log")["data"]["entries"]
    assert [e["value"]["status"] for e in log] == ["ENQUEUED", "RUNNING", "ENQUEUED"]
    assert "no worker could take it" in log[-1]["value"]["reason"]
    again = engine.store.transitions.claim_and_begin("default", "gw-release", 2, 1, now_ms())
    assert [(b["workflow_uuid"], b["run_count"]) for b in again] == [(wid, 1)]


def test_a_claim_respects_the_queue_limits(make_engine):
    engine = idle_engine(make_engine, "gw-limits")
    enqueue(4, queue="t.limited")  # concurrency 2 across all gateways
    first = engine.store.transitions.claim_and_begin("t.limited", "gw-limits", 1, 10, now_ms(), concurrency=2)
    assert len(first) == 2
    assert engine.store.transitions.claim_and_begin("t.limited", "gw-other", 1, 10, now_ms(), concurrency=2) == []


def test_a_gateway_alone_on_its_database_sends_no_notify_for_its_own_starts(make_engine):
    listener = psycopg.connect(pg_only(make_engine), autocommit=True)
    try:
        listener.execute("LISTEN %s" % NOTIFY_CHANNEL)
        first = make_engine(executor_id="gw-alone", tick_ms=60000)
        wait_for(lambda: not first.peers, message="the first tick to find no other gateway")
        first.kernel.set_flag("draining", True)  # it only writes the start
        enqueue(1)
        payloads = [n.payload for n in listener.notifies(timeout=0.5)]
        assert [p for p in payloads if p.startswith("start")] == []

        make_engine(executor_id="gw-second", tick_ms=60000)  # announces itself as it starts
        wait_for(lambda: first.peers, message="the first gateway to learn of the second")
        enqueue(1)
        payloads = [n.payload for n in listener.notifies(timeout=0.5)]
        assert start_payload(first, "default") in payloads
    finally:
        listener.close()


def test_a_client_scope_always_notifies_its_starts(make_engine):
    listener = psycopg.connect(pg_only(make_engine), autocommit=True)
    try:
        listener.execute("LISTEN %s" % NOTIFY_CHANNEL)
        make_engine(executor_id="console", executes=False)  # like ./gateway console: it executes nothing
        enqueue(1)
        payloads = [n.payload for n in listener.notifies(timeout=0.5)]
        assert "start@:default" in payloads
    finally:
        listener.close()


def test_a_claim_reads_its_queue_in_claim_order_from_an_index_without_sorting_the_backlog(make_engine):
    """With thousands of runs waiting, a claim reads the first few in claim order (priority, creation, id) from
    ws_claim_order; before migration 4 it read and sorted every waiting run of the queue on each claim."""
    engine = idle_engine(make_engine, "gw-order")
    db = engine.store.db
    now = now_ms()
    rows = [("%08d-0000-4000-8000-000000000000" % n, "t.linear", "ENQUEUED", "IDLE", "default", 100 + n % 3, "{}",
             now + n // 2, now) for n in range(3000)]
    db.execute_many("INSERT INTO workflows.workflow_status (workflow_uuid, name, status, phase, queue_name, priority, "
                    "inputs, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    postgres = make_engine.url.startswith("postgres")
    db.execute("ANALYZE workflows.workflow_status" if postgres else "ANALYZE workflows")
    from exchange.workflows.store.transitions import CLAIM_CANDIDATES
    if postgres:
        plan = "\n".join([r[0] for r in db.query("EXPLAIN " + CLAIM_CANDIDATES, ("default", 16))])
        assert "ws_claim_order" in plan and "Sort" not in plan, plan
    else:
        plan = " | ".join([str(r[-1]) for r in db.query("EXPLAIN QUERY PLAN " + CLAIM_CANDIDATES, ("default", 16))])
        assert "ws_claim_order" in plan and "TEMP B-TREE" not in plan, plan
    # and the order it reads is the claim order: lowest priority first, then oldest, then by id
    expected = sorted(rows, key=lambda r: (r[5], r[7], r[0]))[:16]
    got = db.query(CLAIM_CANDIDATES, ("default", 16))
    assert [r[0] for r in got] == [r[0] for r in expected]
    begun = engine.store.transitions.claim_and_begin("default", "gw-order", 1, 4, now_ms())
    assert [b["workflow_uuid"] for b in begun] == [r[0] for r in expected[:4]]


def test_the_claim_functions_plan_their_statements_once_per_connection(make_engine):
    """Migration 5: without it PostgreSQL planned claim_and_begin's write again on every call (its generic plan
    looked costlier than one made for the array of chosen ids), which nearly doubled the server time of a claim."""
    url = pg_only(make_engine, "SQLite has no server-side claim function")
    idle_engine(make_engine, "planner")
    with psycopg.connect(url) as conn:
        rows = dict(conn.execute("SELECT p.proname, p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = "
                                 "p.pronamespace WHERE n.nspname = 'workflows' AND p.proname LIKE 'claim%'").fetchall())
    assert rows == {"claim_queue": ["plan_cache_mode=force_generic_plan"],
                    "claim_and_begin": ["plan_cache_mode=force_generic_plan"]}
