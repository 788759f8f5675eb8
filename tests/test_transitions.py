"""The store's run transitions against the table they are built from, on PostgreSQL and SQLite.

Each transition is tried on a run in every status: it must change the run exactly when the status is one the
table names as a source (and the write is its owner's), and the records it writes must have the shapes of
store/records.py, including the ones PostgreSQL builds in SQL.
"""
import json
import re

import pytest

import workflows_for_tests  # noqa: F401 - registers the t.* workflows
from exchange.workflows.api import service
from exchange.workflows.store import records
from exchange.workflows.store.records import Records, status_entry
from exchange.workflows.store.statuses import ALL, HELD, RUNNING
from exchange.workflows.store.transitions import TRANSITIONS, Fence
from exchange.workflows.util.clock import now_ms

EXECUTOR = "gw-t"
RUN_COUNT = 3


@pytest.fixture
def idle(make_engine):
    engine = make_engine(executor_id=EXECUTOR, start=False)
    engine.prepare()
    return engine


def a_run(engine, status, executor=EXECUTOR, run_count=RUN_COUNT):
    wid = service.start(workflowName="t.linear", inputs={"resolved": {"steps": 1}})["data"]["workflowId"]
    engine.store.db.execute("UPDATE workflows.workflow_status SET status = ?, executor_id = ?, run_count = ?, "
                            "debounce_key = 'k' WHERE workflow_uuid = ?", (status, executor, run_count, wid))
    return wid


def status_of(engine, wid):
    return engine.store.get_run(wid)["status"]


FENCE = Fence(EXECUTOR, RUN_COUNT)
AWAITED = "0f4d1b4e-2f3a-4c9e-9d7e-1234567890ab"
ERROR = {"type": "Boom", "message": "it broke", "traceback": ""}
# each transition applied to one run: (name, function(transitions, wid, status)); returns True when it matched
APPLY = {
    "begin": lambda t, wid, status: t.begin(wid, EXECUTOR, 1, False, now_ms()) is not None,
    "change_phase": lambda t, wid, status: t.change_phase(wid, FENCE, "HOLDING", now_ms(), Records()),
    "park": lambda t, wid, status: t.park(wid, FENCE, now_ms(), "held", Records(), "RUNNING"),
    "hand_back": lambda t, wid, status: t.hand_back(wid, FENCE, now_ms(), "reload", Records()),
    "finish": lambda t, wid, status: t.finish(wid, FENCE, "ERROR", "ABORTED", now_ms(), "boom", Records(), "RUNNING",
                                              error=ERROR),
    "give_up": lambda t, wid, status: t.give_up(wid, EXECUTOR, now_ms(), ERROR),
    "expire_parked": lambda t, wid, status: t.expire_parked(wid, now_ms(), ERROR),
    "release_begun": lambda t, wid, status: t.release_begun({"workflow_uuid": wid, "run_count": RUN_COUNT}, EXECUTOR,
                                                            now_ms(), "no worker"),
    "adopt": lambda t, wid, status: t.adopt(wid, "gw-new", 1, EXECUTOR, now_ms(), recovery=True) is not None,
    "release_claim": lambda t, wid, status: t.release_claim(wid, EXECUTOR, now_ms()) == 1,
    "claim_held": lambda t, wid, status: wid in t.claim_held(EXECUTOR, 1, 10, now_ms(), ("RESUME",)),
    "wait": lambda t, wid, status: t.wait(wid, FENCE, now_ms(), 7, [AWAITED], "any", None, {"operation": "await"},
                                          "waiting", Records(), "RUNNING"),
    "wake": lambda t, wid, status: t.wake(wid, now_ms()),
    "release_tag_wait": lambda t, wid, status: wid in t.release_tag_waits([{
        "workflow_uuid": wid, "function_id": 7, "name": "waitForTag:[default]T", "status": "SUCCESS", "output": "1",
        "error": None, "started_at": 1}], now_ms()),
    "claim_woken": lambda t, wid, status: wid in t.claim_woken(EXECUTOR, 1, 10, now_ms() + 1),
    "release_delayed": lambda t, wid, status: t.release_delayed(wid, now_ms()) is not None,
    "debounce": lambda t, wid, status: t.debounce(_burst_call(t), 1000, None, now_ms())[:2] == ("joined", wid),
    "end_at_once": None,  # judged inside the command's transaction: see the test below
}


def _burst_call(transitions):
    """A later call of the burst with key "k" of t.linear (a_run gives every run that key)."""
    from exchange.workflows.engine import starts
    from exchange.workflows.host import runtime

    row = starts.prepare(runtime.engine(), "t.linear", {"resolved": {"steps": 2}}, use_database=False)
    row["debounce_key"] = "k"
    return row
TABLE = dict((t.name, t) for t in TRANSITIONS)


@pytest.mark.parametrize("name", sorted(n for n in APPLY if APPLY[n] is not None))
def test_each_transition_changes_a_run_exactly_from_the_statuses_of_its_table_row(idle, name):
    row = TABLE[name]
    for status in ALL:
        wid = a_run(idle, status)
        if name == "claim_held":
            service.sendCommand(workflowId=wid, cmd="RESUME") if status == HELD else None
        if name == "release_delayed":
            idle.store.db.execute("UPDATE workflows.workflow_status SET wake_at = ? WHERE workflow_uuid = ?",
                                  (now_ms() - 1, wid))
        if name == "release_tag_wait":
            idle.store.db.execute("UPDATE workflows.workflow_status SET wait_mode = 'tag', wait_fid = 7 WHERE "
                                  "workflow_uuid = ?", (wid,))
        if name == "claim_woken" and status == "WAITING":
            idle.store.db.execute("UPDATE workflows.workflow_status SET wake_at = ? WHERE workflow_uuid = ?",
                                  (now_ms(), wid))
        matched = APPLY[name](idle.store.transitions, wid, status)
        assert bool(matched) == (status in row.sources), (name, status)
        after = status_of(idle, wid)
        if matched:
            assert after in row.targets, (name, status, after)
        else:
            assert after == status, (name, status, after)


@pytest.mark.parametrize("name", ["change_phase", "park", "hand_back", "finish", "release_begun"])
def test_a_write_of_an_execution_the_run_moved_on_from_changes_nothing(idle, name):
    for executor, run_count in ((EXECUTOR, RUN_COUNT + 1), ("gw-other", RUN_COUNT)):
        wid = a_run(idle, RUNNING, executor=executor, run_count=run_count)
        assert not APPLY[name](idle.store.transitions, wid, RUNNING)
        run = idle.store.get_run(wid)
        assert (run["status"], run["executor_id"], run["run_count"]) == (RUNNING, executor, run_count)


def test_the_owner_column_of_the_table_names_who_may_write(idle):
    for name, row in TABLE.items():
        assert row.owner, name
        assert row.sources or name in ("enqueue", "start_child")
        assert row.targets


def test_a_finish_writes_its_events_log_and_supersedes_pending_commands_in_one_change(idle):
    wid = a_run(idle, RUNNING)
    service.sendCommand(workflowId=wid, cmd="RESET")
    now = now_ms()
    waiting = Records().log(records.step_started_entry("s", 1, now - 5), now - 5)
    assert idle.store.transitions.finish(wid, FENCE, "SUCCESS", "COMPLETE", now, None, waiting, "RUNNING",
                                         output='{"ok": true}')
    run = service.getWorkflow(workflowId=wid, includeHistory=True)["data"]
    assert (run["status"], run["phase"], run["output"], run["completedAt"]) == ("SUCCESS", "COMPLETE", {"ok": True}, now)
    assert [(h["key"], h["value"]) for h in run["eventHistory"]][-2:] == [("status", "SUCCESS"), ("phase", "COMPLETE")]
    log = [e["value"] for e in service.readStream(workflowId=wid)["data"]["entries"]]
    assert log[-2]["kind"] == "step" and log[-1] == json.loads(status_entry("SUCCESS", now, reason=None))
    assert [c["state"] for c in service.listCommands(workflowId=wid)["data"]["commands"]] == ["SUPERSEDED"]


def test_a_stop_sent_to_a_queued_run_ends_it_at_once_with_the_entries_of_the_records_module(idle):
    wid = service.start(workflowName="t.linear", inputs={"resolved": {"steps": 1}})["data"]["workflowId"]
    resp = service.sendCommand(workflowId=wid, cmd="STOP", reason="not today")
    assert resp["code"] == "COMMAND_ACCEPTED" and status_of(idle, wid) == "STOPPED"
    log = service.readStream(workflowId=wid)["data"]["entries"]
    at = log[-1]["at"]
    command = service.listCommands(workflowId=wid)["data"]["commands"][0]
    row = {"id": command["id"], "cmd": "STOP", "actor": "system", "reason": "not today"}
    why = command["outcomeReason"]
    assert [e["value"] for e in log[1:]] == [json.loads(t) for t in (
        records.command_entry(row, "APPLIED", why, at), records.phase_entry("STOPPED", at),
        status_entry("STOPPED", at, reason=why))]


def test_the_claim_and_the_in_memory_flush_write_the_status_entries_the_records_module_defines(idle):
    """PostgreSQL builds these two entries in SQL (claim_and_begin, the packed insert): the text must be the
    same as records.status_entry's, key order included."""
    from exchange.workflows.engine import starts

    wid = service.start(workflowName="t.linear", inputs={"resolved": {"steps": 1}}, actor="olga")["data"]["workflowId"]
    begun = idle.store.transitions.claim_and_begin("default", EXECUTOR, 1, 5, now_ms())
    assert [b["workflow_uuid"] for b in begun] == [wid]
    stored = idle.store.read_stream(wid, "log")
    at = int(stored[1]["createdAt"])
    assert stored[1]["value"] == status_entry(RUNNING, at, executor=EXECUTOR)

    row = starts.prepare(idle, "t.linear", {"resolved": {"steps": 1}}, createdBy="otto", use_database=False)
    now = now_ms()
    assert idle.store.transitions.enqueue_packed([starts.pack(row)], now) == [(row["workflow_uuid"], "default")]
    entry = idle.store.read_stream(row["workflow_uuid"], "log")[0]["value"]
    assert entry == status_entry("ENQUEUED", now, by="otto", queue="default")
    # and a start made through the service writes the same shape from Python
    first = idle.store.read_stream(wid, "log")[0]["value"]
    assert re.match(r'^\{"kind":"status","status":"ENQUEUED","at":\d+,"by":"olga","queue":"default"\}$', first)


def test_a_tag_wait_release_records_the_outcome_and_wakes_only_the_run_still_waiting_there(idle):
    transitions = idle.store.transitions
    waiting, moved_on = a_run(idle, "WAITING"), a_run(idle, "WAITING")
    for wid, fid in ((waiting, 7), (moved_on, 9)):
        idle.store.db.execute("UPDATE workflows.workflow_status SET wait_mode = 'tag', wait_fid = ?, wake_at = NULL "
                              "WHERE workflow_uuid = ?", (fid, wid))
    released = [{"workflow_uuid": wid, "function_id": 7, "name": "waitForTag:[default]T", "status": "SUCCESS",
                 "output": '{"value": 5}', "error": None, "started_at": 100} for wid in (waiting, moved_on)]
    now = now_ms()
    assert transitions.release_tag_waits(released, now) == [waiting]
    assert idle.store.get_run(waiting)["wake_at"] == now and idle.store.get_run(moved_on)["wake_at"] is None
    recorded = idle.store.get_checkpoint(waiting, 7)
    assert (recorded["function_name"], recorded["kind"], recorded["status"], recorded["output"]) == (
        "waitForTag:[default]T", "wait", "SUCCESS", '{"value": 5}')
    assert idle.store.get_checkpoint(moved_on, 7) is None
    # released again with another reading before a gateway claimed it (two evaluations racing): the outcome
    # recorded first stays, so the run continues with one reading whichever release it sees
    again = dict(released[0], output='{"value": 6}')
    transitions.release_tag_waits([again], now + 5)
    assert idle.store.get_checkpoint(waiting, 7)["output"] == '{"value": 5}'
