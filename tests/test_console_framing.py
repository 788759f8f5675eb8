"""Which pages may show the console in a frame: none by default (frame-ancestors 'none', X-Frame-Options DENY); the
origins given to the console or kept in the users file (read again when it changes); bad values refused. In the
browser, a page of another origin shows the console in an Inline Frame only when that origin is allowed."""
import threading

import pytest

from conftest import EngineFactory, open_page, run_gateway
from test_console_http import call
from urllib.request import build_opener
from workflows_api import framing, server
from workflows_api.users import UserStore, UsersError


def _frame_ancestors(headers):
    policy = headers["Content-Security-Policy"]
    return [d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors")][0]


@pytest.fixture
def engine(tmp_path):
    """One engine on a SQLite file: framing is the same whatever the database (headers of the HTTP layer)."""
    factory = EngineFactory("sqlite:%s" % (tmp_path / "workflows.db"))
    factory()
    yield factory.engines[0]
    factory.close()


@pytest.fixture
def users(tmp_path):
    path = str(tmp_path / "users.json")
    UserStore(path).add_user("otto", "operator", "pw-otto")
    return path


def serve(engine, tmp_path, users, frame_ancestors=None):
    return server.start(engine, "127.0.0.1", 0, str(tmp_path), users, frame_ancestors=frame_ancestors)


def test_sources_are_checked_and_make_the_headers():
    assert framing.parse(None) == ["'none'"] and framing.parse("") == ["'none'"]
    assert framing.parse("self https://scada.example:8043/ https://*.plant.example") == [
        "'self'", "https://scada.example:8043", "https://*.plant.example"]
    assert framing.headers(["'none'"])[1] == "DENY" and framing.headers(["'self'"])[1] == "SAMEORIGIN"
    policy, options = framing.headers(["'self'", "https://scada.example:8043"])
    assert "frame-ancestors 'self' https://scada.example:8043;" in policy and options is None
    for bad in ("javascript:alert(1)", "https://x.example/path", "'none' 'self'", "https://a b", "*", "https://x;y"):
        with pytest.raises(framing.FramingError):
            framing.parse(bad)


def test_by_default_nothing_may_frame_the_console(engine, tmp_path, users):
    srv = serve(engine, tmp_path, users)
    try:
        status, headers, _ = call(build_opener(), "GET", "http://127.0.0.1:%d/login" % srv.port)
    finally:
        srv.stop()
    assert status == 200
    assert _frame_ancestors(headers) == "frame-ancestors 'none'" and headers["X-Frame-Options"] == "DENY"


def test_the_origins_given_or_kept_in_the_users_file_may_frame_it(engine, tmp_path, users):
    given = serve(engine, tmp_path, users, frame_ancestors="'self' https://scada.example:8043")
    try:
        _, headers, _ = call(build_opener(), "GET", "http://127.0.0.1:%d/login" % given.port)
    finally:
        given.stop()
    assert _frame_ancestors(headers) == "frame-ancestors 'self' https://scada.example:8043"
    assert "X-Frame-Options" not in headers
    store = UserStore(users)
    srv = serve(engine, tmp_path, users)
    try:
        url = "http://127.0.0.1:%d/login" % srv.port
        assert store.set_frame_ancestors("self") == ["'self'"]
        _, headers, _ = call(build_opener(), "GET", url)
        assert _frame_ancestors(headers) == "frame-ancestors 'self'" and headers["X-Frame-Options"] == "SAMEORIGIN"
        with pytest.raises(UsersError):
            store.set_frame_ancestors("javascript:alert(1)")
        data = store.data()
        data["frameAncestors"] = "ftp://nope"  # edited by hand: not used, and nothing may frame the console
        store._save(data)
        _, headers, _ = call(build_opener(), "GET", url)
        assert _frame_ancestors(headers) == "frame-ancestors 'none'" and headers["X-Frame-Options"] == "DENY"
        assert store.set_frame_ancestors("") is None
    finally:
        srv.stop()


def test_a_bad_frame_ancestors_option_stops_the_gateway_with_one_line(tmp_path):
    result = run_gateway(["run", "--db", "sqlite:%s" % (tmp_path / "w.db"), "--frame-ancestors", "javascript:x"],
                         timeout=90)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("gateway: --frame-ancestors: ") and len(result.stderr.splitlines()) == 1


def _parent_page(console_url):
    """A page of another origin with the console's login page in an Inline Frame; its address."""
    from http.server import BaseHTTPRequestHandler, HTTPServer

    body = ('<!doctype html><title>plant</title><iframe id="console" src="%s/login" width="900" height="600">'
            '</iframe>' % console_url).encode("utf-8")

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    page = HTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=page.serve_forever, daemon=True).start()
    return page


def test_a_page_of_an_allowed_origin_shows_the_console_in_a_frame_and_another_does_not(engine, tmp_path, users,
                                                                                       browser):
    srv = serve(engine, tmp_path, users)
    console_url = "http://127.0.0.1:%d" % srv.port
    parent = _parent_page(console_url)
    origin = "http://localhost:%d" % parent.server_address[1]  # another origin than the console's 127.0.0.1
    store = UserStore(users)
    try:
        for page in open_page(browser, 15000):
            page.goto(origin + "/")
            frame = page.frame_locator("#console")
            page.wait_for_timeout(800)
            assert frame.locator("#username").count() == 0  # refused by frame-ancestors 'none'
            store.set_frame_ancestors(origin)
            page.goto(origin + "/")
            frame.locator("#username").wait_for(state="visible")
    finally:
        parent.shutdown()
        srv.stop()
