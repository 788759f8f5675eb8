"""The JSON API under /api: each route calls one exchange.workflows.api facade and answers its envelope.

Answers are the facade's envelope {"ok", "code", "message", "data", "meta"}; the HTTP status follows the code
(see STATUS_BY_CODE). Commands, starts and schedule changes carry the signed-in user as the actor, so the engine
records who did it and applies its role tables itself. docs/console.md (API) lists every route.
"""
import re

from exchange.workflows.api import admin, params, service
from exchange.workflows.engine import commands, policy
from exchange.workflows.host import runtime
from exchange.workflows.util import ids
from exchange.workflows.util.envelope import failure, guarded, success
from workflows_api.messages import unquote_path

UUID = r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
STATUS_BY_CODE = {
    "INVALID_ARGUMENT": 400, "BAD_REQUEST": 400, "UNKNOWN_WORKFLOW": 400, "UNKNOWN_QUEUE": 400,
    "UNAUTHENTICATED": 401, "LOGIN_FAILED": 401,
    "FORBIDDEN": 403, "COMMAND_FORBIDDEN": 403, "CSRF_FAILED": 403,
    "NOT_FOUND": 404, "ROUTE_NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "COMMAND_REJECTED": 409, "WORKFLOW_DUPLICATE": 409, "RETRY_FAILED": 409, "NOT_GATEWAY_SCOPE": 409,
    "SCHEDULE_EXISTS": 409,
    "TOO_MANY_ATTEMPTS": 429,
    "INTERNAL_ERROR": 500, "DB_ERROR": 500, "MODULE_IMPORT_FAILED": 500,
    "DB_UNAVAILABLE": 503, "NOT_CONFIGURED": 503,
}


def http_status(envelope):
    if envelope.get("ok"):
        return 200
    return STATUS_BY_CODE.get(envelope.get("code"), 400)


class Call(object):
    """One API call: the request, the signed-in caller, the path groups, and the parsed JSON body."""

    def __init__(self, request, caller, groups, raw_path=None):
        self.request = request
        self.caller = caller
        self.groups = groups
        self.raw_path = raw_path  # the path below the mount prefix as received (still percent-encoded)
        self._body = None

    def body(self):
        if self._body is None:
            self._body = self.request.json()
        return self._body

    def arg(self, name, default=None):
        return self.request.param(name, default)


def forbidden(message):
    return failure("FORBIDDEN", message)


# -- workflows and templates ------------------------------------------------------------------------------------
def list_workflows(call):
    return service.listWorkflows()


def list_templates(call):
    return params.listTemplates(workflowName=call.arg("workflowName"))


# -- runs ---------------------------------------------------------------------------------------------------------
def list_runs(call):
    statuses = []
    for value in call.request.param_list("status"):
        statuses.extend([s.strip().upper() for s in value.split(",") if s.strip()])
    return service.listRuns(workflowName=call.arg("workflowName") or None, status=statuses or None,
                            queueName=call.arg("queueName") or None, partitionKey=call.arg("partitionKey") or None,
                            createdFrom=call.arg("createdFrom") or None, createdTo=call.arg("createdTo") or None,
                            limit=call.arg("limit") or 50, cursor=call.arg("cursor") or None,
                            parentWorkflowId=call.arg("parentWorkflowId") or None,
                            topLevelOnly=(call.arg("topLevelOnly") or "").lower() in ("1", "true", "yes"),
                            workflowVersion=call.arg("workflowVersion") or None)


START_FIELDS = ("workflowName", "inputs", "queueName", "partitionKey", "priority", "deduplicationId",
                "timeoutSeconds", "applicationVersion")


def start_run(call):
    if not call.caller.can_start():
        return forbidden("starting runs needs the operator, supervisor or admin role")
    body = call.body()
    unknown = sorted([k for k in body if k not in START_FIELDS])
    if unknown:
        return failure("INVALID_ARGUMENT", "unknown field %s" % unknown[0], {"field": unknown[0]})
    kwargs = dict([(k, body[k]) for k in START_FIELDS if k in body and body[k] is not None and body[k] != ""])
    return service.start(actor=call.caller.actor(), **kwargs)


@guarded
def command_choices(run, pending, caller):
    """Which command buttons this caller may press now, and why the others are off (commands.command_choices)."""
    allowed, choices = commands.command_choices(runtime.engine(), run["workflowName"], run["status"], run.get("error"),
                                                pending, caller.actor())
    return success("OK", "commands", {"allowed": allowed, "choices": choices, "user": caller.name,
                                      "roles": caller.roles})


def diverged(run):
    """The error of a run whose replay diverged from its record (ERROR, NonDeterminismError with its position), the
    runs service.continueWithCurrentCode takes; None for any other run. The engine checks again when it is sent."""
    error = run.get("error")
    return error if commands.divergence(run.get("status"), error) is not None else None


def _pending(command_rows):
    return [c for c in command_rows if c.get("state") == "PENDING"]


def get_run(call):
    wid = call.groups[0]
    resp = service.getWorkflow(workflowId=wid, includeHistory=call.arg("history") in ("1", "true"))
    if not resp["ok"]:
        return resp
    cmds = service.listCommands(workflowId=wid)
    if cmds["ok"]:
        choice = command_choices(resp["data"], _pending(cmds["data"]["commands"]), call.caller)
        resp["data"]["console"] = choice["data"] if choice["ok"] else None
    return resp


def live(call):
    """Everything the run page shows that changes, fetching only what is new in the log and event history."""
    wid = call.groups[0]
    run = service.getWorkflow(workflowId=wid)
    if not run["ok"]:
        return run
    data = {"run": run["data"]}
    if call.arg("log", "1") != "0":
        log = service.readStream(workflowId=wid, key=call.arg("key") or "log", afterOffset=call.arg("afterOffset", -1),
                                 limit=call.arg("logLimit") or 1000)
        if not log["ok"]:
            return log
        data["log"] = log["data"]["entries"]
        data["streamKeys"] = log["data"]["keys"]
    history = service.listEventHistory(workflowId=wid, afterId=call.arg("afterHistoryId", 0), limit=5000)
    if not history["ok"]:
        return history
    data["history"] = history["data"]["history"]
    data["lastHistoryId"] = history["data"]["lastId"]
    cmds = service.listCommands(workflowId=wid)
    if not cmds["ok"]:
        return cmds
    data["commands"] = cmds["data"]["commands"]
    choice = command_choices(run["data"], _pending(data["commands"]), call.caller)
    data["console"] = choice["data"] if choice["ok"] else None
    return success("OK", run["message"], data)


def event_history(call):
    return service.listEventHistory(workflowId=call.groups[0], afterId=call.arg("afterId", 0),
                                    limit=call.arg("limit") or 1000)


def read_stream(call):
    return service.readStream(workflowId=call.groups[0], key=call.arg("key") or "log",
                              afterOffset=call.arg("afterOffset", -1), limit=call.arg("limit") or 1000)


def list_commands(call):
    return service.listCommands(workflowId=call.groups[0])


def list_steps(call):
    return service.listSteps(workflowId=call.groups[0])


def _reason(body):
    reason = body.get("reason")
    return reason if reason not in ("", None) else None


def send_command(call):
    body = call.body()
    cmd = body.get("cmd")
    wid = call.groups[0]
    if isinstance(cmd, type(u"")) or isinstance(cmd, str):
        if cmd.strip().upper() == policy.CANCEL:
            return service.cancel(workflowId=wid, reason=_reason(body), actor=call.caller.actor())
        if cmd.strip().upper() == policy.RETRY:
            return service.retry(workflowId=wid, fromStep=body.get("fromStep"), actor=call.caller.actor(),
                                 reason=_reason(body))
        if cmd.strip().upper() == policy.CONTINUE:
            return service.continueWithCurrentCode(workflowId=wid, actor=call.caller.actor(), reason=_reason(body))
    return service.sendCommand(workflowId=wid, cmd=cmd, reason=_reason(body), actor=call.caller.actor(),
                               payload=body.get("payload"))


def cancel_run(call):
    return service.cancel(workflowId=call.groups[0], reason=_reason(call.body()), actor=call.caller.actor())


def retry_run(call):
    body = call.body()
    return service.retry(workflowId=call.groups[0], fromStep=body.get("fromStep"), actor=call.caller.actor(),
                         reason=_reason(body))


def continue_run(call):
    """POST /api/runs/<uuid>/continue: a run whose replay diverged goes on under the current code (a new linked
    run); the engine checks the role (policy.CONTINUE) and the run, and records the decision in its command log."""
    return service.continueWithCurrentCode(workflowId=call.groups[0], actor=call.caller.actor(),
                                           reason=_reason(call.body()))


# -- queues and admin ---------------------------------------------------------------------------------------------
def list_queues(call):
    return service.listQueues()


def executors(call):
    return admin.listExecutors()


def maintenance(call):
    return admin.maintenanceStatus()


def change_maintenance(call):
    if not call.caller.is_admin():
        return forbidden("maintenance needs the admin role")
    action = call.body().get("action")
    if action == "drain":
        return admin.enterMaintenance(mode="drain")
    if action == "resume":
        return admin.exitMaintenance()
    return failure("INVALID_ARGUMENT", "action must be 'drain' or 'resume'", {"field": "action"})


def retention(call):
    return admin.getRetention()


def save_retention(call):
    if not call.caller.is_admin():
        return forbidden("retention settings need the admin role")
    body = call.body()
    return admin.setRetention(days=body.get("days"), batch=body.get("batch"), actor=call.caller.name)


def apply_retention(call):
    if not call.caller.is_admin():
        return forbidden("applying retention needs the admin role")
    return admin.applyRetention()


def schema(call):
    return admin.schemaVersion()


# -- tags ---------------------------------------------------------------------------------------------------------
def list_tags(call):
    """GET /api/tags?folder=&limit=: the tags below a folder with their readings (read-only, every role)."""
    return service.listTags(folder=call.arg("folder") or "", limit=call.arg("limit") or service.DEFAULT_TAGS)


@guarded
def command_policy(call):
    """The command role table in force and the states each command is allowed in (policy.py)."""
    table = commands.command_roles(runtime.engine())
    rows = []
    for cmd in (policy.STOP, policy.HOLD, policy.RESUME, policy.RESET, policy.CANCEL, policy.RETRY):
        rows.append({"cmd": cmd, "roles": list(table.get(cmd, ())),
                     "states": list(policy.ALLOWED_STATES.get(cmd, commands.RETRYABLE if cmd == policy.RETRY
                                                              else ()))})
    rows.append({"cmd": policy.CONTINUE, "roles": list(table.get(policy.CONTINUE, ())), "states": list(commands.CONTINUABLE),
                 "note": "only a run whose replay diverged from its record (NonDeterminismError)"})
    rows.append({"cmd": "custom", "roles": list(table.get("*", ())), "states": list(policy.CUSTOM_ALLOWED_STATES)})
    return success("OK", "command policy", {"commands": rows})


# -- schedules ----------------------------------------------------------------------------------------------------
# A schedule is named in the path by one percent-encoded segment (encodeURIComponent: "line-1/mix.a" is
# "line-1%2Fmix.a"). The name is read from the path as received, so an encoded "/" stays part of it. A client that
# sends the slashes unencoded reaches the same schedule: GET and DELETE take the whole rest of the path as the name,
# the POST actions take the last segment as the action and everything before it as the name.
SCHEDULE_PREFIX = "/api/schedules/"
SCHEDULE_FIELDS = ("scheduleName", "workflowName", "cron", "timezone", "inputs", "queueName", "partitionKey",
                   "missedPolicy", "catchUpLimit", "enabled")


def schedule_name(call, action=None):
    """The schedule named by /api/schedules/<name>[/<action>], or None when the path names none."""
    raw = call.raw_path
    if not raw or not raw.startswith(SCHEDULE_PREFIX):
        return call.groups[0]  # a host that hands over the path decoded already
    rest = raw[len(SCHEDULE_PREFIX):].rstrip("/")
    if action is not None:
        if not rest.endswith("/" + action):
            return None  # "a%2Fpause": the action is part of the (encoded) name
        rest = rest[:-len(action) - 1]
    return unquote_path(rest)


def schedule_rights(caller):
    """What this caller may do to schedules and why not (the engine's policy.SCHEDULE_ROLES, never a copy)."""
    actor = policy.actor_from(caller.actor())
    may = {}
    for action in sorted(policy.SCHEDULE_ROLES):
        allowed = policy.may_change_schedule(actor, action)
        may[action] = {"allowed": allowed, "reason": None if allowed else "%s may not %s schedules (needs %s)" % (
            actor.describe(), action, " or ".join(policy.SCHEDULE_ROLES[action]))}
    return {"user": caller.name, "roles": caller.roles, "may": may}


def list_schedules(call):
    resp = admin.listSchedules()
    if resp["ok"]:
        resp["data"]["console"] = schedule_rights(call.caller)
    return resp


def get_schedule(call):
    resp = admin.getSchedule(scheduleName=schedule_name(call))
    if resp["ok"]:
        resp["data"]["console"] = schedule_rights(call.caller)
    return resp


def create_schedule(call):
    body = call.body()
    unknown = sorted([k for k in body if k not in SCHEDULE_FIELDS])
    if unknown:
        return failure("INVALID_ARGUMENT", "unknown field %s" % unknown[0], {"field": unknown[0]})
    kwargs = dict([(k, body[k]) for k in SCHEDULE_FIELDS if k in body and body[k] is not None and body[k] != ""])
    return admin.createSchedule(actor=call.caller.actor(), **kwargs)


def change_schedule(call):
    """POST /api/schedules/<name>/pause, /resume, /trigger, /delete, /backfill."""
    action = call.groups[1]
    name = schedule_name(call, action)
    if name is None:
        return failure("ROUTE_NOT_FOUND", "no API route %s %s: name the schedule by one percent-encoded segment, "
                                          "then the action (see docs/console.md, API)"
                       % (call.request.method, call.request.path))
    actor = call.caller.actor()
    if action == "pause":
        return admin.pauseSchedule(scheduleName=name, actor=actor)
    if action == "resume":
        return admin.resumeSchedule(scheduleName=name, actor=actor)
    if action == "trigger":
        return admin.triggerSchedule(scheduleName=name, actor=actor)
    if action == "backfill":
        body = call.body()
        return admin.backfillSchedule(scheduleName=name, fromMs=body.get("fromMs"), toMs=body.get("toMs"),
                                      actor=actor)
    return admin.deleteSchedule(scheduleName=name, actor=actor)


def delete_schedule(call):
    return admin.deleteSchedule(scheduleName=schedule_name(call), actor=call.caller.actor())


def schedule_changes(call):
    limit = call.arg("limit") or "50"
    try:
        limit = int(limit)
    except ValueError:
        return failure("INVALID_ARGUMENT", "limit must be an integer from 1 to 500", {"field": "limit"})
    return admin.listScheduleChanges(scheduleName=call.arg("scheduleName") or None, limit=limit)


def bad_run_id(call):
    """Any /api/runs/<x>/... that no route above took: a malformed id is a 400, anything else an unknown route."""
    if ids.is_uuid(call.groups[0]):
        return failure("ROUTE_NOT_FOUND", "no API route %s %s (see docs/console.md, API)"
                       % (call.request.method, call.request.path))
    return failure("INVALID_ARGUMENT", "\"%s\" is not a run id (runs are named by UUID)" % call.groups[0],
                   {"field": "workflowId"})


# (method, path pattern, function); the pattern is anchored and matched against the decoded path; "*" is any method
ROUTES = [
    ("GET", r"/api/workflows", list_workflows),
    ("GET", r"/api/templates", list_templates),
    ("GET", r"/api/runs", list_runs),
    ("POST", r"/api/runs", start_run),
    ("GET", r"/api/runs/%s" % UUID, get_run),
    ("GET", r"/api/runs/%s/live" % UUID, live),
    ("GET", r"/api/runs/%s/history" % UUID, event_history),
    ("GET", r"/api/runs/%s/stream" % UUID, read_stream),
    ("GET", r"/api/runs/%s/commands" % UUID, list_commands),
    ("POST", r"/api/runs/%s/commands" % UUID, send_command),
    ("POST", r"/api/runs/%s/cancel" % UUID, cancel_run),
    ("POST", r"/api/runs/%s/retry" % UUID, retry_run),
    ("POST", r"/api/runs/%s/continue" % UUID, continue_run),
    ("GET", r"/api/runs/%s/steps" % UUID, list_steps),
    ("GET", r"/api/queues", list_queues),
    ("GET", r"/api/admin/executors", executors),
    ("GET", r"/api/admin/maintenance", maintenance),
    ("POST", r"/api/admin/maintenance", change_maintenance),
    ("GET", r"/api/admin/retention", retention),
    ("POST", r"/api/admin/retention", save_retention),
    ("POST", r"/api/admin/retention/apply", apply_retention),
    ("GET", r"/api/admin/schema", schema),
    ("GET", r"/api/admin/policy", command_policy),
    ("GET", r"/api/tags", list_tags),
    ("GET", r"/api/schedules", list_schedules),
    ("POST", r"/api/schedules", create_schedule),
    ("POST", r"/api/schedules/(.+)/(pause|resume|trigger|delete|backfill)", change_schedule),
    ("GET", r"/api/schedules/(.+)", get_schedule),
    ("DELETE", r"/api/schedules/(.+)", delete_schedule),
    ("GET", r"/api/schedule-changes", schedule_changes),
    ("*", r"/api/runs/([^/]+)(?:/[^/]*)?", bad_run_id),
]
_COMPILED = [(m, re.compile("^" + p + "$"), f) for m, p, f in ROUTES]


def match(method, path):
    """(function, groups) for a route, ('METHOD_NOT_ALLOWED', allowed methods) or (None, None)."""
    methods = []
    for route_method, pattern, fn in _COMPILED:
        found = pattern.match(path)
        if found:
            if route_method == method or (route_method == "*" and not methods):
                return fn, found.groups()
            methods.append(route_method)
    if methods:
        return "METHOD_NOT_ALLOWED", methods
    return None, None
