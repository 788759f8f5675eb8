"""One guarded write of a run's state and everything that goes with it, in one database round trip.

A RunWrite names a primary change (a status UPDATE with a guard, or a checkpoint INSERT) and the records that
must exist if and only if that change happened: event values and their history, `log` stream entries, command
outcomes. PostgreSQL runs it as a single statement of data-modifying CTEs; SQLite, which has no DML in CTEs and
no network round trip, runs the same pieces as one transaction. This is how a step costs one statement.
"""
from exchange.workflows.store.statuses import CMD_PENDING, CMD_SUPERSEDED

LOG_KEY = "log"


class Raw(object):
    """A SQL expression as an UPDATE value, e.g. Raw("run_count + 1") or Raw("COALESCE(started_at, ?)", [now])."""

    def __init__(self, sql, params=()):
        self.sql = sql
        self.params = list(params)


def _set_clause(sets):
    pieces = []
    params = []
    for column, value in sets:
        if isinstance(value, Raw):
            pieces.append("%s = %s" % (column, value.sql))
            params.extend(value.params)
        else:
            pieces.append("%s = ?" % column)
            params.append(value)
    return ", ".join(pieces), params


class RunWrite(object):
    def __init__(self, workflow_uuid):
        self.workflow_uuid = workflow_uuid
        self.insert_row = None  # dict of workflow_status columns for a new run
        self.update_sets = None  # list of (column, value)
        self.update_guard = None  # (sql, params) appended with AND
        self.returning = None  # column names returned when the update matched
        self.checkpoint = None  # dict of operation_outputs columns
        self.fence = None  # run_count the checkpoint's execution began with: no insert once the run moved on
        self.events = []  # (key, value_json, ts)
        self.streams = []  # (key, value_json, ts); offsets follow the last one of each key
        self.outcomes = []  # (command_id, state, reason, ts)
        self.supersede = None  # (reason, ts): every other PENDING command of the run
        self.notify = None  # (channel, payload) sent when the primary change happened (PostgreSQL only)

    def update(self, sets, guard_sql, guard_params=(), returning=None):
        self.update_sets = list(sets)
        self.update_guard = (guard_sql, tuple(guard_params))
        self.returning = list(returning or [])
        return self

    def add_log(self, value_json, ts):
        self.streams.append((LOG_KEY, value_json, ts))
        return self

    def primaries(self):
        return len([p for p in (self.insert_row, self.update_sets, self.checkpoint) if p])


class WriteResult(object):
    def __init__(self, matched, row=None, log_written=0):
        self.matched = matched
        self.row = row
        self.log_written = log_written


_CP_COLUMNS = ("workflow_uuid", "function_id", "function_name", "kind", "status", "output", "error", "attempts",
               "started_at", "completed_at")


def _fenced_values(w):
    marks = ", ".join(["?"] * len(_CP_COLUMNS))
    if w.fence is None:
        return "VALUES (%s)" % marks
    return ("SELECT %s WHERE EXISTS (SELECT 1 FROM workflows.workflow_status WHERE workflow_uuid = ? AND "
            "run_count = ? AND status = 'RUNNING')" % marks)


def _keys(entries):
    keys = []
    for entry in entries:
        if entry[0] not in keys:
            keys.append(entry[0])
    return keys


def _latest_per_key(events):
    latest = {}
    order = []
    for key, value, ts in events:
        if key not in latest:
            order.append(key)
        latest[key] = (key, value, ts)
    return [latest[k] for k in order]


_PG_SQL = {}  # statement shape -> SQL text: composing it is costly under Jython and shapes repeat


def run_postgres(db, w):
    """The write as one statement: WITH p AS (primary), ev, eh, s0.., oc, ss, nt SELECT ..."""
    if w.primaries() > 1:
        raise ValueError("a RunWrite has at most one primary change")
    latest = _latest_per_key(w.events) if w.events else []
    keys = _keys(w.streams)
    streams = [[(v, t) for k, v, t in w.streams if k == key] for key in keys]
    handled = [cid for cid, _, _, _ in w.outcomes]
    shape = (tuple(sorted(w.insert_row)) if w.insert_row else None,
             tuple([(c, v.sql if isinstance(v, Raw) else None) for c, v in w.update_sets]) if w.update_sets else None,
             w.update_guard[0] if w.update_sets else None, tuple(w.returning or ()), bool(w.checkpoint),
             w.fence is not None, len(latest), len(w.events), tuple([len(v) for v in streams]), len(w.outcomes),
             (bool(w.supersede), len(handled)), bool(w.notify))
    sql = _PG_SQL.get(shape)
    if sql is None:
        sql = _pg_sql(w, shape)
        if len(_PG_SQL) > 2000:
            _PG_SQL.clear()
        _PG_SQL[shape] = sql
    params = []
    if w.insert_row:
        params.extend([w.insert_row[c] for c in shape[0]])
    elif w.update_sets:
        for _, value in w.update_sets:
            if isinstance(value, Raw):
                params.extend(value.params)
            else:
                params.append(value)
        params.append(w.workflow_uuid)
        params.extend(w.update_guard[1])
    elif w.checkpoint:
        params.extend([w.checkpoint.get(c) for c in _CP_COLUMNS])
        if w.fence is not None:
            params.extend([w.workflow_uuid, w.fence])
    if w.events:
        params.append(w.workflow_uuid)
        for key, value, ts in latest:
            params.extend([key, value, ts])
        params.append(w.workflow_uuid)
        for key, value, ts in w.events:
            params.extend([key, value, ts])
    for key, values in zip(keys, streams):
        params.extend([w.workflow_uuid, key, w.workflow_uuid, key])
        for n, (value, ts) in enumerate(values):
            params.extend([n + 1, value, ts])
    for cid, state, reason, ts in w.outcomes:
        params.extend([cid, state, reason, ts])
    if w.supersede:
        params.extend([w.supersede[0], w.supersede[1], w.workflow_uuid])
        params.extend(handled)
    if w.notify:
        params.extend(list(w.notify))
    rows = db.query(sql, params)
    if w.update_sets:
        if not rows:
            return WriteResult(False)
        row = rows[0]
        return WriteResult(True, dict(zip(w.returning, row[:-1])), int(row[-1]))
    if w.checkpoint or w.insert_row:
        return WriteResult(int(rows[0][0]) == 1, None, int(rows[0][1]))
    return WriteResult(True, None, int(rows[0][1]))


def _pg_sql(w, shape):
    """The SQL of a RunWrite's shape (parameters in the order run_postgres lists them)."""
    parts = []
    guard = ""
    if w.insert_row:
        columns = shape[0]
        parts.append("p AS (INSERT INTO workflows.workflow_status (%s) VALUES (%s) ON CONFLICT DO NOTHING "
                     "RETURNING workflow_uuid)" % (", ".join(columns), ", ".join(["?"] * len(columns))))
        guard = " WHERE EXISTS (SELECT 1 FROM p)"
    elif w.update_sets:
        sets, _ = _set_clause(w.update_sets)
        returning = ", ".join(["workflow_uuid"] + w.returning)
        parts.append("p AS (UPDATE workflows.workflow_status SET %s WHERE workflow_uuid = ? AND (%s) RETURNING %s)"
                     % (sets, w.update_guard[0], returning))
        guard = " WHERE EXISTS (SELECT 1 FROM p)"
    elif w.checkpoint:
        parts.append("p AS (INSERT INTO workflows.operation_outputs (%s) %s ON CONFLICT DO NOTHING "
                     "RETURNING workflow_uuid)" % (", ".join(_CP_COLUMNS), _fenced_values(w)))
        guard = " WHERE EXISTS (SELECT 1 FROM p)"
    latest_count, event_count, stream_counts, outcome_count = shape[6], shape[7], shape[8], shape[9]
    if event_count:
        rows = ", ".join(["(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT))"] * latest_count)
        parts.append("ev AS (INSERT INTO workflows.workflow_events (workflow_uuid, key, value, updated_at) "
                     "SELECT CAST(? AS TEXT), v.k, v.v, v.t FROM (VALUES %s) AS v(k, v, t)%s "
                     "ON CONFLICT (workflow_uuid, key) DO UPDATE SET value = EXCLUDED.value, "
                     "updated_at = EXCLUDED.updated_at)" % (rows, guard))
        rows = ", ".join(["(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT))"] * event_count)
        parts.append("eh AS (INSERT INTO workflows.workflow_events_history (workflow_uuid, key, value, created_at) "
                     "SELECT CAST(? AS TEXT), v.k, v.v, v.t FROM (VALUES %s) AS v(k, v, t)%s)" % (rows, guard))
    for number, count in enumerate(stream_counts):
        rows = ", ".join(["(CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS BIGINT))"] * count)
        parts.append("s%d AS (INSERT INTO workflows.streams (workflow_uuid, key, \"offset\", value, created_at) "
                     "SELECT CAST(? AS TEXT), CAST(? AS TEXT), (SELECT COALESCE(MAX(s.\"offset\"), -1) FROM "
                     "workflows.streams s WHERE s.workflow_uuid = ? AND s.key = ?) + v.n, v.v, v.t FROM (VALUES %s) "
                     "AS v(n, v, t)%s ON CONFLICT DO NOTHING RETURNING 1)" % (number, rows, guard))
    if outcome_count:
        rows = ", ".join(["(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT))"] * outcome_count)
        parts.append("oc AS (UPDATE workflows.workflow_commands c SET state = v.s, outcome_reason = v.r, "
                     "decided_at = v.t FROM (VALUES %s) AS v(id, s, r, t) WHERE c.id = v.id AND c.state = '%s'%s)"
                     % (rows, CMD_PENDING, guard.replace(" WHERE", " AND")))
    if w.supersede:
        exclude = ""
        if outcome_count:
            exclude = " AND c.id NOT IN (%s)" % ", ".join(["?"] * outcome_count)
        parts.append("ss AS (UPDATE workflows.workflow_commands c SET state = '%s', outcome_reason = ?, "
                     "decided_at = ? WHERE c.workflow_uuid = ? AND c.state = '%s'%s%s)"
                     % (CMD_SUPERSEDED, CMD_PENDING, exclude, guard.replace(" WHERE", " AND")))
    log_count = " + ".join(["(SELECT count(*) FROM s%d)" % n for n in range(len(stream_counts))]) or "0"
    if w.notify:
        parts.append("nt AS (SELECT pg_notify(?, ?) AS n%s)" % guard)
        log_count += " + (SELECT count(*) * 0 FROM nt)"
    if w.update_sets:
        tail = "SELECT %s, %s FROM p" % (", ".join(["p.%s" % c for c in w.returning] or ["1"]), log_count)
    elif w.checkpoint or w.insert_row:
        tail = "SELECT (SELECT count(*) FROM p), %s" % log_count
    else:
        tail = "SELECT 1, %s" % log_count
    return ("WITH " + ", ".join(parts) + " " + tail) if parts else tail


def run_sqlite(db, w):
    """The same write as a transaction of plain statements (SQLite serialises writers, so offsets cannot race)."""
    with db.transaction():
        row = None
        if w.insert_row:
            columns = sorted(w.insert_row)
            inserted = db.execute("INSERT INTO workflows.workflow_status (%s) VALUES (%s) ON CONFLICT DO NOTHING"
                                  % (", ".join(columns), ", ".join(["?"] * len(columns))),
                                  [w.insert_row[c] for c in columns])
            if inserted != 1:
                return WriteResult(False)
        elif w.update_sets:
            sets, set_params = _set_clause(w.update_sets)
            returning = ", ".join(["workflow_uuid"] + w.returning)
            found = db.query("UPDATE workflows.workflow_status SET %s WHERE workflow_uuid = ? AND (%s) RETURNING %s"
                             % (sets, w.update_guard[0], returning),
                             set_params + [w.workflow_uuid] + list(w.update_guard[1]))
            if not found:
                return WriteResult(False)
            row = dict(zip(w.returning, found[0][1:]))
        elif w.checkpoint:
            inserted = db.execute("INSERT INTO workflows.operation_outputs (%s) %s ON CONFLICT DO NOTHING"
                                  % (", ".join(_CP_COLUMNS), _fenced_values(w)),
                                  [w.checkpoint.get(c) for c in _CP_COLUMNS] +
                                  ([w.workflow_uuid, w.fence] if w.fence is not None else []))
            if inserted != 1:
                return WriteResult(False)
        for key, value, ts in _latest_per_key(w.events):
            db.execute("INSERT INTO workflows.workflow_events (workflow_uuid, key, value, updated_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (workflow_uuid, key) DO UPDATE SET value = excluded.value, "
                       "updated_at = excluded.updated_at", (w.workflow_uuid, key, value, ts))
        for key, value, ts in w.events:
            db.execute("INSERT INTO workflows.workflow_events_history (workflow_uuid, key, value, created_at) "
                       "VALUES (?, ?, ?, ?)", (w.workflow_uuid, key, value, ts))
        for key in _keys(w.streams):
            values = [(v, t) for k, v, t in w.streams if k == key]
            for start in range(0, len(values), 200):
                chunk = values[start:start + 200]
                params = [w.workflow_uuid, key, w.workflow_uuid, key]
                for n, (value, ts) in enumerate(chunk):
                    params.extend([n + 1, value, ts])
                db.execute("INSERT INTO workflows.streams (workflow_uuid, key, \"offset\", value, created_at) "
                           "SELECT ?, ?, (SELECT COALESCE(MAX(\"offset\"), -1) FROM workflows.streams WHERE "
                           "workflow_uuid = ? AND key = ?) + v.column1, v.column2, v.column3 FROM (VALUES %s) AS v"
                           % ", ".join(["(?, ?, ?)"] * len(chunk)), params)
        handled = []
        for cid, state, reason, ts in w.outcomes:
            db.execute("UPDATE workflows.workflow_commands SET state = ?, outcome_reason = ?, decided_at = ? "
                       "WHERE id = ? AND state = '%s'" % CMD_PENDING, (state, reason, ts, cid))
            handled.append(cid)
        if w.supersede:
            reason, ts = w.supersede
            exclude = ""
            if handled:
                exclude = " AND id NOT IN (%s)" % ", ".join(["?"] * len(handled))
            db.execute("UPDATE workflows.workflow_commands SET state = '%s', outcome_reason = ?, decided_at = ? "
                       "WHERE workflow_uuid = ? AND state = '%s'%s" % (CMD_SUPERSEDED, CMD_PENDING, exclude),
                       [reason, ts, w.workflow_uuid] + handled)
        return WriteResult(True, row, len(w.streams))
