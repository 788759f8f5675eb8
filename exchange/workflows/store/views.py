"""Read queries for UIs and the service's get/list calls (keyset pagination, fast on large tables)."""
from exchange.workflows.store.statuses import ACTIVE, EXECUTING, PARTITION_HOLDING, sql_list
from exchange.workflows.util.jsoncodec import loads
from exchange.workflows.store.store import CHECKPOINT_COLUMNS, COMMAND_COLUMNS, RUN_COLUMNS

_LIST_COLUMNS = ("workflow_uuid", "name", "status", "phase", "queue_name", "partition_key", "priority",
                 "executor_id", "created_by", "created_at", "updated_at", "started_at", "completed_at",
                 "recovery_attempts", "retry_of", "parent_uuid", "root_uuid", "wake_at", "workflow_version")


def _marks(n):
    return ", ".join(["?"] * n)


def list_runs(db, name=None, statuses=None, queue=None, partition=None, created_from=None, created_to=None,
              cursor=None, limit=50, parent=None, top_level=False, version=None):
    """Newest first. `cursor` is (created_at, workflow_uuid) of the last row of the previous page. `parent`: only
    the runs that run started; `top_level`: no child runs; `version`: only runs of that workflow code version."""
    where = []
    params = []
    if parent:
        where.append("parent_uuid = ?")
        params.append(parent)
    if top_level:
        where.append("parent_uuid IS NULL")
    if name:
        where.append("name = ?")
        params.append(name)
    if version:
        where.append("workflow_version = ?")
        params.append(version)
    if statuses:
        where.append("status IN (%s)" % _marks(len(statuses)))
        params.extend(statuses)
    if queue:
        where.append("queue_name = ?")
        params.append(queue)
    if partition:
        where.append("partition_key = ?")
        params.append(partition)
    if created_from is not None:
        where.append("created_at >= ?")
        params.append(created_from)
    if created_to is not None:
        where.append("created_at < ?")
        params.append(created_to)
    if cursor is not None:
        where.append("(created_at, workflow_uuid) < (?, ?)")
        params.extend([cursor[0], cursor[1]])
    sql = "SELECT %s FROM workflows.workflow_status%s ORDER BY created_at DESC, workflow_uuid DESC LIMIT ?" % (
        ", ".join(_LIST_COLUMNS), (" WHERE " + " AND ".join(where)) if where else "")
    params.append(limit + 1)
    rows = [dict(zip(_LIST_COLUMNS, r)) for r in db.query(sql, params)]
    more = len(rows) > limit
    return rows[:limit], more


def run(db, workflow_uuid):
    rows = db.query("SELECT %s FROM workflows.workflow_status WHERE workflow_uuid = ?" % ", ".join(RUN_COLUMNS),
                    (workflow_uuid,))
    return dict(zip(RUN_COLUMNS, rows[0])) if rows else None


def events(db, workflow_uuid):
    return db.query("SELECT key, value, updated_at FROM workflows.workflow_events WHERE workflow_uuid = ? ORDER BY key",
                    (workflow_uuid,))


def event_history(db, workflow_uuid, after_id=0, limit=1000):
    return db.query("SELECT id, key, value, created_at FROM workflows.workflow_events_history WHERE workflow_uuid = ? "
                    "AND id > ? ORDER BY id LIMIT ?", (workflow_uuid, after_id, limit))


def stream(db, workflow_uuid, key, after_offset=-1, limit=1000):
    return db.query('SELECT "offset", value, created_at FROM workflows.streams WHERE workflow_uuid = ? AND key = ? '
                    'AND "offset" > ? ORDER BY "offset" LIMIT ?', (workflow_uuid, key, after_offset, limit))


def stream_keys(db, workflow_uuid):
    return [r[0] for r in db.query("SELECT DISTINCT key FROM workflows.streams WHERE workflow_uuid = ? ORDER BY key",
                                   (workflow_uuid,))]


def steps(db, workflow_uuid):
    rows = db.query("SELECT %s FROM workflows.operation_outputs WHERE workflow_uuid = ? ORDER BY function_id"
                    % ", ".join(CHECKPOINT_COLUMNS), (workflow_uuid,))
    return [dict(zip(CHECKPOINT_COLUMNS, r)) for r in rows]


def commands(db, workflow_uuid, after_id=0):
    rows = db.query("SELECT %s FROM workflows.workflow_commands WHERE workflow_uuid = ? AND id > ? ORDER BY id"
                    % ", ".join(COMMAND_COLUMNS), (workflow_uuid, after_id))
    return [dict(zip(COMMAND_COLUMNS, r)) for r in rows]


def children(db, workflow_uuid):
    """The runs a run started (including, for a retry, those of the original that it reuses), oldest first."""
    started = [r[0] for r in db.query("SELECT output FROM workflows.operation_outputs WHERE workflow_uuid = ? AND "
                                      "kind = 'child' AND status = 'SUCCESS' ORDER BY function_id", (workflow_uuid,))]
    ids = [loads(text) for text in started if text]
    cols = ("workflow_uuid", "name", "status", "phase", "partition_key", "queue_name", "created_at", "started_at",
            "completed_at")
    rows = db.query("SELECT %s FROM workflows.workflow_status WHERE parent_uuid = ? ORDER BY created_at, workflow_uuid"
                    % ", ".join(cols), (workflow_uuid,))
    found = dict([(r[0], dict(zip(cols, r))) for r in rows])
    reused = [i for i in ids if i not in found]
    if reused:
        for r in db.query("SELECT %s FROM workflows.workflow_status WHERE workflow_uuid IN (%s)"
                          % (", ".join(cols), _marks(len(reused))), reused):
            found[r[0]] = dict(zip(cols, r))
    order = ids + [r[0] for r in rows if r[0] not in ids]
    return [found[i] for i in order if i in found]


def retries_of(db, workflow_uuid):
    return [r[0] for r in db.query("SELECT workflow_uuid FROM workflows.workflow_status WHERE retry_of = ? "
                                   "ORDER BY created_at", (workflow_uuid,))]


def queue_stats(db, now):
    """Per queue: counts of non-terminal runs by status, busy partitions, age of the oldest waiting run."""
    stats = {}
    for queue, status, count, oldest in db.query(
            "SELECT queue_name, status, count(*), MIN(created_at) FROM workflows.workflow_status WHERE status IN %s "
            "GROUP BY queue_name, status" % sql_list(ACTIVE)):
        entry = stats.setdefault(queue, {"counts": {}, "activePartitions": [], "oldestWaitingMs": None})
        entry["counts"][status] = int(count)
        if status == "ENQUEUED" and oldest is not None:
            entry["oldestWaitingMs"] = now - int(oldest)
    for queue, partition in db.query(
            "SELECT DISTINCT queue_name, partition_key FROM workflows.workflow_status WHERE status IN %s AND "
            "partition_key IS NOT NULL ORDER BY queue_name, partition_key" % sql_list(PARTITION_HOLDING)):
        stats.setdefault(queue, {"counts": {}, "activePartitions": [], "oldestWaitingMs": None})
        stats[queue]["activePartitions"].append(partition)
    return stats


def finished_counts(db, since):
    """Terminal runs per queue and status completed since `since` (for the queues page)."""
    return db.query("SELECT queue_name, status, count(*) FROM workflows.workflow_status WHERE completed_at >= ? "
                    "GROUP BY queue_name, status", (since,))


def executors(db):
    cols = ("executor_id", "instance", "host", "kind", "generation", "workers", "active", "state", "started_at",
            "heartbeat_at", "workflows")
    rows = db.query("SELECT %s FROM workflows.executors ORDER BY executor_id" % ", ".join(cols))
    out = [dict(zip(cols, r)) for r in rows]
    counts = dict([(r[0], int(r[1])) for r in db.query(
        "SELECT executor_id, count(*) FROM workflows.workflow_status WHERE status IN %s GROUP BY executor_id"
        % sql_list(EXECUTING))])
    for e in out:
        e["executing"] = counts.get(e["executor_id"], 0)
    return out
