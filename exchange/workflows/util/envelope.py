"""The envelope every service and admin call returns: ok, code, message, data, meta (docs/service-api.md)."""
import sys
import traceback

from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.errors import WorkflowsError


def make(ok, code, message, data=None, started_ms=None):
    now = now_ms()
    return {
        "ok": bool(ok),
        "code": code,
        "message": message,
        "data": data if data is not None else {},
        "meta": {"tsMs": now, "durationMs": (now - started_ms) if started_ms is not None else 0},
    }


def success(code, message, data=None, started_ms=None):
    return make(True, code, message, data, started_ms)


def failure(code, message, data=None, started_ms=None):
    return make(False, code, message, data, started_ms)


def from_exception(exc_info, started_ms=None, logger=None):
    """Turn whatever was raised (a Python or a Java exception) into a failure envelope, never a traceback."""
    exc = exc_info[1]
    if isinstance(exc, WorkflowsError):
        return failure(exc.code, exc.message, exc.data, started_ms)
    if logger is not None:
        logger.error("unexpected error: %s" % "".join(traceback.format_exception(*exc_info)))
    return failure("INTERNAL_ERROR", "%s: %s" % (type(exc).__name__, exc), {}, started_ms)


def guarded(fn):
    """Wrap a facade function so that nothing it raises escapes: every outcome is an envelope.

    A bare except is deliberate: under Jython it is the only clause that also catches java.lang.Throwable.
    """

    def wrapper(*args, **kwargs):
        started = now_ms()
        try:
            result = fn(*args, **kwargs)
        except (KeyboardInterrupt, SystemExit):
            raise
        except:  # noqa: E722
            return from_exception(sys.exc_info(), started, _facade_logger())
        meta = result.setdefault("meta", {})
        meta["durationMs"] = now_ms() - started
        return result

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper


def _facade_logger():
    try:
        from exchange.workflows.host import runtime

        return runtime.logger("api")
    except Exception:  # the logger is a convenience; never let it mask the real error
        return None
