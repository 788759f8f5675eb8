"""exchange.workflows.api.perspective: what the Perspective views of exchange.workflows bind to.

Each function answers display-ready data (rows for a Table, text for Labels, button states with the reason a
button is off, status colours) as a JSON-native dict, and never raises: {"ok": True, ...}, or {"ok": False,
"message": ...} that a view shows as it is. Values from runs (inputs, outputs, errors, log entries) are text,
never markup. Commands carry the Perspective session's user and roles as the actor, so the role table and the
command log apply exactly as in the web console:

    exchange.workflows.api.perspective.sendCommand(self.view.params.uuid, "HOLD",
        self.session.props.auth.user.userName, self.session.props.auth.user.roles, "checking the valve")

A session's roles are the gateway's user source roles; they count as the roles of the role table (viewer,
operator, supervisor, admin) by name, in any case, or through the mapping admin.setPerspectiveRoles() keeps
({"Shift Lead": "supervisor"}). Polling bindings ask only for what is new (runLog after an offset); the views poll
at POLL_MS.
"""
import sys

from exchange.workflows.api import admin, params, service, shapes
from exchange.workflows.engine import commands, policy
from exchange.workflows.host import runtime
from exchange.workflows.store import statuses, views
from exchange.workflows.util import ids
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.compat import integer_types, string_types, to_text
from exchange.workflows.util.jsoncodec import dumps, loads

POLL_MS = {"runs": 2000, "run": 1000, "log": 1000, "steps": 2000, "queues": 3000, "admin": 5000}
LOG_PAGE = 200
TEXT_LIMIT = 20000  # characters of an input, output or error shown on a page
COLORS = {  # the web console's status colours (console.css)
    "DELAYED": "#8a6d1f", "ENQUEUED": "#7b8ba1", "PENDING": "#4a7fc1", "RUNNING": "#1f5fae", "RESUMING": "#1f5fae",
    "HELD": "#b26a00", "HOLDING": "#b26a00", "WAITING": "#0e7c86", "SUCCESS": "#1e7b3a", "COMPLETE": "#1e7b3a",
    "APPLIED": "#1e7b3a", "DELIVERED": "#1e7b3a", "ERROR": "#b3261e", "MAX_RECOVERY_ATTEMPTS_EXCEEDED": "#b3261e",
    "REJECTED": "#b3261e", "FORBIDDEN": "#b3261e", "CANCELLED": "#6b7785", "ABORTED": "#6b7785",
    "SUPERSEDED": "#6b7785", "IDLE": "#6b7785", "STOPPED": "#7a2a8c", "STOPPING": "#7a2a8c",
}
BUTTON_LABELS = {"HOLD": "Hold", "RESUME": "Resume", "STOP": "Stop", "RESET": "Reset", "CANCEL": "Cancel",
                 "RETRY": "Retry", "CONTINUE": "Continue with current code"}


# -- what every answer is made of ---------------------------------------------------------------------------------

def _answer(fn):
    """Run fn; its dict with "ok": True, or {"ok": False, "message"} for any failure (a view shows the message)."""
    try:
        out = fn()
    except (KeyboardInterrupt, SystemExit):
        raise
    except:  # noqa: E722 - Python or Java: a binding must get an answer, never an exception
        error = sys.exc_info()[1]
        message = getattr(error, "message", None) or "%s" % (error,)
        return {"ok": False, "message": to_text(message)}
    out.setdefault("ok", True)
    out.setdefault("message", "")
    return out


def _data(envelope):
    """The data of a facade's envelope, or a failure that _answer turns into {"ok": False, "message"}."""
    if not envelope["ok"]:
        raise _Refused(envelope["message"], envelope["code"])
    return envelope["data"]


class _Refused(Exception):
    def __init__(self, message, code):
        Exception.__init__(self, message)
        self.message = message
        self.code = code


def statusStyle(status):
    """The style of a status or phase cell: its colour as the background, white text."""
    return {"backgroundColor": COLORS.get(status, "#6b7785"), "color": "#ffffff", "borderRadius": "10px",
            "textAlign": "center", "fontWeight": "bold"}


def _cell(status):
    return {"value": status or "", "style": statusStyle(status)}


def _time(ms):
    """Epoch milliseconds as local 'YYYY-MM-DD HH:MM:SS' text (empty for None)."""
    if ms is None:
        return ""
    import time as clock

    return clock.strftime("%Y-%m-%d %H:%M:%S", clock.localtime(int(ms) / 1000.0))


def _duration(ms):
    if ms is None:
        return ""
    seconds = int(ms) / 1000.0
    if seconds < 60:
        return "%.1f s" % seconds
    if seconds < 3600:
        return "%d min %d s" % (int(seconds) // 60, int(seconds) % 60)
    return "%d h %d min" % (int(seconds) // 3600, (int(seconds) % 3600) // 60)


def _text(value):
    """A value as text for a Label: text as it is, anything else as indented JSON (cut at TEXT_LIMIT)."""
    if value is None:
        return ""
    text = value if isinstance(value, string_types) else _pretty(value)
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + u"\n... (%d more characters)" % (
        len(text) - TEXT_LIMIT)


def _pretty(value):
    """JSON text, indented, keys in order (a value of a run shown on a page)."""
    import json

    return to_text(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


def _brief(value, most=120):
    text = _text(value).replace("\n", " ")
    return text if len(text) <= most else text[:most - 1] + u"\u2026"


def _actor(userName, roles):
    """The session's user as an actor of the role table: its roles by name (any case) or through the mapping."""
    if not isinstance(userName, string_types) or not userName.strip():
        raise _Refused("no signed-in user: sign in to send commands", "UNAUTHENTICATED")
    mapping = dict([(k.lower(), v) for k, v in (_data(admin.getPerspectiveRoles())["mapping"] or {}).items()])
    ours = []
    for role in list(roles or []):
        name = to_text("%s" % (role,)).strip().lower()
        found = mapping.get(name) or (name if name in policy.ROLES else None)
        if found and found not in ours:
            ours.append(found)
    return {"name": to_text(userName.strip()), "roles": ours}


# -- start a run (/) ----------------------------------------------------------------------------------------------

def workflowOptions():
    """{"options": [{"value", "label"}]} of the registered workflows, for a Dropdown."""
    def fn():
        found = _data(service.listWorkflows())["workflows"]
        return {"options": [{"value": w["name"], "label": w["name"] + (u" \u2014 " + w["description"]
                                                                          if w.get("description") else "")}
                            for w in found]}
    return _answer(fn)


def startForm(workflowName, templateName=None):
    """The start form of a workflow: {"templates": options, "fields": [{"name", "label", "type", "required",
    "value", "choices", "description", "text"}]} with the template's values (or the defaults) filled in. `type` is
    str, int, float, bool or json; `text` is the value as a Text Field shows it."""
    def fn():
        if not workflowName:
            return {"templates": [], "fields": [], "message": "choose a workflow"}
        found = [w for w in _data(service.listWorkflows())["workflows"] if w["name"] == workflowName]
        if not found:
            raise _Refused("no workflow named %s" % workflowName, "UNKNOWN_WORKFLOW")
        templates = _data(params.listTemplates(workflowName=workflowName))["templates"]
        chosen = {}
        for template in templates:
            if template["name"] == templateName:
                chosen = template["params"]
        fields = []
        for p in found[0]["params"]:
            value = chosen.get(p["name"], p.get("default"))
            fields.append({"name": p["name"], "label": p.get("label") or p["name"], "type": p["type"],
                           "required": p["required"], "value": value, "choices": p.get("choices") or [],
                           "description": p.get("description") or "",
                           "text": "" if value is None else (value if isinstance(value, string_types)
                                                               else dumps(value))})
        return {"workflowName": workflowName,
                "templates": [{"value": t["name"], "label": t["name"]} for t in templates],
                "fields": fields}
    return _answer(fn)


def startRun(workflowName, fields, userName, roles, queueName=None, partitionKey=None):
    """Start a run from the start form's fields ([{"name", "type", "value" or "text"}]: a Text Field's text is read
    as the parameter's type). {"workflowId"} or {"ok": False, "message", "field"}."""
    def fn():
        actor = _actor(userName, roles)
        if not set(actor["roles"]) & set(("operator", "supervisor", "admin")):
            raise _Refused("%s may not start runs (operator, supervisor or admin)" % actor["name"], "FORBIDDEN")
        values = {}
        for field in list(fields or []):
            values[field["name"]] = _typed(field)
        resp = service.start(workflowName=workflowName, inputs={"resolved": values},
                             queueName=queueName or None, partitionKey=partitionKey or None, actor=actor)
        if not resp["ok"]:
            out = {"ok": False, "message": resp["message"], "code": resp["code"]}
            field = resp["data"].get("field")
            if field:
                out["field"] = field.split(".")[-1]
            return out
        return {"workflowId": resp["data"]["workflowId"], "message": resp["message"]}
    return _answer(fn)


def _typed(field):
    """A form field's value as its parameter's type (a Text Field answers text)."""
    kind = field.get("type")
    value = field.get("value", field.get("text"))
    if not isinstance(value, string_types):
        return value
    text = value.strip()
    if text == "" and kind != "str":
        return None
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            return value
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            return value
    if kind == "bool":
        return {"true": True, "false": False}.get(text.lower(), value)
    if kind == "json":
        try:
            return loads(text)
        except ValueError:
            return value
    return value


# -- runs (/runs) -------------------------------------------------------------------------------------------------

def runsPage(workflowName=None, status=None, queueName=None, partitionKey=None, workflowVersion=None, cursor=None,
             limit=50):
    """One page of runs, newest first: {"rows": [...], "nextCursor"} for a Table (status and phase cells carry
    their colour); pass nextCursor back for the next page."""
    def fn():
        wanted = [s.strip().upper() for s in (status or "").split(",") if s.strip()] if isinstance(
            status, string_types) else (list(status) if status else None)
        data = _data(service.listRuns(workflowName=workflowName or None, status=wanted or None,
                                      queueName=queueName or None, partitionKey=partitionKey or None,
                                      workflowVersion=workflowVersion or None, cursor=cursor or None,
                                      limit=limit or 50))
        rows = [{"workflowId": r["workflowId"], "workflow": r["workflowName"], "status": _cell(r["status"]),
                 "phase": _cell(r["phase"]), "queue": r["queueName"], "partition": r.get("partitionKey") or "",
                 "version": r.get("workflowVersion") or "", "created": _time(r["createdAt"]),
                 "duration": _duration(r.get("durationMs")), "startedBy": r.get("createdBy") or ""}
                for r in data["runs"]]
        return {"rows": rows, "nextCursor": data["nextCursor"] or "",
                "statusOptions": [{"value": s, "label": s} for s in statuses.ALL]}
    return _answer(fn)


# -- one run (/runs/:uuid) ------------------------------------------------------------------------------------------

def runDetails(workflowId):
    """Everything the run page shows but its log: status and phase (with colours), facts, inputs, output and
    error as text, what it waits for, its events, and whether it has ended."""
    def fn():
        run = _data(service.getWorkflow(workflowId=workflowId))
        facts = [("Workflow", run["workflowName"]), ("Version", run.get("workflowVersion") or ""),
                 ("Queue", run["queueName"]), ("Partition", run.get("partitionKey") or ""),
                 ("Started by", run.get("createdBy") or ""), ("Created", _time(run["createdAt"])),
                 ("Started", _time(run.get("startedAt"))), ("Ended", _time(run.get("completedAt"))),
                 ("Duration", _duration(run.get("durationMs"))), ("Executor", run.get("executorId") or ""),
                 ("Parent", run.get("parentWorkflowId") or ""), ("Retry of", run.get("retryOf") or "")]
        error = run.get("error") or None
        return {"workflowId": run["workflowId"], "workflow": run["workflowName"], "status": run["status"],
                "phase": run["phase"] or "", "statusStyle": statusStyle(run["status"]),
                "phaseStyle": statusStyle(run["phase"]), "done": run["status"] in statuses.TERMINAL,
                "facts": [{"name": k, "value": v} for k, v in facts if v not in ("", None)],
                "inputs": _text((run.get("inputs") or {}).get("resolved")), "output": _text(run.get("output")),
                "error": _text("%s: %s" % (error.get("type"), error.get("message"))) if error else "",
                "traceback": _text(error.get("traceback")) if error else "",
                "waiting": _waiting(run.get("waitingFor")),
                "events": [{"key": k, "value": _brief(v["value"]), "updated": _time(v["updatedAt"])}
                           for k, v in sorted((run.get("events") or {}).items())],
                "children": [{"workflowId": c["workflowId"], "workflow": c["workflowName"], "status": _cell(c["status"]),
                              "partition": c.get("partitionKey") or ""} for c in run.get("children") or []]}
    return _answer(fn)


def _waiting(w):
    if not w:
        return ""
    if w.get("operation") == "waitForTag":
        return u"Waiting for tag %s: %s (last read %s, %s)" % (w.get("path"), w.get("condition"),
                                                              _brief(w.get("lastValue"), 60), w.get("lastQuality"))
    if w.get("operation") == "sleep":
        return u"Sleeping until %s" % _time(w.get("until"))
    return u"Waiting (%s) for %d run(s), %d still pending" % (w.get("operation"), len(w.get("workflowIds") or []),
                                                             len(w.get("pending") or []))


def runLog(workflowId, afterOffset=-1, limit=LOG_PAGE):
    """The run's log entries after `afterOffset` (only what is new): {"entries": [{"offset", "time", "kind",
    "text"}], "lastOffset"}; lastOffset stays afterOffset when nothing is new."""
    def fn():
        after = int(afterOffset) if isinstance(afterOffset, integer_types + (float,)) else -1
        data = _data(service.readStream(workflowId=workflowId, key="log", afterOffset=after,
                                        limit=min(int(limit or LOG_PAGE), 1000)))
        entries = [{"offset": e["offset"], "time": _time(_entry_time(e)),
                    "kind": e["value"].get("kind", "") if isinstance(e["value"], dict) else "",
                    "text": _log_text(e["value"])} for e in data["entries"]]
        return {"entries": entries, "lastOffset": entries[-1]["offset"] if entries else after}
    return _answer(fn)


def _entry_time(entry):
    value = entry["value"]
    return value.get("at") if isinstance(value, dict) and value.get("at") else entry.get("at")


def _log_text(value):
    if not isinstance(value, dict):
        return _brief(value, 500)
    kind = value.get("kind")
    if kind == "status":
        extra = value.get("reason") or value.get("executor") or value.get("by") or ""
        return u"status %s%s" % (value.get("status"), (u" (%s)" % extra) if extra else u"")
    if kind == "phase":
        return u"phase %s" % value.get("phase")
    if kind == "step":
        return u"step %s %s%s" % (value.get("name"), value.get("event"),
                                  (u" %s" % value.get("status")) if value.get("status") else u"")
    if kind == "command":
        return u"%s by %s: %s%s" % (value.get("cmd"), value.get("actor"), value.get("outcome"),
                                    (u" (%s)" % value.get("reason")) if value.get("reason") else u"")
    if kind == "progress":
        return u"progress: %s" % value.get("message")
    return _brief(value, 500)


def commandButtons(workflowId, userName, roles):
    """The command buttons of the run page for this session's user: {"buttons": [{"cmd", "label", "enabled",
    "reason"}]} (HOLD, RESUME, STOP, RESET, CANCEL, declared commands, RETRY, CONTINUE)."""
    def fn():
        actor = _actor(userName, roles)
        run = _run_alone(workflowId)
        pending = [c for c in _data(service.listCommands(workflowId=workflowId))["commands"]
                   if c.get("state") == "PENDING"]
        _, choices = commands.command_choices(runtime.engine(), run["workflowName"], run["status"], run.get("error"),
                                              pending, actor)
        return {"buttons": [{"cmd": c["cmd"], "label": BUTTON_LABELS.get(c["cmd"], c["cmd"].title()),
                             "enabled": bool(c["allowed"]), "reason": c["reason"] or ""} for c in choices],
                "user": actor["name"], "roles": actor["roles"]}
    return _answer(fn)


def _run_alone(workflowId):
    """The run's own row as service.getWorkflow shapes it, without the events, retries and children it also reads:
    the buttons are asked for every second."""
    wid = ids.normalize(workflowId)
    if wid is None:
        raise _Refused("workflowId must be a UUID, got %r" % (workflowId,), "INVALID_ARGUMENT")
    row = views.run(runtime.engine().store.db, wid)
    if row is None:
        raise _Refused("no run with id %s" % wid, "NOT_FOUND")
    return shapes.run(row, now_ms())


def sendCommand(workflowId, cmd, userName, roles, reason=None):
    """Send a command as the session's user: HOLD, RESUME, STOP, RESET, CANCEL or a declared command, or RETRY /
    CONTINUE (a new linked run: its id in "workflowId"). {"code", "message"} or {"ok": False, "message"}."""
    def fn():
        actor = _actor(userName, roles)
        name = ("%s" % (cmd or "")).strip().upper()
        why = reason or None
        if name == policy.RETRY:
            resp = service.retry(workflowId=workflowId, actor=actor, reason=why)
        elif name == policy.CONTINUE:
            resp = service.continueWithCurrentCode(workflowId=workflowId, actor=actor, reason=why)
        elif name == policy.CANCEL:
            resp = service.cancel(workflowId=workflowId, actor=actor, reason=why)
        else:
            resp = service.sendCommand(workflowId=workflowId, cmd=name, reason=why, actor=actor)
        out = {"ok": resp["ok"], "code": resp["code"], "message": resp["message"]}
        if resp["ok"] and name in (policy.RETRY, policy.CONTINUE):
            out["workflowId"] = resp["data"]["workflowId"]
        return out
    return _answer(fn)


def commandLog(workflowId):
    """The run's commands, oldest first: {"rows": [{"id", "cmd", "who", "reason", "state", "outcome", "received",
    "decided"}]} (state cells carry their colour)."""
    def fn():
        rows = _data(service.listCommands(workflowId=workflowId))["commands"]
        return {"rows": [{"id": c["id"], "cmd": c["cmd"], "who": c.get("actor") or "", "reason": c.get("reason") or "",
                          "state": _cell(c["state"]), "outcome": c.get("outcomeReason") or "",
                          "received": _time(c.get("receivedAt")), "decided": _time(c.get("decidedAt"))} for c in rows]}
    return _answer(fn)


# -- steps (/runs/:uuid/steps) --------------------------------------------------------------------------------------

def stepsPage(workflowId):
    """The run's recorded steps and operations: {"rows": [{"position", "name", "kind", "status", "attempts",
    "started", "duration", "result"}]}."""
    def fn():
        steps = _data(service.listSteps(workflowId=workflowId))["steps"]
        return {"rows": [{"position": s["functionId"], "name": s["name"], "kind": s["kind"], "status": _cell(s["status"]),
                          "attempts": s.get("attempts"), "started": _time(s.get("startedAt")),
                          "duration": _duration(s.get("durationMs")),
                          "result": _brief(("%s: %s" % (s["error"].get("type"), s["error"].get("message")))
                                           if s.get("error") else s.get("output"))} for s in steps]}
    return _answer(fn)


def timeline(workflowId, width=900):
    """The steps on a time axis, drawn: {"elements": [...], "viewBox", "height"} for a Perspective SVG component
    (one bar per step from its start to its end, coloured by status, and its name)."""
    def fn():
        steps = [s for s in _data(service.listSteps(workflowId=workflowId))["steps"] if s.get("startedAt")]
        total = int(width or 900)
        label_width, row = 220, 18
        if not steps:
            return {"elements": [], "viewBox": "0 0 %d %d" % (total, row), "height": row}
        start = min([s["startedAt"] for s in steps])
        end = max([s.get("completedAt") or now_ms() for s in steps])
        span = max(1, end - start)
        scale = float(total - label_width - 10) / span
        elements = []
        for index, s in enumerate(steps):
            y = index * row
            left = label_width + (s["startedAt"] - start) * scale
            bar = max(2.0, ((s.get("completedAt") or now_ms()) - s["startedAt"]) * scale)
            elements.append({"type": "text", "name": "label-%d" % s["functionId"], "text": _brief(
                "#%d %s" % (s["functionId"], s["name"]), 34), "x": 4, "y": y + 13,
                "style": {"fontSize": "11px"}, "fill": {"paint": "#1d2733"}})
            elements.append({"type": "rect", "name": "bar-%d" % s["functionId"], "x": round(left, 1), "y": y + 3,
                             "width": round(bar, 1), "height": row - 6,
                             "fill": {"paint": COLORS.get(s["status"], "#6b7785")}})
        height = len(steps) * row
        return {"elements": elements, "viewBox": "0 0 %d %d" % (total, height), "height": height,
                "from": _time(start), "to": _time(end)}
    return _answer(fn)


# -- queues (/queues) and admin (/admin) ----------------------------------------------------------------------------

def queuesTable():
    """{"rows": [{"queue", "delayed", "enqueued", "pending", "running", "held", "waiting", "partitions",
    "oldestWaiting", "limits"}]}."""
    def fn():
        rows = []
        for q in _data(service.listQueues())["queues"]:
            counts = q.get("counts") or {}
            declared = q.get("limits") or {}
            limits = [("concurrency", declared.get("concurrency")), ("per gateway", declared.get("workerConcurrency")),
                      ("rate", declared.get("rateLimit"))]
            rows.append({"queue": q["name"], "delayed": counts.get("DELAYED", 0), "enqueued": counts.get("ENQUEUED", 0),
                         "pending": counts.get("PENDING", 0), "running": counts.get("RUNNING", 0),
                         "held": counts.get("HELD", 0), "waiting": counts.get("WAITING", 0),
                         "partitions": ", ".join(q.get("activePartitions") or []),
                         "oldestWaiting": _duration(q.get("oldestWaitingMs")),
                         "limits": ", ".join(["%s %s" % (k, v) for k, v in limits if v is not None])})
        return {"rows": rows}
    return _answer(fn)


def adminOverview():
    """The gateways (executors) with their heartbeat and the workflows and versions each has, the maintenance
    state and the retention settings."""
    def fn():
        executors = _data(admin.listExecutors())
        maintenance = admin.maintenanceStatus()
        maintenance = maintenance["data"] if maintenance["ok"] else {}  # outside the gateway scope: not known
        retention = _data(admin.getRetention())
        rows = [{"executor": e["executorId"], "host": e["host"], "state": _cell(e["state"].upper()),
                 "heartbeat": _duration(e["heartbeatAgeMs"]) + " ago", "workers": e.get("workers"),
                 "executing": e.get("executing"), "generation": e.get("generation"),
                 "workflows": ", ".join(["%s@%s" % (n, v) for n, v in sorted((e.get("workflows") or {}).items())])}
                for e in executors["executors"]]
        return {"executors": rows, "draining": bool(maintenance.get("draining")),
                "maintenance": "draining" if maintenance.get("draining") else "running",
                "retentionDays": retention.get("days"), "leaseMs": executors.get("leaseMs")}
    return _answer(fn)


def adminAction(action, userName, roles, days=None):
    """drain (stop claiming), resume (claim again), retention (set the days runs are kept), applyRetention;
    the admin role only. {"message"} or {"ok": False, "message"}."""
    def fn():
        actor = _actor(userName, roles)
        if "admin" not in actor["roles"]:
            raise _Refused("%s may not change the gateway (admin role)" % actor["name"], "FORBIDDEN")
        if action == "drain":
            resp = admin.enterMaintenance("drain")
        elif action == "resume":
            resp = admin.exitMaintenance()
        elif action == "retention":
            whole = int(days) if isinstance(days, float) and days == int(days) else days  # a Numeric Entry's 45.0
            resp = admin.setRetention(days=whole, actor=actor["name"])
        elif action == "applyRetention":
            resp = admin.applyRetention()
        else:
            raise _Refused("unknown action %r (drain, resume, retention, applyRetention)" % (action,),
                           "INVALID_ARGUMENT")
        return {"ok": resp["ok"], "code": resp["code"], "message": resp["message"]}
    return _answer(fn)


def pollRates():
    """How often the views poll, in milliseconds (POLL_MS)."""
    return dict(POLL_MS)
