"""Every change of a run's state: one function per named transition, with the records that go with it.

The engine decides what happens to a run; these functions write it. Each one changes the run's row under a guard
built from the TRANSITIONS table (the statuses it may start from, and whose write it is), and writes in the same
round trip what must exist if and only if the change happened: the status and phase events with their history,
the run's `log` entries, and the outcomes of the commands the change decides or supersedes. Callers pass plain
values (a Fence, statuses, an error dict, a Records bundle); no SQL leaves this module.

A step's checkpoint and the other operations an execution records (recvCommand, sleep, setEvent outside a step)
are written here too, fenced the same way, so everything an execution writes comes through one module.
"""
from exchange.workflows.store import runwrite
from exchange.workflows.store.records import LOG_KEY, Records, command_entry, status_entry
from exchange.workflows.store.runwrite import Raw, RunWrite
from exchange.workflows.store.statuses import (CANCELLED, CMD_APPLIED, DELAYED, ENQUEUED, ERROR, EXECUTING, HELD,
                                               MAX_RECOVERY_ATTEMPTS_EXCEEDED, PARTITION_HOLDING, PENDING,
                                               PHASE_ABORTED, PHASE_HELD, PHASE_IDLE, PHASE_RUNNING, PHASE_STOPPED,
                                               PHASE_WAITING, RUNNING, STOPPED, SUCCESS, TERMINAL, WAITING, sql_list)
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.ids import new_id as _fresh_id
from exchange.workflows.util.jsoncodec import dumps, quote

NOTIFY_CHANNEL = "exchange_workflows"
WAKE_PAYLOAD = "wake"  # the NOTIFY of a waiting run woken: any gateway may claim it


class Fence(object):
    """Which execution a write comes from: its executor and the run_count it began with (the fencing token every
    begin raises). A write fenced by an execution the run has moved on from changes nothing."""

    __slots__ = ("executor_id", "run_count")

    def __init__(self, executor_id, run_count):
        self.executor_id = executor_id
        self.run_count = int(run_count)


class Transition(object):
    """One row of the transition table: from which statuses, to which, whose write it is, what goes with it."""

    __slots__ = ("name", "sources", "targets", "owner", "records")

    def __init__(self, name, sources, targets, owner, records):
        self.name = name
        self.sources = sources
        self.targets = targets
        self.owner = owner
        self.records = records


# whose write a transition is (the guard beyond the source statuses)
BY_EXECUTION = "this execution (executor and run_count)"
BY_EXECUTOR = "this executor"
FROM_EXECUTOR = "the executor it is taken from"
CLAIMER = "the claiming executor"
SWEEPER = "any executor (its sweep or tick)"
SENDER = "the command's sender"
ANY_SCOPE = "any scope (gateway, Designer, client)"

TRANSITIONS = (
    Transition("enqueue", (), (ENQUEUED, DELAYED), ANY_SCOPE,
               "status event; log: status with by, queue, startsAt when delayed (unless the id exists or the "
               "deduplicationId is active)"),
    Transition("debounce", (DELAYED,), (DELAYED,), ANY_SCOPE,
               "none: a later call of the burst replaces the inputs and moves the start on (never past maxWait)"),
    Transition("release_delayed", (DELAYED,), (ENQUEUED,), SWEEPER,
               "status event; log: status with reason (its start time came)"),
    Transition("start_child", (), (ENQUEUED, DELAYED), BY_EXECUTION,
               "as enqueue, and in the same round trip the parent's record of starting it (fenced by the parent's "
               "execution)"),
    Transition("claim_and_begin", (ENQUEUED,), (RUNNING,), CLAIMER,
               "status and phase events; log: status with executor (within the queue's limits and partitions)"),
    Transition("release_begun", (RUNNING,), (ENQUEUED,), BY_EXECUTION,
               "status event; log: status with reason (a claim no worker could take)"),
    Transition("adopt", (PENDING, RUNNING), (PENDING,), FROM_EXECUTOR,
               "none; counts a recovery attempt when it was RUNNING"),
    Transition("claim_held", (HELD,), (PENDING,), CLAIMER,
               "none (a RESUME or STOP waits for it)"),
    Transition("release_claim", (PENDING,), (ENQUEUED, HELD), BY_EXECUTOR,
               "none (a claim no worker could take)"),
    Transition("begin", (PENDING,), (RUNNING,), BY_EXECUTOR,
               "status event (and phase, unless resuming); log: status with executor"),
    Transition("change_phase", (RUNNING,), (RUNNING,), BY_EXECUTION,
               "phase events and log entries, command outcomes"),
    Transition("park", (RUNNING,), (HELD,), BY_EXECUTION,
               "status and phase events; log: status with reason; command outcomes"),
    Transition("hand_back", (RUNNING,), (PENDING,), BY_EXECUTION,
               "log: status with reason"),
    Transition("wait", (RUNNING,), (WAITING,), BY_EXECUTION,
               "status and phase events; log: status with reason; command outcomes; who it awaits (run_waits) or "
               "the tag it waits on (tag_waits)"),
    Transition("wake", (WAITING,), (WAITING,), ANY_SCOPE,
               "none: the wake time becomes now (an awaited run ended, or a STOP or HOLD came)"),
    Transition("release_tag_wait", (WAITING,), (WAITING,), SWEEPER,
               "the wait's outcome recorded at its position (the tag condition held, or the tag's quality went bad), "
               "its tag wait removed; the wake time becomes now"),
    Transition("claim_woken", (WAITING,), (PENDING,), CLAIMER,
               "none (a woken run, or one whose wait timed out)"),
    Transition("finish", (RUNNING,), (SUCCESS, ERROR, CANCELLED, STOPPED), BY_EXECUTION,
               "status and phase events; log: status with reason; command outcomes; other pending commands "
               "superseded; runs awaiting it woken"),
    Transition("give_up", (PENDING,), (MAX_RECOVERY_ATTEMPTS_EXCEEDED,), BY_EXECUTOR,
               "status and phase events; log: status with reason; pending commands superseded; runs awaiting it "
               "woken"),
    Transition("expire_parked", (HELD, WAITING), (CANCELLED,), SWEEPER,
               "status and phase events; log: status with reason; pending commands superseded; runs awaiting it "
               "woken"),
    Transition("end_at_once", (DELAYED, ENQUEUED, HELD, WAITING), (STOPPED, CANCELLED), SENDER,
               "phase and status events; log: command, phase, status; pending commands superseded; runs awaiting "
               "it woken"),
)
_BY_NAME = dict([(t.name, t) for t in TRANSITIONS])


def _sources_sql(name):
    sources = _BY_NAME[name].sources
    if len(sources) == 1:
        return "status = '%s'" % sources[0]
    return "status IN %s" % sql_list(sources)


def _guard(name):
    """The guard of a transition's UPDATE, and how many parameters its owner check takes (0, 1 or 2)."""
    owner = _BY_NAME[name].owner
    sources = _sources_sql(name)
    if owner == BY_EXECUTION:
        return sources + " AND executor_id = ? AND run_count = ?"
    if owner in (BY_EXECUTOR, FROM_EXECUTOR):
        return sources + " AND executor_id = ?"
    return sources


_GUARDS = dict([(t.name, _guard(t.name)) for t in TRANSITIONS])


def _fenced(fence):
    return [fence.executor_id, fence.run_count]


_EXECUTING = sql_list(EXECUTING)
_PARTITION_HOLDING = sql_list(PARTITION_HOLDING)


def _marks(n):
    return ", ".join(["?"] * n)


# what claim_and_begin and begin return for each run they began (the worker's starting point)
BEGUN_COLUMNS = ("workflow_uuid", "name", "inputs", "deadline_at", "run_count", "recovery_attempts", "retry_of",
                 "phase", "queue_name", "timeout_ms")
_BEGIN_RETURNING = list(BEGUN_COLUMNS[1:])
_CLAIM_AND_BEGIN = ("SELECT * FROM workflows.claim_and_begin(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), "
                    "CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS INTEGER), "
                    "CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS TEXT))")

# A queue's claimable runs in claim order, read from ws_claim_order (migration 4) without a sort; the claim function
# of PostgreSQL (migrations._CLAIM_SELECTION) asks the same.
_CANDIDATES = (
    "SELECT c.workflow_uuid, c.partition_key FROM workflows.workflow_status c WHERE c.queue_name = ? AND "
    "c.status = 'ENQUEUED' AND (c.partition_key IS NULL OR NOT EXISTS (SELECT 1 FROM "
    "workflows.workflow_status a WHERE a.queue_name = c.queue_name AND a.partition_key = c.partition_key "
    "AND a.status IN %s))%%s ORDER BY c.priority, c.created_at, c.workflow_uuid LIMIT ?" % _PARTITION_HOLDING)
CLAIM_CANDIDATES = _CANDIDATES % ""

# A batch of in-memory starts (JSON objects of these columns, in one JSON array) and their creation records. The
# PostgreSQL statement builds the log entry of records.status_entry(ENQUEUED, at, by=..., queue=...) in SQL.
_PACKED_COLUMNS = (("workflow_uuid", "TEXT"), ("name", "TEXT"), ("status", "TEXT"), ("phase", "TEXT"),
                   ("queue_name", "TEXT"), ("partition_key", "TEXT"), ("priority", "INTEGER"),
                   ("deduplication_id", "TEXT"), ("inputs", "JSON"), ("application_version", "TEXT"),
                   ("created_by", "TEXT"), ("created_at", "BIGINT"), ("updated_at", "BIGINT"), ("timeout_ms", "BIGINT"),
                   ("workflow_version", "TEXT"))
_PACKED_NAMES = ", ".join([c for c, _ in _PACKED_COLUMNS])
_ENQUEUE_PACKED_PG = (
    "WITH p AS (INSERT INTO workflows.workflow_status (%s) SELECT %s FROM json_to_recordset(CAST(? AS json)) AS r(%s) "
    "ON CONFLICT DO NOTHING RETURNING workflow_uuid, queue_name, to_json(status)::text AS status, created_by), "
    "ev AS (INSERT INTO workflows.workflow_events (workflow_uuid, key, value, updated_at) "
    "SELECT workflow_uuid, 'status', status, CAST(? AS BIGINT) FROM p), "
    "eh AS (INSERT INTO workflows.workflow_events_history (workflow_uuid, key, value, created_at) "
    "SELECT workflow_uuid, 'status', status, CAST(? AS BIGINT) FROM p), "
    "lg AS (INSERT INTO workflows.streams (workflow_uuid, key, \"offset\", value, created_at) "
    "SELECT workflow_uuid, 'log', 0, '{\"kind\":\"status\",\"status\":' || status || ',\"at\":' || "
    "CAST(CAST(? AS BIGINT) AS TEXT) || ',\"by\":' || COALESCE(to_json(created_by)::text, 'null') || "
    "',\"queue\":' || to_json(queue_name)::text || '}', CAST(? AS BIGINT) FROM p) "
    "SELECT workflow_uuid, queue_name FROM p" % (
        _PACKED_NAMES, ", ".join(["CAST(r.inputs AS TEXT)" if c == "inputs" else "r." + c for c, _ in _PACKED_COLUMNS]),
        ", ".join(["%s %s" % column for column in _PACKED_COLUMNS])))
_ENQUEUE_PACKED_SQLITE = (
    "INSERT INTO workflows.workflow_status (%s) SELECT %s FROM json_each(?) AS j WHERE 1 ON CONFLICT DO NOTHING "
    "RETURNING workflow_uuid, queue_name, status, created_by" % (
        _PACKED_NAMES, ", ".join(["json_extract(j.value, '$.%s')" % c for c, _ in _PACKED_COLUMNS])))

_RECORD_STEP = ("INSERT INTO workflows.operation_outputs (workflow_uuid, function_id, function_name, kind, status, "
                "output, error, attempts, started_at, completed_at) %s ON CONFLICT DO NOTHING"
                % runwrite.fenced_checkpoint("?, ?, 'step', ?, ?, ?, ?, ?, ?"))

# the parent's checkpoint of a startChild, fenced by the parent's execution like every checkpoint
_CHILD_CHECKPOINT = ("INSERT INTO workflows.operation_outputs (workflow_uuid, function_id, function_name, kind, "
                     "status, output, error, attempts, started_at, completed_at) %s ON CONFLICT DO NOTHING"
                     % runwrite.fenced_checkpoint("?, ?, 'child', 'SUCCESS', ?, NULL, 1, ?, ?"))

_EVENT_UPSERT = ("INSERT INTO workflows.workflow_events (workflow_uuid, key, value, updated_at) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT (workflow_uuid, key) DO UPDATE SET value = excluded.value, "
                 "updated_at = excluded.updated_at")
_EVENT_HISTORY = ("INSERT INTO workflows.workflow_events_history (workflow_uuid, key, value, created_at) "
                  "VALUES (?, ?, ?, ?)")

# a run that ends tells whether anyone awaits it, so only then is a wake-up written
_HAS_WAITERS = ("has_waiters", "EXISTS (SELECT 1 FROM workflows.run_waits r WHERE r.awaited_uuid = workflow_uuid)")
_FAILED = tuple([s for s in TERMINAL if s != SUCCESS])
_AWAITED = ("SELECT 1 FROM workflows.run_waits r JOIN workflows.workflow_status c ON c.workflow_uuid = r.awaited_uuid "
            "WHERE r.waiter_uuid = w.workflow_uuid AND r.function_id = w.wait_fid AND c.status ")
# a waiting run is ready when what it awaits has happened: one of them ended ('any'), or all of them did or one
# failed ('all')
_READY = ("w.status = 'WAITING' AND (w.wake_at IS NULL OR w.wake_at > ?) AND ((w.wait_mode = 'any' AND EXISTS (%s"
          "IN %s)) OR (w.wait_mode = 'all' AND (EXISTS (%sIN %s) OR NOT EXISTS (%sNOT IN %s))))" % (
              _AWAITED, sql_list(TERMINAL), _AWAITED, sql_list(_FAILED), _AWAITED, sql_list(TERMINAL)))
_WAKE = "UPDATE workflows.workflow_status AS w SET wake_at = ?, updated_at = ? WHERE %s AND " + _READY + \
    " RETURNING workflow_uuid"

# the tag waits the dispatcher releases, as one JSON array of these fields (PostgreSQL: one statement for all)
_RELEASE_FIELDS = ("workflow_uuid", "function_id", "name", "status", "output", "error", "started_at")
_RELEASE_PG = (
    "WITH r AS (SELECT * FROM json_to_recordset(CAST(? AS json)) AS r(workflow_uuid TEXT, function_id INTEGER, "
    "name TEXT, status TEXT, output TEXT, error TEXT, started_at BIGINT)), "
    "w AS (UPDATE workflows.workflow_status s SET wake_at = CAST(? AS BIGINT), updated_at = CAST(? AS BIGINT) FROM r "
    "WHERE s.workflow_uuid = r.workflow_uuid AND s.status = 'WAITING' AND s.wait_mode = 'tag' AND "
    "s.wait_fid = r.function_id RETURNING s.workflow_uuid), "
    "cp AS (INSERT INTO workflows.operation_outputs (workflow_uuid, function_id, function_name, kind, status, output, "
    "error, attempts, started_at, completed_at) SELECT r.workflow_uuid, r.function_id, r.name, 'wait', r.status, "
    "r.output, r.error, 1, r.started_at, CAST(? AS BIGINT) FROM r JOIN w ON w.workflow_uuid = r.workflow_uuid "
    "ON CONFLICT DO NOTHING), "
    "d AS (DELETE FROM workflows.tag_waits t USING w WHERE t.workflow_uuid = w.workflow_uuid)%s "
    "SELECT w.workflow_uuid%s FROM w")
_RELEASE_PG_NOTIFY = _RELEASE_PG % (", n AS (SELECT pg_notify(?, ?) FROM (SELECT 1 FROM w LIMIT 1) x)",
                                    ", (SELECT count(*) FROM n)")
_RELEASE_PG = _RELEASE_PG % ("", "")

_START_CHILD_PG = {}  # the columns of the child's row -> the statement


def _start_child_sql(columns, notify):
    return ("WITH p AS (INSERT INTO workflows.workflow_status (%s) VALUES (%s) ON CONFLICT DO NOTHING RETURNING "
            "workflow_uuid), "
            "ev AS (INSERT INTO workflows.workflow_events (workflow_uuid, key, value, updated_at) SELECT workflow_uuid, "
            "'status', ?, CAST(? AS BIGINT) FROM p), "
            "eh AS (INSERT INTO workflows.workflow_events_history (workflow_uuid, key, value, created_at) SELECT "
            "workflow_uuid, 'status', ?, CAST(? AS BIGINT) FROM p), "
            "lg AS (INSERT INTO workflows.streams (workflow_uuid, key, \"offset\", value, created_at) SELECT "
            "workflow_uuid, 'log', 0, ?, CAST(? AS BIGINT) FROM p), "
            "%scp AS (%s RETURNING 1) "
            "SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM cp)%s"
            % (", ".join(columns), _marks(len(columns)), "nt AS (SELECT pg_notify(?, ?) AS n FROM p), " if notify else "",
               _CHILD_CHECKPOINT, ", (SELECT count(*) FROM nt)" if notify else ""))


_ENDED = "the run ended (%s)"
_ENDED_FIRST = "the run ended (%s) before the command applied"


def _created_entry(row, now):
    """The first `log` entry of a run: who started it on which queue, and when it starts if it is delayed."""
    if row["status"] == DELAYED:
        return status_entry(DELAYED, now, by=row.get("created_by"), queue=row["queue_name"], startsAt=row["wake_at"])
    return status_entry(ENQUEUED, now, by=row.get("created_by"), queue=row["queue_name"])


def _with(w, records):
    """Put a Records bundle in front of what the write adds itself."""
    if records is not None:
        w.events[0:0] = records.events
        w.streams[0:0] = records.streams
        w.outcomes.extend(records.outcomes)
    return w


def _status_change(w, status, at, reason, phase=None, previous_phase=None):
    """The status event, the phase event when the phase changes, and the status `log` entry."""
    w.events.append(("status", quote(status), at))
    if phase is not None and phase != previous_phase:
        w.events.append(("phase", quote(phase), at))
    w.add_log(status_entry(status, at, reason=reason), at)


def _first_start(first_start):
    """A first execution begun by a claim keeps the worker's time of pick-up as its start (and deadline)."""
    if first_start is None:
        return []
    started_at, deadline_at = first_start
    return [("started_at", started_at), ("deadline_at", deadline_at)]


class RunTransitions(object):
    """The transitions of TRANSITIONS on one store's database."""

    def __init__(self, store):
        self._store = store
        self._db = store.db
        self._dialect = store.dialect
        self._run = runwrite.run_postgres if self._dialect.supports_cte_dml else runwrite.run_sqlite
        self.on_woken = None  # called with the ids of waiting runs this process woke (the engine claims them)
        self.notify_wakes = lambda: True  # whether other processes must hear of a wake-up (PostgreSQL NOTIFY)

    def _commit(self, w):
        """Run a RunWrite; stream entries that lost an offset race (PostgreSQL) are appended again one by one."""
        result = self._run(self._db, w)
        if result.matched and w.streams and result.log_written < len(w.streams):
            for key, value, ts in w.streams:
                if not self._store.stream_entry_exists(w.workflow_uuid, key, value, ts):
                    self._store.append_stream(w.workflow_uuid, key, value, ts)
        return result

    # -- new runs -----------------------------------------------------------------------------------------------------

    def enqueue(self, row, notify_payload=None):
        """A new run, ENQUEUED (or DELAYED until its wake_at), from a workflow_status row; returns ('inserted' |
        'exists' | 'duplicate', run id).

        'exists': a run with this id exists (starts are idempotent by id); 'duplicate': an active run of the queue
        has the row's deduplicationId (its id is returned). `notify_payload` is sent to NOTIFY_CHANNEL with the
        insert (PostgreSQL)."""
        now = row["created_at"]
        status = row["status"]
        if status not in _BY_NAME["enqueue"].targets:
            raise ValueError(status)
        for _ in range(3):
            w = RunWrite(row["workflow_uuid"])
            w.insert_row = row
            w.events.append(("status", quote(status), now))
            w.add_log(_created_entry(row, now), now)
            if notify_payload is not None:
                w.notify = (NOTIFY_CHANNEL, notify_payload)
            if self._commit(w).matched:
                return "inserted", row["workflow_uuid"]
            outcome, existing = self._store.why_not_inserted(row)
            if outcome != "retry":  # else the conflicting run ended between the insert and the look: again
                return outcome, existing
        return "duplicate", None

    def start_child(self, row, parent_uuid, fence, function_id, name, started_at, completed_at,
                    notify_payload=None):
        """A child run (as enqueue) and its parent's checkpoint of the start, in one round trip; returns
        (outcome of the child's insert: 'inserted' or 'exists', whether the checkpoint is the parent's).

        The child's id is derived from the parent's and the position, so a replay that finds the child already
        there ('exists', the gateway died before the checkpoint) records the checkpoint now."""
        now = row["created_at"]
        child = row["workflow_uuid"]
        checkpoint = [function_id, name, quote(child), started_at, completed_at, parent_uuid, fence.run_count]
        if self._dialect.supports_cte_dml:
            columns = sorted(row)
            shape = (tuple(columns), notify_payload is not None)
            sql = _START_CHILD_PG.get(shape)
            if sql is None:
                sql = _START_CHILD_PG[shape] = _start_child_sql(columns, notify_payload is not None)
            entry = _created_entry(row, now)
            params = [row[c] for c in columns] + [quote(row["status"]), now, quote(row["status"]), now, entry, now]
            if notify_payload is not None:
                params += [NOTIFY_CHANNEL, notify_payload]
            params += checkpoint
            inserted, recorded = self._db.query(sql, params)[0][:2]
            outcome = "inserted" if int(inserted) else "exists"
            recorded = int(recorded) == 1
        else:
            with self._db.transaction():
                outcome, _ = self.enqueue(row, notify_payload)
                recorded = self._db.execute(_CHILD_CHECKPOINT, checkpoint) == 1
        if not recorded:
            mine = self._store.get_checkpoint(parent_uuid, function_id)  # an earlier attempt whose answer was lost
            recorded = mine is not None and mine["function_name"] == name and mine["started_at"] == started_at
        return outcome, recorded

    def enqueue_packed(self, texts, now):
        """New runs from the in-memory queue with their creation records, stamped `now`, in one statement
        (PostgreSQL) or transaction (SQLite); returns [(run id, queue)] of those inserted (a run whose id or active
        deduplicationId exists already is skipped).

        `texts` are JSON objects of workflow_status columns (starts.pack), sent as one JSON array that the
        database expands into rows: a batch of 500 binds five values."""
        if not texts:
            return []
        batch = "[" + ",".join(texts) + "]"
        if self._dialect.supports_cte_dml:
            rows = self._db.query(_ENQUEUE_PACKED_PG, (batch, now, now, now, now))
            return [(r[0], r[1]) for r in rows]
        with self._db.transaction():
            rows = self._db.query(_ENQUEUE_PACKED_SQLITE, (batch,))
            statuses = [(r[0], "status", quote(r[2]), now) for r in rows]
            self._db.execute_many(_EVENT_UPSERT, statuses)
            self._db.execute_many(_EVENT_HISTORY, statuses)
            self._db.execute_many('INSERT INTO workflows.streams (workflow_uuid, key, "offset", value, created_at) '
                                  'VALUES (?, ?, 0, ?, ?)',
                                  [(r[0], LOG_KEY, status_entry(r[2], now, by=r[3], queue=r[1]), now) for r in rows])
        return [(r[0], r[1]) for r in rows]

    # -- delayed and debounced runs ------------------------------------------------------------------------------

    def debounce(self, row, quiet_ms, max_wait_ms, now, notify_payload=None):
        """One call of a debounced burst: joins the DELAYED run of the row's workflow and debounce_key (its inputs
        become the row's, its start moves to now + quiet_ms but never past the burst's maxWait), or starts the
        burst with `row` (DELAYED). Returns ('joined' | 'started', run id, start time)."""
        due = now + quiet_ms
        for _ in range(5):
            found = self._db.query(
                "UPDATE workflows.workflow_status SET inputs = ?, updated_at = ?, wake_at = CASE WHEN debounce_until "
                "IS NOT NULL AND debounce_until < ? THEN debounce_until ELSE ? END WHERE name = ? AND debounce_key = ? "
                "AND %s RETURNING workflow_uuid, wake_at" % _GUARDS["debounce"],
                (row["inputs"], now, due, due, row["name"], row["debounce_key"]))
            if found:
                return "joined", found[0][0], int(found[0][1])
            first = dict(row)
            first["status"] = DELAYED
            first["debounce_until"] = now + max_wait_ms if max_wait_ms is not None else None
            first["wake_at"] = min(due, first["debounce_until"]) if max_wait_ms is not None else due
            outcome, wid = self.enqueue(first, notify_payload)
            if outcome == "inserted":
                return "started", wid, first["wake_at"]
            if outcome == "exists":  # the row's id was taken by an earlier call whose answer was lost
                row = dict(row)
                row["workflow_uuid"] = _fresh_id()
            # else another caller started the burst between our update and insert: join it
        raise RuntimeError("debounce of %s/%s did not settle" % (row["name"], row["debounce_key"]))

    def delayed_due(self, before, limit=200):
        """(id, start time) of DELAYED runs that start by `before`, earliest first (index ws_delayed)."""
        return [(r[0], int(r[1])) for r in self._db.query(
            "SELECT workflow_uuid, wake_at FROM workflows.workflow_status WHERE status = 'DELAYED' AND wake_at <= ? "
            "ORDER BY wake_at LIMIT ?", (before, limit))]

    def release_delayed(self, workflow_uuid, now):
        """DELAYED -> ENQUEUED once its start time has come; returns its queue, or None when it was not due (or
        already released by another gateway, or ended by a command)."""
        w = RunWrite(workflow_uuid)
        w.update([("status", ENQUEUED), ("updated_at", now), ("wake_at", None), ("debounce_key", None)],
                 _GUARDS["release_delayed"] + " AND wake_at <= ?", [now], ["queue_name"])
        w.events.append(("status", quote(ENQUEUED), now))
        w.add_log(status_entry(ENQUEUED, now, reason="its start time came"), now)
        result = self._commit(w)
        return result.row["queue_name"] if result.matched and result.row else None

    # -- claims ---------------------------------------------------------------------------------------------------

    def claim_and_begin(self, queue_name, executor_id, generation, limit, now, concurrency=None,
                        worker_concurrency=None, rate_limit=None, rate_period_ms=None, window=None, names=None):
        """Claim up to `limit` ENQUEUED runs of one queue for this executor, in priority then FIFO order, and begin
        them: RUNNING here, with their status and phase events and log entry, in one round trip. `names`: a JSON
        array of the workflows this executor has registered (None: any).

        Honors the queue's global concurrency, this executor's worker concurrency, the rate limit and one executing
        or held run per partition key. Claimers of one queue are serialised, so claims never exceed capacity.
        Returns one dict per run (BEGUN_COLUMNS), for the worker that executes it.
        """
        if limit <= 0:
            return []
        window = window or max(4 * limit, 32)
        db = self._db
        if self._dialect.supports_cte_dml:
            rows = db.query(_CLAIM_AND_BEGIN, (queue_name, executor_id, generation, limit, now, concurrency,
                                               worker_concurrency, rate_limit, rate_period_ms, window, names))
            return [dict(zip(BEGUN_COLUMNS, r)) for r in rows]
        with db.transaction():
            now = max(now, now_ms())  # the time the runs begin: after waiting for the write lock, not before
            if concurrency is not None or worker_concurrency is not None:
                row = db.query(
                    "SELECT count(*), COALESCE(SUM(CASE WHEN executor_id = ? THEN 1 ELSE 0 END), 0) FROM "
                    "workflows.workflow_status WHERE queue_name = ? AND status IN %s" % _EXECUTING,
                    (executor_id, queue_name))[0]
                if concurrency is not None:
                    limit = min(limit, concurrency - int(row[0]))
                if worker_concurrency is not None:
                    limit = min(limit, worker_concurrency - int(row[1]))
            if rate_limit is not None and limit > 0:
                started = db.query("SELECT count(*) FROM workflows.workflow_status WHERE queue_name = ? AND "
                                   "claimed_at >= ?", (queue_name, now - rate_period_ms))[0][0]
                limit = min(limit, rate_limit - int(started))
            if limit <= 0:
                return []
            of_names, params = self._dialect.of_names("c.name", names)  # only the workflows this gateway has
            candidates = db.query(_CANDIDATES % of_names, [queue_name] + params + [window])
            chosen = []
            partitions = set()
            for wid, partition in candidates:
                if partition is not None:
                    if partition in partitions:
                        continue
                    partitions.add(partition)
                chosen.append(wid)
                if len(chosen) >= limit:
                    break
            if not chosen:
                return []
            rows = db.query(
                "UPDATE workflows.workflow_status SET status = 'RUNNING', phase = 'RUNNING', executor_id = ?, "
                "generation = ?, claimed_at = ?, updated_at = ?, started_at = COALESCE(started_at, ?), "
                "run_count = run_count + 1, deadline_at = CASE WHEN timeout_ms IS NULL THEN NULL ELSE "
                "COALESCE(deadline_at, ? + timeout_ms) END WHERE workflow_uuid IN (%s) AND status = 'ENQUEUED' "
                "RETURNING %s" % (_marks(len(chosen)), ", ".join(BEGUN_COLUMNS)),
                [executor_id, generation, now, now, now, now] + chosen)
            begun = dict([(r[0], dict(zip(BEGUN_COLUMNS, r))) for r in rows])
            self._begin_records([wid for wid in chosen if wid in begun], executor_id, now)
        return [begun[wid] for wid in chosen if wid in begun]

    def _begin_records(self, wids, executor_id, now):
        """SQLite: the events and log entry of runs a claim began (PostgreSQL's claim_and_begin writes them)."""
        if not wids:
            return
        running = quote(RUNNING)
        self._db.execute_many(_EVENT_UPSERT, [(w, k, running, now) for w in wids for k in ("phase", "status")])
        self._db.execute_many(_EVENT_HISTORY, [(w, k, running, now) for w in wids for k in ("phase", "status")])
        entry = status_entry(RUNNING, now, executor=executor_id)
        self._db.execute_many('INSERT INTO workflows.streams (workflow_uuid, key, "offset", value, created_at) SELECT '
                              '?, ?, COALESCE((SELECT MAX("offset") FROM workflows.streams WHERE workflow_uuid = ? AND '
                              'key = ?), -1) + 1, ?, ?', [(w, LOG_KEY, w, LOG_KEY, entry, now) for w in wids])

    def release_begun(self, begun, executor_id, now, reason):
        """Undo claim_and_begin for a run no worker took: ENQUEUED again, as it was before the claim."""
        unless_ran_before = "CASE WHEN run_count = 1 THEN %s ELSE %s END"  # what the claim set on a first run
        w = RunWrite(begun["workflow_uuid"])
        w.update([("status", ENQUEUED), ("phase", Raw(unless_ran_before % ("'%s'" % PHASE_IDLE, "phase"))),
                  ("executor_id", None), ("generation", None), ("claimed_at", None), ("updated_at", now),
                  ("started_at", Raw(unless_ran_before % ("NULL", "started_at"))),
                  ("deadline_at", Raw(unless_ran_before % ("NULL", "deadline_at"))),
                  ("run_count", Raw("run_count - 1"))],
                 _GUARDS["release_begun"], [executor_id, begun["run_count"]])
        w.events.append(("status", quote(ENQUEUED), now))
        w.add_log(status_entry(ENQUEUED, now, reason=reason), now)
        return self._commit(w).matched

    def adopt(self, workflow_uuid, executor_id, generation, from_executor, now, recovery):
        """Take over a PENDING/RUNNING run from `from_executor` (itself after a restart, or a dead gateway).

        `recovery` counts the attempt. Returns (recovery_attempts, name), or None when someone else got there first.
        """
        rows = self._db.query(
            "UPDATE workflows.workflow_status SET status = 'PENDING', executor_id = ?, generation = ?, claimed_at = ?, "
            "updated_at = ?, recovery_attempts = recovery_attempts + ? WHERE workflow_uuid = ? AND %s "
            "RETURNING recovery_attempts, name" % _GUARDS["adopt"],
            (executor_id, generation, now, now, 1 if recovery else 0, workflow_uuid, from_executor))
        return (int(rows[0][0]), rows[0][1]) if rows else None

    def claim_held(self, executor_id, generation, limit, now, commands, names=None):
        """Claim HELD runs that have a pending command only an executing run can apply (RESUME, STOP, ...); `names`:
        a JSON array of the workflows this executor has registered (None: any)."""
        if limit <= 0:
            return []
        of_names, params = self._dialect.of_names("s.name", names)
        found = self._db.query(
            "SELECT DISTINCT c.workflow_uuid FROM workflows.workflow_commands c JOIN workflows.workflow_status s ON "
            "s.workflow_uuid = c.workflow_uuid WHERE c.state = 'PENDING' AND c.cmd IN (%s) AND s.status = 'HELD'%s "
            "LIMIT ?" % (_marks(len(commands)), of_names), list(commands) + params + [limit])
        if not found:
            return []
        wids = [r[0] for r in found]
        rows = self._db.query(
            "UPDATE workflows.workflow_status SET status = 'PENDING', executor_id = ?, generation = ?, claimed_at = ?, "
            "updated_at = ? WHERE workflow_uuid IN (%s) AND %s RETURNING workflow_uuid"
            % (_marks(len(wids)), _GUARDS["claim_held"]), [executor_id, generation, now, now] + wids)
        return [r[0] for r in rows]

    def release_claim(self, workflow_uuid, executor_id, now, back_to=ENQUEUED):
        """Undo a claim that could not be started: back to ENQUEUED (or HELD) with the claim fields cleared."""
        if back_to not in _BY_NAME["release_claim"].targets:
            raise ValueError(back_to)
        return self._db.execute("UPDATE workflows.workflow_status SET status = ?, executor_id = NULL, "
                                "generation = NULL, claimed_at = NULL, updated_at = ? WHERE workflow_uuid = ? AND %s"
                                % _GUARDS["release_claim"], (back_to, now, workflow_uuid, executor_id))

    # -- an execution ---------------------------------------------------------------------------------------------

    def begin(self, workflow_uuid, executor_id, generation, resumed, now):
        """PENDING -> RUNNING on this executor (a run adopted, recovered or resumed): the row to start from
        (BEGUN_COLUMNS without the id), or None when the run is not this executor's to begin."""
        w = RunWrite(workflow_uuid)
        sets = [("status", RUNNING), ("updated_at", now), ("generation", generation),
                ("started_at", Raw("COALESCE(started_at, CAST(? AS BIGINT))", [now])),
                ("run_count", Raw("run_count + 1")),
                ("deadline_at", Raw("CASE WHEN timeout_ms IS NULL THEN NULL ELSE COALESCE(deadline_at, "
                                    "CAST(? AS BIGINT) + timeout_ms) END", [now]))]
        if not resumed:  # a resumed run keeps its phase (HELD) until the boundary applies the RESUME
            sets.append(("phase", PHASE_RUNNING))
            w.events.append(("phase", quote(PHASE_RUNNING), now))
        w.update(sets, _GUARDS["begin"], [executor_id], _BEGIN_RETURNING)
        w.events.append(("status", quote(RUNNING), now))
        w.add_log(status_entry(RUNNING, now, executor=executor_id), now)
        result = self._commit(w)
        return result.row if result.matched else None

    def change_phase(self, workflow_uuid, fence, phase, now, records):
        """The ISA-88 phase of a RUNNING run (HOLDING, RESUMING, STOPPING, ...); `records` carries the phase events
        and command outcomes that go with it. False when the execution is no longer the run's."""
        w = RunWrite(workflow_uuid)
        w.update([("phase", phase), ("updated_at", now)], _GUARDS["change_phase"], _fenced(fence))
        return self._commit(_with(w, records)).matched

    def attach(self, workflow_uuid, records):
        """Records with no change of the run's row (log entries of steps, command outcomes, events and stream
        values written inside a step)."""
        if records is None or records.empty():
            return True
        return self._commit(_with(RunWrite(workflow_uuid), records)).matched

    def record_step(self, workflow_uuid, function_id, name, status, output, error, attempts, started_at,
                    completed_at, run_count):
        """The hot path: one step's checkpoint, one INSERT (its log entries wait in memory for the next write).

        Fenced by `run_count`: an execution the run was taken from (its gateway paused past the lease, or replaced)
        records nothing. Returns False when the position was recorded by someone else or the execution is no
        longer the run's; True when this write (or an earlier attempt of it whose answer was lost) recorded it.
        """
        inserted = self._db.execute(_RECORD_STEP, (function_id, name, status, output, error, attempts, started_at,
                                                   completed_at, workflow_uuid, run_count))
        if inserted == 1:
            return True
        mine = self._store.get_checkpoint(workflow_uuid, function_id)
        return mine is not None and mine["function_name"] == name and mine["started_at"] == started_at and \
            mine["completed_at"] == completed_at

    def record_operation(self, workflow_uuid, fence, function_id, name, kind, status, output, error, attempts,
                         started_at, completed_at, records=None):
        """An operation's checkpoint (recvCommand, sleep, send, setEvent outside a step, ...) with the records it
        wrote, in one round trip; False when the position was recorded by someone else or the execution is no
        longer the run's."""
        w = RunWrite(workflow_uuid)
        w.checkpoint = {"workflow_uuid": workflow_uuid, "function_id": function_id, "function_name": name,
                        "kind": kind, "status": status, "output": output, "error": error, "attempts": attempts,
                        "started_at": started_at, "completed_at": completed_at}
        w.fence = fence.run_count
        return self._commit(_with(w, records)).matched

    def park(self, workflow_uuid, fence, now, reason, records, previous_phase, first_start=None):
        """RUNNING -> HELD: the run leaves its worker and executor; a RESUME, STOP or cancel brings it back."""
        w = RunWrite(workflow_uuid)
        w.update([("status", HELD), ("phase", PHASE_HELD), ("updated_at", now), ("executor_id", None)]
                 + _first_start(first_start), _GUARDS["park"], _fenced(fence))
        _with(w, records)
        _status_change(w, HELD, now, reason, PHASE_HELD, previous_phase)
        return self._commit(w).matched

    def hand_back(self, workflow_uuid, fence, now, reason, records, first_start=None):
        """RUNNING -> PENDING on this executor, between steps (a script reload, a shutdown): whoever executes the
        run next continues it from its checkpoints."""
        w = RunWrite(workflow_uuid)
        w.update([("status", PENDING), ("updated_at", now)] + _first_start(first_start), _GUARDS["hand_back"],
                 _fenced(fence))
        _with(w, records)
        w.add_log(status_entry(PENDING, now, reason=reason), now)
        return self._commit(w).matched

    def finish(self, workflow_uuid, fence, status, phase, now, reason, records, previous_phase, output=None,
               error=None, first_start=None):
        """RUNNING -> SUCCESS, ERROR, CANCELLED or STOPPED: the run's end, with its output (JSON text) or error
        (a dict: type, message, traceback). Commands still pending are superseded."""
        if status not in _BY_NAME["finish"].targets:
            raise ValueError(status)
        w = RunWrite(workflow_uuid)
        w.update([("status", status), ("phase", phase), ("updated_at", now), ("completed_at", now),
                  ("output", output), ("error", dumps(error) if error else None)] + _first_start(first_start),
                 _GUARDS["finish"], _fenced(fence), [_HAS_WAITERS])
        _with(w, records)
        _status_change(w, status, now, reason, phase, previous_phase)
        w.supersede = (_ENDED_FIRST % status, now)
        return self._ended(w, now)

    def _ended(self, w, now):
        """Commit the end of a run; then wake the runs that await it (after the commit: a waiter's own check after
        it parked, or this one, is sure to see both)."""
        result = self._commit(w)
        if result.matched and result.row and result.row.get("has_waiters"):
            self.wake_waiters_of(w.workflow_uuid, now)
        return result.matched

    # -- waiting for other runs ------------------------------------------------------------------------------------

    def wait(self, workflow_uuid, fence, now, function_id, awaited, mode, deadline, description, reason, records,
             previous_phase, first_start=None, tag_wait=None):
        """RUNNING -> WAITING: the run leaves its worker and executor until what it waits for at `function_id` has
        happened or `deadline` passes. mode 'any': one of `awaited` ended; 'all': all of them did, or one failed;
        'tag': a tag condition held (`tag_wait`: (path, condition JSON, poll_ms, evaluator, since), its row in
        tag_waits); 'sleep': only the deadline.

        `description` (JSON-native) says what it waits for, for operators. After the change commits, a run that
        awaits runs is woken at once if one of them ended meanwhile."""
        w = RunWrite(workflow_uuid)
        w.update([("status", WAITING), ("phase", PHASE_WAITING), ("updated_at", now), ("executor_id", None),
                  ("wake_at", deadline), ("wait_fid", function_id), ("wait_mode", mode),
                  ("waiting_for", dumps(description))] + _first_start(first_start), _GUARDS["wait"], _fenced(fence))
        _with(w, records)
        _status_change(w, WAITING, now, reason, PHASE_WAITING, previous_phase)
        if awaited:
            w.waits = (function_id, list(awaited))
        if tag_wait is not None:
            w.tag_wait = (function_id,) + tuple(tag_wait)
        matched = self._commit(w).matched
        if matched and awaited:
            self.wake_ready([workflow_uuid], now_ms())
        return matched

    def release_tag_waits(self, released, now):
        """WAITING -> WAITING with the outcome of each run's tag wait recorded at its position, its tag wait row
        removed and its wake time now, for the runs still waiting there; returns their ids.

        `released`: dicts of workflow_uuid, function_id, name, status (SUCCESS or ERROR), output and error (JSON
        text or None) and started_at. Any executor writes it (the dispatcher that read the tags)."""
        if not released:
            return []
        notify = self._dialect.supports_notify and self.notify_wakes()
        if self._dialect.supports_cte_dml:
            rows = [dict([(k, r[k]) for k in _RELEASE_FIELDS]) for r in released]
            sql = _RELEASE_PG
            args = [dumps(rows), now, now, now]
            if notify:
                sql = _RELEASE_PG_NOTIFY
                args += [NOTIFY_CHANNEL, WAKE_PAYLOAD]
            woken = [r[0] for r in self._db.query(sql, args)]
        else:
            woken = []
            with self._db.transaction():
                for r in released:
                    found = self._db.query(
                        "UPDATE workflows.workflow_status SET wake_at = ?, updated_at = ? WHERE workflow_uuid = ? AND "
                        "%s AND wait_mode = 'tag' AND wait_fid = ? RETURNING workflow_uuid"
                        % _GUARDS["release_tag_wait"], (now, now, r["workflow_uuid"], r["function_id"]))
                    if not found:
                        continue
                    self._db.execute(
                        "INSERT INTO workflows.operation_outputs (workflow_uuid, function_id, function_name, kind, "
                        "status, output, error, attempts, started_at, completed_at) VALUES (?, ?, ?, 'wait', ?, ?, ?, "
                        "1, ?, ?) ON CONFLICT DO NOTHING", (r["workflow_uuid"], r["function_id"], r["name"],
                                                            r["status"], r["output"], r["error"], r["started_at"], now))
                    self._db.execute("DELETE FROM workflows.tag_waits WHERE workflow_uuid = ?", (r["workflow_uuid"],))
                    woken.append(r["workflow_uuid"])
        if woken and self.on_woken is not None:
            self.on_woken(woken)
        return woken

    def wake(self, workflow_uuid, now):
        """A waiting run is to be executed now whatever it awaits (a STOP or HOLD was sent to it); False when it is
        not waiting."""
        woken = self._wake("w.workflow_uuid = ? AND w.status = 'WAITING' AND (w.wake_at IS NULL OR w.wake_at > ?)",
                           [workflow_uuid, now], now, plain=True)
        return bool(woken)

    def wake_ready(self, workflow_uuids, now):
        """Wake those of these waiting runs whose wait is over; returns their ids."""
        if not workflow_uuids:
            return []
        return self._wake("w.workflow_uuid IN (%s)" % _marks(len(workflow_uuids)), list(workflow_uuids), now)

    def wake_waiters_of(self, awaited_uuid, now):
        """Wake the runs whose wait the end of `awaited_uuid` completes; returns their ids."""
        return self._wake("w.workflow_uuid IN (SELECT r.waiter_uuid FROM workflows.run_waits r WHERE "
                          "r.awaited_uuid = ?)", [awaited_uuid], now)

    def wake_all_ready(self, now):
        """The fallback of the timer tick: wake every waiting run whose wait is over (a wake-up that was lost with
        a process, or raced with a commit)."""
        return self._wake("w.status = 'WAITING'", [], now)

    def _wake(self, where, params, now, plain=False):
        if plain:
            sql = ("UPDATE workflows.workflow_status AS w SET wake_at = ?, updated_at = ? WHERE %s RETURNING "
                   "workflow_uuid" % where)
            args = [now, now] + params
        else:
            sql = _WAKE % where
            args = [now, now] + params + [now]
        notify = self._dialect.supports_notify and self.notify_wakes()
        if notify:
            sql = ("WITH w AS (%s), n AS (SELECT pg_notify(?, ?) FROM (SELECT 1 FROM w LIMIT 1) x) SELECT "
                   "w.workflow_uuid, (SELECT count(*) FROM n) FROM w" % sql)
            args += [NOTIFY_CHANNEL, WAKE_PAYLOAD]
        woken = [r[0] for r in self._db.query(sql, args)]
        if woken and self.on_woken is not None:
            self.on_woken(woken)
        return woken

    def claim_woken(self, executor_id, generation, limit, now, names=None):
        """WAITING -> PENDING on this executor for up to `limit` runs whose wake time has come (woken, or past
        their deadline), earliest first; `names`: a JSON array of the workflows this executor has registered (None:
        any)."""
        if limit <= 0:
            return []
        of_names, params = self._dialect.of_names("name", names)
        rows = self._db.query(
            "UPDATE workflows.workflow_status SET status = 'PENDING', executor_id = ?, generation = ?, claimed_at = ?, "
            "updated_at = ?, wake_at = NULL WHERE workflow_uuid IN (SELECT workflow_uuid FROM workflows.workflow_status "
            "WHERE status = 'WAITING' AND wake_at <= ?%s ORDER BY wake_at LIMIT ?%s) AND %s RETURNING workflow_uuid"
            % (of_names, self._dialect.skip_locked(), _GUARDS["claim_woken"]),
            [executor_id, generation, now, now, now] + params + [limit])
        return [r[0] for r in rows]

    # -- runs no execution holds ------------------------------------------------------------------------------------

    def give_up(self, workflow_uuid, executor_id, now, error):
        """PENDING -> MAX_RECOVERY_ATTEMPTS_EXCEEDED: an adopted run that keeps crashing its gateway is not
        executed again; its queue slot and partition are freed."""
        return self._end_unheld(workflow_uuid, "give_up", [executor_id], MAX_RECOVERY_ATTEMPTS_EXCEEDED, now, error)

    def expire_parked(self, workflow_uuid, now, error):
        """HELD or WAITING -> CANCELLED: a run parked past its deadline (the run's timeoutSeconds)."""
        return self._end_unheld(workflow_uuid, "expire_parked", [], CANCELLED, now, error)

    def _end_unheld(self, workflow_uuid, name, guard_params, status, now, error):
        w = RunWrite(workflow_uuid)
        w.update([("status", status), ("phase", PHASE_ABORTED), ("updated_at", now), ("completed_at", now),
                  ("error", dumps(error))], _GUARDS[name], guard_params, [_HAS_WAITERS])
        _status_change(w, status, now, error["message"], PHASE_ABORTED)
        w.supersede = (_ENDED % status, now)
        return self._ended(w, now)

    def end_at_once(self, workflow_uuid, judged_status, status, now, command, why, error=None):
        """DELAYED, ENQUEUED, HELD or WAITING -> STOPPED or CANCELLED when the command arrives (no execution holds the run), inside
        the transaction that records the command; `command` is its row (id, cmd, actor, reason)."""
        if judged_status not in _BY_NAME["end_at_once"].sources or status not in _BY_NAME["end_at_once"].targets:
            raise ValueError("%s -> %s" % (judged_status, status))
        phase = PHASE_STOPPED if status == STOPPED else PHASE_ABORTED
        w = RunWrite(workflow_uuid)
        w.update([("status", status), ("phase", phase), ("completed_at", now), ("error", dumps(error) if error else None),
                  ("updated_at", now)], "status = ?", [judged_status], [_HAS_WAITERS])
        records = Records().log(command_entry(command, CMD_APPLIED, why, now), now).phase_changed(phase, now)
        _with(w, records)
        w.events.append(("status", quote(status), now))
        w.add_log(status_entry(status, now, reason=why), now)
        w.supersede = (_ENDED % status, now)
        return self._ended(w, now)

