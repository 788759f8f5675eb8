"""Demo workflows: loaded by ./gateway run, used by the README, the console walkthrough and the tests.

demo.commands_60s  about 60 one-second steps; honours HOLD / RESUME / STOP, and RESET resets its counter
demo.quick         three short steps, for quick tries
"""
import time

from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import step, workflow


@step(name="prepare")
def prepare(batch, mode):
    return {"batch": batch, "mode": mode}


@step(name="tick")
def tick(index, counter):
    time.sleep(1.0)
    return counter + 1


@step(name="report")
def report(batch, counter):
    return "batch %s finished after %d ticks" % (batch, counter)


def _cleanup_after_stop():
    getWorkflows().progress("stopped: equipment returned to a safe state")
    return "safe"


@workflow(name="demo.commands_60s",
          params={"paramOne": {"type": "str", "label": "Batch id"},
                  "paramTwo": {"type": "str", "label": "Mode", "choices": ["AUTO", "MANUAL"]}},
          templates={"default": {"paramOne": "BATCH-001", "paramTwo": "AUTO"}},
          commands=["RESET"],
          on_stop=_cleanup_after_stop)
def commands_60s(paramOne="BATCH-001", paramTwo="AUTO"):
    """About 60 one-second steps an operator can hold, resume, stop and reset."""
    wf = getWorkflows()
    prepare(paramOne, paramTwo)
    counter = 0
    for index in range(60):
        command = wf.recvCommand(topic="cmd", timeoutSeconds=0)
        if command is not None and command["cmd"] == "RESET":
            counter = 0
            wf.progress("counter reset by %s" % command["actor"], {"reason": command["reason"]})
        counter = tick(index, counter)
        wf.setEvent("counter", counter)
    return {"batch": paramOne, "mode": paramTwo, "ticks": counter, "summary": report(paramOne, counter)}


@step(name="first")
def first(paramOne):
    return "first:%s" % paramOne


@step(name="second")
def second(value):
    return value + ":second"


@step(name="third")
def third(value, paramTwo):
    return "%s:third:%s" % (value, paramTwo)


@workflow(name="demo.quick", templates={"default": {"paramOne": "BATCH-001", "paramTwo": "AUTO"}})
def quick(paramOne="BATCH-001", paramTwo="AUTO"):
    """Three short steps."""
    value = third(second(first(paramOne)), paramTwo)
    getWorkflows().setEvent("result", value)
    return value
