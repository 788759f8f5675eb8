"""Workflows of the HTTP and database step tests (tests/test_steps_http_db.py). Importing this module registers
them (names start with "pio.").

ENTRIES counts how many times each run's workflow function began: a run that parks and wakes begins again and
replays its recorded steps, so 2 entries with 1 request at the server means the answer came from the record.
"""
import threading

from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.engine.decorators import workflow
from exchange.workflows.engine.errors import HttpError
from exchange.workflows.steps import db, http

ENTRIES = {}
_lock = threading.Lock()


def _entered():
    wid = getWorkflows().workflowId
    with _lock:
        ENTRIES[wid] = ENTRIES.get(wid, 0) + 1


def _park(seconds):
    """A sleep of a second or more parks the run: when it wakes, the workflow function runs again from the top."""
    if seconds:
        getWorkflows().sleep(seconds)


@workflow(name="pio.request")
def request_once(url, method="GET", options=None, park=0.0):
    """One http.request with `options` as its keyword arguments; its answer is the output."""
    _entered()
    answer = http.request(method, url, **(options or {}))
    _park(park)
    return answer


@workflow(name="pio.order")
def order(url, park=0.0):
    """Look an order up; a 404 (HttpError) takes the "missing" branch, and so must a replay of it."""
    _entered()
    try:
        found = http.request("GET", url)
        branch = {"branch": "found", "body": found["body"]}
    except HttpError as missing:
        branch = {"branch": "missing", "type": type(missing).__name__, "status": missing.status,
                  "url": missing.url, "method": missing.method, "body": missing.body}
    _park(park)
    return branch


@workflow(name="pio.batch_record")
def batch_record(connection, batch="B-1", qty=12.5, park=0.0):
    """Write a batch record, read it back, change it: one step each, none run again by a replay."""
    _entered()
    added = db.update(connection, "INSERT INTO batches (id, qty, note, done) VALUES (?, ?, 'why? 100%', ?)",
                      [batch, qty, False])
    rows = db.query(connection, "SELECT id, qty, note, done FROM batches WHERE id = ? AND done = ?", [batch, False])
    changed = db.update(connection, "UPDATE batches SET qty = qty + ?, done = ? WHERE id = ?", [1, True, batch])
    _park(park)
    return {"added": added, "rows": rows, "changed": changed}


@workflow(name="pio.sql")
def sql(connection, statement, args=None, update=False, options=None):
    """One db.query (or db.update) with `options` as its keyword arguments."""
    step = db.update if update else db.query
    return step(connection, statement, args, **(options or {}))
