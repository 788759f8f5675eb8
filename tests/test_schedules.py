"""Runs that start themselves, on PostgreSQL and SQLite: delayed starts, debounced bursts (durable and in memory),
schedules (fires, one run per fire time with two gateways, pause, trigger, backfill, missed fires, schedules
declared in code, who may change them) and the bad input of each."""
import time

from conftest import wait_for, wait_status
from exchange.workflows.api import admin, service
from exchange.workflows.engine import schedules
from exchange.workflows.util.clock import now_ms

SUPERVISOR = {"name": "sam", "roles": ["supervisor"]}
OPERATOR = {"name": "olga", "roles": ["operator"]}
ADMIN = {"name": "ada", "roles": ["admin"]}


def run(wid):
    return service.getWorkflow(workflowId=wid)["data"]


def schedule_runs(name):
    return [r for r in service.listRuns(workflowName="t.scheduled", limit=500)["data"]["runs"]
            if run(r["workflowId"]).get("scheduleName") == name]


# -- delayed starts -------------------------------------------------------------------------------------------------

def test_a_delayed_run_is_durable_at_once_and_not_claimed_before_its_time(engine):
    before = now_ms()
    resp = service.start(workflowName="t.linear", inputs={"resolved": {"steps": 1}}, delaySeconds=0.8)
    assert resp["code"] == "WORKFLOW_DELAYED", resp
    wid = resp["data"]["workflowId"]
    starts_at = resp["data"]["startsAt"]
    assert before + 800 <= starts_at <= now_ms() + 800
    shown = run(wid)
    assert (shown["status"], shown["startsAt"]) == ("DELAYED", starts_at)
    done = wait_status(wid)
    assert done["status"] == "SUCCESS"
    assert done["startedAt"] >= starts_at
    # claimed within a tick of its time (its timer, not the next full tick); the test tick is 50 ms
    assert done["startedAt"] - starts_at < 1000
    log = [e["value"] for e in service.readStream(workflowId=wid)["data"]["entries"]]
    assert log[0]["status"] == "DELAYED" and log[0]["startsAt"] == starts_at
    assert log[1]["status"] == "ENQUEUED"


def test_stop_and_cancel_end_a_delayed_run_at_once_and_hold_parks_it_when_its_time_comes(engine):
    stopped = service.start(workflowName="t.linear", delaySeconds=60)["data"]["workflowId"]
    cancelled = service.start(workflowName="t.linear", delaySeconds=60)["data"]["workflowId"]
    held = service.start(workflowName="t.linear", inputs={"resolved": {"steps": 2}}, delaySeconds=0.3)["data"][
        "workflowId"]
    assert service.sendCommand(workflowId=stopped, cmd="STOP", actor=SUPERVISOR)["ok"]
    assert service.cancel(workflowId=cancelled, actor=SUPERVISOR)["ok"]
    assert run(stopped)["status"] == "STOPPED" and run(cancelled)["status"] == "CANCELLED"
    assert service.sendCommand(workflowId=held, cmd="HOLD", actor=OPERATOR)["ok"]
    assert wait_status(held, "HELD")["phase"] == "HELD"
    assert service.listSteps(workflowId=held)["data"]["steps"] == []
    service.resume(workflowId=held, actor=OPERATOR)
    assert wait_status(held)["status"] == "SUCCESS"


def test_a_delayed_child_starts_at_its_time(engine):
    resp = service.start(workflowName="t.delayed_parent", inputs={"resolved": {"delay": 0.5}})
    out = wait_status(resp["data"]["workflowId"], timeout=20)["output"]
    child = run(out["child"])
    assert child["status"] == "SUCCESS"
    assert child["startedAt"] - child["createdAt"] >= 500


def test_bad_delays_answer_codes(engine):
    for value in (-1, "soon", 10 ** 9, True, float("nan")):
        resp = service.start(workflowName="t.linear", delaySeconds=value)
        assert (resp["ok"], resp["code"], resp["data"]["field"]) == (False, "INVALID_ARGUMENT", "delaySeconds"), value
    assert service.listRuns()["data"]["runs"] == []


# -- debounced starts -----------------------------------------------------------------------------------------------

def _burst(call, key, count, pause=0.0, **extra):
    answers = []
    for index in range(count):
        answers.append(call(workflowName="t.scheduled", debounceKey=key, inputs={"resolved": {"label": "%s-%d" % (
            key, index)}}, **extra))
        if pause:
            time.sleep(pause)
    return answers


def test_calls_with_one_key_collapse_into_one_run_with_the_last_inputs(engine):
    answers = _burst(service.startDebounced, "TT-101", 20, quietSeconds=0.4)
    other = _burst(service.startDebounced, "TT-102", 3, quietSeconds=0.4)
    assert [a["code"] for a in answers] == ["DEBOUNCE_STARTED"] + ["DEBOUNCE_JOINED"] * 19
    ids = set([a["data"]["workflowId"] for a in answers])
    assert len(ids) == 1
    wid = ids.pop()
    assert run(wid)["status"] in ("DELAYED", "ENQUEUED", "RUNNING", "SUCCESS")
    assert wait_status(wid)["output"]["label"] == "TT-101-19"
    assert wait_status(other[0]["data"]["workflowId"])["output"]["label"] == "TT-102-2"
    assert len(service.listRuns()["data"]["runs"]) == 2
    # after the burst ran, a new call starts a new burst
    again = service.startDebounced(workflowName="t.scheduled", debounceKey="TT-101", quietSeconds=0.2)
    assert again["code"] == "DEBOUNCE_STARTED" and again["data"]["workflowId"] != wid


def test_max_wait_starts_a_burst_that_never_goes_quiet(engine):
    first = now_ms()
    answers = _burst(service.startDebounced, "chatter", 30, pause=0.05, quietSeconds=0.5, maxWaitSeconds=0.6)
    ids = [a["data"]["workflowId"] for a in answers]
    # every call of the first burst moved its start on, but never past maxWait after its first call
    first_burst = [a["data"]["startsAt"] for a in answers if a["data"]["workflowId"] == ids[0]]
    assert len(first_burst) >= 5 and max(first_burst) <= first + 600 + 50
    assert wait_status(ids[0])["startedAt"] - first <= 600 + 1000
    assert len(set(ids)) >= 2  # later calls made a burst of their own once the first had started


def test_in_memory_debounce_makes_one_run_per_key_with_the_last_inputs(engine):
    answers = {}
    for index in range(300):
        key = "K%d" % (index % 10)
        resp = service.startDebouncedInMemory(workflowName="t.scheduled", debounceKey=key, quietSeconds=0.3,
                                              inputs={"resolved": {"label": "%s/%d" % (key, index)}})
        assert resp["ok"], resp
        answers.setdefault(key, set()).add(resp["data"]["workflowId"])
    assert all(len(ids) == 1 for ids in answers.values())
    for key, ids in sorted(answers.items()):
        wid = list(ids)[0]
        last = max(i for i in range(300) if "K%d" % (i % 10) == key)
        assert wait_status(wid)["output"]["label"] == "%s/%d" % (key, last)
    assert len(service.listRuns()["data"]["runs"]) == 10


def test_open_in_memory_bursts_are_written_at_a_clean_stop(make_engine):
    first = make_engine("mem-a")
    resp = service.startDebouncedInMemory(workflowName="t.scheduled", debounceKey="at-stop", quietSeconds=30)
    wid = resp["data"]["workflowId"]
    first.stop(grace_s=2.0)
    kept = first.store.get_run(wid)
    assert (kept["status"], kept["debounce_key"]) == ("DELAYED", "at-stop")


def test_bad_debounce_calls_answer_codes(engine):
    cases = [({"debounceKey": ""}, "debounceKey"), ({"debounceKey": "k", "quietSeconds": 0}, "quietSeconds"),
             ({"debounceKey": "k", "quietSeconds": -2}, "quietSeconds"),
             ({"debounceKey": "k", "quietSeconds": 5, "maxWaitSeconds": 1}, "maxWaitSeconds"),
             ({"debounceKey": "k", "quietSeconds": None}, "quietSeconds")]
    for call in (service.startDebounced, service.startDebouncedInMemory):
        for kwargs, field in cases:
            args = {"quietSeconds": 1}
            args.update(kwargs)
            resp = call(workflowName="t.scheduled", **args)
            assert (resp["code"], resp["data"].get("field")) == ("INVALID_ARGUMENT", field), (call, kwargs, resp)
        assert call(workflowName="t.nope", debounceKey="k", quietSeconds=1)["code"] == "UNKNOWN_WORKFLOW"
    assert service.listRuns()["data"]["runs"] == []


# -- schedules ------------------------------------------------------------------------------------------------------

def test_a_six_field_schedule_fires_every_second_with_its_fire_time_in_the_inputs(engine):
    resp = admin.createSchedule(scheduleName="every-second", workflowName="t.scheduled", cron="* * * * * *",
                                inputs={"label": "tick"})
    assert resp["code"] == "SCHEDULE_CREATED", resp
    assert resp["data"]["cronText"] == "every second"
    assert resp["data"]["nextFireAt"] % 1000 == 0
    wait_for(lambda: len([r for r in schedule_runs("every-second") if r["status"] == "SUCCESS"]) >= 3, timeout=10)
    admin.pauseSchedule(scheduleName="every-second")
    time.sleep(0.3)
    made = schedule_runs("every-second")
    for r in made:
        done = wait_status(r["workflowId"])
        out = done["output"]
        assert out["label"] == "tick"
        assert out["scheduledAt"] == done["scheduledAt"] and out["scheduledAt"] % 1000 == 0
        assert out["scheduled"] == {"scheduleName": "every-second", "scheduledAt": out["scheduledAt"],
                                    "trigger": "schedule"}
        assert done["startedAt"] - done["scheduledAt"] < 1000
        assert r["workflowId"] == schedules.fire_id("every-second", out["scheduledAt"])
    fires = sorted(run(r["workflowId"])["scheduledAt"] for r in made)
    assert len(set(fires)) == len(fires)
    assert all(b - a == 1000 for a, b in zip(fires, fires[1:]))
    time.sleep(1.5)
    assert len(schedule_runs("every-second")) == len(made)  # paused: no more fires
    listed = admin.listSchedules()["data"]["schedules"]
    shown = [s for s in listed if s["scheduleName"] == "every-second"][0]
    assert (shown["enabled"], shown["nextFireAt"]) == (False, None)
    assert shown["lastRun"]["scheduledAt"] == fires[-1]


def test_two_gateways_start_exactly_one_run_per_fire_time(make_engine):
    make_engine("sched-a")
    make_engine("sched-b")
    admin.createSchedule(scheduleName="shared", workflowName="t.scheduled", cron="* * * * * *")
    wait_for(lambda: len(schedule_runs("shared")) >= 4, timeout=12)
    admin.pauseSchedule(scheduleName="shared")
    fires = [run(r["workflowId"])["scheduledAt"] for r in schedule_runs("shared")]
    assert len(fires) == len(set(fires))
    executors = set(wait_status(r["workflowId"])["executorId"] for r in schedule_runs("shared"))
    assert executors <= set(["sched-a", "sched-b"])


def test_trigger_and_backfill(engine):
    admin.createSchedule(scheduleName="hourly", workflowName="t.scheduled", cron="0 * * * *", timezone="Europe/Berlin",
                         inputs={"label": "h"})
    trig = admin.triggerSchedule(scheduleName="hourly", actor=SUPERVISOR)
    assert trig["code"] == "SCHEDULE_TRIGGERED"
    out = wait_status(trig["data"]["workflowId"])["output"]
    assert out["scheduled"]["trigger"] == "manual"
    hour = 3600 * 1000
    start = (now_ms() // hour - 5) * hour
    first = admin.backfillSchedule(scheduleName="hourly", fromMs=start, toMs=start + 3 * hour, actor=ADMIN)
    assert first["code"] == "SCHEDULE_BACKFILLED", first
    assert first["data"]["fireTimes"] == [start, start + hour, start + 2 * hour, start + 3 * hour]
    assert len(first["data"]["workflowIds"]) == 4
    again = admin.backfillSchedule(scheduleName="hourly", fromMs=start, toMs=start + 3 * hour)
    assert again["data"]["workflowIds"] == [] and sorted(again["data"]["existing"]) == sorted(
        first["data"]["workflowIds"])
    for wid in first["data"]["workflowIds"]:
        assert wait_status(wid)["output"]["scheduled"]["trigger"] == "backfill"


def _miss(engine, name, fires_ago, step_ms):
    """As if every gateway had been down: the schedule's next fire lies `fires_ago` fires in the past."""
    due = (now_ms() // step_ms - fires_ago) * step_ms
    engine.store.schedules.update(name, {"next_fire_at": due}, now_ms())
    engine.schedules_changed()
    return due


def test_missed_fires_skip_or_catch_up_within_the_bound(make_engine):
    engine = make_engine(start=False)
    assert admin.migrate()["ok"]
    admin.createSchedule(scheduleName="skipper", workflowName="t.scheduled", cron="*/10 * * * * *")
    admin.createSchedule(scheduleName="catcher", workflowName="t.scheduled", cron="*/10 * * * * *",
                         missedPolicy="catchUp", catchUpLimit=3)
    _miss(engine, "skipper", 30, 10000)
    due = _miss(engine, "catcher", 30, 10000)
    engine.start()
    wait_for(lambda: len(schedule_runs("catcher")) >= 3, timeout=10)
    time.sleep(0.3)
    caught = sorted(run(r["workflowId"])["scheduledAt"] for r in schedule_runs("catcher"))
    # the three most recent missed fires, oldest first; nothing older than those
    assert len(caught) == 3 and caught[0] > due and all(b - a == 10000 for a, b in zip(caught, caught[1:]))
    # skip: none of the fires missed more than a few seconds ago ran
    assert all(run(r["workflowId"])["scheduledAt"] >= now_ms() - 20000 for r in schedule_runs("skipper"))
    assert len(schedule_runs("skipper")) <= 1


def test_a_schedule_declared_in_code_is_made_when_a_gateway_starts(engine):
    found = admin.getSchedule(scheduleName="t.new-year")
    assert found["ok"], found
    data = found["data"]
    assert (data["workflowName"], data["cron"], data["timezone"], data["source"]) == (
        "t.yearly", "0 0 1 1 *", "Europe/Berlin", "code")
    assert data["inputs"] == {"resolved": {"label": "new year"}}  # kept as start() takes them
    # midnight of 1 January in Berlin is 23:00 UTC on 31 December
    assert time.gmtime(data["nextFireAt"] / 1000.0)[1:5] == (12, 31, 23, 0)
    # an operator's pause is kept when the gateway starts again
    admin.pauseSchedule(scheduleName="t.new-year")
    engine.publish_definitions()
    assert admin.getSchedule(scheduleName="t.new-year")["data"]["enabled"] is False


def test_who_may_change_schedules_and_the_record_of_it(engine):
    denied = admin.createSchedule(scheduleName="nightly-cip", workflowName="t.scheduled", cron="0 2 * * *",
                                  actor=SUPERVISOR)
    assert denied["code"] == "FORBIDDEN"
    assert admin.getSchedule(scheduleName="nightly-cip")["code"] == "NOT_FOUND"
    made = admin.createSchedule(scheduleName="nightly-cip", workflowName="t.scheduled", cron="0 2 * * *",
                                timezone="America/Chicago", actor=ADMIN)
    assert made["ok"] and made["data"]["createdBy"] == "ada"
    assert admin.pauseSchedule(scheduleName="nightly-cip", actor=OPERATOR)["code"] == "FORBIDDEN"
    assert admin.pauseSchedule(scheduleName="nightly-cip", actor=SUPERVISOR)["code"] == "SCHEDULE_PAUSED"
    assert admin.resumeSchedule(scheduleName="nightly-cip", actor=SUPERVISOR)["data"]["enabled"] is True
    assert admin.deleteSchedule(scheduleName="nightly-cip", actor=OPERATOR)["code"] == "FORBIDDEN"
    changes = admin.listScheduleChanges(scheduleName="nightly-cip")["data"]["changes"]
    assert [(c["action"], c["actor"], c["verdict"]) for c in reversed(changes)] == [
        ("create", "sam", "FORBIDDEN"), ("create", "ada", "DONE"), ("pause", "olga", "FORBIDDEN"),
        ("pause", "sam", "DONE"), ("resume", "sam", "DONE"), ("delete", "olga", "FORBIDDEN")]
    assert admin.deleteSchedule(scheduleName="nightly-cip", actor=SUPERVISOR)["code"] == "SCHEDULE_DELETED"
    assert admin.getSchedule(scheduleName="nightly-cip")["code"] == "NOT_FOUND"


def test_bad_schedules_answer_codes_and_store_nothing(engine):
    base = {"scheduleName": "s1", "workflowName": "t.scheduled", "cron": "*/5 * * * *"}

    def create(**change):
        args = dict(base)
        args.update(change)
        return admin.createSchedule(**args)

    bad_cron = create(cron="61 * * * *")
    assert (bad_cron["code"], bad_cron["data"]["field"]) == ("INVALID_ARGUMENT", "cron")
    assert "minute" in bad_cron["message"]
    assert create(cron="* * *")["data"]["field"] == "cron"
    assert create(cron=None)["data"]["field"] == "cron"
    zone = create(timezone="Mars/Olympus_Mons")
    assert (zone["code"], zone["data"]["field"]) == ("INVALID_ARGUMENT", "timezone")
    assert create(missedPolicy="sometimes")["data"]["field"] == "missedPolicy"
    assert create(workflowName="t.nope")["code"] == "UNKNOWN_WORKFLOW"
    assert create(queueName="t.undeclared")["code"] == "UNKNOWN_QUEUE"
    assert create(inputs={"nope": 1})["code"] == "INVALID_ARGUMENT"
    assert create(scheduleName="")["data"]["field"] == "scheduleName"
    assert create(catchUpLimit=0)["data"]["field"] == "catchUpLimit"
    assert [s for s in admin.listSchedules()["data"]["schedules"] if s["scheduleName"] == "s1"] == []
    assert create()["ok"]
    duplicate = create(cron="0 * * * *")
    assert duplicate["code"] == "SCHEDULE_EXISTS"
    assert admin.getSchedule(scheduleName="s1")["data"]["cron"] == "*/5 * * * *"
    for call in (admin.getSchedule, admin.pauseSchedule, admin.resumeSchedule, admin.deleteSchedule,
                 admin.triggerSchedule):
        assert call(scheduleName="no-such")["code"] == "NOT_FOUND", call
    assert admin.backfillSchedule(scheduleName="s1", fromMs=10, toMs=5)["data"]["field"] == "toMs"
    assert admin.backfillSchedule(scheduleName="s1", fromMs=0, toMs=10 ** 12)["data"]["field"] == "toMs"
