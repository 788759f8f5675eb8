"""The Ignition adapters and the `system` fake held to Ignition's own API: the typed stubs of every system.*
function of Ignition 8.1 (PyPI `ignition-api`, installed by ./gateway test into .venv/ignition-api, apart from the
environment, where `import system` would make CPython look like Ignition).

Every call our host adapters make to system.tag, system.db, system.net, system.util and system.date must bind to the
stub's signature (positional count, keyword names), and every function the fake defines (system.perspective's too,
which the Perspective views call) must take the stub's parameters, in its order, so that code written against the
fake runs on a gateway."""
import ast
import glob
import inspect
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

STUBS = os.path.join(ROOT, ".venv", "ignition-api")
MODULES = ("tag", "db", "net", "util", "date", "perspective")
ADAPTERS = sorted(glob.glob(os.path.join(ROOT, "exchange", "workflows", "host", "ignition*.py"))) + [
    os.path.join(ROOT, "workflows_api", "webdev.py")]
SHIM = os.path.join(ROOT, "gateway_scripts", "shim", "system.py")

_DUMP = """
import inspect, json, importlib
out = {}
for name in %r:
    module = importlib.import_module("system." + name)
    functions = {}
    for attr in dir(module):
        value = getattr(module, attr)
        if inspect.isfunction(value) and value.__module__ == module.__name__ and not attr.startswith("_"):
            functions[attr] = [[p.name, p.kind.name, p.default is not inspect.Parameter.empty]
                               for p in inspect.signature(value).parameters.values()]
    out[name] = functions
print(json.dumps(out))
""" % (MODULES,)


@pytest.fixture(scope="module")
def stubs():
    if not os.path.isdir(os.path.join(STUBS, "system")):
        message = "Ignition's stubs are not installed in %s (./gateway test installs requirements-stubs.txt)" % STUBS
        if os.environ.get("WORKFLOWS_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    proc = subprocess.run([sys.executable, "-c", _DUMP], env=dict(os.environ, PYTHONPATH=STUBS), cwd=STUBS,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _signature(params):
    kinds = {"POSITIONAL_ONLY": inspect.Parameter.POSITIONAL_ONLY,
             "POSITIONAL_OR_KEYWORD": inspect.Parameter.POSITIONAL_OR_KEYWORD,
             "VAR_POSITIONAL": inspect.Parameter.VAR_POSITIONAL, "KEYWORD_ONLY": inspect.Parameter.KEYWORD_ONLY,
             "VAR_KEYWORD": inspect.Parameter.VAR_KEYWORD}
    return inspect.Signature([inspect.Parameter(name, kinds[kind], default=None if has_default else
                                                inspect.Parameter.empty) for name, kind, has_default in params])


def _chain(node):
    """['self', '_system', 'tag', 'readBlocking'] of an attribute access, or None."""
    names = []
    while isinstance(node, ast.Attribute):
        names.insert(0, node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.insert(0, node.id)
        return names
    return None


def _system_calls(path):
    """(line, module, function, call node) of each call of a system.<module>.<function>, reached as `system`,
    `self._system` or (in the database adapter) `self._db`, which holds system.db."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        chain = _chain(node.func)
        if not chain or len(chain) < 2:
            continue
        if len(chain) >= 3 and chain[-2] in MODULES and chain[-3] in ("system", "_system"):
            found.append((node.lineno, chain[-2], chain[-1], node))
        elif chain[:2] == ["self", "_db"] and len(chain) == 3:
            found.append((node.lineno, "db", chain[-1], node))
    return found


def test_every_call_of_the_adapters_binds_to_ignitions_signature(stubs):
    checked = 0
    for path in ADAPTERS:
        for line, module, function, call in _system_calls(path):
            where = "%s:%d system.%s.%s" % (os.path.relpath(path, ROOT), line, module, function)
            assert function in stubs[module], "%s: Ignition 8.1 has no such function" % where
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                continue
            signature = _signature(stubs[module][function])
            try:
                signature.bind(*([None] * len(call.args)), **dict((k.arg, None) for k in call.keywords))
            except TypeError as exc:
                raise AssertionError("%s%s does not take this call: %s" % (where, signature, exc))
            checked += 1
    assert checked >= 8, "the adapters' calls were not found (%d)" % checked


def test_the_database_adapter_passes_query_args_connection_and_transaction_in_ignitions_order(stubs):
    """IgnitionDatabase calls runPrepQuery / runPrepUpdate / runScalarPrepQuery as fn(sql, args, connection[, tx])."""
    for function in ("runPrepQuery", "runPrepUpdate", "runScalarPrepQuery"):
        names = [p[0] for p in stubs["db"][function]]
        assert names[:4] == ["query", "args", "database", "tx"], (function, names)
    assert [p[0] for p in stubs["db"]["beginTransaction"]][:3] == ["database", "isolationLevel", "timeout"]


def _fake_functions():
    """{(module, name): parameter names} of the functions the fake installs in system.<module>."""
    with open(SHIM, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    defs = dict((n.name, n) for n in tree.body if isinstance(n, ast.FunctionDef))
    modules = {}
    for node in tree.body:  # db = _module("system.db", ...)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                isinstance(node.value.func, ast.Name) and node.value.func.id == "_module":
            name = node.value.args[0].value
            if name.startswith("system.") and name[7:] in MODULES:
                modules[node.targets[0].id] = name[7:]
    installed = {}
    for node in tree.body:
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple):  # for _fn in (...): setattr(db, ...)
            for stmt in node.body:
                call = stmt.value if isinstance(stmt, ast.Expr) else None
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "setattr" \
                        and isinstance(call.args[0], ast.Name) and call.args[0].id in modules:
                    for item in node.iter.elts:
                        if isinstance(item, ast.Name) and item.id in defs:
                            installed[(modules[call.args[0].id], item.id)] = defs[item.id]
        call = node.value if isinstance(node, ast.Expr) else None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "setattr" and \
                isinstance(call.args[0], ast.Name) and call.args[0].id in modules and \
                isinstance(call.args[1], ast.Constant) and isinstance(call.args[2], ast.Name) and \
                call.args[2].id in defs:  # setattr(perspective, "print", _print): a keyword in Python 2
            installed[(modules[call.args[0].id], call.args[1].value)] = defs[call.args[2].id]
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute) and \
                isinstance(node.targets[0].value, ast.Name) and node.targets[0].value.id in modules and \
                isinstance(node.value, ast.Name) and node.value.id in defs:  # date.now = now
            installed[(modules[node.targets[0].value.id], node.targets[0].attr)] = defs[node.value.id]
    return dict((key, [a.arg for a in fn.args.args]) for key, fn in installed.items())


def test_the_fake_takes_the_parameters_of_ignitions_functions(stubs):
    fakes = _fake_functions()
    for module in ("tag", "db", "util", "date", "perspective"):
        assert any(m == module for m, _ in fakes), "the fake installs no system.%s function" % module
    for (module, name), params in sorted(fakes.items()):
        assert name in stubs[module], "the fake's system.%s.%s is not an Ignition 8.1 function" % (module, name)
        wanted = [p[0] for p in stubs[module][name] if p[1] in ("POSITIONAL_OR_KEYWORD", "POSITIONAL_ONLY")]
        assert params == wanted, "system.%s.%s: the fake takes %s, Ignition %s" % (module, name, params, wanted)
