"""Runs that start themselves, under Jython through JDBC on PostgreSQL and SQLite: a delayed start, durable and
in-memory debounced bursts, and a six-field schedule firing every second in a time zone with the Java zone rules."""
import time

from harness import wait_for, wait_status
from test_engine import gateway  # noqa: F401 - a fixture


def _apis():
    from exchange.workflows.api import admin, service

    return admin, service


def test_a_delayed_start_waits_for_its_time(gateway):
    gateway()
    _, service = _apis()
    resp = service.start(workflowName="je.steps", inputs={"resolved": {"count_": 1}}, delaySeconds=0.5)
    assert resp["code"] == "WORKFLOW_DELAYED", resp
    assert service.getWorkflow(workflowId=resp["data"]["workflowId"])["data"]["status"] == "DELAYED"
    run = wait_status(service, resp["data"]["workflowId"])
    assert run["status"] == "SUCCESS" and run["startedAt"] >= resp["data"]["startsAt"], run


def test_debounced_bursts_make_one_run_each_with_the_last_inputs(gateway):
    gateway()
    _, service = _apis()
    durable = [service.startDebounced(workflowName="je.scheduled", debounceKey=u"LT-1", quietSeconds=0.3,
                                      inputs={"resolved": {"label": u"d%d" % i}}) for i in range(20)]
    memory = [service.startDebouncedInMemory(workflowName="je.scheduled", debounceKey=u"LT-2", quietSeconds=0.3,
                                             inputs={"resolved": {"label": u"m%d" % i}}) for i in range(200)]
    for answers, last in ((durable, u"d19"), (memory, u"m199")):
        ids = set([a["data"]["workflowId"] for a in answers])
        assert len(ids) == 1, answers[-1]
        assert wait_status(service, ids.pop())["output"]["label"] == last
    assert len(service.listRuns()["data"]["runs"]) == 2


def test_a_six_field_schedule_fires_every_second(gateway):
    gateway()
    admin, service = _apis()
    resp = admin.createSchedule(scheduleName=u"jy-every-second", workflowName="je.scheduled", cron=u"* * * * * *",
                                timezone=u"America/Chicago", inputs={"label": u"tick"})
    assert resp["code"] == "SCHEDULE_CREATED", resp
    assert resp["data"]["nextFireAt"] % 1000 == 0

    def fired():
        runs = service.listRuns(workflowName="je.scheduled", status=["SUCCESS"])["data"]["runs"]
        return runs if len(runs) >= 2 else None
    runs = wait_for(fired, timeout=15)
    admin.pauseSchedule(scheduleName=u"jy-every-second")
    for row in runs:
        done = service.getWorkflow(workflowId=row["workflowId"])["data"]
        assert done["output"]["scheduledAt"] == done["scheduledAt"], done
        assert done["output"]["scheduled"]["scheduleName"] == u"jy-every-second"
    assert admin.createSchedule(scheduleName=u"jy-bad", workflowName="je.scheduled", cron=u"* 25 * * *")[
        "data"]["field"] == "cron"
    assert admin.createSchedule(scheduleName=u"jy-bad", workflowName="je.scheduled", cron=u"* * * * *",
                                timezone=u"Nowhere/Town")["data"]["field"] == "timezone"
