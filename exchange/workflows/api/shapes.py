"""How stored rows look in API answers: camelCase keys, JSON columns parsed, epoch milliseconds."""
from exchange.workflows.util.jsoncodec import loads

_RUN_KEYS = (("workflow_uuid", "workflowId"), ("name", "workflowName"), ("status", "status"), ("phase", "phase"),
             ("queue_name", "queueName"), ("partition_key", "partitionKey"), ("priority", "priority"),
             ("deduplication_id", "deduplicationId"), ("executor_id", "executorId"),
             ("application_version", "applicationVersion"), ("created_by", "createdBy"), ("created_at", "createdAt"),
             ("updated_at", "updatedAt"), ("claimed_at", "claimedAt"), ("started_at", "startedAt"),
             ("completed_at", "completedAt"), ("timeout_ms", "timeoutMs"), ("deadline_at", "deadlineAt"),
             ("run_count", "runCount"), ("recovery_attempts", "recoveryAttempts"), ("retry_of", "retryOf"),
             ("retry_from", "retryFrom"), ("parent_uuid", "parentWorkflowId"), ("root_uuid", "rootWorkflowId"),
             ("wake_at", "wakeAt"), ("debounce_key", "debounceKey"), ("schedule_name", "scheduleName"),
             ("scheduled_at", "scheduledAt"), ("workflow_version", "workflowVersion"))
_JSON_KEYS = (("inputs", "inputs"), ("output", "output"), ("error", "error"))


def _num(value):
    return int(value) if value is not None else None


def run(row, now=None):
    out = {}
    for column, key in _RUN_KEYS:
        if column in row:
            value = row[column]
            if column.endswith("_at") or column in ("priority", "timeout_ms", "run_count", "recovery_attempts",
                                                    "retry_from"):
                value = _num(value)
            out[key] = value
    for column, key in _JSON_KEYS:
        if column in row:
            out[key] = loads(row[column]) if row[column] is not None else None
    if row.get("status") == "DELAYED":
        out["startsAt"] = _num(row.get("wake_at"))
    if "waiting_for" in row:
        out["waitingFor"] = loads(row["waiting_for"]) if row["waiting_for"] and row["status"] == "WAITING" else None
    start = out.get("startedAt")
    end = out.get("completedAt") or (now if start is not None and out.get("status") in ("RUNNING", "PENDING", "WAITING")
                                   else None)
    out["durationMs"] = (end - start) if start is not None and end is not None else None
    return out


def child(row, now=None):
    started, completed = _num(row["started_at"]), _num(row["completed_at"])
    end = completed or (now if started is not None and row["status"] in ("RUNNING", "PENDING", "WAITING") else None)
    return {"workflowId": row["workflow_uuid"], "workflowName": row["name"], "status": row["status"],
            "phase": row["phase"], "partitionKey": row["partition_key"], "queueName": row["queue_name"],
            "createdAt": _num(row["created_at"]), "startedAt": started, "completedAt": completed,
            "durationMs": (end - started) if started is not None and end is not None else None}


def step(row):
    started, completed = _num(row["started_at"]), _num(row["completed_at"])
    return {"functionId": int(row["function_id"]), "name": row["function_name"], "kind": row["kind"],
            "status": row["status"], "attempts": int(row["attempts"]), "startedAt": started,
            "completedAt": completed, "durationMs": (completed - started) if started and completed else None,
            "output": loads(row["output"]) if row["output"] is not None else None,
            "error": loads(row["error"]) if row["error"] is not None else None}


def command(row):
    return {"id": int(row["id"]), "cmd": row["cmd"], "topic": row["topic"],
            "payload": loads(row["payload"]) if row["payload"] else None, "actor": row["actor"],
            "actorRoles": loads(row["actor_roles"]) if row["actor_roles"] else [], "reason": row["reason"],
            "state": row["state"], "outcomeReason": row["outcome_reason"], "receivedAt": _num(row["received_at"]),
            "decidedAt": _num(row["decided_at"]), "causeId": _num(row.get("cause_id"))}


def event_rows(rows):
    return dict([(r[0], {"value": loads(r[1]), "updatedAt": _num(r[2])}) for r in rows])


def history_rows(rows):
    return [{"id": int(r[0]), "key": r[1], "value": loads(r[2]), "at": _num(r[3])} for r in rows]


def stream_rows(rows):
    return [{"offset": int(r[0]), "value": loads(r[1]), "at": _num(r[2])} for r in rows]


def executor(row, now):
    return {"executorId": row["executor_id"], "instance": row["instance"], "host": row["host"], "kind": row["kind"],
            "generation": _num(row["generation"]), "workers": _num(row["workers"]), "active": _num(row["active"]),
            "state": row["state"], "startedAt": _num(row["started_at"]), "heartbeatAt": _num(row["heartbeat_at"]),
            "heartbeatAgeMs": now - int(row["heartbeat_at"]), "executing": row["executing"],
            "workflows": loads(row["workflows"]) if row.get("workflows") else {}}


def schedule(row, last_run=None, words=None):
    """A schedule for API answers; `last_run` is (run id, status, scheduled_at) of its latest fire."""
    return {"scheduleName": row["schedule_name"], "workflowName": row["workflow_name"], "cron": row["cron"],
            "cronText": words, "timezone": row["timezone"],
            "inputs": loads(row["inputs"]) if row["inputs"] else None, "queueName": row["queue_name"],
            "partitionKey": row["partition_key"], "missedPolicy": row["missed_policy"],
            "catchUpLimit": _num(row["catch_up_limit"]), "enabled": bool(row["enabled"]), "source": row["source"],
            "nextFireAt": _num(row["next_fire_at"]), "lastFireAt": _num(row["last_fire_at"]),
            "createdBy": row["created_by"], "createdAt": _num(row["created_at"]), "updatedAt": _num(row["updated_at"]),
            "lastRun": {"workflowId": last_run[0], "status": last_run[1], "scheduledAt": last_run[2]}
            if last_run else None}


def schedule_change(row):
    return {"id": int(row["id"]), "scheduleName": row["schedule_name"], "action": row["action"],
            "actor": row["actor"], "actorRoles": loads(row["actor_roles"]) if row["actor_roles"] else [],
            "verdict": row["verdict"], "detail": row["detail"], "at": _num(row["at"])}
