"""The engine's database: one method per operation, `?` placeholders, the dialect where PostgreSQL and SQLite differ.

Every change of a run's state is in `transitions.py` (reached as `store.transitions`), the reads for the console
in `views.py`; this module has the schema, the reads the engine needs, executors, commands, messages, definitions,
settings and retention.
"""
from exchange.workflows.store import migrations
from exchange.workflows.store.dialect import for_name
from exchange.workflows.store.statuses import ACTIVE, CMD_PENDING, DEDUP_ACTIVE, EXECUTING, TERMINAL, sql_list
from exchange.workflows.store.schedules import ScheduleStore
from exchange.workflows.store.tagwaits import TagWaitStore
from exchange.workflows.store.transitions import NOTIFY_CHANNEL, RunTransitions
from exchange.workflows.util.errors import DatabaseError
from exchange.workflows.util.jsoncodec import loads

RUN_COLUMNS = ("workflow_uuid", "name", "status", "phase", "queue_name", "partition_key", "priority",
               "deduplication_id", "inputs", "output", "error", "executor_id", "generation", "application_version",
               "created_by", "created_at", "updated_at", "claimed_at", "started_at", "completed_at", "timeout_ms",
               "deadline_at", "run_count", "recovery_attempts", "retry_of", "retry_from", "parent_uuid", "root_uuid",
               "wake_at", "wait_fid", "wait_mode", "waiting_for", "debounce_key", "debounce_until", "schedule_name",
               "scheduled_at", "workflow_version")

CHECKPOINT_COLUMNS = ("function_id", "function_name", "kind", "status", "output", "error", "attempts",
                      "started_at", "completed_at")

COMMAND_COLUMNS = ("id", "workflow_uuid", "cmd", "topic", "payload", "actor", "actor_roles", "reason", "state",
                   "outcome_reason", "received_at", "decided_at", "cause_id")

_EXECUTING = sql_list(EXECUTING)
_DEDUP_ACTIVE = sql_list(DEDUP_ACTIVE)
_TERMINAL = sql_list(TERMINAL)
_ACTIVE = sql_list(ACTIVE)
_RUN_SELECT = ", ".join(RUN_COLUMNS)


def _marks(n):
    return ", ".join(["?"] * n)


class Store(object):
    def __init__(self, db):
        self.db = db
        self.dialect = for_name(db.dialect)
        self.transitions = RunTransitions(self)
        self.schedules = ScheduleStore(db)
        self.tag_waits = TagWaitStore(db)

    def transaction(self):
        """A block of calls in one transaction (nested blocks join the outer one)."""
        return self.db.transaction()

    # -- schema -------------------------------------------------------------------------------------------------

    def migrate(self, now):
        """Apply every migration not yet recorded; returns the versions applied by this call."""
        applied = []
        with self.db.transaction():
            self._lock("workflows.migrate")
            for sql in self.dialect.create_schema():
                self.db.execute(sql)
            self.db.execute("CREATE TABLE IF NOT EXISTS workflows.schema_migrations (version INTEGER PRIMARY KEY, "
                            "name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
            done = set([int(r[0]) for r in self.db.query("SELECT version FROM workflows.schema_migrations")])
            for version, name, build in migrations.MIGRATIONS:
                if version in done:
                    continue
                for sql in build(self.dialect):
                    self.db.execute(sql)
                self.db.execute("INSERT INTO workflows.schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                (version, name, now))
                applied.append(version)
        return applied

    def schema_version(self):
        try:
            rows = self.db.query("SELECT MAX(version) FROM workflows.schema_migrations")
        except DatabaseError as exc:
            if exc.unavailable:
                raise
            return 0
        return int(rows[0][0] or 0)

    def _lock(self, name):
        sql = self.dialect.lock_sql()
        if sql:
            self.db.query(sql, (name,))

    def notify(self, payload):
        sql = self.dialect.notify_sql()
        if sql:
            self.db.query(sql, (NOTIFY_CHANNEL, payload))

    # -- runs -----------------------------------------------------------------------------------------------------

    def why_not_inserted(self, row):
        """Why the run of `row` was not inserted: ('exists' | 'duplicate' | 'retry', the run in the way)."""
        found = self.db.query("SELECT workflow_uuid FROM workflows.workflow_status WHERE workflow_uuid = ?",
                              (row["workflow_uuid"],))
        if found:
            return "exists", row["workflow_uuid"]
        if row.get("deduplication_id") is not None:
            found = self.db.query("SELECT workflow_uuid FROM workflows.workflow_status WHERE queue_name = ? AND "
                                  "deduplication_id = ? AND status IN %s" % _DEDUP_ACTIVE,
                                  (row["queue_name"], row["deduplication_id"]))
            if found:
                return "duplicate", found[0][0]
        # the conflicting run finished between the insert and this look: try once more
        return "retry", None

    def get_run(self, workflow_uuid):
        rows = self.db.query("SELECT %s FROM workflows.workflow_status WHERE workflow_uuid = ?" % _RUN_SELECT,
                             (workflow_uuid,))
        return dict(zip(RUN_COLUMNS, rows[0])) if rows else None

    def load_checkpoints(self, workflow_uuid):
        rows = self.db.query("SELECT %s FROM workflows.operation_outputs WHERE workflow_uuid = ? ORDER BY function_id"
                             % ", ".join(CHECKPOINT_COLUMNS), (workflow_uuid,))
        return [dict(zip(CHECKPOINT_COLUMNS, r)) for r in rows]

    def run_owner(self, workflow_uuid):
        """(status, executor_id, run_count) of a run, or None."""
        rows = self.db.query("SELECT status, executor_id, run_count FROM workflows.workflow_status WHERE "
                             "workflow_uuid = ?", (workflow_uuid,))
        return (rows[0][0], rows[0][1], int(rows[0][2])) if rows else None

    def get_checkpoint(self, workflow_uuid, function_id):
        rows = self.db.query("SELECT %s FROM workflows.operation_outputs WHERE workflow_uuid = ? AND function_id = ?"
                             % ", ".join(CHECKPOINT_COLUMNS), (workflow_uuid, function_id))
        return dict(zip(CHECKPOINT_COLUMNS, rows[0])) if rows else None

    def copy_checkpoints(self, source_uuid, target_uuid, before_function_id, except_function_ids=()):
        skip = list(except_function_ids)
        return self.db.execute(
            "INSERT INTO workflows.operation_outputs (workflow_uuid, %s) SELECT ?, %s FROM workflows.operation_outputs "
            "WHERE workflow_uuid = ? AND function_id < ?%s" % (
                ", ".join(CHECKPOINT_COLUMNS), ", ".join(CHECKPOINT_COLUMNS),
                " AND function_id NOT IN (%s)" % _marks(len(skip)) if skip else ""),
            [target_uuid, source_uuid, before_function_id] + skip)

    def append_stream(self, workflow_uuid, key, value, ts):
        """Append one value at the next offset of (run, key); returns the offset."""
        sql = ('INSERT INTO workflows.streams (workflow_uuid, key, "offset", value, created_at) '
               'SELECT ?, ?, COALESCE(MAX("offset"), -1) + 1, ?, ? FROM workflows.streams WHERE workflow_uuid = ? '
               'AND key = ? ON CONFLICT DO NOTHING RETURNING "offset"')
        for _ in range(20):
            rows = self.db.query(sql, (workflow_uuid, key, value, ts, workflow_uuid, key))
            if rows:
                return int(rows[0][0])
        raise DatabaseError("could not append to stream %r of %s: offset contention" % (key, workflow_uuid))

    def stream_entry_exists(self, workflow_uuid, key, value, ts):
        return bool(self.db.query("SELECT 1 FROM workflows.streams WHERE workflow_uuid = ? AND key = ? AND "
                                  "created_at = ? AND value = ?", (workflow_uuid, key, ts, value)))

    def run_status(self, workflow_uuid):
        rows = self.db.query("SELECT status FROM workflows.workflow_status WHERE workflow_uuid = ?", (workflow_uuid,))
        return rows[0][0] if rows else None

    def read_stream(self, workflow_uuid, key, after_offset=-1, limit=1000):
        rows = self.db.query('SELECT "offset", value, created_at FROM workflows.streams WHERE workflow_uuid = ? '
                             'AND key = ? AND "offset" > ? ORDER BY "offset" LIMIT ?',
                             (workflow_uuid, key, after_offset, limit))
        return [{"offset": int(r[0]), "value": r[1], "createdAt": r[2]} for r in rows]

    def get_event(self, workflow_uuid, key):
        rows = self.db.query("SELECT value, updated_at FROM workflows.workflow_events WHERE workflow_uuid = ? AND key = ?",
                             (workflow_uuid, key))
        return rows[0] if rows else None

    # -- runs that start and await runs ------------------------------------------------------------------------------

    def outcomes(self, workflow_uuids):
        """{run id: (status, output, error, completed_at)} of the runs that exist among `workflow_uuids`."""
        if not workflow_uuids:
            return {}
        rows = self.db.query("SELECT workflow_uuid, status, output, error, completed_at FROM workflows.workflow_status "
                             "WHERE workflow_uuid IN (%s)" % _marks(len(workflow_uuids)), list(workflow_uuids))
        return dict([(r[0], (r[1], r[2], r[3], r[4])) for r in rows])

    def origin(self, workflow_uuid):
        """{parent_uuid, root_uuid, created_by, queue_name, partition_key} of a run, or None when it does not
        exist."""
        columns = ("parent_uuid", "root_uuid", "created_by", "queue_name", "partition_key")
        rows = self.db.query("SELECT %s FROM workflows.workflow_status WHERE workflow_uuid = ?" % ", ".join(columns),
                             (workflow_uuid,))
        return dict(zip(columns, rows[0])) if rows else None

    def ancestors(self, workflow_uuid, most=64):
        """The ids of a run's parent, its parent's parent, ... up to the root."""
        found = []
        current = workflow_uuid
        while len(found) < most:
            origin = self.origin(current)
            if origin is None or origin["parent_uuid"] is None:
                break
            current = origin["parent_uuid"]
            found.append(current)
        return found

    def active_children(self, parent_uuid):
        """(id, status) of the runs a run started that have not ended."""
        return self.db.query("SELECT workflow_uuid, status FROM workflows.workflow_status WHERE parent_uuid = ? AND "
                             "status IN %s ORDER BY created_at, workflow_uuid" % _ACTIVE, (parent_uuid,))

    def wait_of(self, workflow_uuid, function_id):
        """What the run's wait at `function_id` was given when it first had to wait ({"deadline", "since", ...}),
        or None when the run's last wait was another one."""
        rows = self.db.query("SELECT wait_fid, waiting_for FROM workflows.workflow_status WHERE workflow_uuid = ?",
                             (workflow_uuid,))
        if not rows or rows[0][0] is None or int(rows[0][0]) != function_id or not rows[0][1]:
            return None
        return loads(rows[0][1])

    def waits_waking(self, now, until):
        """(whether a waiting run's wake time has come, the earliest wake time after now and not after `until`):
        a sleep's end or a wait's deadline."""
        rows = self.db.query("SELECT MIN(CASE WHEN wake_at <= ? THEN 1 END), MIN(CASE WHEN wake_at > ? THEN wake_at "
                             "END) FROM workflows.workflow_status WHERE status = 'WAITING' AND wake_at <= ?",
                             (now, now, until))
        if not rows:
            return False, None
        return rows[0][0] is not None, int(rows[0][1]) if rows[0][1] is not None else None

    def held_by_cause(self, workflow_uuid):
        """True when the run's latest HOLD (applied or pending) was sent on by its parent's HOLD."""
        rows = self.db.query("SELECT cause_id FROM workflows.workflow_commands WHERE workflow_uuid = ? AND cmd = 'HOLD' "
                             "AND state IN ('PENDING', 'APPLIED') ORDER BY id DESC LIMIT 1", (workflow_uuid,))
        return bool(rows) and rows[0][0] is not None

    # -- claims -----------------------------------------------------------------------------------------------------

    def queues_with_work(self):
        """Queue names that have ENQUEUED runs, and how many."""
        rows = self.db.query("SELECT queue_name, count(*) FROM workflows.workflow_status WHERE status = 'ENQUEUED' "
                             "GROUP BY queue_name")
        return dict([(r[0], int(r[1])) for r in rows])

    def executing_on(self, executor_id):
        """(workflow_uuid, status, name) of every PENDING or RUNNING run assigned to this executor."""
        return self.db.query("SELECT workflow_uuid, status, name FROM workflows.workflow_status WHERE executor_id = ? "
                             "AND status IN %s" % _EXECUTING, (executor_id,))

    def executing_per_queue(self, executor_id):
        """{queue: number of PENDING/RUNNING runs on this executor} (for per-gateway limits)."""
        return dict([(r[0], int(r[1])) for r in self.db.query(
            "SELECT queue_name, count(*) FROM workflows.workflow_status WHERE executor_id = ? AND status IN %s "
            "GROUP BY queue_name" % _EXECUTING, (executor_id,))])

    def orphans_of_dead_executors(self, executor_id, stale_before, limit, names=None):
        """(workflow_uuid, executor_id, status, queue_name) of PENDING/RUNNING runs whose executor stopped or whose
        heartbeat is older than the lease; `names`: a JSON array of the workflows the taker has (None: any)."""
        of_names, params = self.dialect.of_names("s.name", names)
        return self.db.query(
            "SELECT s.workflow_uuid, s.executor_id, s.status, s.queue_name FROM workflows.workflow_status s "
            "WHERE s.status IN %s AND "
            "s.executor_id <> ? AND NOT EXISTS (SELECT 1 FROM workflows.executors e WHERE e.executor_id = s.executor_id "
            "AND e.heartbeat_at >= ? AND e.state <> 'stopped')%s ORDER BY s.priority, s.created_at LIMIT ?"
            % (_EXECUTING, of_names), [executor_id, stale_before] + params + [limit])

    def executor_workflows(self, executor_id):
        """The JSON {name: version} an executor last registered, or None."""
        rows = self.db.query("SELECT workflows FROM workflows.executors WHERE executor_id = ?", (executor_id,))
        return rows[0][0] if rows else None

    def set_executor_workflows(self, executor_id, instance, workflows_json):
        """The workflows (and their versions) this executor has registered, as JSON {name: version}."""
        self.db.execute("UPDATE workflows.executors SET workflows = ? WHERE executor_id = ? AND instance = ?",
                        (workflows_json, executor_id, instance))

    # -- executors ----------------------------------------------------------------------------------------------------

    def register_executor(self, executor_id, instance, host, kind, generation, workers, heartbeat_ms, now):
        """Upsert this executor's row (a process starting under an id takes the row over)."""
        with self.db.transaction():
            rows = self.db.query("SELECT instance FROM workflows.executors WHERE executor_id = ?%s"
                                 % self.dialect.for_update(), (executor_id,))
            if rows:
                self.db.execute("UPDATE workflows.executors SET instance = ?, host = ?, kind = ?, generation = ?, "
                                "workers = ?, active = 0, state = 'running', started_at = ?, heartbeat_at = ?, "
                                "heartbeat_ms = ? WHERE executor_id = ?",
                                (instance, host, kind, generation, workers, now, now, heartbeat_ms, executor_id))
            else:
                self.db.execute("INSERT INTO workflows.executors (executor_id, instance, host, kind, generation, workers, "
                                "active, state, started_at, heartbeat_at, heartbeat_ms) VALUES (?, ?, ?, ?, ?, ?, 0, "
                                "'running', ?, ?, ?)",
                                (executor_id, instance, host, kind, generation, workers, now, now, heartbeat_ms))

    def executor_holder(self, executor_id):
        """{instance, host, state, heartbeat_at, heartbeat_ms} of the process registered under an id, or None."""
        rows = self.db.query("SELECT instance, host, state, heartbeat_at, heartbeat_ms FROM workflows.executors "
                             "WHERE executor_id = ?", (executor_id,))
        if not rows:
            return None
        row = rows[0]
        return {"instance": row[0], "host": row[1], "state": row[2], "heartbeat_at": int(row[3]),
                "heartbeat_ms": int(row[4]) if row[4] is not None else None}

    def executor_instance(self, executor_id):
        rows = self.db.query("SELECT instance FROM workflows.executors WHERE executor_id = ?", (executor_id,))
        return rows[0][0] if rows else None

    def heartbeat(self, executor_id, instance, generation, active, state, now):
        """Returns False when another process has taken this executor id over."""
        return self.db.execute("UPDATE workflows.executors SET heartbeat_at = ?, generation = ?, active = ?, state = ? "
                               "WHERE executor_id = ? AND instance = ?",
                               (now, generation, active, state, executor_id, instance)) == 1

    def live_peers(self, executor_id, heartbeat_since):
        """How many other executors heartbeat within the lease (the ones a NOTIFY of a start can wake)."""
        return int(self.db.query("SELECT count(*) FROM workflows.executors WHERE executor_id <> ? AND state <> "
                                 "'stopped' AND heartbeat_at >= ?", (executor_id, heartbeat_since))[0][0])

    def mark_executor_stopped(self, executor_id, instance, now):
        self.db.execute("UPDATE workflows.executors SET state = 'stopped', active = 0, heartbeat_at = ? WHERE "
                        "executor_id = ? AND instance = ?", (now, executor_id, instance))

    # -- commands -------------------------------------------------------------------------------------------------------

    def submit_command(self, workflow_uuid, judge, now):
        """Record a command under a lock on the run; `judge(run, pending)` decides and returns a CommandRecord.

        The judge sees the run row (or None) and its pending commands in the order received, so a command is
        judged against the state the run will be in once those have applied. Returns (record, run).
        """
        with self.db.transaction():
            rows = self.db.query("SELECT %s FROM workflows.workflow_status WHERE workflow_uuid = ?%s"
                                 % (_RUN_SELECT, self.dialect.for_update()), (workflow_uuid,))
            run = dict(zip(RUN_COLUMNS, rows[0])) if rows else None
            pending = self.pending_commands(workflow_uuid) if run else []
            record = judge(run, pending)
            if record is None:
                return None, run
            rows = self.db.query(
                "INSERT INTO workflows.workflow_commands (workflow_uuid, cmd, topic, payload, actor, actor_roles, reason, "
                "state, outcome_reason, received_at, decided_at, cause_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                (workflow_uuid, record.cmd, record.topic, record.payload, record.actor, record.actor_roles,
                 record.reason, record.state, record.outcome_reason, now, None if record.state == CMD_PENDING else now,
                 record.cause_id))
            record.id = int(rows[0][0])
            if record.then is not None:
                record.then(record)
        return record, run

    def pending_commands(self, workflow_uuid):
        rows = self.db.query("SELECT %s FROM workflows.workflow_commands WHERE workflow_uuid = ? AND state = 'PENDING' "
                             "ORDER BY id" % ", ".join(COMMAND_COLUMNS), (workflow_uuid,))
        return [dict(zip(COMMAND_COLUMNS, r)) for r in rows]

    def runs_with_pending_commands(self, executor_id):
        """Runs executing on this executor that have commands waiting (the per-tick safety net for hints)."""
        rows = self.db.query(
            "SELECT DISTINCT c.workflow_uuid FROM workflows.workflow_commands c JOIN workflows.workflow_status s ON "
            "s.workflow_uuid = c.workflow_uuid WHERE c.state = 'PENDING' AND s.executor_id = ? AND s.status IN %s"
            % _EXECUTING, (executor_id,))
        return [r[0] for r in rows]

    def supersede_commands_of_finished_runs(self, now, limit=500):
        """Safety net: a command that raced with the end of its run still gets an outcome."""
        return self.db.execute(
            "UPDATE workflows.workflow_commands SET state = 'SUPERSEDED', decided_at = ?, outcome_reason = "
            "'the run had finished before the command could apply' WHERE state = 'PENDING' AND id IN (SELECT c.id FROM "
            "workflows.workflow_commands c JOIN workflows.workflow_status s ON s.workflow_uuid = c.workflow_uuid "
            "WHERE c.state = 'PENDING' AND s.status IN %s LIMIT ?)" % _TERMINAL, (now, limit))

    def parked_past_deadline(self, now, limit=100):
        """Held and waiting runs past their deadline (timeoutSeconds)."""
        return [r[0] for r in self.db.query("SELECT workflow_uuid FROM workflows.workflow_status WHERE status IN "
                                            "('HELD', 'WAITING') AND deadline_at IS NOT NULL AND deadline_at < ? "
                                            "LIMIT ?", (now, limit))]

    # -- messages (send / recv) -----------------------------------------------------------------------------------------

    def send_message(self, destination_uuid, topic, message, now):
        self.db.execute("INSERT INTO workflows.notifications (destination_uuid, topic, message, created_at) "
                        "VALUES (?, ?, ?, ?)", (destination_uuid, topic, message, now))

    def take_message(self, destination_uuid, topic, now):
        """Consume the oldest unread message of a topic; returns its JSON text or None."""
        for _ in range(5):
            rows = self.db.query("SELECT id, message FROM workflows.notifications WHERE destination_uuid = ? AND "
                                 "topic = ? AND consumed_at IS NULL ORDER BY id LIMIT 1", (destination_uuid, topic))
            if not rows:
                return None
            if self.db.execute("UPDATE workflows.notifications SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL",
                               (now, rows[0][0])) == 1:
                return rows[0][1]
        return None

    # -- definitions, queues, settings, templates -------------------------------------------------------------------

    def publish_definitions(self, table, items, by, now):
        """Upsert name -> definition JSON rows into workflow_definitions or queues."""
        if table not in ("workflow_definitions", "queues"):
            raise ValueError(table)
        extra = ", module, description" if table == "workflow_definitions" else ""
        marks = "?, ?, ?, ?" + (", ?, ?" if extra else "")
        sets = "definition = excluded.definition, updated_at = excluded.updated_at, updated_by = excluded.updated_by"
        if extra:
            sets += ", module = excluded.module, description = excluded.description"
        sql = ("INSERT INTO workflows.%s (name, definition, updated_at, updated_by%s) VALUES (%s) "
               "ON CONFLICT (name) DO UPDATE SET %s" % (table, extra, marks, sets))
        rows = []
        for item in items:
            row = [item["name"], item["definition"], now, by]
            if extra:
                row.extend([item.get("module"), item.get("description")])
            rows.append(row)
        if rows:
            self.db.execute_many(sql, rows)

    def definitions(self, table):
        if table not in ("workflow_definitions", "queues"):
            raise ValueError(table)
        return self.db.query("SELECT name, definition FROM workflows.%s ORDER BY name" % table)

    def definition(self, table, name):
        if table not in ("workflow_definitions", "queues"):
            raise ValueError(table)
        rows = self.db.query("SELECT definition FROM workflows.%s WHERE name = ?" % table, (name,))
        return rows[0][0] if rows else None

    def get_setting(self, key):
        rows = self.db.query("SELECT value FROM workflows.settings WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def put_setting(self, key, value, by, now):
        self.db.execute("INSERT INTO workflows.settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, "
                        "updated_by = excluded.updated_by", (key, value, now, by))

    def templates(self, workflow_name):
        return self.db.query("SELECT template_name, params, updated_at, updated_by FROM workflows.param_templates "
                             "WHERE workflow_name = ? ORDER BY template_name", (workflow_name,))

    def put_template(self, workflow_name, template_name, params, by, now):
        self.db.execute("INSERT INTO workflows.param_templates (workflow_name, template_name, params, updated_at, "
                        "updated_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (workflow_name, template_name) DO UPDATE SET "
                        "params = excluded.params, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                        (workflow_name, template_name, params, now, by))

    def delete_template(self, workflow_name, template_name):
        return self.db.execute("DELETE FROM workflows.param_templates WHERE workflow_name = ? AND template_name = ?",
                               (workflow_name, template_name))

    # -- retention --------------------------------------------------------------------------------------------------

    def delete_finished_before(self, cutoff, limit):
        """Delete up to `limit` terminal runs completed before `cutoff`, with everything recorded for them."""
        with self.db.transaction():
            wids = [r[0] for r in self.db.query(
                "SELECT workflow_uuid FROM workflows.workflow_status WHERE status IN %s AND completed_at < ? "
                "ORDER BY completed_at LIMIT ?" % _TERMINAL, (cutoff, limit))]
            if not wids:
                return 0
            marks = _marks(len(wids))
            for table in ("operation_outputs", "workflow_events", "workflow_events_history", "streams",
                          "workflow_commands"):
                self.db.execute("DELETE FROM workflows.%s WHERE workflow_uuid IN (%s)" % (table, marks), wids)
            self.db.execute("DELETE FROM workflows.notifications WHERE destination_uuid IN (%s)" % marks, wids)
            self.db.execute("DELETE FROM workflows.run_waits WHERE waiter_uuid IN (%s)" % marks, wids)
            self.db.execute("DELETE FROM workflows.tag_waits WHERE workflow_uuid IN (%s)" % marks, wids)
            self.db.execute("DELETE FROM workflows.workflow_status WHERE workflow_uuid IN (%s)" % marks, wids)
        return len(wids)

