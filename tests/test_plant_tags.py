"""Tag steps and durable waits on plant state, on PostgreSQL and SQLite, with the memory tags of the database:
waits that hold no worker thread, one batched read per evaluation, the reading recorded so replay takes the same
branch, timeouts and bad quality, commands to waiting runs, gateways that stop, sleeps that park, and the source
project's names."""
import time

import pytest

import workflows_for_tests as wft
import workflows_source_project as sp
from conftest import wait_for, wait_status
from exchange.workflows.api import service

LEVEL = "[default]T/Level"


def start(name, **params):
    resp = service.start(workflowName=name, inputs={"resolved": params})
    assert resp["code"] == "WORKFLOW_ENQUEUED", resp
    return resp["data"]["workflowId"]


def run(wid):
    return service.getWorkflow(workflowId=wid)["data"]


def waiting(wid, timeout=10):
    return wait_for(lambda: run(wid) if run(wid)["status"] == "WAITING" else None, timeout=timeout,
                    message="run %s to wait" % wid)


def steps_of(wid):
    return [(s["name"], s["kind"], s["status"]) for s in service.listSteps(workflowId=wid)["data"]["steps"]]


def ran(wid, name):
    return wft.ATTEMPTS.get((wid, name), 0)


class CountingTags(object):
    """The engine's own memory tags, counting the batched reads made through them."""

    def __init__(self, inner):
        self.inner = inner
        self.reads = []

    def read(self, paths):
        self.reads.append(list(paths))
        return self.inner.read(paths)

    def write(self, paths, values):
        return self.inner.write(paths, values)

    def browse(self, path):
        return self.inner.browse(path)

    def tags_under(self, folder, limit):
        return self.inner.tags_under(folder, limit)


def test_a_waiting_run_holds_no_worker_and_continues_with_the_reading_that_released_it(engine):
    engine.host.tags.write([LEVEL], [20])
    wid = start("t.tank", path=LEVEL, above=50)
    parked = waiting(wid)
    assert parked["phase"] == "WAITING"
    what = parked["waitingFor"]
    assert (what["operation"], what["path"], what["condition"], what["lastValue"]) == ("waitForTag", LEVEL,
                                                                                         "above 50", 20)
    assert engine.kernel.active.size() == 0
    engine.host.tags.write([LEVEL], [120])
    done = wait_status(wid)
    assert done["status"] == "SUCCESS", done
    assert done["output"]["branch"] == "high"
    seen = done["output"]["seen"]
    assert (seen["path"], seen["value"], seen["quality"], seen["condition"]) == (LEVEL, 120, "Good", "above 50")
    assert steps_of(wid) == [("count", "step", "SUCCESS"), ("waitForTag:" + LEVEL, "wait", "SUCCESS"),
                             ("count", "step", "SUCCESS")]
    recorded = service.listSteps(workflowId=wid)["data"]["steps"][1]["output"]
    assert recorded == seen
    assert (ran(wid, "count-0"), ran(wid, "count-1")) == (1, 1)


@pytest.mark.parametrize("condition, before, after", [
    ({"equals": 80.0, "tolerance": 0.5}, 79.0, 80.4),
    ({"equals": "RUNNING"}, "IDLE", "RUNNING"),
    ({"below": 10}, 50, 9.5),
    ({"changes": True}, 7, 8),
    ({"equals": True}, False, 1),
])
def test_each_condition_releases_the_wait_when_it_holds(engine, condition, before, after):
    engine.host.tags.write([LEVEL], [before])
    wid = start("t.tank", path=LEVEL, **condition)
    waiting(wid)
    time.sleep(0.2)  # a few evaluations that must not release it
    assert run(wid)["status"] == "WAITING"
    engine.host.tags.write([LEVEL], [after])
    done = wait_status(wid)
    assert done["status"] == "SUCCESS" and done["output"]["seen"]["value"] == after, done


def test_a_condition_that_already_holds_does_not_park(engine):
    engine.host.tags.write([LEVEL], [500])
    wid = start("t.tank", path=LEVEL, above=50)
    done = wait_status(wid)
    assert done["status"] == "SUCCESS" and done["output"]["seen"]["value"] == 500
    history = [h["value"] for h in service.getWorkflow(workflowId=wid, includeHistory=True)["data"]["eventHistory"]
               if h["key"] == "status"]
    assert "WAITING" not in history


def test_a_wait_past_its_timeout_raises_wait_timeout_with_the_last_value_and_replays_it_as_such(engine):
    engine.host.tags.write([LEVEL], [3])
    began = time.time()
    wid = start("t.tank", path=LEVEL, above=50, timeout=0.6, nap=1.1)
    parked = wait_for(lambda: run(wid) if (run(wid)["waitingFor"] or {}).get("operation") == "sleep" else None,
                      timeout=10, message="the except-branch's sleep")
    assert parked["status"] == "WAITING"
    engine.host.tags.write([LEVEL], [80])  # too late: the recorded timeout decides the replay
    done = wait_status(wid)
    # the run woke from its sleep and replayed past the wait: the recorded error was raised again as WaitTimeout
    assert done["output"] == {"caught": "WaitTimeout", "path": LEVEL, "lastValue": 3, "quality": None}
    assert time.time() - began < 8
    assert (ran(wid, "count-0"), ran(wid, "count-2"), ran(wid, "count-1")) == (1, 1, 0)
    wait_step = [s for s in service.listSteps(workflowId=wid)["data"]["steps"] if s["kind"] == "wait"][0]
    assert wait_step["error"]["type"] == "WaitTimeout" and wait_step["error"]["lastValue"] == 3


def test_bad_quality_raises_tag_quality_bad_unless_good_quality_is_not_required(engine):
    missing = "[default]T/NeverWritten"
    wid = start("t.tank", path=missing, above=50)
    done = wait_status(wid)
    assert done["output"] == {"caught": "TagQualityBad", "path": missing, "lastValue": None,
                              "quality": "Bad_NotFound"}
    lenient = start("t.tank", path=missing, above=50, requireGood=False)
    waiting(lenient)
    engine.host.tags.write([missing], [60])
    assert wait_status(lenient)["output"]["seen"]["value"] == 60


def test_a_tag_gone_bad_while_runs_wait_releases_them_with_tag_quality_bad(engine):
    from exchange.workflows.host.memory_tags import normalize

    engine.host.tags.write([LEVEL], [1])
    wid = start("t.tank", path=LEVEL, above=50)
    waiting(wid)
    key = normalize(LEVEL)[1]
    engine.host.tags.table.put([(key, LEVEL, "1", "Bad_Stale", 1)])  # the device stopped answering
    done = wait_status(wid)
    assert done["output"]["caught"] == "TagQualityBad" and done["output"]["quality"] == "Bad_Stale"


def test_the_recorded_reading_decides_the_branch_when_the_run_replays_past_the_wait(engine):
    engine.host.tags.write([LEVEL], [0])
    wid = start("t.tank_then_nap", path=LEVEL, above=50, nap=1.2)
    waiting(wid)
    engine.host.tags.write([LEVEL], [150])
    wait_for(lambda: (run(wid)["waitingFor"] or {}).get("operation") == "sleep", timeout=10,
             message="the run to sleep (parked) after the wait")
    engine.host.tags.write([LEVEL], [60])  # changed again before the run wakes and replays past the wait
    done = wait_status(wid)
    assert done["output"] == {"value": 150, "branch": "high"}
    assert (ran(wid, "count-0"), ran(wid, "count-1")) == (1, 1)
    assert int(service.getWorkflow(workflowId=wid)["data"]["runCount"]) >= 3  # it replayed twice


def test_hold_stop_and_cancel_apply_to_a_waiting_run_at_once(engine):
    engine.host.tags.write([LEVEL], [0])
    held = start("t.tank", path=LEVEL, above=50)
    stopped = start("t.tank", path=LEVEL, above=50)
    cancelled = start("t.tank", path=LEVEL, above=50)
    for wid in (held, stopped, cancelled):
        waiting(wid)
    assert service.sendCommand(workflowId=held, cmd="HOLD", reason="check the valve")["code"] == "COMMAND_ACCEPTED"
    assert service.sendCommand(workflowId=stopped, cmd="STOP", reason="batch aborted")["code"] == "COMMAND_ACCEPTED"
    assert service.cancel(workflowId=cancelled)["ok"]
    assert run(cancelled)["status"] == "CANCELLED"
    wait_for(lambda: run(held)["status"] == "HELD", timeout=5, message="the HOLD")
    assert wait_status(stopped, timeout=5)["status"] == "STOPPED"
    engine.host.tags.write([LEVEL], [99])  # while held: nothing runs
    time.sleep(0.3)
    assert run(held)["status"] == "HELD"
    assert service.sendCommand(workflowId=held, cmd="RESUME")["code"] == "COMMAND_ACCEPTED"
    done = wait_status(held)
    assert done["status"] == "SUCCESS" and done["output"]["seen"]["value"] == 99
    assert ran(held, "count-0") == 1


def test_many_waits_are_evaluated_with_one_batched_read_and_no_worker(make_engine):
    engine = make_engine(tick_ms=200)
    counting = CountingTags(engine.host.tags)
    engine.host.tags = counting
    paths = ["[default]Many/Tank%02d/Level" % i for i in range(20)]
    counting.write(paths, [0] * len(paths))
    ids = [start("t.tank", path=p, above=10) for p in paths]
    for wid in ids:
        waiting(wid)
    assert engine.kernel.active.size() == 0
    before = len(counting.reads)
    time.sleep(0.7)
    evaluations = counting.reads[before:]
    assert evaluations and all(sorted(batch) == sorted(paths) for batch in evaluations)
    assert len(evaluations) <= 6  # one batched read per tick, not one per run
    counting.write(paths[:5], [11] * 5)
    for wid in ids[:5]:
        assert wait_status(wid)["status"] == "SUCCESS"
    time.sleep(0.3)
    assert all(run(wid)["status"] == "WAITING" for wid in ids[5:])


def test_poll_seconds_shorter_than_the_tick_evaluates_sooner(make_engine):
    engine = make_engine(tick_ms=5000)
    engine.host.tags.write(["[default]T/Fast"], [False])
    wid = start("t.poller", path="[default]T/Fast", poll=0.1)
    wait_for(lambda: run(wid)["status"] == "WAITING", timeout=15)
    time.sleep(0.3)
    written = time.time()
    engine.host.tags.write(["[default]T/Fast"], [True])
    assert wait_status(wid, timeout=10)["status"] == "SUCCESS"
    assert time.time() - written < 2.5  # far sooner than the next 5 s tick


def test_a_waiting_run_survives_its_gateway_stopping_and_another_gateway_releases_it(make_engine):
    first = make_engine(executor_id="gw-a", tick_ms=100)
    first.host.tags.write([LEVEL], [0])
    wid = start("t.tank", path=LEVEL, above=50)
    waiting(wid)
    first.stop()
    second = make_engine(executor_id="gw-b", tick_ms=100)
    second.host.tags.write([LEVEL], [77])
    done = wait_status(wid)
    assert done["status"] == "SUCCESS" and done["output"]["seen"]["value"] == 77
    assert ran(wid, "count-0") == 1


def test_a_long_sleep_parks_the_run_and_commands_reach_it(engine):
    napping = start("t.napper", seconds=1.5)
    parked = waiting(napping)
    assert parked["waitingFor"]["operation"] == "sleep"
    assert engine.kernel.active.size() == 0
    began = time.time()
    done = wait_status(napping)
    assert done["status"] == "SUCCESS" and time.time() - began < 3
    held = start("t.napper", seconds=30)
    waiting(held)
    assert service.sendCommand(workflowId=held, cmd="HOLD")["code"] == "COMMAND_ACCEPTED"
    wait_for(lambda: run(held)["status"] == "HELD", timeout=5)
    assert service.sendCommand(workflowId=held, cmd="STOP")["code"] == "COMMAND_ACCEPTED"
    assert wait_status(held, timeout=5)["status"] == "STOPPED"


def test_write_confirm_read_and_write_are_steps_recorded_once(engine):
    wid = start("t.charge", reactor="R1", target=50.0)
    done = wait_status(wid)
    assert done["status"] == "SUCCESS", done
    assert done["output"] == {"confirmed": 50.0, "read": [[50.0, "Good"], [None, "Bad_NotFound"]]}
    assert [s[0] for s in steps_of(wid)] == ["tags.write", "waitForTag:[default]Plant/R1/Setpoint", "tags.read",
                                            "tags.write"]
    assert engine.host.tags.read(["[default]plant/r1/DONE"])[0]["value"] is True  # paths are case-insensitive


def test_write_confirm_against_a_feedback_nobody_writes_raises_confirm_timeout(engine):
    engine.host.tags.write(["[default]Plant/Valve/Fb"], [False])
    done = wait_status(start("t.confirm_elsewhere", timeout=0.5))
    assert done["output"] == {"caught": "ConfirmTimeout", "path": "[default]Plant/Valve/Fb", "value": True,
                              "lastValue": False, "lastQuality": "Good"}


def test_a_bad_write_raises_tag_write_failed_and_require_good_reads_raise_tag_quality_bad(engine):
    failing = start("t.tag_io", paths=["[default]Ok/A", "[default]"], values=[1, 2])
    bad = wait_status(failing)["output"]
    assert bad == {"caught": "TagWriteFailed", "path": "[default]", "quality": "Bad_NotFound"}
    write_step = service.listSteps(workflowId=failing)["data"]["steps"][0]
    assert (write_step["name"], write_step["status"], write_step["error"]["type"]) == ("tags.write", "ERROR",
                                                                                        "TagWriteFailed")
    fine = wait_status(start("t.tag_io", paths=["[default]Ok/A", "[default]Ok/B"], values=[1, {"x": [1, 2]}]))
    assert [r["value"] for r in fine["output"]["read"]] == [1, {"x": [1, 2]}]
    strict = wait_status(start("t.tag_io", paths="[default]Ok/C", values=5, requireGood=True))["output"]
    assert strict["read"]["value"] == 5
    engine.host.tags.table.put([("[default]ok/c", "[default]Ok/C", "5", "Bad_Stale", 1)])
    stale = engine.host.tags.read(["[default]Ok/C"])[0]
    assert (stale["good"], stale["quality"]) == (False, "Bad_Stale")


@pytest.mark.parametrize("kind, field", [("two", "condition"), ("none", "condition"), ("path", "path"),
                                         ("words", "above")])
def test_a_wait_with_bad_arguments_ends_the_run_with_a_clear_error(engine, kind, field):
    done = wait_status(start("t.bad_wait", kind=kind))
    assert done["status"] == "ERROR" and done["error"]["type"] == "InvalidArgument", done
    assert field in done["error"]["message"] or field == "condition"


def test_a_source_project_workflow_runs_unchanged(engine):
    import uuid

    base = "[default]SP/R9/"
    batch = "B-%s" % uuid.uuid4().hex[:8]
    wid = start("sp.reactor", batch=batch, reactor="R9")
    def parked_on_ready():
        found = run(wid)
        assert found["status"] not in ("ERROR", "SUCCESS"), found
        return found if found["status"] == "WAITING" and found["waitingFor"]["operation"] == "waitForTag" else None
    parked = wait_for(parked_on_ready, timeout=20, message="the source project's wait to park")
    assert parked["waitingFor"]["path"] == base + "Ready"
    assert engine.kernel.active.size() == 0  # its until_tag_equals holds no worker thread
    assert service.sendCommand(workflowId=wid, cmd="RESET", reason="operator reset")["code"] == "COMMAND_ACCEPTED"
    engine.host.tags.write([base + "Ready"], [True])
    done = wait_status(wid, timeout=20)
    assert done["status"] == "SUCCESS", done
    assert done["output"]["mode"] == "AUTO" and done["output"]["ready"] is True
    assert done["output"]["command"] == {"cmd": "RESET", "message": "operator reset", "priority": 1}
    assert sp.CALLS.count(("prepare", batch)) == 2  # failed once, retried by the step options
    kinds = [(s["name"], s["kind"]) for s in service.listSteps(workflowId=wid)["data"]["steps"]]
    assert ("sleep", "sleep") in kinds and ("waitForTag:" + base + "Ready", "wait") in kinds
