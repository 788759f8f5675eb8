"""Page behaviour in headless chromium beyond the operator's path of test_console_gateway.py: the error panel and Retry, typed parameter fields, paging,
a failed step on the timeline, a JSON parameter. Served by the CPython adapter over a CPython engine on PostgreSQL
(the same handler and static files `./gateway run` serves; test_console_gateway.py covers the Jython host).
"""
import re

import pytest

from conftest import EngineFactory, open_page, wait_status
from exchange.workflows.api import service
from workflows_api import server
from workflows_api.users import UserStore

PASSWORDS = {"sam": "supervisor-pw", "otto": "operator-pw"}
WAIT_MS = 30000


@pytest.fixture
def site(pg_url, tmp_path):
    factory = EngineFactory(pg_url)
    engine = factory()
    path = str(tmp_path / "users.json")
    store = UserStore(path)
    store.add_user("sam", "supervisor", PASSWORDS["sam"])
    store.add_user("otto", "operator", PASSWORDS["otto"])
    srv = server.start(engine, "127.0.0.1", 0, str(tmp_path), path)
    try:
        yield "http://127.0.0.1:%d" % srv.port
    finally:
        srv.stop()
        factory.close()


@pytest.fixture
def page(browser):
    yield from open_page(browser, WAIT_MS)


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def sign_in(page, site, name, path="/"):
    page.goto(site + path)
    page.fill("#username", name)
    page.fill("#password", PASSWORDS[name])
    page.click("#login-button")
    page.wait_for_url(site + path)


def test_the_error_panel_and_retry(site, page):
    wid = service.start(workflowName="t.fails", inputs={"resolved": {"message": "broken <valve>"}})["data"]["workflowId"]
    wait_status(wid, "ERROR")
    sign_in(page, site, "sam", "/runs/%s" % wid)
    expect(page.locator("#run-status .pill")).to_have_text("ERROR")
    errors = page.locator("#run-err")
    expect(errors).to_contain_text("ValueError")
    expect(errors).to_contain_text("broken <valve>")
    expect(errors.locator("pre.traceback")).to_contain_text("boom")
    expect(page.locator("#cmd-HOLD")).to_be_disabled()
    retry = page.locator("#cmd-RETRY")
    expect(retry).to_be_enabled()
    page.fill("#command-reason", "valve replaced")
    retry.click()
    result = page.locator("#command-result")
    expect(result).to_contain_text("WORKFLOW_ENQUEUED")
    result.locator("a").click()
    page.wait_for_url(re.compile(r".*/runs/[0-9a-f-]{36}$"))
    new_id = page.url.rsplit("/", 1)[1]
    assert new_id != wid
    expect(page.locator("#run-facts")).to_contain_text("Retry of")
    expect(page.locator("#run-facts a")).to_have_text(wid)
    assert wait_status(new_id, "ERROR")["retryOf"] == wid  # the valve is still broken in the test workflow

    page.goto(site + "/runs/%s/steps" % wid)
    expect(page.locator("#timeline-svg rect.bar-ERROR")).to_have_count(1)
    failed_row = page.locator("#steps-table tbody tr", has_text="boom")
    expect(failed_row).to_contain_text("ValueError: broken <valve>")


def test_typed_parameter_fields(site, page):
    sign_in(page, site, "otto")
    page.select_option("#workflow", "t.typed")
    expect(page.locator("#params[data-workflow='t.typed']")).to_have_count(1)
    assert page.evaluate("document.getElementById('param-batch').tagName") == "TEXTAREA"  # untyped: any JSON
    assert page.get_attribute("#param-size", "type") == "number"
    assert page.get_attribute("#param-ratio", "type") == "number"
    assert page.get_attribute("#param-enabled", "type") == "checkbox"
    assert page.evaluate("document.getElementById('param-mode').tagName") == "SELECT"
    expect(page.locator("#param-size")).to_have_value("10")
    assert page.is_checked("#param-enabled")

    page.click("#start-button")  # batch is required
    expect(page.locator("[data-error-for='param:batch']")).to_contain_text("batch is required")
    page.fill("#param-batch", "B-7")  # not JSON, so sent as the text "B-7"
    page.fill("#param-ratio", "0.25")
    page.uncheck("#param-enabled")
    page.select_option("#param-mode", label="MANUAL")
    page.fill("#param-size", "12")
    page.click("#start-button")
    expect(page.locator("#new-run-link")).to_be_visible()
    wid = page.inner_text("#new-run-link").strip()
    assert wait_status(wid, "SUCCESS")["output"] == {"batch": "B-7", "size": 12, "ratio": 0.25, "enabled": False,
                                                     "mode": "MANUAL"}
    page.goto(site + "/")
    page.select_option("#workflow", "t.typed")
    expect(page.locator("#params[data-workflow='t.typed']")).to_have_count(1)
    page.fill("#param-batch", '{"lot": [1, 2]}')
    page.fill("#param-size", "1.5")
    page.click("#start-button")
    expect(page.locator("[data-error-for='param:size']")).to_contain_text("size must be an integer")
    page.fill("#param-size", "3")
    page.click("#start-button")
    expect(page.locator("#new-run-link")).to_be_visible()
    wid = page.inner_text("#new-run-link").strip()
    assert wait_status(wid, "SUCCESS")["output"]["batch"] == {"lot": [1, 2]}


def test_runs_are_paged_in_the_browser(site, page):
    ids = [service.start(workflowName="t.linear", inputs={"resolved": {"steps": 0}})["data"]["workflowId"]
           for _ in range(30)]
    for wid in ids:
        wait_status(wid, "SUCCESS")
    sign_in(page, site, "otto", "/runs?workflowName=t.linear&limit=25")
    rows = page.locator("#runs-table tbody tr[data-run-id]")
    expect(rows).to_have_count(25)
    expect(page.locator("#prev-page")).to_be_disabled()
    page.click("#next-page")
    expect(rows).to_have_count(5)
    expect(page.locator("#next-page")).to_be_disabled()
    shown = set(page.eval_on_selector_all("#runs-table tbody tr[data-run-id]", "rows => rows.map(r => r.dataset.runId)"))
    page.click("#prev-page")
    expect(rows).to_have_count(25)
    shown |= set(page.eval_on_selector_all("#runs-table tbody tr[data-run-id]", "rows => rows.map(r => r.dataset.runId)"))
    assert shown == set(ids)
    page.select_option("#f-status", "ERROR")
    page.click("#apply-filters")
    expect(page.locator("#runs-table tbody")).to_contain_text("No runs match these filters.")
