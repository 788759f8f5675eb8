"""The runs this engine is executing right now, each with its RunContext.

The runner adds a run when its execution begins (`started`) and removes it when it ends (`ended`); the log
flusher, command hints, the heartbeat's ownership check and shutdown reach an execution only through here.
"""


class Executions(object):
    def __init__(self):
        self._by_id = {}

    def started(self, ctx):
        self._by_id[ctx.workflow_uuid] = ctx

    def ended(self, workflow_uuid):
        self._by_id.pop(workflow_uuid, None)

    def get(self, workflow_uuid):
        return self._by_id.get(workflow_uuid)

    def all(self):
        return list(self._by_id.values())
