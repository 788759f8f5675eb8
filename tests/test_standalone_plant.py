"""Plant I/O as a user runs it: `./gateway run --tags FILE` with the demo's simulated reactor, `./gateway console`
scripts reading and writing the gateway's tags through system.tag, and a run waiting on a tag while its gateway is
killed and restarted."""
import json
import os

import pytest

import workflows_for_tests as wft
from conftest import ROOT, run_gateway, wait_for, wait_status
from exchange.workflows.api import service
from test_standalone_gateway import Gateway, console, gateway_db  # noqa: F401 - a fixture

SCRIPT = '''print system.tag.readBlocking(["[default]Line1/Reactor1/Temp", "[default]Line1/Nothing"])
print system.tag.writeBlocking(["[default]Line1/Reactor1/Temp", "[default]"], [88.5, 1])
for tag in system.tag.browse("[default]Line1").getResults():
    print tag["fullPath"], tag["tagType"]
print exchange.workflows.api.service.readTags(["[default]Line1/Reactor1/Temp"])["data"]["tags"][0]["value"]
resp = exchange.workflows.api.service.start(workflowName="demo.reactor_charge",
                                            inputs={"resolved": {"reactor": "R5", "targetKg": 25.0}})
print resp["code"], resp["data"]["workflowId"]
'''


def test_tags_from_a_file_console_scripts_and_the_demo_reactor_on_the_running_gateway(gateway_db, tmp_path):
    if not gateway_db.startswith("sqlite:"):
        pytest.skip("run once, on the standalone gateway's default database (the Jython suite covers both)")
    tags_file = tmp_path / "tags.json"
    tags_file.write_text(json.dumps({"[default]Line1/Reactor1/Temp": 21.5, "[default]Line1/Reactor1/Mode": "AUTO"}))
    gateway = Gateway(gateway_db, "--executor-id", "plant", "--tags", str(tags_file))
    try:
        assert "2 memory tags from %s" % tags_file in gateway.output()
        out = console(gateway_db, SCRIPT).splitlines()
        assert out[0].startswith("[[21.5, Good, ") and "], [None, Bad_NotFound, " in out[0], out  # and a Date each
        assert out[1] == "[Good, Bad_NotFound]", out
        assert out[2:4] == ["[default]Line1/Reactor1 Folder", "88.5"], out
        code, wid = out[4].split()
        assert code == "WORKFLOW_ENQUEUED"
        waiting = wait_for(lambda: service.getWorkflow(workflowId=wid)["data"]["waitingFor"], timeout=60,
                           message="the charge to wait on its level")
        assert waiting["path"] == "[default]Demo/R5/Level" and waiting["condition"] == "equals 25.0 (within 0.05)"
        run = wait_status(wid, timeout=90)  # the gateway's simulated reactor fills while the valve is open
        assert run["status"] == "SUCCESS", run
        assert abs(run["output"]["levelKg"] - 25.0) <= 0.05
        assert [t["value"] for t in service.readTags(paths=["[default]Demo/R5/InletValve", "[default]Demo/R5/Setpoint"])[
            "data"]["tags"]] == [False, 25.0]
        kinds = [(s["name"], s["kind"]) for s in service.listSteps(workflowId=wid)["data"]["steps"]]
        assert ("waitForTag:[default]Demo/R5/Level", "wait") in kinds
    finally:
        assert gateway.interrupt() == 0


def test_a_tags_file_that_cannot_be_read_exits_2_with_one_line(tmp_path):
    broken = tmp_path / "tags.json"
    broken.write_text("[1, 2]")
    result = run_gateway(["run", "--db", "sqlite:%s" % (tmp_path / "w.db"), "--no-http", "--tags", str(broken)],
                         timeout=90)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("gateway: --tags %s:" % broken)
    assert "Traceback" not in result.stdout + result.stderr


def test_a_run_waiting_on_a_tag_survives_a_kill_of_its_gateway_and_continues_after_the_restart(gateway_db, tmp_path,
                                                                                               monkeypatch):
    if not gateway_db.startswith("postgresql"):
        pytest.skip("once, on PostgreSQL (the SQLite file case is the test above)")
    side = str(tmp_path / "executions.txt")
    monkeypatch.setenv("WORKFLOWS_SIDE_CHANNEL", side)
    extra = ("--executor-id", "plant-kill", "--pythonpath", os.path.join(ROOT, "tests"), "--modules",
             "workflows_for_tests", "--tick-ms", "200")
    console(gateway_db, 'print system.tag.writeBlocking(["[default]Kill/Level"], [1.0])\n')
    gateway = Gateway(gateway_db, *extra)
    try:
        wid = service.start(workflowName="t.tank", inputs={"resolved": {"path": "[default]Kill/Level", "above": 50}})[
            "data"]["workflowId"]
        wait_for(lambda: service.getWorkflow(workflowId=wid)["data"]["status"] == "WAITING", timeout=60)
    finally:
        gateway.kill()  # kill -9: no clean stop
    assert service.getWorkflow(workflowId=wid)["data"]["status"] == "WAITING"
    gateway = Gateway(gateway_db, *extra)  # the same id, seconds after the crash: it starts at once
    try:
        out = console(gateway_db, 'print system.tag.writeBlocking(["[default]Kill/Level"], [75.0])\n')
        assert out.strip() == "[Good]", out
        run = wait_status(wid, timeout=60)
        assert run["status"] == "SUCCESS", run
        assert run["output"]["seen"]["value"] == 75.0
        counts = wft.executions(side)
        assert (counts.get((wid, "count-0")), counts.get((wid, "count-1"))) == (1, 1), counts
    finally:
        assert gateway.interrupt() == 0
