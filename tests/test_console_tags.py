"""Tags in the console and the facade behind it: service.listTags and service.readTags over the host's tag provider,
GET /api/tags through the host-independent handler on PostgreSQL and SQLite (every role reads, the folder filter,
truncation, bad input, markup in values), and the read-only /tags page in headless chromium (a written tag, markup
shown as text, a bad quality, a value changed by a write within the poll interval, the folder filter, the empty
state and the truncated note).
"""
import json
import re
import time

import pytest

from conftest import EngineFactory, open_page
from exchange.workflows.api import service
from exchange.workflows.host import memory_tags
from test_console_api import PASSWORDS, ROLES, Client, signed_in
from workflows_api import server
from workflows_api.app import Console
from workflows_api.users import UserStore

TAGS = {
    "[default]Line1/Reactor1/Level": 42.5,
    "[default]Line1/Reactor1/Mode": "AUTO",
    "[default]Line1/Reactor2/Recipe": {"steps": [1, 2], "name": "R-7"},
    "[default]Line2/Pump/Running": True,
}
MARKUP = '<b>x</b><img src=x onerror="window.__xss=1">'
POLL_MS = 2000  # the page's refresh (tags.js)


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


def write(engine, values):
    paths = sorted(values)
    results = engine.host.tags.write(paths, [values[p] for p in paths])
    assert all(r["good"] for r in results), results


def write_bad(engine, path, value, quality):
    """A tag whose last reading has a bad quality (memory tags are written Good; the table holds any quality)."""
    display, key = memory_tags.normalize(path)
    engine.host.tags.table.put([(key, display, json.dumps(value), quality, int(time.time() * 1000))])


def tags_of(env):
    assert env["ok"], env
    return [t["path"] for t in env["data"]["tags"]]


# -- the facade -----------------------------------------------------------------------------------------------------
def test_list_tags_answers_readings_in_path_order(engine):
    before = int(time.time() * 1000) - 1000
    write(engine, TAGS)
    resp = service.listTags()
    assert resp["code"] == "OK"
    assert resp["data"]["folder"] == "" and resp["data"]["truncated"] is False
    assert tags_of(resp) == sorted(TAGS)
    for tag in resp["data"]["tags"]:
        assert sorted(tag) == ["good", "path", "quality", "timestamp", "value"]
        assert tag["value"] == TAGS[tag["path"]]
        assert tag["quality"] == "Good" and tag["good"] is True
        assert before <= tag["timestamp"] <= int(time.time() * 1000) + 1000
    assert tags_of(service.listTags(folder="Line1")) == sorted(TAGS)[:3]
    assert tags_of(service.listTags(folder=" [default]line1/REACTOR1/ ")) == sorted(TAGS)[:2]  # case-insensitive
    assert service.listTags(folder=" Line2 ")["data"]["folder"] == "Line2"
    assert tags_of(service.listTags(folder="Line")) == []  # a folder, not a prefix of names
    assert tags_of(service.listTags(folder="[default]Line1/Reactor1/Level")) == []  # a tag is not a folder


def test_list_tags_asks_for_one_more_to_tell_truncation(engine):
    write(engine, dict(("[default]Many/T%02d" % i, i) for i in range(6)))
    asked = []
    provider = engine.host.tags
    real = provider.tags_under
    provider.tags_under = lambda folder, limit: asked.append((folder, limit)) or real(folder, limit)
    try:
        cut = service.listTags(folder="Many", limit=4)
        assert asked == [("Many", 5)]
        assert tags_of(cut) == ["[default]Many/T%02d" % i for i in range(4)]
        assert cut["data"]["truncated"] is True
        assert "the first 4 tags" in cut["message"]
        assert service.listTags(folder="Many", limit=6)["data"]["truncated"] is False
        assert service.listTags(folder="Many", limit="5")["data"]["truncated"] is True  # text, as a query has it
        assert service.listTags(folder="Many")["data"]["truncated"] is False
        assert asked[-1] == ("Many", 501)  # the default limit is 500
    finally:
        del provider.tags_under


BAD_LIST_ARGUMENTS = [({"folder": 3}, "folder"), ({"folder": ["Line1"]}, "folder"), ({"folder": "a\x00b"}, "folder"),
                      ({"limit": 0}, "limit"), ({"limit": 5001}, "limit"), ({"limit": -1}, "limit"),
                      ({"limit": "many"}, "limit"), ({"limit": 2.5}, "limit"), ({"limit": True}, "limit")]


def test_list_tags_refuses_bad_arguments(engine):
    for kwargs, field in BAD_LIST_ARGUMENTS:
        resp = service.listTags(**kwargs)
        assert not resp["ok"] and resp["code"] == "INVALID_ARGUMENT", (kwargs, resp)
        assert resp["data"]["field"] == field, (kwargs, resp)
    assert service.listTags(limit=5000)["ok"] and service.listTags(limit=1)["ok"]
    assert service.listTags(folder=None)["data"]["folder"] == ""


def test_read_tags_in_order_and_writes_nothing(engine):
    write(engine, TAGS)
    paths = ["line2/pump/running.Value", "[default]Line1/Reactor1/Level", "[default]Never/Written",
             "Line1/Reactor1/Mode"]
    resp = service.readTags(paths)
    assert resp["ok"] and resp["code"] == "OK", resp
    tags = resp["data"]["tags"]
    assert [t["path"] for t in tags] == paths
    assert [t["value"] for t in tags] == [True, 42.5, None, "AUTO"]
    assert [t["good"] for t in tags] == [True, True, False, True]
    assert tags[2]["quality"] == "Bad_NotFound"
    assert "1 not good" in resp["message"]
    assert service.readTags(paths=("Line1/Reactor1/Level",))["data"]["tags"][0]["value"] == 42.5
    assert service.readTags([])["data"]["tags"] == []
    assert tags_of(service.listTags()) == sorted(TAGS)  # reading a path never written does not create it


def test_read_tags_refuses_bad_arguments(engine):
    for paths in (None, "[default]Line1/Reactor1/Level", {"a": 1}, 42, ["ok", ""], ["ok", "   "], ["ok", 7],
                  ["ok", None], ["a\x00b"], ["[default]T%d" % i for i in range(1001)]):
        resp = service.readTags(paths)
        assert not resp["ok"] and resp["code"] == "INVALID_ARGUMENT", (paths, resp)
        assert resp["data"]["field"] == "paths"
    assert service.readTags(["ok", 7])["data"]["index"] == 1
    assert len(service.readTags(["[default]T%d" % i for i in range(1000)])["data"]["tags"]) == 1000


# -- GET /api/tags --------------------------------------------------------------------------------------------------
def test_every_role_reads_the_tags(console, engine):
    write(engine, TAGS)
    for name in ("vera", "otto", "sam", "ada"):
        env = signed_in(console, name).api("GET", "/api/tags")
        assert env["status"] == 200 and env["code"] == "OK", (name, env)
        assert tags_of(env) == sorted(TAGS)
        assert dict((t["path"], t["value"]) for t in env["data"]["tags"]) == TAGS
        assert env["data"]["truncated"] is False and env["data"]["folder"] == ""
    anonymous = Client(console).api("GET", "/api/tags")
    assert anonymous["status"] == 401 and anonymous["code"] == "UNAUTHENTICATED"
    response = signed_in(console, "vera").request("GET", "/api/tags")
    assert response.header("Cache-Control") == "no-store"


def test_the_folder_filter_and_truncation_over_http(console, engine):
    write(engine, TAGS)
    write(engine, dict(("[default]Bulk/T%03d" % i, i) for i in range(12)))
    vera = signed_in(console, "vera")
    assert tags_of(vera.api("GET", "/api/tags?folder=Line1")) == sorted(TAGS)[:3]
    assert tags_of(vera.api("GET", "/api/tags?folder=%5Bdefault%5DLINE1%2FReactor1")) == sorted(TAGS)[:2]
    assert tags_of(vera.api("GET", "/api/tags?folder=Nowhere")) == []
    everything = vera.api("GET", "/api/tags")
    assert len(everything["data"]["tags"]) == 16 and everything["data"]["truncated"] is False
    cut = vera.api("GET", "/api/tags?folder=Bulk&limit=10")
    assert tags_of(cut) == ["[default]Bulk/T%03d" % i for i in range(10)]
    assert cut["data"]["truncated"] is True and cut["data"]["folder"] == "Bulk"
    whole = vera.api("GET", "/api/tags?folder=Bulk&limit=12")
    assert len(whole["data"]["tags"]) == 12 and whole["data"]["truncated"] is False
    assert vera.api("GET", "/api/tags?folder=&limit=")["data"]["truncated"] is False  # empty values: the defaults


def test_bad_query_values_are_invalid_arguments(console, engine):
    vera = signed_in(console, "vera")
    for query, field in (("limit=0", "limit"), ("limit=5001", "limit"), ("limit=ten", "limit"), ("limit=-3", "limit"),
                         ("limit=1.5", "limit"), ("folder=a%00b", "folder")):
        env = vera.api("GET", "/api/tags?" + query)
        assert env["status"] == 400 and env["code"] == "INVALID_ARGUMENT", (query, env)
        assert env["data"]["field"] == field
    post = vera.api("POST", "/api/tags", {})
    assert post["status"] == 405 and post["code"] == "METHOD_NOT_ALLOWED"


def test_values_with_markup_come_back_as_data(console, engine):
    write(engine, {"[default]Xss/Label": MARKUP, "[default]Xss/Nested": {"html": "<script>alert(1)</script>"}})
    raw = signed_in(console, "vera").request("GET", "/api/tags?folder=Xss").body.decode("utf-8")
    assert "<b>" not in raw and "<img" not in raw and "<script" not in raw
    assert "\\u003cb\\u003ex\\u003c/b\\u003e" in raw
    values = dict((t["path"], t["value"]) for t in json.loads(raw)["data"]["tags"])
    assert values == {"[default]Xss/Label": MARKUP, "[default]Xss/Nested": {"html": "<script>alert(1)</script>"}}


def test_a_bad_quality_is_reported(console, engine):
    write_bad(engine, "[default]Line3/Flow", 12, "Bad_Stale")
    tag = signed_in(console, "vera").api("GET", "/api/tags?folder=Line3")["data"]["tags"][0]
    assert tag["path"] == "[default]Line3/Flow" and tag["value"] == 12
    assert tag["quality"] == "Bad_Stale" and tag["good"] is False


def test_the_tags_page_is_a_static_shell_linked_from_every_page(console):
    vera = signed_in(console, "vera")
    page = vera.request("GET", "/tags")
    assert page.status == 200 and page.header("Content-Type").startswith("text/html")
    assert "script-src 'self'" in page.header("Content-Security-Policy")
    assert b'<script src="/static/tags.js"' in page.body
    for path in ("/", "/runs", "/queues", "/schedules", "/tags", "/admin"):
        assert b'<a href="/tags" data-nav="tags">Tags</a>' in vera.request("GET", path).body, path
    assert Client(console).request("GET", "/tags").header("Location") == "/login?next=/tags"


# -- the page in headless chromium ------------------------------------------------------------------------------------
WAIT_MS = 15000


@pytest.fixture
def site(pg_url, tmp_path):
    factory = EngineFactory(pg_url)
    engine = factory()
    path = str(tmp_path / "users.json")
    UserStore(path).add_user("vera", "viewer", PASSWORDS["vera"])
    srv = server.start(engine, "127.0.0.1", 0, str(tmp_path), path)
    try:
        yield engine, "http://127.0.0.1:%d" % srv.port
    finally:
        srv.stop()
        factory.close()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def sign_in(page, url, name, path):
    page.goto(url + path)
    page.fill("#username", name)
    page.fill("#password", PASSWORDS[name])
    page.click("#login-button")
    page.wait_for_url(url + path)


def test_the_tags_page(site, browser):
    engine, url = site
    written = dict(TAGS)
    written["[default]Line1/Reactor1/Label"] = MARKUP
    write(engine, written)
    write_bad(engine, "[default]Line1/Reactor1/Flow", 3.5, "Bad_Stale")
    for page in open_page(browser, WAIT_MS):
        sign_in(page, url, "vera", "/tags")  # a viewer reads it
        expect(page.locator("nav a[data-nav='tags']")).to_have_class("active")
        level = page.locator("#tags-table tr[data-path='[default]Line1/Reactor1/Level']")
        expect(level.locator("td.value")).to_have_text("42.5")
        expect(level.locator(".quality")).to_have_text("Good")
        assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", level.locator("td.time").inner_text())
        expect(page.locator("#tags-table tbody tr")).to_have_count(6)

        # markup is text: no element made from it, nothing ran
        label = page.locator("#tags-table tr[data-path='[default]Line1/Reactor1/Label'] td.value")
        expect(label).to_have_text(MARKUP)
        assert page.locator("#tags-table b, #tags-table img, main img").count() == 0
        assert page.evaluate("window.__xss") is None
        recipe = page.locator("#tags-table tr[data-path='[default]Line1/Reactor2/Recipe'] td.value")
        expect(recipe).to_have_attribute("data-type", "object")
        assert json.loads(recipe.inner_text()) == TAGS["[default]Line1/Reactor2/Recipe"]  # JSON, on one line

        # a bad quality has the "bad" style
        flow = page.locator("#tags-table tr[data-path='[default]Line1/Reactor1/Flow']")
        expect(flow.locator(".quality.bad")).to_have_text("Bad_Stale")
        assert page.locator("#tags-table .quality.bad").count() == 1

        # a write shows within the poll interval (and the time of the reading moves with it)
        write(engine, {"[default]Line1/Reactor1/Level": 77.25})
        written = time.time()
        expect(level.locator("td.value")).to_have_text("77.25", timeout=POLL_MS + 1500)
        assert time.time() - written < (POLL_MS + 1500) / 1000.0

        # the folder filter (kept in the URL), the empty state
        page.fill("#f-folder", "[default]Line1/Reactor1")
        expect(page.locator("#tags-table tbody tr")).to_have_count(4)
        assert "folder=%5Bdefault%5DLine1%2FReactor1" in page.url
        page.fill("#f-folder", "Nowhere")
        page.press("#f-folder", "Enter")
        empty = page.locator("#tags-table tr.empty-state")
        expect(empty).to_contain_text("No tags under Nowhere.")
        expect(empty).to_contain_text("./gateway run --tags FILE")
        expect(empty).to_contain_text("system.tag.writeBlocking")
        expect(page.locator("#tags-truncated")).to_be_hidden()

        # more tags than the page asks for: the truncated note
        write(engine, dict(("[default]Bulk/T%03d" % i, i) for i in range(501)))
        page.goto(url + "/tags?folder=Bulk")
        expect(page.locator("#f-folder")).to_have_value("Bulk")
        expect(page.locator("#tags-truncated")).to_be_visible()
        expect(page.locator("#tags-truncated")).to_contain_text("first 500 tags under Bulk")
        expect(page.locator("#tags-table tbody tr")).to_have_count(500)


def test_the_run_page_says_which_tag_a_waiting_run_waits_for(site, browser):
    import workflows_for_tests  # noqa: F401 - t.tank

    from conftest import wait_status

    engine, url = site
    path = "[default]Line1/<b>Tank</b>/Level"
    write(engine, {path: MARKUP})
    wid = service.start(workflowName="t.tank", inputs={"resolved": {"path": path, "equals": 5}})["data"]["workflowId"]
    wait_status(wid, "WAITING")
    for page in open_page(browser, WAIT_MS):
        sign_in(page, url, "vera", "/runs/%s" % wid)
        waiting = page.locator("#run-waiting")
        expect(waiting).to_be_visible()
        expect(waiting).to_have_attribute("data-operation", "waitForTag")
        expect(waiting.locator("code.tag-path")).to_have_text(path)
        expect(waiting).to_contain_text("equals 5")
        expect(waiting.locator(".last-value")).to_have_text(MARKUP)
        assert page.locator("#run-waiting b, #run-waiting img").count() == 0
        assert page.evaluate("window.__xss") is None
        # the steps page: the wait it is parked in, from waitingFor, in the table and on the timeline
        page.goto(url + "/runs/%s/steps" % wid)
        pending = page.locator("#steps-table tr.pending[data-kind='wait']")
        expect(pending).to_contain_text("waitForTag:" + path)
        expect(pending).to_contain_text("until equals 5 (last read " + MARKUP + ")")
        expect(page.locator("#timeline-svg rect[data-kind='wait']")).to_have_count(1)
        assert page.locator("#steps-table b, #steps-table img").count() == 0
        write(engine, {path: 5})
        expect(page.locator("#steps-table tr[data-kind='wait']:not(.pending)")).to_contain_text("SUCCESS")
        page.goto(url + "/runs/%s" % wid)
        expect(page.locator("#run-status .pill")).to_have_text("SUCCESS")
        expect(waiting).to_be_hidden()
