"""In-memory starts (enqueueInMemory) are stored exactly as durable starts are, whatever their values, on both
databases: the flush sends a batch as one JSON array that the database expands into rows."""
import json

from conftest import wait_for
from exchange.workflows.api import service
from exchange.workflows.engine import starts
from exchange.workflows.util import ids

AWKWARD = u'line "1" \\ back\\slash \u00e9\u4e2d \U0001f525 tab\tnewline\n'


def _quiet(make_engine):
    engine = make_engine(tick_ms=60000, listen=False)
    engine.kernel.set_flag("draining", True)  # claim nothing: the rows stay as the start wrote them
    return engine


def _stored(engine, wid):
    run = engine.store.get_run(wid)
    events = dict((r[0], r[1]) for r in engine.store.db.query(
        "SELECT key, value FROM workflows.workflow_events WHERE workflow_uuid = ?", (wid,)))
    history = [tuple(r) for r in engine.store.db.query(
        "SELECT key, value FROM workflows.workflow_events_history WHERE workflow_uuid = ? ORDER BY id", (wid,))]
    log = service.readStream(workflowId=wid, key="log")["data"]["entries"]
    return run, events, history, log


def _flushed(engine, wids):
    engine.dispatcher.flush_memory_queue(1)
    wait_for(lambda: all(engine.store.get_run(w) is not None for w in wids), timeout=10.0)
    assert engine.kernel.memory_queue.size() == 0


def test_an_in_memory_start_is_stored_like_a_durable_one(make_engine):
    engine = _quiet(make_engine)
    args = dict(workflowName="t.typed", inputs={"resolved": {"batch": AWKWARD, "size": 12, "ratio": 0.25}},
                queueName="default", partitionKey=AWKWARD.strip(), priority=3, timeoutSeconds=90.5,
                applicationVersion=u"v2 \u00e9", actor=u'op "A"')
    durable = service.start(deduplicationId=u"lot \"7\" a", **args)
    memory = service.enqueueInMemory(deduplicationId=u"lot \"7\" b", **args)
    assert durable["code"] == "WORKFLOW_ENQUEUED" and memory["code"] == "WORKFLOW_ACCEPTED", (durable, memory)
    a, b = durable["data"]["workflowId"], memory["data"]["workflowId"]
    _flushed(engine, [b])

    run_a, events_a, history_a, log_a = _stored(engine, a)
    run_b, events_b, history_b, log_b = _stored(engine, b)
    differ = ("workflow_uuid", "deduplication_id", "created_at", "updated_at")
    assert dict((k, v) for k, v in run_a.items() if k not in differ) == \
        dict((k, v) for k, v in run_b.items() if k not in differ)
    assert run_b["inputs"] == run_a["inputs"]  # the very text: JSON is embedded, not re-encoded
    assert run_b["partition_key"] == AWKWARD.strip() and run_b["deduplication_id"] == u"lot \"7\" b"
    assert run_b["timeout_ms"] == 90500 and run_b["priority"] == 3 and run_b["created_by"] == u'op "A"'
    assert events_b == events_a == {"status": '"ENQUEUED"'}
    assert history_b == history_a == [("status", '"ENQUEUED"')]
    assert [e["offset"] for e in log_b] == [0]
    assert dict((k, v) for k, v in log_b[0]["value"].items() if k != "at") == \
        dict((k, v) for k, v in log_a[0]["value"].items() if k != "at") == \
        {"kind": "status", "status": "ENQUEUED", "by": u'op "A"', "queue": "default"}


def test_a_batch_skips_what_exists_and_writes_the_rest_once(make_engine):
    engine = _quiet(make_engine)
    existing = service.start(workflowName="t.linear")["data"]["workflowId"]
    active = service.start(workflowName="t.linear", deduplicationId="lot-9")["data"]["workflowId"]
    twice = ids.new_id()
    accepted = [service.enqueueInMemory(workflowName="t.linear", workflowId=twice),
                service.enqueueInMemory(workflowName="t.linear", workflowId=twice),
                service.enqueueInMemory(workflowName="t.linear", workflowId=existing),
                service.enqueueInMemory(workflowName="t.linear", deduplicationId="lot-9")]
    fresh = [service.enqueueInMemory(workflowName="t.linear", inputs={"resolved": {"steps": n}})["data"]["workflowId"]
             for n in range(5)]
    assert all(r["code"] == "WORKFLOW_ACCEPTED" for r in accepted)
    _flushed(engine, fresh + [twice])

    db = engine.store.db
    clash = accepted[3]["data"]["workflowId"]
    assert engine.store.get_run(clash) is None  # the active run with that deduplicationId stays the only one
    assert [r[0] for r in db.query("SELECT workflow_uuid FROM workflows.workflow_status WHERE deduplication_id = "
                                   "'lot-9'")] == [active]
    for wid in fresh + [twice, existing]:
        assert int(db.query("SELECT count(*) FROM workflows.workflow_status WHERE workflow_uuid = ?", (wid,))[0][0]) == 1
        _, events, history, log = _stored(engine, wid)
        assert events == {"status": '"ENQUEUED"'} and history == [("status", '"ENQUEUED"')], wid
        assert [(e["offset"], e["value"]["status"]) for e in log] == [(0, "ENQUEUED")], wid
    assert [json.loads(engine.store.get_run(w)["inputs"]) for w in fresh] == [
        {"resolved": {"delay": 0.0, "steps": n}} for n in range(5)]


def _length_prefixed(row):
    """The previous release's packed form of a start, as its kernel queue may still hold it after an upgrade."""
    parts = []
    for field in ("workflow_uuid", "name", "status", "phase", "queue_name", "partition_key", "priority",
                  "deduplication_id", "inputs", "application_version", "created_by", "created_at", "updated_at",
                  "timeout_ms"):
        value = row.get(field)
        if value is None:
            parts.append("n")
        elif isinstance(value, int):
            parts.append("i%d;" % value)
        else:
            parts.append("s%d:%s" % (len(value), value))
    return "".join(parts)


def test_a_start_queued_by_the_previous_release_is_still_written(make_engine):
    engine = _quiet(make_engine)
    row = starts.prepare(engine, "t.typed", {"resolved": {"batch": AWKWARD}}, None, "p-1", None, None, 30, None,
                         None, "upgrade", use_database=False)
    engine.kernel.memory_queue.offer(_length_prefixed(row))
    engine.kernel.memory_queue.offer("not a start at all")
    engine.kernel.memory_queue.offer("s36:%sni100;" % ids.new_id())  # cut short: dropped, the rest still written
    engine.kernel.memory_queue.offer("s36:%s" % ids.new_id() + "n" * 13)  # readable but empty: dropped too
    _flushed(engine, [row["workflow_uuid"]])
    stored = engine.store.get_run(row["workflow_uuid"])
    assert (stored["inputs"], stored["partition_key"], stored["timeout_ms"], stored["created_by"]) == (
        row["inputs"], "p-1", 30000, "upgrade")


def test_nul_characters_are_refused_before_anything_is_queued(make_engine):
    engine = _quiet(make_engine)
    for call in (service.start, service.enqueueInMemory):
        for kwargs, field in ((dict(partitionKey=u"a\x00b"), "partitionKey"),
                              (dict(deduplicationId=u"\x00"), "deduplicationId"),
                              (dict(applicationVersion=u"1\x00"), "applicationVersion"),
                              (dict(actor=u"op\x00"), "actor")):
            resp = call(workflowName="t.linear", **kwargs)
            assert (resp["ok"], resp["code"], resp["data"].get("field")) == (False, "INVALID_ARGUMENT", field), resp
    assert engine.kernel.memory_queue.size() == 0
    assert int(engine.store.db.query("SELECT count(*) FROM workflows.workflow_status")[0][0]) == 0
