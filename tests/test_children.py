"""Runs that start and await runs, on PostgreSQL and SQLite: children, awaits that hold no worker, results,
commands along the tree, retries that reuse the children that succeeded, and bad input."""
import time

import workflows_for_tests as wft
from conftest import wait_for, wait_status
from exchange.workflows.api import service


def start(name, **params):
    resp = service.start(workflowName=name, inputs={"resolved": params})
    assert resp["code"] == "WORKFLOW_ENQUEUED", resp
    return resp["data"]["workflowId"]


def run(wid):
    return service.getWorkflow(workflowId=wid)["data"]


def children_of(wid):
    return run(wid)["children"]


def history(wid, key="status"):
    return [h["value"] for h in service.getWorkflow(workflowId=wid, includeHistory=True)["data"]["eventHistory"]
            if h["key"] == key]


def test_a_parent_starts_children_awaits_them_all_and_returns_their_outputs(engine):
    wid = start("t.parent", children=3, steps=3, delay=0.01)
    done = wait_status(wid, timeout=30)
    assert done["status"] == "SUCCESS", done
    kids = done["output"]["children"]
    assert done["output"]["outputs"] == [3, 3, 3]
    listed = children_of(wid)
    assert [c["workflowId"] for c in listed] == kids
    assert [(c["status"], c["partitionKey"]) for c in listed] == [("SUCCESS", "unit-%d" % i) for i in range(3)]
    for kid in kids:
        child = run(kid)
        assert (child["parentWorkflowId"], child["rootWorkflowId"]) == (wid, wid)
    assert sorted(r["workflowId"] for r in service.listRuns(parentWorkflowId=wid)["data"]["runs"]) == sorted(kids)
    tops = [r["workflowId"] for r in service.listRuns(topLevelOnly=True)["data"]["runs"]]
    assert wid in tops and not set(kids) & set(tops)
    assert "WAITING" in history(wid) and "WAITING" in history(wid, "phase")
    kinds = [(s["kind"], s["name"]) for s in service.listSteps(workflowId=wid)["data"]["steps"]]
    assert kinds[:4] == [("child", "startChild:t.stoppable")] * 3 + [("await", "awaitAll:3")]


def test_a_waiting_parent_holds_no_worker_thread(make_engine):
    engine = make_engine(workers=2)
    parents = [start("t.parent", children=1, steps=25, delay=0.04, after=0) for _ in range(4)]
    # four parents and their four children on two workers: only possible because waiting parents free theirs
    for wid in parents:
        assert wait_status(wid, timeout=60)["status"] == "SUCCESS"
    # the last worker leaves the pool just after it recorded the end
    wait_for(lambda: engine.kernel.active.size() == 0, timeout=5, message="the workers to be free")


def test_a_waiting_run_shows_what_it_waits_for(engine):
    wid = start("t.parent", children=2, steps=40, delay=0.05)
    waiting = wait_for(lambda: run(wid) if run(wid)["status"] == "WAITING" else None, timeout=20)
    assert waiting["phase"] == "WAITING"
    assert waiting["waitingFor"]["operation"] == "awaitAll"
    assert sorted(waiting["waitingFor"]["workflowIds"]) == sorted(c["workflowId"] for c in waiting["children"])
    assert service.getResult(workflowId=wid)["data"]["done"] is False
    assert wait_status(wid, timeout=30)["status"] == "SUCCESS"


def test_a_failed_child_raises_child_failed_with_its_error_in_the_parent(engine):
    wid = start("t.failing_parent", message="valve V-7 jammed")
    out = wait_status(wid, timeout=30)["output"]
    assert (out["caught"], out["workflowId"], out["status"]) == ("ChildFailed", out["bad"], "ERROR")
    assert (out["errorType"], out["errorMessage"]) == ("ValueError", "valve V-7 jammed")
    await_step = [s for s in service.listSteps(workflowId=wid)["data"]["steps"] if s["kind"] == "await"][0]
    assert await_step["status"] == "ERROR" and await_step["error"]["type"] == "ChildFailed"


def test_await_first_returns_the_first_run_to_end(engine):
    wid = start("t.first_of", slow_steps=40)
    out = wait_status(wid, timeout=30)["output"]
    assert out["winner"] == out["quick"] and out["output"] == 0
    assert run(out["slow"])["status"] in ("RUNNING", "PENDING", "ENQUEUED", "SUCCESS")


def test_a_workflow_may_await_a_run_a_script_started(engine):
    target = start("t.slow", steps=10, delay=0.05)
    wid = start("t.awaiter", target=target)
    assert wait_status(wid, timeout=30)["output"] == 10
    assert run(target)["parentWorkflowId"] is None


def test_an_await_past_its_timeout_raises_wait_timeout_and_the_timeout_survives_the_wait(engine):
    wid = start("t.await_timeout", timeout=0.4)
    began = time.time()
    out = wait_status(wid, timeout=30)["output"]
    assert out["caught"] == "WaitTimeout" and time.time() - began < 10
    await_step = [s for s in service.listSteps(workflowId=wid)["data"]["steps"] if s["kind"] == "await"][0]
    assert await_step["error"]["type"] == "WaitTimeout"
    service.cancel(workflowId=out["child"])


def test_get_result_answers_without_waiting(engine):
    wid = start("t.linear", steps=1)
    done = wait_status(wid)
    result = service.getResult(workflowId=wid)
    assert result["ok"] and result["data"]["done"] and result["data"]["succeeded"]
    assert result["data"]["output"] == done["output"] == 0
    failed = start("t.fails", message="x")
    wait_status(failed)
    answer = service.getResult(workflowId=failed)["data"]
    assert (answer["done"], answer["succeeded"], answer["error"]["type"]) == (True, False, "ValueError")
    assert service.getResult(workflowId="0f4d1b4e-2f3a-4c9e-9d7e-1234567890ab")["code"] == "NOT_FOUND"
    assert service.getResult(workflowId="nope")["code"] == "INVALID_ARGUMENT"


def test_hold_resume_and_stop_of_a_parent_go_on_to_its_children_with_their_own_command_records(engine):
    wid = start("t.parent", children=2, steps=80, delay=0.05)
    wait_for(lambda: run(wid)["status"] == "WAITING" and len(children_of(wid)) == 2, timeout=20)
    kids = [c["workflowId"] for c in children_of(wid)]
    hold = service.sendCommand(workflowId=wid, cmd="HOLD", reason="operator hold",
                               actor={"name": "otto", "roles": ["operator"]})
    assert hold["code"] == "COMMAND_ACCEPTED", hold
    for kid in kids + [wid]:
        wait_status(kid, "HELD", timeout=20)
    for kid in kids:
        commands = service.listCommands(workflowId=kid)["data"]["commands"]
        assert [(c["cmd"], c["actor"], c["causeId"], c["state"]) for c in commands] == [
            ("HOLD", "otto", hold["data"]["commandId"], "APPLIED")]
    # a child held on its own stays held when the parent resumes
    own = service.sendCommand(workflowId=kids[0], cmd="RESUME")
    assert own["ok"]
    wait_for(lambda: run(kids[0])["status"] in ("RUNNING", "PENDING"), timeout=20)
    assert service.sendCommand(workflowId=kids[0], cmd="HOLD", reason="just this unit")["ok"]
    wait_status(kids[0], "HELD", timeout=20)
    resume = service.sendCommand(workflowId=wid, cmd="RESUME", actor={"name": "otto", "roles": ["operator"]})
    assert resume["ok"]
    wait_for(lambda: run(kids[1])["status"] in ("RUNNING", "PENDING", "SUCCESS"), timeout=20)
    wait_for(lambda: run(wid)["status"] == "WAITING", timeout=20)
    assert run(kids[0])["status"] == "HELD"
    assert [c["cmd"] for c in service.listCommands(workflowId=kids[0])["data"]["commands"]] == ["HOLD", "RESUME",
                                                                                                   "HOLD"]
    forbidden = service.sendCommand(workflowId=wid, cmd="STOP", actor={"name": "otto", "roles": ["operator"]})
    assert forbidden["code"] == "COMMAND_FORBIDDEN"
    assert [c["cmd"] for c in service.listCommands(workflowId=kids[1])["data"]["commands"]] == ["HOLD", "RESUME"]
    stop = service.sendCommand(workflowId=wid, cmd="STOP", reason="end of shift",
                               actor={"name": "sam", "roles": ["supervisor"]})
    assert stop["ok"]
    parent_run = wait_status(wid, timeout=30)
    assert parent_run["status"] == "STOPPED"
    ended = [wait_status(kid, timeout=30) for kid in kids]
    assert [k["status"] for k in ended] == ["STOPPED", "STOPPED"]
    # the parent's on_stop ran after its children had stopped
    cleanup = [s for s in service.listSteps(workflowId=wid)["data"]["steps"] if s["name"] == "on_stop"][0]
    assert cleanup["startedAt"] >= max(k["completedAt"] for k in ended)
    for kid in kids:
        last = service.listCommands(workflowId=kid)["data"]["commands"][-1]
        assert (last["cmd"], last["causeId"], last["actor"]) == ("STOP", stop["data"]["commandId"], "sam")


def test_a_stop_of_one_child_makes_the_parents_await_raise_child_failed(engine):
    wid = start("t.parent", children=2, steps=80, delay=0.05)
    wait_for(lambda: run(wid)["status"] == "WAITING" and len(children_of(wid)) == 2, timeout=20)
    kid = children_of(wid)[0]["workflowId"]
    assert service.sendCommand(workflowId=kid, cmd="STOP")["ok"]
    failed = wait_status(wid, timeout=30)
    assert failed["status"] == "ERROR" and failed["error"]["type"] == "ChildFailed"
    assert kid in failed["error"]["message"] and "STOPPED" in failed["error"]["message"]


def test_cancel_of_a_waiting_parent_ends_it_at_once_and_cancels_its_children(engine):
    wid = start("t.parent", children=2, steps=80, delay=0.05)
    wait_for(lambda: run(wid)["status"] == "WAITING" and len(children_of(wid)) == 2, timeout=20)
    resp = service.cancel(workflowId=wid, reason="wrong recipe")
    assert resp["code"] == "COMMAND_ACCEPTED" and resp["data"]["status"] == "WAITING"
    assert run(wid)["status"] == "CANCELLED"
    for child in children_of(wid):
        assert wait_status(child["workflowId"], timeout=30)["status"] == "CANCELLED"


def test_retry_of_a_failed_parent_reuses_the_children_that_succeeded(engine):
    unit = "U-retry-%f" % time.time()
    wid = start("t.parent_of_failure", unit=unit)
    failed = wait_status(wid, timeout=30)
    assert failed["status"] == "ERROR" and failed["error"]["type"] == "ChildFailed"
    good, bad = [c["workflowId"] for c in children_of(wid)]
    wft.FIXED.add(unit)
    again = service.retry(workflowId=wid)
    assert again["ok"], again
    new = again["data"]["workflowId"]
    done = wait_status(new, timeout=30)
    assert done["status"] == "SUCCESS" and done["output"] == [0, "fixed"]
    reused = [c["workflowId"] for c in children_of(new)]
    assert reused[0] == good and reused[1] not in (good, bad)
    assert run(reused[1])["parentWorkflowId"] == new
    assert wft.ATTEMPTS[(good, "count-0")] == 1  # the child that succeeded ran once


def test_bad_children_and_awaits_fail_the_run_with_a_clear_error_and_write_nothing_half(engine):
    expected = {"unknown": "UnknownWorkflow", "queue": "UnknownQueue", "malformed": "InvalidArgument",
                "missing": "NotFound", "self": "InvalidArgument", "partition": "InvalidArgument"}
    for case, error_type in sorted(expected.items()):
        resp = service.start(workflowName="t.bad_children", inputs={"resolved": {"case": case}},
                             partitionKey="reactor-own")
        wid = resp["data"]["workflowId"]
        ended = wait_status(wid, timeout=20)
        assert (ended["status"], ended["error"]["type"]) == ("ERROR", error_type), (case, ended["error"])
        assert children_of(wid) == [] and service.listRuns(parentWorkflowId=wid)["data"]["runs"] == []
    cycle = start("t.cycle_parent")
    child = wait_for(lambda: children_of(cycle), timeout=20)[0]["workflowId"]
    refused = wait_status(child, timeout=20)
    assert refused["status"] == "ERROR" and "ancestor" in refused["error"]["message"]
    assert wait_status(cycle, timeout=20)["error"]["type"] == "ChildFailed"


def test_start_child_outside_a_workflow_is_refused():
    from exchange.workflows.engine.context import getWorkflows
    from exchange.workflows.engine.signals import NotInWorkflow

    try:
        getWorkflows().startChild("t.linear")
    except NotInWorkflow as exc:
        assert "only usable while a workflow runs" in str(exc)
    else:
        raise AssertionError("startChild outside a workflow must raise")


def test_a_replay_never_starts_a_second_child_when_the_start_was_not_recorded(make_engine):
    first = make_engine(executor_id="gw-a", tick_ms=100, lease_ms=1500)
    wid = start("t.parent", children=1, steps=60, delay=0.05)
    wait_for(lambda: run(wid)["status"] == "WAITING", timeout=20)
    kid = children_of(wid)[0]["workflowId"]
    # as if the gateway had died after inserting the child and before recording the start: the record is gone
    first.store.db.execute("DELETE FROM workflows.operation_outputs WHERE workflow_uuid = ? AND kind IN ('child', "
                           "'await')", (wid,))
    first.store.db.execute("UPDATE workflows.workflow_status SET status = 'PENDING', executor_id = 'gw-a' WHERE "
                           "workflow_uuid = ?", (wid,))
    first.dispatcher.adopt_own(int(time.time() * 1000))
    done = wait_status(wid, timeout=40)
    assert done["status"] == "SUCCESS" and done["output"]["children"] == [kid]
    assert [r["workflowId"] for r in service.listRuns(parentWorkflowId=wid)["data"]["runs"]] == [kid]


def test_a_child_end_wakes_its_parent_without_waiting_for_the_timer(make_engine):
    make_engine(tick_ms=60000)  # only pushes can wake the parent within this test
    wid = start("t.parent", children=1, steps=5, delay=0.01, after=0)
    done = wait_status(wid, timeout=10)
    child = run(done["output"]["children"][0])
    assert done["completedAt"] - child["completedAt"] < 2000
