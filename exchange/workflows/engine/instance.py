"""The source project's run context (`from exchange.workflows.engine.instance import getWorkflows`).

getWorkflows(dbName=None) answers the handle of exchange.workflows.engine.context, with the source project's
recvCommand: recvCommand(currentState=None, topic="cmd", timeoutSeconds=0, maxMessages=5) returns
{"cmd", "message", "priority"} or None. What differs:

- dbName is ignored: a gateway keeps every run in the one database it was started with.
- HOLD, RESUME and STOP are applied by the engine at step boundaries, so recvCommand never returns them; a
  workflow's own HOLD loop (wait for RESUME inside the workflow) never runs. RESET and the commands a workflow
  declares (@workflow(commands=[...])) are delivered as before.
- currentState and maxMessages are accepted and not used (one command per call, oldest first).
"""
from exchange.workflows.engine import context, policy


class SourceProjectWorkflows(object):
    """The run context with the source project's recvCommand; everything else is the current handle's."""

    def __init__(self, handle):
        self._handle = handle

    def recvCommand(self, currentState=None, topic="cmd", timeoutSeconds=0, maxMessages=5):
        command = self._handle.recvCommand(topic=topic, timeoutSeconds=timeoutSeconds or 0)
        if command is None:
            return None
        payload = command.get("payload")
        return {"cmd": command["cmd"], "message": payload if payload is not None else command.get("reason"),
                "priority": policy.PRIORITY.get(command["cmd"], 0)}

    def __getattr__(self, name):
        return getattr(self._handle, name)


_HANDLE = SourceProjectWorkflows(context.getWorkflows())


def getWorkflows(dbName=None):
    return _HANDLE
