"""Operator commands at step boundaries, on PostgreSQL and SQLite."""
import threading
import time

import workflows_for_tests as wft
from conftest import wait_for, wait_status
from exchange.workflows.api import service

OPERATOR = {"name": "olga", "roles": ["operator"]}
SUPERVISOR = {"name": "sam", "roles": ["supervisor"]}
VIEWER = {"name": "vic", "roles": ["viewer"]}


def start(name, **params):
    resp = service.start(workflowName=name, inputs={"resolved": params})
    assert resp["ok"], resp
    return resp["data"]["workflowId"]


def steps_of(wid):
    return service.listSteps(workflowId=wid)["data"]["steps"]


def phases(wid):
    history = service.getWorkflow(workflowId=wid, includeHistory=True)["data"]["eventHistory"]
    return [h["value"] for h in history if h["key"] == "phase"]


def commands_of(wid):
    return [(c["cmd"], c["state"]) for c in service.listCommands(workflowId=wid)["data"]["commands"]]


def log_of(wid, kind=None):
    entries = [e["value"] for e in service.readStream(workflowId=wid, key="log")["data"]["entries"]]
    return [e for e in entries if kind is None or e["kind"] == kind]


def executions(wid):
    return dict((name, n) for (w, name), n in wft.ATTEMPTS.items() if w == wid)


def running_with_steps(wid, count):
    wait_for(lambda: len(steps_of(wid)) >= count, message="%d steps of %s" % (count, wid))


def test_hold_resume_stop_back_to_back_are_all_accepted_and_applied_in_order(engine):
    wid = start("t.stoppable", steps=200, delay=0.05)
    running_with_steps(wid, 2)
    answers = [service.sendCommand(workflowId=wid, cmd="HOLD", reason="operator hold"),
               service.sendCommand(workflowId=wid, cmd="RESUME"),
               service.sendCommand(workflowId=wid, cmd="STOP", reason="operator stop")]
    assert [a["code"] for a in answers] == ["COMMAND_ACCEPTED"] * 3, answers
    run = wait_status(wid)
    assert run["status"] == "STOPPED" and run["phase"] == "STOPPED"
    assert phases(wid) == ["RUNNING", "HOLDING", "HELD", "RESUMING", "RUNNING", "STOPPING", "STOPPED"]
    assert commands_of(wid) == [("HOLD", "APPLIED"), ("RESUME", "APPLIED"), ("STOP", "APPLIED")]
    command_log = log_of(wid, "command")
    assert [(e["cmd"], e["actor"], e["reason"], e["outcome"]) for e in command_log] == [
        ("HOLD", "system", "operator hold", "APPLIED"), ("RESUME", "system", None, "APPLIED"),
        ("STOP", "system", "operator stop", "APPLIED")]
    recorded = steps_of(wid)
    assert recorded[-1]["name"] == "on_stop" and recorded[-1]["status"] == "SUCCESS"
    counted = [s for s in recorded if s["name"] == "count"]
    assert all(s["status"] == "SUCCESS" for s in counted)
    assert sum(n for name, n in executions(wid).items() if name.startswith("count-")) == len(counted)
    assert executions(wid)["cleanup"] == 1
    time.sleep(0.3)
    assert len(steps_of(wid)) == len(recorded), "nothing runs after STOP"


def test_hold_parks_the_run_without_a_thread_and_resume_continues_it(engine):
    wid = start("t.slow", steps=30, delay=0.03)
    running_with_steps(wid, 2)
    assert service.sendCommand(workflowId=wid, cmd="HOLD", reason="check seal")["ok"]
    run = wait_status(wid, "HELD")
    assert run["phase"] == "HELD" and run["executorId"] is None
    wait_for(lambda: not engine.kernel.active.contains(wid), message="the held run to leave the pool")
    done = len(steps_of(wid))
    time.sleep(0.3)
    assert len(steps_of(wid)) == done
    assert service.sendCommand(workflowId=wid, cmd="RESUME", reason="seal ok")["ok"]
    run = wait_status(wid)
    assert run["status"] == "SUCCESS" and run["output"] == 30
    assert all(n == 1 for n in executions(wid).values()), executions(wid)
    assert phases(wid) == ["RUNNING", "HOLDING", "HELD", "RESUMING", "RUNNING", "COMPLETE"]


def test_a_held_run_survives_a_gateway_restart_and_resumes_without_repeating_steps(make_engine):
    first = make_engine(executor_id="gw")
    wid = start("t.slow", steps=20, delay=0.03)
    running_with_steps(wid, 3)
    service.sendCommand(workflowId=wid, cmd="HOLD")
    wait_status(wid, "HELD")
    first.stop()
    second = make_engine(executor_id="gw")
    time.sleep(0.3)
    assert service.getWorkflow(workflowId=wid)["data"]["status"] == "HELD"
    assert service.sendCommand(workflowId=wid, cmd="RESUME")["ok"]
    assert wait_status(wid)["status"] == "SUCCESS"
    assert all(n == 1 for n in executions(wid).values()), executions(wid)
    assert len(executions(wid)) == 20
    assert second.store.get_run(wid)["run_count"] == 2


def test_two_hundred_held_runs_do_not_block_new_work_on_four_threads(make_engine):
    engine = make_engine(workers=4)
    running = [start("t.slow", steps=200, delay=0.02) for _ in range(4)]
    for wid in running:
        running_with_steps(wid, 1)
        service.sendCommand(workflowId=wid, cmd="HOLD")
    engine.kernel.set_flag("draining", True)
    # a tick that read the flag before it was set may still be claiming: let it end before anything is queued
    wait_for(engine.kernel.try_dispatch_lock, timeout=10, message="the dispatcher to finish its tick")
    engine.kernel.release_dispatch_lock()
    queued = [start("t.linear", steps=2) for _ in range(196)]
    for wid in queued:
        assert service.sendCommand(workflowId=wid, cmd="HOLD")["code"] == "COMMAND_ACCEPTED"
    engine.kernel.set_flag("draining", False)  # each starts, parks at its first boundary and frees its thread
    wait_for(lambda: len(service.listRuns(status="HELD", limit=500)["data"]["runs"]) == 200, timeout=30,
             message="200 held runs")
    # a worker leaves the pool just after it recorded the park
    wait_for(lambda: engine.kernel.active.size() == 0, timeout=5, message="the workers to be free")
    fresh = [start("t.linear", steps=2) for _ in range(8)]
    for wid in fresh:
        assert wait_status(wid, timeout=30)["status"] == "SUCCESS"
    for wid in queued:
        service.sendCommand(workflowId=wid, cmd="RESUME")
    for wid in queued:
        assert wait_status(wid, timeout=60)["status"] == "SUCCESS"


def test_stop_and_cancel_work_on_a_held_run(engine):
    stopped = start("t.stoppable", steps=100, delay=0.03)
    cancelled = start("t.stoppable", steps=100, delay=0.03)
    for wid in (stopped, cancelled):
        running_with_steps(wid, 1)
        service.sendCommand(workflowId=wid, cmd="HOLD")
        wait_status(wid, "HELD")
    assert service.sendCommand(workflowId=stopped, cmd="STOP", reason="abort batch")["code"] == "COMMAND_ACCEPTED"
    run = wait_status(stopped)
    assert run["status"] == "STOPPED"
    assert executions(stopped)["cleanup"] == 1
    assert phases(stopped)[-2:] == ["STOPPING", "STOPPED"]
    resp = service.cancel(workflowId=cancelled, reason="scrap")
    assert resp["ok"] and "at once" in resp["message"]
    assert service.getWorkflow(workflowId=cancelled)["data"]["status"] == "CANCELLED"
    assert commands_of(cancelled) == [("HOLD", "APPLIED"), ("CANCEL", "APPLIED")]


def test_commands_are_judged_against_the_state_after_pending_commands(engine):
    wid = start("t.slow", steps=200, delay=0.03)
    running_with_steps(wid, 1)
    engine.kernel.set_flag("draining", True)
    early = service.sendCommand(workflowId=wid, cmd="RESUME")
    assert early["code"] == "COMMAND_REJECTED" and early["data"]["rejection"] == "NOT_HELD"
    assert service.sendCommand(workflowId=wid, cmd="HOLD")["ok"]
    second_hold = service.sendCommand(workflowId=wid, cmd="HOLD")
    assert second_hold["code"] == "COMMAND_REJECTED"
    assert service.sendCommand(workflowId=wid, cmd="RESUME")["ok"]
    assert service.sendCommand(workflowId=wid, cmd="RESUME")["data"]["rejection"] == "NOT_HELD"
    assert service.sendCommand(workflowId=wid, cmd="STOP")["ok"]
    after_stop = service.sendCommand(workflowId=wid, cmd="HOLD")
    assert after_stop["code"] == "COMMAND_REJECTED" and after_stop["data"]["rejection"] == "RUN_ENDING"
    unknown = service.sendCommand(workflowId=wid, cmd="EXPLODE")
    assert unknown["code"] == "COMMAND_REJECTED" and unknown["data"]["rejection"] == "UNKNOWN_COMMAND"
    engine.kernel.set_flag("draining", False)
    assert wait_status(wid)["status"] == "STOPPED"
    states = commands_of(wid)
    assert ("RESUME", "REJECTED") in states and ("EXPLODE", "REJECTED") in states
    assert [e["outcome"] for e in log_of(wid, "command") if e["cmd"] == "RESUME"][0] == "REJECTED"
    finished = service.sendCommand(workflowId=wid, cmd="RESET")
    assert finished["code"] == "COMMAND_REJECTED" and finished["data"]["rejection"] == "RUN_FINISHED"


def test_roles_gate_commands_and_denials_are_recorded(engine):
    wid = start("t.slow", steps=200, delay=0.03)
    running_with_steps(wid, 1)
    denied = service.sendCommand(workflowId=wid, cmd="STOP", reason="tried", actor=OPERATOR)
    assert not denied["ok"] and denied["code"] == "COMMAND_FORBIDDEN"
    assert service.cancel(workflowId=wid, actor=OPERATOR)["code"] == "COMMAND_FORBIDDEN"
    assert service.sendCommand(workflowId=wid, cmd="HOLD", actor=VIEWER)["code"] == "COMMAND_FORBIDDEN"
    assert service.sendCommand(workflowId=wid, cmd="HOLD", actor=OPERATOR)["code"] == "COMMAND_ACCEPTED"
    wait_status(wid, "HELD")
    assert service.sendCommand(workflowId=wid, cmd="STOP", actor=SUPERVISOR)["code"] == "COMMAND_ACCEPTED"
    assert wait_status(wid)["status"] == "STOPPED"
    log = service.listCommands(workflowId=wid)["data"]["commands"]
    assert [(c["cmd"], c["actor"], c["state"]) for c in log] == [
        ("STOP", "olga", "FORBIDDEN"), ("CANCEL", "olga", "FORBIDDEN"), ("HOLD", "vic", "FORBIDDEN"),
        ("HOLD", "olga", "APPLIED"), ("STOP", "sam", "APPLIED")]
    assert log[0]["actorRoles"] == ["operator"] and log[0]["reason"] == "tried"


def test_the_role_table_is_configurable(engine):
    engine.store.put_setting("commandRoles", '{"STOP": ["operator", "supervisor", "admin"]}', "test", 0)
    wid = start("t.slow", steps=200, delay=0.03)
    running_with_steps(wid, 1)
    assert service.sendCommand(workflowId=wid, cmd="STOP", actor=OPERATOR)["code"] == "COMMAND_ACCEPTED"
    assert wait_status(wid)["status"] == "STOPPED"


def test_reset_and_declared_commands_are_delivered_to_the_workflow(engine):
    wid = start("t.receiver", wait=10.0)
    wait_for(lambda: service.getWorkflow(workflowId=wid)["data"]["status"] == "RUNNING")
    resp = service.sendCommand(workflowId=wid, cmd="RESET", reason="new shift", actor=OPERATOR)
    assert resp["code"] == "COMMAND_ACCEPTED"
    run = wait_status(wid)
    assert run["output"] == "RESET"
    assert commands_of(wid) == [("RESET", "DELIVERED")]
    wid = start("t.receiver", wait=10.0)
    wait_for(lambda: service.getWorkflow(workflowId=wid)["data"]["status"] == "RUNNING")
    assert service.sendCommand(workflowId=wid, cmd="PING", payload={"n": 1})["ok"]
    assert wait_status(wid)["output"] == "PING"
    undeclared = start("t.slow", steps=100, delay=0.03)
    running_with_steps(undeclared, 1)
    assert service.sendCommand(workflowId=undeclared, cmd="PING")["data"]["rejection"] == "UNKNOWN_COMMAND"
    assert service.sendCommand(workflowId=undeclared, cmd="RESET")["ok"]
    service.cancel(workflowId=undeclared)
    wait_status(undeclared)
    wait_for(lambda: ("RESET", "SUPERSEDED") in commands_of(undeclared), message="RESET to end SUPERSEDED")


def test_commands_racing_with_completion_always_get_an_outcome(engine):
    for _ in range(3):
        wid = start("t.linear", steps=3, delay=0.01)
        while True:
            resp = service.sendCommand(workflowId=wid, cmd="RESET")
            if not resp["ok"] and resp["data"]["rejection"] != "NOT_ALLOWED_IN_STATE":  # still queued
                assert resp["data"]["rejection"] == "RUN_FINISHED"
                break
        wait_status(wid)
        wait_for(lambda: all(state != "PENDING" for _, state in commands_of(wid)), timeout=10,
                 message="every command of %s to have an outcome" % wid)
        assert set(state for _, state in commands_of(wid)) <= set(["SUPERSEDED", "REJECTED"])


def test_check_cancelled_lets_a_long_step_stop_at_a_safe_point(engine):
    wid = start("t.long_step", seconds=30.0)
    wait_for(lambda: service.getWorkflow(workflowId=wid)["data"]["status"] == "RUNNING")
    time.sleep(0.2)
    sent = time.time()
    assert service.sendCommand(workflowId=wid, cmd="STOP", reason="emergency")["ok"]
    run = wait_status(wid, timeout=10)
    assert run["status"] == "STOPPED"
    assert time.time() - sent < 10
    interrupted = steps_of(wid)[0]
    assert interrupted["name"] == "long_check" and interrupted["status"] == "CANCELLED"


def test_a_queued_run_held_parks_before_its_first_step_and_resumes(engine):
    engine.kernel.set_flag("draining", True)
    wid = start("t.linear", steps=2)
    assert service.sendCommand(workflowId=wid, cmd="HOLD")["code"] == "COMMAND_ACCEPTED"
    assert service.getWorkflow(workflowId=wid)["data"]["status"] == "ENQUEUED"
    engine.kernel.set_flag("draining", False)
    wait_status(wid, "HELD")
    assert steps_of(wid) == []
    assert phases(wid) == ["RUNNING", "HOLDING", "HELD"]
    assert service.resume(workflowId=wid)["ok"]
    assert wait_status(wid)["status"] == "SUCCESS"


def test_stop_of_a_queued_run_applies_at_once_unless_commands_are_pending(engine):
    engine.kernel.set_flag("draining", True)
    alone = start("t.linear", steps=2)
    resp = service.sendCommand(workflowId=alone, cmd="STOP")
    assert resp["ok"] and "at once" in resp["message"]
    assert service.getWorkflow(workflowId=alone)["data"]["status"] == "STOPPED"
    ordered = start("t.stoppable", steps=2)
    for cmd in ("HOLD", "RESUME", "STOP"):
        assert service.sendCommand(workflowId=ordered, cmd=cmd)["code"] == "COMMAND_ACCEPTED"
    assert service.getWorkflow(workflowId=ordered)["data"]["status"] == "ENQUEUED"
    engine.kernel.set_flag("draining", False)
    assert wait_status(ordered)["status"] == "STOPPED"
    assert phases(ordered) == ["RUNNING", "HOLDING", "HELD", "RESUMING", "RUNNING", "STOPPING", "STOPPED"]
    assert steps_of(ordered)[0]["name"] == "on_stop"


def test_retry_continues_a_failed_run_without_repeating_completed_steps(engine):
    wid = start("t.fixable", unit="U-%s" % time.time(), before=2, after=2)
    run = wait_status(wid)
    assert run["status"] == "ERROR" and "jammed" in run["error"]["message"]
    forbidden = service.retry(workflowId=wid, actor=OPERATOR)
    assert forbidden["code"] == "COMMAND_FORBIDDEN"
    wft.FIXED.add(run["inputs"]["resolved"]["unit"])
    resp = service.retry(workflowId=wid, actor=SUPERVISOR, reason="valve replaced")
    assert resp["ok"] and resp["data"]["fromFunctionId"] == 3
    new = resp["data"]["workflowId"]
    rerun = wait_status(new)
    assert rerun["status"] == "SUCCESS" and rerun["retryOf"] == wid and rerun["retryFrom"] == 3
    assert [s["name"] for s in steps_of(new)] == ["count", "count", "inspect", "count", "count"]
    assert executions(new) == {"inspect": 1, "count-2": 1, "count-3": 1}
    assert executions(wid) == {"count-0": 1, "count-1": 1, "inspect": 1}
    assert service.getWorkflow(workflowId=wid)["data"]["retries"] == [new]
    assert ("RETRY", "APPLIED") in commands_of(wid)
    running = start("t.slow", steps=100, delay=0.03)
    assert service.retry(workflowId=running)["code"] == "COMMAND_REJECTED"
    service.cancel(workflowId=running)


def test_retry_of_a_stopped_run_continues_after_its_last_completed_step(engine):
    wid = start("t.stoppable", steps=50, delay=0.03)
    running_with_steps(wid, 3)
    service.sendCommand(workflowId=wid, cmd="STOP")
    assert wait_status(wid)["status"] == "STOPPED"
    completed = [s for s in steps_of(wid) if s["name"] == "count"]
    resp = service.retry(workflowId=wid)
    assert resp["data"]["fromFunctionId"] == len(completed) + 1
    rerun = wait_status(resp["data"]["workflowId"], timeout=30)
    assert rerun["status"] == "SUCCESS" and rerun["output"] == 50
    redone = executions(resp["data"]["workflowId"])
    assert len(redone) == 50 - len(completed) and all(n == 1 for n in redone.values())
    by_step = service.retry(workflowId=wid, fromStep="count")
    assert by_step["data"]["fromFunctionId"] == 1
    assert service.retry(workflowId=wid, fromStep="nope")["code"] == "INVALID_ARGUMENT"


def test_a_command_to_a_running_run_reaches_it_inside_a_wait(engine):
    wid = start("t.receiver", wait=30.0)
    wait_for(lambda: service.getWorkflow(workflowId=wid)["data"]["status"] == "RUNNING")
    started = time.time()
    service.sendCommand(workflowId=wid, cmd="STOP")
    assert wait_status(wid, timeout=10)["status"] == "STOPPED"
    assert time.time() - started < 10


def test_concurrent_senders_each_get_a_recorded_answer(engine):
    wid = start("t.slow", steps=300, delay=0.02)
    running_with_steps(wid, 1)
    answers = []

    def send(cmd):
        answers.append(service.sendCommand(workflowId=wid, cmd=cmd)["code"])
    threads = [threading.Thread(target=send, args=(c,)) for c in ["HOLD", "RESUME"] * 5]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 10
    assert len(commands_of(wid)) == 10
    service.sendCommand(workflowId=wid, cmd="STOP")
    wait_status(wid, timeout=20)
    wait_for(lambda: all(state != "PENDING" for _, state in commands_of(wid)), timeout=10,
             message="outcomes for every command")
