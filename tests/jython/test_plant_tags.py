"""Plant I/O under Jython: memory tags and tag waits of the standalone host (JDBC), the demo reactor charge on
the simulated plant, and the Ignition host's tags through system.tag (readBlocking, writeBlocking, browse) of the
fake, with the gateway timer evaluating tag waits."""
import sys

from harness import fixture, wait_for, wait_status


@fixture
def standalone(db_url):
    """A started standalone-host engine with the demo workflows and this module's, and the simulated plant."""
    sys.modules.pop("jy_plant_workflows", None)
    import jy_plant_workflows  # noqa: F401

    from exchange.workflows.demo import plant
    from exchange.workflows.engine.engine import Engine, EngineConfig
    from exchange.workflows.host import hosts, runtime

    host = hosts.standalone_host(db_url, globals_map={})
    engine = Engine(host, EngineConfig(executor_id="jy-plant", tick_ms=100, workers=2,
                                       modules=["exchange.workflows.demo.workflows"]))
    runtime.install(engine)
    engine.start()
    plant.start(engine)
    yield engine
    engine.stop(grace_s=5.0)
    host.close()
    runtime.uninstall()


def _service():
    from exchange.workflows.api import service

    return service


def test_memory_tags_through_jdbc_are_created_by_a_write_and_case_insensitive(standalone):
    tags = standalone.host.tags
    assert [r["quality"] for r in tags.read([u"[default]JP/A"])] == [u"Bad_NotFound"]
    written = tags.write([u"[default]JP/A", u"JP/Folder/B", u"[default]"], [1.5, {u"lot": [1, 2]}, 3])
    assert [(r["good"], r["quality"]) for r in written] == [(True, u"Good"), (True, u"Good"), (False, u"Bad_NotFound")]
    read = tags.read([u"[DEFAULT]jp/a", u"[default]JP/Folder/B.Value"])
    assert [r["value"] for r in read] == [1.5, {u"lot": [1, 2]}] and read[0]["good"], read
    assert [(i["name"], i["tagType"]) for i in tags.browse(u"[default]JP")] == [(u"A", u"AtomicTag"),
                                                                              (u"Folder", u"Folder")]


def test_the_demo_reactor_charge_finishes_by_itself_on_the_simulated_plant(standalone):
    service = _service()
    wid = service.start(workflowName="demo.reactor_charge", inputs={"resolved": {"reactor": u"RJ",
                                                                                 "targetKg": 30.0}})["data"]["workflowId"]

    def parked():
        run = service.getWorkflow(workflowId=wid)["data"]
        return run if run["status"] == "WAITING" else None
    waiting = wait_for(parked, message="the charge to wait for the level")
    assert waiting["waitingFor"]["path"] == u"[default]Demo/RJ/Level", waiting["waitingFor"]
    assert standalone.kernel.active.size() == 0
    done = wait_status(service, wid)
    assert done["status"] == "SUCCESS", done
    assert abs(done["output"]["levelKg"] - 30.0) <= 0.05, done["output"]
    valve = standalone.host.tags.read([u"[default]Demo/RJ/InletValve"])[0]
    assert valve["value"] is False


def test_a_wait_past_its_timeout_and_tag_steps(standalone):
    service = _service()
    standalone.host.tags.write([u"[default]JP/Level"], [5.0])
    late = service.start(workflowName="jp.tank", inputs={"resolved": {"timeout": 0.4}})["data"]["workflowId"]
    done = wait_status(service, late)
    assert done["status"] == "ERROR" and done["error"]["type"] == "WaitTimeout", done
    assert done["error"]["lastValue"] == 5.0
    io = wait_status(service, service.start(workflowName="jp.io", inputs={"resolved": {}})["data"]["workflowId"])
    assert io["status"] == "SUCCESS", io
    assert io["output"]["confirmed"] == 12.5
    assert [(r["value"], r["quality"]) for r in io["output"]["read"]] == [(12.5, u"Good"), (None, u"Bad_NotFound")]


# -- the Ignition host: system.tag of the fake -------------------------------------------------------------------------

def test_the_ignition_tag_adapter_reads_writes_and_browses_through_system_tag(fake_system):
    from java.util import ArrayList, Date

    from exchange.workflows.host.ignition_tags import IgnitionTags, native

    tags = IgnitionTags(fake_system)
    written = tags.write([u"[default]Line1/Temp", u"[default]Line1/Sub/Mode"], [21.5, u"AUTO"])
    assert [(r["path"], r["quality"], r["good"]) for r in written] == [(u"[default]Line1/Temp", u"Good", True),
                                                                      (u"[default]Line1/Sub/Mode", u"Good", True)]
    read = tags.read([u"[default]Line1/Temp", u"[default]Line1/None"])
    assert (read[0]["value"], read[0]["quality"], read[0]["good"]) == (21.5, u"Good", True)
    assert isinstance(read[0]["timestamp"], (int, long)) and read[0]["timestamp"] > 0
    assert (read[1]["value"], read[1]["quality"], read[1]["good"]) == (None, u"Bad_NotFound", False)
    raw = fake_system.tag.readBlocking([u"[default]Line1/Temp"])[0]
    assert raw.quality.isGood() and raw.quality.getName() == u"Good" and raw.timestamp.getTime() > 0
    assert sorted([(i["name"], i["tagType"]) for i in tags.browse(u"[default]Line1")]) == [
        (u"Sub", u"Folder"), (u"Temp", u"AtomicTag")]
    assert [r["path"] for r in tags.tags_under(u"[default]Line1", 10)] == [u"[default]Line1/Sub/Mode",
                                                                            u"[default]Line1/Temp"]
    values = ArrayList()
    values.add(1)
    values.add(u"two")
    assert native(values) == [1, u"two"] and native(Date(1234)) == 1234 and native(float("nan")) is None


def test_the_gateway_timer_evaluates_tag_waits_with_system_tag(fake_system, pg_url):
    sys.modules.pop("jy_plant_workflows", None)
    import jy_plant_workflows

    from exchange.workflows.api import admin, service

    fake_system.fake.add_connection("Workflows", pg_url)
    assert admin.startGateway(modules=["jy_plant_workflows"], workers=2)["ok"]
    fake_system.tag.writeBlocking([u"[default]JP/Level"], [10.0])
    wid = service.start(workflowName="jp.tank", inputs={"resolved": {}})["data"]["workflowId"]

    def parked():
        service.dispatch()  # the gateway timer event
        return service.getWorkflow(workflowId=wid)["data"]["status"] == "WAITING"
    wait_for(parked, message="the run to wait for its tag")
    for _ in range(3):
        service.dispatch()
    assert service.getWorkflow(workflowId=wid)["data"]["status"] == "WAITING"
    assert [q.isGood() for q in fake_system.tag.writeBlocking([u"[default]JP/Level"], [64.0])] == [True]

    def finished():
        service.dispatch()
        return service.getWorkflow(workflowId=wid)["data"]["status"] == "SUCCESS"
    wait_for(finished, message="the run to continue after the tag changed")
    run = wait_status(service, wid)
    assert run["output"] == {"value": 64.0, "quality": u"Good", "condition": u"above 50.0"}, run["output"]
    steps = [(s["name"], s["status"]) for s in service.listSteps(workflowId=wid)["data"]["steps"]]
    assert steps == [(u"mark", u"SUCCESS"), (u"waitForTag:[default]JP/Level", u"SUCCESS"), (u"mark", u"SUCCESS")], steps
