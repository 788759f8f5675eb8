"""Schedules: a workflow started on a cron timetable, one run per schedule and fire time across every gateway.

A fire's run id is derived from the schedule's name and the fire time, and the gateway that fires it advances the
schedule's next fire (guarded by the value it read) and inserts the run in one transaction: whichever gateways
see a fire due, one run exists for it, and a gateway killed half-way leaves neither. The dispatcher asks for the
schedules due within the coming tick and sets a timer for the next fire, so a run starts at its fire time, not
at the tick after it.
"""
from exchange.workflows.engine import starts
from exchange.workflows.util import cron, ids
from exchange.workflows.util.compat import integer_types, string_types
from exchange.workflows.util.errors import InvalidArgument, NotFound, WorkflowsError
from exchange.workflows.util.jsoncodec import dumps, loads

NAMESPACE = "3d0b5f7e-9c1a-4e52-8b6d-7a2f4c9e1b30"  # of the run ids of schedule fires
SKIP = "skip"
CATCH_UP = "catchUp"
MISSED_POLICIES = (SKIP, CATCH_UP)
DEFAULT_CATCH_UP_LIMIT = 10
MOST_CATCH_UP = 1000
LATE_GRACE_MS = 10000  # a fire this late still starts under `skip` (a busy or restarting gateway)
CATCH_UP_LOOKBACK_MS = 31 * 24 * 3600 * 1000  # catchUp looks no further back than this
MOST_FIRES_LOOKED_AT = 100000
MOST_BACKFILL = 1000
DUE_PER_TICK = 500
SOURCE_API = "api"
SOURCE_CODE = "code"


class ScheduleExists(WorkflowsError):
    code = "SCHEDULE_EXISTS"


def fire_id(schedule_name, fire_ms):
    """The run of one fire: the same id on every gateway that sees it due."""
    return ids.name_based_id(NAMESPACE, u"%s@%d" % (schedule_name, fire_ms))


def _name(value):
    if not isinstance(value, string_types) or not value.strip() or len(value) > starts.MAX_KEY_LENGTH \
            or value != value.strip() or value in (u".", u"..") or [c for c in value if ord(c) < 32]:
        raise InvalidArgument("scheduleName must be a string of at most %d characters, without control characters "
                              "or spaces at its ends, and not '.' or '..' (it is part of the console's URLs)"
                              % starts.MAX_KEY_LENGTH, field="scheduleName")
    return value


def _start_inputs(inputs):
    """A schedule's inputs as start() takes them ({"resolved": ...} or a template), or a plain parameter dict."""
    if inputs is None:
        return None
    if isinstance(inputs, dict) and inputs and all([k in ("resolved", "template", "overrides") for k in inputs]):
        return inputs
    return {"resolved": inputs}


class Plan(object):
    """A schedule checked: its cron, zone and start request, ready to fire."""

    def __init__(self, engine, row):
        self.row = row
        self.spec = cron.parse(row["cron"])
        self.zone = engine.host.time_zone(row["timezone"])

    def next_after(self, after_ms):
        return self.spec.next_fire(after_ms, self.zone)


def check(engine, scheduleName, workflowName, cronText, timezone, inputs, queueName, partitionKey, missedPolicy,
          catchUpLimit):
    """A schedule's columns from the arguments of createSchedule, every one checked (nothing is written)."""
    _name(scheduleName)
    if not isinstance(cronText, string_types):
        raise InvalidArgument("cron must be a cron expression such as '*/10 * * * *'", field="cron")
    cron.parse(cronText)
    if timezone is None:
        timezone = "UTC"
    engine.host.time_zone(timezone)
    if missedPolicy not in MISSED_POLICIES:
        raise InvalidArgument("missedPolicy must be one of %s, got %r" % (", ".join(MISSED_POLICIES), missedPolicy),
                              field="missedPolicy")
    if catchUpLimit is None:
        catchUpLimit = DEFAULT_CATCH_UP_LIMIT
    if isinstance(catchUpLimit, bool) or not isinstance(catchUpLimit, integer_types) or \
            not 1 <= catchUpLimit <= MOST_CATCH_UP:
        raise InvalidArgument("catchUpLimit must be an integer from 1 to %d" % MOST_CATCH_UP, field="catchUpLimit")
    start_inputs = _start_inputs(inputs)
    row = starts.prepare(engine, workflowName, start_inputs, queueName, partitionKey,
                         templates=_stored_templates(engine, workflowName, start_inputs))
    return {"schedule_name": scheduleName, "workflow_name": row["name"], "cron": cronText.strip(),
            "timezone": timezone, "inputs": dumps(start_inputs) if start_inputs is not None else None,
            "queue_name": row["queue_name"], "partition_key": row["partition_key"], "missed_policy": missedPolicy,
            "catch_up_limit": int(catchUpLimit)}


def _stored_templates(engine, workflow_name, inputs):
    if not isinstance(inputs, dict) or "template" not in inputs:
        return None
    return dict([(r[0], loads(r[1])) for r in engine.store.templates(workflow_name)])


def create(engine, columns, enabled, source, created_by, now):
    row = dict(columns)
    row.update({"enabled": bool(enabled), "source": source, "last_fire_at": None, "created_by": created_by,
                "created_at": now, "updated_at": now})
    row["next_fire_at"] = Plan(engine, row).next_after(now) if enabled else None
    if not engine.store.schedules.create(row):
        raise ScheduleExists("a schedule named %r exists already" % row["schedule_name"],
                             data={"scheduleName": row["schedule_name"]})
    engine.schedules_changed()
    return row


def get(engine, name):
    row = engine.store.schedules.get(_name(name))
    if row is None:
        raise NotFound("no schedule named %r" % name, data={"scheduleName": name})
    return row


def set_enabled(engine, row, enabled, now):
    """Pause (no fires, none caught up later) or resume (from the next fire after now) the schedule `row`."""
    name = row["schedule_name"]
    changes = {"enabled": enabled, "next_fire_at": Plan(engine, row).next_after(now) if enabled else None}
    engine.store.schedules.update(name, changes, now)
    engine.schedules_changed()
    row.update(changes)
    row["updated_at"] = now
    return row


def delete(engine, name):
    engine.store.schedules.delete(name)
    engine.schedules_changed()


def _run_row(engine, row, fire_ms, workflow_id, created_by, trigger):
    run = starts.prepare(engine, row["workflow_name"], loads(row["inputs"]) if row["inputs"] else None,
                         row["queue_name"], row["partition_key"], workflowId=workflow_id, createdBy=created_by,
                         templates=_stored_templates(engine, row["workflow_name"], loads(row["inputs"] or "null")),
                         supplied={"scheduleName": row["schedule_name"], "scheduledAt": fire_ms,
                                   "trigger": trigger})
    run["schedule_name"] = row["schedule_name"]
    run["scheduled_at"] = fire_ms
    return run


def _insert(engine, run):
    outcome, wid = engine.store.transitions.enqueue(run, starts.notify_payload(engine, run))
    return outcome, wid


def trigger(engine, row, created_by, now):
    """One run of the schedule `row` now, outside the timetable (its scheduled time is now)."""
    run = _run_row(engine, row, now, None, created_by, "manual")
    outcome, wid = _insert(engine, run)
    if outcome == "inserted":
        engine.work_added(run["queue_name"])
    return wid


def backfill(engine, row, from_ms, to_ms, created_by):
    """A run of the schedule `row` for each fire time in [from_ms, to_ms] that has none yet (the ids of fires
    make a second backfill of the same span start nothing)."""
    for field, value in (("fromMs", from_ms), ("toMs", to_ms)):
        if isinstance(value, bool) or not isinstance(value, integer_types) or value < 0:
            raise InvalidArgument("%s must be epoch milliseconds" % field, field=field)
    if to_ms < from_ms:
        raise InvalidArgument("toMs must not be before fromMs", field="toMs")
    plan = Plan(engine, row)
    fires = []
    t = plan.next_after(from_ms - 1)
    while t <= to_ms:
        if len(fires) == MOST_BACKFILL:
            raise InvalidArgument("the span holds more than %d fire times: backfill it in parts" % MOST_BACKFILL,
                                  field="toMs")
        fires.append(t)
        t = plan.next_after(t)
    started, existing = [], []
    for fire in fires:
        run = _run_row(engine, row, fire, fire_id(row["schedule_name"], fire), created_by, "backfill")
        outcome, wid = _insert(engine, run)
        (started if outcome == "inserted" else existing).append(wid)
    if started:
        engine.work_added(row["queue_name"])
    return started, existing, fires


# -- firing -------------------------------------------------------------------------------------------------------

def plan_fires(plan, first_due, now, policy, limit):
    """(fire times to start now, oldest first; how many were skipped; the next fire after now)."""
    if policy == SKIP:
        start = first_due if first_due >= now - LATE_GRACE_MS else plan.next_after(now - LATE_GRACE_MS - 1)
        kept = []
        t = start
        while t <= now:
            kept.append(t)
            t = plan.next_after(t)
        return kept, (1 if start > first_due else 0), t
    t = first_due if first_due >= now - CATCH_UP_LOOKBACK_MS else plan.next_after(now - CATCH_UP_LOOKBACK_MS)
    skipped = 0 if t == first_due else 1
    kept = []
    looked = 0
    while t <= now and looked < MOST_FIRES_LOOKED_AT:
        kept.append(t)
        looked += 1
        t = plan.next_after(t)
    if t <= now:
        t = plan.next_after(now)
        skipped += 1
    if len(kept) > limit:
        skipped += len(kept) - limit
        kept = kept[-limit:]
    return kept, skipped, t


def fire_due(engine, now, horizon_ms):
    """Start the runs of every fire due by now; returns (runs started, the next fire within the horizon or None,
    the queues given work)."""
    store = engine.store
    started = 0
    queues = set()
    next_at = None
    rows = store.schedules.due(now + horizon_ms, DUE_PER_TICK)
    if len(rows) == DUE_PER_TICK:
        next_at = now  # more are due than one batch: the next light tick fires them
    for row in rows:
        due = int(row["next_fire_at"])
        if due > now:
            next_at = due if next_at is None else min(next_at, due)
            continue
        try:
            plan = Plan(engine, row)
            fires, skipped, following = plan_fires(plan, due, now, row["missed_policy"], int(row["catch_up_limit"]))
            made = _fire(engine, row, fires, due, following, now)
        except WorkflowsError as exc:
            if getattr(exc, "unavailable", False):
                raise
            _broken(engine, row, exc, now)
            continue
        if made:
            started += made
            queues.add(row["queue_name"])
        if skipped:
            engine.logger("schedules").warn("schedule %s: %d fire time(s) missed while no gateway ran it were "
                                            "skipped (missedPolicy %s)" % (row["schedule_name"], skipped,
                                                                          row["missed_policy"]))
        if following <= now + horizon_ms:
            next_at = following if next_at is None else min(next_at, following)
    return started, next_at, queues


def _fire(engine, row, fires, due, following, now):
    store = engine.store
    name = row["schedule_name"]
    made = 0
    with store.transaction():
        advanced = store.schedules.update(name, {"next_fire_at": following,
                                                 "last_fire_at": fires[-1] if fires else row["last_fire_at"]},
                                          now, expected_next=due)
        if not advanced:
            return 0  # another gateway fired it
        for fire in fires:
            run = _run_row(engine, row, fire, fire_id(name, fire), "schedule:%s" % name, "schedule")
            outcome, _ = _insert(engine, run)
            made += outcome == "inserted"
    return made


def _broken(engine, row, exc, now):
    """A schedule that cannot start its workflow (unregistered, parameters no longer valid): it moves on to its
    next fire, so it neither blocks the others nor retries every tick, and says why."""
    name = row["schedule_name"]
    following = None
    try:
        following = Plan(engine, row).next_after(now)
    except WorkflowsError:
        pass
    store = engine.store
    store.schedules.update(name, {"next_fire_at": following, "enabled": following is not None}, now,
                           expected_next=int(row["next_fire_at"]))
    store.schedules.record_change(name, "fire", "system", None, "FAILED", "%s: %s" % (exc.code, exc.message), now)
    engine.logger("schedules").error("schedule %s could not start %s: %s" % (name, row["workflow_name"], exc.message))


# -- schedules declared in code ---------------------------------------------------------------------------------------

def declared(definition):
    """The schedule a @workflow(schedule={...}) declares, as createSchedule's arguments, or None."""
    spec = getattr(definition, "schedule", None)
    if not spec:
        return None
    return {"scheduleName": spec.get("name") or definition.name, "workflowName": definition.name,
            "cronText": spec["cron"], "timezone": spec.get("timezone") or "UTC", "inputs": spec.get("inputs"),
            "queueName": spec.get("queueName"), "partitionKey": spec.get("partitionKey"),
            "missedPolicy": spec.get("missedPolicy") or SKIP, "catchUpLimit": spec.get("catchUpLimit")}


_KEPT_ON_SYNC = ("workflow_name", "cron", "timezone", "inputs", "queue_name", "partition_key", "missed_policy",
                 "catch_up_limit")


def sync_declared(engine, now):
    """Make the schedules that registered workflows declare exist as declared. A schedule made through the API
    with the same name is left alone (and the clash logged); an operator's pause is kept."""
    log = engine.logger("schedules")
    for definition in engine.registry.all():
        args = declared(definition)
        if args is None:
            continue
        try:
            columns = check(engine, **args)
            found = engine.store.schedules.get(columns["schedule_name"])
            if found is None:
                try:
                    create(engine, columns, True, SOURCE_CODE, "code:%s" % definition.module, now)
                except ScheduleExists:
                    pass  # another gateway made it at the same moment
                continue
            if found["source"] != SOURCE_CODE:
                log.warn("workflow %s declares schedule %s, but a schedule of that name was made through the API: "
                         "it is kept as it is" % (definition.name, columns["schedule_name"]))
                continue
            changes = dict([(k, columns[k]) for k in _KEPT_ON_SYNC if columns[k] != found[k]])
            if changes:
                if found["enabled"]:
                    merged = dict(found)
                    merged.update(changes)
                    changes["next_fire_at"] = Plan(engine, merged).next_after(now)
                engine.store.schedules.update(columns["schedule_name"], changes, now)
                log.info("schedule %s follows its code: %s changed" % (columns["schedule_name"],
                                                                        ", ".join(sorted(changes))))
                engine.schedules_changed()
        except WorkflowsError as exc:
            log.error("workflow %s declares a schedule that cannot be used: %s" % (definition.name, exc.message))
