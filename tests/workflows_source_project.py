"""A workflow written for the source project's API, loaded unchanged: its decorators, run context and steps.
Importing this module registers "sp.reactor"."""
from exchange.workflows.engine.instance import getWorkflows
from exchange.workflows.engine.runtime import step, workflow
from exchange.workflows.steps import sleep, tags, wait

CALLS = []


@step(name="prepare", options={"retries_allowed": True, "max_attempts": 3, "interval_seconds": 0.05,
                               "backoff_rate": 1.0})
def prepare(batch):
    CALLS.append(("prepare", batch))
    if CALLS.count(("prepare", batch)) == 1:
        raise IOError("PLC busy")  # the first attempt fails: the step options retry it
    return {"batch": batch}


@workflow(name="sp.reactor", commands=["RESET"])
def reactor(batch="B-1", reactor="R9"):
    wf = getWorkflows(dbName="WorkflowsDB")
    prepare(batch)
    base = "[default]SP/%s/" % reactor
    tags.write(base + "Mode", "AUTO")
    confirmed = tags.write_confirm(base + "Setpoint", 42, timeout_ms=5000, poll_ms=100)
    wf.progress("setpoint confirmed", {"value": confirmed["value"]})
    sleep.sleep_ms(1200)
    sleep.sleep_chunked(50, chunk_ms=10)
    ready = wait.until_tag_equals(base + "Ready", True, timeout_ms=60000, poll_ms=250)
    command = wf.recvCommand(currentState="RUNNING", topic="cmd", timeoutSeconds=0, maxMessages=5)
    mode = tags.read(base + "Mode")
    return {"mode": mode["value"], "ready": ready["value"], "command": command}
