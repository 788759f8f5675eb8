"""exchange.workflows.api.perspective, what the Perspective views bind to, on PostgreSQL and SQLite: display-ready
rows and text, button states with their reasons, commands sent as the session's user (the role table and the
command log as in the web console), only new log entries, and answers that never raise."""
import json

import exchange.workflows.demo.workflows  # noqa: F401 - demo.quick has a template
import workflows_for_tests as wft  # noqa: F401 - the t.* workflows
from conftest import wait_for, wait_status
from exchange.workflows.api import admin, perspective, service

OTTO = ("otto", ["Operator"])  # a session role named like the policy's, in another case
SAM = ("sam", ["Shift Lead"])  # mapped to supervisor by admin.setPerspectiveRoles
VERA = ("vera", ["Viewer"])


def start(name, **params):
    return service.start(workflowName=name, inputs={"resolved": params})["data"]["workflowId"]


def test_the_start_form_answers_typed_fields_and_starts_a_run_as_the_session_user(engine):
    options = perspective.workflowOptions()
    assert options["ok"] and {"value": "t.typed", "label": "t.typed"} in [
        dict(o, label=o["label"].split(u" \u2014 ")[0]) for o in options["options"]]
    form = perspective.startForm("t.typed")
    assert form["ok"], form
    fields = dict((f["name"], f) for f in form["fields"])
    assert fields["mode"]["choices"] == ["AUTO", "MANUAL"] and fields["batch"]["required"]
    texts = [{"name": "batch", "type": "str", "text": "B-9"}, {"name": "mode", "type": "str", "value": "AUTO"},
             {"name": "size", "type": fields["size"]["type"], "text": "12"}]
    started = perspective.startRun("t.typed", texts, *OTTO)
    assert started["ok"], started
    run = service.getWorkflow(workflowId=started["workflowId"])["data"]
    assert run["createdBy"] == "otto" and run["inputs"]["resolved"]["size"] == 12
    bad = perspective.startRun("t.typed", [{"name": "batch", "type": "str", "text": "B"},
                                           {"name": "mode", "type": "str", "text": "FAST"}], *OTTO)
    assert (bad["ok"], bad["field"]) == (False, "mode") and "FAST" not in bad.get("workflowId", "")
    templated = perspective.startForm("demo.quick", "default")  # a workflow with a template: its values filled in
    assert templated["ok"], templated
    assert templated["templates"] == [{"value": "default", "label": "default"}]
    assert dict((f["name"], f["value"]) for f in templated["fields"]) == {"paramOne": "BATCH-001", "paramTwo": "AUTO"}
    refused = perspective.startRun("t.typed", texts, *VERA)
    assert refused["ok"] is False and "may not start" in refused["message"]
    assert perspective.startForm("no.such")["ok"] is False


def test_runs_and_run_details_are_rows_and_text_with_markup_kept_as_text(engine):
    markup = '<img src=x onerror="alert(1)">'
    wid = start("t.fails", message=markup)
    wait_status(wid)
    page = perspective.runsPage(workflowName="t.fails")
    assert page["ok"] and [r["workflowId"] for r in page["rows"]] == [wid]
    row = page["rows"][0]
    assert row["status"]["value"] == "ERROR" and row["status"]["style"]["backgroundColor"] == "#b3261e"
    details = perspective.runDetails(wid)
    assert details["ok"] and details["done"] and details["status"] == "ERROR"
    assert details["error"] == "ValueError: " + markup  # text: a Label shows it as it is
    assert json.loads(details["inputs"]) == {"message": markup}
    assert {"name": "Workflow", "value": "t.fails"} in details["facts"]
    assert perspective.runDetails("nope")["ok"] is False
    assert perspective.runsPage(status="NOPE")["ok"] is False


def test_the_log_answers_only_what_is_new(engine):
    wid = start("t.linear", steps=3)
    wait_status(wid)
    first = perspective.runLog(wid, -1, 3)
    assert [e["offset"] for e in first["entries"]] == [0, 1, 2] and first["lastOffset"] == 2
    rest = perspective.runLog(wid, first["lastOffset"])
    assert rest["entries"][0]["offset"] == 3 and rest["entries"][-1]["text"] == "status SUCCESS"
    nothing = perspective.runLog(wid, rest["lastOffset"])
    assert nothing["entries"] == [] and nothing["lastOffset"] == rest["lastOffset"]


def test_buttons_and_commands_follow_the_role_table_and_land_in_the_command_log_with_the_user(engine):
    assert admin.setPerspectiveRoles(mapping={"Shift Lead": "supervisor"})["ok"]
    assert admin.setPerspectiveRoles(mapping={"x": "boss"})["code"] == "INVALID_ARGUMENT"
    wid = start("t.slow", steps=60, delay=0.05)
    wait_status(wid, "RUNNING")
    buttons = dict((b["cmd"], b) for b in perspective.commandButtons(wid, *OTTO)["buttons"])
    assert buttons["HOLD"]["enabled"] and not buttons["STOP"]["enabled"]
    assert "may not send STOP" in buttons["STOP"]["reason"] and buttons["HOLD"]["label"] == "Hold"
    assert not buttons["RETRY"]["enabled"] and "CONTINUE" in buttons
    held = perspective.sendCommand(wid, "HOLD", *OTTO, reason="check the valve")
    assert held["ok"] and held["code"] == "COMMAND_ACCEPTED", held
    wait_status(wid, "HELD")
    forbidden = perspective.sendCommand(wid, "STOP", *OTTO)
    assert forbidden["ok"] is False and forbidden["code"] == "COMMAND_FORBIDDEN"
    assert perspective.commandButtons(wid, *SAM)["buttons"][2]["enabled"]  # STOP, for the mapped supervisor
    stopped = perspective.sendCommand(wid, "stop", *SAM, reason="end of shift")
    assert stopped["ok"], stopped
    assert wait_status(wid)["status"] == "STOPPED"
    log = perspective.commandLog(wid)["rows"]
    assert [(r["cmd"], r["who"], r["state"]["value"]) for r in log] == [
        ("HOLD", "otto", "APPLIED"), ("STOP", "otto", "FORBIDDEN"), ("STOP", "sam", "APPLIED")]
    retried = perspective.sendCommand(wid, "RETRY", *SAM)
    assert retried["ok"] and wait_status(retried["workflowId"])["status"] == "SUCCESS"
    assert perspective.sendCommand(wid, "HOLD", "", ["admin"])["ok"] is False  # no signed-in user
    assert "may not" in perspective.commandButtons(wid, *VERA)["buttons"][0]["reason"]


def test_steps_timeline_queues_and_admin(engine):
    wid = start("t.linear", steps=3)
    wait_status(wid)
    steps = perspective.stepsPage(wid)
    assert [(r["position"], r["name"], r["status"]["value"], r["result"]) for r in steps["rows"]] == [
        (1, "count", "SUCCESS", "0"), (2, "count", "SUCCESS", "10"), (3, "count", "SUCCESS", "20")]
    drawn = perspective.timeline(wid, 600)
    assert [e["type"] for e in drawn["elements"]] == ["text", "rect"] * 3
    assert all(0 <= e["x"] <= 600 for e in drawn["elements"]) and drawn["viewBox"] == "0 0 600 54"
    queues = dict((r["queue"], r) for r in perspective.queuesTable()["rows"])
    assert "default" in queues and "concurrency 2" in queues["t.limited"]["limits"]
    overview = perspective.adminOverview()
    assert overview["ok"] and overview["maintenance"] == "running", overview
    mine = [e for e in overview["executors"] if e["executor"] == engine.executor_id][0]
    assert "t.linear@" in mine["workflows"]
    assert perspective.adminAction("drain", *SAM)["ok"] is False  # admin only
    assert perspective.adminAction("drain", "ada", ["Admin"])["ok"]
    wait_for(lambda: perspective.adminOverview()["draining"], timeout=5)
    assert perspective.adminAction("resume", "ada", ["admin"])["ok"]
    assert perspective.pollRates()["log"] == 1000
