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


class FakeHeaders(object):
    def __init__(self, names):
        self._names = list(names)

    def hasMoreElements(self):
        return bool(self._names)

    def nextElement(self):
        return self._names.pop(0)


class FakeServletRequest(object):
    """What Ignition's WebDev hands a Python resource (only the calls the adapter makes)."""

    def __init__(self, method, uri, query, headers):
        self.method, self.uri, self.query, self.headers = method, uri, query, headers

    def getRequestURI(self):
        return self.uri

    def getMethod(self):
        return self.method

    def getQueryString(self):
        return self.query

    def getHeaderNames(self):
        return FakeHeaders(self.headers)

    def getHeader(self, name):
        return self.headers[name]

    def getRemoteAddr(self):
        return "10.0.0.5"

    def isSecure(self):
        return True


class FakeServletResponse(object):
    def __init__(self):
        self.status = None
        self.headers = []

    def setStatus(self, status):
        self.status = status

    def addHeader(self, name, value):
        self.headers.append((name, value))


def test_the_webdev_adapter_translates_requests_and_responses(engine, tmp_path, monkeypatch):
    from workflows_api import webdev
    from workflows_api.app import Console

    path = str(tmp_path / "users.json")
    UserStore(path).add_user("otto", "operator", "pw-otto")
    consoles = {}
    monkeypatch.setattr(webdev, "_console", lambda base: consoles.setdefault(base, Console(path, base=base)))
    base = "/system/webdev/plant/console"
    request = {"servletRequest": FakeServletRequest("POST", base + "/api/login", None,
                                                    {"Host": "scada:8088", "Content-Type": "application/json"}),
               "servletResponse": FakeServletResponse(), "remainingPath": "/api/login",
               "postData": {"username": "otto", "password": "pw-otto"}}
    answer = webdev.handle(request)
    assert request["servletResponse"].status == 200
    assert answer["contentType"].startswith("application/json")
    assert json.loads(answer["bytes"].decode("utf-8"))["code"] == "SIGNED_IN"
    cookie = dict(request["servletResponse"].headers)["Set-Cookie"]
    assert "Path=/system/webdev/plant/console" in cookie and "Secure" in cookie
    page = {"servletRequest": FakeServletRequest("GET", base + "/queues", "x=1", {"Host": "scada:8088",
                                                                                  "Cookie": cookie.split(";")[0]}),
            "servletResponse": FakeServletResponse(), "remainingPath": "/queues"}
    html = webdev.handle(page)
    assert page["servletResponse"].status == 200 and html["contentType"].startswith("text/html")
    assert b'href="/system/webdev/plant/console/static/console.css"' in html["bytes"]
    assert list(consoles) == [base]


def test_an_oversized_body_is_refused(served):
    status, _, body = call(build_opener(), "POST", served + "/api/login", {"username": "x" * (2 * 1024 * 1024)})
    assert status == 413 and json.loads(body)["code"] == "BODY_TOO_LARGE"
