"""Workflows for the Perspective views' test (test_perspective_views.py), registered when imported.

`jp.typed` has a parameter of every kind the start form shows (text, a whole number, a number, a check box, a
choice, JSON) and a template; `jp.slow` runs short steps long enough to be held, resumed and stopped, publishes an
event holding markup and declares a command of its own; `jp.parent` starts a `jp.typed` child and awaits it.
"""
import time

from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import step, workflow


@step(name="tick")
def tick(index, seconds):
    time.sleep(seconds)
    return index


@workflow(name="jp.typed",
          params={"batch": {"type": "str", "label": "Batch", "description": "the batch number"},
                  "mode": {"type": "str", "choices": ["AUTO", "MANUAL"]}},
          templates={"default": {"batch": "B-1", "size": 12, "mode": "MANUAL", "recipe": {"temp": 80}}})
def typed(batch, size=10, ratio=0.5, enabled=True, mode="AUTO", recipe=None):
    tick(0, 0)
    return {"batch": batch, "size": size, "ratio": ratio, "enabled": enabled, "mode": mode, "recipe": recipe}


@workflow(name="jp.slow", commands=["SAMPLE"])
def slow(steps=1200, seconds=0.05):
    getWorkflows().setEvent("batch", "<b>B-7</b>")
    for index in range(steps):
        tick(index, seconds)
    return steps


@workflow(name="jp.parent")
def parent(batch="P-1"):
    wf = getWorkflows()
    child = wf.startChild("jp.typed", {"batch": batch})
    return wf.awaitAll([child])
