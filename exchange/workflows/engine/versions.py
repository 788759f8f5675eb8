"""The version of a workflow's code that a run records when it starts.

A workflow's `version` option when it gives one (@workflow(version="2.1")), otherwise a digest of its function's
source: any change of the workflow function gives it a new version, so an operator can tell which runs started
under which code (getWorkflow, listRuns(workflowVersion=...), the console). Where the source cannot be read (an
Ignition project library script is compiled from text no file holds) the digest is taken from the compiled code:
its names, constants and argument names, nested functions included.
"""
import hashlib
import inspect
import linecache

from exchange.workflows.util.compat import string_types, to_text
from exchange.workflows.util.errors import InvalidArgument

DIGEST_CHARS = 12
MAX_VERSION_LENGTH = 100


def checked(version, workflow_name):
    if version is None:
        return None
    if not isinstance(version, string_types) or not version.strip() or len(version) > MAX_VERSION_LENGTH or \
            u"\x00" in version:
        raise InvalidArgument("workflow %s: version must be a short text (at most %d characters)"
                              % (workflow_name, MAX_VERSION_LENGTH), field="version")
    return to_text(version.strip())


def code_version(fn):
    """The digest version of a workflow function ('src-' or 'code-' and 12 hex digits)."""
    try:
        linecache.checkcache(inspect.getsourcefile(fn))  # a module loaded again: its file changed since
        source = inspect.getsource(fn)
    except (IOError, OSError, TypeError, IndexError):
        source = None
    if source:
        lines = [line.rstrip() for line in to_text(source).replace(u"\r\n", u"\n").split(u"\n")]
        return "src-" + _digest(u"\n".join(lines).strip())
    code = getattr(fn, "__code__", None) or getattr(fn, "func_code", None)
    return "code-" + _digest(_describe_code(code, 0) if code is not None else repr(fn))


def _describe_code(code, depth):
    if depth > 20:
        return u""
    parts = [u"%s" % getattr(code, "co_argcount", ""), u",".join(getattr(code, "co_varnames", ()) or ()),
             u",".join(getattr(code, "co_names", ()) or ())]
    for const in getattr(code, "co_consts", ()) or ():
        if hasattr(const, "co_names"):
            parts.append(u"{" + _describe_code(const, depth + 1) + u"}")
        else:
            parts.append(u"%r" % (const,))
    return u"|".join(parts)


def _digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_CHARS]
