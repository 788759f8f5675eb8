"""Script reloads in Ignition, proven under Jython with the `system` fake.

Saving a project gives the gateway a new interpreter with new module objects, while threads started by the old
one keep running old code and the Java objects in system.util.getGlobals() live on. Here two "interpreters"
are two imports of every exchange.* module against one globals map: a run started under generation 1 is
finished by generation 2 from its checkpoints, no step runs twice, and the old worker thread ends.
"""
import sys

import harness
from harness import fixture, wait_for


@fixture
def preserved_modules():
    """Put this interpreter's exchange.* modules back after the test (other tests hold references to them)."""
    saved = harness.exchange_modules()
    saved_workflows = sys.modules.get("jy_workflows")
    yield saved
    harness.new_interpreter(extra=("jy_workflows",))
    sys.modules.update(saved)
    if saved_workflows is not None:
        sys.modules["jy_workflows"] = saved_workflows


def _interpreter():
    """This interpreter's view: (admin, service, runtime, workflows module), imported now."""
    from exchange.workflows.api import admin, service
    from exchange.workflows.host import runtime
    import jy_workflows

    return admin, service, runtime, jy_workflows


def _entered(state, label):
    return label in list(state.get("entered"))


def test_a_run_started_under_one_generation_finishes_under_the_next(fake_system, pg_url, preserved_modules):
    fake_system.fake.add_connection("Workflows", pg_url)
    harness.new_interpreter(extra=("jy_workflows",))

    # generation 1: the gateway startup event, then a run that stops inside its second step
    admin1, service1, runtime1, workflows1 = _interpreter()
    resp = admin1.startGateway(database="Workflows", modules=["jy_workflows"], workers=2)
    assert resp["code"] == "GATEWAY_STARTED" and resp["data"]["generation"] == 1, resp
    state = workflows1.shared()
    gate = state.get("gate")
    wid = service1.start(workflowName="jy.gated", inputs={"resolved": {"steps": 4}})["data"]["workflowId"]
    wait_for(lambda: _entered(state, "s1"), message="s1 to start")
    gate.release()
    wait_for(lambda: _entered(state, "s2"), message="s2 to start")
    old_thread = state.get("threads").get("s2")
    engine1 = runtime1.current()

    # the project is saved: new module objects, same globals
    harness.new_interpreter(extra=("jy_workflows",))
    admin2, service2, runtime2, workflows2 = _interpreter()
    assert runtime2 is not runtime1 and runtime2.current() is None
    assert workflows2.INCARNATION != workflows1.INCARNATION
    resp = service2.dispatch()  # the new interpreter's first timer tick builds its engine: generation 2
    assert resp["ok"], resp
    engine2 = runtime2.current()
    assert engine2.generation == 2 and engine2.host.executes
    assert engine2.executor_id == engine1.executor_id
    # the gateway log names the generation, the modules it loaded and the registry's changes since the last start
    loaded = fake_system.fake.log_records.find(logger="exchange.workflows.engine", contains="generation 2 loaded")
    assert loaded and "jy_workflows" in loaded[-1][2] and "unchanged" in loaded[-1][2], loaded
    assert service2.getWorkflow(workflowId=wid)["data"]["status"] == "RUNNING"  # s2 is still running, old code

    gate.release()  # s2 finishes under generation 1, which then hands the run back at the boundary

    def adopted():
        service2.dispatch()  # timer ticks of the new interpreter
        return _entered(state, "s3")
    wait_for(adopted, message="generation 2 to adopt the run and reach s3")
    wait_for(lambda: not old_thread.isAlive(), message="the generation-1 worker thread to end")
    gate.release()
    gate.release()

    def finished():
        service2.dispatch()
        return service2.getWorkflow(workflowId=wid)["data"]["status"] == "SUCCESS"
    wait_for(finished, message="the run to succeed under generation 2")

    executions = [e.split("|") for e in state.get("executions")]
    assert [label for label, _ in executions] == ["s1", "s2", "s3", "s4"], executions  # each step exactly once
    assert [who for _, who in executions] == [workflows1.INCARNATION] * 2 + [workflows2.INCARNATION] * 2
    run = service2.getWorkflow(workflowId=wid)["data"]
    assert run["output"] == ["s1", "s2", "s3", "s4"]
    steps = service2.listSteps(workflowId=wid)["data"]["steps"]
    assert [(s["functionId"], s["output"], s["attempts"]) for s in steps] == [
        (1, "s1", 1), (2, "s2", 1), (3, "s3", 1), (4, "s4", 1)]
    log = [e["value"] for e in service2.readStream(workflowId=wid, key="log")["data"]["entries"]]
    handed_back = [e for e in log if e.get("kind") == "status" and e.get("status") == "PENDING"]
    assert handed_back and "reloaded" in handed_back[0]["reason"], log
    assert engine2.kernel.active.size() == 0
    assert state.get("threads").get("s3") != old_thread  # a thread of the new pool


def test_a_drain_entered_before_a_save_holds_until_exit_maintenance(fake_system, pg_url, preserved_modules):
    fake_system.fake.add_connection("Workflows", pg_url)
    harness.new_interpreter(extra=("jy_workflows",))
    admin1, service1, _, _ = _interpreter()
    assert admin1.startGateway(database="Workflows", modules=["jy_workflows"], workers=2)["ok"]
    assert admin1.enterMaintenance("drain")["code"] == "MAINTENANCE_ENTERED"

    harness.new_interpreter(extra=("jy_workflows",))  # the new code is saved while draining
    admin2, service2, runtime2, _ = _interpreter()
    wid = service2.start(workflowName="jy.quick", inputs={"resolved": {}})["data"]["workflowId"]
    for _ in range(3):
        assert service2.dispatch()["ok"]
    assert runtime2.current().generation == 2
    status = admin2.maintenanceStatus()["data"]
    assert status["draining"] is True and status["generation"] == 2, status
    assert service2.getWorkflow(workflowId=wid)["data"]["status"] == "ENQUEUED"
    assert admin2.exitMaintenance()["code"] == "MAINTENANCE_EXITED"

    def finished():
        service2.dispatch()
        return service2.getWorkflow(workflowId=wid)["data"]["status"] == "SUCCESS"
    wait_for(finished, message="the run once maintenance is over")
