"""Workflows the tests start. Importing this module registers them (names start with "t.").

Steps append a line "<workflow id> <step> <attempt>" to the file named by $WORKFLOWS_SIDE_CHANNEL (when set)
so that tests can count real executions, even across processes that were killed.
"""
import os
import threading
import time

from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import step, workflow
from exchange.workflows.engine.queues import declareQueue

GATES = {}  # name -> threading.Event, for tests that hold a step open
ATTEMPTS = {}
_lock = threading.Lock()

declareQueue("t.limited", concurrency=2)
declareQueue("t.per_worker", workerConcurrency=1)
declareQueue("t.rated", rateLimit=2, ratePeriodSeconds=1.0)


def side(name):
    path = os.environ.get("WORKFLOWS_SIDE_CHANNEL")
    wid = getWorkflows().workflowId
    if path:
        with open(path, "a") as handle:
            handle.write("%s %s %.3f\n" % (wid, name, time.time()))
    with _lock:
        ATTEMPTS[(wid, name)] = ATTEMPTS.get((wid, name), 0) + 1


def executions(path):
    counts = {}
    if not os.path.exists(path):
        return counts
    with open(path) as handle:
        for line in handle:
            wid, name, _ = line.split()
            counts[(wid, name)] = counts.get((wid, name), 0) + 1
    return counts


@step(name="count")
def count_step(index, delay):
    side("count-%d" % index)
    if delay:
        time.sleep(delay)
    return index * 10


@workflow(name="t.linear")
def linear(steps=3, delay=0.0):
    total = 0
    for index in range(steps):
        total += count_step(index, delay)
    return total


@step(name="gate")
def gate_step(gate):
    side("gate")
    GATES.setdefault(gate, threading.Event()).wait(30)
    return gate


@workflow(name="t.gated")
def gated(gate="g", after=2):
    """count-0, then a step that waits on GATES[gate], then `after` more steps."""
    count_step(0, 0)
    gate_step(gate)
    for index in range(after):
        count_step(index + 1, 0)
    return "done"


@step(name="boom")
def boom_step(message):
    side("boom")
    raise ValueError(message)


@workflow(name="t.fails")
def fails(message="broken valve"):
    count_step(0, 0)
    boom_step(message)
    return "unreachable"


@step(name="flaky", retries_allowed=True, max_attempts=3, interval_seconds=0.05, backoff_rate=2.0)
def flaky_step(fail_times):
    side("flaky")
    wid = getWorkflows().workflowId
    with _lock:
        seen = ATTEMPTS.get((wid, "flaky"), 0)
    if seen <= fail_times:
        raise IOError("transient failure %d" % seen)
    return seen


@workflow(name="t.flaky")
def flaky(fail_times=1):
    return flaky_step(fail_times)


@workflow(name="t.not_json")
def not_json():
    return {"when": object()}


@step(name="bad_output")
def bad_output_step():
    return set([1, 2])


@workflow(name="t.step_not_json")
def step_not_json():
    return bad_output_step()


@workflow(name="t.records")
def records(label="x"):
    wf = getWorkflows()
    wf.setEvent("stage", "start")
    wf.writeStream("readings", {"v": 1})
    count_step(0, 0)
    wf.writeStream("readings", {"v": 2})
    wf.progress("halfway", {"label": label})
    wf.setEvent("stage", "end")
    return label


@workflow(name="t.slow")
def slow(steps=20, delay=0.05):
    for index in range(steps):
        count_step(index, delay)
    return steps


@workflow(name="t.sleeper")
def sleeper(seconds=0.5):
    count_step(0, 0)
    getWorkflows().sleep(seconds)
    count_step(1, 0)
    return "awake"


@workflow(name="t.receiver", commands=["PING"])
def receiver(wait=5.0):
    command = getWorkflows().recvCommand(topic="cmd", timeoutSeconds=wait)
    count_step(0, 0)
    return command["cmd"] if command else None


@workflow(name="t.listener")
def listener(wait=5.0):
    return getWorkflows().recv(topic="news", timeoutSeconds=wait)


@workflow(name="t.typed", params={"mode": {"type": "str", "choices": ["AUTO", "MANUAL"]}})
def typed(batch, size=10, ratio=0.5, enabled=True, mode="AUTO"):
    return {"batch": batch, "size": size, "ratio": ratio, "enabled": enabled, "mode": mode}


def _cleanup():
    side("cleanup")
    return "cleaned"


@workflow(name="t.stoppable", on_stop=_cleanup)
def stoppable(steps=40, delay=0.05):
    for index in range(steps):
        count_step(index, delay)
    return steps


@step(name="long_check")
def long_check_step(seconds):
    wf = getWorkflows()
    deadline = time.time() + seconds
    while time.time() < deadline:
        wf.checkCancelled()
        time.sleep(0.01)
    return "finished"


@workflow(name="t.long_step")
def long_step(seconds=10.0):
    return long_check_step(seconds)


FIXED = set()


@step(name="inspect")
def inspect_step(unit):
    side("inspect")
    if unit not in FIXED:
        raise RuntimeError("unit %s is jammed" % unit)
    return "ok"


@workflow(name="t.fixable", on_stop=_cleanup)
def fixable(unit="U1", before=2, after=2):
    """`before` steps, a step that fails until FIXED has the unit, then `after` steps."""
    for index in range(before):
        count_step(index, 0)
    inspect_step(unit)
    for index in range(after):
        count_step(before + index, 0)
    return "fixed"


@workflow(name="t.parent", on_stop=_cleanup)
def parent(children=2, steps=3, delay=0.02, child="t.stoppable", after=1):
    """Starts `children` runs of `child` side by side, awaits them all, then `after` steps."""
    wf = getWorkflows()
    ids = [wf.startChild(child, {"steps": steps, "delay": delay}, partitionKey="unit-%d" % index)
           for index in range(children)]
    outputs = wf.awaitAll(ids)
    for index in range(after):
        count_step(index, 0)
    return {"children": ids, "outputs": outputs}


@workflow(name="t.failing_parent")
def failing_parent(message="jammed"):
    """One child that succeeds, one that fails: the await raises ChildFailed, caught and returned."""
    wf = getWorkflows()
    good = wf.startChild("t.linear", {"steps": 1})
    bad = wf.startChild("t.fails", {"message": message})
    try:
        wf.awaitAll([good, bad])
    except Exception as exc:
        return {"caught": type(exc).__name__, "workflowId": exc.workflowId, "status": exc.status,
                "errorType": exc.errorType, "errorMessage": exc.errorMessage, "good": good, "bad": bad}
    return "no failure"


@workflow(name="t.parent_of_failure")
def parent_of_failure(unit="U1"):
    """A child that fails until FIXED has the unit, next to one that succeeds: the parent fails with it."""
    wf = getWorkflows()
    good = wf.startChild("t.linear", {"steps": 1})
    fixable = wf.startChild("t.fixable", {"unit": unit, "before": 0, "after": 0})
    return wf.awaitAll([good, fixable])


@workflow(name="t.first_of")
def first_of(slow_steps=40):
    wf = getWorkflows()
    slow_one = wf.startChild("t.slow", {"steps": slow_steps, "delay": 0.05})
    quick_one = wf.startChild("t.linear", {"steps": 1})
    winner, output = wf.awaitFirst([slow_one, quick_one])
    return {"winner": winner, "output": output, "quick": quick_one, "slow": slow_one}


@workflow(name="t.awaiter")
def awaiter(target="", timeout=None):
    """Awaits any run by id (one a script started)."""
    return getWorkflows().awaitResult(target, timeoutSeconds=timeout)


@workflow(name="t.await_timeout")
def await_timeout(timeout=0.3):
    wf = getWorkflows()
    child = wf.startChild("t.slow", {"steps": 100, "delay": 0.05})
    try:
        wf.awaitResult(child, timeoutSeconds=timeout)
    except Exception as exc:
        return {"caught": type(exc).__name__, "child": child}
    return "no timeout"


@workflow(name="t.bad_children")
def bad_children(case="unknown"):
    wf = getWorkflows()
    if case == "unknown":
        wf.startChild("t.no_such_workflow")
    elif case == "queue":
        wf.startChild("t.linear", queueName="t.undeclared")
    elif case == "malformed":
        wf.awaitResult("not-a-uuid")
    elif case == "missing":
        wf.awaitResult("0f4d1b4e-2f3a-4c9e-9d7e-1234567890ab")
    elif case == "self":
        wf.awaitResult(wf.workflowId)
    elif case == "partition":
        wf.startChild("t.linear", {"steps": 1}, partitionKey="reactor-own")
    return "unreachable"


@workflow(name="t.awaits_parent")
def awaits_parent():
    """A child that awaits its own parent: refused."""
    wf = getWorkflows()
    from exchange.workflows.host import runtime

    parent_id = runtime.engine().store.origin(wf.workflowId)["parent_uuid"]
    return wf.awaitResult(parent_id)


@workflow(name="t.cycle_parent")
def cycle_parent():
    wf = getWorkflows()
    child = wf.startChild("t.awaits_parent")
    return wf.awaitResult(child)


@workflow(name="t.child_then_steps")
def child_then_steps(steps=20, delay=0.25):
    """Starts a child, then takes its time over `steps` steps, then awaits the child."""
    wf = getWorkflows()
    child = wf.startChild("t.slow", {"steps": 5, "delay": 0.05})
    for index in range(steps):
        count_step(index, delay)
    return {"child": child, "output": wf.awaitResult(child)}


@workflow(name="t.scheduled")
def scheduled(label="x", scheduledAt=None):
    """What a schedule's run is told: its fire time as a parameter and through getWorkflows().scheduled()."""
    return {"label": label, "scheduledAt": scheduledAt, "scheduled": getWorkflows().scheduled()}


@workflow(name="t.yearly", schedule={"cron": "0 0 1 1 *", "timezone": "Europe/Berlin", "name": "t.new-year",
                                     "inputs": {"label": "new year"}})
def yearly(label="x"):
    """A schedule declared in code (a gateway makes it when it starts)."""
    return label


@workflow(name="t.delayed_parent")
def delayed_parent(delay=0.5):
    wf = getWorkflows()
    child = wf.startChild("t.linear", {"steps": 1}, delaySeconds=delay)
    return {"child": child, "output": wf.awaitResult(child)}


# -- plant I/O -----------------------------------------------------------------------------------------------------

@workflow(name="t.tank")
def tank(path="[default]T/Level", above=None, equals=None, below=None, changes=False, timeout=None, poll=None,
         requireGood=True, tolerance=None, nap=0.0):
    """A step, a durable wait on a tag, then a branch on the value seen, then a step. `nap`: after a caught error,
    sleep long enough to park, so the run replays the wait's recorded error when it wakes."""
    count_step(0, 0)
    try:
        seen = getWorkflows().waitForTag(path, equals=equals, above=above, below=below, changes=changes,
                                         timeoutSeconds=timeout, pollSeconds=poll, requireGood=requireGood,
                                         tolerance=tolerance)
    except Exception as exc:  # WaitTimeout, TagQualityBad: the branch a replay must take again
        if nap:
            getWorkflows().sleep(nap)
        count_step(2, 0)
        return {"caught": type(exc).__name__, "path": getattr(exc, "path", None),
                "lastValue": getattr(exc, "lastValue", None), "quality": getattr(exc, "quality", None)}
    count_step(1, 0)
    number = seen["value"] if isinstance(seen["value"], (int, float)) else 0
    return {"seen": seen, "branch": "high" if number > 100 else "low"}


@workflow(name="t.charge")
def charge(reactor="R1", target=50.0, timeout=5.0):
    """writeConfirm, then a read, then a plain write."""
    from exchange.workflows.steps import tags

    base = "[default]Plant/%s/" % reactor
    confirmed = tags.writeConfirm(base + "Setpoint", target, timeoutSeconds=timeout)
    level = tags.read([base + "Setpoint", base + "Missing"])
    tags.write(base + "Done", True)
    return {"confirmed": confirmed["value"], "read": [(r["value"], r["quality"]) for r in level]}


@workflow(name="t.confirm_elsewhere")
def confirm_elsewhere(timeout=0.5):
    """writeConfirm against a feedback tag nobody writes: ConfirmTimeout with the last value read."""
    from exchange.workflows.engine.errors import ConfirmTimeout
    from exchange.workflows.steps import tags

    try:
        tags.writeConfirm("[default]Plant/Valve/Cmd", True, confirmPath="[default]Plant/Valve/Fb",
                          timeoutSeconds=timeout, requireGood=False)
    except ConfirmTimeout as late:
        return {"caught": "ConfirmTimeout", "path": late.path, "value": late.value, "lastValue": late.lastValue,
                "lastQuality": late.lastQuality}
    return {"caught": None}


@workflow(name="t.napper")
def napper(seconds=2.0):
    """A step, a sleep long enough to park the run, a step."""
    count_step(0, 0)
    getWorkflows().sleep(seconds)
    count_step(1, 0)
    return "rested"


@workflow(name="t.tank_then_nap")
def tank_then_nap(path="[default]T/Level", above=50, nap=1.2):
    """Waits for a tag, then sleeps long enough to park (so the run replays past the wait when it wakes), then
    branches on the value the wait returned: a replay must take the branch of the recorded reading."""
    seen = getWorkflows().waitForTag(path, above=above)
    count_step(0, 0)
    getWorkflows().sleep(nap)
    count_step(1, 0)
    return {"value": seen["value"], "branch": "high" if seen["value"] > 100 else "low"}


@workflow(name="t.poller")
def poller(path="[default]T/Fast", poll=0.1):
    return getWorkflows().waitForTag(path, equals=True, pollSeconds=poll)


@workflow(name="t.tag_io")
def tag_io(paths=None, values=None, requireGood=False):
    """tags.write then tags.read of the same paths (one recorded step each)."""
    from exchange.workflows.steps import tags

    try:
        written = tags.write(paths, values)
    except Exception as exc:
        return {"caught": type(exc).__name__, "path": getattr(exc, "path", None),
                "quality": getattr(exc, "quality", None)}
    try:
        read = tags.read(paths, requireGood=requireGood)
    except Exception as exc:
        return {"written": written, "caught": type(exc).__name__, "path": getattr(exc, "path", None),
                "quality": getattr(exc, "quality", None)}
    return {"written": written, "read": read}


@workflow(name="t.bad_wait")
def bad_wait(kind="two"):
    wf = getWorkflows()
    if kind == "two":
        return wf.waitForTag("[default]T/X", equals=1, above=2)
    if kind == "none":
        return wf.waitForTag("[default]T/X")
    if kind == "path":
        return wf.waitForTag("", equals=1)
    return wf.waitForTag("[default]T/X", above="hot")
