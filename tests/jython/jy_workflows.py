"""Workflows for the Jython suite, registered when imported (the reload test imports this module twice).

Steps report to Java objects kept in system.util.getGlobals(), which outlive a module reload exactly as they
outlive a script reload in Ignition: which incarnation of this module ran each step, on which thread.
`jy.gated` waits for a permit before each step, so a test decides when every step may finish.
"""
import uuid

from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import step, workflow

INCARNATION = str(uuid.uuid4())  # new each time this module is imported: one "interpreter"


def shared():
    """{executions: queue of 'label|incarnation', entered: queue of labels, threads: label -> Thread, gate}."""
    import system
    from java.util.concurrent import ConcurrentHashMap, ConcurrentLinkedQueue, Semaphore

    found = system.util.getGlobals().get("jy.shared")
    if found is None:
        made = ConcurrentHashMap()
        made.put("executions", ConcurrentLinkedQueue())
        made.put("entered", ConcurrentLinkedQueue())
        made.put("threads", ConcurrentHashMap())
        made.put("gate", Semaphore(0))
        system.util.getGlobals().setdefault("jy.shared", made)
        found = system.util.getGlobals().get("jy.shared")
    return found


@step(name="gated")
def gated(label):
    from java.lang import Thread
    from java.util.concurrent import TimeUnit

    state = shared()
    state.get("threads").put(label, Thread.currentThread())
    state.get("entered").add(label)
    if not state.get("gate").tryAcquire(120, TimeUnit.SECONDS):
        raise RuntimeError("step %s was never released by the test" % label)
    state.get("executions").add("%s|%s" % (label, INCARNATION))
    return label


@workflow(name="jy.gated")
def gated_run(steps=4):
    """One gated step per label; the test releases them one by one."""
    done = []
    for index in range(steps):
        done.append(gated("s%d" % (index + 1)))
    return done


@step(name="add")
def add(a, b):
    return a + b


@workflow(name="jy.quick")
def quick(a=1, b=2):
    total = add(a, b)
    getWorkflows().setEvent("total", total)
    return add(total, 10)
