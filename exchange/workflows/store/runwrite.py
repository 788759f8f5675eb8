"""One guarded write of a run's state and everything that goes with it, in one database round trip.

A RunWrite names a primary change (a status UPDATE with a guard, or a checkpoint INSERT) and the records that
must exist if and only if that change happened: event values and their history, `log` stream entries, command
outcomes. PostgreSQL runs it as a single statement of data-modifying CTEs; SQLite, which has no DML in CTEs and
no network round trip, runs the same pieces as one transaction. This is how a step costs one statement.

Private to the store: transitions.py builds every RunWrite from plain values.
"""
from exchange.workflows.store.records import LOG_KEY
from exchange.workflows.store.statuses import CMD_PENDING, CMD_SUPERSEDED
from exchange.workflows.util.jsoncodec import quote


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
        self.returning = None  # column names returned when the update matched, or (name, SQL expression) pairs
        self.checkpoint = None  # dict of operation_outputs columns
        self.fence = None  # run_count the checkpoint's execution began with: no insert once the run moved on
        self.events = []  # (key, value_json, ts)
        self.streams = []  # (key, value_json, ts); offsets follow the last one of each key
        self.outcomes = []  # (command_id, state, reason, ts)
        self.supersede = None  # (reason, ts): every other PENDING command of the run
        self.notify = None  # (channel, payload) sent when the primary change happened (PostgreSQL only)
        self.waits = None  # (function_id, [awaited run ids]): rows of run_waits for this run, with the change
        self.tag_wait = None  # (function_id, path, condition JSON, poll_ms, evaluator, since): its tag_waits row

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


def _returning_names(w):
    return [r[0] if isinstance(r, tuple) else r for r in (w.returning or ())]


def _returning_sql(w):
    return ", ".join(["workflow_uuid"] + ["%s AS %s" % (r[1], r[0]) if isinstance(r, tuple) else r
                                          for r in (w.returning or ())])


_WAITS_PG = ("wt AS (INSERT INTO workflows.run_waits (awaited_uuid, waiter_uuid, function_id) SELECT a.v, "
             "p.workflow_uuid, CAST(? AS INTEGER) FROM p, json_array_elements_text(CAST(? AS json)) AS a(v) "
             "ON CONFLICT DO NOTHING)")
_WAITS_SQLITE = ("INSERT INTO workflows.run_waits (awaited_uuid, waiter_uuid, function_id) VALUES (?, ?, ?) "
                 "ON CONFLICT DO NOTHING")
_TAG_WAIT_SETS = ("ON CONFLICT (workflow_uuid) DO UPDATE SET function_id = excluded.function_id, tag_path = "
                  "excluded.tag_path, condition = excluded.condition, poll_ms = excluded.poll_ms, evaluator = "
                  "excluded.evaluator, since = excluded.since")
_TAG_WAIT_PG = ("tw AS (INSERT INTO workflows.tag_waits (workflow_uuid, function_id, tag_path, condition, poll_ms, "
                "evaluator, since) SELECT p.workflow_uuid, CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS TEXT), "
                "CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS BIGINT) FROM p %s)" % _TAG_WAIT_SETS)
_TAG_WAIT_SQLITE = ("INSERT INTO workflows.tag_waits (workflow_uuid, function_id, tag_path, condition, poll_ms, "
                    "evaluator, since) VALUES (?, ?, ?, ?, ?, ?, ?) %s" % _TAG_WAIT_SETS)


class WriteResult(object):
    def __init__(self, matched, row=None, log_written=0):
        self.matched = matched
        self.row = row
        self.log_written = log_written


_CP_COLUMNS = ("workflow_uuid", "function_id", "function_name", "kind", "status", "output", "error", "attempts",
               "started_at", "completed_at")


def by_id(guard_sql):
    """A guard on one run, written so that only the primary key can find the row.

    Kept as a plain AND of comparisons, `status = 'RUNNING' AND executor_id = ?` lets PostgreSQL's planner answer
    `workflow_uuid = ? AND ...` from an index on status (or a partial index on executing runs) when its statistics
    say few rows match; on a busy table those indexes are full of entries of rows updated a moment ago, and the
    lookup of one row read dozens of pages (the step insert ran four times slower). Inside COALESCE the guard is
    one opaque condition, checked on the row the primary key found."""
    return "COALESCE((%s), FALSE)" % guard_sql


def fenced_checkpoint(values_after_id):
    """The rows of a fenced checkpoint INSERT: the run's own row, found by its primary key, is the source.

    No row comes out once the execution is no longer the run's (run_count is its fencing token), and the row gives
    the checkpoint its run id, so PostgreSQL plans one index scan feeding the insert and the id is sent once.
    Parameters: the values after the id, then the run id and the execution's run_count."""
    return ("SELECT s.workflow_uuid, %s FROM workflows.workflow_status s WHERE s.workflow_uuid = ? AND %s"
            % (values_after_id, by_id("s.run_count = ? AND s.status = 'RUNNING'")))


def _fenced_values(w):
    if w.fence is None:
        return "VALUES (%s)" % ", ".join(["?"] * len(_CP_COLUMNS))
    return fenced_checkpoint(", ".join(["?"] * (len(_CP_COLUMNS) - 1)))


def _checkpoint_params(w):
    if w.fence is None:
        return [w.checkpoint.get(c) for c in _CP_COLUMNS]
    return [w.checkpoint.get(c) for c in _CP_COLUMNS[1:]] + [w.workflow_uuid, w.fence]


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


def _json_rows(entries):
    """[[key, value, ts, ...], ...] as one JSON text: values are JSON already, keys and reasons are quoted.

    Events, stream entries and command outcomes travel as one parameter each, which PostgreSQL unpacks with
    json_array_elements: a write binds a handful of values instead of three per record."""
    return "[" + ",".join(["[" + ",".join(entry) + "]" for entry in entries]) + "]"


def _events_json(events):
    return _json_rows([(quote(key), value, "%d" % ts) for key, value, ts in events])


def _streams_json(streams):
    return _json_rows([(quote(key), value, "%d" % ts) for key, value, ts in streams])


def _outcomes_json(outcomes):
    return _json_rows([("%d" % cid, quote(state), "null" if reason is None else quote(reason), "%d" % ts)
                       for cid, state, reason, ts in outcomes])


def run_postgres(db, w):
    """The write as one statement: WITH p AS (primary), ev, eh, s, oc, ss, nt SELECT ...

    Every record hangs off `p` (the primary's RETURNING, or the run id when the write has no primary), so none is
    written unless the primary happened."""
    if w.primaries() > 1:
        raise ValueError("a RunWrite has at most one primary change")
    shape = (tuple(sorted(w.insert_row)) if w.insert_row else None,
             tuple([(c, v.sql if isinstance(v, Raw) else None) for c, v in w.update_sets]) if w.update_sets else None,
             w.update_guard[0] if w.update_sets else None, tuple(w.returning or ()), bool(w.checkpoint),
             w.fence is not None, bool(w.events), bool(w.streams), bool(w.outcomes), bool(w.supersede),
             bool(w.notify), bool(w.waits), bool(w.tag_wait))
    sql = _PG_SQL.get(shape)
    if sql is None:
        sql = _pg_sql(w, shape)
        if len(_PG_SQL) > 500:
            _PG_SQL.clear()
        _PG_SQL[shape] = sql
    params = []
    if w.insert_row:
        row = w.insert_row
        params.extend([row[c] for c in shape[0]])
    elif w.update_sets:
        for _, value in w.update_sets:
            if isinstance(value, Raw):
                params.extend(value.params)
            else:
                params.append(value)
        params.append(w.workflow_uuid)
        params.extend(w.update_guard[1])
    elif w.checkpoint:
        params.extend(_checkpoint_params(w))
    else:
        params.append(w.workflow_uuid)
    if w.events:
        params.append(_events_json(w.events))
    if w.streams:
        params.append(_streams_json(w.streams))
    if w.outcomes:
        params.append(_outcomes_json(w.outcomes))
    if w.supersede:
        params.extend([w.supersede[0], w.supersede[1]])
        params.extend([cid for cid, _, _, _ in w.outcomes])
    if w.notify:
        params.extend(list(w.notify))
    if w.waits:
        params.extend([w.waits[0], "[" + ",".join([quote(i) for i in w.waits[1]]) + "]"])
    if w.tag_wait:
        params.extend(list(w.tag_wait))
    rows = db.query(sql, params)
    if w.update_sets:
        if not rows:
            return WriteResult(False)
        row = rows[0]
        return WriteResult(True, dict(zip(_returning_names(w), row[:-1])), int(row[-1]))
    if w.checkpoint or w.insert_row:
        return WriteResult(int(rows[0][0]) == 1, None, int(rows[0][1]))
    return WriteResult(True, None, int(rows[0][1]))


def _pg_sql(w, shape):
    """The SQL of a RunWrite's shape (parameters in the order run_postgres lists them)."""
    if w.insert_row:
        columns = shape[0]
        parts = ["p AS (INSERT INTO workflows.workflow_status (%s) VALUES (%s) ON CONFLICT DO NOTHING "
                 "RETURNING workflow_uuid)" % (", ".join(columns), ", ".join(["?"] * len(columns)))]
    elif w.update_sets:
        sets, _ = _set_clause(w.update_sets)
        returning = _returning_sql(w)
        parts = ["p AS (UPDATE workflows.workflow_status SET %s WHERE workflow_uuid = ? AND %s RETURNING %s)"
                 % (sets, by_id(w.update_guard[0]), returning)]
    elif w.checkpoint:
        parts = ["p AS (INSERT INTO workflows.operation_outputs (%s) %s ON CONFLICT DO NOTHING "
                 "RETURNING workflow_uuid)" % (", ".join(_CP_COLUMNS), _fenced_values(w))]
    else:
        parts = ["p AS (SELECT CAST(? AS TEXT) AS workflow_uuid)"]
    if w.events:
        parts.append("e AS (SELECT p.workflow_uuid AS u, a.v->>0 AS k, (a.v->1)::text AS v, CAST(a.v->>2 AS BIGINT) "
                     "AS t, a.n FROM p, json_array_elements(CAST(? AS json)) WITH ORDINALITY AS a(v, n))")
        parts.append("ev AS (INSERT INTO workflows.workflow_events (workflow_uuid, key, value, updated_at) "
                     "SELECT DISTINCT ON (k) u, k, v, t FROM e ORDER BY k, n DESC "
                     "ON CONFLICT (workflow_uuid, key) DO UPDATE SET value = EXCLUDED.value, "
                     "updated_at = EXCLUDED.updated_at)")
        parts.append("eh AS (INSERT INTO workflows.workflow_events_history (workflow_uuid, key, value, created_at) "
                     "SELECT u, k, v, t FROM e ORDER BY n)")
    if w.streams:
        # the last offset of each key is read once, before any row is inserted: read per row, each lookup would
        # walk past the rows this statement had inserted so far (invisible to it, but in the index), and a write
        # of n entries cost n squared (400 entries: 33 ms)
        parts.append("se AS (SELECT p.workflow_uuid AS u, a.v->>0 AS k, (a.v->1)::text AS v, CAST(a.v->>2 AS BIGINT) "
                     "AS t, row_number() OVER (PARTITION BY a.v->>0 ORDER BY a.n) AS r FROM p, "
                     "json_array_elements(CAST(? AS json)) WITH ORDINALITY AS a(v, n))")
        parts.append("sb AS MATERIALIZED (SELECT d.u, d.k, COALESCE((SELECT MAX(x.\"offset\") FROM workflows.streams x "
                     "WHERE x.workflow_uuid = d.u AND x.key = d.k), -1) AS base FROM (SELECT DISTINCT u, k FROM se) d)")
        parts.append("s AS (INSERT INTO workflows.streams (workflow_uuid, key, \"offset\", value, created_at) "
                     "SELECT se.u, se.k, sb.base + se.r, se.v, se.t FROM se JOIN sb ON sb.u = se.u AND sb.k = se.k "
                     "ON CONFLICT DO NOTHING RETURNING 1)")
    if w.outcomes:
        parts.append("oc AS (UPDATE workflows.workflow_commands c SET state = a.v->>1, outcome_reason = a.v->>2, "
                     "decided_at = CAST(a.v->>3 AS BIGINT) FROM p, json_array_elements(CAST(? AS json)) AS a(v) "
                     "WHERE c.id = CAST(a.v->>0 AS BIGINT) AND c.state = '%s')" % CMD_PENDING)
    if w.supersede:
        exclude = ""
        if w.outcomes:
            exclude = " AND c.id NOT IN (%s)" % ", ".join(["?"] * len(w.outcomes))
        parts.append("ss AS (UPDATE workflows.workflow_commands c SET state = '%s', outcome_reason = ?, "
                     "decided_at = ? FROM p WHERE c.workflow_uuid = p.workflow_uuid AND c.state = '%s'%s)"
                     % (CMD_SUPERSEDED, CMD_PENDING, exclude))
    log_count = "(SELECT count(*) FROM s)" if w.streams else "0"
    if w.notify:
        parts.append("nt AS (SELECT pg_notify(?, ?) AS n FROM p)")
        log_count += " + (SELECT count(*) * 0 FROM nt)"
    if w.waits:
        parts.append(_WAITS_PG)
    if w.tag_wait:
        parts.append(_TAG_WAIT_PG)
    if w.update_sets:
        tail = "SELECT %s, %s FROM p" % (", ".join(["p.%s" % c for c in _returning_names(w)] or ["1"]), log_count)
    elif w.checkpoint or w.insert_row:
        tail = "SELECT (SELECT count(*) FROM p), %s" % log_count
    else:
        tail = "SELECT 1, %s" % log_count
    return "WITH " + ", ".join(parts) + " " + tail


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
            returning = _returning_sql(w)
            found = db.query("UPDATE workflows.workflow_status SET %s WHERE workflow_uuid = ? AND (%s) RETURNING %s"
                             % (sets, w.update_guard[0], returning),
                             set_params + [w.workflow_uuid] + list(w.update_guard[1]))
            if not found:
                return WriteResult(False)
            row = dict(zip(_returning_names(w), found[0][1:]))
        elif w.checkpoint:
            inserted = db.execute("INSERT INTO workflows.operation_outputs (%s) %s ON CONFLICT DO NOTHING"
                                  % (", ".join(_CP_COLUMNS), _fenced_values(w)), _checkpoint_params(w))
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
        if w.waits:
            for awaited in w.waits[1]:
                db.execute(_WAITS_SQLITE, (awaited, w.workflow_uuid, w.waits[0]))
        if w.tag_wait:
            db.execute(_TAG_WAIT_SQLITE, [w.workflow_uuid] + list(w.tag_wait))
        return WriteResult(True, row, len(w.streams))
