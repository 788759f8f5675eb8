"""Reads and upkeep of the tag waits of parked runs (workflows.tag_waits); the writes that park and release a run
are transitions (`wait`, `release_tag_wait` in transitions.py).

A row belongs to one position of its run: it counts only while the run is WAITING there (status, wait_mode 'tag'
and wait_fid), so a row left behind by a run that moved on (stopped, woken by a command, timed out) is ignored
until the sweep removes it. Its `evaluator` is the gateway that reads the tag for it.
"""

_LIVE_EVALUATOR = ("EXISTS (SELECT 1 FROM workflows.executors e WHERE e.executor_id = t.evaluator AND "
                   "e.heartbeat_at >= ? AND e.state <> 'stopped')")
_WAITING_HERE = ("s.workflow_uuid = t.workflow_uuid AND s.status = 'WAITING' AND s.wait_mode = 'tag' AND "
                 "s.wait_fid = t.function_id")


class TagWait(object):
    __slots__ = ("workflow_uuid", "function_id", "path", "condition", "poll_ms", "evaluator", "since")

    def __init__(self, row):
        (self.workflow_uuid, self.function_id, self.path, self.condition, poll_ms, self.evaluator,
         since) = row
        self.function_id = int(self.function_id)
        self.poll_ms = int(poll_ms) if poll_ms is not None else None
        self.since = int(since)


class TagWaitStore(object):
    def __init__(self, db):
        self.db = db

    def to_evaluate(self, executor_id, live_since, limit):
        """The tag waits this gateway reads: its own, and those whose gateway stopped or went silent past the
        lease (taken over with take_over)."""
        return [TagWait(r) for r in self.db.query(
            "SELECT t.workflow_uuid, t.function_id, t.tag_path, t.condition, t.poll_ms, t.evaluator, t.since FROM "
            "workflows.tag_waits t JOIN workflows.workflow_status s ON %s WHERE t.evaluator = ? OR t.evaluator IS "
            "NULL OR NOT %s ORDER BY t.since LIMIT ?" % (_WAITING_HERE, _LIVE_EVALUATOR),
            (executor_id, live_since, limit))]

    def take_over(self, workflow_uuids, previous, executor_id):
        """Make this gateway the evaluator of waits another one left; the ids it got."""
        if not workflow_uuids:
            return []
        marks = ", ".join(["?"] * len(workflow_uuids))
        if previous is None:
            guard, params = "evaluator IS NULL", []
        else:
            guard, params = "evaluator = ?", [previous]
        return [r[0] for r in self.db.query(
            "UPDATE workflows.tag_waits SET evaluator = ? WHERE workflow_uuid IN (%s) AND %s RETURNING workflow_uuid"
            % (marks, guard), [executor_id] + list(workflow_uuids) + params)]

    def sweep(self, limit=500):
        """Remove rows whose run no longer waits at that position."""
        return self.db.execute(
            "DELETE FROM workflows.tag_waits WHERE workflow_uuid IN (SELECT t.workflow_uuid FROM workflows.tag_waits t "
            "WHERE NOT EXISTS (SELECT 1 FROM workflows.workflow_status s WHERE %s) LIMIT ?)" % _WAITING_HERE, (limit,))
