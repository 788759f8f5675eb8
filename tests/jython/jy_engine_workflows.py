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


@workflow(name="je.unit")
def je_unit(unit="U1", count_=3, seconds=0.02):
    return {"unit": unit, "total": sum([unit_step(index, seconds) for index in range(count_)])}


def unit_step(index, seconds):
    return unit(index, seconds)


@workflow(name="je.procedure")
def je_procedure(units=None, count_=3, seconds=0.02):
    wf = getWorkflows()
    children = [wf.startChild("je.unit", {"unit": name, "count_": count_, "seconds": seconds}, partitionKey=name)
                for name in (units or [u"r\u00e9acteur-a", "reactor-b"])]
    first_id, first_output = wf.awaitFirst(children)
    outputs = wf.awaitAll(children)
    return {"children": children, "first": first_id, "outputs": outputs}


@workflow(name="je.failing_child")
def je_failing_child():
    return java_error(u"vanne bloqu\u00e9e")


@workflow(name="je.catches")
def je_catches():
    wf = getWorkflows()
    child = wf.startChild("je.failing_child")
    try:
        wf.awaitResult(child)
    except Exception as exc:
        return {"type": type(exc).__name__, "child": exc.workflowId, "status": exc.status,
                "errorType": exc.errorType, "errorMessage": exc.errorMessage}
    return "no failure"


def _procedure_cleanup():
    count("procedure-cleanup")
    return "safe"


@workflow(name="je.slow_unit")
def je_slow_unit(steps_=40, seconds=0.05):
    return sum([unit(index, seconds) for index in range(steps_)])


@workflow(name="je.commanded", on_stop=_procedure_cleanup)
def je_commanded(units=2, steps_=40):
    wf = getWorkflows()
    children = [wf.startChild("je.slow_unit", {"steps_": steps_}, partitionKey="u-%d" % index)
                for index in range(units)]
    return wf.awaitAll(children)


@workflow(name="je.scheduled")
def scheduled(label=u"x", scheduledAt=None):
    return {"label": label, "scheduledAt": scheduledAt, "scheduled": getWorkflows().scheduled()}
