"""Starting runs: validate a start request into a workflow_status row, then write it durably or in memory."""
from exchange.workflows.engine.queues import DEFAULT_QUEUE, check_priority
from exchange.workflows.engine.registry import WorkflowDef
from exchange.workflows.store.statuses import DELAYED, ENQUEUED
from exchange.workflows.util import ids
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.compat import integer_types, string_types
from exchange.workflows.util.errors import InvalidArgument, WorkflowsError
from exchange.workflows.util.jsoncodec import dumps, loads, quote, to_json_native

MAX_KEY_LENGTH = 200
MAX_DELAY_SECONDS = 366 * 24 * 3600  # a delayed start, a debounce's quiet time or maxWait: at most a year


class UnknownWorkflow(WorkflowsError):
    code = "UNKNOWN_WORKFLOW"


class UnknownQueue(WorkflowsError):
    code = "UNKNOWN_QUEUE"


def find_definition(engine, name, use_database=True):
    """The registered workflow, or (outside the gateway) the definition a gateway published to the database."""
    definition = engine.registry.get(name)
    if definition is None and use_database:
        text = engine.store.definition("workflow_definitions", name)
        if text:
            definition = WorkflowDef.from_published(loads(text))
    return definition


def _optional_text(value, field):
    if value is None:
        return None
    if not isinstance(value, string_types) or not value.strip() or len(value) > MAX_KEY_LENGTH:
        raise InvalidArgument("%s must be a non-empty string of at most %d characters" % (field, MAX_KEY_LENGTH),
                              field=field)
    if u"\x00" in value:
        raise InvalidArgument("%s must not contain NUL characters (a database text column cannot hold them)" % field,
                              field=field)
    return value


def delay_ms(value, field="delaySeconds", zero_ok=True):
    """Seconds as whole milliseconds, or InvalidArgument for a negative, absurd or non-numeric value."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (float,) + integer_types) or value != value:
        raise InvalidArgument("%s must be a number of seconds" % field, field=field)
    if value < 0 or (value == 0 and not zero_ok):
        raise InvalidArgument("%s must be %s, got %r" % (field, "zero or more" if zero_ok else "more than zero", value),
                              field=field)
    if value > MAX_DELAY_SECONDS:
        raise InvalidArgument("%s must be at most %d seconds (a year), got %r" % (field, MAX_DELAY_SECONDS, value),
                              field=field)
    return int(round(value * 1000))


def resolve_inputs(definition, inputs, templates=None):
    """inputs = {"resolved": {...}} or {"template": name, "overrides": {...}} or None -> (inputs object, params)."""
    if inputs is None:
        inputs = {}
    inputs = to_json_native(inputs, "inputs")
    if not isinstance(inputs, dict):
        raise InvalidArgument("inputs must be an object like {\"resolved\": {...}}", field="inputs")
    unknown = [k for k in inputs if k not in ("resolved", "template", "overrides")]
    if unknown:
        raise InvalidArgument("inputs has unknown keys %s: pass parameters as inputs={\"resolved\": {...}}"
                              % ", ".join(sorted(unknown)), field="inputs.%s" % sorted(unknown)[0])
    if "resolved" in inputs:
        values = inputs["resolved"]
        if not isinstance(values, dict):
            raise InvalidArgument("inputs.resolved must be an object of parameter values", field="inputs.resolved")
    else:
        values = {}
        template = inputs.get("template")
        if template is not None:
            found = (templates or {}).get(template)
            if found is None:
                found = definition.templates.get(template)
            if found is None:
                raise InvalidArgument("workflow %s has no parameter template %r" % (definition.name, template),
                                      field="inputs.template")
            values.update(found)
        overrides = inputs.get("overrides") or {}
        if not isinstance(overrides, dict):
            raise InvalidArgument("inputs.overrides must be an object", field="inputs.overrides")
        values.update(overrides)
    params = definition.resolve(values)
    stored = dict(inputs)
    stored["resolved"] = params
    return stored, params


def prepare(engine, workflowName, inputs=None, queueName=None, partitionKey=None, priority=None,
            deduplicationId=None, timeoutSeconds=None, applicationVersion=None, workflowId=None, createdBy=None,
            use_database=True, templates=None, delaySeconds=None, supplied=None):
    """Validate a start request and return the workflow_status row to insert (nothing is written).

    delaySeconds: the run is DELAYED (durable, not claimed) until then. supplied: what the engine tells the run
    (a schedule's name and fire time), kept in its inputs under "supplied" and given to the workflow as the
    parameters of those names that it declares."""
    if not isinstance(workflowName, string_types) or not workflowName.strip():
        raise InvalidArgument("workflowName is required", field="workflowName")
    definition = find_definition(engine, workflowName, use_database)
    if definition is None:
        raise UnknownWorkflow("no workflow named %r is registered (see listWorkflows())" % workflowName,
                              data={"workflowName": workflowName})
    stored, _ = resolve_inputs(definition, inputs, templates)
    if supplied:
        stored["supplied"] = supplied
        for key, value in supplied.items():
            if definition.param(key) is not None and stored["resolved"].get(key) is None:
                stored["resolved"][key] = value
    delay = delay_ms(delaySeconds)
    queue_name = queueName if queueName is not None else (definition.queue or DEFAULT_QUEUE)
    _optional_text(queue_name, "queueName")
    if engine.queues.get(queue_name) is None and not engine.config.allow_undeclared_queues:
        if not (use_database and engine.store.definition("queues", queue_name)):
            raise UnknownQueue("queue %r is not declared (declareQueue) on this gateway" % queue_name,
                               data={"queueName": queue_name})
    if timeoutSeconds is not None:
        if isinstance(timeoutSeconds, bool) or not isinstance(timeoutSeconds, (float,) + integer_types) \
                or timeoutSeconds <= 0:
            raise InvalidArgument("timeoutSeconds must be a positive number of seconds", field="timeoutSeconds")
    if workflowId is not None:
        wid = ids.normalize(workflowId)
        if wid is None:
            raise InvalidArgument("workflowId must be a UUID", field="workflowId")
    else:
        wid = ids.new_id()
    if applicationVersion is not None and (not isinstance(applicationVersion, string_types)
                                           or u"\x00" in applicationVersion):
        raise InvalidArgument("applicationVersion must be a string without NUL characters", field="applicationVersion")
    if isinstance(createdBy, string_types) and u"\x00" in createdBy:
        raise InvalidArgument("the actor's name must not contain NUL characters", field="actor")
    now = now_ms()
    row = {
        "workflow_uuid": wid,
        "name": definition.name,
        "status": ENQUEUED,
        "phase": "IDLE",
        "queue_name": queue_name,
        "partition_key": _optional_text(partitionKey, "partitionKey"),
        "priority": check_priority(priority),
        "deduplication_id": _optional_text(deduplicationId, "deduplicationId"),
        "inputs": dumps(stored),
        "application_version": applicationVersion,
        "workflow_version": definition.version,
        "created_by": createdBy,
        "created_at": now,
        "updated_at": now,
        "timeout_ms": int(timeoutSeconds * 1000) if timeoutSeconds is not None else None,
    }
    if delay:
        row["status"] = DELAYED
        row["wake_at"] = now + delay
    return row


_PACKED_FIELDS = ("workflow_uuid", "name", "status", "phase", "queue_name", "partition_key", "priority",
                  "deduplication_id", "inputs", "application_version", "created_by", "created_at", "updated_at",
                  "timeout_ms", "workflow_version")
_LATER_FIELDS = ("workflow_version",)  # an entry packed by an earlier release (kept in the kernel) has none
PACKED_PREFIX = '{"workflow_uuid":"'  # every packed start begins with its id (a checked UUID, no escaping)


def _text(value):
    return "null" if value is None else quote(value)


def _number(value):
    return "null" if value is None else "%d" % value


def pack(row):
    """A start row as the JSON object of its workflow_status columns, for the in-memory queue (the kernel keeps
    only Java objects, so no dicts). `inputs` is embedded as the JSON it already is.

    The flush sends a batch of these to the database as one JSON array, which the database expands into rows: the
    flushing thread does no per-row work, where binding fourteen values per row cost it more than the callers."""
    return ('{"workflow_uuid":"%s","name":%s,"status":%s,"phase":%s,"queue_name":%s,"partition_key":%s,'
            '"priority":%d,"deduplication_id":%s,"inputs":%s,"application_version":%s,"created_by":%s,'
            '"created_at":%d,"updated_at":%d,"timeout_ms":%s,"workflow_version":%s}') % (
        row["workflow_uuid"], quote(row["name"]), quote(row["status"]), _text(row["phase"]), quote(row["queue_name"]),
        _text(row["partition_key"]), row["priority"], _text(row["deduplication_id"]), row["inputs"] or "null",
        _text(row["application_version"]), _text(row["created_by"]), row["created_at"], row["updated_at"],
        _number(row["timeout_ms"]), _text(row.get("workflow_version")))


def unpack(text):
    """The row of pack(), for reporting (its inputs encoded again, not the original text); ValueError when `text`
    is not one."""
    if not text.startswith(PACKED_PREFIX):
        return _unpack_length_prefixed(text)
    found = loads(text)
    if isinstance(found, dict):
        for field in _LATER_FIELDS:
            found.setdefault(field, None)
    if not isinstance(found, dict) or sorted(found) != sorted(_PACKED_FIELDS):
        raise ValueError("not a packed start row")
    if found["inputs"] is not None:
        found["inputs"] = dumps(found["inputs"])
    return found


def repack(text):
    """`text` in today's packed form: an entry left in the kernel's queue by the previous release (length-prefixed
    fields) is rewritten; ValueError when it is neither."""
    if text.startswith(PACKED_PREFIX):
        return text
    return pack(_unpack_length_prefixed(text))


def _unpack_length_prefixed(text):
    """The previous release's packed form, "s<len>:<text>", "i<int>;" or "n" per field."""
    row = {}
    position = 0
    for field in _PACKED_FIELDS:
        if field in _LATER_FIELDS:
            row[field] = None
            continue
        kind = text[position]
        if kind == "n":
            row[field] = None
            position += 1
        elif kind == "s":
            colon = text.index(":", position)
            length = int(text[position + 1:colon])
            row[field] = text[colon + 1:colon + 1 + length]
            position = colon + 1 + length
        elif kind == "i":
            end = text.index(";", position)
            row[field] = int(text[position + 1:end])
            position = end + 1
        else:
            raise ValueError("not a packed start row")
    if position != len(text):
        raise ValueError("not a packed start row")
    return row


def start_payload(engine, queue_name):
    """The NOTIFY of a start: "start@<origin>:<queue>". The origin is this gateway's kernel instance when the
    caller wakes its own dispatcher (so its listener can skip the echo), else empty."""
    return "start@%s:%s" % (engine.kernel.instance if engine.host.executes else "", queue_name)


def insert(engine, row, retry_of=None, retry_from=None):
    """Write a prepared row (with its ENQUEUED event and log entry, and a NOTIFY) in one round trip; returns
    ('inserted' | 'exists' | 'duplicate', run id)."""
    if retry_of is not None:
        row = dict(row)
        row["retry_of"] = retry_of
        row["retry_from"] = retry_from
    return engine.store.transitions.enqueue(row, notify_payload(engine, row))


def notify_payload(engine, row):
    """The NOTIFY a start sends, or None: other gateways are woken at once; a gateway alone on its database has
    woken its own dispatcher. A delayed run tells its start time ("delayed@<origin>:<ms>"), so that a gateway
    sets its timer for it."""
    if engine.store.dialect.supports_notify and not (engine.host.executes and not engine.peers):
        if row["status"] == DELAYED:
            return "delayed@%s:%d" % (engine.kernel.instance if engine.host.executes else "", row["wake_at"])
        return start_payload(engine, row["queue_name"])
    return None
