"""The product as a user runs it: `./gateway run` (Jython + JDBC) and `./gateway console` scripts."""
import os
import re
import signal
import subprocess

import pytest

from conftest import ISSUE_START_SCRIPT, ROOT, gateway_command, run_gateway, wait_for, wait_status
from exchange.workflows.api import service


COMMANDS = ISSUE_START_SCRIPT + '''print exchange.workflows.api.service.sendCommand(workflowId=wid, cmd="HOLD", reason="operator hold")
print exchange.workflows.api.service.sendCommand(workflowId=wid, cmd="RESUME")
print exchange.workflows.api.service.sendCommand(workflowId=wid, cmd="STOP", reason="operator stop")
'''


class Gateway(object):
    """A `./gateway run` process; stopped with SIGINT (Ctrl-C) like a user would."""

    def __init__(self, db, *extra):
        self.log_path = os.path.join(ROOT, "var", "test-gateway-%d.log" % os.getpid())
        if not os.path.isdir(os.path.dirname(self.log_path)):
            os.makedirs(os.path.dirname(self.log_path))
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(gateway_command("run", "--db", db, "--no-http", *extra), cwd=ROOT,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: "exchange.workflows gateway" in self.output() or self.proc.poll() is not None, timeout=90,
                 message="the gateway to start")
        assert self.proc.poll() is None, self.output()

    def output(self):
        with open(self.log_path) as handle:
            return handle.read()

    def interrupt(self, timeout=60):
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout)
        self.log.close()
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def gateway_db(db_url, make_engine):
    """The database URL plus a client-scope engine on it, so the test can read runs through api.service."""
    make_engine(executor_id="reader", executes=False)
    return db_url


def console(db, script):
    result = run_gateway(["console", "-", "--db", db], input_text=script, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def workflow_id(text):
    return re.search(r"'workflowId': u?'([0-9a-f-]{36})'", text).group(1)


@pytest.mark.slow
def test_console_script_is_executed_by_the_running_gateway(gateway_db):
    gateway = Gateway(gateway_db, "--executor-id", "e2e")
    try:
        out = console(gateway_db, ISSUE_START_SCRIPT)
        assert "'code': 'WORKFLOW_ENQUEUED'" in out and "'ok': True" in out, out
        wid = workflow_id(out)
        run = wait_status(wid, timeout=150)
        assert run["status"] == "SUCCESS", run
        assert run["output"]["ticks"] == 60 and run["partitionKey"] == "line-1/reactor-a"
        steps = service.listSteps(workflowId=wid)["data"]["steps"]
        assert len([s for s in steps if s["name"] == "tick"]) == 60
        assert run["executorId"] == "e2e"
    finally:
        assert gateway.interrupt() == 0


def test_console_commands_hold_resume_stop_on_the_running_gateway(gateway_db):
    gateway = Gateway(gateway_db, "--executor-id", "e2e")
    try:
        out = console(gateway_db, COMMANDS)
        assert out.count("'code': 'COMMAND_ACCEPTED'") == 3, out
        wid = workflow_id(out)
        run = wait_status(wid, timeout=60)
        assert run["status"] == "STOPPED"
        history = service.getWorkflow(workflowId=wid, includeHistory=True)["data"]["eventHistory"]
        assert [h["value"] for h in history if h["key"] == "phase"] == [
            "RUNNING", "HOLDING", "HELD", "RESUMING", "RUNNING", "STOPPING", "STOPPED"]
        log = [e["value"] for e in service.readStream(workflowId=wid)["data"]["entries"]]
        assert [(e["cmd"], e["outcome"]) for e in log if e["kind"] == "command"] == [
            ("HOLD", "APPLIED"), ("RESUME", "APPLIED"), ("STOP", "APPLIED")]
    finally:
        assert gateway.interrupt() == 0


def test_ctrl_c_leaves_running_runs_to_be_recovered_and_a_restart_finishes_them(gateway_db):
    extra = ("--executor-id", "e2e", "--pythonpath", os.path.join(ROOT, "tests"), "--modules", "workflows_for_tests",
             "--tick-ms", "200")
    gateway = Gateway(gateway_db, *extra)
    try:
        resp = service.start(workflowName="t.slow", inputs={"resolved": {"steps": 40, "delay": 0.1}})
        wid = resp["data"]["workflowId"]
        wait_for(lambda: len(service.listSteps(workflowId=wid)["data"]["steps"]) >= 3, timeout=60)
    finally:
        assert gateway.interrupt() == 0
    assert "stopped" in gateway.output()
    run = service.getWorkflow(workflowId=wid)["data"]
    assert run["status"] in ("PENDING", "RUNNING")
    steps = service.listSteps(workflowId=wid)["data"]["steps"]
    assert all(s["status"] == "SUCCESS" and s["completedAt"] for s in steps)
    assert [s["functionId"] for s in steps] == list(range(1, len(steps) + 1))
    gateway = Gateway(gateway_db, *extra)
    try:
        run = wait_status(wid, timeout=90)
        assert run["status"] == "SUCCESS" and run["runCount"] == 2
        assert [s["functionId"] for s in service.listSteps(workflowId=wid)["data"]["steps"]] == list(range(1, 41))
    finally:
        assert gateway.interrupt() == 0


def test_console_reports_bad_input_as_envelopes(gateway_db):
    out = console(gateway_db, 'print exchange.workflows.api.service.start(workflowName="nope")\n'
                              'print exchange.workflows.api.service.getWorkflow(workflowId="x")\n')
    assert "UNKNOWN_WORKFLOW" in out and "INVALID_ARGUMENT" in out
    assert "Traceback" not in out
