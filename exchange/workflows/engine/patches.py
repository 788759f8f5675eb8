"""Patches: changing a workflow's code under runs in flight without making them diverge.

    if getWorkflows().patched("rinse-v2"):
        rinse_twice(tank)        # the new code
    else:
        rinse(tank)              # the old code, for runs that passed here before the change

patched() is a recorded decision at its own position. A run that reaches it beyond its record (it had not come
this far when the code changed, or it started after) records a marker there and takes the new branch. A run whose
record already holds, at that position, what the old code did there (a step, a sleep, ...) takes the old branch,
and the position is left to that record, so the replay goes on matching. A marker of this patch is the new branch
again on every later replay.

When no run can take the old branch any more, deprecatePatch() replaces patched() (and the old branch is deleted):
it answers True and records nothing; a replay that finds the marker passes over it; a replay that finds the old
code's record there remembers the patch, so that the divergence the next call meets names it.
"""
from exchange.workflows.store.statuses import STEP_SUCCESS
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.compat import string_types
from exchange.workflows.util.errors import InvalidArgument

KIND = "patch"
MAX_NAME_LENGTH = 100


def marker(name):
    return "patch:%s" % name


def _checked(ctx, name, operation):
    if not isinstance(name, string_types) or not name.strip() or len(name) > MAX_NAME_LENGTH or u"\x00" in name:
        raise InvalidArgument("%s needs a patch name (text, at most %d characters)" % (operation, MAX_NAME_LENGTH),
                              field="patchName")
    if ctx.in_step:
        raise InvalidArgument("%s is a workflow operation: call it from the workflow function, not inside a step"
                              % operation, field="operation")
    return name.strip()


def patched(ctx, name):
    name = _checked(ctx, name, "patched")
    ctx.boundary()
    fid = ctx.function_id + 1
    rec = ctx.recorded.get(fid)
    if rec is not None:
        if rec["kind"] == KIND and rec["function_name"] == marker(name):
            ctx.function_id = fid
            return True
        return False  # the old code's record is at this position: the old branch, which leaves the position to it
    ctx.function_id = fid
    ctx.record(fid, marker(name), KIND, STEP_SUCCESS, "true", None, 1, now_ms())
    return True


def deprecate(ctx, name):
    name = _checked(ctx, name, "deprecatePatch")
    fid = ctx.function_id + 1
    rec = ctx.recorded.get(fid)
    if rec is not None:
        if rec["kind"] == KIND and rec["function_name"] == marker(name):
            ctx.function_id = fid  # the run took the new branch: its marker is passed over
        else:
            ctx.deprecated_at[fid] = name
    return True
