"""Calling a step inside a workflow: replay a recorded result, or run it with retries and record it once."""
import sys

from exchange.workflows.engine import context
from exchange.workflows.engine.signals import CancelSignal, EngineSignal, HandBack, StopSignal
from exchange.workflows.store.records import Records, step_retrying_entry
from exchange.workflows.store.statuses import STEP_CANCELLED, STEP_ERROR, STEP_SUCCESS
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.errors import InvalidArgument
from exchange.workflows.util.jsoncodec import dumps, to_json_native


_INTERRUPTS = ("InterruptedException", "ClosedByInterruptException", "InterruptedIOException")


class StepDef(object):
    def __init__(self, name, fn, retries_allowed=False, max_attempts=3, interval_seconds=1.0, backoff_rate=2.0):
        if max_attempts < 1:
            raise InvalidArgument("max_attempts must be at least 1", field="max_attempts")
        if interval_seconds < 0 or backoff_rate < 1:
            raise InvalidArgument("interval_seconds must be >= 0 and backoff_rate >= 1", field="interval_seconds")
        self.name = name
        self.fn = fn
        self.retries_allowed = retries_allowed
        self.max_attempts = max_attempts if retries_allowed else 1
        self.interval_seconds = float(interval_seconds)
        self.backoff_rate = float(backoff_rate)
        self.output_path = "output of step %s" % name  # named in the error when the output is not JSON-native


def call_step(step, args, kwargs):
    ctx = context.current()
    if ctx is None or ctx.in_step:
        return step.fn(*args, **kwargs)  # outside a workflow, or nested in a step: a plain call
    ctx.boundary()
    fid = ctx.next_function_id()
    rec = ctx.replayed(fid, step.name, "step")
    if rec is not None:
        return ctx.recorded_result(rec)
    return _execute(ctx, step, fid, args, kwargs)


def _execute(ctx, step, fid, args, kwargs):
    started = now_ms()
    ctx.step_started = [fid, step.name, started, False]  # one reference: the log flusher reads it under ctx.lock
    attempts = 0
    delay = step.interval_seconds
    while True:
        attempts += 1
        ctx.in_step = True
        try:
            value = step.fn(*args, **kwargs)
        except (StopSignal, CancelSignal):
            ctx.in_step = False
            _record(ctx, step, fid, STEP_CANCELLED, None, {"type": "Interrupted", "message": "interrupted by %s" % (
                "STOP" if isinstance(sys.exc_info()[1], StopSignal) else "cancel"), "traceback": ""}, attempts, started)
            raise
        except EngineSignal:
            raise  # HOLD or hand-back inside the step: not recorded, the step runs again on resume
        except KeyboardInterrupt:
            raise HandBack("worker thread interrupted")
        except:  # noqa: E722 - any Python or Java exception raised by step code
            ctx.in_step = False
            if type(sys.exc_info()[1]).__name__ in _INTERRUPTS and ctx.engine.stopping():
                # shutdownNow interrupted a blocking Java call: the run is handed back, not failed
                raise HandBack("worker thread interrupted by the shutdown")
            error = context.describe_error(sys.exc_info())
            if attempts < step.max_attempts:
                now = now_ms()
                ctx.attach(Records().log(step_retrying_entry(step.name, fid, now, attempts, error["type"] + ": " +
                                                             error["message"], delay), now))
                ctx.wait(delay)
                delay *= step.backoff_rate
                continue
            _record(ctx, step, fid, STEP_ERROR, None, error, attempts, started)
            raise
        finally:
            ctx.in_step = False
        try:
            output = to_json_native(value, step.output_path)
        except InvalidArgument:
            error = context.describe_error(sys.exc_info())
            _record(ctx, step, fid, STEP_ERROR, None, error, attempts, started)
            raise
        _record(ctx, step, fid, STEP_SUCCESS, dumps(output), None, attempts, started)
        return output


def _record(ctx, step, fid, status, output_json, error, attempts, started):
    ctx.record_step(fid, step.name, status, output_json, dumps(error) if error else None, attempts, started)
