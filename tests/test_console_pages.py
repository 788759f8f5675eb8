"""Page behaviour in headless chromium beyond the operator's path of test_console_gateway.py: the error panel and Retry, typed parameter fields, paging,
a failed step on the timeline, a JSON parameter, a run tree (parent, children, WAITING, the runs list without
children, child starts and awaits on the timeline), code versions (a diverged run continued with the current code,
the runs list's version column and filter, the executors' workflow versions on the admin page). Served by the CPython adapter over a CPython engine on PostgreSQL
(the same handler and static files `./gateway run` serves; test_console_gateway.py covers the Jython host).
"""
import re
import threading
import uuid

import pytest

from conftest import EngineFactory, open_page, wait_for, wait_status
from exchange.workflows.api import service
from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import workflow
from exchange.workflows.host import runtime
from test_console_api import diverged_run
from workflows_api import server
from workflows_api.users import UserStore
from workflows_for_tests import GATES, count_step, gate_step

PASSWORDS = {"sam": "supervisor-pw", "otto": "operator-pw"}
WAIT_MS = 30000


# A run tree like demo.procedure's, with units that wait on a gate the test opens: tp.site starts one tp.procedure,
# which starts one tp.unit per unit and awaits them all.
@workflow(name="tp.unit")
def tp_unit(gate="g"):
    count_step(0, 0)
    gate_step(gate)
    count_step(1, 0)
    return gate


@workflow(name="tp.procedure")
def tp_procedure(gate="g", units=2):
    wf = getWorkflows()
    ids = [wf.startChild("tp.unit", {"gate": gate}, partitionKey="unit-%d" % index) for index in range(units)]
    return wf.awaitAll(ids)


@workflow(name="tp.site")
def tp_site(gate="g"):
    wf = getWorkflows()
    count_step(0, 0)
    return wf.awaitResult(wf.startChild("tp.procedure", {"gate": gate}))


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


def children_of(wid):
    return [c["workflowId"] for c in service.getWorkflow(workflowId=wid)["data"]["children"]]


def test_a_run_tree_parent_children_and_waiting(site, page):
    gate = "tree-" + uuid.uuid4().hex
    top = service.start(workflowName="tp.site", inputs={"resolved": {"gate": gate}})["data"]["workflowId"]
    try:
        procedure = wait_for(lambda: children_of(top), message="the procedure to start")[0]
        wait_status(procedure, "WAITING")
        units = wait_for(lambda: len(children_of(procedure)) == 2 and children_of(procedure), message="the units")
        for unit in units:
            wait_status(unit, "RUNNING")  # held open on the gate

        # the procedure waits for its units: status, phase, what it waits for, its children, its parent
        sign_in(page, site, "otto", "/runs/%s" % procedure)
        expect(page.locator("#run-status .pill")).to_have_text("WAITING")
        expect(page.locator("#run-phase .pill")).to_have_text("WAITING")
        colour = page.eval_on_selector("#run-status .pill", "p => getComputedStyle(p).backgroundColor")
        running = page.evaluate("() => { const p = WF.pill('RUNNING'); document.body.appendChild(p);"
                                " const c = getComputedStyle(p).backgroundColor; p.remove(); return c; }")
        assert colour not in (running, "rgb(107, 119, 133)")  # a colour of its own, not RUNNING's or the grey default
        waiting = page.locator("#run-waiting")
        expect(waiting).to_be_visible()
        expect(waiting).to_contain_text("awaitAll")
        expect(waiting).to_contain_text("2 still pending")
        assert sorted(waiting.locator("a").evaluate_all("as => as.map(a => a.title)")) == sorted(units)
        expect(page.locator("#parent-link a")).to_have_text(top)
        expect(page.locator("#root-link")).to_have_count(0)  # the parent is the root
        rows = page.locator("#children-table tbody tr")
        expect(rows).to_have_count(2)
        for unit in units:
            row = page.locator("#children-table tbody tr[data-run-id='%s']" % unit)
            expect(row.locator("a")).to_have_text(unit)
            assert row.locator("a").get_attribute("href") == "/runs/%s" % unit
            expect(row.locator(".pill")).to_have_text("RUNNING")
            expect(row).to_contain_text("tp.unit")
        expect(page.locator("#children-table")).to_contain_text("unit-0")

        # the steps page while it waits: child starts, the pending await, the waiting band
        page.goto(site + "/runs/%s/steps" % procedure)
        expect(page.locator("#timeline-svg rect.child-mark[data-kind='child']")).to_have_count(2)
        expect(page.locator("#timeline-svg rect.await-bar.await-pending")).to_have_count(1)
        expect(page.locator("#timeline-svg rect.waiting-band[data-phase='WAITING']")).to_have_count(1)
        expect(page.locator("#steps-table tbody tr[data-kind='await'] .pill")).to_have_text("WAITING")
        hrefs = page.locator("#timeline-svg a.child-link").evaluate_all("as => as.map(a => a.getAttribute('href'))")
        assert sorted(hrefs) == sorted("/runs/%s" % u for u in units)

        # the runs list: children carry a link to their parent; "hide child runs" leaves them out (in the URL)
        page.goto(site + "/runs")
        listed = page.locator("#runs-table tbody tr[data-run-id]")
        expect(listed).to_have_count(4)
        marker = page.locator("#runs-table tbody tr[data-run-id='%s'] a.child-of" % units[0])
        assert marker.get_attribute("href") == "/runs/%s" % procedure
        expect(page.locator("#runs-table tbody tr[data-run-id='%s'] a.child-of" % top)).to_have_count(0)
        page.check("#f-top-level")
        expect(listed).to_have_count(1)
        expect(page.locator("#runs-table tbody tr[data-run-id='%s']" % top)).to_have_count(1)
        assert "topLevelOnly=1" in page.url
        page.goto(site + "/runs?topLevelOnly=1")
        expect(page.locator("#f-top-level")).to_be_checked()
        expect(listed).to_have_count(1)
        page.goto(site + "/runs?parentWorkflowId=%s" % procedure)  # the run page's "in the runs list"
        expect(listed).to_have_count(2)
        expect(page.locator("#f-parent")).to_contain_text(procedure[:8])

        # a HOLD of the root goes down the tree; a unit shows where its command came from
        page.goto(site + "/runs/%s" % top)
        page.click("#cmd-HOLD")
        expect(page.locator("#command-result")).to_contain_text("COMMAND_ACCEPTED")
        page.goto(site + "/runs/%s" % procedure)
        page.locator("#children-table tbody tr[data-run-id='%s'] a" % units[0]).click()
        page.wait_for_url(site + "/runs/%s" % units[0])
        expect(page.locator("#parent-link a")).to_have_text(procedure)
        expect(page.locator("#root-link a")).to_have_text(top)
        cause = page.locator("#commands-table tbody tr[data-cause-id] .cause")
        expect(cause).to_have_count(1)
        expect(cause).to_contain_text(re.compile(r"from parent command #\d+"))
        assert cause.locator("a").get_attribute("href") == "/runs/%s" % procedure
    finally:
        GATES.setdefault(gate, threading.Event()).set()

    for unit in units:
        wait_status(unit, "HELD", timeout=30)
    assert service.sendCommand(workflowId=top, cmd="RESUME")["ok"]
    assert wait_status(top, timeout=30)["status"] == "SUCCESS"

    # afterwards: the await on the timeline, the intervals it waited and was held
    page.goto(site + "/runs/%s/steps" % procedure)
    expect(page.locator("#timeline-svg rect.await-bar.await-SUCCESS[data-kind='await']")).to_have_count(1)
    expect(page.locator("#timeline-svg rect.child-mark")).to_have_count(2)
    assert page.locator("#timeline-svg rect.waiting-band").count() >= 1
    assert page.locator("#timeline-svg rect.held-band").count() == 1
    expect(page.locator("#steps-table tbody tr[data-kind='child']")).to_have_count(2)
    expect(page.locator("#steps-table tbody tr[data-kind='child'] a")).to_have_count(2)
    page.goto(site + "/runs/%s" % procedure)
    expect(page.locator("#run-status .pill")).to_have_text("SUCCESS")
    expect(page.locator("#run-waiting")).to_be_hidden()
    expect(page.locator("#children-table tbody tr .pill")).to_have_text(["SUCCESS", "SUCCESS"])


def test_a_failed_await_links_the_failed_child(site, page):
    parent = service.start(workflowName="t.failing_parent", inputs={"resolved": {"message": "jammed <valve>"}})
    wid = parent["data"]["workflowId"]
    output = wait_status(wid, "SUCCESS")["output"]
    sign_in(page, site, "otto", "/runs/%s/steps" % wid)
    expect(page.locator("#timeline-svg rect.await-bar.await-ERROR")).to_have_count(1)
    failed = page.locator("#steps-table tbody tr[data-kind='await']")
    expect(failed).to_contain_text("ChildFailed")
    expect(failed).to_contain_text("jammed <valve>")
    assert failed.locator("a").get_attribute("href") == "/runs/%s" % output["bad"]
    page.goto(site + "/runs/%s" % wid)
    expect(page.locator("#children-table tbody tr[data-run-id='%s'] .pill" % output["bad"])).to_have_text("ERROR")
    expect(page.locator("#children-table tbody tr[data-run-id='%s'] .pill" % output["good"])).to_have_text("SUCCESS")


def test_a_diverged_run_continues_with_the_current_code(site, page):
    wid = diverged_run(runtime.engine())
    version = service.getWorkflow(workflowId=wid)["data"]["workflowVersion"]
    sign_in(page, site, "sam", "/runs/%s" % wid)
    expect(page.locator("#run-status .pill")).to_have_text("ERROR")
    expect(page.locator("#run-version")).to_have_text(version)
    line = page.locator("#run-diverged")
    expect(line).to_be_visible()
    expect(line).to_contain_text("Diverged at position 1: the run recorded step renamed, the code now calls step count")
    expect(line.locator("code")).to_have_text(["renamed", "count"])
    button = page.locator("#cmd-CONTINUE")
    expect(button).to_have_text("Continue with current code")
    expect(button).to_be_enabled()
    page.fill("#command-reason", "step renamed on purpose")
    button.click()
    result = page.locator("#command-result")
    expect(result).to_contain_text("WORKFLOW_ENQUEUED")
    result.locator("a").click()
    page.wait_for_url(re.compile(r".*/runs/[0-9a-f-]{36}$"))
    new_id = page.url.rsplit("/", 1)[1]
    assert new_id != wid
    expect(page.locator("#run-status .pill")).to_have_text("SUCCESS")  # the page follows it live to its end
    expect(page.locator("#run-facts a")).to_have_text(wid)  # Retry of
    expect(page.locator("#run-diverged")).to_be_hidden()
    expect(page.locator("#cmd-RETRY")).to_be_disabled()
    expect(page.locator("#cmd-CONTINUE")).to_have_count(0)  # not a diverged run: no such button
    assert wait_status(new_id)["output"] == 10

    # the runs list: the version column, and the version filter kept in the URL
    page.goto(site + "/runs?workflowVersion=%s" % version)
    expect(page.locator("#f-version")).to_have_value(version)
    rows = page.locator("#runs-table tbody tr[data-run-id]")
    expect(rows).to_have_count(2)
    expect(page.locator("#runs-table tbody tr[data-run-id='%s'] td.version" % wid)).to_have_text(version)
    page.fill("#f-version", "no-such-version")
    page.click("#apply-filters")
    expect(page.locator("#runs-table tbody")).to_contain_text("No runs match these filters.")
    assert "workflowVersion=no-such-version" in page.url

    # the admin page: the workflows each executor has, with their versions
    page.goto(site + "/admin")
    cell = page.locator("#executors-table tbody tr[data-executor='test-0'] details.executor-workflows")
    expect(cell.locator("summary")).to_contain_text("workflows")
    cell.locator("summary").click()
    chip = cell.locator(".chip[data-workflow='t.linear']")
    expect(chip).to_be_visible()
    expect(chip).to_have_text("t.linear@%s" % version)
    expect(cell.locator(".chip.differs")).to_have_count(0)
    expect(page.locator("#policy-table tbody tr[data-cmd='CONTINUE']")).to_contain_text("supervisor, admin")
