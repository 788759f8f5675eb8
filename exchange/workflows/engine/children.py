"""Runs that start and await other runs, from inside a workflow: startChild, awaitResult, awaitAll, awaitFirst.

Each call is a recorded operation at its own position. A child's id is derived from the parent's id and that
position, so a replay (after a crash between the child's start and its record, a resume, a retry) finds the same
child instead of starting another. An await that has to wait raises WaitSignal: the runner parks the run in
WAITING (no worker thread), and the store wakes it when what it awaits has ended or its timeout passes; the run
then replays up to the await, which finds the outcome and records it, so a later replay returns the same.
"""
from exchange.workflows.engine import starts
from exchange.workflows.engine.errors import ChildFailed, WaitTimeout, restore
from exchange.workflows.engine.signals import LostOwnership, WaitSignal
from exchange.workflows.store.statuses import DELAYED, STEP_ERROR, STEP_SUCCESS, SUCCESS, TERMINAL
from exchange.workflows.util import ids
from exchange.workflows.util.clock import now_ms, seconds_text
from exchange.workflows.util.compat import integer_types, string_types
from exchange.workflows.util.errors import InvalidArgument, NotFound
from exchange.workflows.util.jsoncodec import dumps, loads, quote

CHILD_KIND = "child"
AWAIT_KIND = "await"
MOST_AWAITED = 1000
_START_KEYS = ("resolved", "template", "overrides")


def start_child(ctx, workflowName, inputs=None, queueName=None, partitionKey=None, priority=None,
                timeoutSeconds=None, delaySeconds=None):
    _outside_steps(ctx, "startChild")
    if not isinstance(workflowName, string_types) or not workflowName.strip():
        raise InvalidArgument("startChild needs a workflowName", field="workflowName")
    ctx.boundary()
    fid = ctx.next_function_id()
    name = "startChild:%s" % workflowName
    rec = ctx.replayed(fid, name, CHILD_KIND)
    if rec is not None:
        return ctx.recorded_result(rec)
    engine = ctx.engine
    started = now_ms()
    child_id = ids.derived_id(ctx.workflow_uuid, fid)
    parent, root = ctx.lineage()
    row = starts.prepare(engine, workflowName, _start_inputs(inputs), queueName, partitionKey, priority, None,
                         timeoutSeconds, None, child_id, ctx.created_by, delaySeconds=delaySeconds)
    if row["partition_key"] is not None and (row["queue_name"], row["partition_key"]) in ctx.partitions_held():
        raise InvalidArgument("startChild: partition %r of queue %s is held by this run (or its root) while it waits, "
                              "so the child would never start: give the child a partition key of its own, or none"
                              % (row["partition_key"], row["queue_name"]), field="partitionKey")
    row["parent_uuid"] = ctx.workflow_uuid
    row["root_uuid"] = root or ctx.workflow_uuid
    outcome, recorded = ctx.retrying(ctx.transitions.start_child, row, ctx.workflow_uuid, ctx.fence, fid, name,
                                     started, now_ms(), starts.notify_payload(engine, row))
    if not recorded:
        raise LostOwnership("position %d of %s was recorded by another executor" % (fid, ctx.workflow_uuid))
    ctx.recorded[fid] = {"function_id": fid, "function_name": name, "kind": CHILD_KIND, "status": STEP_SUCCESS,
                         "output": quote(child_id), "error": None}
    if outcome == "inserted" and row["status"] == DELAYED:
        engine.timed_work_added(row["wake_at"])
    elif outcome == "inserted":  # 'exists': a replay found the child it had started before the crash
        engine.work_added(row["queue_name"])
    return child_id


def _start_inputs(inputs):
    """A child's inputs as start() takes them ({"resolved": ...} or a template), or a plain parameter dict."""
    if inputs is None:
        return None
    if isinstance(inputs, dict) and inputs and all([k in _START_KEYS for k in inputs]):
        return inputs
    return {"resolved": inputs}


def await_runs(ctx, workflow_ids, mode, timeout_s, operation):
    """The shared await: mode 'one' (awaitResult), 'all' (awaitAll) or 'first' (awaitFirst)."""
    _outside_steps(ctx, operation)
    wanted = _checked_ids(ctx, workflow_ids, operation)
    if timeout_s is not None and (isinstance(timeout_s, bool) or not isinstance(timeout_s, (float,) + integer_types)
                                  or timeout_s < 0):
        raise InvalidArgument("timeoutSeconds must be a number of seconds >= 0 or None", field="timeoutSeconds")
    ctx.boundary()
    fid = ctx.next_function_id()
    name = "%s:%d" % (operation, len(wanted))
    rec = ctx.replayed(fid, name, AWAIT_KIND)
    if rec is not None:
        return _recorded(rec, mode)
    started = now_ms()
    earlier = ctx.retrying(ctx.store.wait_of, ctx.workflow_uuid, fid) if ctx.run_count > 1 else None
    if earlier is not None:
        started = int(earlier.get("since") or started)  # it waited before: it began then
    deadline = _deadline(earlier, timeout_s, started)
    outcomes = ctx.retrying(ctx.store.outcomes, wanted)
    missing = [w for w in wanted if w not in outcomes]
    if missing:
        raise NotFound("%s: no run with id %s" % (operation, missing[0]), data={"workflowId": missing[0]})
    failed, value, done = _decide(wanted, outcomes, mode)
    if failed is not None:
        status, _, error, _ = outcomes[failed]
        error = loads(error) or {}
        child_error = ChildFailed(failed, status, error.get("type"), error.get("message"))
        ctx.record(fid, name, AWAIT_KIND, STEP_ERROR, None, dumps(child_error.as_error()), 1, started)
        raise child_error
    if done:
        ctx.record(fid, name, AWAIT_KIND, STEP_SUCCESS, dumps(value), None, 1, started)
        return tuple(value) if mode == "first" else value
    if deadline is not None and now_ms() >= deadline:
        timeout = WaitTimeout("%s timed out after %ss waiting for %s" % (operation, seconds_text(timeout_s),
                                                                        _describe(wanted)), wanted)
        ctx.record(fid, name, AWAIT_KIND, STEP_ERROR, None, dumps(timeout.as_error()), 1, started)
        raise timeout
    pending = [w for w in wanted if outcomes[w][0] not in TERMINAL]
    description = {"operation": operation, "workflowIds": wanted, "pending": pending, "deadline": deadline,
                   "functionId": fid, "since": started}
    raise WaitSignal("waiting for %s" % _describe(pending), fid, wanted, "all" if mode == "all" else "any",
                     deadline, description)


def _outside_steps(ctx, operation):
    if ctx.in_step:
        raise InvalidArgument("%s is a workflow operation: call it from the workflow function, not inside a step"
                              % operation, field="operation")


def _checked_ids(ctx, workflow_ids, operation):
    if isinstance(workflow_ids, string_types) or not hasattr(workflow_ids, "__iter__"):
        raise InvalidArgument("%s needs a list of run ids" % operation, field="workflowIds")
    wanted = []
    for value in workflow_ids:
        wid = ids.normalize(value)
        if wid is None:
            raise InvalidArgument("%s: %r is not a run id (a UUID)" % (operation, value), field="workflowId")
        if wid not in wanted:
            wanted.append(wid)
    if not wanted:
        raise InvalidArgument("%s needs at least one run id" % operation, field="workflowIds")
    if len(wanted) > MOST_AWAITED:
        raise InvalidArgument("%s awaits at most %d runs at once" % (operation, MOST_AWAITED), field="workflowIds")
    if ctx.workflow_uuid in wanted:
        raise InvalidArgument("%s: a run cannot await itself" % operation, field="workflowId")
    ancestors = ctx.ancestors()
    for wid in wanted:
        if wid in ancestors:
            raise InvalidArgument("%s: run %s is an ancestor of this run, which it would wait for forever"
                                  % (operation, wid), field="workflowId")
    return wanted


def _deadline(earlier, timeout_s, since):
    """The await's deadline: the one it was given when it first had to wait, else `timeout_s` after `since`."""
    if timeout_s is None:
        return None
    if earlier is not None and earlier.get("deadline") is not None:
        return int(earlier["deadline"])
    return since + int(timeout_s * 1000)


def _decide(wanted, outcomes, mode):
    """(failed run id or None, value, done)."""
    ended = [w for w in wanted if outcomes[w][0] in TERMINAL]
    ended.sort(key=lambda w: (outcomes[w][3] or 0, wanted.index(w)))
    if mode in ("one", "first"):
        if not ended:
            return None, None, False
        first = ended[0]
        if outcomes[first][0] != SUCCESS:
            return first, None, True
        output = loads(outcomes[first][1])
        return None, (output if mode == "one" else [first, output]), True
    for wid in ended:
        if outcomes[wid][0] != SUCCESS:
            return wid, None, True
    if len(ended) < len(wanted):
        return None, None, False
    return None, [loads(outcomes[w][1]) for w in wanted], True


def _recorded(rec, mode):
    if rec["status"] == STEP_SUCCESS:
        value = loads(rec["output"])
        return tuple(value) if mode == "first" else value
    raise restore(loads(rec["error"]) or {}, rec["function_name"], AWAIT_KIND)


def _describe(workflow_ids):
    if len(workflow_ids) == 1:
        return "run %s" % workflow_ids[0]
    return "%d runs" % len(workflow_ids)
