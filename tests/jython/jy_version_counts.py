"""Step executions of test_code_versions.py's workflow modules, in a module of its own (never loaded again)."""
import threading

_COUNTS = {}
_LOCK = threading.Lock()


def note(workflow_id, name):
    with _LOCK:
        _COUNTS[(workflow_id, name)] = _COUNTS.get((workflow_id, name), 0) + 1


def counts(workflow_id):
    with _LOCK:
        return dict([(name, n) for (wid, name), n in _COUNTS.items() if wid == workflow_id])
