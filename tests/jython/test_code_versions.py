"""Changing workflow code under runs in flight, under Jython (the standalone host, JDBC) on PostgreSQL and SQLite:
a module replaced by admin.loadModules under a running run, with a step added behind patched() (the run finishes
along the old branch, no step twice; a new run takes the new one), and a replacement that drops a recorded step
(the divergence named; continueWithCurrentCode finishes the run)."""
import os
import sys
import time
import uuid

from harness import fixture, wait_for, wait_status

HEAD = '''
import time
from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import step, workflow
import jy_version_counts

def _phase(index):
    @step(name="phase-%d" % index)
    def run_phase(delay):
        jy_version_counts.note(getWorkflows().workflowId, "phase-%d" % index)
        time.sleep(delay)
        return index
    return run_phase

PHASES = [_phase(i) for i in range(10)]

@step(name="extra-check")
def extra_check():
    jy_version_counts.note(getWorkflows().workflowId, "extra-check")
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


@fixture
def versioned(db_url, tmp_dir):
    """A standalone-host engine, and a function writing this test's own workflow module (replaced by writing it
    again and calling admin.loadModules)."""
    from exchange.workflows.engine.engine import Engine, EngineConfig
    from exchange.workflows.host import hosts, runtime

    if tmp_dir not in sys.path:
        sys.path.insert(0, tmp_dir)
    name = "jy_versioned_%s" % uuid.uuid4().hex[:8]
    workflow_name = "jv." + name
    writes = [0]

    def write(source):
        path = os.path.join(tmp_dir, name + ".py")
        with open(path, "w") as handle:
            handle.write(source.replace("WF_NAME", workflow_name))
        writes[0] += 1
        stamp = time.time() + 10 * writes[0]
        os.utime(path, (stamp, stamp))
        compiled = os.path.join(tmp_dir, name + "$py.class")
        if os.path.exists(compiled):
            os.remove(compiled)
        from exchange.workflows.api import admin

        resp = admin.loadModules(modules=[name])
        assert resp["code"] == "MODULES_LOADED", resp
        return resp["data"]

    host = hosts.standalone_host(db_url, globals_map={})
    engine = Engine(host, EngineConfig(executor_id="jy-versions", tick_ms=100, workers=4))
    runtime.install(engine)
    engine.start()
    yield workflow_name, write
    engine.stop(grace_s=5.0)
    host.close()
    runtime.uninstall()


def _service():
    from exchange.workflows.api import service

    return service


def _steps(service, wid):
    return [s["name"] for s in service.listSteps(workflowId=wid)["data"]["steps"]]


def _after_steps(service, wid, count):
    wait_for(lambda: len(_steps(service, wid)) >= count, message="%d steps of %s" % (count, wid))


def test_a_patch_loaded_under_a_running_run_keeps_it_on_the_old_branch_and_new_runs_take_the_new(versioned):
    import jy_version_counts

    workflow_name, write = versioned
    service = _service()
    write(OLD)
    wid = service.start(workflowName=workflow_name, inputs={"resolved": {"delay": 0.25}})["data"]["workflowId"]
    _after_steps(service, wid, 3)
    changed = write(PATCHED)
    assert changed["changed"][0]["workflow"] == workflow_name and changed["generation"] is not None, changed
    done = wait_status(service, wid)
    assert done["status"] == "SUCCESS", done
    assert done["output"] == {"path": u"old", "done": range(10)}, done["output"]
    assert done["runCount"] >= 2
    assert jy_version_counts.counts(wid) == dict([("phase-%d" % i, 1) for i in range(10)])
    fresh = service.start(workflowName=workflow_name, inputs={"resolved": {"delay": 0.0}})["data"]["workflowId"]
    took = wait_status(service, fresh)
    assert took["output"]["path"] == u"new" and took["workflowVersion"] == changed["changed"][0]["to"], took
    assert _steps(service, fresh)[2:4] == [u"patch:extra-check", u"extra-check"]


def test_a_dropped_step_ends_the_run_with_the_divergence_named_and_continue_with_current_code_finishes_it(
        versioned):
    workflow_name, write = versioned
    service = _service()
    write(OLD)
    wid = service.start(workflowName=workflow_name, inputs={"resolved": {"delay": 0.25}})["data"]["workflowId"]
    _after_steps(service, wid, 3)
    write(DROPPED)
    failed = wait_status(service, wid)
    error = failed["error"]
    assert failed["status"] == "ERROR" and error["type"] == u"NonDeterminismError", failed
    assert (error["functionId"], error["recordedName"], error["calledName"]) == (2, u"phase-1", u"phase-2"), error
    resp = service.continueWithCurrentCode(workflowId=wid)
    assert resp["code"] == "WORKFLOW_ENQUEUED", resp
    done = wait_status(service, resp["data"]["workflowId"])
    assert done["status"] == "SUCCESS" and done["output"]["path"] == u"without phase 1", done
