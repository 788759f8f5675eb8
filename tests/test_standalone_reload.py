"""Changing workflow code under a running `./gateway run`: kill -HUP loads the workflow modules again, as a project
save does in Ignition. A step added behind patched() leaves a running run on its old branch (no step twice, the
same gateway), a new run takes the new one, the gateway's log names the modules and the registry's changes; a
dropped step makes the run end with the divergence named, and continueWithCurrentCode finishes it."""
import os
import signal
import time
import uuid

import pytest

from conftest import wait_for, wait_status
from exchange.workflows.api import service
from test_standalone_gateway import Gateway, gateway_db  # noqa: F401 - a fixture

HEAD = '''
import os, time
from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import step, workflow

def _note(name):
    with open(os.environ["WORKFLOWS_SIDE_CHANNEL"], "a") as handle:
        handle.write("%s %s 0\\n" % (getWorkflows().workflowId, name))

def _phase(index):
    @step(name="phase-%d" % index)
    def run_phase(delay):
        _note("phase-%d" % index)
        time.sleep(delay)
        return index
    return run_phase

PHASES = [_phase(i) for i in range(10)]

@step(name="extra-check")
def extra_check():
    _note("extra-check")
    return "checked"
'''
OLD = HEAD + '''
@workflow(name="WF_NAME")
def flow(delay=0.2):
    return {"path": "old", "done": [PHASES[i](delay) for i in range(10)]}
'''
PATCHED = HEAD + '''
@workflow(name="WF_NAME")
def flow(delay=0.2):
    path = "old"
    done = []
    for i in range(10):
        if i == 2 and getWorkflows().patched("extra-check"):
            extra_check()
            path = "new"
        done.append(PHASES[i](delay))
    return {"path": path, "done": done}
'''
DROPPED = HEAD + '''
@workflow(name="WF_NAME")
def flow(delay=0.2):
    return {"path": "without phase 1", "done": [PHASES[i](delay) for i in range(10) if i != 1]}
'''


def test_sighup_loads_the_workflow_modules_again_under_running_runs(gateway_db, tmp_path, monkeypatch):
    import workflows_for_tests as wft

    if not gateway_db.startswith("postgresql"):
        pytest.skip("once, on PostgreSQL (the Jython suite covers the reload on both databases)")
    side = str(tmp_path / "executions.txt")
    monkeypatch.setenv("WORKFLOWS_SIDE_CHANNEL", side)
    folder = tmp_path / "scripts"
    folder.mkdir()
    name = "hup_%s" % uuid.uuid4().hex[:8]
    workflow_name = "hup." + name
    writes = [0]

    def write(source):
        path = folder / (name + ".py")
        path.write_text(source.replace("WF_NAME", workflow_name))
        writes[0] += 1
        stamp = time.time() + 10 * writes[0]
        os.utime(str(path), (stamp, stamp))
        compiled = folder / (name + "$py.class")
        if compiled.exists():
            compiled.unlink()

    def steps(wid):
        return [s["name"] for s in service.listSteps(workflowId=wid)["data"]["steps"]]

    write(OLD)
    gateway = Gateway(gateway_db, "--executor-id", "hup", "--no-demo", "--pythonpath", str(folder), "--modules", name,
                      "--tick-ms", "200")
    try:
        running = service.start(workflowName=workflow_name, inputs={"resolved": {"delay": 0.4}})["data"]["workflowId"]
        wait_for(lambda: len(steps(running)) >= 3, timeout=60, message="three steps")
        write(PATCHED)
        os.kill(gateway.proc.pid, signal.SIGHUP)
        done = wait_status(running, timeout=60)
        assert done["status"] == "SUCCESS", done
        assert done["output"] == {"path": "old", "done": list(range(10))}
        assert done["runCount"] >= 2 and done["executorId"] == "hup"
        counts = wft.executions(side)
        assert dict((n, c) for (w, n), c in counts.items() if w == running) == dict(
            ("phase-%d" % i, 1) for i in range(10))
        wait_for(lambda: "reloaded %s; changed: %s (src-" % (name, workflow_name) in gateway.output(), timeout=10,
                 message="the reload in the gateway's log")
        fresh = service.start(workflowName=workflow_name, inputs={"resolved": {"delay": 0.0}})["data"]["workflowId"]
        assert wait_status(fresh, timeout=60)["output"]["path"] == "new"
        assert steps(fresh)[2:4] == ["patch:extra-check", "extra-check"]

        diverging = service.start(workflowName=workflow_name, inputs={"resolved": {"delay": 0.4}})["data"][
            "workflowId"]
        wait_for(lambda: len(steps(diverging)) >= 3, timeout=60, message="three steps")
        write(DROPPED)
        os.kill(gateway.proc.pid, signal.SIGHUP)
        failed = wait_status(diverging, timeout=60)
        assert failed["status"] == "ERROR" and failed["error"]["type"] == "NonDeterminismError", failed
        assert "position 2" in failed["error"]["message"] and "'phase-1'" in failed["error"]["message"]
        resp = service.continueWithCurrentCode(workflowId=diverging)
        assert resp["code"] == "WORKFLOW_ENQUEUED", resp
        assert wait_status(resp["data"]["workflowId"], timeout=60)["output"]["path"] == "without phase 1"
    finally:
        assert gateway.interrupt() == 0
