"""The engine under Jython through JDBC (the standalone gateway's host), on PostgreSQL and SQLite."""
import sys
import time

from harness import fixture, wait_for, wait_status


@fixture
def gateway(db_url):
    """A started standalone-host engine (JDBC, java.util.concurrent) with this module's workflows."""
    sys.modules.pop("jy_engine_workflows", None)
    import jy_engine_workflows  # noqa: F401 - registers je.* in the current registry

    from exchange.workflows.engine.engine import Engine, EngineConfig
    from exchange.workflows.host import hosts, runtime

    engines = []

    def make(executor_id="jy-gw", **config):
        config.setdefault("tick_ms", 100)
        config.setdefault("workers", 4)
        host = hosts.standalone_host(db_url, globals_map={})
        engine = Engine(host, EngineConfig(executor_id=executor_id, **config))
        runtime.install(engine)
        engine.start()
        engines.append(engine)
        return engine
    yield make
    for engine in reversed(engines):
        if engine.started:
            engine.stop(grace_s=5.0)
        engine.host.close()
    runtime.uninstall()


def _service():
    from exchange.workflows.api import service

    return service


def _counts(wid):
    import jy_engine_workflows

    return dict([(name, n) for (w, name), n in jy_engine_workflows.COUNTS.items() if w == wid])


def test_a_run_executes_with_its_checkpoints(gateway):
    gateway()
    service = _service()
    resp = service.start(workflowName="je.steps", inputs={"resolved": {"count_": 3}}, partitionKey="line-1/reactor-a")
    assert resp["ok"] and resp["code"] == "WORKFLOW_ENQUEUED", resp
    run = wait_status(service, resp["data"]["workflowId"])
    assert run["status"] == "SUCCESS" and run["output"] == 0 + 2 + 4, run
    steps = service.listSteps(workflowId=run["workflowId"])["data"]["steps"]
    assert [(s["functionId"], s["name"], s["output"]) for s in steps] == [(1, "unit", 0), (2, "unit", 2), (3, "unit", 4)]
    log = [e["value"] for e in service.readStream(workflowId=run["workflowId"])["data"]["entries"]]
    assert [e.get("event") or e.get("status") for e in log] == [
        "ENQUEUED", "RUNNING", "started", "finished", "started", "finished", "started", "finished", "SUCCESS"]


def test_a_java_exception_in_a_step_is_retried_then_recorded(gateway):
    gateway()
    service = _service()
    wid = service.start(workflowName="je.java_error")["data"]["workflowId"]
    run = wait_status(service, wid)
    assert run["status"] == "ERROR"
    assert run["error"]["type"] == "IllegalStateException", run["error"]
    assert run["error"]["message"] == u"r\u00e9acteur bloqu\u00e9"
    step = service.listSteps(workflowId=wid)["data"]["steps"][1]
    assert step["status"] == "ERROR" and step["attempts"] == 2
    assert _counts(wid)["java_failure"] == 2


def test_events_streams_and_progress_keep_unicode(gateway):
    gateway()
    service = _service()
    wid = service.start(workflowName="je.records")["data"]["workflowId"]
    run = wait_status(service, wid)
    assert run["output"] == u"\u00e9tape" and run["events"]["label"]["value"] == u"\u00e9tape"
    assert service.readStream(workflowId=wid, key="values")["data"]["entries"][0]["value"] == {"v": u"\u00e9tape"}
    assert run["events"]["progress"]["value"]["message"] == u"moiti\u00e9"


def test_hold_resume_stop_back_to_back(gateway):
    gateway()
    service = _service()
    wid = service.start(workflowName="je.stoppable", inputs={"resolved": {"count_": 200, "seconds": 0.03}})["data"][
        "workflowId"]
    wait_for(lambda: len(service.listSteps(workflowId=wid)["data"]["steps"]) >= 2)
    codes = [service.sendCommand(workflowId=wid, cmd="HOLD", reason="hold")["code"],
             service.sendCommand(workflowId=wid, cmd="RESUME")["code"],
             service.sendCommand(workflowId=wid, cmd="STOP", reason="stop")["code"]]
    assert codes == ["COMMAND_ACCEPTED"] * 3, codes
    run = wait_status(service, wid)
    assert run["status"] == "STOPPED"
    history = service.getWorkflow(workflowId=wid, includeHistory=True)["data"]["eventHistory"]
    assert [h["value"] for h in history if h["key"] == "phase"] == [
        "RUNNING", "HOLDING", "HELD", "RESUMING", "RUNNING", "STOPPING", "STOPPED"]
    assert _counts(wid).get("cleanup") == 1, (run["error"], service.listSteps(workflowId=wid)["data"]["steps"][-2:])


def test_hold_parks_without_a_thread_and_a_restart_resumes_without_repeating_steps(gateway):
    first = gateway()
    service = _service()
    wid = service.start(workflowName="je.stoppable", inputs={"resolved": {"count_": 12, "seconds": 0.03}})["data"][
        "workflowId"]
    wait_for(lambda: len(service.listSteps(workflowId=wid)["data"]["steps"]) >= 3)
    assert service.sendCommand(workflowId=wid, cmd="HOLD")["ok"]
    wait_status(service, wid, "HELD")
    wait_for(lambda: first.kernel.active.size() == 0, message="the held run to leave the pool")
    first.stop(grace_s=5.0)
    gateway()  # same executor id, new kernel: a restarted gateway
    assert service.getWorkflow(workflowId=wid)["data"]["status"] == "HELD"
    assert service.sendCommand(workflowId=wid, cmd="RESUME")["ok"]
    run = wait_status(service, wid)
    assert run["status"] == "SUCCESS" and run["output"] == 12
    counts = _counts(wid)
    assert len(counts) == 12 and set(counts.values()) == set([1]), counts


def test_a_run_interrupted_by_shutdown_continues_from_its_checkpoints(gateway):
    first = gateway()
    service = _service()
    wid = service.start(workflowName="je.steps", inputs={"resolved": {"count_": 10, "seconds": 0.1}})["data"][
        "workflowId"]
    wait_for(lambda: len(service.listSteps(workflowId=wid)["data"]["steps"]) >= 3)
    first.stop(grace_s=5.0)
    done = len(service.listSteps(workflowId=wid)["data"]["steps"])
    assert service.getWorkflow(workflowId=wid)["data"]["status"] == "PENDING"
    gateway()
    run = wait_status(service, wid)
    assert run["status"] == "SUCCESS" and run["runCount"] == 2
    counts = _counts(wid)
    assert set(counts.values()) == set([1]), counts
    assert done >= 3


def test_in_memory_starts_are_flushed_by_a_tick_and_at_shutdown(gateway):
    engine = gateway()
    service = _service()
    fast = service.enqueueInMemory(workflowName="je.steps")
    assert fast["code"] == "WORKFLOW_ACCEPTED"
    assert wait_status(service, fast["data"]["workflowId"])["status"] == "SUCCESS"
    engine.kernel.set_flag("draining", True)
    ids = [service.enqueueInMemory(workflowName="je.steps")["data"]["workflowId"] for _ in range(20)]
    engine.stop(grace_s=5.0)
    for wid in ids:
        assert engine.store.get_run(wid)["status"] == "ENQUEUED"


def test_in_memory_starts_are_written_soon_without_waiting_for_the_timer(gateway):
    engine = gateway(tick_ms=60000)
    engine.kernel.set_flag("draining", True)
    service = _service()
    ids = [service.enqueueInMemory(workflowName="je.steps")["data"]["workflowId"] for _ in range(50)]
    wait_for(lambda: all(engine.store.get_run(wid) is not None for wid in ids), timeout=10.0)
    assert engine.kernel.memory_queue.size() == 0


def test_bad_input_and_a_database_that_is_down_are_codes(gateway):
    gateway()
    service = _service()
    assert service.start(workflowName="je.nope")["code"] == "UNKNOWN_WORKFLOW"
    assert service.start(workflowName="je.steps", inputs={"resolved": {"count_": object()}})["code"] == "INVALID_ARGUMENT"
    assert service.getWorkflow(workflowId="not-a-uuid")["code"] == "INVALID_ARGUMENT"
    from exchange.workflows.engine.engine import Engine, EngineConfig
    from exchange.workflows.host import hosts, runtime

    down = hosts.standalone_host("postgresql://postgres@127.0.0.1:1/none", globals_map={}, executes=False)
    runtime.install(Engine(down, EngineConfig(executor_id="down", migrate=False)))
    resp = service.start(workflowName="je.steps")
    assert not resp["ok"] and resp["code"] == "DB_UNAVAILABLE", resp
    assert service.listRuns()["code"] == "DB_UNAVAILABLE"


def test_a_procedure_starts_unit_procedures_awaits_them_and_holds_no_worker_while_it_waits(gateway):
    engine = gateway(workers=2)  # the procedure and two units on two workers: only if waiting frees its worker
    service = _service()
    wid = service.start(workflowName="je.procedure", inputs={"resolved": {"count_": 4, "seconds": 0.05}})["data"][
        "workflowId"]
    run = wait_status(service, wid, timeout=60)
    assert run["status"] == "SUCCESS", run
    children = run["output"]["children"]
    assert run["output"]["first"] in children
    assert [o["total"] for o in run["output"]["outputs"]] == [12, 12]
    listed = service.getWorkflow(workflowId=wid)["data"]["children"]
    assert [c["workflowId"] for c in listed] == children and [c["status"] for c in listed] == ["SUCCESS", "SUCCESS"]
    assert [c["partitionKey"] for c in listed] == [u"r\u00e9acteur-a", "reactor-b"]
    statuses = [h["value"] for h in service.getWorkflow(workflowId=wid, includeHistory=True)["data"]["eventHistory"]
                if h["key"] == "status"]
    assert "WAITING" in statuses
    wait_for(lambda: engine.kernel.active.size() == 0, timeout=5, message="the workers to be free")


def test_a_java_exception_in_a_child_reaches_the_parent_as_child_failed(gateway):
    gateway()
    service = _service()
    wid = service.start(workflowName="je.catches")["data"]["workflowId"]
    run = wait_status(service, wid, timeout=60)
    assert run["status"] == "SUCCESS", run
    out = run["output"]
    assert (out["type"], out["status"], out["errorType"]) == ("ChildFailed", "ERROR", "IllegalStateException")
    assert out["errorMessage"] == u"vanne bloqu\u00e9e"


def test_hold_resume_and_stop_of_a_procedure_go_on_to_its_units_under_jython(gateway):
    gateway()
    service = _service()
    wid = service.start(workflowName="je.commanded")["data"]["workflowId"]

    def waiting_with_children():
        run = service.getWorkflow(workflowId=wid)["data"]
        return run if run["status"] == "WAITING" and len(run["children"]) == 2 else None
    kids = [c["workflowId"] for c in wait_for(waiting_with_children, timeout=30)["children"]]
    operator = {"name": u"op\u00e9rateur", "roles": ["operator"]}
    hold = service.sendCommand(workflowId=wid, cmd="HOLD", reason="sample", actor=operator)
    assert hold["code"] == "COMMAND_ACCEPTED", hold
    for kid in kids + [wid]:
        wait_status(service, kid, ("HELD",), timeout=30)
    for kid in kids:
        commands = service.listCommands(workflowId=kid)["data"]["commands"]
        assert [(c["cmd"], c["actor"], c["causeId"]) for c in commands] == [
            ("HOLD", u"op\u00e9rateur", hold["data"]["commandId"])]
    assert service.sendCommand(workflowId=wid, cmd="RESUME", actor=operator)["ok"]
    wait_for(lambda: service.getWorkflow(workflowId=wid)["data"]["status"] == "WAITING", timeout=30)
    stop = service.sendCommand(workflowId=wid, cmd="STOP", actor={"name": "sam", "roles": ["supervisor"]})
    assert stop["ok"], stop
    assert wait_status(service, wid, timeout=60)["status"] == "STOPPED"
    for kid in kids:
        assert wait_status(service, kid, timeout=60)["status"] == "STOPPED"
        assert [c["cmd"] for c in service.listCommands(workflowId=kid)["data"]["commands"]] == ["HOLD", "RESUME",
                                                                                               "STOP"]
    assert _counts(wid).get("procedure-cleanup") == 1
