"""Versioned schema migrations, recorded in workflows.schema_migrations.

A migration is (version, name, function(dialect) -> list of SQL). They run in order, each in its own transaction,
under a lock so that several gateways starting at once apply each version exactly once. Never edit a released
migration: append a new one.
"""
from exchange.workflows.store.statuses import sql_list

# The status lists each migration was released with: a released migration builds the same SQL forever, while
# statuses.py grows with the engine.
_V1_EXECUTING = ("PENDING", "RUNNING")
_V1_PARTITION_HOLDING = ("PENDING", "RUNNING", "HELD")
_V1_DEDUP_ACTIVE = ("ENQUEUED", "PENDING", "RUNNING", "HELD")
_V7_PARTITION_HOLDING = ("PENDING", "RUNNING", "HELD", "WAITING")
_V7_DEDUP_ACTIVE = ("ENQUEUED", "PENDING", "RUNNING", "HELD", "WAITING")
_V8_DEDUP_ACTIVE = ("DELAYED", "ENQUEUED", "PENDING", "RUNNING", "HELD", "WAITING")


def _v1_core(d):
    bigint = "BIGINT"
    stmts = [
        """CREATE TABLE IF NOT EXISTS workflows.workflow_status (
            workflow_uuid TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            status TEXT NOT NULL,
            phase TEXT,
            queue_name TEXT NOT NULL,
            partition_key TEXT,
            priority INTEGER NOT NULL DEFAULT 0,
            deduplication_id TEXT,
            inputs TEXT,
            output TEXT,
            error TEXT,
            executor_id TEXT,
            generation %(b)s,
            application_version TEXT,
            created_by TEXT,
            created_at %(b)s NOT NULL,
            updated_at %(b)s NOT NULL,
            claimed_at %(b)s,
            started_at %(b)s,
            completed_at %(b)s,
            timeout_ms %(b)s,
            deadline_at %(b)s,
            run_count INTEGER NOT NULL DEFAULT 0,
            recovery_attempts INTEGER NOT NULL DEFAULT 0,
            retry_of TEXT,
            retry_from INTEGER
        )""" % {"b": bigint},
        d.create_index("ws_claim", "workflow_status", "queue_name, priority, created_at", "status = 'ENQUEUED'"),
        d.create_index("ws_partition", "workflow_status", "queue_name, partition_key",
                       "status IN %s AND partition_key IS NOT NULL" % sql_list(_V1_PARTITION_HOLDING)),
        d.create_index("ws_executing", "workflow_status", "executor_id, queue_name",
                       "status IN %s" % sql_list(_V1_EXECUTING)),
        d.create_index("ws_held", "workflow_status", "deadline_at", "status = 'HELD'"),
        d.create_index("ws_dedup", "workflow_status", "queue_name, deduplication_id",
                       "deduplication_id IS NOT NULL AND status IN %s" % sql_list(_V1_DEDUP_ACTIVE), unique=True),
        d.create_index("ws_created", "workflow_status", "created_at, workflow_uuid"),
        d.create_index("ws_name_created", "workflow_status", "name, created_at, workflow_uuid"),
        d.create_index("ws_status_created", "workflow_status", "status, created_at, workflow_uuid"),
        d.create_index("ws_queue_created", "workflow_status", "queue_name, created_at, workflow_uuid"),
        d.create_index("ws_partition_created", "workflow_status", "partition_key, created_at, workflow_uuid",
                       "partition_key IS NOT NULL"),
        d.create_index("ws_queue_claimed", "workflow_status", "queue_name, claimed_at", "claimed_at IS NOT NULL"),
        d.create_index("ws_retry_of", "workflow_status", "retry_of", "retry_of IS NOT NULL"),
        """CREATE TABLE IF NOT EXISTS workflows.operation_outputs (
            workflow_uuid TEXT NOT NULL,
            function_id INTEGER NOT NULL,
            function_name TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            output TEXT,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 1,
            started_at %(b)s,
            completed_at %(b)s,
            PRIMARY KEY (workflow_uuid, function_id)
        )""" % {"b": bigint},
        """CREATE TABLE IF NOT EXISTS workflows.workflow_events (
            workflow_uuid TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT,
            updated_at %(b)s NOT NULL,
            PRIMARY KEY (workflow_uuid, key)
        )""" % {"b": bigint},
        """CREATE TABLE IF NOT EXISTS workflows.workflow_events_history (
            id %(pk)s,
            workflow_uuid TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT,
            created_at %(b)s NOT NULL
        )""" % {"b": bigint, "pk": d.serial_pk},
        d.create_index("weh_run", "workflow_events_history", "workflow_uuid, id"),
        """CREATE TABLE IF NOT EXISTS workflows.streams (
            workflow_uuid TEXT NOT NULL,
            key TEXT NOT NULL,
            "offset" INTEGER NOT NULL,
            value TEXT,
            created_at %(b)s NOT NULL,
            PRIMARY KEY (workflow_uuid, key, "offset")
        )""" % {"b": bigint},
        """CREATE TABLE IF NOT EXISTS workflows.workflow_commands (
            id %(pk)s,
            workflow_uuid TEXT NOT NULL,
            cmd TEXT NOT NULL,
            topic TEXT NOT NULL,
            payload TEXT,
            actor TEXT NOT NULL,
            actor_roles TEXT,
            reason TEXT,
            state TEXT NOT NULL,
            outcome_reason TEXT,
            received_at %(b)s NOT NULL,
            decided_at %(b)s
        )""" % {"b": bigint, "pk": d.serial_pk},
        d.create_index("wc_run", "workflow_commands", "workflow_uuid, id"),
        d.create_index("wc_pending", "workflow_commands", "workflow_uuid, id", "state = 'PENDING'"),
        """CREATE TABLE IF NOT EXISTS workflows.notifications (
            id %(pk)s,
            destination_uuid TEXT NOT NULL,
            topic TEXT NOT NULL,
            message TEXT,
            created_at %(b)s NOT NULL,
            consumed_at %(b)s
        )""" % {"b": bigint, "pk": d.serial_pk},
        d.create_index("nt_pending", "notifications", "destination_uuid, topic, id", "consumed_at IS NULL"),
        """CREATE TABLE IF NOT EXISTS workflows.executors (
            executor_id TEXT PRIMARY KEY,
            instance TEXT NOT NULL,
            host TEXT,
            kind TEXT,
            generation %(b)s NOT NULL DEFAULT 0,
            workers INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL,
            started_at %(b)s NOT NULL,
            heartbeat_at %(b)s NOT NULL
        )""" % {"b": bigint},
        """CREATE TABLE IF NOT EXISTS workflows.workflow_definitions (
            name TEXT PRIMARY KEY,
            module TEXT,
            description TEXT,
            definition TEXT NOT NULL,
            updated_at %(b)s NOT NULL,
            updated_by TEXT
        )""" % {"b": bigint},
        """CREATE TABLE IF NOT EXISTS workflows.queues (
            name TEXT PRIMARY KEY,
            definition TEXT NOT NULL,
            updated_at %(b)s NOT NULL,
            updated_by TEXT
        )""" % {"b": bigint},
        """CREATE TABLE IF NOT EXISTS workflows.param_templates (
            workflow_name TEXT NOT NULL,
            template_name TEXT NOT NULL,
            params TEXT NOT NULL,
            updated_at %(b)s NOT NULL,
            updated_by TEXT,
            PRIMARY KEY (workflow_name, template_name)
        )""" % {"b": bigint},
        """CREATE TABLE IF NOT EXISTS workflows.settings (
            key TEXT PRIMARY KEY,
            value TEXT,
            updated_at %(b)s NOT NULL,
            updated_by TEXT
        )""" % {"b": bigint},
    ]
    return d.create_schema() + stmts


# The queue claim's choice of runs, shared by claim_queue (v2) and claim_and_begin (v3): capacity, rate limit and
# one run per partition, under a per-queue advisory lock. It leaves the chosen ids in `chosen`.
_CLAIM_SELECTION = """DECLARE
    wanted INTEGER := p_limit;
    executing INTEGER;
    executing_here INTEGER;
    started INTEGER;
    candidate RECORD;
    chosen TEXT[] := ARRAY[]::TEXT[];
    partitions TEXT[] := ARRAY[]::TEXT[];
BEGIN
    -- claimers of one queue take turns, so counts below stay true until this transaction commits
    PERFORM pg_advisory_xact_lock(hashtext('workflows.queue:' || p_queue));
    IF p_concurrency IS NOT NULL OR p_worker_concurrency IS NOT NULL THEN
        SELECT count(*), COALESCE(SUM(CASE WHEN executor_id = p_executor THEN 1 ELSE 0 END), 0)
          INTO executing, executing_here
          FROM workflows.workflow_status WHERE queue_name = p_queue AND status IN %(executing)s;
        IF p_concurrency IS NOT NULL THEN wanted := LEAST(wanted, p_concurrency - executing); END IF;
        IF p_worker_concurrency IS NOT NULL THEN wanted := LEAST(wanted, p_worker_concurrency - executing_here); END IF;
    END IF;
    IF p_rate_limit IS NOT NULL AND wanted > 0 THEN
        SELECT count(*) INTO started FROM workflows.workflow_status
         WHERE queue_name = p_queue AND claimed_at >= p_now - p_rate_period_ms;
        wanted := LEAST(wanted, p_rate_limit - started);
    END IF;
    IF wanted <= 0 THEN
        RETURN;
    END IF;
    FOR candidate IN
        SELECT c.workflow_uuid, c.partition_key FROM workflows.workflow_status c
         WHERE c.queue_name = p_queue AND c.status = 'ENQUEUED'
           AND (c.partition_key IS NULL OR NOT EXISTS (
                SELECT 1 FROM workflows.workflow_status a WHERE a.queue_name = c.queue_name
                   AND a.partition_key = c.partition_key AND a.status IN %(holding)s))
         ORDER BY c.priority, c.created_at, c.workflow_uuid
         LIMIT GREATEST(p_window, wanted)
    LOOP
        IF candidate.partition_key IS NOT NULL THEN
            CONTINUE WHEN candidate.partition_key = ANY (partitions);
            partitions := partitions || candidate.partition_key;
        END IF;
        chosen := chosen || candidate.workflow_uuid;
        EXIT WHEN cardinality(chosen) >= wanted;
    END LOOP;
"""


def _claim_queue_sql(executing, holding):
    return ("""CREATE OR REPLACE FUNCTION workflows.claim_queue(p_queue TEXT, p_executor TEXT, p_generation BIGINT,
        p_limit INTEGER, p_now BIGINT, p_concurrency INTEGER, p_worker_concurrency INTEGER, p_rate_limit INTEGER,
        p_rate_period_ms BIGINT, p_window INTEGER) RETURNS SETOF TEXT LANGUAGE plpgsql AS $claim$
""" + _CLAIM_SELECTION + """    RETURN QUERY UPDATE workflows.workflow_status SET status = 'PENDING', executor_id = p_executor,
                        generation = p_generation, claimed_at = p_now, updated_at = p_now
                  WHERE workflow_uuid = ANY (chosen) AND status = 'ENQUEUED' RETURNING workflow_uuid;
END
$claim$""") % {"executing": sql_list(executing), "holding": sql_list(holding)}


def _v2_claim_function(d):
    """PostgreSQL: the queue claim of Store.claim_queue as one server-side call (one round trip per claim)."""
    if d.name != "postgresql":
        return []
    return [_claim_queue_sql(_V1_EXECUTING, _V1_PARTITION_HOLDING)]


def _claim_and_begin_sql(executing, holding):
    # the log entry written for each run begun has the shape of records.status_entry(RUNNING, at, executor=...)
    return ("""CREATE OR REPLACE FUNCTION workflows.claim_and_begin(p_queue TEXT, p_executor TEXT,
        p_generation BIGINT, p_limit INTEGER, p_now BIGINT, p_concurrency INTEGER, p_worker_concurrency INTEGER,
        p_rate_limit INTEGER, p_rate_period_ms BIGINT, p_window INTEGER)
        RETURNS TABLE (r_workflow_uuid TEXT, r_name TEXT, r_inputs TEXT, r_deadline_at BIGINT, r_run_count INTEGER,
                       r_recovery_attempts INTEGER, r_retry_of TEXT, r_phase TEXT, r_queue_name TEXT,
                       r_timeout_ms BIGINT)
        LANGUAGE plpgsql AS $claim$
""" + _CLAIM_SELECTION.replace("DECLARE\n", "DECLARE\n    began BIGINT;\n", 1) + """
    -- the time the runs begin, on the caller's clock: p_now plus however long this statement waited for the
    -- queue's lock (a run whose end freed the slot may have ended while we waited)
    began := p_now + CAST(EXTRACT(EPOCH FROM clock_timestamp() - statement_timestamp()) * 1000 AS BIGINT);
    RETURN QUERY WITH begun AS (
        UPDATE workflows.workflow_status s SET status = 'RUNNING', phase = 'RUNNING', executor_id = p_executor,
               generation = p_generation, claimed_at = began, updated_at = began,
               started_at = COALESCE(s.started_at, began), run_count = s.run_count + 1,
               deadline_at = CASE WHEN s.timeout_ms IS NULL THEN NULL ELSE COALESCE(s.deadline_at, began + s.timeout_ms) END
         WHERE s.workflow_uuid = ANY (chosen) AND COALESCE(s.status = 'ENQUEUED', FALSE)  -- by the primary key
        RETURNING s.workflow_uuid, s.name, s.inputs, s.deadline_at, s.run_count, s.recovery_attempts, s.retry_of,
                  s.phase, s.queue_name, s.timeout_ms
    ), ev AS (
        INSERT INTO workflows.workflow_events (workflow_uuid, key, value, updated_at)
        SELECT b.workflow_uuid, k.key, '"RUNNING"', began FROM begun b CROSS JOIN (VALUES ('phase'), ('status')) AS k(key)
        ON CONFLICT (workflow_uuid, key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
    ), eh AS (
        INSERT INTO workflows.workflow_events_history (workflow_uuid, key, value, created_at)
        SELECT b.workflow_uuid, k.key, '"RUNNING"', began FROM begun b
         CROSS JOIN (VALUES (1, 'phase'), (2, 'status')) AS k(n, key) ORDER BY b.workflow_uuid, k.n
    ), lg AS (
        INSERT INTO workflows.streams (workflow_uuid, key, "offset", value, created_at)
        SELECT b.workflow_uuid, 'log', COALESCE((SELECT MAX(x."offset") FROM workflows.streams x
                WHERE x.workflow_uuid = b.workflow_uuid AND x.key = 'log'), -1) + 1,
               '{"kind":"status","status":"RUNNING","at":' || began || ',"executor":' || to_json(p_executor)::text || '}',
               began
          FROM begun b
    )
    SELECT * FROM begun;
END
$claim$""") % {"executing": sql_list(executing), "holding": sql_list(holding)}


def _v3_claim_and_begin(d):
    """PostgreSQL: claim queued runs and begin them (RUNNING, with their events and log entry) in one statement.

    A claimed run starts on a worker at once (claims never exceed the free workers), so the separate PENDING ->
    RUNNING write that followed every claim was a round trip per run with nothing to wait for. It stays synchronous:
    run_count is the fencing token of the execution, so it must be durable before any step runs.
    """
    if d.name != "postgresql":
        return []
    return ["DROP FUNCTION IF EXISTS workflows.claim_and_begin(TEXT, TEXT, BIGINT, INTEGER, BIGINT, INTEGER, INTEGER, "
            "INTEGER, BIGINT, INTEGER)", _claim_and_begin_sql(_V1_EXECUTING, _V1_PARTITION_HOLDING)]


def _v4_claim_order_index(d):
    """The claim's index in the claim's whole order (priority, created_at, then workflow_uuid as the tie-break).

    ws_claim stopped at created_at, so PostgreSQL could not take the first rows of the claim's ORDER BY from it: each
    claim read every ENQUEUED row of the queue and sorted them (1,000 queued runs: 0.9 ms per claim; a backlog of
    100,000 would have cost a hundred times that). In the full order a claim reads only the rows it looks at."""
    return [d.create_index("ws_claim_order", "workflow_status", "queue_name, priority, created_at, workflow_uuid",
                           "status = 'ENQUEUED'"),
            "DROP INDEX IF EXISTS workflows.ws_claim"]


_CLAIM_ARGS = "TEXT, TEXT, BIGINT, INTEGER, BIGINT, INTEGER, INTEGER, INTEGER, BIGINT, INTEGER"


def _v5_claim_generic_plans(d):
    """PostgreSQL: the claim functions plan their statements once per connection (plan_cache_mode).

    PostgreSQL re-plans a cached statement for each call while its generic plan looks costlier than the plans made
    for the values at hand; inside claim_and_begin it never stopped (the estimate for `workflow_uuid = ANY (chosen)`
    is many rows before the array is known), so every claim planned its five-part write again: 0.85 ms per call
    where the generic plans, the same index scans, take 0.47 ms."""
    if d.name != "postgresql":
        return []
    return ["ALTER FUNCTION workflows.%s(%s) SET plan_cache_mode = force_generic_plan" % (name, _CLAIM_ARGS)
            for name in ("claim_queue", "claim_and_begin")]


def _v6_executor_heartbeat_interval(d):
    """How often each executor heartbeats, so a gateway starting under an id can tell a live holder (its heartbeat
    advances within that interval) from one that crashed a moment ago."""
    return ["ALTER TABLE workflows.executors ADD COLUMN heartbeat_ms BIGINT"]


def _v7_runs_that_wait(d):
    """Runs that start other runs and wait for them: a parent and root on each run, the WAITING status (no worker,
    no executor) with when to wake and what for, the table of who awaits whom, and the command that caused a
    command (a parent's HOLD sent on to its children).

    WAITING keeps its partition and its deduplicationId like HELD, so the partial indexes and the claim functions
    are made again with WAITING in their status lists."""
    stmts = ["ALTER TABLE workflows.workflow_status ADD COLUMN %s" % column for column in (
        "parent_uuid TEXT", "root_uuid TEXT", "wake_at BIGINT", "wait_fid INTEGER", "wait_mode TEXT",
        "waiting_for TEXT")]
    stmts.append("ALTER TABLE workflows.workflow_commands ADD COLUMN cause_id BIGINT")
    stmts.append("""CREATE TABLE IF NOT EXISTS workflows.run_waits (
            awaited_uuid TEXT NOT NULL,
            waiter_uuid TEXT NOT NULL,
            function_id INTEGER NOT NULL,
            PRIMARY KEY (awaited_uuid, waiter_uuid, function_id)
        )""")
    stmts += [
        d.create_index("rw_waiter", "run_waits", "waiter_uuid, function_id"),
        d.create_index("ws_parent", "workflow_status", "parent_uuid, created_at, workflow_uuid",
                       "parent_uuid IS NOT NULL"),
        d.create_index("ws_waking", "workflow_status", "wake_at", "status = 'WAITING'"),
        d.create_index("ws_top_created", "workflow_status", "created_at, workflow_uuid", "parent_uuid IS NULL"),
        "DROP INDEX IF EXISTS workflows.ws_partition",
        d.create_index("ws_partition", "workflow_status", "queue_name, partition_key",
                       "status IN %s AND partition_key IS NOT NULL" % sql_list(_V7_PARTITION_HOLDING)),
        "DROP INDEX IF EXISTS workflows.ws_dedup",
        d.create_index("ws_dedup", "workflow_status", "queue_name, deduplication_id",
                       "deduplication_id IS NOT NULL AND status IN %s" % sql_list(_V7_DEDUP_ACTIVE), unique=True),
    ]
    if d.name == "postgresql":
        stmts += [_claim_queue_sql(_V1_EXECUTING, _V7_PARTITION_HOLDING),
                  _claim_and_begin_sql(_V1_EXECUTING, _V7_PARTITION_HOLDING)]
        stmts += _v5_claim_generic_plans(d)
    return stmts


def _v8_timed_starts(d):
    """Runs that start themselves: DELAYED runs (not claimed before wake_at), debounced bursts (one DELAYED run per
    workflow and key, its inputs replaced by each call), schedules with their next fire, and the record of who
    changed a schedule.

    A DELAYED run keeps its deduplicationId, so ws_dedup is made again with DELAYED in its status list."""
    bigint = "BIGINT"
    stmts = ["ALTER TABLE workflows.workflow_status ADD COLUMN %s" % column for column in (
        "debounce_key TEXT", "debounce_until BIGINT", "schedule_name TEXT", "scheduled_at BIGINT")]
    stmts += [
        d.create_index("ws_delayed", "workflow_status", "wake_at", "status = 'DELAYED'"),
        d.create_index("ws_debounce", "workflow_status", "name, debounce_key",
                       "status = 'DELAYED' AND debounce_key IS NOT NULL", unique=True),
        d.create_index("ws_schedule", "workflow_status", "schedule_name, scheduled_at",
                       "schedule_name IS NOT NULL"),
        "DROP INDEX IF EXISTS workflows.ws_dedup",
        d.create_index("ws_dedup", "workflow_status", "queue_name, deduplication_id",
                       "deduplication_id IS NOT NULL AND status IN %s" % sql_list(_V8_DEDUP_ACTIVE), unique=True),
        """CREATE TABLE IF NOT EXISTS workflows.schedules (
            schedule_name TEXT PRIMARY KEY,
            workflow_name TEXT NOT NULL,
            cron TEXT NOT NULL,
            timezone TEXT NOT NULL,
            inputs TEXT,
            queue_name TEXT NOT NULL,
            partition_key TEXT,
            missed_policy TEXT NOT NULL,
            catch_up_limit INTEGER NOT NULL,
            enabled INTEGER NOT NULL,
            source TEXT NOT NULL,
            next_fire_at %(b)s,
            last_fire_at %(b)s,
            created_by TEXT,
            created_at %(b)s NOT NULL,
            updated_at %(b)s NOT NULL
        )""" % {"b": bigint},
        d.create_index("sc_due", "schedules", "next_fire_at", "enabled = 1"),
        """CREATE TABLE IF NOT EXISTS workflows.schedule_changes (
            id %(pk)s,
            schedule_name TEXT NOT NULL,
            action TEXT NOT NULL,
            actor TEXT NOT NULL,
            actor_roles TEXT,
            verdict TEXT NOT NULL,
            detail TEXT,
            at %(b)s NOT NULL
        )""" % {"b": bigint, "pk": d.serial_pk},
        d.create_index("scc_schedule", "schedule_changes", "schedule_name, id"),
    ]
    return stmts


def _v9_plant_io(d):
    """Plant I/O: the tag waits parked runs hold (what they wait for, which gateway evaluates it), and the memory
    tags of the standalone gateway, kept in the database so that console scripts and every gateway on the database
    read and write the same tags.

    A tag wait row is written with the `wait` transition and belongs to one position of its run (function_id):
    a row whose run no longer waits there is ignored, and removed by the sweep."""
    bigint = "BIGINT"
    return [
        """CREATE TABLE IF NOT EXISTS workflows.tag_waits (
            workflow_uuid TEXT PRIMARY KEY,
            function_id INTEGER NOT NULL,
            tag_path TEXT NOT NULL,
            condition TEXT NOT NULL,
            poll_ms INTEGER,
            evaluator TEXT,
            since %(b)s NOT NULL
        )""" % {"b": bigint},
        d.create_index("tw_evaluator", "tag_waits", "evaluator"),
        """CREATE TABLE IF NOT EXISTS workflows.memory_tags (
            path_key TEXT PRIMARY KEY,
            path TEXT NOT NULL,
            value TEXT,
            quality TEXT NOT NULL,
            updated_at %(b)s NOT NULL
        )""" % {"b": bigint},
    ]


_NAMES_DECLARED = ("DECLARE\n    names TEXT[] := CASE WHEN p_names IS NULL THEN NULL ELSE ARRAY(SELECT "
                   "json_array_elements_text(CAST(p_names AS json))) END;\n")
_CLAIM_ARGS_NAMED = _CLAIM_ARGS + ", TEXT"


def _claim_and_begin_named_sql(executing, holding):
    """claim_and_begin with one more parameter, p_names: a JSON array of the workflows the claiming gateway has
    registered (NULL: any), so that a run is only begun by a gateway that can execute it."""
    sql = _claim_and_begin_sql(executing, holding)
    sql = sql.replace("p_rate_period_ms BIGINT, p_window INTEGER)", "p_rate_period_ms BIGINT, p_window INTEGER, "
                      "p_names TEXT)", 1)
    sql = sql.replace("DECLARE\n", _NAMES_DECLARED, 1)
    sql = sql.replace("WHERE c.queue_name = p_queue AND c.status = 'ENQUEUED'",
                      "WHERE c.queue_name = p_queue AND c.status = 'ENQUEUED' AND (names IS NULL OR c.name = ANY "
                      "(names))", 1)
    return sql


def _v10_code_versions(d):
    """Code versions: the version of the workflow's code each run started under (searchable), the workflows and
    versions each executor has registered, and on PostgreSQL a claim that begins only runs of workflows the
    claiming gateway has (gateways of different versions share one database during a rolling update). The claim
    of the earlier signature stays for gateways that have not been updated yet."""
    stmts = ["ALTER TABLE workflows.workflow_status ADD COLUMN workflow_version TEXT",
             "ALTER TABLE workflows.executors ADD COLUMN workflows TEXT",
             d.create_index("ws_version", "workflow_status", "workflow_version, created_at, workflow_uuid",
                            "workflow_version IS NOT NULL")]
    if d.name == "postgresql":
        stmts += [_claim_and_begin_named_sql(_V1_EXECUTING, _V7_PARTITION_HOLDING),
                  "ALTER FUNCTION workflows.claim_and_begin(%s) SET plan_cache_mode = force_generic_plan"
                  % _CLAIM_ARGS_NAMED]
    return stmts


MIGRATIONS = [
    (1, "core tables: runs, checkpoints, events, streams, commands, executors, definitions", _v1_core),
    (2, "claim_queue(): a queue claim in one round trip on PostgreSQL", _v2_claim_function),
    (3, "claim_and_begin(): claim queued runs and begin them in the same round trip", _v3_claim_and_begin),
    (4, "ws_claim_order: the queue claim's index in the claim's whole order", _v4_claim_order_index),
    (5, "claim functions keep generic plans (no re-planning per claim)", _v5_claim_generic_plans),
    (6, "executors.heartbeat_ms: each executor's heartbeat interval", _v6_executor_heartbeat_interval),
    (7, "runs that wait for runs: parent and root, WAITING, run_waits, commands' causes", _v7_runs_that_wait),
    (8, "runs that start themselves: DELAYED, debounce keys, schedules and their changes", _v8_timed_starts),
    (9, "plant I/O: tag waits and the standalone gateway's memory tags", _v9_plant_io),
    (10, "code versions: each run's workflow version, each executor's workflows, claims of registered workflows",
     _v10_code_versions),
]

LATEST = MIGRATIONS[-1][0]
