"""Workflows of test_engine.py (imported afresh by its fixture: another module may have reloaded exchange.*)."""
from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import step, workflow

COUNTS = {}  # (workflow id, step) -> executions in this JVM


def count(name):
    key = (getWorkflows().workflowId, name)
    COUNTS[key] = COUNTS.get(key, 0) + 1


@step(name="unit")
def unit(index, seconds):
    import time

    count("unit-%d" % index)
    if seconds:
        time.sleep(seconds)
    return index * 2


@workflow(name="je.steps")
def steps(count_=3, seconds=0.0):
    return sum([unit(index, seconds) for index in range(count_)])


@step(name="java_failure", retries_allowed=True, max_attempts=2, interval_seconds=0.01)
def java_failure(message):
    from java.lang import IllegalStateException

    count("java_failure")
    raise IllegalStateException(message)


@workflow(name="je.java_error")
def java_error(message=u"r\u00e9acteur bloqu\u00e9"):
    unit(0, 0)
    java_failure(message)


@workflow(name="je.records")
def records(label=u"\u00e9tape"):
    wf = getWorkflows()
    wf.setEvent("label", label)
    wf.writeStream("values", {"v": label})
    wf.progress(u"moiti\u00e9", {"n": 1})
    return label


def _cleanup():
    count("cleanup")
    return "safe"


@workflow(name="je.stoppable", on_stop=_cleanup)
def stoppable(count_=100, seconds=0.05):
    for index in range(count_):
        unit(index, seconds)
    return count_
