"""The http and db steps under Jython: the standalone host's JDK HttpClient and its named JDBC connections (a
separate SQLite file, a separate PostgreSQL database), and the Ignition host's adapters over the fake's
system.net.httpClient and system.db (a gateway started with startGateway, runs driven by the timer's dispatch).
A local HTTP server (the JDK's com.sun.net.httpserver) answers the requests.

The workflows are defined here (names start with "jpio."), so the Ignition gateway loads this module by name."""
import json
import os
import sys
import threading
import time
import uuid

import harness
from harness import fixture, wait_for, wait_status
from exchange.workflows.engine.decorators import workflow
from exchange.workflows.engine.errors import HttpError
from exchange.workflows.steps import db, http
from exchange.workflows.steps.db import DbError
from exchange.workflows.steps.http import HttpNoResponse

MODULE = __name__


# -- workflows ---------------------------------------------------------------------------------------------------------

@workflow(name="jpio.http_tour")
def http_tour(base):
    """GET with params and a header, POST JSON, a 404 caught, the same 404 answered, a latin-1 text."""
    orders = http.request("GET", base + "/orders", params={"line": "L1"}, headers={"X-Token": "t"})
    posted = http.request("POST", base + "/echo?fixed=1", json={"reactor": u"R\u00e9-1", "kg": 500},
                          params={"b": u"x y"})
    try:
        http.request("GET", base + "/orders/99")
        missing = None
    except HttpError as error:
        missing = {"status": error.status, "body": error.body, "url": error.url, "method": error.method}
    kept = http.request("GET", base + "/orders/99", raiseForStatus=False)
    label = http.request("GET", base + "/label")
    return {"orders": orders, "posted": posted["body"], "postedStatus": posted["status"], "missing": missing,
            "kept": [kept["status"], kept["body"]], "label": label["body"]}


@workflow(name="jpio.db_tour")
def db_tour(connection):
    """Write a batch record, read it as dicts, change it; bad SQL caught as DbError."""
    added = db.update(connection, "INSERT INTO batches (id, qty, note, done) VALUES (?, ?, 'why? 100%', ?)",
                      ["B-1", 12.5, False])
    rows = db.query(connection, "SELECT id, qty, note, done FROM batches WHERE id = ? AND done = ?", ["B-1", False])
    changed = db.update(connection, "UPDATE batches SET qty = qty + ?, done = ? WHERE id = ?", [1, True, "B-1"])
    try:
        db.query(connection, "SELEC id FROM batches")
        bad = None
    except DbError as error:
        bad = {"connection": error.connection, "unavailable": error.unavailable, "message": error.text}
    return {"added": added, "rows": rows, "changed": changed, "bad": bad}


# -- a local HTTP server -----------------------------------------------------------------------------------------------

class PlantServer(object):
    """com.sun.net.httpserver on 127.0.0.1, a few routes; hits counted per path."""

    def __init__(self):
        from com.sun.net.httpserver import HttpHandler, HttpServer
        from java.net import InetSocketAddress
        from java.util.concurrent import Executors

        owner = self
        self.hits = {}
        self._lock = threading.Lock()

        class Handler(HttpHandler):
            def handle(self, exchange):
                owner._handle(exchange)

        self._pool = Executors.newFixedThreadPool(4)
        self._server = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
        self._server.createContext("/", Handler())
        self._server.setExecutor(self._pool)
        self._server.start()
        self.base = "http://127.0.0.1:%d" % self._server.getAddress().getPort()

    def url(self, path):
        return self.base + path

    def count(self, path):
        with self._lock:
            return self.hits.get(path, 0)

    def close(self):
        self._server.stop(0)
        self._pool.shutdownNow()

    def _handle(self, exchange):
        try:
            uri = exchange.getRequestURI()
            path = uri.getPath()
            with self._lock:
                self.hits[path] = self.hits.get(path, 0) + 1
            body = exchange.getRequestBody().readAllBytes().tostring()
            query = uri.getRawQuery() or ""
            if path == "/orders":
                line = [p.split("=", 1)[1] for p in query.split("&") if p.startswith("line=")]
                orders = [{"id": 42, "line": "L1", "qty": 12.5}, {"id": 43, "line": "L2", "qty": 3}]
                return _answer(exchange, 200, "application/json",
                               json.dumps([o for o in orders if not line or o["line"] == line[0]]),
                               [("X-Plant", "R-1"), ("X-Token-Seen", exchange.getRequestHeaders().getFirst("X-Token")
                                                     or "")])
            if path == "/echo":
                seen = {"method": exchange.getRequestMethod(), "query": query, "body": body.decode("utf-8"),
                        "contentType": exchange.getRequestHeaders().getFirst("Content-Type")}
                return _answer(exchange, 201, "application/problem+json", json.dumps(seen))
            if path == "/label":
                return _answer(exchange, 200, "text/plain; charset=iso-8859-1",
                               u"r\u00e9acteur pr\u00eat".encode("latin-1"))
            if path == "/slow":
                time.sleep(1.5)
                return _answer(exchange, 200, "text/plain", "late")
            return _answer(exchange, 404, "text/plain; charset=utf-8", "no such thing: %s" % path)
        except:  # noqa: E722 - a broken route answers 500 instead of leaving the client hanging
            _answer(exchange, 500, "text/plain", "route failed: %s" % (sys.exc_info()[1],))


def _answer(exchange, status, content_type, text, headers=()):
    data = text.encode("utf-8") if isinstance(text, unicode) else text
    exchange.getResponseHeaders().add("Content-Type", content_type)
    for name, value in headers:
        exchange.getResponseHeaders().add(name, value)
    exchange.sendResponseHeaders(status, len(data) if data else -1)
    if data:
        out = exchange.getResponseBody()
        out.write(data)
        out.close()
    exchange.close()


@fixture
def web():
    server = PlantServer()
    yield server
    server.close()


def closed_port():
    from java.net import ServerSocket

    sock = ServerSocket(0)
    port = sock.getLocalPort()
    sock.close()
    return port


def _service():
    from exchange.workflows.api import service

    return service


def _start(name, **params):
    resp = _service().start(workflowName=name, inputs={"resolved": params})
    assert resp["code"] == "WORKFLOW_ENQUEUED", resp
    return resp["data"]["workflowId"]


# -- site databases ----------------------------------------------------------------------------------------------------

SQLITE_TABLES = ["CREATE TABLE batches (id TEXT PRIMARY KEY, qty REAL, note TEXT, done INTEGER)",
                 "CREATE TABLE kinds (i INTEGER, r REAL, t TEXT, b BLOB, n INTEGER)"]
PG_TABLES = ["CREATE TABLE batches (id text PRIMARY KEY, qty numeric(10, 2), note text, done boolean)",
             "CREATE TABLE kinds (big bigint, whole numeric(12, 0), part numeric(10, 3), f double precision, "
             "nan double precision, stamp timestamp, zoned timestamptz, day date, clock time, raw bytea, u uuid, "
             "doc jsonb, arr integer[], flag boolean)"]


@fixture(params=["sqlite", "postgresql"])
def site(param, tmp_dir):
    """The URL of a site database with the tables batches and kinds: a SQLite file, or a PostgreSQL database of its
    own (never the engine's, dropped after the test)."""
    if param == "sqlite":
        url = "sqlite:" + os.path.join(tmp_dir, "site.db")
        for statement in SQLITE_TABLES:
            harness.sql_execute(url, statement)
        yield url
        return
    server = harness.SESSION["pg_url"].rsplit("/", 1)[0]
    name = "wf_jysite_%s" % uuid.uuid4().hex[:10]
    harness.sql_execute(server + "/postgres", 'CREATE DATABASE "%s"' % name)
    url = "%s/%s" % (server, name)
    for statement in PG_TABLES:
        harness.sql_execute(url, statement)
    yield url
    harness.sql_execute(server + "/postgres", 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


@fixture
def standalone(db_url):
    """A started standalone-host engine (the JDK's HttpClient, JDBC) on each kind of engine database."""
    from exchange.workflows.engine.engine import Engine, EngineConfig
    from exchange.workflows.host import hosts, runtime

    host = hosts.standalone_host(db_url, globals_map={})
    engine = Engine(host, EngineConfig(executor_id="jy-pio", tick_ms=100, workers=2))
    runtime.install(engine)
    engine.start()
    yield engine
    engine.stop(grace_s=5.0)
    host.close()
    runtime.uninstall()


def _site_rows(url, sql):
    return [tuple(row) for row in harness.sql_rows(url, sql)]


def _tour_expectations(base, output):
    orders = output["orders"]
    assert (orders["status"], orders["url"]) == (200, base + "/orders?line=L1"), orders
    assert orders["body"] == [{"id": 42, "line": "L1", "qty": 12.5}], orders
    assert orders["headers"]["x-plant"] == "R-1" and orders["headers"]["x-token-seen"] == "t", orders["headers"]
    assert orders["headers"]["content-type"] == "application/json"
    posted = output["posted"]
    assert output["postedStatus"] == 201
    assert (posted["method"], posted["query"], posted["contentType"]) == ("POST", "fixed=1&b=x%20y",
                                                                           "application/json"), posted
    assert json.loads(posted["body"]) == {"reactor": u"R\u00e9-1", "kg": 500}
    assert output["missing"] == {"status": 404, "body": "no such thing: /orders/99", "url": base + "/orders/99",
                                 "method": "GET"}, output["missing"]
    assert output["kept"] == [404, "no such thing: /orders/99"]
    assert output["label"] == u"r\u00e9acteur pr\u00eat"


def _db_tour_expectations(site, output):
    postgres = site.startswith("postgresql")
    assert (output["added"], output["changed"]) == (1, 1), output
    assert output["rows"] == [{"id": "B-1", "qty": 12.5, "note": "why? 100%", "done": False if postgres else 0}]
    bad = output["bad"]
    assert (bad["connection"], bad["unavailable"]) == (output["connection"], False), bad
    assert bad["message"].startswith("database connection %s: " % output["connection"]), bad
    assert "syntax error" in bad["message"] or "SQLITE_ERROR" in bad["message"], bad
    stored = _site_rows(site, "SELECT id, qty, done FROM batches")
    assert [(r[0], float("%s" % r[1]), bool(r[2])) for r in stored] == [("B-1", 13.5, True)], stored


# -- the standalone host: the JDK's HttpClient, named JDBC connections -------------------------------------------------

def test_the_standalone_host_sends_requests_through_the_jdk_client(standalone, web):
    service = _service()
    wid = _start("jpio.http_tour", base=web.base)
    run = wait_status(service, wid)
    assert run["status"] == "SUCCESS", run
    _tour_expectations(web.base, run["output"])
    assert web.count("/orders/99") == 2 and web.count("/orders") == 1
    steps = service.listSteps(workflowId=wid)["data"]["steps"]
    assert [(s["name"], s["status"]) for s in steps] == [("http.request", "SUCCESS"), ("http.request", "SUCCESS"),
                                                         ("http.request", "ERROR"), ("http.request", "SUCCESS"),
                                                         ("http.request", "SUCCESS")], steps
    assert steps[2]["error"]["type"] == "HttpError" and steps[2]["error"]["status"] == 404


def test_the_jdk_client_reports_no_response_timeouts_and_headers_it_cannot_send(standalone, web):
    from exchange.workflows.util.errors import InvalidArgument

    url = "http://127.0.0.1:%d/orders" % closed_port()
    try:
        http.request("GET", url)
        raise AssertionError("a closed port must not answer")
    except HttpNoResponse as none:
        assert none.url == url and "ConnectException" in none.reason, none.reason
    started = time.time()
    try:
        http.request("GET", web.url("/slow"), timeoutSeconds=0.3)
        raise AssertionError("the slow route must time out")
    except HttpNoResponse as late:
        assert "HttpTimeoutException" in late.reason and time.time() - started < 1.4, late.reason
    assert http.request("GET", web.url("/slow"), timeout_ms=5000)["body"] == "late"
    try:
        http.request("GET", web.url("/orders"), headers={"Host": "elsewhere"})
        raise AssertionError("the JDK sets Host itself")
    except InvalidArgument as refused:
        assert refused.field == "headers"


def test_named_jdbc_connections_read_dicts_and_count_changes(standalone, site):
    standalone.host.databases.add("site", site)
    service = _service()
    wid = _start("jpio.db_tour", connection="site")
    run = wait_status(service, wid)
    assert run["status"] == "SUCCESS", run
    output = dict(run["output"], connection="site")
    _db_tour_expectations(site, output)
    assert db.update("site", "CREATE TABLE extra (a INTEGER)") == 0
    assert db.update("site", "INSERT INTO extra (a) VALUES (?), (?), (?)", [1, 2, 3]) == 3
    assert db.query("site", "SELECT a AS first FROM extra WHERE a = ? AND 'b?' <> ?", [2, "c"]) == [{"first": 2}]


def test_jdbc_values_are_made_json_native_as_in_cpython(standalone, site):
    import base64

    standalone.host.databases.add("site", site)
    if site.startswith("sqlite"):
        db.update("site", "INSERT INTO kinds VALUES (?, ?, ?, x'00ff10', ?)", [2 ** 40, 1.25, u"\u00e9", None])
        assert db.query("site", "SELECT * FROM kinds") == [
            {"i": 2 ** 40, "r": 1.25, "t": u"\u00e9", "b": base64.b64encode("\x00\xff\x10"), "n": None}]
        return
    db.update("site", "INSERT INTO kinds VALUES (?, 12345678901, 2.5, 0.1, 'NaN', '2024-05-01 12:30:00', "
              "'2024-05-01T12:00:00Z', '2024-05-01', '06:30:15', '\\x00ff'::bytea, "
              "'6f1c1f0e-2a3b-4c5d-8e9f-0a1b2c3d4e5f', '{\"a\": [1, 2.5, null]}', '{1,2,3}', ?)", [2 ** 40, True])
    row = db.query("site", "SELECT * FROM kinds WHERE flag = ?", [True])[0]
    local = int(time.mktime((2024, 5, 1, 12, 30, 0, 0, 0, -1))) * 1000
    assert row == {"big": 2 ** 40, "whole": 12345678901, "part": 2.5, "f": 0.1, "nan": None, "stamp": local,
                   "zoned": 1714564800000, "day": "2024-05-01", "clock": "06:30:15", "raw": "AP8=",
                   "u": "6f1c1f0e-2a3b-4c5d-8e9f-0a1b2c3d4e5f", "doc": {"a": [1, 2.5, None]}, "arr": [1, 2, 3],
                   "flag": True}, row


def test_a_site_sqlite_file_keeps_its_tables_in_main_and_a_missing_one_is_not_created(standalone, tmp_dir):
    from exchange.workflows.util.errors import InvalidArgument

    path = os.path.join(tmp_dir, "lab.db")
    harness.jdbc("sqlite:" + path).close()  # an empty file
    standalone.host.databases.add("lab", "sqlite:" + path)
    standalone.host.databases.add("gone", "sqlite:" + os.path.join(tmp_dir, "missing.db"))
    db.update("lab", "CREATE TABLE samples (id INTEGER PRIMARY KEY, result REAL)")
    db.update("lab", "INSERT INTO samples (result) VALUES (?)", [7.25])
    assert _site_rows("sqlite:" + path, "SELECT id, result FROM main.samples") == [(1, 7.25)]
    try:
        db.query("gone", "SELECT 1")
        raise AssertionError("a missing file must not be created")
    except DbError as gone:
        assert gone.unavailable is True and "no SQLite file" in gone.text, gone.text
    assert not os.path.exists(os.path.join(tmp_dir, "missing.db"))
    try:
        db.query("mes", "SELECT 1")
        raise AssertionError("an unknown name must be refused")
    except InvalidArgument as unknown:
        assert unknown.field == "connection" and "the known ones: gone, lab" in unknown.message, unknown.message


def test_the_standalone_host_takes_its_connections_as_a_map(sqlite_url, tmp_dir):
    from exchange.workflows.host import hosts

    site = "sqlite:" + os.path.join(tmp_dir, "site.db")
    harness.jdbc(site).close()
    host = hosts.standalone_host(sqlite_url, globals_map={}, executes=False, connections={"lab": site})
    try:
        assert host.databases.names() == ["lab"]
        assert host.databases.get("lab").query_columns("SELECT 1 AS one", ()) == ([u"one"], [(1,)])
    finally:
        host.close()


# -- the Ignition host: system.net.httpClient and system.db of the fake ------------------------------------------------

def test_the_fake_http_client_answers_like_ignitions(fake_system, web):
    client = fake_system.net.httpClient(timeout=5000)
    response = client.get(web.url("/orders"), params={"line": "L2"}, headers={"X-Token": "f"})
    assert response.statusCode == 200 and response.good and not response.clientError
    assert response.json == [{"id": 43, "line": "L2", "qty": 3}]
    assert response.url == web.url("/orders?line=L2")
    headers = dict([(k.lower(), v) for k, v in response.headers.items()])
    assert headers["x-plant"] == ["R-1"] and headers["x-token-seen"] == ["f"], headers
    assert response.body.tostring() == response.text.encode("utf-8")
    posted = client.post(web.url("/echo"), data={"a": 1})
    assert posted.statusCode == 201 and posted.json["contentType"] == "application/json"
    assert json.loads(posted.json["body"]) == {"a": 1}
    assert client.request(web.url("/nothing"), "DELETE").clientError
    from java.net.http import HttpTimeoutException

    try:
        client.request(web.url("/slow"), "GET", timeout=300)
        raise AssertionError("the slow route must time out")
    except HttpTimeoutException:
        pass


def test_the_ignition_host_sends_through_system_net_and_queries_through_system_db(fake_system, sqlite_url, site, web):
    from exchange.workflows.api import admin
    from exchange.workflows.host.ignition import ignition_host
    from exchange.workflows.util.errors import InvalidArgument

    fake_system.fake.add_connection("Workflows", sqlite_url)
    fake_system.fake.add_connection("Plant", site)
    resp = admin.startGateway(database="Workflows", modules=[MODULE], workers=2)
    assert resp["ok"], resp
    service = _service()
    tour = _start("jpio.http_tour", base=web.base)
    records = _start("jpio.db_tour", connection="Plant")

    def finished():
        service.dispatch()  # the gateway timer event
        runs = [service.getWorkflow(workflowId=w)["data"] for w in (tour, records)]
        return runs if all([r["status"] in harness.TERMINAL for r in runs]) else None
    runs = wait_for(finished, message="the tours to end")
    assert [r["status"] for r in runs] == ["SUCCESS", "SUCCESS"], runs
    _tour_expectations(web.base, runs[0]["output"])
    _db_tour_expectations(site, dict(runs[1]["output"], connection="Plant"))
    host = ignition_host(fake_system, "Workflows")
    assert host.databases.get("Plant").query_columns("SELECT id FROM batches WHERE done = ?", [True]) == (
        [u"id"], [(u"B-1",)])
    try:
        host.databases.get("MES")
        raise AssertionError("an unknown connection must be refused")
    except InvalidArgument as unknown:
        assert unknown.field == "connection" and "the gateway has none of that name" in unknown.message
    try:
        host.http.send("GET", "http://127.0.0.1:%d/x" % closed_port(), {}, None, 2)
        raise AssertionError("a closed port must not answer")
    except Exception as none:
        assert type(none).__name__ == "NoResponse" and "ConnectException" in none.reason, none
