"""Schedules in the console, over a real socket (the CPython adapter) against a real engine on PostgreSQL and SQLite:
the /api/schedules routes with each role (the engine's SCHEDULE_ROLES decide, and refusals land in the changes
list with the user's name), errors, schedule names with '/', '.' and '%' in the path, and the /schedules page and
the DELAYED run page in headless chromium.
"""
import json
import re

import pytest

from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import quote
from urllib.request import HTTPCookieProcessor, Request, build_opener

from conftest import EngineFactory, open_page, wait_status
from exchange.workflows.api import service
from workflows_api import server
from workflows_api.users import UserStore

PASSWORDS = {"vera": "viewer-pw-1", "otto": "operator-pw-1", "sam": "supervisor-pw-1", "ada": "admin-pw-1"}
ROLES = {"vera": "viewer", "otto": "operator", "sam": "supervisor", "ada": "admin"}
NAME = "line-1/mix.a"  # a '/' and a '.': one percent-encoded path segment
WAIT_MS = 15000


def users_file(tmp_path):
    path = str(tmp_path / "users.json")
    store = UserStore(path)
    for name, password in PASSWORDS.items():
        store.add_user(name, ROLES[name], password)
    return path


@pytest.fixture
def served(engine, tmp_path):
    srv = server.start(engine, "127.0.0.1", 0, str(tmp_path), users_file(tmp_path))
    yield "http://127.0.0.1:%d" % srv.port
    srv.stop()


class User(object):
    """One signed-in browser session over HTTP: its cookie jar and the CSRF token it was given."""

    def __init__(self, base, name):
        self.base = base
        self.name = name
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))
        self.csrf = None
        env = self.api("POST", "/api/login", {"username": name, "password": PASSWORDS[name]})
        assert env["status"] == 200, env
        self.csrf = env["data"]["csrfToken"]

    def api(self, method, path, body=None, csrf=True):
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if csrf and self.csrf and method != "GET":
            request.add_header("X-CSRF-Token", self.csrf)
        try:
            response = self.opener.open(request, timeout=30)
        except HTTPError as err:
            response = err
        env = json.loads(response.read().decode("utf-8"))
        env["status"] = response.status if hasattr(response, "status") else response.code
        return env


def path_of(name, action=None):
    return "/api/schedules/" + quote(name, safe="") + ("/" + action if action else "")


def create(user, name=NAME, **extra):
    body = {"scheduleName": name, "workflowName": "t.scheduled", "cron": "*/10 * * * *",
            "timezone": "Europe/Berlin", "inputs": {"label": "from the console"}}
    body.update(extra)
    return user.api("POST", "/api/schedules", body)


def changes(user, name=NAME):
    env = user.api("GET", "/api/schedule-changes?scheduleName=%s&limit=100" % quote(name, safe=""))
    assert env["status"] == 200, env
    return [(c["action"], c["actor"], c["verdict"]) for c in reversed(env["data"]["changes"])]


def test_schedules_through_the_api_with_each_role(served):
    vera, otto, sam, ada = [User(served, n) for n in ("vera", "otto", "sam", "ada")]

    for user in (vera, otto, sam):
        denied = create(user)
        assert denied["status"] == 403 and denied["code"] == "FORBIDDEN", denied
        assert user.name in denied["message"] and "admin" in denied["message"]
    made = create(ada)
    assert made["status"] == 200 and made["code"] == "SCHEDULE_CREATED", made
    assert made["data"]["scheduleName"] == NAME and made["data"]["cronText"] == "every 10 minutes"
    assert made["data"]["timezone"] == "Europe/Berlin" and made["data"]["createdBy"] == "ada"
    assert made["data"]["enabled"] is True and made["data"]["nextFireAt"] > made["meta"]["tsMs"]

    listed = vera.api("GET", "/api/schedules")
    assert listed["status"] == 200
    assert [s["scheduleName"] for s in listed["data"]["schedules"] if s["source"] == "api"] == [NAME]
    may = listed["data"]["console"]["may"]
    assert not may["pause"]["allowed"] and "vera [viewer] may not pause" in may["pause"]["reason"]
    may = sam.api("GET", "/api/schedules")["data"]["console"]["may"]
    assert may["pause"]["allowed"] and may["trigger"]["allowed"] and may["delete"]["allowed"]
    assert not may["create"]["allowed"] and may["create"]["reason"] == "sam [supervisor] may not create schedules " \
                                                                       "(needs admin)"
    assert ada.api("GET", "/api/schedules")["data"]["console"]["may"]["create"]["allowed"]

    one = otto.api("GET", path_of(NAME))
    assert one["status"] == 200 and one["data"]["workflowName"] == "t.scheduled"
    assert [(c["action"], c["actor"]) for c in one["data"]["changes"]][-1] == ("create", "vera")

    for user in (vera, otto):
        for action in ("pause", "resume", "trigger"):
            env = user.api("POST", path_of(NAME, action), {})
            assert env["status"] == 403 and env["code"] == "FORBIDDEN", (user.name, action, env)
    paused = sam.api("POST", path_of(NAME, "pause"), {})
    assert paused["status"] == 200 and paused["code"] == "SCHEDULE_PAUSED"
    assert paused["data"]["enabled"] is False and paused["data"]["nextFireAt"] is None
    resumed = ada.api("POST", path_of(NAME, "resume"), {})
    assert resumed["code"] == "SCHEDULE_RESUMED" and resumed["data"]["enabled"] is True
    assert resumed["data"]["nextFireAt"] is not None

    triggered = sam.api("POST", path_of(NAME, "trigger"), {})
    assert triggered["status"] == 200 and triggered["code"] == "SCHEDULE_TRIGGERED", triggered
    wid = triggered["data"]["workflowId"]
    run = wait_status(wid, "SUCCESS")
    assert run["scheduleName"] == NAME and run["output"]["label"] == "from the console"
    assert run["output"]["scheduledAt"] == run["scheduledAt"]
    shown = vera.api("GET", "/api/runs/" + wid)["data"]
    assert shown["scheduleName"] == NAME and shown["scheduledAt"] == run["scheduledAt"]
    last = [s for s in vera.api("GET", "/api/schedules")["data"]["schedules"] if s["scheduleName"] == NAME][0]
    assert last["lastRun"]["workflowId"] == wid and last["lastRun"]["status"] == "SUCCESS"

    for user in (vera, otto):
        env = user.api("DELETE", path_of(NAME))
        assert env["status"] == 403 and env["code"] == "FORBIDDEN"
    deleted = sam.api("DELETE", path_of(NAME))
    assert deleted["status"] == 200 and deleted["code"] == "SCHEDULE_DELETED"
    gone = vera.api("GET", path_of(NAME))
    assert gone["status"] == 404 and gone["code"] == "NOT_FOUND"
    assert service.getWorkflow(workflowId=wid)["ok"]  # the runs a schedule started stay

    expected = [("create", n, "FORBIDDEN") for n in ("vera", "otto", "sam")] + [("create", "ada", "DONE")]
    for name in ("vera", "otto"):
        expected += [(a, name, "FORBIDDEN") for a in ("pause", "resume", "trigger")]
    expected += [("pause", "sam", "DONE"), ("resume", "ada", "DONE"), ("trigger", "sam", "DONE"),
                 ("delete", "vera", "FORBIDDEN"), ("delete", "otto", "FORBIDDEN"), ("delete", "sam", "DONE")]
    assert changes(vera) == expected


def test_schedule_errors(served):
    ada, vera = User(served, "ada"), User(served, "vera")
    bad = create(ada, cron="61 * * * *")
    assert bad["status"] == 400 and bad["code"] == "INVALID_ARGUMENT" and bad["data"]["field"] == "cron", bad
    assert "minute" in bad["message"]
    assert create(ada, cron="every day")["data"]["field"] == "cron"
    zone = create(ada, timezone="Mars/Olympus")
    assert zone["status"] == 400 and zone["data"]["field"] == "timezone"
    assert create(ada, workflowName="t.nope")["code"] == "UNKNOWN_WORKFLOW"
    assert create(ada, missedPolicy="never")["data"]["field"] == "missedPolicy"
    unknown = create(ada, actor={"name": "root", "roles": ["admin"]})  # the actor is the signed-in user, never the body
    assert unknown["status"] == 400 and unknown["data"]["field"] == "actor"
    assert create(ada, enabled=False)["data"]["nextFireAt"] is None
    twice = create(ada)
    assert twice["status"] == 409 and twice["code"] == "SCHEDULE_EXISTS"
    no_csrf = ada.api("POST", path_of(NAME, "pause"), {}, csrf=False)
    assert no_csrf["status"] == 403 and no_csrf["code"] == "CSRF_FAILED"
    assert vera.api("GET", path_of("no such"))["status"] == 404
    assert ada.api("POST", path_of("no such", "trigger"), {})["code"] == "NOT_FOUND"
    not_allowed = ada.api("POST", path_of(NAME), {})
    assert not_allowed["status"] == 405 and not_allowed["code"] == "METHOD_NOT_ALLOWED"
    assert vera.api("GET", "/api/schedule-changes?limit=x")["data"]["field"] == "limit"
    assert vera.api("GET", "/api/schedule-changes?limit=0")["data"]["field"] == "limit"
    assert ada.api("POST", path_of(NAME, "resume"), {})["code"] == "SCHEDULE_RESUMED"
    assert [c["action"] for c in vera.api("GET", "/api/schedule-changes?limit=1")["data"]["changes"]] == ["resume"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_schedule_names_in_the_path(served):
    ada = User(served, "ada")
    names = ["plant/line 1/50%.daily", "ends with/", "x/pause", "x", u"K\u00fchlung/\u00d6l"]
    for name in names:
        assert create(ada, name, enabled=False)["status"] == 200, name
    for name in names:
        env = ada.api("GET", path_of(name))
        assert env["status"] == 200 and env["data"]["scheduleName"] == name, (name, env)
    # "x%2Fpause" is the schedule "x/pause", not the action pause of "x": a POST to it is no route
    assert ada.api("POST", path_of("x/pause"), {})["code"] == "ROUTE_NOT_FOUND"
    assert ada.api("POST", path_of("x/pause", "resume"), {})["data"]["scheduleName"] == "x/pause"
    states = dict([(s["scheduleName"], s["enabled"]) for s in ada.api("GET", "/api/schedules")["data"]["schedules"]])
    assert states["x/pause"] is True and states["x"] is False
    # the slashes unencoded reach the same schedule (the action is the last segment)
    plain = ada.api("POST", "/api/schedules/plant/line%201/50%25.daily/resume", {})
    assert plain["status"] == 200 and plain["data"]["scheduleName"] == names[0]
    assert ada.api("GET", "/api/schedules/plant/line%201/50%25.daily")["data"]["enabled"] is True
    assert ada.api("GET", path_of("ends with"))["status"] == 404  # the encoded trailing '/' is part of the name
    assert ada.api("DELETE", path_of("ends with/"))["code"] == "SCHEDULE_DELETED"
    assert ada.api("GET", path_of("ends with/"))["status"] == 404


# -- the pages, in headless chromium -----------------------------------------------------------------------------------
@pytest.fixture
def site(pg_url, tmp_path):
    factory = EngineFactory(pg_url)
    engine = factory()
    srv = server.start(engine, "127.0.0.1", 0, str(tmp_path), users_file(tmp_path))
    try:
        yield "http://127.0.0.1:%d" % srv.port
    finally:
        srv.stop()
        factory.close()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def sign_in(page, site, name, path):
    page.goto(site + path)
    page.fill("#username", name)
    page.fill("#password", PASSWORDS[name])
    page.click("#login-button")
    page.wait_for_url(site + path)


def test_the_schedules_page(site, browser):
    for page in open_page(browser, WAIT_MS):
        sign_in(page, site, "ada", "/schedules")
        expect(page.locator("nav a.active")).to_have_text("Schedules")
        expect(page.locator("#create-card")).to_be_visible()
        expect(page.locator("#sc-workflow option[value='t.scheduled']")).to_have_count(1)
        expect(page.locator("#sc-timezone")).to_have_value("UTC")
        page.fill("#sc-name", "line-1/nightly.<b>report</b>")
        page.select_option("#sc-workflow", "t.scheduled")
        page.fill("#sc-cron", "61 * * * *")
        page.click("#create-button")
        expect(page.locator("#create-form [data-error-for='cron']")).to_contain_text("allowed 0-59")
        expect(page.locator("#create-error")).to_have_attribute("data-field", "cron")
        page.fill("#sc-cron", "*/10 * * * *")
        page.fill("#sc-inputs", '{"label": "from the form"}')
        page.click("#create-button")
        result = page.locator("#create-result")
        expect(result).to_contain_text("SCHEDULE_CREATED")
        expect(result.locator(".cron-text")).to_have_text("every 10 minutes")
        expect(page.locator("#create-form [data-error-for='cron']")).to_have_text("")

        row = page.locator("#schedules-table tbody tr[data-schedule='line-1/nightly.<b>report</b>']")
        expect(row.locator("td.name")).to_have_text("line-1/nightly.<b>report</b>")  # text, never markup
        expect(row.locator(".cron-text")).to_have_text("every 10 minutes")
        expect(row.locator(".cron")).to_have_text("*/10 * * * *")
        expect(row.locator("td.zone")).to_have_text("UTC")
        expect(row.locator("td.next-fire .relative")).to_contain_text("in ")
        expect(row.locator("td.state .pill")).to_have_text("ENABLED")
        expect(row.locator("button[data-action='resume']")).to_be_disabled()
        row.locator("button[data-action='pause']").click()
        expect(page.locator("#schedule-result")).to_contain_text("SCHEDULE_PAUSED")
        expect(row.locator("td.state .pill")).to_have_text("PAUSED")
        expect(row).to_have_attribute("data-enabled", "false")
        expect(row.locator("td.next-fire")).to_have_text("paused")
        expect(row.locator("button[data-action='resume']")).to_be_enabled()
        expect(row.locator("button[data-action='pause']")).to_be_disabled()
        first = page.locator("#changes-table tbody tr").first
        expect(first).to_have_attribute("data-action", "pause")
        expect(first.locator("td.who")).to_have_text("ada [admin]")

        row.locator("button[data-action='trigger']").click()
        expect(page.locator("#schedule-result")).to_contain_text("SCHEDULE_TRIGGERED")
        page.locator("#schedule-result a").click()
        page.wait_for_url(re.compile(r".*/runs/[0-9a-f-]{36}$"))
        expect(page.locator("#schedule-link")).to_have_text("line-1/nightly.<b>report</b>")
        expect(page.locator("#run-facts")).to_contain_text("Scheduled for")

        delayed = service.start(workflowName="t.linear", inputs={"resolved": {"steps": 1}},
                                delaySeconds=600)["data"]["workflowId"]
        page.goto(site + "/runs/" + delayed)
        expect(page.locator("#run-status .pill")).to_have_text("DELAYED")
        expect(page.locator("#run-starts")).to_contain_text("starts at")
        expect(page.locator("#run-starts")).to_contain_text("in 9 min")
        page.goto(site + "/runs?status=DELAYED")
        expect(page.locator("#f-status")).to_have_value("DELAYED")
        expect(page.locator("#runs-table tbody tr[data-run-id='%s'] .pill" % delayed)).to_have_text("DELAYED")

    for page in open_page(browser, WAIT_MS):
        sign_in(page, site, "vera", "/schedules")
        row = page.locator("#schedules-table tbody tr[data-schedule='line-1/nightly.<b>report</b>']")
        expect(row.locator("td.state .pill")).to_have_text("PAUSED")
        for action in ("pause", "resume", "trigger", "delete"):
            button = row.locator("button[data-action='%s']" % action)
            expect(button).to_be_disabled()
            expect(button).to_have_attribute("title", re.compile(r"vera \[viewer\] may not %s schedules" % action))
        expect(page.locator("#schedules-note")).to_contain_text("Read-only")
        expect(page.locator("#create-card")).to_be_hidden()
        expect(page.locator("#create-denied")).to_contain_text("vera [viewer] may not create schedules (needs admin)")
