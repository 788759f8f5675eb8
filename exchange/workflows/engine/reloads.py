"""Loading workflow code again while runs are in flight: the standalone gateway's SIGHUP and admin.loadModules do
what a project save does in Ignition.

The named modules (and, before them, the modules imported from the gateway's own script folders, such as the
steps a workflow module imports) are loaded again; the registry's workflows are compared before and after; a new
generation begins, so every running run hands itself back at its next step boundary and this gateway continues it
at once from its checkpoints under the new code (no step runs twice, no run goes to another gateway). Waiting and
held runs take the new code when they are next picked up.
"""
import os
import sys

from exchange.workflows.util.compat import string_types

try:
    from importlib import reload as _reload  # Python 3
except ImportError:  # Python 2 / Jython: the builtin
    _reload = reload  # noqa: F821


def helper_modules(folders, skip):
    """Names of the loaded modules whose files are in `folders` (the gateway's --pythonpath), besides `skip`."""
    roots = [os.path.abspath(f) + os.sep for f in folders or [] if f]
    found = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) if module is not None else None
        if not path or name in skip or name == "__main__":
            continue
        path = os.path.abspath(path)
        if any([path.startswith(root) for root in roots]):
            found.append(name)
    return sorted(found)


def reload_modules(engine, names=None, folders=None):
    """Load `names` again (default: the gateway's modules), importing those not loaded yet. Returns what changed:
    {"modules", "errors", "added", "removed", "changed": [{"workflow", "from", "to"}], "unchanged", "generation"}."""
    registry = engine.registry
    wanted = [n.strip() for n in (names if names is not None else engine.config.modules)
              if isinstance(n, string_types) and n.strip()]
    before = registry.versions()
    errors = {}
    done = []
    for name in helper_modules(folders, set(wanted)) + wanted:
        module = sys.modules.get(name)
        if module is None:
            errors.update(registry.load_modules([name]))
            if name not in errors:
                done.append(name)
            continue
        taken = registry.take_module(name)
        try:
            _reload(module)
            done.append(name)
            if name in wanted and name not in registry.modules:
                registry.modules.append(name)
        except (KeyboardInterrupt, SystemExit):
            raise
        except:  # noqa: E722 - a Java exception from user module code must not stop the others
            registry.put_back(taken)  # the workflows the module had stay as they were
            errors[name] = "%s: %s" % (sys.exc_info()[0].__name__, sys.exc_info()[1])
    changes = compare(before, registry.versions())
    changes.update({"modules": done, "errors": errors})
    changes["generation"] = engine.code_reloaded()
    return changes


def compare(before, after):
    """What changed from one {workflow: version} to another: added, removed, changed (from, to), unchanged."""
    return {"added": sorted([n for n in after if n not in before]),
            "removed": sorted([n for n in before if n not in after]),
            "changed": [{"workflow": n, "from": before[n], "to": after[n]} for n in sorted(after)
                        if n in before and before[n] != after[n]],
            "unchanged": len([n for n in after if before.get(n) == after[n]])}


def describe(changes, verb="reloaded"):
    """One line for the gateway log."""
    parts = ["%s %s" % (verb, ", ".join(changes["modules"]) or "no module")]
    if changes["added"]:
        parts.append("workflows added: %s" % ", ".join(changes["added"]))
    if changes["removed"]:
        parts.append("removed: %s" % ", ".join(changes["removed"]))
    if changes["changed"]:
        parts.append("changed: %s" % ", ".join(["%s (%s -> %s)" % (c["workflow"], c["from"], c["to"])
                                                for c in changes["changed"]]))
    parts.append("%d unchanged" % changes["unchanged"])
    if changes["errors"]:
        parts.append("failed: %s" % "; ".join(["%s (%s)" % item for item in sorted(changes["errors"].items())]))
    if changes.get("generation") is not None:
        parts.append("generation %d: running runs continue under the new code at their next step boundary"
                     % changes["generation"])
    return "; ".join(parts)
