"""Recovery and fencing between executors in one process (the multi-process versions are in test_multi_*)."""
import threading
import time

import pytest

import workflows_for_tests as wft
from conftest import wait_for, wait_status
from exchange.workflows.api import service
from exchange.workflows.engine.dispatcher import outage_backoff_ms
from exchange.workflows.util.errors import ExecutorIdInUse


def executed(wid, name):
    return wft.ATTEMPTS.get((wid, name), 0)


def test_a_run_taken_over_after_the_lease_is_fenced_from_its_old_executor(make_engine):
    slow = make_engine(executor_id="slow", tick_ms=60000, lease_ms=60000)  # heartbeats once, then looks dead
    gate = "fence-%f" % time.time()
    wft.GATES[gate] = threading.Event()
    wid = service.start(workflowName="t.gated", inputs={"resolved": {"gate": gate, "after": 2}})["data"]["workflowId"]
    slow.dispatch()
    wait_for(lambda: executed(wid, "gate") == 1, message="the old executor to be inside the gated step")
    make_engine(executor_id="rescuer", lease_ms=300)
    # the rescuer adopts the run (run_count 2) and runs the gated step itself, blocked on the same gate
    wait_for(lambda: executed(wid, "gate") == 2, timeout=20, message="the rescuer to re-execute the gated step")
    assert slow.store.get_run(wid)["executor_id"] == "rescuer"
    wft.GATES[gate].set()
    run = wait_status(wid, timeout=20)
    assert run["status"] == "SUCCESS" and run["executorId"] == "rescuer" and run["recoveryAttempts"] == 1
    steps = service.listSteps(workflowId=wid)["data"]["steps"]
    assert [s["functionId"] for s in steps] == [1, 2, 3, 4]
    time.sleep(0.3)
    # the old execution finished its step too, but recorded nothing and did not go on
    assert executed(wid, "count-1") == 1 and executed(wid, "count-2") == 1
    assert [s["functionId"] for s in service.listSteps(workflowId=wid)["data"]["steps"]] == [1, 2, 3, 4]
    assert not slow.kernel.active.contains(wid)


def crash(engine):
    """What kill -9 leaves of a gateway: its heartbeat stops; the executions inside steps carry on unrecorded."""
    engine.kernel._loop.cancel()
    engine.kernel._loop = None


def test_a_gateway_restarted_under_the_same_id_after_a_crash_takes_its_runs_back_at_once(make_engine):
    first = make_engine(executor_id="gw", tick_ms=100, lease_ms=120000)
    gate = "restart-%f" % time.time()
    wft.GATES[gate] = threading.Event()
    wid = service.start(workflowName="t.gated", inputs={"resolved": {"gate": gate, "after": 1}})["data"]["workflowId"]
    wait_for(lambda: executed(wid, "gate") == 1, message="the first process to be inside the gated step")
    crash(first)
    began = time.time()
    second = make_engine(executor_id="gw", lease_ms=120000)  # same id, new process (kernel): a restart
    assert time.time() - began < 5  # two heartbeat intervals of the crashed one, not the lease
    wait_for(lambda: executed(wid, "gate") == 2, timeout=10, message="the restart to adopt its run before the lease")
    wft.GATES[gate].set()
    run = wait_status(wid, timeout=20)
    assert run["status"] == "SUCCESS" and run["runCount"] == 2
    first.dispatch()  # the crashed process, were it to tick again, notices at its heartbeat and stops dispatching
    assert first.usurped() and not second.usurped()
    executors = dict((e["executorId"], e) for e in service_executors(second))
    assert executors["gw"]["instance"] == second.kernel.instance


def test_a_gateway_started_under_the_id_of_a_live_gateway_refuses_and_the_live_one_goes_on(make_engine):
    first = make_engine(executor_id="twin", tick_ms=100)
    wid = service.start(workflowName="t.slow", inputs={"resolved": {"steps": 10, "delay": 0.05}})["data"]["workflowId"]
    began = time.time()
    with pytest.raises(ExecutorIdInUse) as refused:
        make_engine(executor_id="twin")
    assert time.time() - began < 5
    assert "twin" in str(refused.value) and "--executor-id" in str(refused.value)
    run = wait_status(wid, timeout=20)
    assert run["status"] == "SUCCESS" and run["runCount"] == 1 and run["executorId"] == "twin"
    assert not first.usurped()
    executors = dict((e["executorId"], e) for e in service_executors(first))
    assert executors["twin"]["instance"] == first.kernel.instance and executors["twin"]["state"] == "running"


def test_a_gateway_that_stopped_cleanly_gives_its_id_to_the_next_process_at_once(make_engine):
    first = make_engine(executor_id="gw-clean", tick_ms=5000)
    first.stop(grace_s=1.0)
    began = time.time()
    second = make_engine(executor_id="gw-clean", tick_ms=5000)
    assert time.time() - began < 2  # no watch: a stopped holder is gone
    assert not second.usurped()


def service_executors(engine):
    from exchange.workflows.api import admin

    return admin.listExecutors()["data"]["executors"]


def test_past_max_recovery_attempts_the_run_ends_and_frees_its_partition(make_engine):
    engine = make_engine(executor_id="crashy", tick_ms=60000, max_recovery_attempts=2)
    engine.kernel.set_flag("draining", True)
    wid = service.start(workflowName="t.linear", inputs={"resolved": {"steps": 1}}, partitionKey="reactor-9")["data"][
        "workflowId"]
    waiting = service.start(workflowName="t.linear", inputs={"resolved": {"steps": 1}},
                            partitionKey="reactor-9")["data"]["workflowId"]
    # as found after a third crash: RUNNING on this executor, nothing executing it, two recoveries already spent
    engine.store.db.execute("UPDATE workflows.workflow_status SET status = 'RUNNING', executor_id = 'crashy', "
                            "recovery_attempts = 2, run_count = 3 WHERE workflow_uuid = ?", (wid,))
    assert service.sendCommand(workflowId=wid, cmd="RESET")["ok"]
    engine.dispatcher.adopt_own(int(time.time() * 1000))
    run = service.getWorkflow(workflowId=wid)["data"]
    assert run["status"] == "MAX_RECOVERY_ATTEMPTS_EXCEEDED" and run["recoveryAttempts"] == 3
    assert run["error"]["type"] == "MaxRecoveryAttemptsExceeded"
    assert [c["state"] for c in service.listCommands(workflowId=wid)["data"]["commands"]] == ["SUPERSEDED"]
    engine.kernel.set_flag("draining", False)
    engine.wake()
    assert wait_status(waiting)["status"] == "SUCCESS"


def test_dispatch_backs_off_an_outage_by_doubling_up_to_a_third_of_the_lease():
    """A gateway back from an outage must heartbeat within the lease the other gateways give it then; a pause longer
    than the lease made a live gateway look dead and lose its runs."""
    def pauses(lease_ms, count):
        out, pause = [], 0
        for _ in range(count):
            pause = outage_backoff_ms(pause, lease_ms)
            out.append(pause)
        return out

    assert pauses(5000, 6) == [250, 500, 1000, 1666, 1666, 1666]
    assert pauses(30000, 8) == [250, 500, 1000, 2000, 4000, 8000, 10000, 10000]
    assert pauses(300, 3) == [250, 250, 250]
