"""Changing a workflow's code while runs are in flight, on PostgreSQL and SQLite: the version each run records, a
module replaced under a running run (admin.loadModules, as a project save) with a step added behind patched(), a
replacement that removes a recorded step (the divergence named, continueWithCurrentCode), deprecatePatch, and
gateways of different code sharing one database."""
import os
import sys
import textwrap
import time
import uuid

import pytest

import workflows_for_tests as wft
from conftest import wait_for, wait_status
from exchange.workflows.api import admin, service

# A workflow of ten steps, each a step of its own name, in three versions of its module. VERSION_2 adds a step
# behind patched() before the third step; VERSION_3 drops the second step (a recorded one); VERSION_4 keeps the
# patch's new branch only, behind deprecatePatch().
HEAD = '''
import time
from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import step, workflow
from workflows_for_tests import side

def _phase(index):
    @step(name="phase-%d" % index)
    def run_phase(delay):
        side("phase-%d" % index)
        time.sleep(delay)
        return index
    return run_phase

PHASES = [_phase(i) for i in range(10)]

@step(name="extra-check")
def extra_check():
    side("extra-check")
    return "checked"
'''
VERSION_1 = HEAD + '''
@workflow(name="WF_NAME")
def flow(delay=0.2):
    done = [PHASES[i](delay) for i in range(10)]
    return {"path": "old", "done": done}
'''
VERSION_2 = HEAD + '''
@workflow(name="WF_NAME")
def flow(delay=0.2):
    wf = getWorkflows()
    path = "old"
    done = []
    for i in range(10):
        if i == 2 and wf.patched("extra-check"):
            extra_check()
            path = "new"
        done.append(PHASES[i](delay))
    return {"path": path, "done": done}
'''
VERSION_3 = HEAD + '''
@workflow(name="WF_NAME")
def flow(delay=0.2):
    done = [PHASES[i](delay) for i in range(10) if i != 1]
    return {"path": "without phase 1", "done": done}
'''
VERSION_4 = HEAD + '''
@workflow(name="WF_NAME", version="4")
def flow(delay=0.2):
    wf = getWorkflows()
    done = []
    for i in range(10):
        if i == 2:
            wf.deprecatePatch("extra-check")
            extra_check()
        done.append(PHASES[i](delay))
    return {"path": "new only", "done": done}
'''


class Module(object):
    """A workflow module of the test's own (its own name, so tests never share it), written to a folder on
    sys.path and replaced by writing it again."""

    def __init__(self, folder):
        self.name = "versioned_%s" % uuid.uuid4().hex[:10]
        self.workflow = "vt.%s" % self.name
        self.path = os.path.join(str(folder), self.name + ".py")
        self.writes = 0
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))

    def write(self, source):
        with open(self.path, "w") as handle:
            handle.write(textwrap.dedent(source).replace("WF_NAME", self.workflow))
        self.writes += 1
        stamp = time.time() + 10 * self.writes  # a new modification time each write, whatever the clock's grain
        os.utime(self.path, (stamp, stamp))
        for cached in (self.path + "c", os.path.join(os.path.dirname(self.path), "__pycache__")):
            if os.path.isdir(cached):
                for name in os.listdir(cached):
                    if name.startswith(self.name + "."):
                        os.remove(os.path.join(cached, name))

    def load(self, source=None):
        if source is not None:
            self.write(source)
        resp = admin.loadModules(modules=[self.name])
        assert resp["code"] == "MODULES_LOADED", resp
        return resp["data"]


@pytest.fixture
def module(tmp_path):
    return Module(tmp_path)


def start(name, **params):
    resp = service.start(workflowName=name, inputs={"resolved": params})
    assert resp["code"] == "WORKFLOW_ENQUEUED", resp
    return resp["data"]["workflowId"]


def steps_of(wid):
    return [(s["functionId"], s["name"]) for s in service.listSteps(workflowId=wid)["data"]["steps"]]


def executed(wid):
    return dict([(name, n) for (w, name), n in wft.ATTEMPTS.items() if w == wid])


def after_steps(wid, count):
    wait_for(lambda: len([s for s in service.listSteps(workflowId=wid)["data"]["steps"] if s["kind"] == "step"])
             >= count, timeout=20, message="%d steps of %s" % (count, wid))


def test_each_run_records_the_version_of_its_code_and_runs_are_listed_by_it(engine, module):
    first = module.load(VERSION_1)
    assert first["added"] == [module.workflow]
    v1 = service.listWorkflows()["data"]["workflows"]
    v1 = [w for w in v1 if w["name"] == module.workflow][0]["version"]
    assert v1.startswith("src-")
    old = start(module.workflow, delay=0.0)
    assert wait_status(old)["workflowVersion"] == v1
    changed = module.load(VERSION_2)
    assert changed["changed"] == [{"workflow": module.workflow, "from": v1, "to": changed["changed"][0]["to"]}]
    v2 = changed["changed"][0]["to"]
    assert v2 != v1
    new = start(module.workflow, delay=0.0)
    assert wait_status(new)["workflowVersion"] == v2
    listed = service.listRuns(workflowName=module.workflow, workflowVersion=v1)["data"]["runs"]
    assert [r["workflowId"] for r in listed] == [old] and listed[0]["workflowVersion"] == v1
    assert [r["workflowId"] for r in service.listRuns(workflowVersion=v2)["data"]["runs"]] == [new]
    mine = [e for e in admin.listExecutors()["data"]["executors"] if e["executorId"] == engine.executor_id][0]
    assert mine["workflows"][module.workflow] == v2
    # an explicit version wins over the digest
    assert module.load(VERSION_4)["changed"][0]["to"] == "4"


def test_a_module_replaced_under_a_running_run_takes_effect_at_its_next_step_without_running_a_step_twice(
        engine, module):
    module.load(VERSION_1)
    running = start(module.workflow, delay=0.3)
    after_steps(running, 3)
    loaded = module.load(VERSION_2)  # a step added behind patched() before the third step
    assert loaded["generation"] is not None
    done = wait_status(running, timeout=30)
    assert done["status"] == "SUCCESS", done
    assert done["output"] == {"path": "old", "done": list(range(10))}  # it had passed the patch's place: old branch
    assert done["runCount"] >= 2  # handed back at a step boundary and continued here under the new code
    assert done["executorId"] == engine.executor_id
    assert executed(running) == dict(("phase-%d" % i, 1) for i in range(10))  # no step ran twice
    assert [name for _, name in steps_of(running)] == ["phase-%d" % i for i in range(10)]
    fresh = start(module.workflow, delay=0.0)
    took = wait_status(fresh)
    assert took["output"]["path"] == "new"
    assert [name for _, name in steps_of(fresh)][:4] == ["phase-0", "phase-1", "patch:extra-check", "extra-check"]
    assert took["workflowVersion"] != done["workflowVersion"]


def test_a_replacement_that_removes_a_recorded_step_names_the_divergence_and_continue_with_current_code_finishes(
        engine, module):
    module.load(VERSION_1)
    running = start(module.workflow, delay=0.3)
    after_steps(running, 3)
    module.load(VERSION_3)  # phase-1, which the run recorded at position 2, is gone
    failed = wait_status(running, timeout=30)
    assert failed["status"] == "ERROR"
    error = failed["error"]
    assert error["type"] == "NonDeterminismError"
    assert (error["functionId"], error["recordedName"], error["calledName"]) == (2, "phase-1", "phase-2")
    assert "position 2" in error["message"] and "'phase-1'" in error["message"] and "'phase-2'" in error["message"]
    assert "continueWithCurrentCode" in error["message"]
    refused = service.continueWithCurrentCode(workflowId=running, actor={"name": "olga", "roles": ["operator"]})
    assert refused["code"] == "COMMAND_FORBIDDEN", refused
    resp = service.continueWithCurrentCode(workflowId=running, actor={"name": "sam", "roles": ["supervisor"]},
                                           reason="the rinse step was retired")
    assert resp["code"] == "WORKFLOW_ENQUEUED", resp
    assert resp["data"]["fromFunctionId"] == 2
    after = wait_status(resp["data"]["workflowId"], timeout=30)
    assert after["status"] == "SUCCESS", after
    assert after["output"] == {"path": "without phase 1", "done": [0] + list(range(2, 10))}
    assert after["retryOf"] == running and after["createdBy"] == "sam"
    assert executed(resp["data"]["workflowId"]) == dict(("phase-%d" % i, 1) for i in range(2, 10))  # phase-0 kept
    log = service.listCommands(workflowId=running)["data"]["commands"]
    assert [(c["cmd"], c["state"], c["actor"]) for c in log] == [("CONTINUE", "FORBIDDEN", "olga"),
                                                               ("CONTINUE", "APPLIED", "sam")]
    again = service.continueWithCurrentCode(workflowId=resp["data"]["workflowId"])
    assert again["code"] == "COMMAND_REJECTED"  # a run that did not diverge
    assert service.continueWithCurrentCode(workflowId="nope")["code"] == "INVALID_ARGUMENT"


def test_deprecate_patch_passes_the_marker_and_names_the_patch_when_a_run_took_the_old_branch(engine, module):
    if engine.store.dialect.name != "postgresql":
        pytest.skip("once, on PostgreSQL: the patch's records are the same on both (the other tests here run on both)")
    module.load(VERSION_1)
    old_branch = start(module.workflow, delay=0.6)
    after_steps(old_branch, 4)  # past the patch's place under the code without it
    module.load(VERSION_2)
    new_branch = start(module.workflow, delay=0.3)
    after_steps(new_branch, 5)  # past the patch's place on the new branch: its marker recorded
    assert service.getWorkflow(workflowId=old_branch)["data"]["status"] in ("RUNNING", "PENDING")
    module.load(VERSION_4)  # the old branch deleted, deprecatePatch in place of patched()
    took_new = wait_status(new_branch, timeout=30)
    assert took_new["status"] == "SUCCESS" and took_new["output"]["path"] == "new only", took_new
    assert executed(new_branch)["extra-check"] == 1
    took_old = wait_status(old_branch, timeout=30)
    assert took_old["status"] == "ERROR", took_old
    error = took_old["error"]
    assert (error["type"], error["functionId"], error["patch"]) == ("NonDeterminismError", 3, "extra-check")
    assert "old branch of patch 'extra-check'" in error["message"]
    resp = service.continueWithCurrentCode(workflowId=old_branch)
    continued = wait_status(resp["data"]["workflowId"], timeout=30)
    assert continued["status"] == "SUCCESS" and continued["output"]["path"] == "new only"
    assert [name for _, name in steps_of(resp["data"]["workflowId"])][:4] == ["phase-0", "phase-1", "extra-check",
                                                                              "phase-2"]


def test_a_run_is_executed_only_by_a_gateway_that_has_its_workflow(make_engine, module):
    from exchange.workflows.engine.engine import Engine, EngineConfig
    from exchange.workflows.engine.registry import REGISTRY, Registry
    from exchange.workflows.host import hosts

    first = make_engine(executor_id="gw-old")
    module.load(VERSION_1)
    older = Registry()  # a gateway not yet updated: it has every workflow but the new module's
    for definition in REGISTRY.all():
        if definition.name != module.workflow:
            older.register(definition)
    first.stop()
    host = hosts.cpython_host(make_engine.url)
    old = Engine(host, EngineConfig(executor_id="gw-older", tick_ms=50, workers=2), registry=older)
    make_engine.engines.append(old)
    old.start()
    wid = start(module.workflow, delay=0.0)
    plain = start("t.linear", steps=1)
    assert wait_status(plain)["executorId"] == "gw-older"
    time.sleep(0.5)
    assert service.getWorkflow(workflowId=wid)["data"]["status"] == "ENQUEUED"  # not claimed by gw-older
    executors = dict([(e["executorId"], e["workflows"]) for e in admin.listExecutors()["data"]["executors"]])
    assert module.workflow not in executors["gw-older"] and "t.linear" in executors["gw-older"]
    make_engine(executor_id="gw-new")  # a gateway with the workflow
    done = wait_status(wid, timeout=20)
    assert done["status"] == "SUCCESS" and done["executorId"] == "gw-new"
