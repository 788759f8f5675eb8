"""Schedules across real gateways (Jython + JDBC) sharing PostgreSQL: one run per fire time while a gateway is
killed and restarted, and the fires of the minute in which the killed one held the schedule's lock."""
import time

from multi.cluster import now_ms
from multi.fixtures import cluster  # noqa: F401 - a fixture

from exchange.workflows.api import admin


def _fires(cluster, name):
    return [(int(r[0]), r[1]) for r in cluster.query(
        "SELECT scheduled_at, workflow_uuid FROM workflows.workflow_status WHERE schedule_name = %s "
        "ORDER BY scheduled_at", (name,))]


def test_three_gateways_one_killed_and_restarted_start_exactly_one_run_per_fire(cluster):
    gws = cluster.launch(["gw1", "gw2", "gw3"], lease_ms=3000, tick_ms=1000)
    resp = admin.createSchedule(scheduleName="every-second", workflowName="m.quick", cron="* * * * * *",
                                inputs={"label": "tick"})
    assert resp["ok"], resp
    first = resp["data"]["nextFireAt"]
    cluster.wait(lambda: len(_fires(cluster, "every-second")) >= 4, 30, "the first fires")
    gws[0].kill9()
    time.sleep(3)
    gws[0].spawn()
    cluster.wait_ready([gws[0]])
    time.sleep(3)
    assert admin.pauseSchedule(scheduleName="every-second")["ok"]
    paused_at = now_ms()
    time.sleep(1.5)
    fires = _fires(cluster, "every-second")
    times = [t for t, _ in fires]
    assert len(times) == len(set(times)), "a fire time has two runs"
    # every second from the first fire to the pause has its run: none was lost with the killed gateway
    assert times[0] == first
    assert times == list(range(first, times[-1] + 1, 1000)), "fire times are missing: %s" % times
    assert times[-1] >= paused_at - 2000
    runs = cluster.wait_finished([w for _, w in fires], timeout=120)
    assert set(r["status"] for r in runs.values()) == set(["SUCCESS"])
    assert len(set(r["executor_id"] for r in runs.values())) >= 2
