"""Workflows and queues for the multi-gateway tests (names start with "m.").

Loaded by every spawned gateway (`./gateway run --modules multi.flows`, with tests/ on JYTHONPATH) and by the
pytest process (so that its client-scope engine knows the queues). Python 2.7 / 3 common subset: it runs under
Jython in the gateways.

Every step appends what it did to the side channel (multi.sidechannel): a file per process that survives kill -9,
so the tests can count real executions and rebuild execution intervals, whatever happened to the gateway.
"""
import os
import time

from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import step, workflow
from exchange.workflows.engine.queues import declareQueue
from multi import sidechannel

PARTITIONED_CONCURRENCY = 6
PER_GATEWAY = 2
RATE_LIMIT = 3
RATE_PERIOD_S = 2.0

declareQueue("m.partitioned", concurrency=PARTITIONED_CONCURRENCY)
declareQueue("m.free")
declareQueue("m.serial", concurrency=1)
declareQueue("m.per_gateway", workerConcurrency=PER_GATEWAY)
declareQueue("m.rated", rateLimit=RATE_LIMIT, ratePeriodSeconds=RATE_PERIOD_S)


def _wid():
    return getWorkflows().workflowId


# -- interval runs: [start, end] of the workflow's work, for the partition and concurrency checks --------------------

@step(name="mark")
def mark(event, partition):
    sidechannel.record(event, _wid(), partition=partition)
    return event


@step(name="work")
def work(seconds):
    time.sleep(seconds)
    return seconds


@workflow(name="m.interval")
def interval(partition=None, seconds=0.05):
    """start mark, some work, end mark: the side channel gets the run's execution interval."""
    mark("start", partition)
    work(seconds)
    mark("end", partition)
    return partition


# -- numbered steps: each execution leaves a token; the checkpoint keeps the token of the execution recorded ------------

@step(name="s")
def numbered(index, seconds):
    token = sidechannel.record("exec", _wid(), index=index, started=True)
    if seconds:
        time.sleep(seconds)
    return {"index": index, "token": token}


@workflow(name="m.steps")
def steps(count=5, seconds=0.2):
    tokens = []
    for index in range(count):
        tokens.append(numbered(index, seconds)["token"])
    return tokens


@workflow(name="m.paced")
def paced(count=3, pause=2.0):
    """Numbered steps with a pause of workflow code between them (it runs again on replay, like any such code)."""
    for index in range(count):
        if index:
            time.sleep(pause)
        numbered(index, 0)
    return count


# -- a gate: a step that waits until the test creates a file, to keep runs active for as long as a test needs -----------

def gate_path(name):
    return os.path.join(sidechannel.directory(), "gate-" + name)


@step(name="gate")
def wait_gate(name, limit_s):
    sidechannel.record("gate", _wid(), gate=name)
    deadline = time.time() + limit_s
    while not os.path.exists(gate_path(name)):
        if time.time() > deadline:
            raise RuntimeError("gate %s was never opened" % name)
        time.sleep(0.05)
    return name


@workflow(name="m.gated")
def gated(gate="g", after=2, limit_s=120.0):
    """numbered step 0, then wait for the gate file, then `after` more numbered steps."""
    numbered(0, 0)
    wait_gate(gate, limit_s)
    for index in range(after):
        numbered(index + 1, 0)
    return gate


# -- crashes: a step that takes its whole gateway down (like a native library crash or an OOM kill) -----------------------

@step(name="crash")
def crash():
    sidechannel.record("crash", _wid())
    from java.lang import Runtime

    Runtime.getRuntime().halt(137)  # no shutdown hooks: the same as kill -9
    return "unreachable"


@workflow(name="m.crasher")
def crasher():
    numbered(0, 0)
    crash()
    return "unreachable"


# -- one quick step, for order, rate and race checks ------------------------------------------------------------------------

@workflow(name="m.quick")
def quick(label=None, seconds=0.0):
    return numbered(0, seconds)["token"]


# -- a procedure over unit procedures on several gateways ---------------------------------------------------------------

declareQueue("m.units", workerConcurrency=1)  # one unit per gateway: the units of a procedure spread out


@workflow(name="m.procedure")
def procedure(units=2, count=3, seconds=0.1):
    """Starts one m.unit per unit on m.units (numbered step between the starts), waits at gate "procedure", then
    awaits them all."""
    wf = getWorkflows()
    children = []
    for index in range(units):
        children.append(wf.startChild("m.unit", {"count": count, "seconds": seconds}, queueName="m.units",
                                      partitionKey="unit-%d" % index))
        numbered(index, 0)
    wait_gate("procedure", 120.0)
    return wf.awaitAll(children)


@workflow(name="m.unit")
def unit(count=3, seconds=0.1):
    """A numbered step, gate "units", then count - 1 numbered steps."""
    tokens = [numbered(0, 0)["token"]]
    wait_gate("units", 120.0)
    for index in range(1, count):
        tokens.append(numbered(index, seconds)["token"])
    return tokens
