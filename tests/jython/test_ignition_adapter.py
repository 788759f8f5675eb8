"""The Ignition host under Jython, over the `system` fake: system.db, transactions, errors, scopes, lifecycle."""
import threading

from harness import fixture, wait_for, wait_status

DEMO = "exchange.workflows.demo.workflows"


@fixture
def workflows_db(fake_system, db_url):
    """The fake with a 'Workflows' connection to a clean database of each kind."""
    fake_system.fake.add_connection("Workflows", db_url)
    return db_url


def _api():
    from exchange.workflows.api import admin, service

    return admin, service


def _java_threads():
    from java.lang import Thread

    return set([t for t in Thread.getAllStackTraces().keySet() if t.isAlive()])


def _schema(db):
    if db.dialect == "postgresql":
        db.execute("CREATE SCHEMA IF NOT EXISTS workflows")


# -- the database adapter ---------------------------------------------------------------------------------------------

def test_pydataset_rows_become_plain_tuples(workflows_db):
    import system
    from exchange.workflows.host.ignition_db import IgnitionDatabase

    db = IgnitionDatabase(system)
    assert db.dialect == ("postgresql" if workflows_db.startswith("postgresql") else "sqlite")
    _schema(db)
    db.execute("CREATE TABLE IF NOT EXISTS workflows.probe (id BIGINT PRIMARY KEY, name TEXT, ok INTEGER)")
    assert db.execute("INSERT INTO workflows.probe (id, name, ok) VALUES (?, ?, ?)", (2 ** 40, u"r\u00e9acteur", True)) == 1
    assert db.execute("INSERT INTO workflows.probe (id, name, ok) VALUES (?, ?, ?)", (7, None, False)) == 1
    rows = db.query("SELECT id, name, ok FROM workflows.probe WHERE id >= ? ORDER BY id", (0,))
    assert rows == [(7, None, 0), (2 ** 40, u"r\u00e9acteur", 1)], rows
    assert all([type(row) is tuple for row in rows])
    assert db.scalar("SELECT name FROM workflows.probe WHERE id = ?", (2 ** 40,)) == u"r\u00e9acteur"
    assert db.scalar("SELECT name FROM workflows.probe WHERE id = ?", (-1,)) is None
    dataset = system.db.runPrepQuery("SELECT id, name FROM workflows.probe ORDER BY id", [], "Workflows")
    assert dataset.getRowCount() == 2 and list(dataset.getColumnNames()) == ["id", "name"]
    assert dataset[1]["name"] == u"r\u00e9acteur" and dataset[1][0] == 2 ** 40
    assert db.execute_many("UPDATE workflows.probe SET ok = ? WHERE id = ?", [(5, 7), (6, 2 ** 40), (7, 99)]) == 2
    assert sorted([r[0] for r in db.query("SELECT ok FROM workflows.probe")]) == [5, 6]


def test_transactions_commit_roll_back_and_release_their_connection(workflows_db):
    import system
    from exchange.workflows.host.ignition_db import IgnitionDatabase

    db = IgnitionDatabase(system)
    _schema(db)
    db.execute("CREATE TABLE IF NOT EXISTS workflows.probe (id BIGINT PRIMARY KEY)")
    with db.transaction():
        db.execute("INSERT INTO workflows.probe (id) VALUES (?)", (1,))
        with db.transaction():  # nested blocks join the outer transaction
            db.execute("INSERT INTO workflows.probe (id) VALUES (?)", (2,))
        assert len(system.fake.open_transactions()) == 1
    try:
        with db.transaction():
            db.execute("INSERT INTO workflows.probe (id) VALUES (?)", (3,))
            raise ValueError("abandon")
    except ValueError:
        pass
    try:
        with db.transaction():
            db.execute("INSERT INTO workflows.probe (id) VALUES (?)", (4,))
            db.execute("INSERT INTO workflows.probe (id) VALUES (?)", (1,))  # duplicate key: a Java exception
        raise AssertionError("the duplicate key must fail")
    except Exception as exc:
        assert exc.code == "DB_ERROR" and exc.conflict, (exc.code, exc.message)
    assert [r[0] for r in db.query("SELECT id FROM workflows.probe ORDER BY id")] == [1, 2]
    assert system.fake.open_transactions() == []
    assert system.fake.connections_in_use("Workflows") == 0


def test_failed_queries_become_database_errors_with_their_sqlstate(workflows_db):
    import system
    from exchange.workflows.host.ignition_db import IgnitionDatabase
    from exchange.workflows.util.errors import DatabaseError

    db = IgnitionDatabase(system)
    try:
        db.query("SELECT * FROM workflows.no_such_table")
        raise AssertionError("must fail")
    except DatabaseError as exc:
        assert exc.code == "DB_ERROR" and not exc.unavailable
        assert "no_such_table" in exc.message
        if workflows_db.startswith("postgresql"):
            assert exc.sqlstate == "42P01"
    assert system.fake.connections_in_use("Workflows") == 0


def test_a_database_that_cannot_be_reached_is_unavailable(fake_system):
    from exchange.workflows.host.ignition_db import IgnitionDatabase
    from exchange.workflows.util.errors import DatabaseError

    fake_system.fake.add_connection("Down", "postgresql://postgres@127.0.0.1:9/none")
    db = IgnitionDatabase(fake_system, "Down")
    try:
        db.query("SELECT 1")
        raise AssertionError("must fail")
    except DatabaseError as exc:
        assert exc.code == "DB_UNAVAILABLE" and exc.unavailable, exc.message
    try:
        IgnitionDatabase(fake_system, "NoSuchConnection")
        raise AssertionError("must fail")
    except DatabaseError as exc:
        assert exc.code == "DB_UNAVAILABLE" and "NoSuchConnection" in exc.message


def test_a_generic_connection_is_recognised_by_asking_the_server(fake_system, pg_url, sqlite_url):
    from exchange.workflows.host.ignition_db import IgnitionDatabase
    from exchange.workflows.util.errors import DatabaseError

    fake_system.fake.add_connection("Generic", pg_url, db_type="GENERIC")
    assert IgnitionDatabase(fake_system, "Generic").dialect == "postgresql"
    fake_system.fake.add_connection("Other", sqlite_url, db_type="GENERIC")
    try:
        IgnitionDatabase(fake_system, "Other")
        raise AssertionError("must fail")
    except DatabaseError as exc:
        assert exc.code == "DB_ERROR" and "needs PostgreSQL" in exc.message, exc.message


# -- envelopes --------------------------------------------------------------------------------------------------------

def test_database_failures_answer_with_envelope_codes(fake_system, pg_url, tmp_dir):
    admin, service = _api()
    fake_system.fake.set_scope("designer")
    fake_system.fake.add_connection("Workflows", "sqlite:%s/empty.db" % tmp_dir)  # no schema: queries fail
    resp = service.listRuns()
    assert resp["ok"] is False and resp["code"] == "DB_ERROR", resp
    resp = service.getWorkflow(workflowId="6f1b2c3d-0000-4000-8000-000000000001")
    assert resp["code"] == "DB_ERROR", resp
    fake_system.fake.add_connection("Workflows", "postgresql://postgres@127.0.0.1:9/none")
    from exchange.workflows.host import runtime

    runtime.uninstall()
    resp = service.start(workflowName="demo.quick", inputs={"resolved": {}})
    assert resp["ok"] is False and resp["code"] == "DB_UNAVAILABLE", resp
    resp = admin.startGateway(database="Missing")
    assert resp["code"] == "DB_UNAVAILABLE" and "Missing" in resp["message"], resp
    resp = admin.startGateway(database="Workflows", workers=0)
    assert resp["code"] == "INVALID_ARGUMENT" and resp["data"]["field"] == "workers", resp
    resp = admin.startGateway(modules="no.such.module")  # one name is accepted as a list of one
    assert resp["code"] == "CLIENT_SCOPE" and "no.such.module" in resp["data"]["moduleErrors"], resp


# -- scopes -----------------------------------------------------------------------------------------------------------

def test_designer_and_client_scopes_only_write_rows_and_start_no_thread(fake_system, pg_url):
    admin, service = _api()
    fake_system.fake.add_connection("Workflows", pg_url)
    assert admin.migrate()["ok"] is False  # gateway scope without startGateway: not configured
    from exchange.workflows.host import runtime

    runtime.uninstall()
    for scope_name in ("designer", "client"):
        fake_system.fake.set_scope(scope_name)
        runtime.uninstall()
        before = _java_threads()
        python_before = set(threading.enumerate())
        resp = admin.startGateway(database="Workflows", modules=[DEMO])
        assert resp["ok"] and resp["code"] == "CLIENT_SCOPE", resp
        assert resp["data"]["executes"] is False and resp["data"]["scope"] == scope_name
        assert admin.migrate()["ok"]  # a gateway normally did this at its startup
        resp = service.start(workflowName="demo.quick", inputs={"resolved": {"paramOne": "B-1"}},
                             queueName="default", partitionKey="line-1/reactor-a", timeoutSeconds=180)
        assert resp["ok"] and resp["code"] == "WORKFLOW_ENQUEUED", resp
        assert resp["data"]["executesHere"] is False and "only writes rows" in resp["message"]
        wid = resp["data"]["workflowId"]
        resp = service.enqueueInMemory(workflowName="demo.quick", inputs={"resolved": {}})
        assert resp["code"] == "WORKFLOW_ENQUEUED" and resp["data"]["executesHere"] is False, resp
        assert service.dispatch()["code"] == "NOT_GATEWAY_SCOPE"
        assert service.getWorkflow(workflowId=wid)["data"]["status"] == "ENQUEUED"
        assert service.getWorkflow(workflowId=resp["data"]["workflowId"])["data"]["status"] == "ENQUEUED"
        assert admin.stopGateway()["code"] == "NOT_RUNNING"
        assert _java_threads() - before == set(), [t.getName() for t in _java_threads() - before]
        assert set(threading.enumerate()) - python_before == set()
        kernel = runtime.engine().kernel
        assert kernel.generation() == 0  # no interpreter here ever executed


def test_scope_detection_falls_back_and_never_guesses_gateway(fake_system):
    import sys

    from exchange.workflows.host import ignition

    for name, expected in (("gateway", "gateway"), ("designer", "designer"), ("client", "client")):
        fake_system.fake.set_scope(name)
        assert ignition.scope() == expected
    model = "com.inductiveautomation.ignition.common.model"
    saved = sys.modules.pop(model)
    try:  # without ApplicationScope: getSystemFlags, which the gateway does not have
        for name, expected in (("designer", "designer"), ("client", "client"), ("gateway", "client")):
            fake_system.fake.set_scope(name)
            assert ignition.scope() == expected, name
    finally:
        sys.modules[model] = saved


def test_the_gateway_scope_executes_with_a_timer_calling_dispatch(fake_system, db_url):
    admin, service = _api()
    fake_system.fake.add_connection("Workflows", db_url)
    resp = service.start(workflowName="demo.quick", inputs={"resolved": {}})
    assert resp["code"] == "NOT_CONFIGURED" and "startGateway" in resp["message"], resp
    resp = admin.startGateway(database="Workflows", modules=[DEMO, "jy_workflows", "no.such.module"], workers=2)
    assert resp["ok"] and resp["code"] == "GATEWAY_STARTED", resp
    assert list(resp["data"]["moduleErrors"]) == ["no.such.module"], resp
    assert resp["data"]["executes"] is True and resp["data"]["generation"] == 1
    assert "demo.quick" in resp["data"]["workflows"] and "jy.quick" in resp["data"]["workflows"]
    wid = service.start(workflowName="jy.quick", inputs={"resolved": {"a": 2, "b": 3}})["data"]["workflowId"]

    def finished():
        service.dispatch()  # the gateway timer event
        run = service.getWorkflow(workflowId=wid)["data"]
        return run if run["status"] == "SUCCESS" else None
    run = wait_for(finished, message="jy.quick to succeed")
    assert run["output"] == 15 and run["events"]["total"]["value"] == 5
    steps = service.listSteps(workflowId=wid)["data"]["steps"]
    assert [(s["name"], s["output"]) for s in steps if s["kind"] == "step"] == [("add", 5), ("add", 15)], steps
    records = fake_system.fake.log_records.find(logger="exchange.workflows.engine", level="ERROR",
                                                contains="no.such.module")
    assert records, "the engine logs through system.util.getLogger('exchange.workflows.engine')"
    assert admin.maintenanceStatus()["data"]["generation"] == 1


def test_shutdown_hands_running_runs_back_and_startup_finishes_them(fake_system, pg_url):
    import jy_workflows

    admin, service = _api()
    fake_system.fake.add_connection("Workflows", pg_url)
    assert admin.startGateway(modules=["jy_workflows"], workers=2)["ok"]
    gate = jy_workflows.shared().get("gate")
    wid = service.start(workflowName="jy.gated", inputs={"resolved": {"steps": 3}})["data"]["workflowId"]
    wait_for(lambda: "s1" in list(jy_workflows.shared().get("entered")), message="s1 to start")
    gate.release()
    wait_for(lambda: "s2" in list(jy_workflows.shared().get("entered")), message="s2 to start")
    stopper = threading.Thread(target=admin.stopGateway)  # the shutdown event waits for running steps
    stopper.start()
    wait_for(lambda: admin.maintenanceStatus()["data"]["stopping"], message="the shutdown to begin")
    gate.release()  # s2 may finish now; the boundary after it sees the shutdown
    stopper.join(60)
    assert not stopper.isAlive()
    run = service.getWorkflow(workflowId=wid)["data"]
    assert run["status"] == "PENDING", run["status"]  # handed back, not lost
    assert [s["name"] for s in service.listSteps(workflowId=wid)["data"]["steps"]] == ["gated", "gated"]
    resp = admin.startGateway(modules=["jy_workflows"], workers=2)  # the next startup event
    assert resp["code"] == "GATEWAY_STARTED" and resp["data"]["generation"] == 2, resp
    gate.release()

    def finished():
        service.dispatch()
        return service.getWorkflow(workflowId=wid)["data"]["status"] == "SUCCESS"
    wait_for(finished, message="the run to finish after the restart")
    executed = sorted([e.split("|")[0] for e in jy_workflows.shared().get("executions")])
    assert executed == ["s1", "s2", "s3"], executed  # nothing ran twice
    assert wait_status(service, wid)["output"] == ["s1", "s2", "s3"]


def test_maintenance_drain_stops_claiming_until_exit(fake_system, pg_url):
    admin, service = _api()
    fake_system.fake.add_connection("Workflows", pg_url)
    assert admin.startGateway(modules=["jy_workflows"], workers=2)["ok"]
    resp = admin.enterMaintenance("drain")
    assert resp["code"] == "MAINTENANCE_ENTERED" and resp["data"]["draining"] is True
    wid = service.start(workflowName="jy.quick", inputs={"resolved": {}})["data"]["workflowId"]
    for _ in range(3):
        service.dispatch()
    assert service.getWorkflow(workflowId=wid)["data"]["status"] == "ENQUEUED"
    assert admin.maintenanceStatus()["message"] == "draining"
    assert admin.exitMaintenance()["code"] == "MAINTENANCE_EXITED"

    def finished():
        service.dispatch()
        return service.getWorkflow(workflowId=wid)["data"]["status"] == "SUCCESS"
    wait_for(finished, message="the run after exitMaintenance")


def test_a_startup_without_its_database_is_retried_by_the_timer(fake_system, pg_url):
    admin, service = _api()
    fake_system.fake.add_connection("Workflows", "postgresql://postgres@127.0.0.1:9/none")  # not reachable yet
    resp = admin.startGateway(database="Workflows", modules=["jy_workflows"], workers=2)
    assert resp["ok"] is False and resp["code"] == "DB_UNAVAILABLE", resp
    assert service.dispatch()["code"] == "DB_UNAVAILABLE"  # each tick tries to start again
    fake_system.fake.add_connection("Workflows", pg_url)  # the database comes up
    resp = service.dispatch()
    assert resp["code"] in ("DISPATCHED", "DISPATCH_BUSY"), resp
    status = admin.maintenanceStatus()["data"]
    assert status["executes"] is True and "jy.quick" in status["workflows"], status
    wid = service.start(workflowName="jy.quick", inputs={"resolved": {}})["data"]["workflowId"]

    def finished():
        service.dispatch()
        return service.getWorkflow(workflowId=wid)["data"]["status"] == "SUCCESS"
    wait_for(finished, message="the run once the database is back")
