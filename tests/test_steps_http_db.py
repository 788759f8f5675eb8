"""The http and db library steps on the CPython host, with the engine on PostgreSQL and on SQLite: requests to a
local HTTP server started here (JSON and text bodies, headers, params, redirects, a 404 a workflow catches and
catches again on replay, raiseForStatus=False, retries, timeouts, answers replayed from the record), and SQL on
named connections to a separate SQLite file and a separate PostgreSQL database (rows as dicts, counts, `?` only,
values made JSON-native, unknown names, bad SQL, unreachable databases); `./gateway run --connection` refusing a
bad value."""
import base64
import json
import os
import sqlite3
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

import workflows_plant_io as pio
from conftest import PG_SERVER, EngineFactory, _admin, run_gateway, wait_status
from exchange.workflows.api import service
from exchange.workflows.engine.errors import HttpError
from exchange.workflows.steps import db, http
from exchange.workflows.steps.http import HttpNoResponse
from exchange.workflows.util.errors import InvalidArgument


# -- a local HTTP server -----------------------------------------------------------------------------------------------

class PlantServer(object):
    """A small REST service in a thread: what it was asked is kept (hits per path, the last request per path)."""

    def __init__(self):
        self.hits = {}
        self.seen = {}
        self.flaky = {}
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.base = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path):
        return self.base + path

    def count(self, path):
        with self._lock:
            return self.hits.get(path, 0)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server._lock:
                    server.hits[parts.path] = server.hits.get(parts.path, 0) + 1
                    server.seen[parts.path] = {"method": self.command, "query": parse_qs(parts.query),
                                               "headers": dict((k.lower(), v) for k, v in self.headers.items()),
                                               "body": body}
                route = getattr(server, "route_" + parts.path.strip("/").replace("/", "_"), None)
                if route is None:
                    return self._answer(404, "text/plain; charset=utf-8", "no such thing: %s" % parts.path)
                return route(self, parse_qs(parts.query), body)

            def _answer(self, status, content_type, text=None, data=None, headers=()):
                payload = data if data is not None else (text or "").encode("utf-8")
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        return Handler

    # routes: /name -> route_name(handler, query, body)

    def route_orders(self, handler, query, body):
        orders = [{"id": 42, "line": "L1", "qty": 12.5}, {"id": 43, "line": "L2", "qty": 3}]
        wanted = query.get("line", [None])[0]
        handler._answer(200, "application/json", json.dumps([o for o in orders if wanted in (None, o["line"])]),
                        headers=[("X-Plant", "R-1"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])

    def route_echo(self, handler, query, body):
        seen = {"method": handler.command, "query": query, "body": body.decode("utf-8"),
                "contentType": handler.headers.get("Content-Type"), "token": handler.headers.get("X-Token")}
        handler._answer(201, "application/problem+json; charset=utf-8", json.dumps(seen))

    def route_label(self, handler, query, body):
        handler._answer(200, "text/plain; charset=iso-8859-1", data=u"r\u00e9acteur pr\u00eat".encode("latin-1"))

    def route_empty(self, handler, query, body):
        handler._answer(204, None)

    def route_notjson(self, handler, query, body):
        handler._answer(200, "application/json", "{not json: NaN")

    def route_moved(self, handler, query, body):
        handler._answer(302, None, headers=[("Location", "/orders?line=L2")])

    def route_broken(self, handler, query, body):
        handler._answer(500, "text/plain", "x" * 10000)

    def route_flaky(self, handler, query, body):
        key = query["key"][0]
        with self._lock:
            self.flaky[key] = self.flaky.get(key, 0) + 1
            attempt = self.flaky[key]
        if attempt <= int(query["fail"][0]):
            return handler._answer(503, "text/plain", "busy, attempt %d" % attempt)
        handler._answer(200, "application/json", json.dumps({"attempt": attempt}))

    def route_slow(self, handler, query, body):
        time.sleep(1.5)
        handler._answer(200, "text/plain", "late")


@pytest.fixture
def sqlite_engine(tmp_path):
    """One engine on a SQLite file, for checks that never reach a database."""
    factory = EngineFactory("sqlite:%s" % (tmp_path / "workflows.db"))
    factory()
    yield factory.engines[0]
    factory.close()


@pytest.fixture
def web():
    server = PlantServer()
    yield server
    server.close()


def closed_port():
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def start(name, **params):
    resp = service.start(workflowName=name, inputs={"resolved": params})
    assert resp["code"] == "WORKFLOW_ENQUEUED", resp
    return resp["data"]["workflowId"]


def steps_of(wid):
    return service.listSteps(workflowId=wid)["data"]["steps"]


# -- http.request in workflows -----------------------------------------------------------------------------------------

def test_a_json_answer_is_recorded_once_and_replayed_not_fetched_again(engine, web):
    wid = start("pio.request", url=web.url("/orders"), options={"params": {"line": "L1"}}, park=1.2)
    run = wait_status(wid)
    assert run["status"] == "SUCCESS", run
    answer = run["output"]
    assert answer["status"] == 200
    assert answer["body"] == [{"id": 42, "line": "L1", "qty": 12.5}]
    assert answer["url"] == web.url("/orders?line=L1")
    assert answer["headers"]["content-type"] == "application/json"
    assert answer["headers"]["x-plant"] == "R-1"
    assert answer["headers"]["set-cookie"] == "a=1, b=2"
    assert pio.ENTRIES[wid] == 2, "the run should have woken from its sleep and replayed"
    assert web.count("/orders") == 1
    steps = steps_of(wid)
    assert [(s["name"], s["status"], s["attempts"]) for s in steps][0] == ("http.request", "SUCCESS", 1)
    assert steps[0]["output"] == answer


def test_a_post_sends_json_headers_and_params_and_reads_a_json_problem_answer(engine, web):
    wid = start("pio.request", url=web.url("/echo?fixed=1"), method="post",
                options={"json": {"reactor": u"R\u00e9-1", "kg": 500}, "headers": {"X-Token": "abc"},
                         "params": {"batch": "B 1/2", "flags": [True, 2], "skipped": None}})
    run = wait_status(wid)
    assert run["status"] == "SUCCESS", run
    answer = run["output"]
    assert answer["status"] == 201
    assert answer["url"] == web.url("/echo?fixed=1&batch=B%201%2F2&flags=true&flags=2")
    seen = answer["body"]
    assert seen["method"] == "POST"
    assert seen["query"] == {"fixed": ["1"], "batch": ["B 1/2"], "flags": ["true", "2"]}
    assert json.loads(seen["body"]) == {"reactor": u"R\u00e9-1", "kg": 500}
    assert (seen["contentType"], seen["token"]) == ("application/json", "abc")


def test_text_bodies_follow_their_charset_and_an_empty_one_is_none(engine, web):
    label = http.request("GET", web.url("/label"))
    assert (label["status"], label["body"]) == (200, u"r\u00e9acteur pr\u00eat")
    assert http.request("DELETE", web.url("/empty"))["body"] is None
    assert http.request("GET", web.url("/notjson"))["body"] == "{not json: NaN"
    form = http.request("PUT", web.url("/echo"), data={"b": "x y", "a": 1})["body"]
    assert (form["body"], form["contentType"]) == ("a=1&b=x%20y", "application/x-www-form-urlencoded")
    text = http.request("PATCH", web.url("/echo"), data=u"caf\u00e9", headers={"Content-Type": "text/csv"})["body"]
    assert (text["body"], text["contentType"]) == (u"caf\u00e9", "text/csv")


def test_redirects_are_followed_and_the_answering_url_is_reported(engine, web):
    answer = http.request("GET", web.url("/moved"))
    assert answer["url"] == web.url("/orders?line=L2")
    assert answer["body"] == [{"id": 43, "line": "L2", "qty": 3}]


def test_a_404_raises_http_error_the_workflow_catches_and_a_replay_takes_the_same_branch(engine, web):
    wid = start("pio.order", url=web.url("/orders/99"), park=1.2)
    run = wait_status(wid)
    assert run["status"] == "SUCCESS", run
    assert run["output"] == {"branch": "missing", "type": "HttpError", "status": 404, "url": web.url("/orders/99"),
                             "method": "GET", "body": "no such thing: /orders/99"}
    assert pio.ENTRIES[wid] == 2
    assert web.count("/orders/99") == 1
    recorded = steps_of(wid)[0]
    assert (recorded["name"], recorded["status"], recorded["attempts"]) == ("http.request", "ERROR", 1)
    error = recorded["error"]
    assert (error["type"], error["status"], error["method"]) == ("HttpError", 404, "GET")
    assert error["message"] == "GET %s answered 404: no such thing: /orders/99" % web.url("/orders/99")


def test_raise_for_status_false_answers_the_error_status(engine, web):
    wid = start("pio.request", url=web.url("/orders/7"), options={"raiseForStatus": False})
    run = wait_status(wid)
    assert run["status"] == "SUCCESS", run
    assert (run["output"]["status"], run["output"]["body"]) == (404, "no such thing: /orders/7")


def test_an_error_body_is_kept_to_4096_characters(engine, web):
    with pytest.raises(HttpError) as failed:
        http.request("GET", web.url("/broken"))
    assert failed.value.status == 500 and failed.value.body == "x" * 4096
    assert len(str(failed.value)) < 300


def test_a_flaky_endpoint_is_retried_per_the_step_options(engine, web):
    retry = {"retries_allowed": True, "max_attempts": 4, "interval_seconds": 0.05, "backoff_rate": 1.0}
    wid = start("pio.request", url=web.url("/flaky?key=a&fail=2"), options=retry)
    run = wait_status(wid)
    assert run["status"] == "SUCCESS", run
    assert run["output"]["body"] == {"attempt": 3}
    assert steps_of(wid)[0]["attempts"] == 3
    log = [e["value"] for e in service.readStream(workflowId=wid)["data"]["entries"]]
    assert len([e for e in log if e.get("event") == "retrying"]) == 2, log


def test_without_retries_a_flaky_endpoint_ends_the_run_in_error(engine, web):
    wid = start("pio.request", url=web.url("/flaky?key=b&fail=1"))
    run = wait_status(wid)
    assert run["status"] == "ERROR"
    assert run["error"]["type"] == "HttpError" and run["error"]["status"] == 503
    assert web.count("/flaky") == 1


def test_no_response_names_the_url_and_is_retried(engine):
    url = "http://127.0.0.1:%d/orders" % closed_port()
    retry = {"retries_allowed": True, "max_attempts": 2, "interval_seconds": 0.05}
    wid = start("pio.request", url=url, options=retry)
    run = wait_status(wid)
    assert run["status"] == "ERROR"
    assert run["error"]["type"] == "HttpNoResponse" and run["error"]["url"] == url
    assert url in run["error"]["message"]
    assert steps_of(wid)[0]["attempts"] == 2


def test_a_request_past_its_timeout_gets_no_response(engine, web):
    began = time.time()
    with pytest.raises(HttpNoResponse) as late:
        http.request("GET", web.url("/slow"), timeoutSeconds=0.3)
    assert time.time() - began < 1.4
    assert late.value.url == web.url("/slow") and "timed out" in late.value.reason
    assert http.request("GET", web.url("/slow"), timeout_ms=5000)["body"] == "late"  # the source project's name


def test_the_source_project_keyword_names_are_accepted(engine, web):
    seen = http.request("POST", web.url("/echo"), headers={"X-Token": "t"}, params={"p": 1},
                        json_body={"a": 1}, timeout_ms=3000)["body"]
    assert (json.loads(seen["body"]), seen["query"], seen["token"]) == ({"a": 1}, {"p": ["1"]}, "t")


BAD_REQUESTS = [
    (lambda url: http.request("GET", "ftp://plant/x"), "url"),
    (lambda url: http.request("GET", "http://"), "url"),
    (lambda url: http.request("GET", "http://plant/a b"), "url"),
    (lambda url: http.request("GET IT", url), "method"),
    (lambda url: http.request(None, url), "method"),
    (lambda url: http.request("POST", url, json={"a": 1}, data="x"), "data"),
    (lambda url: http.request("POST", url, json={"a": 1}, json_body={"a": 1}), "json"),
    (lambda url: http.request("POST", url, json={"when": object()}), "json.when"),
    (lambda url: http.request("POST", url, data=3), "data"),
    (lambda url: http.request("GET", url, headers={"X-A": "1\r\nX-B: 2"}), "headers"),
    (lambda url: http.request("GET", url, headers={"bad name": "1"}), "headers"),
    (lambda url: http.request("GET", url, headers=["X-A"]), "headers"),
    (lambda url: http.request("GET", url, params={"a": {"b": 1}}), "params"),
    (lambda url: http.request("GET", url, timeoutSeconds=0), "timeoutSeconds"),
    (lambda url: http.request("GET", url, timeoutSeconds="10"), "timeoutSeconds"),
    (lambda url: http.request("GET", url, timeout_ms=-1), "timeout_ms"),
    (lambda url: http.request("GET", url, raiseForStatus="yes"), "raiseForStatus"),
    (lambda url: http.request("GET", url, retries=3), "retries"),
]


def test_bad_arguments_are_refused_before_anything_is_sent(sqlite_engine, web):
    """Checked before any request or database access: once, on one engine."""
    for call, field in BAD_REQUESTS:
        with pytest.raises(InvalidArgument) as refused:
            call(web.url("/orders"))
        assert refused.value.field == field, (field, refused.value.message)
        assert refused.value.code == "INVALID_ARGUMENT"
    assert web.count("/orders") == 0


def test_a_bad_argument_in_a_workflow_ends_the_run_in_error_with_invalid_argument(engine, web):
    wid = start("pio.request", url="file:///etc/passwd")
    run = wait_status(wid)
    assert run["status"] == "ERROR"
    assert run["error"]["type"] == "InvalidArgument" and "http:// or https://" in run["error"]["message"]
    assert steps_of(wid) == []


# -- db.query and db.update on named connections -----------------------------------------------------------------------

SQLITE_TABLES = ["CREATE TABLE batches (id TEXT PRIMARY KEY, qty REAL, note TEXT, done INTEGER)",
                 "CREATE TABLE kinds (i INTEGER, r REAL, t TEXT, b BLOB, n INTEGER)"]
PG_TABLES = ["CREATE TABLE batches (id text PRIMARY KEY, qty numeric(10, 2), note text, done boolean)",
             "CREATE TABLE kinds (big bigint, whole numeric(12, 0), part numeric(10, 3), f double precision, "
             "nan double precision, stamp timestamp, zoned timestamptz, day date, clock time, raw bytea, u uuid, "
             "doc jsonb, arr integer[], flag boolean)"]


@pytest.fixture(scope="session")
def site_pg():
    """A PostgreSQL database of the "site" (never the engine's), for the session."""
    name = "wf_site_%d_%s" % (os.getpid(), uuid.uuid4().hex[:6])
    _admin('CREATE DATABASE "%s"' % name)
    yield "%s/%s" % (PG_SERVER, name)
    _admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request, tmp_path):
    """The URL of a site database with empty tables batches and kinds, of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "site.db"
        conn = sqlite3.connect(str(path))
        for statement in SQLITE_TABLES:
            conn.execute(statement)
        conn.commit()
        conn.close()
        return "sqlite:%s" % path
    import psycopg

    url = request.getfixturevalue("site_pg")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS batches, kinds, extra")
        for statement in PG_TABLES:
            conn.execute(statement)
    return url


@pytest.fixture
def plant(engine, site):
    """The engine with its named connection "site"; the dialect of the site database."""
    engine.host.databases.add("site", site)
    return "postgresql" if site.startswith("postgresql") else "sqlite"


def site_rows(url, sql):
    if url.startswith("sqlite:"):
        conn = sqlite3.connect(url[len("sqlite:"):])
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_a_batch_record_is_written_read_as_dicts_and_changed_once_even_when_the_run_replays(plant, site):
    wid = start("pio.batch_record", connection="site", batch="B-7", qty=12.5, park=1.2)
    run = wait_status(wid)
    assert run["status"] == "SUCCESS", run
    done = run["output"]
    assert (done["added"], done["changed"]) == (1, 1)
    false = False if plant == "postgresql" else 0
    assert done["rows"] == [{"id": "B-7", "qty": 12.5, "note": "why? 100%", "done": false}]
    assert pio.ENTRIES[wid] == 2
    assert [(s["name"], s["status"]) for s in steps_of(wid)[:3]] == [
        ("db.update", "SUCCESS"), ("db.query", "SUCCESS"), ("db.update", "SUCCESS")]
    stored = site_rows(site, "SELECT id, qty, done FROM batches")
    assert [(r[0], float(r[1]), bool(r[2])) for r in stored] == [("B-7", 13.5, True)]


def test_values_are_made_json_native(plant, site):
    if plant == "sqlite":
        db.update("site", "INSERT INTO kinds VALUES (?, ?, ?, x'00ff10', ?)", [2 ** 40, 1.25, u"\u00e9", None])
        assert db.query("site", "SELECT * FROM kinds") == [
            {"i": 2 ** 40, "r": 1.25, "t": u"\u00e9", "b": base64.b64encode(b"\x00\xff\x10").decode(), "n": None}]
        return
    db.update("site", "INSERT INTO kinds VALUES (?, 12345678901, 2.5, 0.1, 'NaN', '2024-05-01 12:30:00', "
              "'2024-05-01T12:00:00Z', '2024-05-01', '06:30:15', '\\x00ff'::bytea, "
              "'6f1c1f0e-2a3b-4c5d-8e9f-0a1b2c3d4e5f', '{\"a\": [1, 2.5, null]}', '{1,2,3}', ?)", [2 ** 40, True])
    row = db.query("site", "SELECT * FROM kinds WHERE flag = ?", [True])[0]
    local = int(time.mktime((2024, 5, 1, 12, 30, 0, 0, 0, -1))) * 1000
    assert row == {"big": 2 ** 40, "whole": 12345678901, "part": 2.5, "f": 0.1, "nan": None, "stamp": local,
                   "zoned": 1714564800000, "day": "2024-05-01", "clock": "06:30:15", "raw": "AP8=",
                   "u": "6f1c1f0e-2a3b-4c5d-8e9f-0a1b2c3d4e5f", "doc": {"a": [1, 2.5, None]}, "arr": [1, 2, 3],
                   "flag": True}
    assert type(row["whole"]) is int and type(row["part"]) is float


def test_update_counts_the_rows_changed_and_zero_for_ddl(plant):
    assert db.update("site", "CREATE TABLE extra (a INTEGER)") == 0
    assert db.update("site", "INSERT INTO extra (a) VALUES (?), (?), (?)", [1, 2, 3]) == 3
    assert db.update("site", "DELETE FROM extra WHERE a >= ?", [2]) == 2
    assert db.query("site", "SELECT a FROM extra") == [{"a": 1}]
    assert db.query("site", "SELECT a AS first FROM extra WHERE a = ? AND 'a?' <> ?", [5, "b"]) == []


def test_a_site_sqlite_file_keeps_its_tables_in_main(make_engine, tmp_path):
    """The engine's own SQLite file is attached as `workflows`; a site's is the file itself, as any tool sees it."""
    engine = make_engine()
    path = tmp_path / "lab.db"
    sqlite3.connect(str(path)).close()
    engine.host.databases.add("lab", "sqlite:%s" % path)
    db.update("lab", "CREATE TABLE samples (id INTEGER PRIMARY KEY, result REAL)")
    db.update("lab", "INSERT INTO samples (result) VALUES (?)", [7.25])
    assert site_rows("sqlite:%s" % path, "SELECT id, result FROM main.samples") == [(1, 7.25)]
    assert db.query("lab", "SELECT name FROM sqlite_master WHERE type = 'table'") == [{"name": "samples"}]


BAD_STATEMENTS = [
    ("SELECT * FROM batches WHERE id = %s", ["B"], "sql", "%s"),
    ("SELECT * FROM batches WHERE id = %(batch)s", ["B"], "sql", "%(batch)s"),
    ("SELECT * FROM batches WHERE id = $1", ["B"], "sql", "$1"),
    ("SELECT * FROM batches WHERE id = :batch", ["B"], "sql", ":batch"),
    ("SELECT * FROM batches WHERE id = ?1", ["B"], "sql", "?1"),
    ("SELECT * FROM batches WHERE id = ? AND qty = ?", ["B"], "args", "2 ? placeholder(s) but args has 1"),
    ("SELECT * FROM batches WHERE id = 'why?'", ["B"], "args", "0 ? placeholder(s) but args has 1"),
    ("SELECT * FROM batches WHERE id = ?", "B", "args", "list"),
    ("SELECT * FROM batches WHERE id = ?", {"id": "B"}, "args", "list"),
    ("SELECT * FROM batches WHERE id = ?", [object()], "args", "args[0]"),
    ("", None, "sql", "SQL statement"),
]


def test_other_placeholder_styles_and_mismatched_args_are_refused(sqlite_engine):
    """Checked before the statement reaches any database: once, on one engine (no site database is needed)."""
    for sql, args, field, words in BAD_STATEMENTS:
        with pytest.raises(InvalidArgument) as refused:
            db.query("site", sql, args)
        assert refused.value.field == field and words in refused.value.message, (sql, refused.value.message)
        assert refused.value.code == "INVALID_ARGUMENT"


def test_casts_and_literals_are_not_placeholders(plant):
    db.update("site", "INSERT INTO batches (id, qty, note) VALUES (?, ?, ?)", ["B-1", 2, "a:b $1 %s"])
    found = db.query("site", "SELECT id, note FROM batches WHERE note = 'a:b $1 %s' -- :comment?\n AND id = ?",
                     ["B-1"])
    assert found == [{"id": "B-1", "note": "a:b $1 %s"}]
    if plant == "postgresql":
        assert db.query("site", "SELECT qty::text AS q FROM batches WHERE id = ?", ["B-1"]) == [{"q": "2.00"}]


def test_a_column_named_twice_is_refused(plant):
    db.update("site", "INSERT INTO batches (id, qty, note) VALUES (?, ?, ?)", ["B-1", 2, "x"])
    with pytest.raises(InvalidArgument) as refused:
        db.query("site", "SELECT id, note AS id FROM batches")
    assert "id" in refused.value.message and refused.value.field == "sql"


def test_an_unknown_connection_fails_naming_the_known_ones(plant):
    with pytest.raises(InvalidArgument) as refused:
        db.query("mes", "SELECT 1")
    assert refused.value.field == "connection"
    assert "'mes'" in refused.value.message and "the known ones: site" in refused.value.message
    wid = start("pio.sql", connection="mes", statement="SELECT 1")
    run = wait_status(wid)
    assert run["status"] == "ERROR"
    assert run["error"]["type"] == "InvalidArgument" and "the known ones: site" in run["error"]["message"]


def test_bad_sql_ends_the_run_in_error_with_the_database_s_message(plant):
    wid = start("pio.sql", connection="site", statement="SELEC id FROM batches")
    run = wait_status(wid)
    assert run["status"] == "ERROR"
    error = run["error"]
    assert error["type"] == "DbError" and error["connection"] == "site" and error["unavailable"] is False
    assert error["message"].startswith("database connection site: ") and "syntax error" in error["message"]
    if plant == "postgresql":
        assert error["sqlstate"] == "42601"
    step = steps_of(wid)[0]
    assert (step["name"], step["status"], step["error"]["type"]) == ("db.query", "ERROR", "DbError")


def test_a_database_that_cannot_be_reached_ends_the_run_in_error_not_as_an_outage_of_the_engine(engine, tmp_path):
    engine.host.databases.add("down", "postgresql://postgres@127.0.0.1:%d/none" % closed_port())
    engine.host.databases.add("gone", "sqlite:%s" % (tmp_path / "missing.db"))
    for name in ("down", "gone"):
        wid = start("pio.sql", connection=name, statement="SELECT 1",
                    options={"retries_allowed": True, "max_attempts": 2, "interval_seconds": 0.05})
        run = wait_status(wid)
        assert run["status"] == "ERROR", run
        assert run["error"]["type"] == "DbError" and run["error"]["unavailable"] is True
        assert steps_of(wid)[0]["attempts"] == 2
    assert not (tmp_path / "missing.db").exists()


def test_connections_are_given_to_the_cpython_host_as_a_map(tmp_path):
    from exchange.workflows.host import hosts

    path = tmp_path / "site.db"
    sqlite3.connect(str(path)).close()
    host = hosts.cpython_host("sqlite:%s" % (tmp_path / "wf.db"), connections={"lab": "sqlite:%s" % path})
    try:
        assert host.databases.names() == ["lab"]
        assert host.databases.get("lab").query_columns("SELECT 1 AS one") == (["one"], [(1,)])
    finally:
        host.close()
    for bad in ({"lab": "mysql://x/y"}, {"lab": "sqlite:"}, {"": "sqlite:/x.db"}, {"lab": None}):
        with pytest.raises(InvalidArgument) as refused:
            hosts.cpython_host("sqlite:%s" % (tmp_path / "wf.db"), connections=bad)
        assert refused.value.field == "connection"


# -- ./gateway run --connection ----------------------------------------------------------------------------------------

def test_a_bad_connection_option_exits_2_with_one_line(tmp_path):
    result = run_gateway(["run", "--db", "sqlite:%s" % (tmp_path / "wf.db"), "--no-http",
                          "--connection", "mes=postgresql://mes@127.0.0.1/mes", "--connection", "lab"], timeout=90)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert result.stderr.splitlines() == [
        "gateway: --connection: 'lab' is not NAME=URL (e.g. mes=postgresql://user@host:5432/mes or "
        "lab=sqlite:/data/lab.db)"], output
    assert result.stdout == "" and not (tmp_path / "wf.db").exists()
