"""The product as a user runs it: `./gateway run` (Jython + JDBC) and `./gateway console` scripts."""
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import (CONSOLE_START_SCRIPT, ROOT, EngineFactory, gateway_command, run_gateway, spawn, wait_for,
                      wait_status)
from exchange.workflows.api import admin, service


COMMANDS = CONSOLE_START_SCRIPT + '''print exchange.workflows.api.service.sendCommand(workflowId=wid, cmd="HOLD", reason="operator hold")
print exchange.workflows.api.service.sendCommand(workflowId=wid, cmd="RESUME")
print exchange.workflows.api.service.sendCommand(workflowId=wid, cmd="STOP", reason="operator stop")
'''


class Gateway(object):
    """A `./gateway run` process; stopped with SIGINT (Ctrl-C) like a user would.

    Started through conftest.spawn (SIGINT at its default in the child, whatever this process does with it);
    wait=False returns right after the process is created (call wait_started)."""

    def __init__(self, db, *extra, **options):
        self.log_path = options.get("log_path") or os.path.join(ROOT, "var", "test-gateway-%d.log" % os.getpid())
        if not os.path.isdir(os.path.dirname(self.log_path)):
            os.makedirs(os.path.dirname(self.log_path))
        self.log = open(self.log_path, "w")
        popen = {}
        if "preexec_fn" in options:
            popen["preexec_fn"] = options["preexec_fn"]
        self.proc = spawn(gateway_command("run", "--db", db, "--no-http", *extra), stdout=self.log,
                          stderr=subprocess.STDOUT, **popen)
        if options.get("wait", True):
            self.wait_started()

    def wait_started(self):
        wait_for(lambda: "exchange.workflows gateway" in self.output() or self.proc.poll() is not None, timeout=90,
                 message="the gateway to start")
        assert self.proc.poll() is None, self.output()

    def output(self):
        with open(self.log_path) as handle:
            return handle.read()

    def interrupt(self, timeout=60):
        return self.stop(signal.SIGINT, timeout)

    def stop(self, signum, timeout=60):
        """Send signum and wait for the exit code; a gateway still running after timeout fails the test (killed)."""
        self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("the gateway did not stop within %ds of signal %d:\n%s"
                                 % (timeout, signum, self.output()))
        self.log.close()
        return code

    def ignored_signals(self):
        """The signals the process ignores (./gateway execs java: the pid is the JVM's), from /proc."""
        with open("/proc/%d/status" % self.proc.pid) as handle:
            mask = int([l.split()[1] for l in handle if l.startswith("SigIgn:")][0], 16)
        return set(n for n in range(1, 65) if mask & (1 << (n - 1)))

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


class ReadmeScenario(object):
    """The README's start script on a gateway of its own (on the default database, the embedded SQLite file), begun
    in the background as soon as the session has collected its test: its run takes about a minute of one-second
    steps, which then pass while the other tests run instead of adding to the suite's time."""

    def __init__(self):
        import tempfile

        self.folder = tempfile.mkdtemp(prefix="wf-readme-")
        self.db = "sqlite:%s" % os.path.join(self.folder, "workflows.db")
        self.gateway = None
        self.out = None
        self.error = None
        self.thread = threading.Thread(target=self._start, name="readme-scenario")
        self.thread.daemon = True
        self.thread.start()

    def _start(self):
        try:
            self.gateway = Gateway(self.db, "--executor-id", "e2e",
                                   log_path=os.path.join(self.folder, "gateway.log"))
            self.out = console(self.db, CONSOLE_START_SCRIPT)
        except BaseException as exc:  # reported by the test
            self.error = exc

    def started(self, timeout=300):
        self.thread.join(timeout)
        if self.error is not None:
            raise self.error
        assert self.out is not None, "the README scenario did not start within %ds" % timeout
        return self.out

    def stop(self):
        if self.gateway is None or self.gateway.proc.poll() is not None:
            return 0
        return self.gateway.interrupt()


def readme_scenario(config):
    """The scenario this session began (conftest's pytest_collection_finish), or one begun now."""
    if getattr(config, "readme_scenario", None) is None:
        config.readme_scenario = ReadmeScenario()
    return config.readme_scenario


@pytest.mark.slow
def test_console_script_is_executed_by_the_running_gateway(request):
    """The README's start script, run to its end (about a minute) on the standalone gateway's default database, the
    embedded SQLite file: the PostgreSQL variants of the other tests here cover the same calls on PostgreSQL."""
    scenario = readme_scenario(request.config)
    reader = EngineFactory(scenario.db)
    try:
        out = scenario.started()
        assert "'code': 'WORKFLOW_ENQUEUED'" in out and "'ok': True" in out, out
        wid = workflow_id(out)
        reader(executor_id="reader", executes=False)
        run = wait_status(wid, timeout=150)
        assert run["status"] == "SUCCESS", run
        assert run["output"]["ticks"] == 60 and run["partitionKey"] == "line-1/reactor-a"
        steps = service.listSteps(workflowId=wid)["data"]["steps"]
        assert len([s for s in steps if s["name"] == "tick"]) == 60
        assert run["executorId"] == "e2e"
    finally:
        reader.close()
        assert scenario.stop() == 0


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


def _ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_ctrl_c_stops_a_gateway_started_from_a_parent_that_ignores_sigint(tmp_path):
    """`./gateway test` started by nohup, as a background job of a script or by a CI runner ignores SIGINT; a child
    inherits that ignore (bash keeps it, the JVM then installs no SIGINT handler), so the gateways the tests start
    would not stop on the Ctrl-C they are sent. conftest.spawn starts them with SIGINT at its default."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        gateway = Gateway("sqlite:%s" % (tmp_path / "workflows.db"), "--executor-id", "sigint-ignored-parent",
                          wait=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        gateway.wait_started()
        assert signal.SIGINT not in gateway.ignored_signals()
        assert gateway.stop(signal.SIGINT, timeout=20) == 0, gateway.output()
    finally:
        gateway.kill()
    assert "exchange.workflows: stopped" in gateway.output()


def test_sigterm_stops_a_gateway_that_inherited_an_ignored_sigint(tmp_path):
    """nohup and background jobs of scripts start `./gateway run` with SIGINT ignored: the gateway keeps that ignore
    (like any program: Ctrl-C at the terminal is not meant for it), and SIGTERM still stops it cleanly."""
    gateway = Gateway("sqlite:%s" % (tmp_path / "workflows.db"), "--executor-id", "sigint-ignored",
                      preexec_fn=_ignore_sigint)
    try:
        assert signal.SIGINT in gateway.ignored_signals()
        gateway.proc.send_signal(signal.SIGINT)
        time.sleep(2)
        assert gateway.proc.poll() is None and "stopping" not in gateway.output(), gateway.output()
        assert gateway.stop(signal.SIGTERM, timeout=20) == 0, gateway.output()
    finally:
        gateway.kill()
    assert "exchange.workflows: stopped" in gateway.output()


def test_a_second_gateway_on_a_taken_console_address_exits_2_with_one_line_and_registers_nothing(gateway_db):
    """A second `./gateway run` on the same host (the console's address taken): it says so in one line and exits 2
    before it registers an executor or claims a run, instead of dying with a Java stack trace after registering."""
    taken = socket.socket()  # what a first gateway's console holds
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        result = run_gateway(["run", "--db", gateway_db, "--executor-id", "second-on-host",
                              "--http", "127.0.0.1:%d" % port], timeout=90)
    finally:
        taken.close()
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert result.stderr.splitlines() == [
        "gateway: the console address 127.0.0.1:%d is in use (another gateway?): choose another with --http "
        "HOST:PORT, or run without the console: --no-http" % port], output
    assert result.stdout == "", output
    assert "Traceback" not in output and "Exception" not in output
    executors = admin.listExecutors()
    assert executors["ok"], executors
    assert [e for e in executors["data"]["executors"] if e["executorId"] == "second-on-host"] == []


def test_a_gateway_killed_after_a_child_started_never_starts_it_twice_when_the_parent_replays(gateway_db):
    """kill -9 while the parent is in the step after its startChild, the start's record lost as if the crash had
    come between the child's insert and its record: after the restart the parent replays and finds its child."""
    extra = ("--executor-id", "kill-child", "--pythonpath", os.path.join(ROOT, "tests"), "--modules",
             "workflows_for_tests", "--tick-ms", "200")
    gateway = Gateway(gateway_db, *extra)
    try:
        wid = service.start(workflowName="t.child_then_steps", inputs={"resolved": {"steps": 12, "delay": 0.25}})[
            "data"]["workflowId"]
        wait_for(lambda: len(service.listSteps(workflowId=wid)["data"]["steps"]) >= 3, timeout=60)
    finally:
        gateway.kill()
    children = [r["workflowId"] for r in service.listRuns(parentWorkflowId=wid)["data"]["runs"]]
    assert len(children) == 1
    make = service.listSteps(workflowId=wid)["data"]["steps"][0]
    assert make["kind"] == "child" and make["output"] == children[0]
    from exchange.workflows.host import runtime

    runtime.engine().store.db.execute("DELETE FROM workflows.operation_outputs WHERE workflow_uuid = ? AND "
                                      "function_id = 1", (wid,))
    gateway = Gateway(gateway_db, *extra)
    try:
        run = wait_status(wid, timeout=90)
        assert run["status"] == "SUCCESS", run
        assert run["output"] == {"child": children[0], "output": 5}
        assert [r["workflowId"] for r in service.listRuns(parentWorkflowId=wid)["data"]["runs"]] == children
        assert run["runCount"] >= 2
    finally:
        assert gateway.interrupt() == 0
