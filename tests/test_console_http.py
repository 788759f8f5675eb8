"""The console over a real socket with the CPython adapter (http.server): cookies, headers, bodies, HEAD."""
import json

import pytest

from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.request import HTTPCookieProcessor, Request, build_opener

import exchange.workflows.demo.workflows  # noqa: F401 - registers the demo workflows
from conftest import wait_status
from workflows_api import server
from workflows_api.users import UserStore



@pytest.fixture
def served(engine, tmp_path):
    path = str(tmp_path / "users.json")
    UserStore(path).add_user("otto", "operator", "pw-otto")
    srv = server.start(engine, "127.0.0.1", 0, str(tmp_path), path)
    yield "http://127.0.0.1:%d" % srv.port
    srv.stop()


def call(opener, method, url, body=None, headers=None):
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        response = opener.open(request, timeout=30)
    except HTTPError as err:
        response = err
    return response.status if hasattr(response, "status") else response.code, dict(response.headers), response.read()


def test_sign_in_start_and_read_back_over_http(served):
    jar = CookieJar()
    browser = build_opener(HTTPCookieProcessor(jar))
    status, headers, body = call(browser, "POST", served + "/api/login", {"username": "otto", "password": "pw-otto"})
    assert status == 200
    csrf = json.loads(body)["data"]["csrfToken"]
    assert [c.name for c in jar] == ["wf_session"]
    status, _, body = call(browser, "POST", served + "/api/runs",
                           {"workflowName": "demo.quick", "inputs": {"resolved": {"paramOne": u"Charge \u00fc <b>"}}},
                           {"X-CSRF-Token": csrf})
    assert status == 200, body
    wid = json.loads(body)["data"]["workflowId"]
    assert wait_status(wid, "SUCCESS")["output"].startswith(u"first:Charge \u00fc <b>")
    status, headers, body = call(browser, "GET", served + "/api/runs/" + wid)
    assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8"
    assert b"<b>" not in body
    assert json.loads(body.decode("utf-8"))["data"]["output"].startswith(u"first:Charge \u00fc <b>")
    status, headers, body = call(browser, "HEAD", served + "/runs/" + wid)
    assert status == 200 and body == b"" and headers["Content-Type"].startswith("text/html")
    status, _, body = call(browser, "POST", served + "/api/runs", {"workflowName": "demo.quick"})
    assert status == 403 and json.loads(body)["code"] == "CSRF_FAILED"


def test_anonymous_requests_over_http(served):
    anonymous = build_opener()
    status, _, body = call(anonymous, "GET", served + "/api/queues")
    assert status == 401 and json.loads(body)["code"] == "UNAUTHENTICATED"
    status, headers, body = call(anonymous, "GET", served + "/static/console.js")
    assert status == 200 and headers["Content-Type"].startswith("application/javascript")
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, _, body = call(anonymous, "GET", served + "/login")
    assert status == 200 and b"login-form" in body
