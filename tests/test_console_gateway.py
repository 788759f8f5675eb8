"""The operator console served by the real product: `./gateway run` (Jython, com.sun.net.httpserver) on PostgreSQL,
driven over HTTP and from headless Debian chromium (Playwright, executable /usr/bin/chromium).

The browser walk is an operator's path from the start page to a stopped run. Screenshots go to a temporary folder, or to the folder named
by WORKFLOWS_SCREENSHOTS (the ones in docs/screenshots were taken with WORKFLOWS_SCREENSHOTS=docs/screenshots).
"""
import json
import os
import re
import socket
import subprocess
import threading
import time

import pytest

from conftest import ROOT, _clean_pg, gateway_command, open_page, spawn, wait_for
from workflows_api.users import UserStore

from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.request import HTTPCookieProcessor, Request, build_opener

PASSWORDS = {"sam": "supervisor-pw", "otto": "operator-pw", "vera": "viewer-pw"}
ROLES = {"sam": "supervisor", "otto": "operator", "vera": "viewer"}
XSS = "<script>window.__xss=1</script><img src=x onerror=window.__xss=2>"
WAIT_MS = 45000


def _free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class Gateway(object):
    """A `./gateway run` subprocess with its console on a free port; its output is collected for diagnosis."""

    def __init__(self, db_url, users_file):
        self.port = _free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.lines = []
        self.proc = spawn(
            gateway_command("run", "--db", db_url, "--http", "127.0.0.1:%d" % self.port, "--auth-file", users_file,
                            "--workers", "4", "--executor-id", "console-test"),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        self._reader = threading.Thread(target=self._read)
        self._reader.daemon = True
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self):
        return "\n".join(self.lines[-80:])

    def wait_ready(self, timeout=180.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(l.startswith("console: http://") for l in self.lines):
                return
            if self.proc.poll() is not None:
                raise AssertionError("./gateway run exited with %s:\n%s" % (self.proc.returncode, self.output()))
            time.sleep(0.2)
        raise AssertionError("the console did not start within %ds:\n%s" % (timeout, self.output()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture(scope="module")
def gateway(pg_database, tmp_path_factory):
    folder = tmp_path_factory.mktemp("console")
    if os.environ.get("WORKFLOWS_CONSOLE_TEST_DB") == "sqlite":  # a quick local variant; the default is PostgreSQL
        db_url = "sqlite:%s" % (folder / "workflows.db")
    else:
        _clean_pg(pg_database)
        db_url = pg_database
    users_file = str(folder / "console-users.json")
    store = UserStore(users_file)
    for name, password in PASSWORDS.items():
        store.add_user(name, ROLES[name], password)
    gw = Gateway(db_url, users_file)
    try:
        gw.wait_ready()
        yield gw
    finally:
        gw.stop()


class Http(object):
    """A cookie-keeping HTTP client for the console API (a browser without the browser)."""

    def __init__(self, base):
        self.base = base
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))
        self.csrf = None

    def call(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = Request(self.base + path, data=data, method=method, headers=dict(headers or {}))
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.csrf and method != "GET" and "X-CSRF-Token" not in (headers or {}):
            request.add_header("X-CSRF-Token", self.csrf)
        try:
            response = self.opener.open(request, timeout=60)
        except HTTPError as err:
            response = err
        return response.getcode(), dict((k.lower(), v) for k, v in response.headers.items()), response.read()

    def api(self, method, path, body=None, headers=None):
        status, _, raw = self.call(method, path, body, headers)
        env = json.loads(raw.decode("utf-8"))
        env["status"] = status
        return env

    def login(self, name):
        env = self.api("POST", "/api/login", {"username": name, "password": PASSWORDS[name]})
        assert env["ok"], env
        self.csrf = env["data"]["csrfToken"]
        return self

    def wait_status(self, wid, statuses, timeout=60.0):
        statuses = (statuses,) if isinstance(statuses, str) else statuses

        def reached():
            env = self.api("GET", "/api/runs/%s" % wid)
            return env["data"] if env["ok"] and env["data"]["status"] in statuses else None
        return wait_for(reached, timeout, interval=0.2, message="run %s to reach %s" % (wid, "/".join(statuses)))


# -- over HTTP: the Jython adapter ----------------------------------------------------------------------------------
def test_the_jython_gateway_serves_the_api_with_sessions_and_csrf(gateway):
    anonymous = Http(gateway.url)
    status, _, body = anonymous.call("GET", "/runs")  # redirected to the sign-in page
    assert status == 200 and b'id="login-form"' in body
    assert anonymous.api("GET", "/api/runs")["status"] == 401
    status, headers, body = anonymous.call("GET", "/static/console.css")
    assert status == 200 and headers["content-type"].startswith("text/css") and b"--accent" in body
    assert "script-src 'self'" in headers["content-security-policy"]

    otto = Http(gateway.url).login("otto")
    assert otto.api("GET", "/api/session")["data"]["roles"] == ["operator"]
    refused = otto.api("POST", "/api/runs", {"workflowName": "demo.quick"}, headers={"X-CSRF-Token": "forged"})
    assert refused["status"] == 403
    started = otto.api("POST", "/api/runs", {"workflowName": "demo.quick",
                                             "inputs": {"resolved": {"paramOne": u"Charge \u00fc", "paramTwo": "AUTO"}}})
    assert started["ok"], started
    run = otto.wait_status(started["data"]["workflowId"], "SUCCESS")
    assert run["output"] == u"first:Charge \u00fc:second:third:AUTO"
    assert run["createdBy"] == "otto"

    status, headers, body = otto.call("GET", "/runs/not-a-run")
    assert status == 400 and headers["content-type"].startswith("text/html") and b"not a run id" in body
    assert otto.call("GET", "/runs/00000000-0000-4000-8000-000000000000")[0] == 404
    assert otto.call("GET", "/nowhere")[0] == 404
    assert otto.api("GET", "/api/runs/nope/steps")["status"] == 400
    status, _, body = otto.call("HEAD", "/static/console.js")
    assert status == 200 and body == b""
    status, _, body = otto.call("POST", "/api/login", {"username": "x" * (2 * 1024 * 1024)})
    assert status == 413 and json.loads(body.decode("utf-8"))["code"] == "BODY_TOO_LARGE"


# -- in a browser ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = os.environ.get("WORKFLOWS_SCREENSHOTS")
    if folder:
        folder = os.path.join(ROOT, folder) if not os.path.isabs(folder) else folder
        if not os.path.isdir(folder):
            os.makedirs(folder)
        return folder
    return str(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture
def page(browser):
    yield from open_page(browser, WAIT_MS)


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def sign_in(page, gateway, name, path="/"):
    page.goto(gateway.url + path)
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    page.fill("#username", name)
    page.fill("#password", PASSWORDS[name])
    page.click("#login-button")
    page.wait_for_url(gateway.url + path)


def start_from_the_start_page(page, workflow, param_one, param_two="AUTO", partition=None):
    expect()(page.locator("#workflow option[value='%s']" % workflow)).to_have_count(1)
    page.select_option("#workflow", workflow)
    expect()(page.locator("#params[data-workflow='%s']" % workflow)).to_have_count(1)
    page.select_option("#template", "default")
    page.fill("#param-paramOne", param_one)
    if page.locator("#param-paramTwo").evaluate("el => el.tagName") == "SELECT":
        page.select_option("#param-paramTwo", label=param_two)
    else:
        page.fill("#param-paramTwo", param_two)
    if partition:
        page.fill("#partitionKey", partition)
    page.fill("#timeoutSeconds", "180")
    page.click("#start-button")
    link = page.locator("#new-run-link")
    expect()(link).to_be_visible()
    return link.inner_text().strip()


def wait_run_status(page, status):
    expect()(page.locator("#run-status .pill")).to_have_text(status, timeout=WAIT_MS)


def click_when_enabled(page, selector):
    button = page.locator(selector)
    expect()(button).to_be_enabled(timeout=WAIT_MS)
    button.click()


def test_login_is_required(gateway, page):
    page.goto(gateway.url + "/runs?workflowName=demo.quick")
    page.wait_for_url(re.compile(r".*/login\?next=%2Fruns.*|.*/login\?next=/runs.*"))
    expect()(page.locator("#login-form")).to_be_visible()
    page.fill("#username", "otto")
    page.fill("#password", "wrong password")
    page.click("#login-button")
    expect()(page.locator("#login-error")).to_have_text("wrong user name or password")
    page.fill("#password", PASSWORDS["otto"])
    page.click("#login-button")
    page.wait_for_url(gateway.url + "/runs?workflowName=demo.quick")
    expect()(page.locator("#who-name")).to_have_text("otto")


def test_path_a_start_watch_hold_resume_stop_inspect(gateway, page, shots):
    page.goto(gateway.url + "/")
    page.wait_for_url(re.compile(r".*/login.*"))
    page.screenshot(path=os.path.join(shots, "console-login.png"))
    page.fill("#username", "sam")
    page.fill("#password", PASSWORDS["sam"])
    page.click("#login-button")
    page.wait_for_url(gateway.url + "/")

    # 1-5: open /, select demo.commands_60s, template default, BATCH-001 / AUTO, Start
    expect()(page.locator("#workflow option[value='demo.commands_60s']")).to_have_count(1)
    page.select_option("#workflow", "demo.commands_60s")
    expect()(page.locator("#params[data-workflow='demo.commands_60s']")).to_have_count(1)
    page.select_option("#template", "default")
    expect()(page.locator("#param-paramOne")).to_have_value("BATCH-001")
    page.fill("#param-paramOne", "BATCH-001")
    page.select_option("#param-paramTwo", label="AUTO")
    page.fill("#partitionKey", "line-1/reactor-a")
    page.fill("#timeoutSeconds", "180")
    page.screenshot(path=os.path.join(shots, "console-start.png"), full_page=True)
    page.click("#start-button")
    link = page.locator("#new-run-link")
    expect()(link).to_be_visible()
    wid = link.inner_text().strip()
    assert re.match(r"^[0-9a-f-]{36}$", wid)

    # 6: /runs filtered by workflow name
    page.goto(gateway.url + "/runs")
    expect()(page.locator("#f-workflow option[value='demo.commands_60s']")).to_have_count(1)
    page.select_option("#f-workflow", "demo.commands_60s")
    page.click("#apply-filters")
    page.wait_for_url(gateway.url + "/runs?workflowName=demo.commands_60s")
    row = page.locator("#runs-table tbody tr[data-run-id='%s']" % wid)
    expect()(row).to_be_visible()
    expect()(page.locator("#runs-table tbody tr")).to_have_count(1)
    page.screenshot(path=os.path.join(shots, "console-runs.png"), full_page=True)

    # 7: open the run (and watch what the page asks for: after the first poll, only what is new)
    live_urls = []
    page.on("request", lambda req: live_urls.append(req.url) if "/live?" in req.url else None)
    row.locator("a").click()
    page.wait_for_url(gateway.url + "/runs/" + wid)
    wait_run_status(page, "RUNNING")
    expect()(page.locator("#log .entry").first).to_be_visible()

    # HOLD -> HELD
    page.fill("#command-reason", "operator hold")
    click_when_enabled(page, "#cmd-HOLD")
    expect()(page.locator("#command-result")).to_contain_text("COMMAND_ACCEPTED")
    wait_run_status(page, "HELD")
    expect()(page.locator("#run-phase .pill")).to_have_text("HELD")
    expect()(page.locator("#cmd-HOLD")).to_be_disabled()
    page.wait_for_timeout(1500)  # held a little while, so the timeline shows the held interval clearly
    page.screenshot(path=os.path.join(shots, "console-run-held.png"), full_page=True)

    # RESUME -> RUNNING, then STOP -> STOPPED
    click_when_enabled(page, "#cmd-RESUME")
    wait_run_status(page, "RUNNING")
    expect()(page.locator("#log")).to_contain_text("RESUME by sam")
    page.wait_for_timeout(2500)  # a couple of ticks after the resume, so the timeline shows work on both sides
    page.fill("#command-reason", "operator stop")
    click_when_enabled(page, "#cmd-STOP")
    wait_run_status(page, "STOPPED")
    expect()(page.locator("#run-phase .pill")).to_have_text("STOPPED")
    commands = page.locator("#commands-table tbody")
    expect()(commands).to_contain_text("operator hold")
    expect()(commands).to_contain_text("operator stop")
    expect()(commands.locator("tr")).to_have_count(3)
    expect()(page.locator("#log")).to_contain_text("STOPPED")
    expect()(page.locator("#events-table")).to_contain_text("counter")
    expect()(page.locator("#cmd-RETRY")).to_be_enabled()
    expect()(page.locator("#cmd-STOP")).to_be_disabled()
    page.screenshot(path=os.path.join(shots, "console-run.png"), full_page=True)
    assert "afterOffset=-1&afterHistoryId=0" in live_urls[0]
    later = [re.search(r"afterOffset=(-?\d+)&afterHistoryId=(\d+)", u).groups() for u in live_urls[1:]]
    assert later and int(later[-1][0]) > 0 and int(later[-1][1]) > 0

    # steps page: table and timeline with the held interval
    page.click("#steps-link")
    page.wait_for_url(gateway.url + "/runs/%s/steps" % wid)
    expect()(page.locator("#timeline-svg")).to_be_visible()
    expect()(page.locator("#timeline-svg rect[data-phase='HELD']")).to_have_count(1)
    expect()(page.locator("#steps-table tbody tr").first).to_contain_text("prepare")
    expect()(page.locator("#steps-table")).to_contain_text("on_stop")
    assert page.locator("#timeline-svg rect[data-function-id]").count() == page.locator("#steps-table tbody tr").count()
    page.screenshot(path=os.path.join(shots, "console-steps.png"), full_page=True)

    # queues with counts (a second batch runs on the same reactor meanwhile)
    sam = Http(gateway.url).login("sam")
    second = sam.api("POST", "/api/runs", {"workflowName": "demo.commands_60s", "partitionKey": "line-1/reactor-a",
                                           "inputs": {"resolved": {"paramOne": "BATCH-002", "paramTwo": "AUTO"}}})
    sam.wait_status(second["data"]["workflowId"], "RUNNING")
    page.goto(gateway.url + "/queues")
    queue = page.locator("#queues-table tbody tr[data-queue='default']")
    expect()(queue).to_be_visible()
    expect()(queue).to_contain_text("STOPPED")
    expect()(queue.locator("td[data-status='RUNNING']")).to_have_text("1")
    expect()(queue).to_contain_text("line-1/reactor-a")
    page.screenshot(path=os.path.join(shots, "console-queues.png"), full_page=True)
    assert sam.api("POST", "/api/runs/%s/commands" % second["data"]["workflowId"], {"cmd": "STOP"})["ok"]
    sam.wait_status(second["data"]["workflowId"], "STOPPED")

    page.goto(gateway.url + "/admin")
    expect()(page.locator("#executors-table tbody tr[data-executor='console-test']")).to_be_visible()
    expect()(page.locator("#schema-version")).not_to_have_text("-")
    page.screenshot(path=os.path.join(shots, "console-admin.png"), full_page=True)


def test_an_operator_cannot_stop(gateway, page):
    sign_in(page, gateway, "otto")
    wid = start_from_the_start_page(page, "demo.commands_60s", "BATCH-002", partition="line-2/reactor-b")
    page.click("#new-run-link")
    wait_run_status(page, "RUNNING")
    expect()(page.locator("#cmd-HOLD")).to_be_enabled()
    stop = page.locator("#cmd-STOP")
    expect()(stop).to_be_disabled()
    assert "may not send STOP" in stop.get_attribute("title")
    expect()(page.locator("#cmd-CANCEL")).to_be_disabled()
    # the server enforces the policy too: a hand-made request is refused and recorded
    answer = page.evaluate("""(wid) => WF.api("POST", "/api/runs/" + wid + "/commands", {cmd: "STOP", reason: "bypass"})
                                      .then(env => [env.httpStatus, env.code])""", wid)
    assert answer == [403, "COMMAND_FORBIDDEN"]
    row = page.locator("#commands-table tbody tr", has_text="bypass")
    expect()(row).to_contain_text("FORBIDDEN")
    expect()(row).to_contain_text("otto [operator]")
    supervisor = Http(gateway.url).login("sam")
    assert supervisor.api("POST", "/api/runs/%s/commands" % wid, {"cmd": "STOP", "reason": "cleanup"})["ok"]
    wait_run_status(page, "STOPPED")


def test_an_xss_payload_is_shown_as_text(gateway, page):
    sign_in(page, gateway, "otto")
    wid = start_from_the_start_page(page, "demo.quick", XSS)
    page.click("#new-run-link")
    wait_run_status(page, "SUCCESS")
    output = page.locator("#run-output pre")
    expect()(output).to_contain_text(XSS)
    expect()(page.locator("#run-inputs pre")).to_contain_text("<script>window.__xss=1</script>")
    expect()(page.locator("#events-table")).to_contain_text("<img src=x")
    assert page.locator("#run-output img, #run-output script, #events-table img").count() == 0
    page.goto(gateway.url + "/runs/%s/steps" % wid)
    expect()(page.locator("#steps-table")).to_contain_text("<script>window.__xss=1</script>")
    page.goto(gateway.url + "/runs?workflowName=demo.quick")
    expect()(page.locator("#runs-table tbody tr[data-run-id='%s']" % wid)).to_be_visible()
    assert page.evaluate("window.__xss") is None


def test_validation_errors_appear_next_to_the_field(gateway, page):
    sign_in(page, gateway, "otto")
    page.select_option("#workflow", "demo.quick")
    expect()(page.locator("#params[data-workflow='demo.quick']")).to_have_count(1)
    page.fill("#priority", "5000")
    page.click("#start-button")
    expect()(page.locator("[data-error-for='priority']")).to_contain_text("priority must be an integer from 0")
    expect()(page.locator(".field[data-field='priority']")).to_have_class(re.compile(r".*\binvalid\b.*"))
    expect()(page.locator("#start-result")).to_be_hidden()
    page.fill("#priority", "")
    page.fill("#queueName", "no-such-queue")
    page.click("#start-button")
    expect()(page.locator("[data-error-for='queueName']")).to_contain_text("no-such-queue")
    expect()(page.locator("[data-error-for='priority']")).to_have_text("")


def test_the_first_run_creates_an_admin_and_prints_the_password_once(tmp_path):
    users_file = str(tmp_path / "var" / "console-users.json")
    db_url = "sqlite:%s" % (tmp_path / "workflows.db")
    first = Gateway(db_url, users_file)
    try:
        first.wait_ready()
        announced = [l for l in first.lines if "first run" in l]
        assert len(announced) == 1, first.output()
        password = re.search(r"user 'admin', password '([^']+)'", announced[0]).group(1)
        assert password not in open(users_file).read()
        admin = Http(first.url)
        env = admin.api("POST", "/api/login", {"username": "admin", "password": password})
        assert env["ok"] and env["data"]["roles"] == ["admin"]
    finally:
        first.stop()
    second = Gateway(db_url, users_file)
    try:
        second.wait_ready()
        assert not [l for l in second.lines if "first run" in l or password in l]
        assert Http(second.url).api("POST", "/api/login", {"username": "admin", "password": password})["ok"]
    finally:
        second.stop()
