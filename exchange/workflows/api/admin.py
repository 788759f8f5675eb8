"""exchange.workflows.api.admin: schema, gateway lifecycle, maintenance, retention, registry, schedules.

Every function returns the envelope of util/envelope.py. startGateway / stopGateway are what the Ignition gateway
startup and shutdown event scripts call; the standalone gateway does the same through its launcher.
"""
from exchange.workflows.api import shapes
from exchange.workflows.engine import policy, schedules
from exchange.workflows.host import runtime
from exchange.workflows.store import migrations, views
from exchange.workflows.util import cron
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.compat import integer_types, string_types
from exchange.workflows.util.envelope import failure, guarded, success
from exchange.workflows.util.errors import InvalidArgument, WorkflowsError
from exchange.workflows.util.jsoncodec import dumps, loads

RETENTION_KEY = "retention"
PERSPECTIVE_ROLES_KEY = "perspectiveRoles"
DEFAULT_RETENTION = {"days": 30, "batch": 1000}


@guarded
def migrate():
    """Apply pending schema migrations (idempotent; safe with several gateways)."""
    engine = runtime.engine()
    applied = engine.store.migrate(now_ms())
    return success("SCHEMA_MIGRATED" if applied else "SCHEMA_CURRENT",
                   "applied %s" % applied if applied else "schema already at version %d" % migrations.LATEST,
                   {"applied": applied, "version": engine.store.schema_version(), "latest": migrations.LATEST})


@guarded
def schemaVersion():
    engine = runtime.engine()
    version = engine.store.schema_version()
    return success("OK", "schema version %d (latest %d)" % (version, migrations.LATEST),
                   {"version": version, "latest": migrations.LATEST})


@guarded
def startGateway(database=None, modules=None, executorId=None, workers=None, leaseSeconds=None,
                 maxRecoveryAttempts=None, allowUndeclaredQueues=None):
    """Ignition gateway startup event: configure this project's engine and start executing (docs/ignition.md)."""
    from exchange.workflows.host import ignition

    if not ignition.available():
        return failure("NOT_IGNITION", "startGateway is for the Ignition gateway; ./gateway run starts the standalone one")
    engine = ignition.start_gateway(database=database, modules=modules, executor_id=executorId, workers=workers,
                                    lease_seconds=leaseSeconds, max_recovery_attempts=maxRecoveryAttempts,
                                    allow_undeclared_queues=allowUndeclaredQueues)
    return success("GATEWAY_STARTED" if engine.host.executes else "CLIENT_SCOPE",
                   "executor %s, generation %d, workflows: %s" % (engine.executor_id, engine.generation,
                                                                  ", ".join(engine.registry.names())),
                   _engine_status(engine))


@guarded
def stopGateway():
    """Ignition gateway shutdown event: stop claiming, flush in-memory starts, hand running runs back."""
    engine = runtime.current()
    if engine is None or not engine.host.executes:
        return success("NOT_RUNNING", "no executing engine in this interpreter")
    if engine.superseded():
        # the shutdown event of scripts a save already replaced: the new generation's executors stay
        return success("GATEWAY_SUPERSEDED", "generation %d was replaced by %d; nothing stopped"
                       % (engine.generation, engine.kernel.generation()))
    engine.stop()
    return success("GATEWAY_STOPPED", "executor %s stopped" % engine.executor_id, {"executorId": engine.executor_id})


def _engine_status(engine):
    return {"executorId": engine.executor_id, "generation": engine.generation, "scope": engine.host.scope,
            "executes": engine.host.executes, "workers": engine.pool_size, "active": engine.kernel.active.size(),
            "draining": engine.draining(), "stopping": engine.stopping(),
            "inMemoryQueued": engine.kernel.memory_queue.size(), "workflows": engine.registry.names(),
            "moduleErrors": engine.module_errors}


def _gateway_engine():
    """Maintenance acts on the executing gateway; elsewhere (Designer, client) it would change nothing."""
    engine = runtime.engine()
    if not engine.host.executes:
        raise WorkflowsError("maintenance applies to the gateway that executes workflows; call it in gateway scope "
                             "(a gateway script, a Perspective session, the operator console or a message handler)",
                             code="NOT_GATEWAY_SCOPE")
    return engine


@guarded
def enterMaintenance(mode="drain"):
    """Stop claiming new work on this gateway; running runs finish (deploy new code, then exitMaintenance)."""
    if mode != "drain":
        raise InvalidArgument("mode must be 'drain'", field="mode")
    engine = _gateway_engine()
    engine.kernel.set_flag("draining", True)
    return success("MAINTENANCE_ENTERED", "draining: no new claims; %d runs still executing"
                   % engine.kernel.active.size(), _engine_status(engine))


@guarded
def exitMaintenance():
    engine = _gateway_engine()
    engine.kernel.set_flag("draining", False)
    engine.wake()
    return success("MAINTENANCE_EXITED", "dispatch resumed", _engine_status(engine))


@guarded
def maintenanceStatus():
    engine = _gateway_engine()
    status = _engine_status(engine)
    return success("OK", "draining" if status["draining"] else "running", status)


@guarded
def listExecutors():
    engine = runtime.engine()
    now = now_ms()
    rows = [shapes.executor(row, now) for row in views.executors(engine.store.db)]
    return success("OK", "%d executors" % len(rows), {"executors": rows, "leaseMs": engine.config.lease_ms})


@guarded
def getRetention():
    engine = runtime.engine()
    text = engine.store.get_setting(RETENTION_KEY)
    return success("OK", "retention settings", loads(text) if text else dict(DEFAULT_RETENTION))


@guarded
def setRetention(days=None, batch=None, actor=None):
    """Keep finished runs for `days` days (applied by applyRetention and by the gateway once an hour)."""
    for field, value in (("days", days), ("batch", batch)):
        if value is not None and (not isinstance(value, integer_types) or isinstance(value, bool) or value < 1):
            raise InvalidArgument("%s must be a positive integer" % field, field=field)
    engine = runtime.engine()
    current = loads(engine.store.get_setting(RETENTION_KEY) or "null") or dict(DEFAULT_RETENTION)
    if days is not None:
        current["days"] = int(days)
    if batch is not None:
        current["batch"] = int(batch)
    who = actor if isinstance(actor, string_types) else "system"
    engine.store.put_setting(RETENTION_KEY, dumps(current), who, now_ms())
    return success("RETENTION_SAVED", "finished runs are kept %d days" % current["days"], current)


@guarded
def applyRetention():
    """Delete finished runs older than the retention period, with their checkpoints, events, streams and commands."""
    engine = runtime.engine()
    settings = loads(engine.store.get_setting(RETENTION_KEY) or "null") or dict(DEFAULT_RETENTION)
    cutoff = now_ms() - int(settings["days"]) * 24 * 3600 * 1000
    total = 0
    while True:
        deleted = engine.store.delete_finished_before(cutoff, int(settings["batch"]))
        total += deleted
        if deleted < int(settings["batch"]):
            break
    return success("RETENTION_APPLIED", "deleted %d finished runs older than %d days" % (total, settings["days"]),
                   {"deleted": total, "cutoff": cutoff})


@guarded
def loadModules(modules=None):
    """Load workflow modules (dotted names): those not loaded yet are imported, those already loaded are loaded
    again, as a project save does. On the gateway, running runs continue under the new code from their next step
    boundary. data: the workflows now registered, and what changed (added, removed, changed with their versions)."""
    if not modules or isinstance(modules, string_types):
        modules = [modules] if modules else []
    if not all([isinstance(m, string_types) and m.strip() for m in modules]):
        raise InvalidArgument("modules must be a list of dotted module names", field="modules")
    engine = runtime.engine()
    changes = engine.reload_code(modules)
    data = {"workflows": engine.registry.names(), "modules": changes["modules"], "added": changes["added"],
            "removed": changes["removed"], "changed": changes["changed"], "generation": changes["generation"]}
    if changes["errors"]:
        data["errors"] = changes["errors"]
        return failure("MODULE_IMPORT_FAILED", "some modules failed to load", data)
    return success("MODULES_LOADED", "workflows: %s" % ", ".join(engine.registry.names()), data)


@guarded
def getPerspectiveRoles():
    """The mapping from the roles of Perspective sessions (the gateway's user sources) to the roles of the command
    policy (viewer, operator, supervisor, admin); roles named like the policy's count as those without it."""
    engine = runtime.engine()
    text = engine.store.get_setting(PERSPECTIVE_ROLES_KEY)
    return success("OK", "Perspective role mapping", {"mapping": loads(text) if text else {}})


@guarded
def setPerspectiveRoles(mapping=None, actor=None):
    """Map the roles of Perspective sessions to the command policy's: {"Shift Lead": "supervisor", ...}."""
    from exchange.workflows.engine import policy as command_policy

    if not hasattr(mapping, "items"):
        raise InvalidArgument("mapping must be an object {session role: policy role}", field="mapping")
    clean = {}
    for role, ours in mapping.items():
        if not isinstance(role, string_types) or not role.strip():
            raise InvalidArgument("a session role must be a non-empty text", field="mapping")
        if ours not in command_policy.ROLES:
            raise InvalidArgument("%r maps to %r: the policy's roles are %s" % (role, ours, ", ".join(
                command_policy.ROLES)), field="mapping.%s" % role)
        clean[role.strip()] = ours
    engine = runtime.engine()
    engine.store.put_setting(PERSPECTIVE_ROLES_KEY, dumps(clean), command_policy.actor_from(actor).name, now_ms())
    return success("SETTINGS_SAVED", "%d session roles mapped" % len(clean), {"mapping": clean})


# -- schedules ------------------------------------------------------------------------------------------------------

def _schedule_actor(engine, name, action, actor, detail=None):
    """The actor of a schedule change, or FORBIDDEN raised (and the denial recorded)."""
    who = policy.actor_from(actor)
    if not policy.may_change_schedule(who, action):
        engine.store.schedules.record_change(name, action, who.name, dumps(who.roles), "FORBIDDEN", detail, now_ms())
        raise WorkflowsError("%s may not %s schedules (needs %s)" % (who.describe(), action,
                                                                      " or ".join(policy.SCHEDULE_ROLES[action])),
                             code="FORBIDDEN", data={"scheduleName": name, "action": action})
    return who


def _record(engine, name, action, who, detail=None):
    engine.store.schedules.record_change(name, action, who.name, dumps(who.roles) if who.roles else None, "DONE",
                                         detail, now_ms())


def _schedule_answer(engine, row):
    last = engine.store.schedules.last_runs([row["schedule_name"]]).get(row["schedule_name"])
    return shapes.schedule(row, last, cron.describe(row["cron"]))


@guarded
def createSchedule(scheduleName=None, workflowName=None, cron=None, timezone="UTC", inputs=None, queueName="default",
                   partitionKey=None, missedPolicy="skip", enabled=True, actor=None, catchUpLimit=None):
    """Start `workflowName` on a cron timetable (5 fields, or 6 with seconds first) in an IANA time zone: one run
    per fire time across every gateway sharing the database. missedPolicy: "skip" (fires missed while no gateway
    ran are dropped) or "catchUp" (each missed fire runs, at most catchUpLimit of them, oldest first)."""
    engine = runtime.engine()
    cron_text = cron
    who = _schedule_actor(engine, scheduleName if isinstance(scheduleName, string_types) else "?", "create", actor)
    columns = schedules.check(engine, scheduleName, workflowName, cron_text, timezone, inputs, queueName, partitionKey,
                              missedPolicy, catchUpLimit)
    row = schedules.create(engine, columns, bool(enabled), schedules.SOURCE_API, who.name, now_ms())
    _record(engine, scheduleName, "create", who, "%s %s (%s)" % (workflowName, columns["cron"], columns["timezone"]))
    return success("SCHEDULE_CREATED", "schedule %s starts %s %s (%s)" % (
        scheduleName, row["workflow_name"], _cron_words(row["cron"]), row["timezone"]), _schedule_answer(engine, row))


def _cron_words(text):
    """cron.describe, for createSchedule, whose argument named `cron` hides the module."""
    return cron.describe(text)


@guarded
def listSchedules():
    engine = runtime.engine()
    rows = engine.store.schedules.all()
    last = engine.store.schedules.last_runs([r["schedule_name"] for r in rows])
    items = [shapes.schedule(r, last.get(r["schedule_name"]), cron.describe(r["cron"])) for r in rows]
    return success("OK", "%d schedules" % len(items), {"schedules": items})


@guarded
def getSchedule(scheduleName=None):
    engine = runtime.engine()
    row = schedules.get(engine, scheduleName)
    data = _schedule_answer(engine, row)
    data["changes"] = [shapes.schedule_change(c) for c in engine.store.schedules.changes(scheduleName, 20)]
    return success("OK", "schedule %s" % scheduleName, data)


@guarded
def listScheduleChanges(scheduleName=None, limit=50):
    engine = runtime.engine()
    if isinstance(limit, bool) or not isinstance(limit, integer_types) or not 1 <= limit <= 500:
        raise InvalidArgument("limit must be an integer from 1 to 500", field="limit")
    rows = engine.store.schedules.changes(scheduleName or None, limit)
    return success("OK", "%d changes" % len(rows), {"changes": [shapes.schedule_change(r) for r in rows]})


def _set_enabled(scheduleName, enabled, actor):
    engine = runtime.engine()
    action = "resume" if enabled else "pause"
    row = schedules.get(engine, scheduleName)
    who = _schedule_actor(engine, scheduleName, action, actor)
    row = schedules.set_enabled(engine, row, enabled, now_ms())
    _record(engine, scheduleName, action, who)
    return row, engine


@guarded
def pauseSchedule(scheduleName=None, actor=None):
    """No fires until resumed (fires while paused are not caught up)."""
    row, engine = _set_enabled(scheduleName, False, actor)
    return success("SCHEDULE_PAUSED", "schedule %s paused" % scheduleName, _schedule_answer(engine, row))


@guarded
def resumeSchedule(scheduleName=None, actor=None):
    """Fire again from the next fire time after now."""
    row, engine = _set_enabled(scheduleName, True, actor)
    return success("SCHEDULE_RESUMED", "schedule %s resumed" % scheduleName, _schedule_answer(engine, row))


@guarded
def deleteSchedule(scheduleName=None, actor=None):
    """The schedule goes; the runs it started stay."""
    engine = runtime.engine()
    schedules.get(engine, scheduleName)
    who = _schedule_actor(engine, scheduleName, "delete", actor)
    schedules.delete(engine, scheduleName)
    _record(engine, scheduleName, "delete", who)
    return success("SCHEDULE_DELETED", "schedule %s deleted" % scheduleName,
                   {"scheduleName": scheduleName, "deleted": True})


@guarded
def triggerSchedule(scheduleName=None, actor=None):
    """Start one run of the schedule now, outside its timetable."""
    engine = runtime.engine()
    row = schedules.get(engine, scheduleName)
    who = _schedule_actor(engine, scheduleName, "trigger", actor)
    wid = schedules.trigger(engine, row, who.name, now_ms())
    _record(engine, scheduleName, "trigger", who, wid)
    return success("SCHEDULE_TRIGGERED", "schedule %s started run %s" % (scheduleName, wid),
                   {"scheduleName": scheduleName, "workflowId": wid})


@guarded
def backfillSchedule(scheduleName=None, fromMs=None, toMs=None, actor=None):
    """A run for each fire time in [fromMs, toMs] that has none (at most 1,000; running it twice starts nothing
    more)."""
    engine = runtime.engine()
    row = schedules.get(engine, scheduleName)
    who = _schedule_actor(engine, scheduleName, "backfill", actor)
    started, existing, fires = schedules.backfill(engine, row, fromMs, toMs, who.name)
    _record(engine, scheduleName, "backfill", who, "%s..%s: %d started, %d existed" % (fromMs, toMs, len(started),
                                                                                    len(existing)))
    return success("SCHEDULE_BACKFILLED", "%d runs started for %d fire times (%d had one)" % (
        len(started), len(fires), len(existing)),
        {"scheduleName": scheduleName, "workflowIds": started, "existing": existing, "fireTimes": fires})
