"""The side channel: what steps really did, written outside the engine's database so that it survives anything.

Writers (steps in the gateways, Jython or CPython) append one JSON line per record to a file of their own process,
side-<pid>.jsonl in $MULTI_SIDE_DIR, opened and closed for each line: a kill -9 loses nothing already recorded.
Readers (the tests, CPython) load every file of the directory.
"""
import json
import os
import threading
import time
import uuid

ENV = "MULTI_SIDE_DIR"
_lock = threading.Lock()


def directory():
    return os.environ.get(ENV) or ""


def _executor():
    from exchange.workflows.host import runtime

    engine = runtime.current()
    return engine.executor_id if engine is not None else None


def record(event, workflow_id, **extra):
    """Append one record; returns its token (unique per execution, so a checkpoint tells which execution it kept)."""
    token = uuid.uuid4().hex
    folder = directory()
    if not folder:
        return token
    entry = {"ev": event, "wid": workflow_id, "t": time.time(), "token": token, "exe": _executor(),
             "pid": os.getpid()}
    entry.update(extra)
    line = json.dumps(entry) + "\n"
    path = os.path.join(folder, "side-%d.jsonl" % os.getpid())
    with _lock:
        handle = open(path, "a")
        try:
            handle.write(line)
        finally:
            handle.close()
    return token


def read(folder):
    """Every record of every process, oldest first (a torn last line of a killed writer is skipped)."""
    entries = []
    for name in sorted(os.listdir(folder)):
        if not (name.startswith("side-") and name.endswith(".jsonl")):
            continue
        with open(os.path.join(folder, name)) as handle:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    continue
    entries.sort(key=lambda e: e["t"])
    return entries
