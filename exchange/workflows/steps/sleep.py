"""Sleeping (the source project's `sleep` steps), as durable sleeps.

In a workflow, sleep_ms(ms) and sleep_chunked(total_ms, chunk_ms) are getWorkflows().sleep(ms / 1000): the wake
time is recorded, so after a restart the run wakes when it was meant to, and a sleep of a second or more parks the
run (no worker thread) while HOLD, STOP and cancel still apply at once. Chunks are no longer needed for that, so
chunk_ms is accepted and ignored. Inside a step or a plain script they sleep on the calling thread.
"""
import time

from exchange.workflows.engine import context
from exchange.workflows.engine.context import getWorkflows
from exchange.workflows.util.compat import is_number
from exchange.workflows.util.errors import InvalidArgument


def sleep_ms(ms):
    if not is_number(ms) or ms < 0:
        raise InvalidArgument("ms must be a number of milliseconds >= 0", field="ms")
    if context.current() is None:
        time.sleep(ms / 1000.0)
        return
    getWorkflows().sleep(ms / 1000.0)


def sleep_chunked(total_ms, chunk_ms=250):
    if not is_number(chunk_ms) or chunk_ms <= 0:
        raise InvalidArgument("chunk_ms must be a number of milliseconds > 0", field="chunk_ms")
    sleep_ms(total_ms)
