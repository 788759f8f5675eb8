"""The console's JSON API and pages through the host-independent handler (Console.handle), on PostgreSQL and SQLite.

Each test signs in like a browser (session cookie + CSRF token) or a script (bearer token) and checks what the
engine recorded, so roles, CSRF, escaping and the command policy are tested end to end minus the socket.
"""
import json
import re
import time

import pytest

from conftest import wait_for, wait_status
import exchange.workflows.demo.workflows  # noqa: F401 - registers demo.commands_60s and demo.quick
from exchange.workflows.api import service
from workflows_api.app import Console
from workflows_api.messages import Request
from workflows_api.users import UserStore

PASSWORDS = {"vera": "viewer-pw-1", "otto": "operator-pw-1", "sam": "supervisor-pw-1", "ada": "admin-pw-1"}
ROLES = {"vera": "viewer", "otto": "operator", "sam": "supervisor", "ada": "admin"}


@pytest.fixture
def users_file(tmp_path):
    path = str(tmp_path / "console-users.json")
    store = UserStore(path)
    for name, password in PASSWORDS.items():
        store.add_user(name, ROLES[name], password)
    return path


@pytest.fixture
def console(engine, users_file):
    return Console(users_file)


class Client(object):
    """A browser in miniature: keeps the session cookie and sends the CSRF token it was given."""

    def __init__(self, console, host="127.0.0.1:8088"):
        self.console = console
        self.host = host
        self.cookie = None
        self.csrf = None
        self.bearer = None

    def request(self, method, path, body=None, headers=None, csrf=True):
        path, _, query = path.partition("?")
        all_headers = {"Host": self.host}
        if self.cookie:
            all_headers["Cookie"] = self.cookie
        if self.bearer:
            all_headers["Authorization"] = "Bearer " + self.bearer
        raw = b""
        if body is not None:
            raw = json.dumps(body).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        if csrf and self.csrf and method != "GET":
            all_headers["X-CSRF-Token"] = self.csrf
        all_headers.update(headers or {})
        response = self.console.handle(Request(method, path, query, all_headers, raw))
        cookie = response.header("Set-Cookie")
        if cookie:
            value = cookie.split(";")[0]
            self.cookie = value if value.split("=", 1)[1] else None
        return response

    def api(self, method, path, body=None, **kw):
        response = self.request(method, path, body, **kw)
        assert response.header("Content-Type").startswith("application/json")
        env = json.loads(response.body.decode("utf-8"))
        env["status"] = response.status
        return env

    def login(self, name, password=None):
        env = self.api("POST", "/api/login", {"username": name, "password": password or PASSWORDS[name]})
        assert env["ok"], env
        self.csrf = env["data"]["csrfToken"]
        return env


def signed_in(console, name):
    client = Client(console)
    client.login(name)
    return client


def start_demo(client, workflow="demo.commands_60s", **extra):
    body = {"workflowName": workflow, "inputs": {"template": "default", "overrides": {}}}
    body.update(extra)
    env = client.api("POST", "/api/runs", body)
    assert env["ok"], env
    return env["data"]["workflowId"]


def wait_phase(wid, phase, timeout=30.0):
    def reached():
        resp = service.getWorkflow(workflowId=wid)
        return resp["data"]["phase"] == phase
    wait_for(reached, timeout, message="run %s to reach phase %s" % (wid, phase))


# -- authentication ---------------------------------------------------------------------------------------------------
def test_pages_and_api_require_a_signed_in_user(console):
    anonymous = Client(console)
    page = anonymous.request("GET", "/runs", headers={})
    assert page.status == 302
    assert page.header("Location") == "/login?next=/runs"
    env = anonymous.api("GET", "/api/runs")
    assert env["status"] == 401 and env["code"] == "UNAUTHENTICATED"
    assert anonymous.request("GET", "/login").status == 200
    assert anonymous.request("GET", "/static/console.css").status == 200


def test_login_sets_an_httponly_cookie_and_wrong_passwords_are_refused(console):
    client = Client(console)
    wrong = client.api("POST", "/api/login", {"username": "otto", "password": "nope"})
    assert wrong["status"] == 401 and wrong["code"] == "LOGIN_FAILED"
    unknown = client.api("POST", "/api/login", {"username": "nobody", "password": "nope"})
    assert unknown["code"] == "LOGIN_FAILED"
    response = client.request("POST", "/api/login", {"username": "otto", "password": PASSWORDS["otto"]})
    assert response.status == 200
    cookie = response.header("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    session = client.api("GET", "/api/session")
    assert session["data"]["user"] == "otto" and session["data"]["roles"] == ["operator"]
    assert session["data"]["can"] == {"start": True, "admin": False}


def test_a_forged_or_tampered_cookie_is_not_a_session(console):
    client = signed_in(console, "vera")
    name, value = client.cookie.split("=", 1)
    payload, signature = value.split(".")
    client.cookie = "%s=%s.%s" % (name, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB"))
    assert client.api("GET", "/api/session")["status"] == 401


def test_logout_ends_the_session(console):
    client = signed_in(console, "vera")
    old_cookie = client.cookie
    assert client.api("POST", "/api/logout", {})["code"] == "SIGNED_OUT"
    client.cookie = old_cookie  # replaying the old cookie does not work either
    assert client.api("GET", "/api/session")["status"] == 401


def test_a_password_change_ends_existing_sessions(console, users_file):
    client = signed_in(console, "otto")
    UserStore(users_file).set_password("otto", "a-new-password")
    time.sleep(0.01)
    assert client.api("GET", "/api/session")["status"] == 401
    client.login("otto", "a-new-password")
    assert client.api("GET", "/api/session")["ok"]


def test_repeated_wrong_passwords_lock_the_name_for_a_while(console):
    client = Client(console)
    codes = [client.api("POST", "/api/login", {"username": "ada", "password": "x%d" % i})["code"] for i in range(6)]
    assert codes[:5] == ["LOGIN_FAILED"] * 5
    assert codes[5] == "TOO_MANY_ATTEMPTS"
    locked = client.api("POST", "/api/login", {"username": "ada", "password": PASSWORDS["ada"]})
    assert locked["status"] == 429


def test_bearer_tokens_for_scripts(console, users_file):
    token = UserStore(users_file).add_token("nightly", "operator")
    script = Client(console)
    script.bearer = token
    assert script.api("GET", "/api/session")["data"]["via"] == "token"
    wid = start_demo(script, "demo.quick")  # state-changing without a CSRF token: bearer tokens need none
    assert wait_status(wid, "SUCCESS")["createdBy"] == "nightly"
    script.bearer = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert script.api("GET", "/api/runs")["status"] == 401


# -- CSRF -------------------------------------------------------------------------------------------------------------
def test_state_changing_calls_need_the_csrf_token(console):
    client = signed_in(console, "ada")
    missing = client.api("POST", "/api/runs", {"workflowName": "demo.quick"}, csrf=False)
    assert missing["status"] == 403 and missing["code"] == "CSRF_FAILED"
    wrong = client.api("POST", "/api/runs", {"workflowName": "demo.quick"}, headers={"X-CSRF-Token": "forged"},
                       csrf=False)
    assert wrong["code"] == "CSRF_FAILED"
    cross_site = client.api("POST", "/api/runs", {"workflowName": "demo.quick"},
                            headers={"Origin": "http://evil.example"})
    assert cross_site["code"] == "CSRF_FAILED"
    assert service.listRuns()["data"]["runs"] == []
    ok = client.api("POST", "/api/runs", {"workflowName": "demo.quick"}, headers={"Origin": "http://127.0.0.1:8088"})
    assert ok["ok"], ok


def test_the_body_must_be_json(console):
    client = signed_in(console, "ada")
    raw = console.handle(Request("POST", "/api/runs", "", {
        "Host": "127.0.0.1:8088", "Cookie": client.cookie, "X-CSRF-Token": client.csrf,
        "Content-Type": "application/x-www-form-urlencoded"}, b"workflowName=demo.quick"))
    env = json.loads(raw.body.decode("utf-8"))
    assert raw.status == 400 and env["code"] == "BAD_REQUEST"
    not_json = client.request("POST", "/api/runs", headers={"Content-Type": "application/json"})
    assert not_json.status == 400
    assert service.listRuns()["data"]["runs"] == []


# -- starting and listing ------------------------------------------------------------------------------------------------
def test_operator_starts_a_run_with_a_template_and_it_records_who(console):
    client = signed_in(console, "otto")
    templates = client.api("GET", "/api/templates?workflowName=demo.commands_60s")
    assert [t["name"] for t in templates["data"]["templates"]] == ["default"]
    assert [p["name"] for p in templates["data"]["params"]] == ["paramOne", "paramTwo"]
    wid = start_demo(client, "demo.quick", partitionKey="line-1/reactor-a", queueName="default", priority=10,
                     timeoutSeconds=180)
    run = wait_status(wid, "SUCCESS")
    assert run["createdBy"] == "otto"
    assert run["inputs"]["resolved"] == {"paramOne": "BATCH-001", "paramTwo": "AUTO"}
    assert run["partitionKey"] == "line-1/reactor-a" and run["priority"] == 10 and run["timeoutMs"] == 180000


def test_a_viewer_cannot_start_runs(console):
    env = signed_in(console, "vera").api("POST", "/api/runs", {"workflowName": "demo.quick"})
    assert env["status"] == 403 and env["code"] == "FORBIDDEN"
    assert service.listRuns()["data"]["runs"] == []


def test_validation_errors_name_the_field(console):
    client = signed_in(console, "otto")
    bad_choice = client.api("POST", "/api/runs", {"workflowName": "demo.commands_60s",
                                                  "inputs": {"resolved": {"paramOne": "B", "paramTwo": "FAST"}}})
    assert bad_choice["status"] == 400
    assert bad_choice["code"] == "INVALID_ARGUMENT"
    assert bad_choice["data"]["field"] == "inputs.resolved.paramTwo"
    bad_priority = client.api("POST", "/api/runs", {"workflowName": "demo.quick", "priority": 5000})
    assert bad_priority["data"]["field"] == "priority"
    unknown = client.api("POST", "/api/runs", {"workflowName": "demo.nope"})
    assert unknown["code"] == "UNKNOWN_WORKFLOW" and unknown["status"] == 400
    unknown_field = client.api("POST", "/api/runs", {"workflowName": "demo.quick", "sneaky": 1})
    assert unknown_field["data"]["field"] == "sneaky"
    assert service.listRuns()["data"]["runs"] == []


def test_runs_are_listed_newest_first_filtered_and_paged(console):
    client = signed_in(console, "otto")
    quick = []
    for _ in range(3):
        quick.append(start_demo(client, "demo.quick"))
        time.sleep(0.005)  # distinct creation times, so "newest first" has one answer
    time.sleep(0.005)
    other = start_demo(client, "demo.commands_60s", partitionKey="line-9")
    page = client.api("GET", "/api/runs?workflowName=demo.quick&limit=2")
    assert [r["workflowId"] for r in page["data"]["runs"]] == [quick[2], quick[1]]
    cursor = page["data"]["nextCursor"]
    rest = client.api("GET", "/api/runs?workflowName=demo.quick&limit=2&cursor=" + cursor)
    assert [r["workflowId"] for r in rest["data"]["runs"]] == [quick[0]]
    assert rest["data"]["nextCursor"] is None
    by_partition = client.api("GET", "/api/runs?partitionKey=line-9")
    assert [r["workflowId"] for r in by_partition["data"]["runs"]] == [other]
    for wid in quick:
        wait_status(wid, "SUCCESS")
    done = client.api("GET", "/api/runs?status=SUCCESS,ERROR")
    assert sorted(r["workflowId"] for r in done["data"]["runs"]) == sorted(quick)
    created = dict((r["workflowId"], r["createdAt"]) for r in client.api("GET", "/api/runs")["data"]["runs"])
    window = client.api("GET", "/api/runs?createdFrom=%d&createdTo=%d" % (created[quick[1]], created[other]))
    assert [r["workflowId"] for r in window["data"]["runs"]] == [quick[2], quick[1]]
    assert client.api("GET", "/api/runs?createdFrom=%d" % (created[other] + 1))["data"]["runs"] == []
    assert client.api("GET", "/api/runs?createdFrom=yesterday")["data"]["field"] == "createdFrom"
    assert client.api("GET", "/api/runs?status=SLEEPING")["status"] == 400
    assert client.api("GET", "/api/runs?cursor=garbage")["data"]["field"] == "cursor"
    assert client.api("GET", "/api/runs?limit=0")["status"] == 400
    signed_in(console, "sam").api("POST", "/api/runs/%s/commands" % other, {"cmd": "STOP"})
    wait_status(other, "STOPPED")


# -- one run: details, live updates, commands --------------------------------------------------------------------------
def test_bad_and_unknown_run_ids(console):
    client = signed_in(console, "vera")
    bad = client.api("GET", "/api/runs/not-a-uuid")
    assert bad["status"] == 400 and bad["code"] == "INVALID_ARGUMENT"
    assert client.api("GET", "/api/runs/1234/live")["status"] == 400
    missing = client.api("GET", "/api/runs/00000000-0000-4000-8000-000000000000")
    assert missing["status"] == 404 and missing["code"] == "NOT_FOUND"
    assert client.api("GET", "/api/runs/00000000-0000-4000-8000-000000000000/live")["status"] == 404
    assert client.api("GET", "/api/runs/00000000-0000-4000-8000-000000000000/steps")["status"] == 404
    assert client.api("GET", "/api/nothing-here")["status"] == 404
    assert client.api("DELETE", "/api/runs")["status"] == 405
    assert client.api("GET", "/api/runs/00000000-0000-4000-8000-000000000000/bogus")["code"] == "ROUTE_NOT_FOUND"


def test_live_returns_only_what_is_new(console):
    client = signed_in(console, "otto")
    wid = start_demo(client)
    wait_for(lambda: service.getWorkflow(workflowId=wid)["data"]["events"].get("counter"), 30,
             message="the first tick")
    first = client.api("GET", "/api/runs/%s/live?afterOffset=-1&afterHistoryId=0" % wid)["data"]
    assert first["run"]["status"] == "RUNNING"
    assert first["log"] and first["history"]
    last_offset = first["log"][-1]["offset"]
    wait_for(lambda: service.readStream(workflowId=wid, afterOffset=last_offset)["data"]["entries"], 30,
             message="more log entries")
    second = client.api("GET", "/api/runs/%s/live?afterOffset=%d&afterHistoryId=%d"
                        % (wid, last_offset, first["lastHistoryId"]))["data"]
    assert second["log"], "a new tick wrote new log entries"
    assert all(e["offset"] > last_offset for e in second["log"])
    assert all(h["id"] > first["lastHistoryId"] for h in second["history"])
    assert client.api("GET", "/api/runs/%s/live?afterOffset=x" % wid)["status"] == 400
    signed_in(console, "sam").api("POST", "/api/runs/%s/commands" % wid, {"cmd": "STOP"})
    wait_status(wid, "STOPPED")


def choices(env):
    return dict((c["cmd"], c["allowed"]) for c in env["data"]["console"]["choices"])


def test_buttons_follow_the_state_and_the_role(console):
    operator, supervisor, viewer = (signed_in(console, n) for n in ("otto", "sam", "vera"))
    wid = start_demo(operator)
    wait_status(wid, "RUNNING", timeout=30)
    assert choices(operator.api("GET", "/api/runs/%s" % wid)) == {
        "HOLD": True, "RESUME": False, "STOP": False, "RESET": True, "CANCEL": False, "RETRY": False,
        "CONTINUE": False}
    assert choices(supervisor.api("GET", "/api/runs/%s" % wid)) == {
        "HOLD": True, "RESUME": False, "STOP": True, "RESET": True, "CANCEL": True, "RETRY": False, "CONTINUE": False}
    assert not any(choices(viewer.api("GET", "/api/runs/%s" % wid)).values())
    reasons = dict((c["cmd"], c["reason"]) for c in operator.api("GET", "/api/runs/%s" % wid)["data"]["console"]["choices"])
    assert "otto" in reasons["STOP"] and "RESUME" in reasons["RESUME"]

    held = operator.api("POST", "/api/runs/%s/commands" % wid, {"cmd": "HOLD", "reason": "check valve"})
    assert held["ok"] and held["code"] == "COMMAND_ACCEPTED"
    # judged against the state the run will be in: HOLD is pending, so RESUME is already allowed
    assert choices(operator.api("GET", "/api/runs/%s/live" % wid))["RESUME"] is True
    wait_status(wid, "HELD", timeout=30)
    assert choices(operator.api("GET", "/api/runs/%s" % wid)) == {
        "HOLD": False, "RESUME": True, "STOP": False, "RESET": True, "CANCEL": False, "RETRY": False,
        "CONTINUE": False}
    assert operator.api("POST", "/api/runs/%s/commands" % wid, {"cmd": "RESUME"})["ok"]
    wait_phase(wid, "RUNNING")

    forbidden = operator.api("POST", "/api/runs/%s/commands" % wid, {"cmd": "STOP", "reason": "try"})
    assert forbidden["status"] == 403 and forbidden["code"] == "COMMAND_FORBIDDEN"
    assert viewer.api("POST", "/api/runs/%s/commands" % wid, {"cmd": "HOLD"})["code"] == "COMMAND_FORBIDDEN"
    stop = supervisor.api("POST", "/api/runs/%s/commands" % wid, {"cmd": "STOP", "reason": "end of shift"})
    assert stop["ok"]
    assert wait_status(wid, "STOPPED", timeout=30)["status"] == "STOPPED"
    after = supervisor.api("GET", "/api/runs/%s" % wid)
    assert choices(after) == {"HOLD": False, "RESUME": False, "STOP": False, "RESET": False, "CANCEL": False,
                              "RETRY": True, "CONTINUE": False}
    rejected = supervisor.api("POST", "/api/runs/%s/commands" % wid, {"cmd": "RESUME"})
    assert rejected["status"] == 409 and rejected["code"] == "COMMAND_REJECTED"

    log = [(c["cmd"], c["actor"], c["actorRoles"], c["state"], c["reason"])
           for c in supervisor.api("GET", "/api/runs/%s/commands" % wid)["data"]["commands"]]
    assert ("HOLD", "otto", ["operator"], "APPLIED", "check valve") in log
    assert ("RESUME", "otto", ["operator"], "APPLIED", None) in log
    assert ("STOP", "otto", ["operator"], "FORBIDDEN", "try") in log
    assert ("HOLD", "vera", ["viewer"], "FORBIDDEN", None) in log
    assert ("STOP", "sam", ["supervisor"], "APPLIED", "end of shift") in log
    phases = [h["value"] for h in service.listEventHistory(workflowId=wid)["data"]["history"] if h["key"] == "phase"]
    assert phases[:3] == ["RUNNING", "HOLDING", "HELD"] and phases[-2:] == ["STOPPING", "STOPPED"]


def test_retry_and_cancel_through_the_api(console):
    supervisor, operator = signed_in(console, "sam"), signed_in(console, "otto")
    wid = start_demo(supervisor)
    wait_status(wid, "RUNNING", timeout=30)
    assert operator.api("POST", "/api/runs/%s/cancel" % wid, {"reason": "no"})["code"] == "COMMAND_FORBIDDEN"
    assert supervisor.api("POST", "/api/runs/%s/cancel" % wid, {"reason": "wrong batch"})["ok"]
    assert wait_status(wid, "CANCELLED", timeout=30)["status"] == "CANCELLED"
    assert operator.api("POST", "/api/runs/%s/retry" % wid, {})["code"] == "COMMAND_FORBIDDEN"
    retried = supervisor.api("POST", "/api/runs/%s/commands" % wid, {"cmd": "RETRY", "reason": "fixed"})
    assert retried["ok"], retried
    new_id = retried["data"]["workflowId"]
    assert supervisor.api("GET", "/api/runs/%s" % new_id)["data"]["retryOf"] == wid
    supervisor.api("POST", "/api/runs/%s/commands" % new_id, {"cmd": "STOP"})
    wait_status(new_id, "STOPPED", timeout=30)


# -- code versions: the runs of a version, and a run whose replay diverged ----------------------------------------
def current_version(name):
    return dict((w["name"], w["version"]) for w in service.listWorkflows()["data"]["workflows"])[name]


def diverged_run(engine, steps=2):
    """A t.linear run that ends ERROR with a NonDeterminismError at position 1, as when its workflow's code changed
    under it: while claims are paused its record gets a step of another name at position 1 (as
    test_engine_basics.py::test_a_changed_step_name_at_a_recorded_position_is_an_error), so its replay diverges."""
    engine.kernel.set_flag("draining", True)
    try:
        time.sleep(0.1)  # a tick that had passed the draining check when it was set has finished its claims
        wid = service.start(workflowName="t.linear", inputs={"resolved": {"steps": steps}})["data"]["workflowId"]
        db = engine.store.db
        db.execute("INSERT INTO workflows.operation_outputs (workflow_uuid, function_id, function_name, kind, status, "
                   "output, attempts, started_at, completed_at) VALUES (?, 1, 'renamed', 'step', 'SUCCESS', '0', 1, "
                   "1, 1)", (wid,))
        db.execute("UPDATE workflows.workflow_status SET run_count = 1 WHERE workflow_uuid = ?", (wid,))
    finally:
        engine.kernel.set_flag("draining", False)
    run = wait_status(wid)
    assert run["status"] == "ERROR" and run["error"]["type"] == "NonDeterminismError", run
    assert (run["error"]["functionId"], run["error"]["recordedName"], run["error"]["calledName"]) == (1, "renamed",
                                                                                                     "count")
    return wid


def test_runs_are_listed_by_the_version_of_their_code(console):
    client = signed_in(console, "vera")
    quick_version, linear_version = current_version("demo.quick"), current_version("t.linear")
    assert quick_version and linear_version and quick_version != linear_version
    quick = [service.start(workflowName="demo.quick", inputs={"template": "default"})["data"]["workflowId"]
             for _ in range(2)]
    linear = service.start(workflowName="t.linear", inputs={"resolved": {"steps": 1}})["data"]["workflowId"]
    for wid in quick + [linear]:
        wait_status(wid, "SUCCESS")
    listed = client.api("GET", "/api/runs")["data"]["runs"]
    assert dict((r["workflowId"], r["workflowVersion"]) for r in listed) == {
        quick[0]: quick_version, quick[1]: quick_version, linear: linear_version}
    assert run_ids(client.api("GET", "/api/runs?workflowVersion=%s" % quick_version)) == sorted(quick)
    assert run_ids(client.api("GET", "/api/runs?workflowVersion=%s&limit=1" % quick_version)) in ([quick[0]],
                                                                                                 [quick[1]])
    assert run_ids(client.api("GET", "/api/runs?workflowVersion=%s" % linear_version)) == [linear]
    assert run_ids(client.api("GET", "/api/runs?workflowVersion=%s&workflowName=demo.quick" % linear_version)) == []
    assert run_ids(client.api("GET", "/api/runs?workflowVersion=no-such-version")) == []
    assert run_ids(client.api("GET", "/api/runs?workflowVersion=")) == sorted(quick + [linear])  # empty: no filter
    assert client.api("GET", "/api/runs/%s" % linear)["data"]["workflowVersion"] == linear_version


def test_continue_with_current_code_through_the_api(console, engine):
    viewer, operator, supervisor = (signed_in(console, n) for n in ("vera", "otto", "sam"))
    wid = diverged_run(engine)
    other = service.start(workflowName="t.fails", inputs={"resolved": {"message": "not a divergence"}})
    other = other["data"]["workflowId"]
    assert wait_status(other)["status"] == "ERROR"

    # the choice: only for a run whose replay diverged, and for the roles policy.CONTINUE names
    run = supervisor.api("GET", "/api/runs/%s" % wid)
    assert run["data"]["workflowVersion"] == current_version("t.linear")
    assert choices(run)["CONTINUE"] is True and choices(run)["RETRY"] is True
    assert "CONTINUE" in run["data"]["console"]["allowed"]
    assert choices(supervisor.api("GET", "/api/runs/%s/live?log=0" % wid))["CONTINUE"] is True
    reasons = dict((c["cmd"], c["reason"]) for c in operator.api("GET", "/api/runs/%s" % wid)["data"]["console"]["choices"])
    assert choices(operator.api("GET", "/api/runs/%s" % wid))["CONTINUE"] is False
    assert reasons["CONTINUE"] == "otto [operator] may not continue runs with the current code"
    assert choices(viewer.api("GET", "/api/runs/%s" % wid))["CONTINUE"] is False
    plain = supervisor.api("GET", "/api/runs/%s" % other)
    assert choices(plain)["CONTINUE"] is False and choices(plain)["RETRY"] is True
    reason = [c["reason"] for c in plain["data"]["console"]["choices"] if c["cmd"] == "CONTINUE"][0]
    assert "NonDeterminismError" in reason
    policy_rows = dict((c["cmd"], c) for c in viewer.api("GET", "/api/admin/policy")["data"]["commands"])
    assert policy_rows["CONTINUE"]["roles"] == ["supervisor", "admin"] == policy_rows["RETRY"]["roles"]
    assert policy_rows["CONTINUE"]["states"] == ["ERROR"]

    # the routes: refused for an operator (403, recorded), for a run that did not diverge (409), without CSRF
    forbidden = operator.api("POST", "/api/runs/%s/commands" % wid, {"cmd": "CONTINUE", "reason": "try"})
    assert forbidden["status"] == 403 and forbidden["code"] == "COMMAND_FORBIDDEN"
    assert operator.api("POST", "/api/runs/%s/continue" % wid, {})["code"] == "COMMAND_FORBIDDEN"
    rejected = supervisor.api("POST", "/api/runs/%s/continue" % other, {})
    assert rejected["status"] == 409 and rejected["code"] == "COMMAND_REJECTED"
    assert supervisor.api("POST", "/api/runs/%s/continue" % wid, {}, csrf=False)["code"] == "CSRF_FAILED"
    assert supervisor.api("GET", "/api/runs/%s/continue" % wid)["status"] == 405

    # a supervisor continues it: a new linked run from the divergence, running the current code to the end
    done = supervisor.api("POST", "/api/runs/%s/commands" % wid, {"cmd": "continue", "reason": "step renamed"})
    assert done["status"] == 200 and done["code"] == "WORKFLOW_ENQUEUED", done
    assert done["data"]["retryOf"] == wid and done["data"]["fromFunctionId"] == 1
    again = supervisor.api("POST", "/api/runs/%s/continue" % wid, {"reason": "once more"})
    assert again["code"] == "WORKFLOW_ENQUEUED" and again["data"]["workflowId"] != done["data"]["workflowId"]
    for new_id in (done["data"]["workflowId"], again["data"]["workflowId"]):
        after = wait_status(new_id)
        assert after["status"] == "SUCCESS" and after["output"] == 10, after
        assert after["retryOf"] == wid and after["createdBy"] == "sam"
        assert choices(supervisor.api("GET", "/api/runs/%s" % new_id))["CONTINUE"] is False
    log = [(c["cmd"], c["state"], c["actor"], c["reason"])
           for c in viewer.api("GET", "/api/runs/%s/commands" % wid)["data"]["commands"]]
    assert log == [("CONTINUE", "FORBIDDEN", "otto", "try"), ("CONTINUE", "FORBIDDEN", "otto", None),
                   ("CONTINUE", "APPLIED", "sam", "step renamed"), ("CONTINUE", "APPLIED", "sam", "once more")]
    assert [c["cmd"] for c in viewer.api("GET", "/api/runs/%s/commands" % other)["data"]["commands"]] == []


def test_steps_of_a_run(console):
    client = signed_in(console, "otto")
    wid = start_demo(client, "demo.quick")
    wait_status(wid, "SUCCESS")
    steps = client.api("GET", "/api/runs/%s/steps" % wid)["data"]["steps"]
    named = [(s["name"], s["status"], s["attempts"]) for s in steps if s["kind"] == "step"]
    assert named == [("first", "SUCCESS", 1), ("second", "SUCCESS", 1), ("third", "SUCCESS", 1)]


# -- runs that start runs -----------------------------------------------------------------------------------------------
def start_with(client, workflow, resolved):
    env = client.api("POST", "/api/runs", {"workflowName": workflow, "inputs": {"resolved": resolved}})
    assert env["ok"], env
    return env["data"]["workflowId"]


def run_ids(env):
    assert env["ok"], env
    return sorted(r["workflowId"] for r in env["data"]["runs"])


def test_children_are_listed_by_parent_and_hidden_on_request(console):
    client = signed_in(console, "otto")
    parent = start_with(client, "t.parent", {"children": 2, "steps": 2, "delay": 0})
    other = start_demo(client, "demo.quick")
    assert wait_status(parent, "SUCCESS")["parentWorkflowId"] is None
    wait_status(other, "SUCCESS")
    run = client.api("GET", "/api/runs/%s" % parent)["data"]
    children = run["children"]
    ids = sorted(c["workflowId"] for c in children)
    assert len(ids) == 2 and run["waitingFor"] is None
    assert sorted(c["partitionKey"] for c in children) == ["unit-0", "unit-1"]
    assert all(c["workflowName"] == "t.stoppable" and c["status"] == "SUCCESS" for c in children)
    assert client.api("GET", "/api/runs/%s/live?log=0" % parent)["data"]["run"]["children"] == children

    listed = client.api("GET", "/api/runs?parentWorkflowId=%s" % parent)
    assert run_ids(listed) == ids
    assert all(r["parentWorkflowId"] == parent and r["rootWorkflowId"] == parent for r in listed["data"]["runs"])
    assert run_ids(client.api("GET", "/api/runs?parentWorkflowId=%s&workflowName=t.stoppable&limit=1" % parent.upper())) \
        in ([ids[0]], [ids[1]])
    assert run_ids(client.api("GET", "/api/runs?parentWorkflowId=%s" % other)) == []
    assert run_ids(client.api("GET", "/api/runs?topLevelOnly=1")) == sorted([parent, other])
    assert run_ids(client.api("GET", "/api/runs?topLevelOnly=true")) == sorted([parent, other])
    assert run_ids(client.api("GET", "/api/runs?topLevelOnly=0")) == sorted([parent, other] + ids)
    assert run_ids(client.api("GET", "/api/runs")) == sorted([parent, other] + ids)

    child = client.api("GET", "/api/runs/%s" % ids[0])["data"]
    assert child["parentWorkflowId"] == parent and child["rootWorkflowId"] == parent
    assert child["children"] == [] and child["waitingFor"] is None
    bad = client.api("GET", "/api/runs?parentWorkflowId=not-a-uuid")
    assert bad["status"] == 400 and bad["code"] == "INVALID_ARGUMENT" and bad["data"]["field"] == "parentWorkflowId"
    steps = client.api("GET", "/api/runs/%s/steps" % parent)["data"]["steps"]
    assert [s["kind"] for s in steps] == ["child", "child", "await", "step"]
    assert sorted(s["output"] for s in steps if s["kind"] == "child") == ids


def test_a_waiting_parent_and_the_commands_it_passes_on(console):
    operator, supervisor = signed_in(console, "otto"), signed_in(console, "sam")
    parent = start_with(operator, "t.parent", {"children": 2, "steps": 400, "delay": 0.05})
    wait_status(parent, "WAITING", timeout=30)
    run = operator.api("GET", "/api/runs/%s" % parent)
    ids = sorted(c["workflowId"] for c in run["data"]["children"])
    waiting = run["data"]["waitingFor"]
    assert run["data"]["phase"] == "WAITING"
    assert waiting["operation"] == "awaitAll" and sorted(waiting["workflowIds"]) == ids
    assert sorted(waiting["pending"]) == ids and waiting["deadline"] is None
    live = operator.api("GET", "/api/runs/%s/live?log=0" % parent)["data"]["run"]
    assert live["status"] == "WAITING" and live["waitingFor"]["operation"] == "awaitAll"
    assert run_ids(operator.api("GET", "/api/runs?status=WAITING")) == [parent]
    allowed = choices(run)
    assert allowed["HOLD"] is True and allowed["STOP"] is False and allowed["RESUME"] is False
    queues = dict((q["name"], q) for q in operator.api("GET", "/api/queues")["data"]["queues"])
    assert queues["default"]["counts"].get("WAITING") == 1

    stop = supervisor.api("POST", "/api/runs/%s/commands" % parent, {"cmd": "STOP", "reason": "line down"})
    assert stop["ok"], stop
    assert wait_status(parent, "STOPPED", timeout=30)["status"] == "STOPPED"
    for child in ids:
        assert wait_status(child, "STOPPED", timeout=30)["parentWorkflowId"] == parent
        passed = [c for c in operator.api("GET", "/api/runs/%s/commands" % child)["data"]["commands"]
                  if c["cmd"] == "STOP"]
        assert [(c["causeId"], c["actor"], c["reason"]) for c in passed] == [(stop["data"]["commandId"], "sam", "line down")]
    own = operator.api("GET", "/api/runs/%s/commands" % parent)["data"]["commands"]
    assert [c["causeId"] for c in own] == [None]


# -- XSS ----------------------------------------------------------------------------------------------------------------
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def test_values_can_never_close_a_tag_in_json_answers(console):
    client = signed_in(console, "otto")
    wid = start_demo(client, "demo.quick", inputs={"resolved": {"paramOne": XSS, "paramTwo": "AUTO"}})
    run = wait_status(wid, "SUCCESS")
    assert "<script>" in run["output"]
    raw = client.request("GET", "/api/runs/%s" % wid).body.decode("utf-8")
    assert "<script" not in raw and "<img" not in raw
    assert "\\u003cscript\\u003e" in raw
    assert json.loads(raw)["data"]["output"] == run["output"]


# -- pages ----------------------------------------------------------------------------------------------------------------
def test_pages_are_static_shells_with_strict_security_headers(console):
    client = signed_in(console, "vera")
    for path in ("/", "/runs", "/queues", "/admin"):
        page = client.request("GET", path)
        assert page.status == 200, path
        assert page.header("Content-Type").startswith("text/html")
        csp = page.header("Content-Security-Policy")
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert page.header("X-Content-Type-Options") == "nosniff"
        assert b"<script src=\"/static/console.js\"" in page.body


def test_bad_pages_and_ids_get_clean_error_pages(console):
    client = signed_in(console, "vera")
    bad = client.request("GET", "/runs/<img src=x onerror=alert(1)>")
    assert bad.status == 400
    assert b"<img" not in bad.body and b"&lt;img src=x" in bad.body
    nested = client.request("GET", "/runs/<script>alert(1)</script>")
    assert nested.status == 404
    assert b"<script>alert" not in nested.body and b"&lt;script&gt;" in nested.body
    unknown = client.request("GET", "/runs/00000000-0000-4000-8000-000000000000")
    assert unknown.status == 404 and b"Run not found" in unknown.body
    assert client.request("GET", "/runs/00000000-0000-4000-8000-000000000000/steps").status == 404
    assert client.request("GET", "/no/such/page").status == 404
    assert client.request("GET", "/static/../app.py").status == 404
    assert client.request("GET", "/static/nothing.js").status == 404
    assert client.request("POST", "/runs").status == 405


def test_run_pages_exist_for_real_runs(console):
    client = signed_in(console, "otto")
    wid = start_demo(client, "demo.quick")
    assert client.request("GET", "/runs/%s" % wid).status == 200
    assert client.request("GET", "/runs/%s/steps" % wid.upper()).status == 200
    wait_status(wid, "SUCCESS")


def test_a_mount_prefix_is_applied_to_links_and_cookies(engine, users_file):
    console = Console(users_file, base="/system/webdev/proj/console")
    client = Client(console)
    page = client.request("GET", "/system/webdev/proj/console/runs")
    assert page.header("Location") == "/system/webdev/proj/console/login?next=/system/webdev/proj/console/runs"
    login = client.request("POST", "/system/webdev/proj/console/api/login",
                           {"username": "vera", "password": PASSWORDS["vera"]})
    assert "Path=/system/webdev/proj/console" in login.header("Set-Cookie")
    html = client.request("GET", "/system/webdev/proj/console/queues").body.decode("utf-8")
    assert re.search(r'href="/system/webdev/proj/console/static/console.css"', html)


# -- queues and admin ------------------------------------------------------------------------------------------------------
def test_queues_show_counts(console):
    client = signed_in(console, "sam")
    wid = start_demo(client, partitionKey="line-1/reactor-a")
    wait_status(wid, "RUNNING", timeout=30)
    queues = dict((q["name"], q) for q in client.api("GET", "/api/queues")["data"]["queues"])
    assert queues["default"]["counts"].get("RUNNING") == 1
    assert queues["default"]["activePartitions"] == ["line-1/reactor-a"]
    client.api("POST", "/api/runs/%s/commands" % wid, {"cmd": "STOP"})
    wait_status(wid, "STOPPED", timeout=30)
    queues = dict((q["name"], q) for q in client.api("GET", "/api/queues")["data"]["queues"])
    assert queues["default"]["finishedLast24h"] == {"STOPPED": 1}


def test_admin_reads_for_everyone_changes_for_admins(console):
    viewer, admin = signed_in(console, "vera"), signed_in(console, "ada")
    executors = viewer.api("GET", "/api/admin/executors")["data"]["executors"]
    assert [e["executorId"] for e in executors] == ["test-0"]
    has = executors[0]["workflows"]  # the workflows this executor registered, with the version of their code
    assert has["demo.quick"] == current_version("demo.quick") and has["t.linear"] == current_version("t.linear")
    assert viewer.api("GET", "/api/admin/schema")["data"]["version"] >= 1
    assert viewer.api("GET", "/api/admin/policy")["ok"]
    assert viewer.api("POST", "/api/admin/maintenance", {"action": "drain"})["status"] == 403
    assert viewer.api("POST", "/api/admin/retention", {"days": 1})["status"] == 403
    assert viewer.api("POST", "/api/admin/retention/apply", {})["status"] == 403

    assert admin.api("POST", "/api/admin/maintenance", {"action": "drain"})["code"] == "MAINTENANCE_ENTERED"
    assert admin.api("GET", "/api/admin/maintenance")["data"]["draining"] is True
    assert admin.api("POST", "/api/admin/maintenance", {"action": "resume"})["code"] == "MAINTENANCE_EXITED"
    assert admin.api("POST", "/api/admin/maintenance", {"action": "explode"})["status"] == 400
    saved = admin.api("POST", "/api/admin/retention", {"days": 7, "batch": 100})
    assert saved["code"] == "RETENTION_SAVED"
    assert admin.api("GET", "/api/admin/retention")["data"] == {"days": 7, "batch": 100}
    assert admin.api("POST", "/api/admin/retention", {"days": -1})["data"]["field"] == "days"
    assert admin.api("POST", "/api/admin/retention/apply", {})["code"] == "RETENTION_APPLIED"
