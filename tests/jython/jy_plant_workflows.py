"""Workflows of test_plant_tags.py (Jython): a durable wait on a tag, and tag steps."""
from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import step, workflow

EXECUTED = []


@step(name="mark")
def mark(name):
    EXECUTED.append((getWorkflows().workflowId, name))
    return name


@workflow(name="jp.tank")
def tank(path=u"[default]JP/Level", above=50.0, timeout=None):
    mark(u"before")
    seen = getWorkflows().waitForTag(path, above=above, timeoutSeconds=timeout)
    mark(u"after")
    return {"value": seen["value"], "quality": seen["quality"], "condition": seen["condition"]}


@workflow(name="jp.io")
def io(path=u"[default]JP/Setpoint", value=12.5):
    from exchange.workflows.steps import tags

    confirmed = tags.writeConfirm(path, value, timeoutSeconds=5)
    return {"confirmed": confirmed["value"], "read": tags.read([path, u"[default]JP/Nothing"])}
