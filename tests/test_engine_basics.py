"""The durable engine as users rely on it, on PostgreSQL and SQLite."""
import time

import pytest

import workflows_for_tests as wft
from conftest import wait_for, wait_status
from exchange.workflows.api import admin, service


def start(name, **params):
    resp = service.start(workflowName=name, inputs={"resolved": params})
    assert resp["ok"], resp
    return resp["data"]["workflowId"]


def test_a_run_executes_and_its_steps_are_recorded(engine):
    wid = start("t.linear", steps=3)
    run = wait_status(wid)
    assert run["status"] == "SUCCESS"
    assert run["phase"] == "COMPLETE"
    assert run["output"] == 0 + 10 + 20
    assert run["inputs"] == {"resolved": {"steps": 3, "delay": 0.0}}
    steps = service.listSteps(workflowId=wid)["data"]["steps"]
    assert [(s["functionId"], s["name"], s["status"], s["output"]) for s in steps] == [
        (1, "count", "SUCCESS", 0), (2, "count", "SUCCESS", 10), (3, "count", "SUCCESS", 20)]
    assert all(s["attempts"] == 1 and s["startedAt"] <= s["completedAt"] for s in steps)
    assert run["startedAt"] <= run["completedAt"]
    assert run["events"]["status"]["value"] == "SUCCESS"


def test_engine_records_status_events_and_a_log_entry_per_status_and_step(engine):
    wid = start("t.linear", steps=2)
    wait_status(wid)
    history = service.getWorkflow(workflowId=wid, includeHistory=True)["data"]["eventHistory"]
    assert [h["value"] for h in history if h["key"] == "status"] == ["ENQUEUED", "RUNNING", "SUCCESS"]
    log = [e["value"] for e in service.readStream(workflowId=wid, key="log")["data"]["entries"]]
    assert [(e["kind"], e.get("event") or e.get("status")) for e in log] == [
        ("status", "ENQUEUED"), ("status", "RUNNING"), ("step", "started"), ("step", "finished"),
        ("step", "started"), ("step", "finished"), ("status", "SUCCESS")]


def test_a_long_step_shows_as_started_while_it_runs_and_is_logged_once(engine):
    wid = start("t.linear", steps=1, delay=1.2)

    def log():
        entries = service.readStream(workflowId=wid, key="log")["data"]["entries"]
        return [(e["value"]["kind"], e["value"].get("event") or e["value"].get("status")) for e in entries]
    # the log flusher writes a step's 'started' entry once it has run for half a second
    wait_for(lambda: ("step", "started") in log(), timeout=5.0, message="the running step's started entry")
    assert service.getWorkflow(workflowId=wid)["data"]["status"] == "RUNNING"
    assert wait_status(wid)["status"] == "SUCCESS"
    assert log() == [("status", "ENQUEUED"), ("status", "RUNNING"), ("step", "started"), ("step", "finished"),
                     ("status", "SUCCESS")]


def test_a_raising_workflow_ends_in_error_with_type_message_and_traceback(engine):
    wid = start("t.fails", message="valve V-12 stuck")
    run = wait_status(wid)
    assert run["status"] == "ERROR"
    assert run["error"]["type"] == "ValueError"
    assert run["error"]["message"] == "valve V-12 stuck"
    assert "boom_step" in run["error"]["traceback"]
    steps = service.listSteps(workflowId=wid)["data"]["steps"]
    assert [(s["name"], s["status"]) for s in steps] == [("count", "SUCCESS"), ("boom", "ERROR")]
    assert steps[1]["error"]["message"] == "valve V-12 stuck"


def test_retries_with_backoff_store_the_attempt_count(engine):
    wid = start("t.flaky", fail_times=1)
    run = wait_status(wid)
    assert run["status"] == "SUCCESS", run["error"]
    step = service.listSteps(workflowId=wid)["data"]["steps"][0]
    assert step["attempts"] == 2


def test_retries_stop_at_max_attempts_without_a_final_wait(engine):
    wid = start("t.flaky", fail_times=10)
    run = wait_status(wid)
    assert run["status"] == "ERROR"
    assert run["error"]["type"] in ("IOError", "OSError")
    step = service.listSteps(workflowId=wid)["data"]["steps"][0]
    assert step["attempts"] == 3
    log = [e["value"] for e in service.readStream(workflowId=wid)["data"]["entries"]]
    retries = [e for e in log if e.get("event") == "retrying"]
    assert [r["attempt"] for r in retries] == [1, 2]
    assert [r["delaySeconds"] for r in retries] == [0.05, 0.1]
    finished = [e for e in log if e.get("event") == "finished"][0]
    # the last retry waits 0.1 s; a (wrong) wait after the final failure would add another 0.2 s
    assert finished["at"] - retries[-1]["at"] < 100 + 200


def test_outputs_that_are_not_json_end_the_run_in_error(engine):
    wid = start("t.not_json")
    run = wait_status(wid)
    assert run["status"] == "ERROR"
    assert "not JSON-native" in run["error"]["message"]
    wid = start("t.step_not_json")
    run = wait_status(wid)
    assert run["status"] == "ERROR"
    assert "output of step bad_output" in run["error"]["message"]


def test_events_streams_and_progress_are_recorded(engine):
    wid = start("t.records", label="L1")
    run = wait_status(wid)
    assert run["status"] == "SUCCESS"
    assert run["events"]["stage"]["value"] == "end"
    assert run["events"]["progress"]["value"]["message"] == "halfway"
    history = service.getWorkflow(workflowId=wid, includeHistory=True)["data"]["eventHistory"]
    assert [h["value"] for h in history if h["key"] == "stage"] == ["start", "end"]
    readings = service.readStream(workflowId=wid, key="readings")["data"]["entries"]
    assert [(e["offset"], e["value"]) for e in readings] == [(0, {"v": 1}), (1, {"v": 2})]
    after = service.readStream(workflowId=wid, key="readings", afterOffset=0)["data"]["entries"]
    assert [e["offset"] for e in after] == [1]
    assert service.getEvent(workflowId=wid, key="stage")["data"]["value"] == "end"


def test_timeout_cancels_the_run_at_the_next_boundary(engine):
    resp = service.start(workflowName="t.slow", inputs={"resolved": {"steps": 50, "delay": 0.05}},
                         timeoutSeconds=0.5)
    wid = resp["data"]["workflowId"]
    run = wait_status(wid)
    assert run["status"] == "CANCELLED"
    assert run["error"]["type"] == "WorkflowTimeout"
    assert run["deadlineAt"] == run["startedAt"] + 500
    steps = service.listSteps(workflowId=wid)["data"]["steps"]
    assert 3 <= len(steps) < 50
    assert all(s["completedAt"] <= run["deadlineAt"] + 100 for s in steps)


def test_durable_sleep_records_its_wake_time(engine):
    wid = start("t.sleeper", seconds=0.3)
    run = wait_status(wid)
    assert run["status"] == "SUCCESS"
    steps = service.listSteps(workflowId=wid)["data"]["steps"]
    assert [s["kind"] for s in steps] == ["step", "sleep", "step"]
    assert steps[2]["startedAt"] >= steps[1]["output"]


def test_messages_reach_a_waiting_run(engine):
    wid = start("t.listener", wait=5.0)
    wait_for(lambda: service.getWorkflow(workflowId=wid)["data"]["status"] == "RUNNING")
    assert service.sendMessage(destinationId=wid, message={"lot": 7}, topic="news")["ok"]
    run = wait_status(wid)
    assert run["output"] == {"lot": 7}


def test_in_memory_enqueue_is_made_durable_by_the_next_tick(engine):
    resp = service.enqueueInMemory(workflowName="t.linear", inputs={"resolved": {"steps": 1}})
    assert resp["ok"] and resp["code"] == "WORKFLOW_ACCEPTED"
    run = wait_status(resp["data"]["workflowId"])
    assert run["status"] == "SUCCESS"


def test_a_burst_of_in_memory_starts_is_written_soon_without_waiting_for_the_timer(make_engine):
    engine = make_engine(tick_ms=60000, listen=False)
    engine.kernel.set_flag("draining", True)  # claim nothing: the rows stay ENQUEUED where we can see them
    ids = [service.enqueueInMemory(workflowName="t.linear", inputs={"resolved": {"steps": 1}})["data"]["workflowId"]
           for _ in range(50)]
    wait_for(lambda: all(engine.store.get_run(wid) is not None for wid in ids), timeout=10.0)
    assert engine.kernel.memory_queue.size() == 0
    assert set(engine.store.get_run(wid)["status"] for wid in ids) == set(["ENQUEUED"])


def test_in_memory_enqueue_is_flushed_on_a_clean_shutdown(make_engine):
    engine = make_engine(tick_ms=60000, listen=False)
    engine.kernel.set_flag("draining", True)  # claim nothing: only the flush can write the row
    ids = [service.enqueueInMemory(workflowName="t.linear", inputs={"resolved": {"steps": 1}})["data"]["workflowId"]
           for _ in range(5)]
    engine.stop()
    for wid in ids:
        assert engine.store.get_run(wid)["status"] == "ENQUEUED"


def test_start_validates_its_arguments(engine):
    cases = [
        (dict(workflowName="no.such"), "UNKNOWN_WORKFLOW", None),
        (dict(workflowName=None), "INVALID_ARGUMENT", "workflowName"),
        (dict(workflowName="t.linear", inputs={"resolved": {"steps": object()}}), "INVALID_ARGUMENT",
         "inputs.resolved.steps"),
        (dict(workflowName="t.linear", inputs={"steps": 1}), "INVALID_ARGUMENT", "inputs.steps"),
        (dict(workflowName="t.linear", inputs={"resolved": {"nope": 1}}), "INVALID_ARGUMENT", "inputs.resolved.nope"),
        (dict(workflowName="t.typed", inputs={"resolved": {}}), "INVALID_ARGUMENT", "inputs.resolved.batch"),
        (dict(workflowName="t.typed", inputs={"resolved": {"batch": "B", "size": "ten"}}), "INVALID_ARGUMENT",
         "inputs.resolved.size"),
        (dict(workflowName="t.typed", inputs={"resolved": {"batch": "B", "mode": "FAST"}}), "INVALID_ARGUMENT",
         "inputs.resolved.mode"),
        (dict(workflowName="t.linear", queueName="nowhere"), "UNKNOWN_QUEUE", None),
        (dict(workflowName="t.linear", priority=-1), "INVALID_ARGUMENT", "priority"),
        (dict(workflowName="t.linear", priority=1001), "INVALID_ARGUMENT", "priority"),
        (dict(workflowName="t.linear", timeoutSeconds=0), "INVALID_ARGUMENT", "timeoutSeconds"),
        (dict(workflowName="t.linear", workflowId="not-a-uuid"), "INVALID_ARGUMENT", "workflowId"),
        (dict(workflowName="t.linear", partitionKey=""), "INVALID_ARGUMENT", "partitionKey"),
    ]
    for kwargs, code, field in cases:
        resp = service.start(**kwargs)
        assert not resp["ok"] and resp["code"] == code, (kwargs, resp)
        assert resp["message"]
        if field:
            assert resp["data"]["field"] == field, (kwargs, resp)
    assert service.listRuns()["data"]["runs"] == []


def test_typed_parameters_get_their_defaults(engine):
    wid = start("t.typed", batch="B-7")
    assert wait_status(wid)["output"] == {"batch": "B-7", "size": 10, "ratio": 0.5, "enabled": True, "mode": "AUTO"}


def test_reads_validate_ids(engine):
    assert service.getWorkflow(workflowId="x")["code"] == "INVALID_ARGUMENT"
    assert service.getWorkflow(workflowId="00000000-0000-0000-0000-000000000000")["code"] == "NOT_FOUND"
    assert service.listSteps(workflowId="00000000-0000-0000-0000-000000000000")["code"] == "NOT_FOUND"
    assert service.sendCommand(workflowId="00000000-0000-0000-0000-000000000000", cmd="HOLD")["code"] == "NOT_FOUND"
    assert service.cancel(workflowId=None)["code"] == "INVALID_ARGUMENT"
    assert service.listRuns(status="DONE")["code"] == "INVALID_ARGUMENT"
    assert service.listRuns(cursor="garbage")["code"] == "INVALID_ARGUMENT"
    assert service.listRuns(limit=0)["code"] == "INVALID_ARGUMENT"


def test_a_workflow_id_makes_starts_idempotent_and_dedup_blocks_while_active(engine):
    wft.GATES["dedup"] = __import__("threading").Event()
    first = service.start(workflowName="t.gated", inputs={"resolved": {"gate": "dedup", "after": 0}},
                          deduplicationId="lot-42")
    assert first["code"] == "WORKFLOW_ENQUEUED"
    wid = first["data"]["workflowId"]
    again = service.start(workflowName="t.gated", inputs={"resolved": {"gate": "dedup", "after": 0}},
                          deduplicationId="lot-42")
    assert not again["ok"] and again["code"] == "WORKFLOW_DUPLICATE"
    assert again["data"]["workflowId"] == wid
    same = service.start(workflowName="t.linear", workflowId=wid.upper())
    assert same["ok"] and same["code"] == "WORKFLOW_EXISTS" and same["data"]["workflowId"] == wid
    wft.GATES["dedup"].set()
    assert wait_status(wid)["status"] == "SUCCESS"
    reused = service.start(workflowName="t.linear", deduplicationId="lot-42")
    assert reused["code"] == "WORKFLOW_ENQUEUED" and reused["data"]["workflowId"] != wid


def test_cancel_a_running_and_a_queued_run(make_engine):
    engine = make_engine()
    wid = start("t.slow", steps=100, delay=0.05)
    wait_for(lambda: len(service.listSteps(workflowId=wid)["data"]["steps"]) >= 2)
    resp = service.cancel(workflowId=wid, reason="wrong recipe")
    assert resp["code"] == "COMMAND_ACCEPTED", resp
    run = wait_status(wid)
    assert run["status"] == "CANCELLED" and run["error"]["type"] == "WorkflowCancelled"
    assert "wrong recipe" in run["error"]["message"]
    done = len(service.listSteps(workflowId=wid)["data"]["steps"])
    time.sleep(0.3)
    assert len(service.listSteps(workflowId=wid)["data"]["steps"]) == done
    engine.kernel.set_flag("draining", True)
    queued = start("t.linear")
    resp = service.cancel(workflowId=queued, reason="not needed")
    assert resp["ok"] and "at once" in resp["message"]
    assert service.getWorkflow(workflowId=queued)["data"]["status"] == "CANCELLED"
    assert service.cancel(workflowId=queued)["code"] == "COMMAND_REJECTED"


def test_a_changed_step_name_at_a_recorded_position_is_an_error(engine):
    engine.kernel.set_flag("draining", True)
    wid = start("t.linear", steps=2)
    db = engine.store.db
    db.execute("INSERT INTO workflows.operation_outputs (workflow_uuid, function_id, function_name, kind, status, "
               "output, attempts, started_at, completed_at) VALUES (?, 1, 'renamed', 'step', 'SUCCESS', '0', 1, 1, 1)",
               (wid,))
    db.execute("UPDATE workflows.workflow_status SET run_count = 1 WHERE workflow_uuid = ?", (wid,))
    engine.kernel.set_flag("draining", False)
    run = wait_status(wid)
    assert run["status"] == "ERROR"
    assert run["error"]["type"] == "NonDeterminismError"
    assert "renamed" in run["error"]["message"]


def test_runs_on_every_queue_are_dispatched(engine):
    resp = service.start(workflowName="t.linear", queueName="t.limited", inputs={"resolved": {"steps": 1}})
    assert wait_status(resp["data"]["workflowId"])["status"] == "SUCCESS"
    tick = service.dispatch()
    assert tick["ok"] and tick["code"] in ("DISPATCHED", "DISPATCH_BUSY")


def test_a_client_scope_only_writes_rows_and_a_gateway_executes_them(make_engine):
    client = make_engine(executor_id="designer", executes=False)
    resp = service.start(workflowName="t.linear", inputs={"resolved": {"steps": 1}})
    assert resp["ok"] and resp["data"]["executesHere"] is False
    assert "only writes rows" in resp["message"]
    assert service.dispatch()["code"] == "NOT_GATEWAY_SCOPE"
    wid = resp["data"]["workflowId"]
    time.sleep(0.2)
    assert client.store.get_run(wid)["status"] == "ENQUEUED"
    make_engine(executor_id="gateway")
    assert wait_status(wid)["status"] == "SUCCESS"


def test_list_runs_filters_and_pages_newest_first(engine):
    engine.kernel.set_flag("draining", True)
    made = []
    for index in range(7):
        resp = service.start(workflowName="t.linear" if index % 2 else "t.typed",
                             inputs={"resolved": {} if index % 2 else {"batch": "B%d" % index}},
                             partitionKey="p%d" % (index % 3))
        made.append(resp["data"]["workflowId"])
        time.sleep(0.002)
    page = service.listRuns(limit=3)["data"]
    assert [r["workflowId"] for r in page["runs"]] == made[::-1][:3]
    page2 = service.listRuns(limit=3, cursor=page["nextCursor"])["data"]
    page3 = service.listRuns(limit=3, cursor=page2["nextCursor"])["data"]
    assert [r["workflowId"] for r in page2["runs"] + page3["runs"]] == made[::-1][3:]
    assert page3["nextCursor"] is None
    linear = service.listRuns(workflowName="t.linear")["data"]["runs"]
    assert sorted(r["workflowId"] for r in linear) == sorted(made[1::2])
    assert [r["workflowId"] for r in service.listRuns(partitionKey="p0")["data"]["runs"]] == [made[6], made[3], made[0]]
    assert len(service.listRuns(status=["ENQUEUED"])["data"]["runs"]) == 7
    assert service.listRuns(status="SUCCESS")["data"]["runs"] == []
    since = service.getWorkflow(workflowId=made[4])["data"]["createdAt"]
    assert [r["workflowId"] for r in service.listRuns(createdFrom=since)["data"]["runs"]] == made[::-1][:3]


def test_list_workflows_describes_parameters_and_templates(engine):
    workflows = dict((w["name"], w) for w in service.listWorkflows()["data"]["workflows"])
    typed = workflows["t.typed"]
    assert [(p["name"], p["type"], p["required"]) for p in typed["params"]] == [
        ("batch", "json", True), ("size", "int", False), ("ratio", "float", False), ("enabled", "bool", False),
        ("mode", "str", False)]
    assert typed["params"][4]["choices"] == ["AUTO", "MANUAL"]


def test_schema_migrations_are_versioned_and_idempotent(engine):
    from exchange.workflows.store import migrations

    first = admin.migrate()
    assert first["ok"] and first["code"] == "SCHEMA_CURRENT"
    assert first["data"]["version"] == migrations.LATEST == len(migrations.MIGRATIONS)
    rows = engine.store.db.query("SELECT version, name FROM workflows.schema_migrations ORDER BY version")
    assert [r[0] for r in rows] == [v for v, _, _ in migrations.MIGRATIONS]
    assert admin.schemaVersion()["data"] == {"version": migrations.LATEST, "latest": migrations.LATEST}


def test_a_database_that_is_down_is_a_code_not_an_exception(make_engine, tmp_path):
    from exchange.workflows.engine.engine import Engine, EngineConfig
    from exchange.workflows.host import hosts, runtime

    host = hosts.cpython_host("postgresql://postgres@127.0.0.1:1/none", executes=False)
    runtime.install(Engine(host, EngineConfig(executor_id="down")))
    try:
        resp = service.start(workflowName="t.linear")
        assert not resp["ok"] and resp["code"] == "DB_UNAVAILABLE", resp
        assert service.listRuns()["code"] == "DB_UNAVAILABLE"
        assert admin.migrate()["code"] == "DB_UNAVAILABLE"
    finally:
        runtime.uninstall()


def test_a_start_on_one_gateway_wakes_another_through_notify(make_engine):
    """Both gateways tick once a minute, so only the NOTIFY of the start can make the second claim it."""
    if not make_engine.url.startswith("postgres"):
        pytest.skip("SQLite has no NOTIFY: another process sees a start at its next tick")
    first = make_engine(executor_id="gw-first", tick_ms=60000)  # installed: service calls go through it
    first.kernel.set_flag("draining", True)  # it writes the start but claims nothing
    second = make_engine(executor_id="gw-second", tick_ms=60000)
    time.sleep(0.5)  # both listeners are connected
    wid = service.start(workflowName="t.linear", inputs={"resolved": {"steps": 2}})["data"]["workflowId"]
    run = wait_status(wid, timeout=10.0)
    assert run["status"] == "SUCCESS"
    assert second.store.get_run(wid)["executor_id"] == "gw-second"


def test_a_gateway_skips_the_echo_of_its_own_start(make_engine):
    """Its own start woke its dispatcher already: the NOTIFY it hears back names it and is not acted on."""
    engine = make_engine(tick_ms=60000, listen=False)
    engine.on_notification("start@%s:default" % engine.kernel.instance)
    assert engine.dispatcher._take_revisit() == set()
    engine.on_notification("start@some-other-gateway:default")
    assert engine.dispatcher._take_revisit() == set(["default"])
    engine.on_notification("start:default")  # the payload of an earlier version
    assert engine.dispatcher._take_revisit() == set(["default"])
