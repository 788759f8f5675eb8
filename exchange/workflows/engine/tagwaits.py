"""Durable waits on plant state: getWorkflows().waitForTag, and the dispatcher's batched evaluation of every
parked tag wait.

A run that waits for a tag reads it once on its worker; when the condition does not hold yet it is parked in
WAITING (no worker thread) with its tag wait (path, condition, poll interval, the gateway that evaluates it). The
dispatcher reads the tags of all the waits it evaluates in one batched read per tick (or per the shortest
pollSeconds) and, for each condition that holds, records the outcome at the wait's position and wakes the run
(release_tag_wait). The woken run replays up to the wait and finds the recorded outcome: the value seen and the
condition that released it, so every later replay takes the same branch. A wait past its timeout is claimed like
any waiting run; its own reading then decides, and WaitTimeout is recorded when the condition still does not hold.
"""
import sys
import time

from exchange.workflows.engine import boundary, tagconditions
from exchange.workflows.engine.errors import TagQualityBad, WaitTimeout
from exchange.workflows.engine.signals import WaitSignal
from exchange.workflows.store.statuses import STEP_ERROR, STEP_SUCCESS
from exchange.workflows.util.clock import now_ms, seconds_text
from exchange.workflows.util.jsoncodec import dumps, loads

WAIT_KIND = "wait"
OPERATION = "waitForTag"
POLL_TIMER = "tagPoll"
EVALUATE_AT_MOST = 10000  # waits read per evaluation: more wait for the next one
IN_STEP_POLL_S = 0.25


def operation_name(path):
    return "%s:%s" % (OPERATION, path)


def released_output(path, condition, current, at):
    """What a released wait records and returns: the reading that released it and the condition, in words."""
    return {"path": path, "value": current.get("value"), "quality": current.get("quality"),
            "timestamp": current.get("timestamp"), "condition": tagconditions.describe(condition), "releasedAt": at}


def quality_error(path, current):
    return TagQualityBad(u"tag %s has quality %s (good quality required)" % (path, current.get("quality")),
                         path=path, quality=current.get("quality"), value=current.get("value"))


def timeout_error(path, condition, timeout_s, current):
    return WaitTimeout(u"waitForTag %s timed out after %ss: still not %s (last value %s, %s)" % (
        path, seconds_text(timeout_s), tagconditions.describe(condition), _shown(current), current.get("quality")),
        path=path, lastValue=current.get("value"), lastQuality=current.get("quality"))


def wait_for_tag(ctx, path, condition, timeout_s, poll_s):
    """The workflow operation (arguments checked by the caller): the released reading, or TagQualityBad /
    WaitTimeout; recorded at its own position."""
    if ctx.in_step:
        return _poll_in_step(ctx, path, condition, timeout_s, poll_s)
    ctx.boundary()
    fid = ctx.next_function_id()
    name = operation_name(path)
    rec = ctx.replayed(fid, name, WAIT_KIND)
    if rec is not None:
        return ctx.recorded_result(rec)
    now = now_ms()
    earlier = ctx.retrying(ctx.store.wait_of, ctx.workflow_uuid, fid) if ctx.run_count > 1 else None
    if earlier is not None and earlier.get("spec"):
        since, deadline, condition = int(earlier["since"]), earlier.get("deadline"), earlier["spec"]
    else:
        since = now
        deadline = since + int(timeout_s * 1000) if timeout_s is not None else None
    current = ctx.engine.host.tags.read([path])[0]
    condition, verdict = tagconditions.first_verdict(condition, current)
    if verdict == tagconditions.HOLDS:
        output = released_output(path, condition, current, now)
        ctx.record(fid, name, WAIT_KIND, STEP_SUCCESS, dumps(output), None, 1, since)
        return output
    if verdict == tagconditions.BAD_QUALITY:
        error = quality_error(path, current)
        ctx.record(fid, name, WAIT_KIND, STEP_ERROR, None, dumps(error.as_error()), 1, since)
        raise error
    if deadline is not None and now >= deadline:
        error = timeout_error(path, condition, timeout_s if timeout_s is not None else (deadline - since) / 1000.0,
                              current)
        ctx.record(fid, name, WAIT_KIND, STEP_ERROR, None, dumps(error.as_error()), 1, since)
        raise error
    poll_ms = int(poll_s * 1000) if poll_s is not None else None
    description = {"operation": OPERATION, "path": path, "condition": tagconditions.describe(condition),
                   "deadline": deadline, "since": since, "functionId": fid, "lastValue": current.get("value"),
                   "lastQuality": current.get("quality"), "pollSeconds": poll_s, "spec": condition}
    raise WaitSignal(u"waiting for %s: %s" % (path, tagconditions.describe(condition)), fid, [], "tag", deadline,
                     description, tag_wait=(path, dumps(condition), poll_ms, ctx.engine.executor_id, since))


def _poll_in_step(ctx, path, condition, timeout_s, poll_s):
    """Inside a step nothing can be parked: poll on the worker until the condition holds (not recorded on its
    own; the step's result is). STOP and cancel end the poll."""
    return poll_until(ctx.engine.host.tags, path, condition, timeout_s, poll_s, poll_pause(ctx))


def poll_pause(ctx):
    """What to do between two reads of a poll that cannot park: inside a step (ctx), wait and let STOP and cancel
    end it; in a plain script (no ctx), sleep."""
    if ctx is None:
        return time.sleep

    def pause(seconds):
        ctx.sleep_quietly(seconds)
        boundary.check_inside_step(ctx)
    return pause


def poll_until(tags, path, condition, timeout_s, poll_s, pause):
    """Read the tag every poll_s (pause(seconds) between reads) until the condition holds: the released reading,
    or TagQualityBad / WaitTimeout. For waits that cannot park: inside a step, or outside any workflow."""
    started = now_ms()
    while True:
        current = tags.read([path])[0]
        condition, verdict = tagconditions.first_verdict(condition, current)
        if verdict == tagconditions.HOLDS:
            return released_output(path, condition, current, now_ms())
        if verdict == tagconditions.BAD_QUALITY:
            raise quality_error(path, current)
        if timeout_s is not None and now_ms() - started >= timeout_s * 1000:
            raise timeout_error(path, condition, timeout_s, current)
        pause(poll_s if poll_s is not None else IN_STEP_POLL_S)


class TagWaitWatcher(object):
    """The dispatcher's part: evaluate the parked tag waits of this gateway with one batched read per period.

    The period is the tick, or the shortest pollSeconds of the waits, counted from the start of one evaluation to the
    start of the next: a timer (kernel.run_later) starts each one, so neither the length of a tick nor a gateway
    timer of fixed delay stretches it, and a full tick that comes in between reads nothing more. A run that parks
    here has just read its tag: it is evaluated with the others at the next period, which only moves earlier when
    it asks for a shorter pollSeconds."""

    EARLY_MS = 20  # a tick this close before the next evaluation's time makes it (rather than a read just after)

    def __init__(self, engine, dispatcher):
        self.engine = engine
        self.dispatcher = dispatcher
        self.log = engine.logger("tagwaits")
        self.next_at = None  # when the next evaluation is due; None: at the next full tick
        self.batched_reads = 0  # how many batched reads this gateway made (the bench reads it)
        self._conditions = {}

    def due(self, now, full):
        if self.next_at is None:
            return full
        return now >= self.next_at - self.EARLY_MS

    def run(self, now, full):
        if not self.due(now, full):
            return
        engine = self.engine
        self.next_at = None
        store = engine.store
        waits = store.tag_waits.to_evaluate(engine.executor_id, now - engine.config.lease_ms, EVALUATE_AT_MOST)
        waits = self._ours(waits, now)
        if not waits:
            return
        self._plan(waits, now)
        paths = []
        seen = set()
        for wait in waits:
            if wait.path not in seen:
                seen.add(wait.path)
                paths.append(wait.path)
        try:
            readings = engine.host.tags.read(paths)
        except:  # noqa: E722 - a Java exception from the tag system: try again at the next evaluation
            from exchange.workflows.engine.context import describe_error

            self.log.error("reading %d tags for waiting runs failed: %s" % (len(paths),
                                                                            describe_error(sys.exc_info())["message"]))
            return
        self.batched_reads += 1
        by_path = dict(zip(paths, readings))
        released = []
        at = now_ms()
        for wait in waits:
            condition = self._condition(wait.condition)
            current = by_path[wait.path]
            verdict = tagconditions.evaluate(condition, current)
            if verdict == tagconditions.HOLDS:
                released.append(self._release(wait, STEP_SUCCESS, dumps(released_output(wait.path, condition, current,
                                                                                       at)), None))
            elif verdict == tagconditions.BAD_QUALITY:
                released.append(self._release(wait, STEP_ERROR, None,
                                              dumps(quality_error(wait.path, current).as_error())))
        if released:
            store.transitions.release_tag_waits(released, at)

    def _ours(self, waits, now):
        """The waits this gateway evaluates: its own, and those of gateways gone silent, which it takes over (not
        right after an outage, when every gateway's heartbeat looked stale)."""
        engine = self.engine
        mine = [w for w in waits if w.evaluator == engine.executor_id]
        left = [w for w in waits if w.evaluator != engine.executor_id]
        if not left or now < self.dispatcher.judge_others_after():
            return mine
        by_previous = {}
        for wait in left:
            by_previous.setdefault(wait.evaluator, []).append(wait)
        for previous, group in by_previous.items():
            taken = set(engine.store.tag_waits.take_over([w.workflow_uuid for w in group], previous,
                                                         engine.executor_id))
            if taken:
                self.log.info("took over %d tag wait(s) from %s" % (len(taken), previous or "no gateway"))
            mine.extend([w for w in group if w.workflow_uuid in taken])
        return mine

    def _condition(self, text):
        found = self._conditions.get(text)
        if found is None:
            if len(self._conditions) > 5000:
                self._conditions.clear()
            found = self._conditions[text] = loads(text)
        return found

    @staticmethod
    def _release(wait, status, output, error):
        return {"workflow_uuid": wait.workflow_uuid, "function_id": wait.function_id,
                "name": operation_name(wait.path), "status": status, "output": output, "error": error,
                "started_at": wait.since}

    def _plan(self, waits, now):
        """The next evaluation one period after this one began."""
        polls = [w.poll_ms for w in waits if w.poll_ms is not None]
        self._arm(now + self._period(min(polls) if polls else None), now)

    def _period(self, poll_ms):
        tick = self.engine.config.tick_ms
        if poll_ms is None:
            return tick
        return min(tick, max(int(tagconditions.SHORTEST_POLL_S * 1000), poll_ms))

    def _arm(self, at, now):
        self.next_at = at
        engine = self.engine
        if engine.host.executes and not engine.stopping():
            engine.kernel.run_later(POLL_TIMER, self._fired, max(0, at - now))

    def _fired(self):
        self.engine.wake(new_work=False)

    def added(self, poll_ms):
        """A run of this gateway parked on a tag (it read the tag just before): evaluated at the next period, which
        comes sooner only when it asks for a shorter pollSeconds."""
        now = now_ms()
        at = now + self._period(poll_ms)
        if self.next_at is None or at < self.next_at:
            self._arm(at, now)



def _shown(current):
    value = current.get("value")
    return dumps(value) if value is not None else "null"
